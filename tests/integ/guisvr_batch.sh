#!/bin/sh
# guisvr_batch.sh — BATCH requests are all or nothing: a batch cut off in the
# middle of its frame leaves nothing, a batch whose last (or middle) op fails
# applies nothing, a good batch applies every op in order, and a batch being
# committed when guisvr is killed is either wholly there or wholly absent.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"

test_init batch
[ -x "$TORTURE" ] || fail "$TORTURE not built"
instance a
write_cfg "guiSvr.txnSync sync" "guiSvr.maxRecordSize 64K"
start_guisvr
expect_rc 0 xdb -w put 0.bk.keep a=1

# batch PATTERN OPS...: a BATCH through the helper; its reply must match.
batch()
{
	pat=$1
	shift
	run torture batch "$@"
	grep -Eq "^($pat)" "$T/out" || fail "batch $*: reply '$(cat "$T/out" "$T/err")', expected /$pat/"
}

ops=$(seq 1 50 | sed 's/.*/put:0.bt.&:a=&,b=x&/')

note "interrupted batches leave nothing"
# shellcheck disable=SC2046,SC2086
expect_rc 0 torture batch -p $ops
assert_grep "^sent [0-9]+ bytes, closed" "$T/out"
expect_rc 0 torture batch -p put:0.bt.1:a=1
# shellcheck disable=SC2046,SC2086
expect_rc 0 torture batch -q $ops
assert_grep "^sent [0-9]+ bytes, closed" "$T/out"
assert_alive "an interrupted batch"
sleep 0.2
assert_eq 0 "$(xdb count 0.bt.)" "records after interrupted batches"
assert_eq 1 "$(xdb count 0.bk.keep)" "the record written before"

note "a failing op applies nothing"
batch "ERR 1 " put:0.bt.1:a=1 set:0.bt.2:x=1 del:0.bt.missing
assert_eq 0 "$(xdb count 0.bt.)" "records after a batch whose last op failed"
batch "ERR 1 " put:0.bt.1:a=1 del:0.bt.missing put:0.bt.2:a=2
assert_eq 0 "$(xdb count 0.bt.)" "records after a batch whose middle op failed"
batch "ERR 1 " del:0.bk.keep put:0.bt.1:a=1 unset:0.bt.missing:a
assert_eq 1 "$(xdb count 0.bk.keep)" "a delete in a failed batch was applied"
expect_out ":a (1)" xdb get 0.bk.keep
# an op over maxRecordSize
big=$(head -c 70000 /dev/zero | tr '\0' y)
batch "ERR 3 " put:0.bt.1:a=1 "put:0.bt.2:v=$big"
assert_eq 0 "$(xdb count 0.bt.)" "records after a batch with an oversized record"
# a bad id in the last op
batch "ERR (2|4) " put:0.bt.1:a=1 put:bad.id.x:a=1
assert_eq 0 "$(xdb count 0.bt.)" "records after a batch with a bad id"
assert_alive "failed batches"

note "a good batch applies every op, in order"
batch "OK" put:0.bt.1:a=1,b=2 put:0.bt.2:a=2 set:0.bt.1:c=3 unset:0.bt.1:a \
    set:0.bt.3:a=1 unset:0.bt.3:a set:0.bt.3:b=2 del:0.bk.keep put:0.bk.keep:z=9
expect_out ":b (2)
:c (3)" xdb get 0.bt.1
expect_out ":a (2)" xdb get 0.bt.2
expect_out ":b (2)" xdb get 0.bt.3
expect_out ":z (9)" xdb get 0.bk.keep
assert_eq 3 "$(xdb count 0.bt.)" "records after a good batch"
# shellcheck disable=SC2046,SC2086
batch "OK" $ops
assert_eq 50 "$(xdb count 0.bt.)" "records after a 50-op batch"
expect_out ":a (37)
:b (x37)" xdb get 0.bt.37
# delete them all in one batch
# shellcheck disable=SC2046,SC2086
batch "OK" $(seq 1 50 | sed 's/.*/del:0.bt.&/')
assert_eq 0 "$(xdb count 0.bt.)" "records after deleting in one batch"

note "kill -9 while a 2000-op batch commits: all or nothing"
bigops=$(seq 1 2000 | sed 's/.*/put:0.bb.&:a=&,pad=0123456789abcdef0123456789abcdef/')
i=0
for delay in 0 0.02 0.05 0.1; do
	# shellcheck disable=SC2046,SC2086
	torture -T 60 batch $bigops >"$T/big$i.out" 2>&1 &
	bp=$!
	echo $bp >"$T/big.helper"
	sleep $delay
	kill9_guisvr
	wait $bp || true
	rm -f "$T/big.helper"
	start_guisvr
	c=$(xdb count 0.bb.)
	[ "$c" -eq 0 ] || [ "$c" -eq 2000 ] || fail "$c of 2000 records after a kill during a batch"
	if grep -q '^OK' "$T/big$i.out"; then
		assert_eq 2000 "$c" "an acknowledged batch after kill -9"
	fi
	note "kill after ${delay}s: $c records"
	if [ "$c" -eq 2000 ]; then
		# shellcheck disable=SC2046,SC2086
		batch "OK" $(seq 1 2000 | sed 's/.*/del:0.bb.&/')
	fi
	i=$((i + 1))
done
assert_eq ":z (9)" "$(xdb get 0.bk.keep)" "0.bk.keep after the kills"
stop_guisvr
exit 0
