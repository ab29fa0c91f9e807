#!/bin/sh
# ha_arbiter — a sync pair in arbiter mode (highAvail.arbiter etcd) against
# a real three-member etcd cluster on loopback (127.0.0.11-13; the nodes
# are 127.0.0.2 and .3 and each one's etcd traffic leaves from its own
# address, highAvail.etcdSourceAddr, so that nftables can cut one node
# from etcd — etcd's own gateway talks to its members from 127.0.0.1):
#  1. one primary, and it holds the leader key in etcd (etcdctl); haStatus
#     shows the arbiter on both nodes;
#  2. the nodes cut from each other, both reaching etcd: the holder stays
#     the only primary (roles sampled every 100 ms), the other never
#     promotes; the primary acknowledges writes alone only after etcd's
#     synchronous-standby record stopped listing the other; killed then,
#     the other never takes over (it may lack those writes) — the
#     restarted primary takes its key back with them;
#  3. the primary cut from etcd and from its peer: its guisvr refuses
#     writes ("arbiter lease ran out") before the other node becomes
#     primary (timestamps of both logs), and the other takes over;
#  4. etcd's majority lost: the primary stops taking writes within the
#     lease, no node is primary; etcd back: one primary, writes go on;
#  5. kill -9 of the primary under sync writes: the other takes over once
#     the lease is gone, with every acknowledged write.
. "$top_srcdir/tests/integ/lib.sh"
. "$top_srcdir/tests/etcd/etcd.sh"
test_init ha_arbiter
[ "$(id -u)" = 0 ] || skip "nftables rules need root"
command -v etcd >/dev/null || skip "etcd not installed (scripts/setup.sh installs etcd-server)"
command -v nft >/dev/null || fail "nft not installed (scripts/setup.sh installs nftables)"
TABLE=hasvr_arb_$$
nft add table inet "$TABLE" 2>"$T/nft.err" || skip "nftables not usable here: $(cat "$T/nft.err")"
at_exit 'nft delete table inet "$TABLE" 2>/dev/null'
nft add chain inet "$TABLE" out '{ type filter hook output priority 0; }'
at_exit 'etcd_cluster_stop "$T/etcd"'

etcd_cluster_start "$T/etcd" e1=127.0.0.11 e2=127.0.0.12 e3=127.0.0.13
EPS=$(etcd_endpoints "$T/etcd")
CPORTS=$(echo "$EPS" | tr ',' '\n' | sed 's|.*:||; s|/$||' | paste -sd, -)
PREFIX=/hasvr/test$$
TTL_MS=3000

# cut_peers: this test's heartbeat and replication traffic between the
# two nodes is dropped; cut_etcd ADDR: what ADDR sends to etcd's client
# ports; heal: neither
cut_peers()
{
	for p in "udp dport $HA_HPORT" "tcp dport $HA_RPORT" "tcp sport $HA_RPORT"; do
		nft add rule inet "$TABLE" out ip saddr 127.0.0.2 ip daddr 127.0.0.3 $p drop
		nft add rule inet "$TABLE" out ip saddr 127.0.0.3 ip daddr 127.0.0.2 $p drop
	done
}
cut_etcd()
{
	nft add rule inet "$TABLE" out ip saddr "$1" ip daddr '{ 127.0.0.11, 127.0.0.12, 127.0.0.13 }' \
	    tcp dport "{ $CPORTS }" drop
}
heal()
{
	nft flush chain inet "$TABLE" out
}
leader_key()
{
	etcd_ctl "$T/etcd" get --print-value-only "$PREFIX/leader" 2>/dev/null
}
# wait_jget FILTER VALUE SECS: the current instance's status has it
wait_jget()
{
	local n v
	n=0
	while [ $n -lt $(($3 * 10)) ]; do
		v=$(jget "$1")
		[ "$v" = "$2" ] && return 0
		sleep 0.1
		n=$((n + 1))
	done
	fail "$INST: $1 is '$v', not '$2', after $3 s"
}
# wait_sync_record ERE SECS: PREFIX/sync matches ERE
wait_sync_record()
{
	local n
	n=0
	while [ $n -lt $(($2 * 10)) ]; do
		etcd_ctl "$T/etcd" get --print-value-only "$PREFIX/sync" 2>/dev/null |
		    grep -Eq "$1" && return 0
		sleep 0.1
		n=$((n + 1))
	done
	fail "the sync record is '$(etcd_ctl "$T/etcd" get --print-value-only "$PREFIX/sync" 2>&1)', not /$1/, after $2 s"
}
# ms_of FILE PATTERN: the first log line matching PATTERN, as ms of the day
ms_of()
{
	grep -E -m 1 "$2" "$1" | awk '{ split($2, t, "[:.]");
	    print ((t[1] * 60 + t[2]) * 60 + t[3]) * 1000 + t[4] }'
}
# sample_roles SECS FILE: both nodes' roles every 100 ms, one line each
sample_roles()
{
	local n lim
	n=0
	lim=$(($1 * 10))
	: >"$2"
	while [ $n -lt $lim ]; do
		echo "$(on a role_of) $(on b role_of)" >>"$2"
		sleep 0.1
		n=$((n + 1))
	done
}

ha_init
HA_DURABILITY=sync
HA_ACKTIMEOUT=1s
HA_HB_EXTRA="highAvail.arbiter etcd
highAvail.etcdEndpoints $EPS
highAvail.etcdPrefix $PREFIX
highAvail.leaderTTL 3s"
HA_PRIMARY=127.0.0.2
HA_SECONDARY=127.0.0.3
HA_EXTRA="highAvail.etcdSourceAddr 127.0.0.2"
hasvr_node a 127.0.0.2; start_hasvr
HA_EXTRA="highAvail.etcdSourceAddr 127.0.0.3"
hasvr_node b 127.0.0.3; start_hasvr
HA_EXTRA=

note "1. one primary, holding the leader key"
on a wait_role PRIMARY 30
on b wait_role SECONDARY 30
on b hastatus -w 30 >/dev/null || fail "pair not healthy"
assert_eq 1 "$(leader_key)" "the leader key names a (eid 1)"
assert_eq true "$(on a jget .arbiter.held)" "a holds the key (haStatus)"
on b wait_jget .arbiter.leader 1 10
assert_eq false "$(on b jget .arbiter.held)" "b does not hold it"
on a assert_grep "arbiter: took the leader key $PREFIX/leader" "$(on a hlog)"
on a hastatus >"$T/st.a"
on a xdb -w set 0.arb.one v=1 >/dev/null || fail "write on a"

wait_sync_record '"sync":\[2\]' 30

note "2. the nodes cut from each other, both reaching etcd: a stays the only primary"
cut_peers
sample_roles 6 "$T/roles.cut"
grep -q "PRIMARY PRIMARY" "$T/roles.cut" && fail "two primaries while the peers were cut: $(grep -c 'PRIMARY PRIMARY' "$T/roles.cut") samples"
grep -qv "^PRIMARY " "$T/roles.cut" && fail "a lost the primary role while it held the key"
assert_eq 1 "$(leader_key)" "the key stayed a's"
# a acknowledges alone only once the record no longer lists b
wait_sync_record '"sync":\[\]' 10
on a xdb -w set 0.arb.alone v=a >/dev/null || fail "a refused a write with b dropped from the record"
on b wait_jget .arbiter.eligible false 10

note "2b. a dies while b is left out of the record: b never takes over"
instance a
kill9_node
sleep $((TTL_MS / 1000 + 3))
sample_roles 2 "$T/roles.dropped"
grep -q PRIMARY "$T/roles.dropped" && fail "b took over without being in the sync record"
heal
instance a
start_hasvr
wait_role PRIMARY 30
on b wait_role SECONDARY 20
on b hastatus -w 60 >/dev/null || fail "b did not come back in-sync"
wait_sync_record '"sync":\[2\]' 30
wait_converged a b 60 >/dev/null
on b xdb get 0.arb.alone >/dev/null || fail "the write a acknowledged alone is not on b"

note "3. a cut from etcd and from b: a stops writes before b takes over"
cut_peers
cut_etcd 127.0.0.2
on b wait_role PRIMARY 20
on a wait_role SECONDARY 10
a_stop=$(ms_of "$T/a/var/errorLog/guiDaemon.0" "arbiter lease ran out")
b_up=$(ms_of "$(on b hlog)" "role change SECONDARY -> PRIMARY")
[ -n "$a_stop" ] && [ -n "$b_up" ] || fail "missing log lines (a: '$a_stop', b: '$b_up')"
[ "$a_stop" -lt "$b_up" ] || fail "a stopped writes at $a_stop ms, after b took over at $b_up ms"
note "a stopped taking writes $((b_up - a_stop)) ms before b became primary"
assert_eq 2 "$(leader_key)" "the leader key names b (eid 2)"
on a expect_rc 1 xdb -w set 0.arb.cut v=a
heal
on a hastatus -w 60 >/dev/null || fail "a did not come back in-sync under b"

note "4. etcd's majority lost: b stops writes, nobody is primary"
etcd_member_stop "$T/etcd" e1 KILL
etcd_member_stop "$T/etcd" e2 KILL
on b wait_role SECONDARY $((TTL_MS / 1000 + 10))
on b expect_rc 1 xdb -w set 0.arb.nomaj v=b
sample_roles 3 "$T/roles.nomaj"
grep -q PRIMARY "$T/roles.nomaj" && fail "a primary without etcd's majority: $(grep -m1 PRIMARY "$T/roles.nomaj")"
on b jget .problems >"$T/probs"
grep -q arbiter-unreachable "$T/probs" || fail "haStatus does not say etcd is unreachable: $(cat "$T/probs")"
etcd_member_start "$T/etcd" e1
etcd_member_start "$T/etcd" e2
etcd_wait_healthy "$T/etcd" 30
n=0
while [ $n -lt 300 ]; do
	[ "$(on a role_of)" = PRIMARY ] || [ "$(on b role_of)" = PRIMARY ] && break
	sleep 0.1
	n=$((n + 1))
done
[ $n -lt 300 ] || fail "no primary 30 s after etcd came back"
p=a; [ "$(on b role_of)" = PRIMARY ] && p=b
on $p xdb -w set 0.arb.back v=1 >/dev/null || fail "write on the new primary $p"

note "5. kill -9 of the primary ($p) under sync writes"
o=b; [ $p = b ] && o=a
on $o hastatus -w 60 >/dev/null || fail "$o not in-sync before the kill"
instance $p
torture -T 120 puts 0.arb.load 1 200000 "$T/acked" 4 >"$T/load.out" 2>&1 &
echo $! >"$T/load.helper"
n=0
while [ "$(cat "$T/acked" 2>/dev/null | wc -l)" -lt 1000 ] && [ $n -lt 300 ]; do
	sleep 0.1; n=$((n + 1))
done
kill9_node
wait "$(cat "$T/load.helper")" 2>/dev/null || true
rm -f "$T/load.helper"
instance $o
wait_role PRIMARY $((TTL_MS / 1000 + 15))
torture check "$T/acked" >"$T/check.out" 2>&1 ||
    fail "acknowledged writes lost: $(tail -n 3 "$T/check.out")"
note "all $(wc -l <"$T/acked") acknowledged writes are on $o"
on $o stop_hasvr
echo ok
