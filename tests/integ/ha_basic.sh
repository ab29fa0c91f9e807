#!/bin/sh
# ha_basic — two hasvr nodes on 127.0.0.1 / 127.0.0.2, each supervising its
# guisvr: exactly one primary, haStatus healthy on both, writes replicate
# and are refused on the secondary, the log lines admins look for, clean
# stop of hasvr and its guisvr, config check and guisvr restart.
. "$top_srcdir/tests/integ/lib.sh"
test_init ha_basic
ha_init
HA_DURABILITY=sync

hasvr_node a 127.0.0.1
expect_out "configuration OK" "$HASVR" -n -f "$HACFG"
start_hasvr
hasvr_node b 127.0.0.2
start_hasvr

note "one primary, one secondary"
on a wait_role PRIMARY 20
on b wait_role SECONDARY 20
on a hastatus -w 30 >"$T/status.a" || { cat "$T/status.a" >&2; fail "haStatus on a not healthy"; }
on b hastatus -w 30 >"$T/status.b" || { cat "$T/status.b" >&2; fail "haStatus on b not healthy"; }
cat "$T/status.a"
assert_grep "127\.0\.0\.1.*PRIMARY" "$T/status.a"
assert_grep "127\.0\.0\.2.*SECONDARY" "$T/status.a"
assert_grep "in-sync" "$T/status.a"
on b jget '.peers[0].services.highAvailSvr' >/dev/null
assert_eq running "$(on b jget '.peers[0].services.highAvailSvr')" "b sees a's highAvailSvr"
assert_eq running "$(on a jget '.node.services.highAvailSvr')" "a's own highAvailSvr"
assert_eq true "$(on a jget '.peers[0].buildMatch')" "builds match"
assert_eq 0 "$(on a jget '.heartbeat.rejected.mac')" "no forged heartbeats"

note "the log lines of the troubleshooting steps"
instance a
assert_grep "role change STARTING -> PRIMARY, reason: " "$(hlog)"
[ "$(grep -c 'role change' "$(hlog)")" = 1 ] || fail "a logged more than one role change: $(grep 'role change' "$(hlog)")"
assert_grep "connected to highAvailSvr ha-link" "$(hlog)"
assert_grep "heartbeat from peer 127\.0\.0\.2 .* received" "$(hlog)"
assert_grep "connectionMgr connected to ha-link" "$LOG"
assert_grep "get BDB event DB_EVENT_REP_MASTER" "$LOG"
instance b
assert_grep "role change STARTING -> SECONDARY, reason: " "$(hlog)"
wait_for_log "get BDB event DB_EVENT_REP_STARTUPDONE" 20
assert_grep "get BDB event DB_EVENT_REP_CLIENT" "$LOG"
# the troubleshooting guide's order in guiDaemon.0 (README steps 6-8):
# ha-link first, then the role hasvr gave, then the primary found, then
# the startup sync done; no role event before hasvr connected
first_line()
{
	grep -n -- "$1" "$2" | head -n 1 | cut -d: -f1
}
in_order()
{
	local prev n pat f
	f=$1
	shift
	prev=0
	for pat in "$@"; do
		n=$(first_line "$pat" "$f")
		[ -n "$n" ] || fail "$f has no line with '$pat'"
		[ "$n" -gt "$prev" ] || fail "$f: '$pat' (line $n) comes before the line expected before it (line $prev)"
		prev=$n
	done
}
in_order "$(log_of a)" "connectionMgr connected to ha-link" \
    "ha-link: role primary requested" "get BDB event DB_EVENT_REP_MASTER"
in_order "$(log_of b)" "connectionMgr connected to ha-link" \
    "ha-link: role secondary requested" "get BDB event DB_EVENT_REP_CLIENT" \
    "get BDB event DB_EVENT_REP_NEWMASTER" \
    "get BDB event DB_EVENT_REP_STARTUPDONE"
assert_no_grep "DB_EVENT_REP_CLIENT" "$(log_of a)" "the primary logged DB_EVENT_REP_CLIENT (it was never told to be secondary)"

note "writes on the primary reach the secondary; the secondary refuses writes"
on a xdb -w set 0.ha_basic.1 color=blue >/dev/null || fail "write on the primary failed"
on a torture puts 0.ha_basic.load 1 500 "$T/acked" 2 >/dev/null || fail "500 puts on the primary failed"
on b wait_count 501 20
on b torture check "$T/acked" >/dev/null || fail "acknowledged puts missing on the secondary"
instance b
expect_rc 1 xdb -w set 0.ha_basic.2 color=red
assert_grep "127\.0\.0\.1" "$T/err" "the refusal names the primary"

note "guisvr killed under hasvr is restarted and takes its role again"
instance b
gpid=$(cat "$PIDFILE")
kill -9 "$gpid"
_wait_gone "$gpid" 10 || fail "guisvr survived SIGKILL"
wait_for_log "highAvailSvr \\(pid $gpid\\) was killed by signal 9 .*restarting it in" 10 "$(hlog)"
on b hastatus -w 30 >"$T/status.b" || { cat "$T/status.b" >&2; fail "b not healthy after guisvr restart"; }
[ "$(cat "$PIDFILE")" != "$gpid" ] || fail "guisvr pid did not change"
assert_eq 1 "$(on b jget .node.guisvrRestarts)" "restart counted"
on a xdb -w set 0.ha_basic.3 after=restart >/dev/null || fail "write after the restart"
on b wait_count 502 20

note "clean stop: hasvr stops its guisvr"
on b stop_hasvr
on a wait_role PRIMARY 5
on a stop_hasvr
instance a
assert_grep "hasvr stopped" "$(hlog)"
assert_grep "stopping highAvailSvr" "$(hlog)"

note "bad configurations are refused with file:line"
instance a
cp "$HACFG" "$T/bad.cfg"
echo "highAvail.heartbeatIntervall 100ms" >>"$T/bad.cfg"
chmod 600 "$T/bad.cfg"
expect_rc 1 "$HASVR" -n -f "$T/bad.cfg"
assert_grep "bad\.cfg:[0-9]+: .*heartbeatIntervall" "$T/err"
cp "$HACFG" "$T/open.cfg"
chmod 644 "$T/open.cfg"
expect_rc 1 "$HASVR" -n -f "$T/open.cfg"
assert_grep "readable by others" "$T/err"
sed 's/^highAvail.guiSvrProgram .*/highAvail.guiSvrProgram \/nonexistent\/guisvr/' "$HACFG" >"$T/bad2.cfg"
chmod 600 "$T/bad2.cfg"
expect_rc 1 "$HASVR" -n -f "$T/bad2.cfg"
assert_grep "guiSvrProgram /nonexistent/guisvr: No such file" "$T/err"
echo "ok"
