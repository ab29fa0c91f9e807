#!/bin/sh
# ha_splitbrain — the link between the two nodes is cut (an nftables rule
# drops this test's heartbeat and replication traffic between 127.0.0.1
# and 127.0.0.2) while both still reach
# the pingable IP: the secondary promotes itself with a higher epoch and
# both take writes. When the link comes back the two primaries meet: the
# higher epoch wins, the other becomes secondary, and the writes only it
# had are not silently lost — its diverged environment is kept aside and
# reported.
. "$top_srcdir/tests/integ/lib.sh"
test_init ha_splitbrain
[ "$(id -u)" = 0 ] || skip "nftables rules need root"
command -v nft >/dev/null || fail "nft not installed (scripts/setup.sh installs nftables)"
TABLE=hasvr_split_$$
nft add table inet "$TABLE" 2>"$T/nft.err" || skip "nftables not usable here: $(cat "$T/nft.err")"
at_exit 'nft delete table inet "$TABLE" 2>/dev/null'
nft add chain inet "$TABLE" out '{ type filter hook output priority 0; }'
# only this test's ports: tests running beside it use the same addresses
cut_link()
{
	for p in "udp dport $HA_HPORT" "tcp dport $HA_RPORT" "tcp sport $HA_RPORT"; do
		nft add rule inet "$TABLE" out ip saddr 127.0.0.1 ip daddr 127.0.0.2 $p drop
		nft add rule inet "$TABLE" out ip saddr 127.0.0.2 ip daddr 127.0.0.1 $p drop
	done
}
heal_link()
{
	nft flush chain inet "$TABLE" out
}

ha_init
HA_DURABILITY=sync
HA_ACKTIMEOUT=500ms
HA_HB_EXTRA="highAvail.pingableIp 127.0.0.98
highAvail.pingInterval 200ms"
hasvr_node a 127.0.0.1; start_hasvr
hasvr_node b 127.0.0.2; start_hasvr
on a wait_role PRIMARY 20
on b wait_role SECONDARY 20
on b hastatus -w 30 >/dev/null || fail "pair not healthy"
on a xdb -w set 0.split.before v=both >/dev/null
on b wait_count 1 20

note "cut the link: b promotes, both take writes"
cut_link
on b wait_role PRIMARY 10
assert_eq PRIMARY "$(on a role_of)" "a keeps its role (it still reaches the pingable IP)"
ea=$(on a jget .node.epoch)
eb=$(on b jget .node.epoch)
[ "$eb" -gt "$ea" ] || fail "b's epoch $eb not above a's $ea"
on a xdb -w set 0.split.only_a v=a >"$T/wa" 2>&1 || fail "a refused a write: $(cat "$T/wa")"
on b xdb -w set 0.split.only_b v=b >/dev/null || fail "b refused a write"

note "heal: the higher epoch (b) wins, a becomes secondary"
heal_link
on a wait_role SECONDARY 15
assert_eq PRIMARY "$(on b role_of)" "b after the two primaries met"
on a assert_grep "role change PRIMARY -> SECONDARY, reason: .*two primaries" "$(on a hlog)"
on a hastatus -w 60 >/dev/null || fail "a did not reach in-sync under b"
on a wait_count 2 30
on a xdb get 0.split.only_b >/dev/null || fail "b's write did not reach a"
on b expect_rc 1 xdb get 0.split.only_a
instance a
wait_for_log "diverged history: [0-9]+ transactions? rolled back; preserved in" 30
ls -d "$VAR"/xdb/diverged-* >/dev/null 2>&1 || fail "a's diverged environment was not kept"
note "a's diverged write is preserved in $(ls -d "$VAR"/xdb/diverged-* | head -n 1)"
on b stop_hasvr
on a stop_hasvr
echo ok
