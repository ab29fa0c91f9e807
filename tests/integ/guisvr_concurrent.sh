#!/bin/sh
# guisvr_concurrent.sh — 8 clients writing disjoint ranges at once (plus a
# batched load and readers): every acknowledged record is present and every
# count is exact. Then 8 clients SET different attributes of one record at
# once: no update is lost (SET is an atomic read-modify-write).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"

test_init concurrent
[ -x "$TORTURE" ] || fail "$TORTURE not built"
instance a
write_cfg "guiSvr.txnSync sync" "guiSvr.workerThreads 4"
start_guisvr

PER=1000
"$XDBGEN" -n 3000 -s 11 -o "$T/gen.txt"
grep -E '^[0-9]' "$T/gen.txt" | sort -u >"$T/gen.ids"
gen=$(wc -l <"$T/gen.ids")
# the generated ids must not fall in the writers' ranges
! grep -q '^0\.conc_' "$T/gen.ids" || fail "xdbgen produced ids in the test's ranges"

note "8 writers x $PER puts, a batched load and 2 readers at once"
pids=
k=1
while [ $k -le 8 ]; do
	torture -T 240 puts "0.conc_$k" 0 $PER "$T/acks$k" >"$T/w$k.out" 2>&1 &
	echo $! >"$T/w$k.helper"
	pids="$pids $!"
	k=$((k + 1))
done
xdb -w load -b 100 "$T/gen.txt" >"$T/load.out" 2>&1 &
echo $! >"$T/load.helper"
pids="$pids $!"
# readers: counts never go down while only inserts happen
reader()
{
	last=0
	n=0
	while [ $n -lt 40 ]; do
		c=$(xdb count 0.conc_) || { echo "count failed" >"$T/reader$1.fail"; return; }
		[ "$c" -ge "$last" ] || { echo "count went from $last to $c" >"$T/reader$1.fail"; return; }
		last=$c
		xdb list 0.conc_1. >/dev/null || { echo "list failed" >"$T/reader$1.fail"; return; }
		n=$((n + 1))
	done
}
reader 1 &
echo $! >"$T/r1.helper"
rpids=$!
reader 2 &
echo $! >"$T/r2.helper"
rpids="$rpids $!"

failed=
for p in $pids; do
	wait "$p" || failed="$failed $p"
done
for p in $rpids; do
	wait "$p" || true
done
rm -f "$T"/*.helper
[ -z "$failed" ] || { cat "$T"/w*.out "$T/load.out" >&2; fail "writers failed:$failed"; }
for f in "$T"/reader*.fail; do
	[ ! -f "$f" ] || fail "reader: $(cat "$f")"
done
assert_alive "concurrent writers"

note "every record present, counts exact"
k=1
while [ $k -le 8 ]; do
	assert_grep "^acked $PER of $PER" "$T/w$k.out"
	assert_eq $PER "$(xdb count "0.conc_$k.")" "count of 0.conc_$k."
	expect_rc 0 torture check "$T/acks$k"
	k=$((k + 1))
done
assert_eq $((8 * PER)) "$(xdb count 0.conc_)" "count of all writers' records"
assert_eq $((8 * PER + gen)) "$(xdb count)" "total count"
xdb list | sort >"$T/have.ids"
[ -z "$(comm -23 "$T/gen.ids" "$T/have.ids")" ] || fail "loaded records missing"
# list and count agree
assert_eq $((8 * PER + gen)) "$(wc -l <"$T/have.ids")" "xdb list lines"

note "8 clients SET attributes of one record at once"
expect_rc 0 xdb -w put 0.conc.shared base=0
ROUNDS=15
setter()
{
	i=1
	while [ $i -le $ROUNDS ]; do
		xdb -w set 0.conc.shared "a$1=$i" >/dev/null 2>>"$T/set$1.err" || {
			echo "set a$1=$i failed" >"$T/set$1.fail"
			return
		}
		i=$((i + 1))
	done
}
spids=
k=1
while [ $k -le 8 ]; do
	setter $k &
	echo $! >"$T/s$k.helper"
	spids="$spids $!"
	k=$((k + 1))
done
for p in $spids; do
	wait "$p" || true
done
rm -f "$T"/*.helper
for f in "$T"/set*.fail; do
	[ ! -f "$f" ] || fail "$(cat "$f"): $(cat "$T"/set*.err)"
done
xdb get 0.conc.shared >"$T/shared"
assert_grep "^:base \(0\)\$" "$T/shared"
k=1
while [ $k -le 8 ]; do
	assert_grep "^:a$k \($ROUNDS\)\$" "$T/shared" "attribute a$k lost an update"
	k=$((k + 1))
done
assert_eq 9 "$(wc -l <"$T/shared")" "attributes of 0.conc.shared"

stop_guisvr
# after a clean restart the counts are the same
start_guisvr
assert_eq $((8 * PER + gen + 1)) "$(xdb count)" "total count after a restart"
stop_guisvr
exit 0
