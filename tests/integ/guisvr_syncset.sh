#!/bin/sh
# guisvr_syncset.sh — the synchronous-standby set (HL_SYNCSET), given with
# halinkctl as hasvr's arbiter mode would once it wrote etcd's record, to
# a pair of guisvrs in durability sync (highAvail.ackTimeout 800ms):
#   - without a set (pair mode) the state shows none and nothing is
#     logged of it;
#   - `syncset MASK` listing the secondary: writes succeed while it acks;
#     stopped (by PID), a write is not acknowledged: it fails after about
#     two ackTimeouts with the record's words (committed on the primary
#     all the same), the secondary is dirty in the state, and the log
#     names it;
#   - `syncset 0` (hasvr rewrote the record without it): writes succeed
#     again, alone, without waiting; and a write waiting for the listed
#     secondary is acknowledged as soon as the new set comes;
#   - the secondary back and in sync, listed again: writes reach it.
# halinkctl checks the mask. Every wait is bounded polling; timings are
# asserted with room for a loaded machine.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"

test_init syncset
ha_init
HA_ACKTIMEOUT=800ms
ACK_MS=800
HA_DURABILITY=sync

NOACK_MSG="committed on the primary, but the synchronous-standby record could not be updated in time (is etcd reachable?); it may be rolled back"

now_ms()
{
	echo $(($(date +%s%N) / 1000000))
}

# timed_put ID: a write on the current instance; sets RC and MS (its
# duration in milliseconds); output in $T/out, $T/err.
timed_put()
{
	local t0
	t0=$(now_ms)
	run xdb -w put "$1" v=1
	MS=$(($(now_ms) - t0))
}

# lines PATTERN: how many lines of the current guiDaemon.0 match PATTERN.
lines()
{
	grep -Ec -- "$1" "$LOG" || true
}

note "halinkctl checks the mask"
ha_node a 127.0.0.1 "guiSvr.txnSync sync"
expect_rc 2 halinkctl syncset
expect_rc 2 halinkctl syncset abc
expect_rc 2 halinkctl syncset -1
expect_rc 2 halinkctl syncset 256
assert_grep "syncset '256': expected a mask from 0 to 255 \(or 0x00 to 0xff\)" "$T/err"
expect_rc 2 halinkctl syncset 0x100
expect_rc 2 halinkctl syncset 0x
expect_rc 2 halinkctl syncset 1 2
expect_rc 0 halinkctl -h
assert_grep "syncset MASK" "$T/out" "usage does not name syncset"

note "a pair in sync: a primary, b secondary"
start_guisvr
set_role primary 1
wait_for_log "get BDB event DB_EVENT_REP_MASTER"
ha_node b 127.0.0.2 "guiSvr.txnSync sync"
start_guisvr
set_role secondary 1
wait_state '^startupDone 1$' 30
instance a
wait_state '^peer [0-9]+ 127\.0\.0\.2 connected .* in-sync$' 20
wait_state '^durability sync$' 2
beid=$(ha_state | awk '$1 == "peer" && $3 == "127.0.0.2" { print $2; exit }')
[ -n "$beid" ] && [ "$beid" -ge 1 ] && [ "$beid" -le 8 ] ||
    fail "the secondary's eid in the primary's state: '$beid'"
MASK=$((1 << (beid - 1)))
HEX=$(printf '0x%02x' "$MASK")
note "the secondary is eid $beid: set $HEX"

note "pair mode: no set in the state, nothing logged"
timed_put 0.sset.pair1
[ "$RC" -eq 0 ] || fail "write in pair mode: $(cat "$T/err")"
ha_state >/dev/null
assert_no_grep "syncSet" "$T/state" "state shows a set nobody gave"
assert_no_grep "synchronous-standby" "$LOG" "pair mode logged a set"

note "syncset $HEX: the secondary listed, writes succeed while it acks"
expect_out "synchronous-standby set $HEX accepted" halinkctl syncset "$MASK"
wait_for_log "arbiter sync mode: a commit is acknowledged only once every secondary in the synchronous-standby set has it \(set $HEX\)" 5
assert_eq "$HEX" "$(state_value syncSet)" "syncSet in the state"
i=0
while [ $i -lt 5 ]; do
	timed_put "0.sset.listed$i"
	[ "$RC" -eq 0 ] || fail "write $i with the listed secondary up: $(cat "$T/err")"
	i=$((i + 1))
done
on b wait_count "$(xdb count)" 20

note "the listed secondary stopped: a write is not acknowledged"
on b stop_guisvr
wait_state '^peer [0-9]+ 127\.0\.0\.2 down ' 10
timed_put 0.sset.down1
note "refused after $MS ms: $(cat "$T/err")"
[ "$RC" -eq 1 ] || fail "write with the listed secondary stopped: exit $RC, expected 1 ($(cat "$T/out" "$T/err"))"
grep -Fq -- "$NOACK_MSG" "$T/err" || fail "the refusal is not the record's: $(cat "$T/err")"
[ "$MS" -ge $((2 * ACK_MS - 100)) ] ||
    fail "refused after $MS ms: before two ackTimeouts ($((2 * ACK_MS)) ms)"
[ "$MS" -le $((2 * ACK_MS + 4000)) ] ||
    fail "refused after $MS ms; two ackTimeouts are $((2 * ACK_MS)) ms"
# committed here all the same
expect_out ":v (1)" xdb get 0.sset.down1
wait_for_log "was not acknowledged: the synchronous-standby set still lists $beid \(127\.0\.0\.2\)" 5
wait_state '^peer [0-9]+ 127\.0\.0\.2 down .* dirty$' 5
timed_put 0.sset.down2
[ "$RC" -eq 1 ] && grep -Fq -- "$NOACK_MSG" "$T/err" ||
    fail "second write with the listed secondary stopped: exit $RC, $(cat "$T/err")"

note "syncset 0 (the record without it): writes succeed, alone"
expect_out "synchronous-standby set 0x00 accepted" halinkctl syncset 0
wait_for_log "synchronous-standby set $HEX -> 0x00" 5
assert_eq 0x00 "$(state_value syncSet)" "syncSet after syncset 0"
i=0
while [ $i -lt 3 ]; do
	timed_put "0.sset.alone$i"
	[ "$RC" -eq 0 ] || fail "write $i after syncset 0: $(cat "$T/err")"
	[ "$MS" -le $((ACK_MS + 2000)) ] || fail "write $i after syncset 0 took $MS ms"
	i=$((i + 1))
done

note "a write waiting for the listed secondary: acknowledged by the new set"
# The new set must come within the second ackTimeout; on a machine too
# loaded for that the write may be refused first: then (only) again.
ok=0
i=0
while [ $i -lt 3 ] && [ $ok -eq 0 ]; do
	expect_out "synchronous-standby set $HEX accepted" halinkctl syncset "$MASK"
	rm -f "$T/bg.rc"
	t0=$(now_ms)
	( xdb -w put "0.sset.held$i" v=1 >"$T/bg.out" 2>"$T/bg.err"
	  echo $? >"$T/bg.rc" ) &
	echo $! >"$T/bg.helper"
	sleep $(((ACK_MS + 300) / 1000)).$(((ACK_MS + 300) % 1000 / 100))
	[ -f "$T/bg.rc" ] && fail "the held write ended before the new set: rc $(cat "$T/bg.rc"), $(cat "$T/bg.err")"
	expect_out "synchronous-standby set 0x00 accepted" halinkctl syncset 0
	sent=$(($(now_ms) - t0))
	wait_until 20 "the held write never ended" test -f "$T/bg.rc"
	wait "$(cat "$T/bg.helper")" 2>/dev/null || true
	rm -f "$T/bg.helper"
	if [ "$(cat "$T/bg.rc")" -eq 0 ]; then
		ok=1
	elif [ "$sent" -lt $((2 * ACK_MS)) ]; then
		fail "the held write was refused though the new set came after $sent ms: $(cat "$T/bg.err")"
	else
		note "the new set came after $sent ms, too late (loaded machine): again"
	fi
	i=$((i + 1))
done
[ $ok -eq 1 ] || fail "the held write was never acknowledged by the new set"

note "the secondary back and in sync, listed again: writes reach it"
on b start_guisvr
on b set_role secondary 1
wait_state '^peer [0-9]+ 127\.0\.0\.2 connected .* in-sync$' 30
expect_out "synchronous-standby set $HEX accepted" halinkctl syncset "$MASK"
timed_put 0.sset.back1
[ "$RC" -eq 0 ] || fail "write with the listed secondary back: $(cat "$T/err")"
on b wait_count "$(xdb count)" 20
on b expect_out ":v (1)" xdb get 0.sset.back1
on b expect_out ":v (1)" xdb get 0.sset.down1
wait_converged a b 20 >/dev/null
assert_eq 1 "$(lines 'arbiter sync mode')" "lines saying arbiter sync mode began"
on b stop_guisvr
on a stop_guisvr
exit 0
