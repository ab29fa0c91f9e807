#!/bin/sh
# ha_wrongkey — a configuration error never makes two primaries.
#  1. b has another highAvail.HMACKey: both start, each sees the other's
#     heartbeats arrive and fail authentication — a node is there, only
#     misconfigured — so neither takes the primary role; both refuse
#     writes and haStatus names the fix. With the key fixed, one primary.
#  2. a running pair, b restarted with the wrong key: a stays the only
#     primary and takes writes, b never promotes.
#  3. the heartbeat authenticates but the replication channel does not
#     (b's certificate from another CA): b never syncs, never promotes when
#     the primary dies, and both report the refused replication channel.
. "$top_srcdir/tests/integ/lib.sh"
test_init ha_wrongkey
ha_init
HA_DURABILITY=sync

# wrong_key NODE: NODE's haSvr.cfg (read by hasvr and guisvr) with another key
wrong_key()
{
	sed -i "s/^highAvail.HMACKey .*/highAvail.HMACKey another-key-$$-0123456789abcdef/" "$T/$1/haSvr.cfg"
}
right_key()
{
	sed -i "s/^highAvail.HMACKey .*/highAvail.HMACKey $HA_KEY/" "$T/$1/haSvr.cfg"
}
# never_primary SECS NODE...: none of NODE answers PRIMARY for SECS seconds
never_primary()
{
	local n secs
	secs=$1
	shift
	n=0
	while [ $n -lt $((secs * 10)) ]; do
		for i in "$@"; do
			[ -f "$T/$i.hasvr" ] || continue
			[ "$(on $i role_of)" != PRIMARY ] || fail "$i became PRIMARY: $(on $i hastatus)"
		done
		sleep 0.1
		n=$((n + 1))
	done
}

note "1. b with another HMACKey: no node takes the primary role"
hasvr_node a 127.0.0.1
hasvr_node b 127.0.0.2
wrong_key b
on a start_hasvr
on b start_hasvr
never_primary 6 a b
for i in a b; do
	instance $i
	expect_rc 1 xdb -w set 0.wrongkey.x v=1
	assert_grep "no role yet|secondary" "$T/err"
	expect_rc 1 hastatus
	assert_grep "its heartbeats arrive but are rejected \(bad HMAC\)" "$T/out"
	assert_grep "does not take the primary role" "$T/out"
	assert_eq true "$(jget '.peers[0].unauthenticated')" "$i: peer reported as unauthenticated"
	assert_grep "heartbeat from 127\.0\.0\.[12] rejected: bad HMAC" "$(hlog)"
	assert_grep "sends heartbeats that fail authentication" "$(hlog)"
done
note "the key fixed on b: one primary"
on b stop_hasvr
right_key b
on b start_hasvr
on a wait_role PRIMARY 20
on b wait_role SECONDARY 20
on b hastatus -w 30 >/dev/null || fail "pair not healthy with the right key"
on a xdb -w set 0.wrongkey.one v=1 >/dev/null || fail "write on the primary"

note "2. a running pair: b restarted with the wrong key never promotes"
on b stop_hasvr
wrong_key b
on b start_hasvr
never_primary 4 b
assert_eq PRIMARY "$(on a role_of)" "a keeps the role"
on a xdb -w set 0.wrongkey.two v=2 >/dev/null || fail "a refuses writes"
on b expect_rc 1 xdb -w set 0.wrongkey.b v=2
on a expect_rc 1 hastatus
assert_grep "peer 127\.0\.0\.2: its heartbeats arrive but are rejected" "$T/out"
on b stop_hasvr
on a stop_hasvr

note "3. the replication channel refuses b (certificate of another CA)"
command -v openssl >/dev/null || skip "openssl command missing"
C=$T/certs
mkdir -p "$C"
(
	cd "$C"
	for ca in ca rogue; do
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		    -nodes -keyout $ca.key -out $ca.pem -days 2 -subj /CN=$ca
	done
	for n in a:ca b:rogue; do
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		    -keyout ${n%%:*}.key -out ${n%%:*}.csr -subj /CN=${n%%:*}
		openssl x509 -req -in ${n%%:*}.csr -CA ${n#*:}.pem -CAkey ${n#*:}.key \
		    -CAcreateserial -out ${n%%:*}.pem -days 2
	done
	chmod 600 ./*.key
) >"$T/openssl.out" 2>&1 || skip "openssl cannot make certificates: $(tail -n 3 "$T/openssl.out")"
rm -rf "$T/a/var" "$T/b/var"
for n in a:127.0.0.1:ca b:127.0.0.2:rogue; do
	name=${n%%:*}; rest=${n#*:}
	HA_EXTRA="highAvail.tlsCAFile $C/${rest#*:}.pem
highAvail.tlsCertFile $C/$name.pem
highAvail.tlsKeyFile $C/$name.key"
	hasvr_node "$name" "${rest%%:*}"
done
HA_EXTRA=
on a start_hasvr
on a wait_role PRIMARY 20
on b start_hasvr
on b wait_role SECONDARY 20
on a xdb -w set 0.wrongkey.cert v=1 >/dev/null || fail "write on a"
wait_for_log "peer authentication failed from 127\.0\.0\.1" 20 "$(log_of b)"
on b wait_until 20 "b reports the refused replication channel" \
    sh -c "'$HASTATUS' -s '$T/b/var/run/haSvr.sock' | grep -q 'replication channel refuses it: TLS authentication failed'"
on a wait_until 20 "a reports the refused replication channel" \
    sh -c "'$HASTATUS' -s '$T/a/var/run/haSvr.sock' | grep -q 'replication channel refuses it'"
[ "$(on b jget '.node.db.startupDone')" = false ] || fail "b's database cannot have synced"
note "the primary dies: b, which never synced, does not take over"
on a kill9_node
never_primary 3 b
assert_eq SECONDARY "$(on b role_of)" "b after the primary died"
on b stop_hasvr
echo ok
