#!/bin/sh
# bench_rep_smoke.sh — the replication benchmark (`make bench`, part 2) at a
# tiny size, so that it keeps working: every measurement of ours and of the
# references produces a number, the in-process engine (bench_commit engine)
# commits through guisvr's code to a guisvr secondary that then holds every
# record, and all four target lines are printed. Whether a target passes is
# the benchmark's business (release build, full size), not this test's.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"

test_init bench_rep_smoke

note "bench_rep.sh with 1 run, 60/400 commits, 3000 records"
out=$T/bench.out
BENCH_RUNS=1 BENCH_N1=60 BENCH_N8=400 BENCH_RECORDS=3000 BENCH_NSTOCK=20 \
    top_srcdir="$top_srcdir" top_builddir="$top_builddir" \
    sh "$top_srcdir/tests/bench/bench_rep.sh" >"$out" 2>&1 ||
    { cat "$out" >&2; fail "bench_rep.sh failed"; }

assert_grep "hasvr: sync, in-process primary \\(bench_commit engine\\)" "$out"
assert_grep "engine threads=8 commits=400 .* insync=1" "$out"
if grep -q "reported n/a" "$out"; then
	cat "$out" >&2
	fail "our side of the benchmark did not work"
fi
for t in sync_vs_repmgr_nodelay_1 sync_vs_repmgr_nodelay_8 async_vs_local \
    init_100k_vs_repmgr; do
	grep -Eq "^target $t [0-9]+\.[0-9]+ (>=|<=)[0-9.]+ (PASS|MISS)$" "$out" ||
	    { cat "$out" >&2; fail "no measured target line for $t"; }
done
# every table row of ours holds a number
if awk -F'|' 'NF == 4 && $2 ~ /n\/a/' "$out" | grep -q .; then
	cat "$out" >&2
	fail "a row of the table has no measurement"
fi
note "$(grep -c '^target ' "$out") target lines, all measured"
exit 0
