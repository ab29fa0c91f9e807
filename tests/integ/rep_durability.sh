#!/bin/sh
# rep_durability.sh — the ack modes with a secondary that does not answer
# (highAvail.ackTimeout 500ms):
#  sync:   with the secondary frozen (SIGSTOP) a write still succeeds, after
#          about ackTimeout; the pair turns dirty ("state change in-sync ->
#          dirty for peer …" logged, `state` shows it); later writes and
#          writes with the secondary stopped succeed without waiting; once the
#          secondary is back it catches up and the pair is in-sync again;
#  strict: with the secondary frozen or stopped a write fails (xdb exit 1,
#          "not acknowledged by a secondary" / "no secondary is connected"),
#          and the record IS on the primary; with the secondary up, writes
#          succeed and reach it.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"

test_init rep_durability
ha_init
HA_ACKTIMEOUT=500ms
ACK_MS=500

now_ms()
{
	echo $(($(date +%s%N) / 1000000))
}

# timed_put ID VALUE: a write on the current instance; sets RC and MS (its
# duration in milliseconds); output in $T/out, $T/err.
timed_put()
{
	local t0
	t0=$(now_ms)
	run xdb -w put "$1" "v=$2"
	MS=$(($(now_ms) - t0))
}

# start_pair DURABILITY EPOCH: (re)start a primary, b secondary, in sync.
start_pair()
{
	HA_DURABILITY=$1
	ha_node a 127.0.0.1 "guiSvr.txnSync sync"
	start_guisvr
	set_role primary "$2"
	wait_for_log "get BDB event DB_EVENT_REP_MASTER"
	ha_node b 127.0.0.2 "guiSvr.txnSync sync"
	start_guisvr
	set_role secondary "$2"
	wait_state '^startupDone 1$' 30
	on a wait_state '^peer [0-9]+ 127\.0\.0\.2 connected .* in-sync$' 20
	on a wait_state "^durability $1\$" 2
}

note "sync: writes wait for the in-sync secondary"
start_pair sync 1
instance a
i=0
while [ $i -lt 20 ]; do
	timed_put "0.rep_dur.sync$i" "$i"
	[ "$RC" -eq 0 ] || fail "write $i in sync mode: $(cat "$T/err")"
	i=$((i + 1))
done
on b wait_count 20 10
wait_state '^state in-sync$' 2

note "sync: the secondary frozen (SIGSTOP)"
bpid=$(on b guisvr_pid)
kill -STOP "$bpid"
timed_put 0.rep_dur.frozen1 1
[ "$RC" -eq 0 ] || fail "write with a frozen secondary failed in sync mode: $(cat "$T/err")"
note "first write with the secondary frozen took $MS ms"
[ "$MS" -ge $((ACK_MS - 100)) ] || fail "the write took $MS ms: it did not wait for the ack (ackTimeout $ACK_MS ms)"
[ "$MS" -le $((ACK_MS + 2000)) ] || fail "the write took $MS ms, ackTimeout is $ACK_MS ms"
wait_for_log "state change in-sync -> dirty for peer 127\.0\.0\.2, reason: " 5
wait_state '^state dirty$' 5
wait_state '^peer [0-9]+ 127\.0\.0\.2 .* dirty$' 5
i=0
while [ $i -lt 5 ]; do
	timed_put "0.rep_dur.frozen_more$i" "$i"
	[ "$RC" -eq 0 ] || fail "write with a dirty pair failed: $(cat "$T/err")"
	[ "$MS" -le $((ACK_MS + 1000)) ] || fail "a write with the pair dirty took $MS ms"
	i=$((i + 1))
done
kill -CONT "$bpid"
note "sync: the secondary thawed catches up"
wait_state '^peer [0-9]+ 127\.0\.0\.2 connected .* in-sync$' 30
wait_state '^state in-sync$' 5
wait_for_log "state change dirty -> in-sync for peer 127\.0\.0\.2" 5
wait_converged a b 20 >/dev/null

note "sync: the secondary stopped"
on b stop_guisvr
wait_state '^peer [0-9]+ 127\.0\.0\.2 down ' 10
i=0
while [ $i -lt 5 ]; do
	timed_put "0.rep_dur.down$i" "$i"
	[ "$RC" -eq 0 ] || fail "write with the secondary stopped failed in sync mode: $(cat "$T/err")"
	[ "$MS" -le $((ACK_MS + 2000)) ] || fail "a write with the secondary stopped took $MS ms"
	i=$((i + 1))
done
# no peer connected: "alone"
wait_state '^state (dirty|alone)$' 5
wait_state '^peer [0-9]+ 127\.0\.0\.2 down .* dirty$' 5
on b start_guisvr
on b set_role secondary 1
wait_state '^peer [0-9]+ 127\.0\.0\.2 connected .* in-sync$' 30
wait_state '^state in-sync$' 5
wait_converged a b 20 >/dev/null
on b stop_guisvr
on a stop_guisvr

note "strict: writes acknowledged by the secondary succeed"
start_pair strict 2
instance a
i=0
while [ $i -lt 10 ]; do
	timed_put "0.rep_dur.strict$i" "$i"
	[ "$RC" -eq 0 ] || fail "write $i in strict mode with the secondary up: $(cat "$T/err")"
	i=$((i + 1))
done
on b expect_out ":v (9)" xdb get 0.rep_dur.strict9

note "strict: the secondary frozen (SIGSTOP)"
bpid=$(on b guisvr_pid)
kill -STOP "$bpid"
timed_put 0.rep_dur.strict_frozen 1
[ "$RC" -eq 1 ] || fail "strict write with a frozen secondary: exit $RC, expected 1 ($(cat "$T/out" "$T/err"))"
assert_grep "not acknowledged by a secondary" "$T/err" "strict write with a frozen secondary"
note "refused after $MS ms: $(cat "$T/err")"
[ "$MS" -le $((ACK_MS + 2000)) ] || fail "the strict write took $MS ms"
expect_out ":v (1)" xdb get 0.rep_dur.strict_frozen
timed_put 0.rep_dur.strict_frozen2 2
[ "$RC" -eq 1 ] || fail "second strict write with a frozen secondary: exit $RC, expected 1"
assert_grep "acknowledge" "$T/err"
expect_out ":v (2)" xdb get 0.rep_dur.strict_frozen2
kill -CONT "$bpid"
wait_state '^peer [0-9]+ 127\.0\.0\.2 connected .* in-sync$' 30

note "strict: the secondary stopped"
on b stop_guisvr
wait_state '^peer [0-9]+ 127\.0\.0\.2 down ' 10
timed_put 0.rep_dur.strict_down 1
[ "$RC" -eq 1 ] || fail "strict write with the secondary stopped: exit $RC, expected 1 ($(cat "$T/out" "$T/err"))"
assert_grep "not acknowledged by a secondary|no secondary is connected" "$T/err" \
    "strict write with the secondary stopped"
note "refused after $MS ms: $(cat "$T/err")"
expect_out ":v (1)" xdb get 0.rep_dur.strict_down
# the write is committed on the primary: it reaches the secondary later
on b start_guisvr
on b set_role secondary 2
wait_state '^peer [0-9]+ 127\.0\.0\.2 connected .* in-sync$' 30
on b wait_count "$(xdb count)" 20
on b expect_out ":v (1)" xdb get 0.rep_dur.strict_down
timed_put 0.rep_dur.strict_back 1
[ "$RC" -eq 0 ] || fail "strict write after the secondary returned: $(cat "$T/err")"
wait_converged a b 20 >/dev/null
on b stop_guisvr
on a stop_guisvr
exit 0
