#!/bin/sh
# bench_rep.sh — `make bench`, after bench.sh: hasvr's replication against
# Berkeley DB 5.3's own Replication Manager and against local-only Berkeley
# DB, on this machine, loopback, 100-byte records:
#   ours       two guisvr nodes (127.0.0.1 primary, 127.0.0.2 secondary, roles
#              given with halinkctl), in three modes (below), measured twice:
#              in-process  `bench_commit engine`: the primary is the bench
#                         process itself (guisvr's store and replication
#                         code, writers as threads, as bench_repmgr runs the
#                         Replication Manager's master), the secondary a
#                         guisvr process; 1 and 8 writer threads. These
#                         are the numbers the targets compare.
#              via clients `bench_commit client`: 1 and 8 connections to
#                         a guisvr primary (adds guisvr's client protocol
#                         and a second process; for context).
#              The modes:
#                async  (durability async, both txnSync sync)
#                sync   (durability sync, both txnSync sync: durable on both)
#                sync-2nd (durability sync, primary txnSync nosync: durable
#                       on the secondary only)
#   raw        bench_commit raw: local Berkeley DB, fsync per commit
#   standalone one guisvr without replication (bench_commit client), for
#              context: what replication costs beyond guisvr's own path
#   repmgr     bench_repmgr: the Replication Manager, ACKS_ALL and ACKS_NONE,
#              stock and with LD_PRELOAD=nodelay.so (TCP_NODELAY)
#   init       a fresh secondary catching up a 100k-record primary (xdbgen)
#              until `halinkctl state` says startupDone 1 and it holds every
#              record, beside bench_repmgr init with the same records
#   lag        the primary's behindBytes/behindCommits for the secondary,
#              sampled every 0.1 s during an 8-writer async run
# After each mode the secondary must hold every record written (else our
# side is n/a).
# Prints a table (medians of BENCH_RUNS runs where cheap; the stock
# Replication Manager with acks, at ~25 commits/s, runs once, briefly), then:
#   target sync_vs_repmgr_nodelay_1 <ratio> >=1.0 PASS|MISS
#   target sync_vs_repmgr_nodelay_8 <ratio> >=2.5 PASS|MISS
#   target async_vs_local <ratio> >=0.9 PASS|MISS      (8 writers vs raw 8)
# (sync and async: in-process engine against the in-process references; the
# value is the median of the per-run ratios, each of our runs paired with
# the reference run measured just before it)
#   target init_100k_vs_repmgr <ratio> <=1.0 PASS|MISS (seconds: lower is better)
# If guisvr replication does not work here, our side prints n/a and MISS; the
# reference parts still run. Builds nothing; needs guisvr, xdb, xdbgen,
# halinkctl, tests/bench/bench_commit, bench_repmgr and nodelay.so in
# $top_builddir. About 3-5 minutes. Knobs: BENCH_RUNS (5), BENCH_N1 (commits
# with 1 writer, 3000), BENCH_N8 (with 8, 15000), BENCH_RECORDS (100000),
# BENCH_NSTOCK (commits of the stock Replication Manager with acks, at about
# 25/s: 200 with 1 writer, ten times that with 8).
set -eu

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$(pwd)}"
GUISVR=$top_builddir/guisvr/guisvr
XDB=$top_builddir/utils/xdb
XDBGEN=$top_builddir/utils/xdbgen
HALINKCTL=$top_builddir/utils/halinkctl
BENCH=$top_builddir/tests/bench/bench_commit
REPMGR=$top_builddir/tests/bench/bench_repmgr
NODELAY=$top_builddir/tests/bench/nodelay.so
# an AddressSanitizer build refuses an LD_PRELOAD ahead of its runtime
PRELOAD_ASAN="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
RUNS=${BENCH_RUNS:-5}
N1=${BENCH_N1:-3000}
N8=${BENCH_N8:-15000}
RECORDS=${BENCH_RECORDS:-100000}
NSTOCK=${BENCH_NSTOCK:-200}
SIZE=100
CACHE=32M
PRIMARY=127.0.0.1
SECONDARY=127.0.0.2

for b in "$GUISVR" "$XDB" "$XDBGEN" "$BENCH" "$REPMGR" "$NODELAY"; do
	[ -e "$b" ] || { echo "bench_rep: $b not built (run make bench)" >&2; exit 1; }
done
OURS=1
if [ ! -x "$HALINKCTL" ]; then
	echo "bench_rep: $HALINKCTL not built: our side is reported n/a" >&2
	OURS=0
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/hasvr-bench-rep.XXXXXX")
PIDS=
cleanup()
{
	rc=$?
	trap - EXIT INT TERM HUP PIPE
	for p in $PIDS; do
		kill -9 "$p" 2>/dev/null || true
	done
	if [ "$rc" -eq 0 ]; then
		rm -rf "$T"
	else
		echo "bench_rep: failed (exit $rc); files kept in $T" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

if grep -q __asan_init "$GUISVR" 2>/dev/null; then
	echo "note: this build uses AddressSanitizer; rates are not representative" \
	    "(configure without --enable-asan for real numbers)"
fi

# ---- helpers ----------------------------------------------------------------

rate()
{
	echo "$1" | sed -n 's/.* rate=\([0-9.]*\).*/\1/p'
}

# median of the numbers on stdin ("n/a" when none)
median()
{
	sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio()
{
	awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-") print "-"; else if (a == "n/a" || b == "n/a" || a == "" || b == "") print "n/a"; else if (b > 0) printf "%.2f\n", a / b; else print "inf" }'
}

now()
{
	date +%s.%N
}

secs_since()
{
	awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f\n", b - a }'
}

port_free()
{
	hex=$(printf '%04X' "$1")
	! cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '{print $2}' | grep -q ":$hex\$"
}

# below the ephemeral port range (32768-60999), as tests/integ/lib.sh
_port=$((20000 + ($$ * 41) % 12700))
pick_port()
{
	n=0
	while [ $n -lt 200 ]; do
		p=$_port
		_port=$((_port + 1))
		[ $_port -lt 32700 ] || _port=20000
		if port_free "$p"; then
			echo "$p"
			return 0
		fi
		n=$((n + 1))
	done
	echo "bench_rep: no free TCP port" >&2
	exit 1
}

RPORT=$(pick_port)
_port=$((_port + 1))
HPORT=$(pick_port)
_port=$((_port + 1))

# rm_port: sets RMP to a port P with P and P+1 free (bench_repmgr's master
# and client), never the same twice (in this shell, not a subshell).
RMP=
rm_port()
{
	n=0
	while [ $n -lt 200 ]; do
		RMP=$_port
		_port=$((_port + 2))
		[ $_port -lt 32700 ] || _port=20000
		port_free "$RMP" && port_free $((RMP + 1)) && return 0
		n=$((n + 1))
	done
	echo "bench_rep: no free TCP port pair" >&2
	exit 1
}
KEY="hasvr-bench-rep-$$-0123456789abcdef"

# node NAME ADDR TXNSYNC DURABILITY [guiSvr.cfg LINE...]: write the configs of
# node NAME; sets D, CFG, SOCK.
node()
{
	D=$T/$1
	mkdir -p "$D/var"
	CFG=$D/guiSvr.cfg
	SOCK=$D/var/run/guiSvr.sock
	(umask 077
	cat >"$CFG" <<-EOF
	guiSvr.varDir $D/var
	guiSvr.clientSocket $SOCK
	guiSvr.txnSync $3
	guiSvr.cacheSize $CACHE
	guiSvr.workerThreads 8
	guiSvr.checkpointInterval 30s
	guiSvr.haConfig $D/haSvr.cfg
	EOF
	cat >"$D/haSvr.cfg" <<-EOF
	highAvail.isHaEnabled y
	highAvail.myAddr $2
	highAvail.primaryAddr $PRIMARY
	highAvail.secondaryAddr $SECONDARY
	highAvail.replicationPort $RPORT
	highAvail.heartbeatPort $HPORT
	highAvail.HMACKey $KEY
	highAvail.durability $4
	highAvail.ackTimeout 2s
	EOF
	)
	shift 4
	for l in "$@"; do
		printf '%s\n' "$l" >>"$CFG"
	done
}

# start NAME [ROLE]: start node NAME (configured by node) and give it ROLE;
# 0, or 1 (with a message) if it does not come up. Sets PID_<NAME>.
start()
{
	d=$T/$1
	"$GUISVR" -f "$d/guiSvr.cfg" -d >"$d/guisvr.out" 2>&1 &
	pid=$!
	PIDS="$PIDS $pid"
	eval "PID_$1=$pid"
	n=0
	until "$XDB" -f "$d/guiSvr.cfg" status >/dev/null 2>&1; do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "  guisvr $1 exited: $(tail -n 2 "$d/guisvr.out")" >&2
			return 1
		fi
		n=$((n + 1))
		[ $n -lt 150 ] || { echo "  guisvr $1 not ready after 15 s" >&2; return 1; }
		sleep 0.1
	done
	[ -n "${2:-}" ] || return 0
	"$HALINKCTL" -f "$d/guiSvr.cfg" role "$2" -e 1 >"$d/role.out" 2>&1 || {
		echo "  halinkctl role $2 on $1: $(cat "$d/role.out")" >&2
		return 1
	}
}

stop()
{
	eval "pid=\${PID_$1:-}"
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	n=0
	while kill -0 "$pid" 2>/dev/null && [ $n -lt 150 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	eval "PID_$1="
}

state()
{
	"$HALINKCTL" -f "$T/$1/guiSvr.cfg" state 2>/dev/null
}

# wait_line NAME ERE SECS: until NAME's state has a matching line.
wait_line()
{
	n=0
	while [ $n -lt $(($3 * 20)) ]; do
		state "$1" | grep -Eq -- "$2" && return 0
		sleep 0.05
		n=$((n + 1))
	done
	echo "  $1: no state line /$2/ after $3 s" >&2
	return 1
}

# pair NAME TXNSYNC_PRIMARY DURABILITY: primary NAME_p and secondary NAME_s,
# in sync; sets PSOCK. 0 or 1.
pair()
{
	node "$1_p" $PRIMARY "$2" "$3"
	PSOCK=$SOCK
	node "$1_s" $SECONDARY sync "$3"
	start "$1_p" primary || return 1
	start "$1_s" secondary || return 1
	wait_line "$1_s" '^startupDone 1$' 30 || return 1
	wait_line "$1_p" "^peer [0-9]+ $SECONDARY connected .* in-sync\$" 30 || return 1
}

unpair()
{
	stop "$1_s"
	stop "$1_p"
	rm -rf "$T/$1_p" "$T/$1_s"
}

# ---- reference: raw local Berkeley DB -----------------------------------------

# The references a target compares with are measured right before each of
# our runs it is compared to (raw before each async run, the Replication
# Manager with acks and TCP_NODELAY before each sync run), so that both
# sides of a ratio see the same state of the machine's disk, whose speed
# drifts by 20% and more within minutes. They are measured on their own
# only if our side does not work.
echo "bench_rep: $RUNS runs; $N1 commits with 1 writer, $N8 with 8; $SIZE-byte records"
: >"$T/raw1"
: >"$T/raw8"
# raw_run THREADS COMMITS: local Berkeley DB, fsync per commit, with
# guisvr's DB_CONFIG (lock table, log buffer and file size)
raw_run()
{
	rm -rf "$T/raw"
	mkdir -p "$T/raw"
	cp "$top_srcdir/var/xdb/data/DB_CONFIG" "$T/raw/"
	l=$("$BENCH" raw -d "$T/raw" -t "$1" -n "$2" -s $SIZE -c $CACHE)
	echo "  $l"
	rate "$l" >>"$T/raw$1"
	rm -rf "$T/raw"
}

# ---- reference: the Replication Manager ----------------------------------------

echo "reference: Berkeley DB Replication Manager (2 sites, loopback, fsync both sides)"
# repmgr ACKS NODELAY(0|1) THREADS COMMITS OUTFILE
repmgr()
{
	rm_port
	if [ "$2" -eq 1 ]; then
		l=$(ASAN_OPTIONS=$PRELOAD_ASAN LD_PRELOAD=$NODELAY "$REPMGR" commit -a "$1" -t "$3" -n "$4" -s $SIZE \
		    -p "$RMP" -d "$T" -c $CACHE -w 60) || return 1
	else
		l=$("$REPMGR" commit -a "$1" -t "$3" -n "$4" -s $SIZE -p "$RMP" \
		    -d "$T" -c $CACHE -w 60) || return 1
	fi
	echo "  $l"
	case "$l" in
	*" permfail=0 "*) ;;
	*) echo "  (acks timed out during that run: the rate is not comparable)" ;;
	esac
	rate "$l" >>"$5"
}
for f in all_s1 all_s8 all_n1 all_n8 none_s1 none_s8 none_n1 none_n8; do : >"$T/rm_$f"; done
# stock with acks: ~25 commits/s (Nagle + delayed ACKs), so one short run
repmgr all 0 1 "$NSTOCK" "$T/rm_all_s1" || echo "  repmgr failed" >&2
repmgr all 0 8 $((NSTOCK * 10)) "$T/rm_all_s8" || echo "  repmgr failed" >&2
repmgr none 0 1 "$N1" "$T/rm_none_s1" || echo "  repmgr failed" >&2
repmgr none 0 8 "$N8" "$T/rm_none_s8" || echo "  repmgr failed" >&2
repmgr none 1 1 "$N1" "$T/rm_none_n1" || echo "  repmgr failed" >&2
repmgr none 1 8 "$N8" "$T/rm_none_n8" || echo "  repmgr failed" >&2

echo "reference: Replication Manager, a fresh client joining a $RECORDS-record master"
"$XDBGEN" -n "$RECORDS" -s 1 -o "$T/gen.txt"
: >"$T/rm_init"
r=1
while [ $r -le "$RUNS" ]; do
	rm_port
	if l=$(ASAN_OPTIONS=$PRELOAD_ASAN LD_PRELOAD=$NODELAY "$REPMGR" init -i "$T/gen.txt" -p "$RMP" -d "$T" \
	    -c $CACHE -w 120); then
		echo "  $l"
		echo "$l" | sed -n 's/.* secs=\([0-9.]*\).*/\1/p' >>"$T/rm_init"
	else
		echo "  repmgr init failed" >&2
	fi
	r=$((r + 1))
done
rm_init=$(median <"$T/rm_init")

echo "reference: one guisvr, replication off (no haSvr.cfg)"
: >"$T/alone1"
: >"$T/alone8"
node alone $PRIMARY sync async
sed -i '/^guiSvr.haConfig /d' "$T/alone/guiSvr.cfg"
if start alone; then
	r=1
	while [ $r -le "$RUNS" ]; do
		for th in 1 8; do
			[ "$th" -eq 1 ] && cnt=$N1 || cnt=$N8
			l=$("$BENCH" client -S "$SOCK" -t "$th" -n "$cnt" -s $SIZE -p "alone$r-$th") || break
			echo "  $l"
			rate "$l" >>"$T/alone$th"
		done
		r=$((r + 1))
	done
fi
stop alone
rm -rf "$T/alone"
alone1=$(median <"$T/alone1")
alone8=$(median <"$T/alone8")

# ---- ours ----------------------------------------------------------------------

ours_fail()
{
	echo "  hasvr replication: $*; our side is reported n/a" >&2
	OURS=0
}

# converge NAME COUNT WHY: until node NAME holds COUNT records (30 s at
# most; then our side is n/a, for WHY).
converge()
{
	n=0
	until [ "$("$XDB" -f "$T/$1/guiSvr.cfg" count 2>/dev/null || echo y)" = "$2" ]; do
		n=$((n + 1))
		[ $n -lt 300 ] || { ours_fail "$3"; return 0; }
		sleep 0.1
	done
}

# engine_rates MODE: the MODE pair's primary guisvr stopped, its environment
# is used by `bench_commit engine` (this bench's process as the primary)
# with the secondary still running; rates into $T/<MODE>_e<THREADS>.
engine_rates()
{
	stop "$1_p"
	c0=$("$XDB" -f "$T/$1_s/guiSvr.cfg" count 2>/dev/null || echo x)
	want=0
	r=1
	while [ $r -le "$RUNS" ]; do
		for th in 1 8; do
			[ "$th" -eq 1 ] && cnt=$N1 || cnt=$N8
			ref=
			case $1 in
			async)
				raw_run "$th" "$cnt"
				ref=$(tail -n 1 "$T/raw$th") ;;
			sync)
				n0=$(wc -l <"$T/rm_all_n$th")
				repmgr all 1 "$th" "$cnt" "$T/rm_all_n$th" ||
				    echo "  repmgr failed" >&2
				[ "$(wc -l <"$T/rm_all_n$th")" -eq "$n0" ] ||
				    ref=$(tail -n 1 "$T/rm_all_n$th") ;;
			esac
			if ! l=$("$BENCH" engine -f "$T/$1_p/guiSvr.cfg" -t "$th" -n "$cnt" -s $SIZE \
			    -p "e$1$r-$th" 2>"$T/engine.err"); then
				ours_fail "bench_commit engine ($1) failed: $(tail -n 3 "$T/engine.err")"
				return 0
			fi
			echo "  $l"
			case "$l" in
			*" insync=1"*) ;;
			*) echo "  (the secondary was not in sync after that run: not comparable)" ;;
			esac
			rate "$l" >>"$T/$1_e$th"
			# ours and the reference measured just before it
			[ -z "$ref" ] || echo "$(rate "$l") $ref" >>"$T/pairs_$1_$th"
			want=$((want + cnt))
		done
		r=$((r + 1))
	done
	# every in-process commit reached the secondary
	[ "$c0" != x ] && want=$((c0 + want)) || want=x
	converge "$1_s" "$want" "the $1 secondary lacks records of the in-process runs"
}

# ours_rates MODE TXNSYNC_PRIMARY DURABILITY: medians into <MODE>1, <MODE>8
# (via clients) and <MODE>_e1, <MODE>_e8 (in-process).
ours_rates()
{
	: >"$T/$1_1"
	: >"$T/$1_8"
	: >"$T/$1_e1"
	: >"$T/$1_e8"
	[ "$OURS" -eq 1 ] || return 0
	echo "hasvr: $1 (durability $3, primary txnSync $2, secondary txnSync sync)"
	if ! pair "$1" "$2" "$3"; then
		ours_fail "the $1 pair did not come up"
		unpair "$1"
		return 0
	fi
	r=1
	while [ $r -le "$RUNS" ]; do
		for th in 1 8; do
			[ "$th" -eq 1 ] && cnt=$N1 || cnt=$N8
			if ! l=$("$BENCH" client -S "$PSOCK" -t "$th" -n "$cnt" -s $SIZE -p "$1$r-$th"); then
				ours_fail "bench_commit against the $1 primary failed"
				break 2
			fi
			echo "  $l"
			rate "$l" >>"$T/$1_$th"
		done
		r=$((r + 1))
	done
	if [ "$OURS" -eq 1 ] && [ "$1" = async ]; then
		lag_run
	fi
	if [ "$OURS" -eq 1 ]; then
		# the secondary really got it all
		c1=$("$XDB" -f "$T/$1_p/guiSvr.cfg" count 2>/dev/null || echo x)
		converge "$1_s" "$c1" "the $1 secondary did not converge"
	fi
	if [ "$OURS" -eq 1 ]; then
		echo "hasvr: $1, in-process primary (bench_commit engine)"
		engine_rates "$1"
	fi
	unpair "$1"
}

# lag_run: an 8-writer async run on the async pair, sampling the primary's
# state for the secondary every 0.1 s.
LAGB_MAX=n/a LAGB_MED=n/a LAGC_MAX=n/a LAGC_MED=n/a
lag_run()
{
	: >"$T/lag"
	# start from a secondary that has caught up with the runs before
	wait_line async_p "^peer [0-9]+ $SECONDARY connected .* behindBytes 0 behindCommits 0 " 60 ||
	    echo "  (the secondary had not caught up before the lag run)"
	"$BENCH" client -S "$PSOCK" -t 8 -n $((N8 * 2)) -s $SIZE -p lag >"$T/lag.out" 2>&1 &
	bp=$!
	PIDS="$PIDS $bp"
	n=0
	while kill -0 "$bp" 2>/dev/null && [ $n -lt 1200 ]; do
		state async_p | awk -v a=$SECONDARY '$1 == "peer" && $3 == a {
		    for (i = 5; i < NF; i++) {
			if ($i == "behindBytes") b = $(i + 1)
			if ($i == "behindCommits") c = $(i + 1)
		    }
		    print b, c }' >>"$T/lag"
		sleep 0.1
		n=$((n + 1))
	done
	wait "$bp" || { ours_fail "the lag run failed: $(cat "$T/lag.out")"; return 0; }
	echo "  lag run: $(cat "$T/lag.out"); $(wc -l <"$T/lag" | tr -d ' ') samples"
	LAGB_MAX=$(awk '{ print $1 }' "$T/lag" | sort -n | tail -n 1)
	LAGB_MED=$(awk '{ print $1 }' "$T/lag" | median)
	LAGC_MAX=$(awk '{ print $2 }' "$T/lag" | sort -n | tail -n 1)
	LAGC_MED=$(awk '{ print $2 }' "$T/lag" | median)
	: "${LAGB_MAX:=n/a}" "${LAGC_MAX:=n/a}"
}

ours_rates async sync async
ours_rates sync sync sync
ours_rates sync2nd nosync sync
async1=$(median <"$T/async_1"); async8=$(median <"$T/async_8")
sync1=$(median <"$T/sync_1"); sync8=$(median <"$T/sync_8")
sync2nd1=$(median <"$T/sync2nd_1"); sync2nd8=$(median <"$T/sync2nd_8")
# the references on their own when our side did not measure them in pairs
r=$(wc -l <"$T/raw8")
[ "$r" -gt 0 ] || echo "reference: raw local Berkeley DB (fsync per commit)"
while [ "$r" -lt "$RUNS" ]; do
	raw_run 1 "$N1"
	raw_run 8 "$N8"
	r=$((r + 1))
done
r=$(wc -l <"$T/rm_all_n8")
[ "$r" -gt 0 ] || echo "reference: Replication Manager, acks, TCP_NODELAY"
while [ "$r" -lt "$RUNS" ]; do
	repmgr all 1 1 "$N1" "$T/rm_all_n1" || echo "  repmgr failed" >&2
	repmgr all 1 8 "$N8" "$T/rm_all_n8" || { echo "  repmgr failed" >&2; break; }
	r=$((r + 1))
done
raw1=$(median <"$T/raw1")
raw8=$(median <"$T/raw8")
for f in all_s1 all_s8 all_n1 all_n8 none_s1 none_s8 none_n1 none_n8; do
	eval "rm_$f=\$(median <\"\$T/rm_$f\")"
done
easync1=$(median <"$T/async_e1"); easync8=$(median <"$T/async_e8")
esync1=$(median <"$T/sync_e1"); esync8=$(median <"$T/sync_e8")
esync2nd1=$(median <"$T/sync2nd_e1"); esync2nd8=$(median <"$T/sync2nd_e8")

# init: a primary with RECORDS records (logs before the last checkpoint
# removed, as bench_repmgr does), then a fresh secondary, RUNS times
: >"$T/init"
if [ "$OURS" -eq 1 ]; then
	echo "hasvr: a fresh secondary joining a $RECORDS-record primary"
	node init_p $PRIMARY sync async "guiSvr.removeLogs y"
	sed -i 's/^guiSvr.checkpointInterval .*/guiSvr.checkpointInterval 1s/' "$T/init_p/guiSvr.cfg"
	if start init_p primary && "$XDB" -f "$T/init_p/guiSvr.cfg" -w load -b 1000 "$T/gen.txt" >/dev/null; then
		n=0
		while [ -e "$T/init_p/var/xdb/log/log.0000000001" ] && [ $n -lt 50 ]; do
			sleep 0.1
			n=$((n + 1))
		done
		r=1
		while [ $r -le "$RUNS" ]; do
			node init_s $SECONDARY sync async
			t0=$(now)
			if ! start init_s secondary; then
				ours_fail "the fresh secondary did not start"
				break
			fi
			n=0
			ok=0
			while [ $n -lt 2400 ]; do
				if state init_s | grep -q '^startupDone 1$' &&
				    [ "$("$XDB" -f "$T/init_s/guiSvr.cfg" count 2>/dev/null || echo x)" = "$RECORDS" ]; then
					ok=1
					break
				fi
				sleep 0.05
				n=$((n + 1))
			done
			s=$(secs_since "$t0")
			stop init_s
			# where the time went, from the secondary's log
			parts=$(awk '
			    function t(l) { split(l, a, " "); split(a[2], h, ":"); return h[1] * 3600 + h[2] * 60 + h[3] }
			    /guisvr ready/ && !r { r = t($0) }
			    /replication peer .* connected/ && !c { c = t($0) }
			    /DB_EVENT_REP_STARTUPDONE/ && !d { d = t($0) }
			    END { if (r && c && d) printf "ready -> peer connected %.2f s, connected -> STARTUPDONE %.2f s", c - r, d - c }' \
			    "$T/init_s/var/errorLog/guiDaemon.0" 2>/dev/null || true)
			rm -rf "$T/init_s"
			if [ $ok -eq 0 ]; then
				ours_fail "the fresh secondary did not catch up within 120 s"
				break
			fi
			echo "  init run $r: $RECORDS records in $s s${parts:+ ($parts)}"
			echo "$s" >>"$T/init"
			r=$((r + 1))
		done
	else
		ours_fail "the init primary did not come up or load"
	fi
	stop init_p
	rm -rf "$T/init_p"
fi
init=$(median <"$T/init")
[ "$OURS" -eq 1 ] || { async1=n/a async8=n/a sync1=n/a sync8=n/a sync2nd1=n/a sync2nd8=n/a init=n/a
    easync1=n/a easync8=n/a esync1=n/a esync8=n/a esync2nd1=n/a esync2nd8=n/a
    LAGB_MAX=n/a LAGB_MED=n/a LAGC_MAX=n/a LAGC_MED=n/a; }

# ---- report -------------------------------------------------------------------

row()
{
	printf '%-58s | %9s | %9s | %5s\n' "$1" "$2" "$3" "$(ratio "$2" "$3")"
}
echo
printf '%-58s | %9s | %9s | %5s\n' metric hasvr reference ratio
echo "in-process writers (ours: bench_commit engine; the references are in-process too)"
row "commits/s sync (both fsync), 1 vs repmgr ALL+nodelay" "$esync1" "$rm_all_n1"
row "commits/s sync (both fsync), 8 vs repmgr ALL+nodelay" "$esync8" "$rm_all_n8"
row "commits/s sync (both fsync), 1 vs repmgr ALL stock" "$esync1" "$rm_all_s1"
row "commits/s sync (both fsync), 8 vs repmgr ALL stock" "$esync8" "$rm_all_s8"
row "commits/s sync (2nd fsync only), 1 vs repmgr ALL+nodelay" "$esync2nd1" "$rm_all_n1"
row "commits/s sync (2nd fsync only), 8 vs repmgr ALL+nodelay" "$esync2nd8" "$rm_all_n8"
row "commits/s async, 1 vs raw local BDB 1 thread" "$easync1" "$raw1"
row "commits/s async, 8 vs raw local BDB 8 threads" "$easync8" "$raw8"
row "commits/s async, 1 vs repmgr NONE stock" "$easync1" "$rm_none_s1"
row "commits/s async, 8 vs repmgr NONE stock" "$easync8" "$rm_none_s8"
row "commits/s async, 1 vs repmgr NONE+nodelay" "$easync1" "$rm_none_n1"
row "commits/s async, 8 vs repmgr NONE+nodelay" "$easync8" "$rm_none_n8"
echo "writers as guisvr clients (UNIX socket, a separate process), for context"
row "commits/s sync (both fsync), 1 vs repmgr ALL+nodelay" "$sync1" "$rm_all_n1"
row "commits/s sync (both fsync), 8 vs repmgr ALL+nodelay" "$sync8" "$rm_all_n8"
row "commits/s sync (2nd fsync only), 8 vs repmgr ALL+nodelay" "$sync2nd8" "$rm_all_n8"
row "commits/s async, 1 vs guisvr standalone 1 client" "$async1" "$alone1"
row "commits/s async, 8 vs guisvr standalone 8 clients" "$async8" "$alone8"
row "commits/s async, 8 vs raw local BDB 8 threads" "$async8" "$raw8"
echo "catch-up and lag"
row "secs, fresh secondary catches up $RECORDS vs repmgr init" "$init" "$rm_init"
row "lag under 8 async writers: behindBytes max" "$LAGB_MAX" -
row "lag under 8 async writers: behindBytes median" "$LAGB_MED" -
row "lag under 8 async writers: behindCommits max" "$LAGC_MAX" -
row "lag under 8 async writers: behindCommits median" "$LAGC_MED" -
echo

# target NAME RATIO OP LIMIT
target()
{
	if [ "$2" = n/a ] || [ "$2" = inf ]; then
		echo "target $1 n/a $3$4 MISS"
	else
		echo "target $1 $2 $3$4 $(awk -v r="$2" -v l="$4" -v op="$3" 'BEGIN {
		    ok = (op == ">=") ? (r >= l) : (r <= l); print ok ? "PASS" : "MISS" }')"
	fi
}
# paired MODE THREADS OURS REF: the median of ours/reference over the runs
# measured in pairs; the ratio of the medians when there are no pairs.
paired()
{
	if [ -s "$T/pairs_$1_$2" ]; then
		awk '$2 > 0 { printf "%.4f\n", $1 / $2 }' "$T/pairs_$1_$2" | sort -n |
		    awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else printf "%.2f\n",
			NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
	else
		ratio "$3" "$4"
	fi
}
[ "$OURS" -eq 1 ] || rm -f "$T"/pairs_*
echo "(sync and async targets: the median of the per-run ratios, each run of"
echo " ours paired with the reference measured just before it)"
target sync_vs_repmgr_nodelay_1 "$(paired sync 1 "$esync1" "$rm_all_n1")" ">=" 1.0
target sync_vs_repmgr_nodelay_8 "$(paired sync 8 "$esync8" "$rm_all_n8")" ">=" 2.5
target async_vs_local "$(paired async 8 "$easync8" "$raw8")" ">=" 0.9
target init_100k_vs_repmgr "$(ratio "$init" "$rm_init")" "<=" 1.0
exit 0
