#!/bin/sh
# ha_initscript — the generated LSB init script etc/init.d/haSvr against a
# real hasvr instance (127.0.0.1): LSB exit codes of status, start, stop,
# restart and unknown actions; start is idempotent and waits for hasvr;
# stop removes hasvr, its guisvr and the pid file; a stale pid file; a bad
# haSvr.cfg and a hasvr that dies during start-up are reported. The script
# is pointed at the test instance with HASVR_DEFAULTS. Also checks the
# systemd unit with systemd-analyze verify when that exists.
. "$top_srcdir/tests/integ/lib.sh"
test_init ha_initscript
ha_init

INITD=$top_builddir/etc/init.d/haSvr
UNIT=$top_builddir/etc/systemd/haSvr.service
[ -x "$INITD" ] || fail "$INITD not built (make all)"
[ -x "$HASVR" ] || fail "$HASVR not built"
[ -x "$HASTATUS" ] || fail "$HASTATUS not built"
PATH=/sbin:/usr/sbin:$PATH command -v start-stop-daemon >/dev/null 2>&1 ||
    skip "start-stop-daemon (dpkg) not installed"

note "LSB header and syntax"
assert_grep '^### BEGIN INIT INFO$' "$INITD"
assert_grep '^# Provides: +haSvr$' "$INITD"
assert_grep '^# Default-Start: +2 3 4 5$' "$INITD"
assert_grep '^# Default-Stop: +0 1 6$' "$INITD"
assert_grep '^### END INIT INFO$' "$INITD"
assert_no_grep '@[a-z]+@' "$INITD" "unsubstituted @variable@ in $INITD"
sh -n "$INITD" || fail "$INITD: syntax error"
# the exit codes the header promises (a bad haSvr.cfg is checked below)
assert_grep '^# implemented \(reload\), 5 hasvr not installed, 6 haSvr\.cfg has errors\.$' "$INITD"

hasvr_node a 127.0.0.1
HAPID=$VAR/run/haSvr.pid
GPID=$PIDFILE
HACFG_A=$HACFG

# defaults FILE CONF: a defaults file pointing the script at CONF.
defaults()
{
	cat >"$1" <<-EOF
	# defaults for test $TEST_NAME
	DAEMON=$HASVR
	CONF=$2
	START_WAIT=10
	EOF
}
defaults "$T/defaults.a" "$HACFG_A"
HASVR_DEFAULTS=$T/defaults.a
export HASVR_DEFAULTS

initd()
{
	"$INITD" "$@"
}

# record hasvr|daemon|helper PID: every process seen is recorded for the
# EXIT trap of lib.sh ($T/*.hasvr, $T/*.daemon, $T/*.helper), beside the
# pid files under $T/*/var/run (one file per pid: record runs in subshells).
record()
{
	echo "$2" >"$T/initscript-$2.$1"
}

hasvr_exe=$(readlink -f "$HASVR")

# count_hasvr CFG: number of running hasvr processes started with CFG.
count_hasvr()
{
	local p c
	c=0
	for p in /proc/[0-9]*; do
		[ "$(readlink -f "$p/exe" 2>/dev/null)" = "$hasvr_exe" ] || continue
		tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -- "$1" || continue
		c=$((c + 1))
	done
	echo "$c"
}

# started: checks that the script's start left one running hasvr whose
# guisvr runs and whose control socket answers; prints hasvr's pid.
started()
{
	local pid gpid n st
	[ -s "$HAPID" ] || fail "no pid file $HAPID after start"
	pid=$(cat "$HAPID")
	record hasvr "$pid"
	pid_alive "$pid" || fail "hasvr (pid $pid) does not run after start"
	[ "$(readlink -f "/proc/$pid/exe")" = "$hasvr_exe" ] ||
	    fail "pid $pid of $HAPID is not $HASVR"
	assert_eq 1 "$(count_hasvr "$HACFG_A")" "hasvr processes for $HACFG_A"
	n=0
	while [ $n -lt 100 ]; do
		gpid=$(cat "$GPID" 2>/dev/null || true)
		[ -n "$gpid" ] && pid_alive "$gpid" && break
		sleep 0.1
		n=$((n + 1))
	done
	[ -n "$gpid" ] && pid_alive "$gpid" || fail "hasvr started no guisvr in 10 s"
	record daemon "$gpid"
	st=0
	hastatus >"$T/hastatus.out" 2>&1 || st=$?
	[ $st -eq 0 ] || [ $st -eq 1 ] || {
		cat "$T/hastatus.out" >&2
		fail "haStatus exits $st after start (0 or 1 expected)"
	}
	echo "$pid"
}

note "status before start: 3"
expect_rc 3 initd status
assert_grep 'is not running' "$T/out"
note "stop when not running: 0"
expect_rc 0 initd stop

note "start: 0, hasvr and its guisvr run, haStatus answers"
expect_rc 0 initd start
cat "$T/out"
assert_grep '^Starting highAvail \(hasvr\): ok \(pid [0-9]+\)$' "$T/out"
pid1=$(started)
gpid1=$(cat "$GPID")

note "start again: 0, still one hasvr"
expect_rc 0 initd start
assert_grep 'already running' "$T/out"
assert_eq "$pid1" "$(cat "$HAPID")" "pid after a second start"
assert_eq 1 "$(count_hasvr "$HACFG_A")" "hasvr processes after a second start"

note "status: 0"
expect_rc 0 initd status
assert_grep "is running \\(pid $pid1\\)" "$T/out"

note "check: 0"
expect_rc 0 initd check
assert_grep '^configuration OK$' "$T/out"

note "restart: 0, a new hasvr and guisvr"
expect_rc 0 initd restart
cat "$T/out"
assert_grep '^Stopping highAvail \(hasvr\): ok$' "$T/out"
assert_grep '^Starting highAvail \(hasvr\): ok' "$T/out"
# start-stop-daemon counts hasvr gone once its executable is unmapped;
# the process itself may take a moment more to finish exiting
_wait_gone "$pid1" 5 || fail "the old hasvr (pid $pid1) still runs after restart"
_wait_gone "$gpid1" 5 || fail "the old guisvr (pid $gpid1) still runs after restart"
pid2=$(started)
[ "$pid2" != "$pid1" ] || fail "restart kept pid $pid1"
gpid2=$(cat "$GPID")

note "force-reload and try-restart restart it too"
expect_rc 0 initd force-reload
pid3=$(started)
[ "$pid3" != "$pid2" ] || fail "force-reload kept pid $pid2"
expect_rc 0 initd try-restart
pid4=$(started)
[ "$pid4" != "$pid3" ] || fail "try-restart kept pid $pid3"
gpid4=$(cat "$GPID")
expect_rc 3 initd reload

note "stop: 0, hasvr, guisvr and the pid file gone"
expect_rc 0 initd stop
assert_grep '^Stopping highAvail \(hasvr\): ok$' "$T/out"
_wait_gone "$pid4" 5 || fail "hasvr (pid $pid4) still runs after stop"
_wait_gone "$gpid4" 5 || fail "guisvr (pid $gpid4) still runs after stop"
[ ! -e "$HAPID" ] || fail "pid file $HAPID left after stop"
assert_eq 0 "$(count_hasvr "$HACFG_A")" "hasvr processes after stop"
assert_grep "hasvr stopped" "$(hlog)"

note "stop again: 0; status: 3"
expect_rc 0 initd stop
assert_grep 'not running' "$T/out"
expect_rc 3 initd status
expect_rc 0 initd try-restart
assert_eq 0 "$(count_hasvr "$HACFG_A")" "try-restart started hasvr"

note "stale pid file: status 1, start replaces it, stop"
sh -c 'exit 0' &
dead=$!
wait "$dead" || true
! pid_alive "$dead" || fail "pid $dead should be dead"
mkdir -p "$VAR/run"
echo "$dead" >"$HAPID"
expect_rc 1 initd status
assert_grep "pid file .* exists" "$T/out"
expect_rc 0 initd start
pid5=$(started)
[ "$pid5" != "$dead" ] || fail "start kept the stale pid"
expect_rc 0 initd stop
_wait_gone "$pid5" 5 || fail "hasvr (pid $pid5) still runs after stop"
echo "$dead" >"$HAPID"
expect_rc 0 initd stop
[ ! -e "$HAPID" ] || fail "stop left the stale pid file"

note "a pid file naming another program: status 1, not stopped"
sleep 60 &
other=$!
record helper "$other"
echo "$other" >"$HAPID"
expect_rc 1 initd status
expect_rc 0 initd stop
pid_alive "$other" || fail "stop killed pid $other, which is not hasvr"
kill "$other"
wait "$other" 2>/dev/null || true
rm -f "$T/initscript-$other.helper"
rm -f "$HAPID"

note "bad haSvr.cfg: start refused with the error shown"
cp "$HACFG_A" "$T/bad.cfg"
echo "highAvail.heartbeatPort 99999" >>"$T/bad.cfg"
chmod 600 "$T/bad.cfg"
defaults "$T/defaults.bad" "$T/bad.cfg"
run env HASVR_DEFAULTS="$T/defaults.bad" "$INITD" start
assert_eq 6 "$RC" "start with a bad haSvr.cfg (LSB 6: program is not configured)"
cat "$T/out" "$T/err"
assert_grep "bad\\.cfg:[0-9]+: .*heartbeatPort" "$T/err" "the config error is shown"
assert_grep "failed" "$T/err"
[ ! -e "$HAPID" ] || fail "a pid file after a refused start"
assert_eq 0 "$(count_hasvr "$T/bad.cfg")" "hasvr running with the bad config"
run env HASVR_DEFAULTS="$T/defaults.bad" "$INITD" check
assert_eq 6 "$RC" "check of a bad haSvr.cfg (LSB 6: program is not configured)"
cat "$T/out" "$T/err" >"$T/check.out"
assert_grep "bad\\.cfg:[0-9]+: " "$T/check.out" "check shows the error"

note "hasvr dying during start-up: start fails and points at ha.log"
expect_rc 0 initd start
pid6=$(started)
# instance c: same address and heartbeat port as a, so its hasvr cannot
# bind the heartbeat socket once it has detached
hasvr_node c 127.0.0.1
defaults "$T/defaults.c" "$HACFG"
run env HASVR_DEFAULTS="$T/defaults.c" "$INITD" start
cat "$T/out" "$T/err"
pidc=$(cat "$VAR/run/haSvr.pid" 2>/dev/null || true)
[ -z "$pidc" ] || record hasvr "$pidc"
assert_eq 1 "$RC" "start of a hasvr that dies during start-up"
assert_grep "failed: hasvr exited during start-up" "$T/err"
assert_grep "errorLog/ha\\.log" "$T/err"
run env HASVR_DEFAULTS="$T/defaults.c" "$INITD" status
[ "$RC" -eq 1 ] || [ "$RC" -eq 3 ] || fail "status of the dead hasvr c: $RC (1 or 3 expected)"
run env HASVR_DEFAULTS="$T/defaults.c" "$INITD" stop
assert_eq 0 "$RC" "stop of the dead hasvr c"
instance a
pid_alive "$pid6" || fail "hasvr a died while c failed to start"
expect_rc 0 initd stop
_wait_gone "$pid6" 5 || fail "hasvr (pid $pid6) still runs after stop"

note "invalid arguments: 2 with usage"
expect_rc 2 initd bogus
assert_grep "usage: .*start.*stop.*restart.*status" "$T/err"
expect_rc 2 initd
expect_rc 2 initd start extra

note "unreadable HASVR_DEFAULTS: refused"
run env HASVR_DEFAULTS="$T/no-such-file" "$INITD" start
[ "$RC" -ne 0 ] || fail "start with a missing HASVR_DEFAULTS file exited 0"
assert_grep "no-such-file" "$T/err"

note "systemd unit"
[ -f "$UNIT" ] || fail "$UNIT not built"
assert_grep '^Type=forking$' "$UNIT"
assert_grep '^ExecStartPre=.*/hasvr -n -f ' "$UNIT"
assert_grep '^Restart=on-failure$' "$UNIT"
assert_no_grep '@[a-z]+@' "$UNIT" "unsubstituted @variable@ in $UNIT"
if command -v systemd-analyze >/dev/null 2>&1; then
	# verify needs the unit's programs: a copy naming the build tree's
	mkdir -p "$T/unit"
	sed -e "s|^\\(ExecStart[A-Za-z]*=\\)[^ ]*/hasvr |\\1$HASVR |" \
	    -e "s|^PIDFile=.*|PIDFile=$HAPID|" "$UNIT" >"$T/unit/haSvr.service"
	st=0
	SYSTEMD_LOG_LEVEL=warning systemd-analyze verify "$T/unit/haSvr.service" \
	    >"$T/verify.out" 2>&1 || st=$?
	if grep -q 'haSvr.service' "$T/verify.out" || [ $st -ne 0 ]; then
		cat "$T/verify.out" >&2
		# without a running systemd (containers), verify may fail for
		# reasons that are not the unit's: only its own lines count
		if grep -q 'haSvr.service' "$T/verify.out"; then
			fail "systemd-analyze verify reports problems in the unit"
		fi
		note "systemd-analyze verify exited $st (no problem named in the unit)"
	else
		note "systemd-analyze verify: ok"
	fi
else
	note "systemd-analyze not installed: unit not verified"
fi

note "ok"
