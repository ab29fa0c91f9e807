#!/bin/sh
# ha_switchover — planned switchover under sync-mode writes loses no
# acknowledged write and swaps the roles (and back); promote is refused
# while the primary's heartbeat is alive; the control socket serves status
# to its group but changes only to root and hasvr's user; resync on the
# secondary moves its database aside and copies it again from the primary.
. "$top_srcdir/tests/integ/lib.sh"
test_init ha_switchover
ha_init
HA_DURABILITY=sync
HA_ACKTIMEOUT=2s

hasvr_node a 127.0.0.1; start_hasvr
hasvr_node b 127.0.0.2; start_hasvr
on a wait_role PRIMARY 20
on b wait_role SECONDARY 20
on b hastatus -w 30 >/dev/null || fail "pair not healthy"

note "switchover a -> b under load"
instance a
torture -T 60 puts 0.ha_switchover.load 1 100000 "$T/acked" 2 >"$T/load.out" 2>&1 &
echo $! >"$T/load.helper"
n=0
while [ "$(cat "$T/acked" 2>/dev/null | wc -l)" -lt 1000 ] && [ $n -lt 300 ]; do
	sleep 0.1; n=$((n + 1))
done
expect_rc 0 hactl switchover
cat "$T/out"
assert_grep "switchover done: 127\.0\.0\.2 is PRIMARY" "$T/out"
wait "$(cat "$T/load.helper")" 2>/dev/null || true
rm -f "$T/load.helper"
assert_grep "READONLY|not the primary|read-only|primary is" "$T/load.out" "the writer was turned away by the old primary"
acked=$(wc -l <"$T/acked")
assert_eq SECONDARY "$(role_of)" "a after the switchover"
on b wait_role PRIMARY 5
on b torture check "$T/acked" >"$T/check.out" 2>&1 ||
    fail "acknowledged writes lost in the switchover: $(tail -n 3 "$T/check.out")"
note "all $acked acknowledged writes are on the new primary"
assert_grep "role change PRIMARY -> SECONDARY, reason: .*switchover" "$(hlog)"
on b xdb -w set 0.ha_switchover.after by=b >/dev/null || fail "b refuses writes"
hastatus -w 30 >/dev/null || fail "a not in-sync after the switchover"

note "and back b -> a"
on b expect_rc 0 hactl switchover
assert_grep "switchover done: 127\.0\.0\.1 is PRIMARY" "$T/out"
wait_role PRIMARY 5
on b wait_role SECONDARY 5

note "promote refused while the primary is alive"
on b expect_rc 1 hactl promote
assert_grep "refused" "$T/err"
assert_eq SECONDARY "$(on b role_of)" "b after a refused promote"

note "control socket: status for the group, changes for root and hasvr's user only"
if id nobody >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	chmod 755 "$T" "$T/a" "$VAR" "$VAR/run"
	ng=$(id -gn nobody)
	chgrp "$ng" "$VAR/run/haSvr.sock"
	su -s /bin/sh nobody -c "'$HASTATUS' -s '$VAR/run/haSvr.sock'" >"$T/out" 2>&1 ||
	    { st=$?; [ $st -eq 1 ] || fail "status as nobody failed ($st): $(cat "$T/out")"; }
	assert_grep "PRIMARY" "$T/out"
	st=0
	su -s /bin/sh nobody -c "'$HACTL' -s '$VAR/run/haSvr.sock' switchover" >"$T/out" 2>&1 || st=$?
	[ $st -ne 0 ] || fail "nobody could ask for a switchover"
	assert_grep "not allowed" "$T/out"
	assert_eq PRIMARY "$(role_of)" "a after nobody's refused switchover"
	[ "$(stat -c %a "$VAR/run/haSvr.sock")" = 660 ] || fail "control socket mode $(stat -c %a "$VAR/run/haSvr.sock"), not 660"
fi

note "resync: refused on the primary, done on the secondary"
expect_rc 1 hactl resync
assert_grep "refused.*PRIMARY" "$T/err"
count=$(on a xdb count)
on b expect_rc 0 hactl resync
on b hastatus -w 60 >/dev/null || fail "b not in-sync after the resync"
on b wait_count "$count" 30
[ -n "$(ls -d "$T"/b/var/xdb/resync-* 2>/dev/null)" ] || fail "the old database was not kept"
on b assert_grep "resync: the old database is kept in" "$(on b hlog)"
on b stop_hasvr
on a stop_hasvr
echo ok
