#!/bin/sh
# checker_test.sh — the history checker (tests/cluster/checker) on small
# hand-written histories, listings and role samples: lost and preserved
# writes, info writes, failed writes that are present, dual-primary windows
# with and without writes acknowledged on both sides, stale and wrong
# reads, convergence, exit codes, bad input, and a history of 200000
# writes (hash table, not quadratic). No daemons, no root.
set -u
: "${top_builddir:=$(pwd)}"
CHECKER=$top_builddir/tests/cluster/checker
[ -x "$CHECKER" ] || { echo "FAIL: $CHECKER not built (make check builds it)" >&2; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/hasvr-checker.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
failures=0

fail()
{
	echo "FAIL: checker_test: $*" >&2
	failures=$((failures + 1))
}

# check NAME WANT_RC ARGS...: runs the checker, output in $T/NAME.out
check()
{
	name=$1
	want=$2
	shift 2
	rc=0
	"$CHECKER" "$@" >"$T/$name.out" 2>"$T/$name.err" || rc=$?
	if [ "$rc" -ne "$want" ]; then
		cat "$T/$name.out" "$T/$name.err" >&2
		fail "$name: exit $rc, expected $want"
	fi
	OUT=$T/$name.out
}

# expect KEY VALUE: the "KEY VALUE" line of the last check's output
expect()
{
	got=$(awk -v k="$1" '$1 == k { print $2; exit }' "$OUT")
	[ "$got" = "$2" ] || fail "$(basename "$OUT" .out): $1 is '$got', expected '$2'"
}

expect_line()
{
	grep -qx -- "$1" "$OUT" || fail "$(basename "$OUT" .out): no line '$1'"
}

# ---- lost, preserved, info, failed-but-present ------------------------------
cat >"$T/h1" <<'EOF'
# CLIENT OP ID VALUE INVOKE_MS COMPLETE_MS OUTCOME NODE
w0 write 0.t.w0.1 0-1 1000 1010 ok n1
w0 write 0.t.w0.2 0-2 1020 1030 ok n1
w0 write 0.t.w0.3 0-3 1040 1050 ok n1
w0 write 0.t.w0.4 0-4 1060 1070 info n1
w0 write 0.t.w0.5 0-5 1080 1090 info n1
w1 write 0.t.w1.1 1-1 1000 1005 fail n2
w1 write 0.t.w1.2 1-2 1010 1015 fail n2

w1 read 0.t.w0.1 0-1 1020 1025 ok n1
EOF
printf '0.t.w0.1\n0.t.w0.5\n0.t.w1.1\n0.t.other\n' >"$T/f1"
printf '0.t.w0.3\n' >"$T/a1"
printf '0.t.w9.9\n' >"$T/a2"

check lost 1 -h "$T/h1" -f "$T/f1" -a "$T/a1" -a "$T/a2"
expect ops 7
expect ops_ok 3
expect ops_fail 2
expect ops_info 2
expect reads 1
expect reads_ok 1
expect stale_reads 0
expect final_ids 4
expect final_unknown 1
expect aside_ids 2
expect lost 2
expect lost_preserved 1
expect unexpected_present 1
expect unexpected_preserved 0
expect info_present 1
expect info_absent 1
expect dual_primary_windows 0
expect converged n/a
expect_line "lost_id 0.t.w0.2 n1"
expect_line "lost_id 0.t.w0.3 n1 preserved"
expect_line "unexpected_id 0.t.w1.1 n2"
grep -q '^verdict FAIL: 2 acknowledged writes lost (1 preserved aside, at most 0 allowed)\.$' "$OUT" ||
    fail "lost: verdict line: $(tail -n 1 "$OUT")"

# the preserved one alone is not lost when the listing is not given
check lost_noaside 1 -h "$T/h1" -f "$T/f1"
expect lost 2
expect lost_preserved 0

# within --max-lost: pass; --no-unexpected makes the present failure count
check maxlost 0 -h "$T/h1" -f "$T/f1" --max-lost 2
grep -q '^verdict PASS: ' "$OUT" || fail "maxlost: no PASS verdict"
check maxlost_short 1 -h "$T/h1" -f "$T/f1" --max-lost 1
check unexpected 1 -h "$T/h1" -f "$T/f1" --max-lost 2 --no-unexpected
grep -q 'verdict FAIL: 1 write reported as failed is present\.' "$OUT" ||
    fail "unexpected: verdict line: $(tail -n 1 "$OUT")"

# a fail found only in a preserved folder
printf '0.t.w1.2\n' >"$T/a3"
check unexpected_aside 0 -h "$T/h1" -f "$T/f1" -a "$T/a3" --max-lost 2
expect unexpected_present 1
expect unexpected_preserved 1
expect_line "unexpected_id 0.t.w1.2 n2 preserved"

# ---- dual-primary windows --------------------------------------------------
# n2 becomes PRIMARY at 1100 while n1 still is: window [1100,1200] ends when
# n1 is seen down; n1 is PRIMARY again at 1300 while n2 still is: window
# [1300,1400] ends when n2 is SECONDARY. Writes are acknowledged by n1 and
# n2 inside the first window, by n1 only inside the second. Samples are
# out of order (several samplers append to one file).
cat >"$T/r2" <<'EOF'
1300 n1 PRIMARY 1
1000 n1 PRIMARY 1
1000 n2 SECONDARY 1
1100 n2 PRIMARY 2
1150 n1 PRIMARY 1
1200 n1 down 0
1400 n2 SECONDARY 2
1500 n1 PRIMARY 3
1500 n2 SECONDARY 3
EOF
cat >"$T/h2" <<'EOF'
w0 write 0.t.w0.1 0-1 1000 1050 ok n1
w0 write 0.t.w0.2 0-2 1100 1110 ok n1
w1 write 0.t.w1.1 1-1 1100 1150 ok n2
w0 write 0.t.w0.3 0-3 1300 1350 ok n1
w1 write 0.t.w1.2 1-2 1400 1450 ok n2
w1 write 0.t.w1.3 1-3 1400 1460 fail n1
EOF
printf '0.t.w0.1\n0.t.w0.2\n0.t.w1.1\n0.t.w0.3\n0.t.w1.2\n' >"$T/f2"
check dual 0 -h "$T/h2" -f "$T/f2" -r "$T/r2"
expect ops 6
expect lost 0
expect role_samples 9
expect dual_primary_windows 2
expect dual_primary_ms 200
expect dual_write_windows 1
expect dual_write_ms 100
expect_line "window 1100 1200 100 acked_by 2"
expect_line "window 1300 1400 100 acked_by 1"
check dual_strict 1 -h "$T/h2" -f "$T/f2" -r "$T/r2" --no-dual-write
grep -q 'verdict FAIL: 1 dual-primary window with writes acknowledged by two nodes (100 ms)\.' "$OUT" ||
    fail "dual_strict: verdict line: $(tail -n 1 "$OUT")"

# a window without writes on both sides passes --no-dual-write; one still
# open at the last sample ends there
cat >"$T/r3" <<'EOF'
2000 n1 PRIMARY 1
2000 n2 SECONDARY 1
2100 n2 PRIMARY 2
2150 n1 PRIMARY 1
2180 n2 PRIMARY 2
EOF
cat >"$T/h3" <<'EOF'
w0 write 0.t.w0.1 0-1 2000 2120 ok n1
w0 write 0.t.w0.2 0-2 2120 2170 ok n1
w1 write 0.t.w1.1 1-1 2100 2190 ok n2
EOF
printf '0.t.w0.1\n0.t.w0.2\n0.t.w1.1\n' >"$T/f3"
check dual_one_side 0 -h "$T/h3" -f "$T/f3" -r "$T/r3" --no-dual-write
expect dual_primary_windows 1
expect dual_primary_ms 80
expect dual_write_windows 0
expect_line "window 2100 2180 80 acked_by 1"

# ---- reads ------------------------------------------------------------------
# judged: answered reads that began after the write was acknowledged
cat >"$T/h4" <<'EOF'
w0 write 0.r.w0.1 0-1 1000 1010 ok n1
w0 read 0.r.w0.1 0-1 1020 1025 ok n1
w0 read 0.r.w0.1 - 1030 1035 ok n2
w0 read 0.r.w0.1 0-9 1040 1045 ok n2
w0 read 0.r.w0.1 - 1005 1015 ok n2
w0 read 0.r.w0.1 - 1050 1055 info n2
w0 write 0.r.w0.2 0-2 1060 1070 info n1
w0 read 0.r.w0.2 - 1080 1085 ok n1
EOF
printf '0.r.w0.1\n' >"$T/f4"
check reads 0 -h "$T/h4" -f "$T/f4"
expect ops 2
expect reads 6
expect reads_ok 5
expect stale_reads 1
expect wrong_reads 1
expect lost 0
expect_line "stale_read_id 0.r.w0.1 n2 -"
expect_line "wrong_read_id 0.r.w0.1 n2 0-9"
check reads_strict 1 -h "$T/h4" -f "$T/f4" --no-stale-reads
grep -q 'verdict FAIL: 2 reads missed an acknowledged write\.' "$OUT" ||
    fail "reads_strict: verdict line: $(tail -n 1 "$OUT")"

# ---- convergence -------------------------------------------------------------
printf 'n1 abc\nn2 abc\n' >"$T/d_same"
printf 'n1 abc\nn2 abd\n' >"$T/d_diff"
check conv_yes 0 -h "$T/h3" -f "$T/f3" -D "$T/d_same" --require-converged
expect converged yes
check conv_no 0 -h "$T/h3" -f "$T/f3" -D "$T/d_diff"
expect converged no
check conv_required 1 -h "$T/h3" -f "$T/f3" -D "$T/d_diff" --require-converged

# ---- bad input ---------------------------------------------------------------
printf 'w0 write 0.t.w0.1 0-1 1000 ok n1\n' >"$T/h_short"
check bad_fields 2 -h "$T/h_short" -f "$T/f3"
grep -q 'line 1' "$T/bad_fields.err" || fail "bad_fields: message does not name the line"
printf 'w0 write 0.t.w0.1 0-1 1000 1010 maybe n1\n' >"$T/h_outcome"
check bad_outcome 2 -h "$T/h_outcome" -f "$T/f3"
check missing_file 2 -h "$T/nonexistent" -f "$T/f3"
check no_final 2 -h "$T/h3"

# ---- many ids ----------------------------------------------------------------
awk 'BEGIN { for (i = 1; i <= 200000; i++)
	printf "w%d write 0.big.w%d.%d v %d %d %s n%d\n", i % 8, i % 8, i, i, i + 5,
	    (i % 10 == 0 ? "info" : "ok"), i % 2 }' >"$T/hbig"
awk '$7 == "ok" && $3 != "0.big.w7.199999" { print $3 }' "$T/hbig" >"$T/fbig"
start=$(date +%s)
check big 1 -h "$T/hbig" -f "$T/fbig"
expect ops 200000
expect ops_ok 180000
expect ops_info 20000
expect lost 1
expect info_absent 20000
expect_line "lost_id 0.big.w7.199999 n1"
[ $(($(date +%s) - start)) -le 20 ] || fail "big: took more than 20 s"

if [ "$failures" -ne 0 ]; then
	echo "checker_test: $failures failure(s)" >&2
	exit 1
fi
echo ok
