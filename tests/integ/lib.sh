# lib.sh — shared helpers for the guisvr integration tests (sourced).
#
# A test does:
#     . "$top_srcdir/tests/integ/lib.sh"
#     test_init basic             # temp dir, traps, ports
#     instance a                  # $T/a: config, var dir, socket; sets CFG VAR SOCK LOG
#     write_cfg "guiSvr.txnSync sync"   # guiSvr.cfg for the current instance
#     start_guisvr                # foreground (-d) in the background, waits until it serves
#     xdb -w put 0.x.1 a=b        # the records tool against the current instance
#     stop_guisvr                 # SIGTERM, waits, checks the exit status
# Every daemon started here is recorded in $T/<instance>.daemon and killed by
# PID on exit. On failure the temp dir is kept and the log tails printed.
#
# The build tree comes from top_builddir (set by `make check`); run by hand:
#     top_srcdir=/src top_builddir=/build sh tests/integ/guisvr_basic.sh
# HASVR_TEST_KEEP=1 keeps the temp dir (logs, dumps) after a passing run.

set -e
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$(pwd)}"
GUISVR=$top_builddir/guisvr/guisvr
XDB=$top_builddir/utils/xdb
XDBGEN=$top_builddir/utils/xdbgen
TORTURE=$top_builddir/tests/integ/xdbtorture
HALINKCTL=$top_builddir/utils/halinkctl
HASVR=$top_builddir/hasvr/hasvr
HASTATUS=$top_builddir/utils/haStatus
HACTL=$top_builddir/utils/haCtl

TEST_NAME=
T=
INST=
CFG='' VAR='' SOCK='' LOG='' PIDFILE='' KEYFILE='' HACFG='' ADDR=''
_daemon_pid=

# Print a message and exit 1 (the EXIT trap prints the logs).
fail()
{
	echo "FAIL: $TEST_NAME: $*" >&2
	exit 1
}

# Exit 77: the test cannot run here (not a failure).
skip()
{
	echo "SKIP: $TEST_NAME: $*" >&2
	_skipped=1
	exit 77
}

note()
{
	echo "== $TEST_NAME: $*"
}

_skipped=0
_at_exit=
# at_exit CMD: run CMD (eval'd) when the test ends, after its daemons were
# stopped and before its files go; a test must not set its own EXIT trap
# (a command run before _cleanup would replace the test's exit status).
at_exit()
{
	_at_exit="$_at_exit
$1"
}

_cleanup()
{
	rc=$?
	set +e
	trap - EXIT INT TERM HUP PIPE
	# hasvr first (its guisvr follows it), then every daemon this test
	# started, by the PIDs it recorded or the daemons wrote under $T
	for f in "$T"/*.hasvr "$T"/*.daemon "$T"/*/var/run/haSvr.pid \
	    "$T"/*/var/run/guiSvr.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
			kill -9 "$pid" 2>/dev/null
		fi
	done
	# the watchdog's pids are not *.helper: tests clear those themselves
	for f in "$T"/watchdog.pid "$T"/watchdog-sleep.pid "$T"/*.helper; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	done
	[ -f "$T/watchdog.msg" ] && cat "$T/watchdog.msg" >&2
	eval "$_at_exit"
	# (a non-zero status of those must not hide the test's own)
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
		for f in "$T"/*/var/errorLog/guiDaemon.0 "$T"/*/guisvr.out \
		    "$T"/*/var/errorLog/ha.log "$T"/*/hasvr.out; do
			[ -s "$f" ] || continue
			echo "---- tail of $f" >&2
			tail -n 30 "$f" >&2
		done
		echo "FAIL: $TEST_NAME (exit $rc); files kept in $T" >&2
	elif [ -n "${HASVR_TEST_KEEP:-}" ]; then
		echo "$TEST_NAME: files kept in $T (HASVR_TEST_KEEP)"
	else
		rm -rf "$T"
	fi
	exit "$rc"
}

# test_init NAME: temp dir, cleanup trap, a port base for this test.
test_init()
{
	TEST_NAME=$1
	for b in "$GUISVR" "$XDB" "$XDBGEN"; do
		[ -x "$b" ] || { echo "FAIL: $TEST_NAME: $b not built" >&2; exit 1; }
	done
	# Short path: UNIX socket paths are limited to 107 bytes.
	T=$(mktemp -d "${TMPDIR:-/tmp}/hasvr-$1.XXXXXX")
	trap _cleanup EXIT
	trap 'exit 1' INT TERM HUP PIPE
	_watchdog_start
}

# A test that hangs must not hang make check: after HASVR_TEST_TIMEOUT
# seconds (default 300) the watchdog stops this shell's children and the
# shell itself (all by PID); the EXIT trap then stops the daemons as usual.
# Its output goes to a file so that no stray process holds the test's
# stdout open.
_watchdog_start()
{
	_wd_secs=${HASVR_TEST_TIMEOUT:-300}
	(
		sleep "$_wd_secs" &
		echo $! > "$T/watchdog-sleep.pid"
		wait $! || exit 0
		echo "FAIL: $TEST_NAME: still running after ${_wd_secs}s; stopped by the watchdog" \
		    > "$T/watchdog.msg"
		_wd_self=$(sh -c 'echo $PPID')
		for _wd_c in $(cat /proc/$$/task/*/children 2>/dev/null); do
			[ "$_wd_c" = "$_wd_self" ] || kill -TERM "$_wd_c" 2>/dev/null
		done
		kill -TERM $$ 2>/dev/null
	) </dev/null >/dev/null 2>&1 &
	echo $! > "$T/watchdog.pid"
}

# instance NAME: select (and create) instance NAME under $T.
instance()
{
	INST=$1
	mkdir -p "$T/$INST"
	CFG=$T/$INST/guiSvr.cfg
	VAR=$T/$INST/var
	SOCK=$T/$INST/var/run/guiSvr.sock
	LOG=$T/$INST/var/errorLog/guiDaemon.0
	PIDFILE=$T/$INST/var/run/guiSvr.pid
	KEYFILE=$T/$INST/client.key
	HACFG=$T/$INST/haSvr.cfg
	ADDR=$(cat "$T/$INST/addr" 2>/dev/null || true)
	_daemon_pid=$(cat "$T/$INST.daemon" 2>/dev/null || true)
}

# port_free PORT: 0 when nothing listens on 127.0.0.1/any:PORT (TCP, v4/v6).
port_free()
{
	local hex
	hex=$(printf '%04X' "$1")
	! cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
	    awk '{print $2}' | grep -q ":$hex\$"
}

# pick_port: a free TCP port, different for tests running in parallel
# (derived from this shell's PID and probed in /proc/net/tcp), below
# Linux's ephemeral range (32768-60999) so that no outgoing connection of
# a test running beside it can be holding it by the time it is bound.
_port_next=
pick_port()
{
	local n p
	if [ -z "$_port_next" ]; then
		_port_next=$((20000 + ($$ * 37) % 12700))
	fi
	n=0
	while [ $n -lt 200 ]; do
		p=$_port_next
		_port_next=$((_port_next + 1))
		[ $_port_next -lt 32700 ] || _port_next=20000
		if port_free "$p"; then
			echo "$p"
			return 0
		fi
		n=$((n + 1))
	done
	fail "no free TCP port found"
}

# write_key [FILE]: a client key (mode 0600) for the current instance.
write_key()
{
	local k
	k=${1:-$KEYFILE}
	(umask 077; echo "hasvr-test-client-key-$$-$(date +%s%N)" >"$k")
}

# write_cfg [LINE...]: the current instance's guiSvr.cfg (mode 0600); each
# argument is one more "key value" line (keys must not repeat the defaults).
write_cfg()
{
	local l
	mkdir -p "$VAR"
	(
		umask 077
		cat >"$CFG" <<-EOF
		# guiSvr.cfg for test $TEST_NAME, instance $INST
		guiSvr.varDir $VAR
		guiSvr.clientSocket $SOCK
		EOF
		for l in "$@"; do
			printf '%s\n' "$l" >>"$CFG"
		done
	)
	chmod 600 "$CFG"
}

# The records tool against the current instance.
xdb()
{
	"$XDB" -f "$CFG" "$@"
}

# The torture helper against the current instance's socket.
torture()
{
	[ -x "$TORTURE" ] || fail "$TORTURE not built (add tests/integ/xdbtorture to check_PROGRAMS)"
	"$TORTURE" -s "$SOCK" "$@"
}

# wait_ready: until `xdb status` answers (bounded ~15 s); fails if the daemon
# dies first.
wait_ready()
{
	local n
	n=0
	while [ $n -lt 150 ]; do
		if [ -n "$_daemon_pid" ] && ! pid_alive "$_daemon_pid"; then
			fail "guisvr ($INST) exited during start-up"
		fi
		if xdb status >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
		n=$((n + 1))
	done
	fail "guisvr ($INST) not serving after 15 s"
}

# start_guisvr [daemon]: start the current instance. Default: -d (foreground)
# as a background job, output in $T/$INST/guisvr.out. "daemon": let guisvr
# daemonize and take the PID from var/run/guiSvr.pid.
start_guisvr()
{
	local mode n
	mode=${1:-fg}
	if [ "$mode" = daemon ]; then
		"$GUISVR" -f "$CFG" >"$T/$INST/guisvr.out" 2>&1 ||
		    fail "guisvr ($INST) failed to start: $(cat "$T/$INST/guisvr.out")"
		n=0
		while [ ! -s "$PIDFILE" ] && [ $n -lt 100 ]; do
			sleep 0.1
			n=$((n + 1))
		done
		[ -s "$PIDFILE" ] || fail "no pid file $PIDFILE after start"
		_daemon_pid=$(cat "$PIDFILE")
	else
		"$GUISVR" -f "$CFG" -d >>"$T/$INST/guisvr.out" 2>&1 &
		_daemon_pid=$!
	fi
	echo "$_daemon_pid" >"$T/$INST.daemon"
	wait_ready
}

# guisvr_pid: the current instance's daemon PID.
guisvr_pid()
{
	echo "$_daemon_pid"
}

# pid_alive PID: 0 while PID runs (a zombie, not yet reaped by its parent
# or a subreaper, counts as gone). One read of /proc/PID/stat decides: a
# zombie reaped between two looks (kill -0, then the state) once counted
# as alive again, and a wait for it failed at once.
pid_alive()
{
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[ -n "$st" ] && [ "$st" != Z ]
}

# _wait_gone PID SECS: 0 once PID has exited.
_wait_gone()
{
	local n
	n=0
	while pid_alive "$1" && [ $n -lt $(($2 * 10)) ]; do
		sleep 0.1
		n=$((n + 1))
	done
	! pid_alive "$1"
}

# stop_guisvr: SIGTERM, wait (bounded 15 s); for a foreground job also check
# its exit status is 0.
stop_guisvr()
{
	local pid st
	pid=$_daemon_pid
	[ -n "$pid" ] || fail "stop_guisvr: no daemon for $INST"
	kill -TERM "$pid" 2>/dev/null || fail "guisvr ($INST, pid $pid) was not running"
	_wait_gone "$pid" 15 || { kill -9 "$pid"; fail "guisvr ($INST) ignored SIGTERM for 15 s"; }
	st=0
	wait "$pid" 2>/dev/null || st=$?
	# 127: not our child (daemon mode); then there is no status to check
	if [ "$st" -ne 0 ] && [ "$st" -ne 127 ]; then
		fail "guisvr ($INST) exited with status $st after SIGTERM"
	fi
	rm -f "$T/$INST.daemon"
	_daemon_pid=
}

# kill9_guisvr: SIGKILL the current instance and reap it.
kill9_guisvr()
{
	local pid
	pid=$_daemon_pid
	[ -n "$pid" ] || fail "kill9_guisvr: no daemon for $INST"
	kill -9 "$pid" 2>/dev/null || true
	_wait_gone "$pid" 30 || fail "guisvr ($INST) survived SIGKILL for 30 s"
	wait "$pid" 2>/dev/null || true
	rm -f "$T/$INST.daemon"
	_daemon_pid=
}

# ---- assertions -----------------------------------------------------------

# assert_eq EXPECTED ACTUAL WHAT
assert_eq()
{
	[ "$1" = "$2" ] || fail "$3: expected '$1', got '$2'"
}

# run CMD...: runs CMD, output in $T/out and $T/err, status in $RC; never fails.
RC=0
run()
{
	RC=0
	"$@" >"$T/out" 2>"$T/err" || RC=$?
}

# expect_rc CODE CMD...: CMD must exit with CODE (output in $T/out, $T/err).
expect_rc()
{
	local want
	want=$1
	shift
	run "$@"
	if [ "$RC" -ne "$want" ]; then
		echo "---- stdout:" >&2; cat "$T/out" >&2
		echo "---- stderr:" >&2; cat "$T/err" >&2
		fail "'$*' exited $RC, expected $want"
	fi
}

# expect_out EXPECTED CMD...: CMD exits 0 and prints exactly EXPECTED
# (use a here-document variable with newlines for several lines).
expect_out()
{
	local want
	want=$1
	shift
	expect_rc 0 "$@"
	printf '%s\n' "$want" >"$T/want"
	if ! cmp -s "$T/want" "$T/out"; then
		diff -u "$T/want" "$T/out" >&2 || true
		fail "unexpected output from '$*'"
	fi
}

# assert_grep PATTERN FILE [WHAT]: extended regexp PATTERN occurs in FILE.
assert_grep()
{
	grep -Eq -- "$1" "$2" || {
		echo "---- $2:" >&2
		tail -n 20 "$2" >&2
		fail "${3:-$2 does not match /$1/}"
	}
}

assert_no_grep()
{
	! grep -Eq -- "$1" "$2" || fail "${3:-$2 matches /$1/}"
}

# poll_until SECS CMD [ARG...]: runs CMD (quietly) every 0.1 s until it
# succeeds (0) or SECS seconds have passed (1).
poll_until()
{
	local lim n
	lim=$(($1 * 10))
	shift
	n=0
	until "$@" >/dev/null 2>&1; do
		n=$((n + 1))
		[ $n -lt $lim ] || return 1
		sleep 0.1
	done
	return 0
}

# wait_until SECS WHAT CMD [ARG...]: poll_until, and fail with
# "WHAT (waited SECS s)" when CMD never succeeded.
wait_until()
{
	local secs what
	secs=$1
	what=$2
	shift 2
	poll_until "$secs" "$@" || fail "$what (waited $secs s)"
}

# wait_for_log PATTERN [SECS [FILE]]: until FILE (default the current
# guisvr log) has a line matching PATTERN (bounded).
wait_for_log()
{
	local n lim f
	n=0
	lim=$((${2:-10} * 10))
	f=${3:-$LOG}
	while [ $n -lt $lim ]; do
		grep -Eq -- "$1" "$f" 2>/dev/null && return 0
		sleep 0.1
		n=$((n + 1))
	done
	fail "log $f has no line matching /$1/ after ${2:-10} s"
}

# kept_aside_ids DIR OUT: the record ids of a database copy a node kept
# aside (var/xdb/diverged-*, resync-*), one a line, into OUT. Recovered on
# a scratch copy ($T/scratch, removed after): DIR stays as it was. 1 (OUT
# empty) when DIR holds no records.db.
kept_aside_ids()
{
	local home db
	rm -rf "$T/scratch"
	cp -r "$1" "$T/scratch"
	home=$T/scratch
	[ -d "$home/data" ] && home=$home/data
	db=$(find "$T/scratch" -name records.db | head -n 1)
	if [ -z "$db" ]; then
		rm -rf "$T/scratch"
		: >"$2"
		return 1
	fi
	if command -v db5.3_recover >/dev/null 2>&1; then
		db5.3_recover -h "$home" >/dev/null 2>&1 || true
	fi
	db5.3_dump -p -h "$home" "$db" 2>/dev/null |
	    awk '/^HEADER=END/ { d = 1; k = 0; next } /^DATA=END/ { d = 0 }
		d { if (k == 0) { sub(/^ /, ""); print } k = 1 - k }' >"$2" || true
	rm -rf "$T/scratch"
}

# digest: SHA-256 of the current instance's records (xdb dump without its
# comment lines), stable across dump/load and restarts.
digest()
{
	xdb dump >"$T/digest.dump" || fail "xdb dump failed"
	grep -v '^#' "$T/digest.dump" | sha256sum | cut -d' ' -f1
}

# assert_alive [WHAT]: the daemon still runs and answers status.
assert_alive()
{
	pid_alive "$_daemon_pid" || fail "guisvr ($INST) died${1:+ after $1}"
	xdb status >/dev/null 2>"$T/err" || fail "xdb status fails${1:+ after $1}: $(cat "$T/err")"
}

# ---- replication: 2–3 guisvr nodes on 127.0.0.x ----------------------------
#
#     ha_init                        # key and ports for this test
#     ha_node a 127.0.0.1            # instance a: haSvr.cfg + guiSvr.cfg
#     start_guisvr
#     set_role primary 1
#     ha_node b 127.0.0.2; start_guisvr; set_role secondary 1
#     wait_state '^startupDone 1$' 30
#     wait_converged a b 30
#     on a xdb count                 # any command with another instance selected
# Every node binds HA_RPORT on its own address. The haSvr.cfg written by
# ha_node comes from HA_PRIMARY, HA_SECONDARY, HA_REPLICAS, HA_DURABILITY,
# HA_ACKTIMEOUT, HA_KEY, plus one line per element of HA_EXTRA (newline
# separated); extra guiSvr.cfg lines are ha_node's further arguments.

HA_PRIMARY=127.0.0.1
HA_SECONDARY=127.0.0.2
HA_REPLICAS=
HA_DURABILITY=async
HA_ACKTIMEOUT=500ms
HA_KEY=
HA_EXTRA=
HA_RPORT=
HA_HPORT=

# ha_init: the shared HMAC key and the two ports of this test (free on every
# 127.0.0.x: the probe ignores the address).
ha_init()
{
	[ -x "$HALINKCTL" ] || fail "$HALINKCTL not built"
	HA_KEY="hasvr-rep-test-$$-$(date +%s)-0123456789abcdef"
	HA_RPORT=$(pick_port)
	HA_HPORT=$(pick_port)
}

# write_hacfg [FILE]: haSvr.cfg (mode 0600) for the current instance at $ADDR.
write_hacfg()
{
	local f
	f=${1:-$HACFG}
	(
		umask 077
		cat >"$f" <<-EOF
		# haSvr.cfg for test $TEST_NAME, instance $INST
		highAvail.isHaEnabled y
		highAvail.myAddr $ADDR
		highAvail.primaryAddr $HA_PRIMARY
		highAvail.secondaryAddr $HA_SECONDARY
		highAvail.replicationPort $HA_RPORT
		highAvail.heartbeatPort $HA_HPORT
		highAvail.HMACKey $HA_KEY
		highAvail.durability $HA_DURABILITY
		highAvail.ackTimeout $HA_ACKTIMEOUT
		EOF
		[ -z "$HA_REPLICAS" ] || printf 'highAvail.replicaAddrs %s\n' "$HA_REPLICAS" >>"$f"
		[ -z "$HA_EXTRA" ] || printf '%s\n' "$HA_EXTRA" >>"$f"
	)
	chmod 600 "$f"
}

# ha_node NAME ADDR [guiSvr.cfg LINE...]: select instance NAME, a node at
# ADDR; writes its haSvr.cfg and its guiSvr.cfg (pointing at it).
ha_node()
{
	local name addr
	name=$1
	addr=$2
	shift 2
	instance "$name"
	echo "$addr" >"$T/$name/addr"
	ADDR=$addr
	write_cfg "guiSvr.haConfig $HACFG" "$@"
	write_hacfg
}

# on NAME CMD...: run CMD with instance NAME selected, then select the
# previous instance again (CMD's status is returned).
on()
{
	local prev st
	prev=$INST
	instance "$1"
	shift
	st=0
	"$@" || st=$?
	instance "$prev"
	return $st
}

# The ha-link tool against the current instance.
halinkctl()
{
	"$HALINKCTL" -f "$CFG" "$@"
}

# set_role primary|secondary [EPOCH]: hasvr's role order, must be accepted.
set_role()
{
	halinkctl role "$1" -e "${2:-1}" >"$T/role.out" 2>&1 ||
	    fail "role $1 refused by $INST: $(cat "$T/role.out")"
}

# ha_state: the current instance's `halinkctl state` (also in $T/state).
ha_state()
{
	halinkctl state >"$T/state" 2>&1 || fail "halinkctl state ($INST): $(cat "$T/state")"
	cat "$T/state"
}

# state_value KEY: the value of the "KEY value" line of the state.
state_value()
{
	ha_state | awk -v k="$1" '$1 == k { print $2; exit }'
}

# peer_value ADDR FIELD: FIELD (lsn, acked, behindBytes, behindCommits) of
# the state's "peer EID ADDR …" line; "connected"/"down" for FIELD link and
# "in-sync"/"dirty" for FIELD sync.
peer_value()
{
	ha_state | awk -v a="$1" -v f="$2" '
	    $1 == "peer" && $3 == a {
		if (f == "link") { print $4; exit }
		if (f == "sync") { print $NF; exit }
		for (i = 5; i < NF; i++) if ($i == f) { print $(i + 1); exit }
	    }'
}

# wait_state ERE [SECS]: until a line of the current instance's state matches.
wait_state()
{
	local n lim
	n=0
	lim=$((${2:-10} * 10))
	while [ $n -lt $lim ]; do
		if halinkctl state >"$T/state" 2>&1 && grep -Eq -- "$1" "$T/state"; then
			return 0
		fi
		sleep 0.1
		n=$((n + 1))
	done
	echo "---- halinkctl state ($INST):" >&2
	cat "$T/state" >&2
	fail "state of $INST has no line matching /$1/ after ${2:-10} s"
}

# wait_count N [SECS]: until the current instance holds N records.
wait_count()
{
	local n lim c
	n=0
	lim=$((${2:-10} * 10))
	c=
	while [ $n -lt $lim ]; do
		c=$(xdb count 2>/dev/null || true)
		[ "$c" = "$1" ] && return 0
		sleep 0.1
		n=$((n + 1))
	done
	fail "$INST holds '$c' records, not $1, after ${2:-10} s"
}

# wait_converged A B [SECS]: until instances A and B have the same records
# (digests equal; bounded); prints the digest.
wait_converged()
{
	local n lim da db
	n=0
	lim=${3:-20}
	da= db=
	while [ $n -lt "$lim" ]; do
		da=$(on "$1" digest)
		db=$(on "$2" digest)
		if [ "$da" = "$db" ]; then
			echo "$da"
			return 0
		fi
		sleep 1
		n=$((n + 1))
	done
	on "$1" xdb count >&2 || true
	on "$2" xdb count >&2 || true
	fail "$1 and $2 differ after ${3:-20} s (digests $da / $db)"
}

# log_of NAME: the guisvr log file of instance NAME.
log_of()
{
	echo "$T/$1/var/errorLog/guiDaemon.0"
}

# ---- hasvr: the HA daemon supervising guisvr ---------------------------------
#
#     ha_init
#     hasvr_node a 127.0.0.1; start_hasvr
#     hasvr_node b 127.0.0.2; start_hasvr
#     on a wait_role PRIMARY 20; on b wait_role SECONDARY 20
#     on a hastatus              # haStatus against instance a
#     on a hactl switchover      # haCtl against instance a
# hasvr_node adds to ha_node's haSvr.cfg: varDir, guiSvrConfig,
# guiSvrProgram (the build tree's guisvr), fileSync $HA_FILESYNC (default
# n) and HA_HB_EXTRA lines.
HA_HB_EXTRA=

hasvr_node()
{
	local extra
	extra=$HA_EXTRA
	HA_EXTRA="highAvail.varDir $T/$1/var
highAvail.guiSvrConfig $T/$1/guiSvr.cfg
highAvail.guiSvrProgram $GUISVR
highAvail.startWait 2s
highAvail.fileSync ${HA_FILESYNC:-n}${HA_HB_EXTRA:+
$HA_HB_EXTRA}${extra:+
$extra}"
	ha_node "$@"
	HA_EXTRA=$extra
}

# start_hasvr: hasvr -d for the current instance (output in hasvr.out), its
# PID in $T/$INST.hasvr; waits until its control socket answers.
start_hasvr()
{
	local n pid st
	[ -x "$HASVR" ] || fail "$HASVR not built"
	"$HASVR" -d -f "$HACFG" >>"$T/$INST/hasvr.out" 2>&1 &
	pid=$!
	echo "$pid" >"$T/$INST.hasvr"
	n=0
	while [ $n -lt 100 ]; do
		pid_alive "$pid" || fail "hasvr ($INST) exited during start-up: $(tail -n 5 "$T/$INST/hasvr.out")"
		st=0
		"$HASTATUS" -s "$VAR/run/haSvr.sock" --json >/dev/null 2>&1 || st=$?
		[ $st -ne 3 ] && return 0
		sleep 0.1
		n=$((n + 1))
	done
	fail "hasvr ($INST) control socket not answering after 10 s"
}

hasvr_pid()
{
	cat "$T/$INST.hasvr" 2>/dev/null
}

# stop_hasvr: SIGTERM; hasvr must stop its guisvr and exit 0 (bounded).
stop_hasvr()
{
	local pid st gpid
	pid=$(hasvr_pid)
	[ -n "$pid" ] || fail "stop_hasvr: no hasvr for $INST"
	gpid=$(cat "$PIDFILE" 2>/dev/null || true)
	kill -TERM "$pid" 2>/dev/null || fail "hasvr ($INST, pid $pid) was not running"
	_wait_gone "$pid" 20 || { kill -9 "$pid"; fail "hasvr ($INST) ignored SIGTERM for 20 s"; }
	st=0
	wait "$pid" 2>/dev/null || st=$?
	[ "$st" -eq 0 ] || [ "$st" -eq 127 ] || fail "hasvr ($INST) exited with status $st after SIGTERM"
	if [ -n "$gpid" ] && pid_alive "$gpid"; then
		fail "guisvr ($INST, pid $gpid) still runs after hasvr stopped"
	fi
	rm -f "$T/$INST.hasvr"
}

# kill9_node: SIGKILL hasvr and its guisvr at once (a dead machine).
kill9_node()
{
	local pid gpid
	pid=$(hasvr_pid)
	gpid=$(cat "$PIDFILE" 2>/dev/null || true)
	kill -9 $pid $gpid 2>/dev/null || true
	_wait_gone "$pid" 30 || fail "hasvr ($INST) survived SIGKILL"
	[ -z "$gpid" ] || _wait_gone "$gpid" 30 || fail "guisvr ($INST) survived SIGKILL"
	wait "$pid" 2>/dev/null || true
	rm -f "$T/$INST.hasvr"
}

hastatus()
{
	"$HASTATUS" -s "$VAR/run/haSvr.sock" "$@"
}

hactl()
{
	"$HACTL" -s "$VAR/run/haSvr.sock" "$@"
}

# jget FILTER: a value of the current instance's status JSON (jq filter,
# raw output); the JSON is kept in $T/status.json.
jget()
{
	hastatus --json >"$T/status.json" 2>"$T/status.err" || true
	jq -r "$1" "$T/status.json" 2>/dev/null
}

# role_of: the current instance's role (STARTING, SECONDARY, PRIMARY).
role_of()
{
	jget .node.role
}

# wait_role ROLE [SECS]
wait_role()
{
	local n lim r
	n=0
	lim=$((${2:-20} * 10))
	r=
	while [ $n -lt $lim ]; do
		r=$(role_of)
		[ "$r" = "$1" ] && return 0
		sleep 0.1
		n=$((n + 1))
	done
	hastatus >&2 || true
	fail "$INST is '$r', not $1, after ${2:-20} s"
}

# hlog: the current instance's ha.log
hlog()
{
	echo "$VAR/errorLog/ha.log"
}
