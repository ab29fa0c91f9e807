#!/bin/sh
# bench.sh — `make bench`: guisvr's commit rate against raw Berkeley DB with
# the same record bytes and durability (fsync per commit), and guisvr's
# memory with 100k records. Prints a table (medians of 3 runs) and the target
# lines:
#   target client_vs_raw_8 <ratio> >=0.7 PASS|MISS
#   target rss_beyond_cache_mib <MiB> <=64 PASS|MISS
# Builds nothing; needs guisvr, xdb, xdbgen and tests/bench/bench_commit in
# $top_builddir. Runs in about 1-3 minutes. Environment knobs: BENCH_RUNS (3),
# BENCH_N1 (commits with 1 thread, 6000), BENCH_N8 (with 8 threads, 30000),
# BENCH_RECORDS (100000), BENCH_SIZE (encoded record bytes, 100).
set -eu

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$(pwd)}"
GUISVR=$top_builddir/guisvr/guisvr
XDB=$top_builddir/utils/xdb
XDBGEN=$top_builddir/utils/xdbgen
BENCH=$top_builddir/tests/bench/bench_commit
RUNS=${BENCH_RUNS:-3}
N1=${BENCH_N1:-6000}
N8=${BENCH_N8:-30000}
RECORDS=${BENCH_RECORDS:-100000}
SIZE=${BENCH_SIZE:-100}
CACHE=16M
RSS_CACHE_MIB=32

for b in "$GUISVR" "$XDB" "$XDBGEN" "$BENCH"; do
	[ -x "$b" ] || { echo "bench: $b not built (run make first)" >&2; exit 1; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/hasvr-bench.XXXXXX")
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
		for f in "$T"/*/var/errorLog/guiDaemon.0; do
			[ -f "$f" ] && { echo "---- $f" >&2; tail -n 20 "$f" >&2; }
		done
		echo "bench: failed (exit $rc); files kept in $T" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

if grep -q __asan_init "$GUISVR" 2>/dev/null; then
	echo "note: this build uses AddressSanitizer; rates and memory are not representative" \
	    "(configure without --enable-asan for real numbers)"
fi

# start_guisvr NAME CACHE: a guisvr in $T/NAME with txnSync sync; sets SOCK, PID.
start_guisvr()
{
	d=$T/$1
	mkdir -p "$d/var"
	SOCK=$d/var/run/guiSvr.sock
	CFG=$d/guiSvr.cfg
	(umask 077; cat >"$CFG" <<-EOF
	guiSvr.varDir $d/var
	guiSvr.clientSocket $SOCK
	guiSvr.txnSync sync
	guiSvr.cacheSize $2
	guiSvr.workerThreads 8
	guiSvr.checkpointInterval 30s
	EOF
	)
	"$GUISVR" -f "$CFG" -d >"$d/guisvr.out" 2>&1 &
	PID=$!
	PIDS="$PIDS $PID"
	n=0
	until "$XDB" -f "$CFG" status >/dev/null 2>&1; do
		kill -0 "$PID" 2>/dev/null || { cat "$d/guisvr.out" >&2; exit 1; }
		n=$((n + 1))
		[ $n -lt 150 ] || { echo "bench: guisvr not ready after 15 s" >&2; exit 1; }
		sleep 0.1
	done
}

stop_guisvr()
{
	kill -TERM "$PID"
	n=0
	while kill -0 "$PID" 2>/dev/null && [ $n -lt 150 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	kill -9 "$PID" 2>/dev/null || true
	wait "$PID" 2>/dev/null || true
}

# rate LINE: the rate= field of a bench_commit line.
rate()
{
	echo "$1" | sed -n 's/.* rate=\([0-9.]*\).*/\1/p'
}

# median of the numbers on stdin
median()
{
	sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio()
{
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f\n", a / b; else print "inf" }'
}

echo "bench: $RUNS runs; $N1 commits with 1 thread, $N8 with 8; $SIZE-byte records; cache $CACHE"
echo "       (each run on a fresh environment: raw BDB and guisvr alike)"
for f in raw1 raw8 cli1 cli8; do : >"$T/$f"; done
r=1
while [ $r -le "$RUNS" ]; do
	for th in 1 8; do
		[ "$th" -eq 1 ] && cnt=$N1 || cnt=$N8
		start_guisvr "commit$r-$th" "$CACHE"
		l=$("$BENCH" client -S "$SOCK" -t "$th" -n "$cnt" -s "$SIZE" -p "r$r")
		echo "  run $r: $l"; rate "$l" >>"$T/cli$th"
		# the raw environment gets guisvr's DB_CONFIG (lock and log settings)
		mkdir -p "$T/raw$r-$th"
		cp "$T/commit$r-$th/var/xdb/data/DB_CONFIG" "$T/raw$r-$th/"
		stop_guisvr
		rm -rf "$T/commit$r-$th"
		l=$("$BENCH" raw -d "$T/raw$r-$th" -t "$th" -n "$cnt" -s "$SIZE" -c "$CACHE")
		echo "  run $r: $l"; rate "$l" >>"$T/raw$th"
		rm -rf "$T/raw$r-$th"
	done
	r=$((r + 1))
done
raw1=$(median <"$T/raw1")
raw8=$(median <"$T/raw8")
cli1=$(median <"$T/cli1")
cli8=$(median <"$T/cli8")

echo "bench: loading $RECORDS records into a fresh guisvr with cacheSize ${RSS_CACHE_MIB}M"
"$XDBGEN" -n "$RECORDS" -s 1 -o "$T/gen.txt"
: >"$T/rss"
r=1
while [ $r -le "$RUNS" ]; do
	start_guisvr "rss$r" "${RSS_CACHE_MIB}M"
	t0=$(date +%s.%N)
	"$XDB" -f "$CFG" -w load -b 1000 "$T/gen.txt" >/dev/null
	t1=$(date +%s.%N)
	c=$("$XDB" -f "$CFG" count)
	[ "$c" -eq "$RECORDS" ] || { echo "bench: $c records after loading $RECORDS" >&2; exit 1; }
	# read everything once so the cache is as full as it gets
	"$XDB" -f "$CFG" dump >/dev/null
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$PID/status")
	hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$PID/status")
	echo "  run $r: loaded $RECORDS in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s;" \
	    "VmRSS $((rss / 1024)) MiB, VmHWM $((hwm / 1024)) MiB"
	echo "$rss" >>"$T/rss"
	stop_guisvr
	rm -rf "$T/rss$r"
	r=$((r + 1))
done
rss_kib=$(median <"$T/rss")
rss_mib=$(awk -v k="$rss_kib" 'BEGIN { printf "%.1f", k / 1024 }')
beyond=$(awk -v m="$rss_mib" -v c="$RSS_CACHE_MIB" 'BEGIN { printf "%.1f", m - c }')

echo
printf '%-44s | %9s | %9s | %5s\n' metric hasvr reference ratio
printf '%-44s | %9s | %9s | %5s\n' "commits/s, 1 client vs raw BDB 1 thread" "$cli1" "$raw1" "$(ratio "$cli1" "$raw1")"
printf '%-44s | %9s | %9s | %5s\n' "commits/s, 8 clients vs raw BDB 8 threads" "$cli8" "$raw8" "$(ratio "$cli8" "$raw8")"
printf '%-44s | %9s | %9s | %5s\n' "RSS MiB, $RECORDS records vs cacheSize" "$rss_mib" "$RSS_CACHE_MIB" "$(ratio "$rss_mib" "$RSS_CACHE_MIB")"
echo
r8=$(ratio "$cli8" "$raw8")
echo "target client_vs_raw_8 $r8 >=0.7 $(awk -v r="$r8" 'BEGIN { print (r >= 0.7) ? "PASS" : "MISS" }')"
echo "target rss_beyond_cache_mib $beyond <=64 $(awk -v b="$beyond" 'BEGIN { print (b <= 64) ? "PASS" : "MISS" }')"
exit 0
