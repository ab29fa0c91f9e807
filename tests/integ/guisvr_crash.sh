#!/bin/sh
# guisvr_crash.sh — no acknowledged write is lost by kill -9 (txnSync sync).
#  1. 10k single-record PUTs from 4 connections, every acked id recorded;
#     kill -9 right after the last ack; restart: all 10k read back intact.
#  2. the same, killed in the middle of the writes: every acked id is there,
#     at most the in-flight ones more.
#  3. 10k generated records loaded in batches, kill -9 after the load: the
#     digest after recovery equals the digest before the kill.
#  4. the same load killed half-way: only whole batches are present, each
#     record exactly as in the dump.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"

test_init crash
[ -x "$TORTURE" ] || fail "$TORTURE not built"
instance a
# frequent checkpoints: recovery then starts from a checkpoint taken during
# the writes, and removed log files must not be needed
write_cfg "guiSvr.txnSync sync" "guiSvr.checkpointInterval 1s" "guiSvr.workerThreads 4"
start_guisvr

# wait_lines FILE N SECS PID: until FILE has N lines or PID exits.
wait_lines()
{
	n=0
	while [ $n -lt $(($3 * 10)) ]; do
		[ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ] && return 0
		pid_alive "$4" || return 0
		sleep 0.1
		n=$((n + 1))
	done
	fail "$1 has fewer than $2 lines after $3 s"
}

# one record per line: "id|:a (v)|:b (w)" sorted, from a dump file
records_by_line()
{
	grep -v '^#' "$1" | awk 'BEGIN { RS = ""; FS = "\n"; OFS = "|" } { $1 = $1; print }' |
	    sort
}

note "1: 10k acknowledged puts, kill -9 after the last ack"
run torture -T 300 puts 0.crash_a 0 10000 "$T/acks1" 4
[ "$RC" -eq 0 ] || fail "puts failed: $(cat "$T/out" "$T/err")"
assert_grep "^acked 10000 of 10000" "$T/out"
note "$(cat "$T/out")"
kill9_guisvr
start_guisvr
expect_rc 0 torture check "$T/acks1"
assert_grep "^checked 10000 missing 0 wrong 0\$" "$T/out"
assert_eq 10000 "$(xdb count 0.crash_a.)" "count after recovery"

note "2: kill -9 in the middle of 10k puts"
torture -T 300 puts 0.crash_b 0 10000 "$T/acks2" 4 >"$T/puts2.out" 2>&1 &
pp=$!
echo "$pp" >"$T/puts2.helper"
wait_lines "$T/acks2" 2500 120 "$pp"
kill9_guisvr
st=0
wait "$pp" || st=$?
rm -f "$T/puts2.helper"
acked=$(wc -l <"$T/acks2")
[ "$acked" -lt 10000 ] || note "all puts finished before the kill (fast machine)"
[ "$acked" -ge 2500 ] || fail "only $acked puts acknowledged"
[ "$acked" -eq 10000 ] || [ "$st" -ne 0 ] || fail "the writer did not notice the kill"
note "$acked puts acknowledged before the kill"
start_guisvr
expect_rc 0 torture check "$T/acks2"
assert_grep "^checked $acked missing 0 wrong 0\$" "$T/out"
c=$(xdb count 0.crash_b.)
# at most one unacknowledged put per connection may have committed
[ "$c" -ge "$acked" ] && [ "$c" -le $((acked + 4)) ] ||
    fail "count $c after recovery, $acked acknowledged"
# case 1 is untouched
expect_rc 0 torture check "$T/acks1"

note "3: load 10k records in batches, kill -9 after the load"
"$XDBGEN" -n 10000 -s 3 -o "$T/gen.txt"
expect_rc 0 xdb -w load -b 500 "$T/gen.txt"
before=$(digest)
cp "$T/digest.dump" "$T/before.dump"
kill9_guisvr
start_guisvr
assert_eq "$before" "$(digest)" "digest after kill -9 and recovery"

note "4: kill -9 in the middle of a batched load"
instance b
write_cfg "guiSvr.txnSync sync" "guiSvr.checkpointInterval 1s"
start_guisvr
"$XDBGEN" -n 10000 -s 4 -o "$T/gen4.txt"
xdb -w load -b 500 "$T/gen4.txt" >"$T/load4.out" 2>&1 &
lp=$!
echo "$lp" >"$T/load4.helper"
n=0
while [ $n -lt 600 ]; do
	c=$(xdb count 2>/dev/null || echo 0)
	[ "$c" -ge 3000 ] && break
	pid_alive "$lp" || break
	sleep 0.05
	n=$((n + 1))
done
kill9_guisvr
wait "$lp" || true
rm -f "$T/load4.helper"
start_guisvr
c=$(xdb count)
[ "$c" -ge 3000 ] || fail "only $c records after the interrupted load"
note "$c records after the interrupted load"
[ $((c % 500)) -eq 0 ] || fail "$c records after the interrupted load: not whole batches of 500"
xdb dump >"$T/after4.dump"
records_by_line "$T/gen4.txt" >"$T/gen4.lines"
records_by_line "$T/after4.dump" >"$T/after4.lines"
assert_eq "$c" "$(wc -l <"$T/after4.lines")" "records in the dump"
[ -z "$(comm -13 "$T/gen4.lines" "$T/after4.lines" | head -n 3)" ] ||
    fail "records after recovery differ from the loaded ones: $(comm -13 "$T/gen4.lines" "$T/after4.lines" | head -n 3)"
stop_guisvr

instance a
stop_guisvr
# a clean restart after all that still has everything
start_guisvr
assert_eq "$before" "$(digest)" "digest after a clean restart"
stop_guisvr
exit 0
