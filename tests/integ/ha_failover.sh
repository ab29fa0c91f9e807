#!/bin/sh
# ha_failover — sync-mode writes on the primary, then kill -9 of the
# primary's hasvr and guisvr (a dead machine): the secondary becomes
# primary, accepts writes and holds every acknowledged write; the old
# primary, restarted, rejoins as secondary and reaches in-sync.
. "$top_srcdir/tests/integ/lib.sh"
test_init ha_failover
ha_init
HA_DURABILITY=sync
HA_ACKTIMEOUT=2s

hasvr_node a 127.0.0.1; start_hasvr
hasvr_node b 127.0.0.2; start_hasvr
on a wait_role PRIMARY 20
on b wait_role SECONDARY 20
on b hastatus -w 30 >/dev/null || fail "pair not healthy before the test"
epoch_a=$(on a jget .node.epoch)

note "sync writes on a, then kill -9 of a's hasvr and guisvr"
instance a
torture -T 120 puts 0.ha_failover.load 1 200000 "$T/acked" 4 >"$T/load.out" 2>&1 &
echo $! >"$T/load.helper"
n=0
while [ "$(cat "$T/acked" 2>/dev/null | wc -l)" -lt 2000 ] && [ $n -lt 300 ]; do
	sleep 0.1; n=$((n + 1))
done
[ "$(wc -l <"$T/acked")" -ge 2000 ] || fail "the writer did not get going: $(cat "$T/load.out")"
kill9_node
wait "$(cat "$T/load.helper")" 2>/dev/null || true
rm -f "$T/load.helper"
acked=$(wc -l <"$T/acked")
note "$acked writes acknowledged before the kill"

note "b takes over"
instance b
wait_role PRIMARY 10
assert_grep "role change SECONDARY -> PRIMARY, reason: " "$(hlog)"
assert_grep "heartbeat from peer 127\.0\.0\.1 \(eid [0-9]+\) timed out" "$(hlog)"
[ "$(jget .node.epoch)" -gt "$epoch_a" ] || fail "new primary's epoch $(jget .node.epoch) not above $epoch_a"
assert_eq "timed-out (error)" "$(jget '.peers[0].services.highAvail')" "dead peer in haStatus"
expect_rc 1 hastatus
assert_grep "timed-out \(error\)" "$T/out"
xdb -w set 0.ha_failover.after who=b >/dev/null || fail "the new primary refuses writes"
torture check "$T/acked" >"$T/check.out" 2>&1 ||
    fail "acknowledged writes lost in the failover: $(tail -n 3 "$T/check.out")"
note "all $acked acknowledged writes are on b"

note "a restarts and rejoins as secondary"
instance a
start_hasvr
wait_role SECONDARY 30
hastatus -w 60 >"$T/status.a" || { cat "$T/status.a" >&2; fail "a did not reach in-sync as secondary"; }
on b hastatus -w 30 >/dev/null || fail "b not healthy after a rejoined"
assert_eq in-sync "$(on b jget '.peers[0].db.state')" "b sees a in-sync"
on b xdb -w set 0.ha_failover.rejoined ok=1 >/dev/null || fail "write on b after the rejoin"
wait_converged a b 60 >/dev/null
on a torture check "$T/acked" >/dev/null || fail "acknowledged writes missing on the rejoined a"
on b stop_hasvr
on a stop_hasvr
echo ok
