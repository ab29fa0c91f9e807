#!/bin/sh
# guisvr_lease.sh — the arbiter lease (HL_LEASE), given with halinkctl as
# hasvr's arbiter mode would, to one guisvr with HA on (its peer never
# runs), made primary:
#   - without any lease it takes writes for longer than any lease below
#     (pair mode is unchanged) and its state shows no lease;
#   - `lease 1500`: it takes writes, then, not renewed, refuses them with
#     the lease's words once the lease ran out, logs that once, and its
#     state shows the lease at 0;
#   - `lease 5000` renews it: writes again at once, the renewal logged
#     (once, not for every renewal); `lease 0` ends it at once;
#   - a secondary ignores the lease; promoted with the lease out, it
#     refuses writes for the lease;
#   - after a restart guisvr is in pair mode again.
# halinkctl checks the number; a guisvr with HA off refuses a lease.
# Every wait is bounded polling; no timing is asserted tighter than the
# lease itself.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"

test_init lease
ha_init

RO_MSG="this node's arbiter lease ran out (is etcd reachable?): it takes no writes until hasvr renews the lease or steps it down"

now_ms()
{
	echo $(($(date +%s%N) / 1000000))
}

# put ID: one write (sets RC; output in $T/out, $T/err).
put()
{
	run xdb -w put "$1" a=1
}

# refused_for_lease ID: a write of ID is refused with the lease's words.
refused_for_lease()
{
	put "$1"
	[ "$RC" -ne 0 ] && grep -Fqx -- "xdb: $RO_MSG" "$T/err"
}

# lines PATTERN: how many lines of guiDaemon.0 match PATTERN.
lines()
{
	grep -Ec -- "$1" "$LOG" || true
}

# lease_put MS ID: a lease of MS ms, then a write of ID that must succeed.
# On a machine too loaded to write within the lease, the write may
# meet the lease run out: then (only) it is tried again with a new lease.
lease_put()
{
	local i t0
	i=0
	while [ $i -lt 5 ]; do
		t0=$(now_ms)
		expect_out "lease of $1 ms accepted" halinkctl lease "$1"
		put "$2"
		[ "$RC" -eq 0 ] && return 0
		[ $(($(now_ms) - t0)) -ge $(($1 - 100)) ] ||
		    fail "write $2 refused within a lease of $1 ms: $(cat "$T/err")"
		i=$((i + 1))
	done
	fail "write $2 never made it within a lease of $1 ms (machine overloaded?)"
}

note "HA off: a lease is refused, with the reason"
instance off
write_cfg "guiSvr.haConfig $HACFG"
start_guisvr
expect_rc 1 halinkctl lease 1000
assert_grep "lease: no .*haSvr.cfg" "$T/err" "the refused lease does not say why"
stop_guisvr

note "halinkctl checks the number"
ha_node a 127.0.0.1
expect_rc 2 halinkctl lease
expect_rc 2 halinkctl lease abc
expect_rc 2 halinkctl lease -1
expect_rc 2 halinkctl lease 4294967296
assert_grep "lease '4294967296': expected a number from 0 to 4294967295" "$T/err"
expect_rc 2 halinkctl lease 10 20
expect_rc 0 halinkctl -h
assert_grep "lease MS" "$T/out" "usage does not name lease"

note "pair mode: no lease, writes taken for longer than any lease"
start_guisvr
set_role primary 1
wait_for_log "get BDB event DB_EVENT_REP_MASTER"
put 0.lease.pair1
[ "$RC" -eq 0 ] || fail "write without a lease: $(cat "$T/err")"
sleep 2.5
put 0.lease.pair2
[ "$RC" -eq 0 ] || fail "write 2.5 s later without a lease: $(cat "$T/err")"
ha_state >/dev/null
assert_no_grep "lease" "$T/state" "state shows a lease nobody gave"
assert_no_grep "arbiter" "$LOG" "pair mode logged the arbiter lease"

note "lease 1500: writes, then refused once it ran out"
lease_put 1500 0.lease.l1
assert_grep "arbiter mode: hasvr holds this node's role under a lease" "$LOG"
ha_state >/dev/null
assert_grep "^leaseLeftMs [0-9]+$" "$T/state" "state shows no lease"
# not renewed: within a bounded time the lease's refusal
wait_until 10 "writes still taken after the lease of 1500 ms ran out" \
    refused_for_lease 0.lease.l2
refused_for_lease 0.lease.l3 || fail "the refusal is not the lease's: $(cat "$T/err")"
wait_for_log "arbiter lease ran out: not renewed in time"
assert_eq 0 "$(state_value leaseLeftMs)" "leaseLeftMs once the lease ran out"
sleep 0.5
assert_eq 1 "$(lines 'arbiter lease ran out')" "lines saying the lease ran out"

note "lease 5000 renews it: writes again at once"
expect_out "lease of 5000 ms accepted" halinkctl lease 5000
put 0.lease.r1
[ "$RC" -eq 0 ] || fail "write right after the renewal: $(cat "$T/err")"
wait_for_log "arbiter lease renewed after it had run out"
left=$(state_value leaseLeftMs)
[ -n "$left" ] && [ "$left" -gt 0 ] && [ "$left" -le 4950 ] ||
    fail "leaseLeftMs after a renewal of 5000 ms: '$left'"
expect_out "lease of 5000 ms accepted" halinkctl lease 5000
put 0.lease.r2
[ "$RC" -eq 0 ] || fail "write after a second renewal: $(cat "$T/err")"
assert_eq 1 "$(lines 'arbiter lease renewed')" "lines saying the lease was renewed"
assert_eq 1 "$(lines 'arbiter lease ran out')" "lines saying the lease ran out"

note "lease 0 ends it at once"
expect_out "lease ended" halinkctl lease 0
refused_for_lease 0.lease.z1 || fail "write after lease 0: rc $RC, $(cat "$T/err")"
wait_for_log "arbiter lease ran out: hasvr ended it"
assert_eq 0 "$(state_value leaseLeftMs)" "leaseLeftMs after lease 0"
expect_rc 0 xdb get 0.lease.r2
expect_rc 1 xdb get 0.lease.z1

note "a secondary ignores the lease; promoted with it out, refuses writes"
set_role secondary 2
put 0.lease.s1
[ "$RC" -ne 0 ] || fail "a secondary took a write"
assert_grep "this node is secondary" "$T/err" "a secondary's refusal: $(cat "$T/err")"
set_role primary 3
refused_for_lease 0.lease.s2 || fail "promoted with the lease out: rc $RC, $(cat "$T/err")"
lease_put 5000 0.lease.s3
assert_eq 2 "$(lines 'arbiter lease ran out')" "lines saying the lease ran out"
assert_eq 2 "$(lines 'arbiter lease renewed')" "lines saying the lease was renewed"

note "after a restart: pair mode again"
stop_guisvr
mv "$LOG" "$LOG.1"
start_guisvr
set_role primary 4
wait_for_log "get BDB event DB_EVENT_REP_MASTER"
put 0.lease.after1
[ "$RC" -eq 0 ] || fail "write after the restart: $(cat "$T/err")"
sleep 2
put 0.lease.after2
[ "$RC" -eq 0 ] || fail "write 2 s after the restart: $(cat "$T/err")"
ha_state >/dev/null
assert_no_grep "lease" "$T/state" "state shows a lease after the restart"
stop_guisvr
