#!/bin/sh
# etcd_client — the etcd client (lib/etcd.c) against a real 3-member etcd
# cluster on loopback (tests/etcd/etcd.sh):
#   1. the client's numbered checks (etcd_client_test checks);
#   2. one long-lived client whose first endpoint is a follower: that
#      member is killed and the next call goes through the next endpoint
#      at once; a second member is killed (majority lost) and a write
#      fails within the bound (3 endpoints x 1 s), the time reported; both
#      come back and the same client recovers, its lease kept;
#   3. a new cluster with TLS and client certificates (ETCD_TLS=1),
#      started through a wrapper (ETCD_WRAP, as for network namespaces):
#      the checks again, and a wrong CA, no client certificate and plain
#      HTTP refused with errors naming the cause; a member restarted.
# Skips (77) when etcd is not installed; needs no root.
HASVR_TEST_TIMEOUT=${HASVR_TEST_TIMEOUT:-120}
. "$top_srcdir/tests/integ/lib.sh"
. "$top_srcdir/tests/etcd/etcd.sh"
test_init etcd_client

CLIENT=$top_builddir/tests/etcd/etcd_client_test
why=$(etcd_usable) || skip "$why"
[ -x "$CLIENT" ] || fail "$CLIENT not built (make tests/etcd/etcd_client_test)"
TIMEOUT_MS=1000
E=$T/etcd
ETLS=$T/etcd-tls
at_exit 'client_kill; etcd_cluster_stop "$E"; etcd_cluster_stop "$ETLS"'

# ---- the long-lived client: commands on fd 3, answers on fd 4 ------------

CLIENT_PID=
# client_start ENDPOINTS [OPTION...]
client_start()
{
	local eps
	eps=$1
	shift
	rm -f "$T/cin" "$T/cout"
	mkfifo "$T/cin" "$T/cout"
	"$CLIENT" -t "$TIMEOUT_MS" "$@" "$eps" cmd <"$T/cin" >"$T/cout" 2>>"$T/client.err" &
	CLIENT_PID=$!
	echo "$CLIENT_PID" >"$T/client.helper"
	exec 3>"$T/cin" 4<"$T/cout"
}

# client_kill: end the client (EOF on its input), by PID if it must
client_kill()
{
	[ -n "$CLIENT_PID" ] || return 0
	exec 3>&- 4<&-
	_wait_gone "$CLIENT_PID" 10 || kill -9 "$CLIENT_PID" 2>/dev/null || true
	wait "$CLIENT_PID" 2>/dev/null || true
	CLIENT_PID=
	rm -f "$T/client.helper"
}

# client_stop: client_kill; fail if it wrote to stderr (ASan, say)
client_stop()
{
	client_kill
	if [ -s "$T/client.err" ]; then
		cat "$T/client.err" >&2
		fail "the client wrote to stderr (above)"
	fi
}

# ask COMMAND: one command to the client; its answer in $ANS (logged)
ANS=
ask()
{
	echo "$*" >&3
	IFS= read -r ANS <&4 || fail "the client died (command: $*)"
	printf '> %s\n< %s\n' "$*" "$ANS" >>"$T/client.log"
}

# field NAME: NAME=VALUE of $ANS (before err=)
field()
{
	printf '%s\n' "${ANS%% err=*}" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

ans_rc()
{
	echo "${ANS%% *}"
}

# expect_ans RC WHAT: $ANS has result RC
expect_ans()
{
	[ "$(ans_rc)" = "$1" ] || fail "$2: expected $1, got: $ANS"
}

# ---- 1. the checks ----------------------------------------------------------

etcd_cluster_start "$E" e1=127.0.0.1 e2=127.0.0.1 e3=127.0.0.1
note "3 members up: $(etcd_endpoints "$E")"
if ! "$CLIENT" -t "$TIMEOUT_MS" "$(etcd_endpoints "$E")" checks >"$T/checks.out" 2>&1; then
	cat "$T/checks.out" >&2
	fail "client checks failed"
fi
grep -E '^(ok|FAIL) ' "$T/checks.out" | sed 's/^/    /'
note "$(tail -n 1 "$T/checks.out")"
assert_grep '^checks [0-9]+ failed 0$' "$T/checks.out"

# ---- 2. failover, majority lost, recovery ------------------------------------

leader=$(etcd_leader "$E")
set -- $(_etcd_names "$E" | grep -vx "$leader")
f1=$1 f2=$2
u1=$(etcd_endpoint "$E" "$f1")
u2=$(etcd_endpoint "$E" "$f2")
ul=$(etcd_endpoint "$E" "$leader")
note "leader $leader; the client tries $f1 (a follower), then $f2, then $leader"
client_start "$u1,$u2,$ul"
ask put hasvr-test/fo 1
expect_ans OK "first put"
assert_eq "$u1" "$(field ep)" "endpoint of the first put"
ask grant 30
expect_ans OK "lease grant"
lease=$(field lease)

etcd_member_stop "$E" "$f1" KILL
ask put hasvr-test/fo 2
expect_ans OK "put after $f1 was killed"
assert_eq "$u2" "$(field ep)" "endpoint after $f1 was killed"
ms=$(field ms)
[ "$ms" -lt "$TIMEOUT_MS" ] || fail "failover took $ms ms (a refused connection should be at once)"
note "$f1 killed: the next put went through $f2 in $ms ms"
ask keepalive "$lease"
expect_ans OK "keepalive through $f2"
ask get hasvr-test/fo
assert_eq 2 "$(field value)" "value read through $f2"

etcd_member_stop "$E" "$f2" KILL
bound=$((3 * TIMEOUT_MS + 500))
ask put hasvr-test/fo 3
ms=$(field ms)
expect_ans UNREACHABLE "put with the majority lost"
[ "$ms" -le "$bound" ] || fail "a write with the majority lost took $ms ms (bound $bound)"
note "$f1 and $f2 killed (majority lost): a put fails in $ms ms ($(ans_rc))"
echo "$ANS" | grep -q "$u1: " && echo "$ANS" | grep -q "$u2: " &&
    echo "$ANS" | grep -q "$ul: " || fail "the error does not name every endpoint: $ANS"
note "  err: ${ANS#* err=}"
sleep 2
ask put hasvr-test/fo 3
ms=$(field ms)
expect_ans UNREACHABLE "put with the majority lost, 2 s later"
[ "$ms" -le "$bound" ] || fail "a write with the majority lost took $ms ms (bound $bound)"
note "2 s later: a put fails in $ms ms: ${ANS#* err=}"
ask get hasvr-test/fo
ms=$(field ms)
expect_ans UNREACHABLE "get with the majority lost"
[ "$ms" -le "$bound" ] || fail "a read with the majority lost took $ms ms (bound $bound)"
note "a (linearizable) get fails in $ms ms"

etcd_member_start "$E" "$f1"
etcd_member_start "$E" "$f2"
t0=$(date +%s%3N)
etcd_wait_healthy "$E" 20
n=0
while :; do
	ask put hasvr-test/fo 4
	[ "$(ans_rc)" != OK ] || break
	n=$((n + 1))
	[ $n -lt 50 ] || fail "the client did not recover: $ANS"
	sleep 0.2
done
note "$f1 and $f2 restarted: healthy and the client's put OK after $(( $(date +%s%3N) - t0 )) ms ($n failed tries, through $(field ep))"
ask get hasvr-test/fo
assert_eq 4 "$(field value)" "value after recovery"
ask keepalive "$lease"
expect_ans OK "keepalive of the lease granted before the majority was lost"
note "the lease granted before survived (ttl $(field ttl))"
ask revoke "$lease"
expect_ans OK "revoke"
client_stop

# how long writes fail when the etcd leader dies (a new election)
leader=$(etcd_leader "$E")
set -- $(_etcd_names "$E" | grep -vx "$leader")
client_start "$(etcd_endpoint "$E" "$leader"),$(etcd_endpoint "$E" "$1"),$(etcd_endpoint "$E" "$2")"
ask put hasvr-test/fo 5
expect_ans OK "put through the leader $leader"
t0=$(date +%s%3N)
etcd_member_stop "$E" "$leader" KILL
n=0 worst=0
while :; do
	ask put hasvr-test/fo 6
	[ "$(ans_rc)" != OK ] || break
	[ "$(field ms)" -le "$worst" ] || worst=$(field ms)
	n=$((n + 1))
	[ $n -lt 100 ] || fail "no write went through 100 tries after the leader died: $ANS"
	sleep 0.1
done
note "leader $leader killed: a write went through $(field ep) $(( $(date +%s%3N) - t0 )) ms after the kill ($n failed before, the longest in $worst ms)"
ask delete hasvr-test/fo
expect_ans OK "delete"
client_stop
etcd_cluster_stop "$E"

# ---- 3. TLS --------------------------------------------------------------------

# started through ETCD_WRAP, as in network namespaces; this wrapper
# forks (ip netns exec does not): the PIDs kept must still be etcd's
wrap_fork()
{
	echo "$1" >>"$ETLS/wrapped"
	shift
	sh -c '"$@"; exit $?' sh "$@"
}
ETCD_TLS=1 ETCD_WRAP=wrap_fork
etcd_cluster_start "$ETLS" t1=127.0.0.1 t2=127.0.0.1 t3=127.0.0.1
ETCD_TLS=0
eps=$(etcd_endpoints "$ETLS")
note "3 members with TLS and client certificates: $eps"
for n in t1 t2 t3; do
	pid=$(etcd_member_pid "$ETLS" "$n")
	assert_eq etcd "$(cat "/proc/$pid/comm" 2>/dev/null)" "process of $n (pid '$pid')"
done
assert_grep '^t3$' "$ETLS/wrapped" "ETCD_WRAP was not used"
CA=$ETLS/tls/ca.pem CERT=$ETLS/tls/client.pem KEY=$ETLS/tls/client.key
if ! "$CLIENT" -t "$TIMEOUT_MS" -c "$CA" -C "$CERT" -K "$KEY" "$eps" checks \
    >"$T/checks-tls.out" 2>&1; then
	cat "$T/checks-tls.out" >&2
	fail "client checks over TLS failed"
fi
note "TLS: $(tail -n 1 "$T/checks-tls.out")"
assert_grep '^checks [0-9]+ failed 0$' "$T/checks-tls.out"

# another CA that signed nothing of the cluster's
openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "$T/other-ca.key" -out "$T/other-ca.pem" -days 1 \
    -subj "/CN=another CA" >/dev/null 2>&1 || fail "openssl: the other CA"
client_start "$eps" -c "$T/other-ca.pem" -C "$CERT" -K "$KEY"
ask get hasvr-test/x
expect_ans UNREACHABLE "get with the wrong CA"
echo "$ANS" | grep -q "SSL certificate problem" ||
    fail "the error does not name the certificate problem: $ANS"
note "wrong CA: ${ANS#* err=}"
client_stop
client_start "$eps" -c "$CA"
ask get hasvr-test/x
expect_ans UNREACHABLE "get without a client certificate"
echo "$ANS" | grep -qi "certificate" ||
    fail "the error does not name the missing certificate: $ANS"
note "no client certificate: ${ANS#* err=}"
client_stop
client_start "$(echo "$eps" | sed 's|https://|http://|g')"
ask get hasvr-test/x
expect_ans UNREACHABLE "plain HTTP to the TLS cluster"
note "plain HTTP: ${ANS#* err=}"
client_stop
etcd_member_stop "$ETLS" t2
etcd_member_start "$ETLS" t2
etcd_wait_healthy "$ETLS" 20
etcd_cluster_stop "$ETLS"
for n in t1 t2 t3; do
	[ ! -f "$ETLS/$n.pid" ] || fail "$n.pid left after etcd_cluster_stop"
done
ETCD_WRAP=
note "a member restarted through the wrapper; all stopped by PID"
note "passed"
