#!/bin/sh
# rep_security.sh — the replication channel between guisvr nodes:
#  1. a secondary with the wrong highAvail.HMACKey is refused ("peer
#     authentication failed from …" logged) and gets no record;
#  2. garbage, an oversized TLS record, a stream of random bytes and a
#     connection closed mid-handshake sent to the replication ports leave
#     both daemons running and replication working;
#  3. no record value crosses the network in clear: the replication port is
#     captured with tcpdump on lo (or, without tcpdump, the primary's socket
#     I/O is traced with strace -yy, with its database log writes as the
#     positive control) and searched for a distinctive value — absent.
#     Skipped, with a note, when neither tool can capture here
#     (HASVR_TEST_CAPTURE=strace: use strace even where tcpdump works).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"

test_init rep_security
ha_init
GOODKEY=$HA_KEY

ha_node a 127.0.0.1
start_guisvr
set_role primary 1
wait_for_log "get BDB event DB_EVENT_REP_MASTER"
xdb -w put 0.rep_security.1 secret=before-join-value >/dev/null

note "a secondary with the wrong HMAC key is refused"
HA_KEY="the-wrong-key-for-this-pair-0123456789"
ha_node b 127.0.0.2
HA_KEY=$GOODKEY
start_guisvr
set_role secondary 1
auth_failure_logged()
{
	grep -q "peer authentication failed from 127\.0\.0\.2" "$(log_of a)" ||
	    grep -q "peer authentication failed from 127\.0\.0\.1" "$(log_of b)"
}
wait_until 15 "no 'peer authentication failed from' in either log" \
    auth_failure_logged
# give it a few more seconds to (not) replicate
sleep 2
assert_no_grep "DB_EVENT_REP_STARTUPDONE" "$LOG" "the wrong-key secondary finished its start-up"
assert_no_grep "DB_EVENT_REP_NEWMASTER" "$LOG" "the wrong-key secondary found a master"
# no record: either an empty database or "not received the database yet"
run xdb count
if [ "$RC" -eq 0 ]; then
	assert_eq 0 "$(cat "$T/out")" "records on the wrong-key secondary"
else
	assert_grep "not received the database" "$T/err" "xdb count on the wrong-key secondary"
fi
run xdb get 0.rep_security.1
[ "$RC" -ne 0 ] || fail "the wrong-key secondary has the primary's record"
on a wait_state '^peer [0-9]+ 127\.0\.0\.2 down ' 5
stop_guisvr

note "with the right key it joins"
write_hacfg
start_guisvr
set_role secondary 1
wait_for_log "get BDB event DB_EVENT_REP_STARTUPDONE" 30
wait_converged a b 20 >/dev/null

# bash_send HOST PORT PRINTF-FORMAT: connect with bash's /dev/tcp, send the
# bytes, read what comes back for at most 3 s, close.
bash_send()
{
	timeout 10 bash -c 'exec 3<>"/dev/tcp/$1/$2" || exit 1
		printf "$3" >&3
		timeout 3 cat <&3 >/dev/null
		exit 0' bash_send "$@" >/dev/null 2>&1 || true
}

# replication_works TAG: a write on a arrives on b, both alive.
replication_works()
{
	on a assert_alive "$1"
	on b assert_alive "$1"
	on a xdb -w put "0.rep_security.$1" after="$1" >/dev/null ||
	    fail "write on the primary after $1"
	wait_until 10 "replication stopped after $1" \
	    on b xdb get "0.rep_security.$1"
}

if command -v bash >/dev/null 2>&1 && command -v timeout >/dev/null 2>&1; then
	note "garbage to the replication ports"
	# b (the larger eid) accepts from a's address, 127.0.0.1, which is where
	# these connections come from: they reach its TLS layer.
	bash_send 127.0.0.2 "$HA_RPORT" 'GET / HTTP/1.0\r\n\r\n'
	replication_works http
	bash_send 127.0.0.2 "$HA_RPORT" '\x16\x03\x01\xff\xff\x01\x00\xff\xfb\x03\x03'
	replication_works oversized_tls_record
	bash_send 127.0.0.2 "$HA_RPORT" '\x17\x03\x03\x40\x00AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
	replication_works oversized_app_record
	bash_send 127.0.0.2 "$HA_RPORT" '\x16\x03\x01\x00\x05\x01\x00'
	replication_works truncated_hello
	head -c 300000 /dev/urandom >"$T/random.bin"
	timeout 10 bash -c 'exec 3<>"/dev/tcp/127.0.0.2/$1" || exit 1
		cat "$2" >&3 2>/dev/null; timeout 3 cat <&3 >/dev/null; exit 0' \
	    x "$HA_RPORT" "$T/random.bin" >/dev/null 2>&1 || true
	replication_works random_stream
	# a (the dialer) refuses every connection from a non-peer address
	bash_send 127.0.0.1 "$HA_RPORT" '\x16\x03\x01\xff\xff'
	replication_works to_the_primary
	# many connections at once that say nothing
	i=0
	pids=
	while [ $i -lt 20 ]; do
		bash_send 127.0.0.2 "$HA_RPORT" '' &
		pids="$pids $!"
		i=$((i + 1))
	done
	for p in $pids; do
		wait "$p" || true
	done
	replication_works idle_connections
	on b wait_state '^peer [0-9]+ 127\.0\.0\.1 connected ' 10
	on a wait_state '^peer [0-9]+ 127\.0\.0\.2 connected .* in-sync$' 10
else
	note "SKIPPED the garbage part: bash or timeout is missing"
fi

note "no record value crosses in clear"
VALUE="hasvr-cleartext-canary-$$-QZXJ"
instance a
cap=
# HASVR_TEST_CAPTURE=strace uses strace even where tcpdump works
if [ "${HASVR_TEST_CAPTURE:-}" != strace ] && command -v tcpdump >/dev/null 2>&1; then
	tcpdump -i lo -U -s 0 -w "$T/rep.pcap" "tcp port $HA_RPORT" >"$T/tcpdump.out" 2>&1 &
	echo $! >"$T/tcpdump.helper"
	poll_until 5 grep -q "listening on" "$T/tcpdump.out" || true
	if grep -q "listening on" "$T/tcpdump.out"; then
		cap=tcpdump
	else
		kill "$(cat "$T/tcpdump.helper")" 2>/dev/null || true
		note "tcpdump cannot capture here: $(head -n 1 "$T/tcpdump.out")"
	fi
fi
if [ -z "$cap" ] && command -v strace >/dev/null 2>&1; then
	strace -f -qq -p "$(guisvr_pid)" -yy -xx -s 65536 -o "$T/strace.out" \
	    -e trace=write,writev,pwrite64,pwritev,send,sendto,sendmsg,read,readv,recv,recvfrom,recvmsg \
	    >"$T/strace.err" 2>&1 &
	echo $! >"$T/strace.helper"
	sleep 1
	if pid_alive "$(cat "$T/strace.helper")"; then
		cap=strace
	else
		note "strace cannot attach here: $(head -n 1 "$T/strace.err")"
	fi
fi
if [ -z "$cap" ]; then
	note "SKIPPED the cleartext check: neither tcpdump nor strace can capture here"
else
	i=0
	while [ $i -lt 20 ]; do
		xdb -w put "0.rep_security.canary$i" "value=$VALUE" "n=$i" >/dev/null
		i=$((i + 1))
	done
	on b wait_count "$(xdb count)" 20
	on b expect_rc 0 xdb get 0.rep_security.canary19
	on b assert_grep "$VALUE" "$T/out" "the canary did not reach the secondary"
	sleep 1
	h=$(cat "$T/$cap.helper")
	kill -INT "$h" 2>/dev/null || true
	_wait_gone "$h" 10 || kill -9 "$h" 2>/dev/null || true
	wait "$h" 2>/dev/null || true
	rm -f "$T/$cap.helper"
	if [ "$cap" = tcpdump ]; then
		sz=$(wc -c <"$T/rep.pcap" | tr -d ' ')
		[ "$sz" -gt 2000 ] || fail "the capture of port $HA_RPORT holds only $sz bytes"
		if grep -aq "$VALUE" "$T/rep.pcap"; then
			fail "the record value crosses the replication port in clear ($T/rep.pcap)"
		fi
		note "tcpdump: $sz bytes captured on port $HA_RPORT, the value is not in them"
	else
		# the value as strace -xx prints it: \x68\x61…
		hex=$(printf '%s' "$VALUE" | od -An -tx1 | tr -d ' \n' | sed 's/\(..\)/\\\\x\1/g')
		grep -E "TCP(v6)?:\[[^]]*:$HA_RPORT[^0-9]" "$T/strace.out" >"$T/strace.tcp" || true
		ntcp=$(wc -l <"$T/strace.tcp" | tr -d ' ')
		[ "$ntcp" -gt 0 ] || fail "strace saw no I/O on the replication connection ($T/strace.out)"
		# positive control: the primary writes the value to its database log
		grep -q "$hex" "$T/strace.out" ||
		    fail "strace never saw the value (not even the log writes): the check is broken"
		if grep -q "$hex" "$T/strace.tcp"; then
			fail "the record value crosses the replication port in clear (strace: $T/strace.tcp)"
		fi
		note "strace: $ntcp socket calls on port $HA_RPORT, the value is not in them (it is in the database log writes)"
	fi
fi

on a stop_guisvr
on b stop_guisvr
exit 0
