#!/bin/sh
# rep_three.sh — one primary and two secondaries: a (127.0.0.1) primary, b
# (127.0.0.2, highAvail.secondaryAddr) and c (127.0.0.3, in
# highAvail.replicaAddrs) secondaries. Records written before and after the
# secondaries join, in batches and single puts, converge on all three; the
# primary's state lists both peers connected and in-sync; both secondaries
# refuse writes naming the primary; a secondary restarted while writes go on
# converges again.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"

test_init rep_three
ha_init
HA_REPLICAS=127.0.0.3

ha_node a 127.0.0.1
start_guisvr
assert_grep "read highAvail.heartbeatPort; myAddr = 127.0.0.1" "$LOG"
set_role primary 1
wait_for_log "get BDB event DB_EVENT_REP_MASTER"
"$XDBGEN" -n 3000 -s 11 -o "$T/gen.txt"
expect_rc 0 xdb -w load -b 300 "$T/gen.txt"

note "two secondaries join"
for n in b:127.0.0.2 c:127.0.0.3; do
	ha_node "${n%%:*}" "${n#*:}"
	start_guisvr
	set_role secondary 1
done
for n in b c; do
	instance $n
	wait_for_log "get BDB event DB_EVENT_REP_NEWMASTER" 20
	wait_for_log "get BDB event DB_EVENT_REP_STARTUPDONE" 30
	wait_state '^startupDone 1$' 10
done
instance a
wait_state '^peer [0-9]+ 127\.0\.0\.2 connected .* in-sync$' 20
wait_state '^peer [0-9]+ 127\.0\.0\.3 connected .* in-sync$' 20

note "writes on the primary reach both"
torture puts 0.rep_three.p 1 3000 "$T/acked" 3 >/dev/null || fail "puts on the primary failed"
xdb -w set 0.rep_three.last mark=end >/dev/null
total=$(xdb count)
for n in b c; do
	on $n wait_count "$total" 60
done
wait_converged a b 30 >/dev/null
wait_converged a c 30 >/dev/null
for n in b c; do
	instance $n
	torture check "$T/acked" >/dev/null || fail "acknowledged puts missing on $n"
	expect_rc 1 xdb -w put "0.rep_three.on$n" x=y
	assert_grep "127\.0\.0\.1" "$T/err" "write on $n: the refusal does not name the primary"
done

note "c restarts while writes go on"
on c stop_guisvr
instance a
torture puts 0.rep_three.q 1 2000 "$T/acked2" 2 >/dev/null || fail "puts while c is down"
on a wait_state '^peer [0-9]+ 127\.0\.0\.3 down ' 10
instance c
start_guisvr
set_role secondary 1
wait_state '^startupDone 1$' 30
total=$(on a xdb count)
wait_count "$total" 60
d1=$(wait_converged a b 30)
d2=$(wait_converged a c 30)
assert_eq "$d1" "$d2" "digests of b and c"
on a wait_state '^peer [0-9]+ 127\.0\.0\.3 connected .* in-sync$' 20
on a wait_state '^peer [0-9]+ 127\.0\.0\.2 connected .* in-sync$' 5
note "$total records, digest $d1 on all three"
on c stop_guisvr
on b stop_guisvr
on a stop_guisvr
exit 0
