#!/bin/sh
# ha_stall — a secondary whose hasvr was stopped (SIGSTOP: a frozen VM, a
# starved process) for longer than deadInterval does not take over when it
# runs again: the primary's heartbeats that arrived meanwhile wait in its
# socket, and it decides only once it has read them. It logs the stall.
. "$top_srcdir/tests/integ/lib.sh"
test_init ha_stall
ha_init

hasvr_node a 127.0.0.1; start_hasvr
hasvr_node b 127.0.0.2; start_hasvr
on a wait_role PRIMARY 20
on b wait_role SECONDARY 20
on b hastatus -w 30 >/dev/null || fail "pair not healthy before the test"
epoch=$(on a jget .node.epoch)

for round in 1 2 3; do
	note "round $round: b's hasvr stopped for 1.5 s (deadInterval 500 ms), then resumed"
	instance b
	pid=$(hasvr_pid)
	kill -STOP "$pid"
	sleep 1.5
	kill -CONT "$pid"
	sleep 1
	instance b
	assert_eq SECONDARY "$(role_of)" "b after its stall (round $round)"
	instance a
	assert_eq PRIMARY "$(role_of)" "a after b's stall (round $round)"
	assert_eq "$epoch" "$(jget .node.epoch)" "a's epoch after b's stall (round $round)"
done
instance b
assert_grep "hasvr's event loop stalled for [0-9]+ ms" "$(hlog)"
assert_no_grep "become PRIMARY" "$(hlog)"
on b stop_hasvr
on a stop_hasvr
echo ok
