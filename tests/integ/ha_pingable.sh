#!/bin/sh
# ha_pingable — the pingable IP decides: with it unreachable a secondary
# whose primary died does not promote itself; once it answers again it
# does; a primary that reaches neither its peer nor the pingable IP steps
# down. The pingable IP is made unreachable with an nftables rule that
# drops echo requests to one loopback address (this test's own table).
. "$top_srcdir/tests/integ/lib.sh"
test_init ha_pingable
[ "$(id -u)" = 0 ] || skip "nftables rules need root"
command -v nft >/dev/null || fail "nft not installed (scripts/setup.sh installs nftables)"
command -v ping >/dev/null || fail "ping not installed (scripts/setup.sh installs iputils-ping)"
PING_IP=127.0.0.99
TABLE=hasvr_test_$$
nft add table inet "$TABLE" 2>"$T/nft.err" || skip "nftables not usable here: $(cat "$T/nft.err")"
echo "$TABLE" >"$T/nft.table"
drop_ping()
{
	nft add chain inet "$TABLE" out '{ type filter hook output priority 0; }' 2>/dev/null || true
	nft add rule inet "$TABLE" out ip daddr $PING_IP icmp type echo-request drop
}
allow_ping()
{
	nft flush chain inet "$TABLE" out
}
cleanup_nft()
{
	nft delete table inet "$TABLE" 2>/dev/null || true
}
at_exit cleanup_nft
ping -n -q -c 1 -W 1 $PING_IP >/dev/null || fail "$PING_IP does not answer before the test"

ha_init
HA_HB_EXTRA="highAvail.pingableIp $PING_IP
highAvail.pingInterval 200ms"
hasvr_node a 127.0.0.1; start_hasvr
hasvr_node b 127.0.0.2; start_hasvr
on a wait_role PRIMARY 20
on b wait_role SECONDARY 20
on b hastatus -w 30 >/dev/null || fail "pair not healthy"
assert_eq true "$(on b jget .node.pingable.reachable)" "pingable IP answers"

note "pingable IP unreachable, then the primary dies: no promotion"
drop_ping
instance b
n=0
while [ "$(jget .node.pingable.reachable)" != false ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
assert_eq false "$(jget .node.pingable.reachable)" "b sees the pingable IP down"
assert_grep "pingable IP $PING_IP does not answer" "$(hlog)"
on a kill9_node
sleep 4
assert_eq SECONDARY "$(role_of)" "b must not promote without the pingable IP"
expect_rc 1 hastatus
assert_grep "pingable IP $PING_IP does not answer" "$T/out"
assert_no_grep "role change SECONDARY -> PRIMARY" "$(hlog)"
expect_rc 1 hactl promote
assert_grep "refused.*pingable" "$T/err"
assert_eq SECONDARY "$(role_of)" "b after a refused promote"

note "pingable IP answers again: b promotes"
allow_ping
wait_role PRIMARY 10
assert_grep "pingable IP $PING_IP answers" "$(hlog)"
assert_grep "role change SECONDARY -> PRIMARY, reason: " "$(hlog)"
xdb -w set 0.ha_pingable.1 by=b >/dev/null || fail "new primary refuses writes"

note "isolated primary (no peer, no pingable IP) steps down"
drop_ping
wait_role SECONDARY 10
assert_grep "role change PRIMARY -> SECONDARY, reason: .*(isolated|pingable)" "$(hlog)"
expect_rc 1 xdb -w set 0.ha_pingable.2 by=b
allow_ping
stop_hasvr
echo ok
