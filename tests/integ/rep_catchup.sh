#!/bin/sh
# rep_catchup.sh — a secondary that falls behind catches up:
#  1. the secondary is killed (-9) under a write load on the primary (4
#     connections of single puts, async durability), restarted while the load
#     goes on: it catches up (every acknowledged id reads back on it, digests
#     equal);
#  2. a fresh, empty secondary joins a primary holding 100k more records
#     whose first log files were removed by checkpoints (internal init):
#     DB_EVENT_REP_STARTUPDONE logged, counts and digests equal.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"

test_init rep_catchup
ha_init

ha_node a 127.0.0.1 "guiSvr.txnSync sync" "guiSvr.checkpointInterval 1s" "guiSvr.removeLogs y"
start_guisvr
set_role primary 1
wait_for_log "get BDB event DB_EVENT_REP_MASTER"
ha_node b 127.0.0.2 "guiSvr.txnSync sync"
start_guisvr
set_role secondary 1
wait_for_log "get BDB event DB_EVENT_REP_STARTUPDONE" 30

note "kill -9 the secondary under a write load"
instance a
torture -T 120 puts 0.rep_catchup.load 1 30000 "$T/acked" 4 >"$T/load.out" 2>&1 &
loadpid=$!
echo $loadpid >"$T/load.helper"
instance b
n=0
c=0
while [ $n -lt 200 ]; do
	c=$(xdb count 2>/dev/null || echo 0)
	[ "$c" -ge 1000 ] && break
	sleep 0.1
	n=$((n + 1))
done
[ "$c" -ge 1000 ] || fail "the secondary holds $c records after 20 s of load"
kill9_guisvr
note "killed b with $c records replicated"
sleep 1
on a wait_state '^peer [0-9]+ 127\.0\.0\.2 down ' 10
acked_then=$(wc -l <"$T/acked" | tr -d ' ')
pid_alive "$loadpid" || note "the load ended while b was down"
start_guisvr
set_role secondary 1
wait_state '^startupDone 1$' 30
note "b restarted ($acked_then acknowledged puts when it came back); waiting for the load"
st=0
wait "$loadpid" || st=$?
rm -f "$T/load.helper"
[ "$st" -eq 0 ] || fail "the write load on the primary failed (exit $st): $(tail -n 3 "$T/load.out")"
assert_eq 30000 "$(wc -l <"$T/acked" | tr -d ' ')" "acknowledged puts"
wait_converged a b 60 >/dev/null
torture check "$T/acked" >/dev/null || fail "acknowledged puts missing on the restarted secondary"
on a wait_state '^peer [0-9]+ 127\.0\.0\.2 connected .* in-sync$' 10
stop_guisvr

note "a fresh empty secondary joins a 100k-record primary"
"$XDBGEN" -n 100000 -s 3 -o "$T/gen.txt"
instance a
expect_rc 0 xdb -w load -b 1000 "$T/gen.txt"
total=$(xdb count)
# let the checkpoint thread (every second) remove the first log files
n=0
while [ -e "$VAR/xdb/log/log.0000000001" ] && [ $n -lt 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
if [ -e "$VAR/xdb/log/log.0000000001" ]; then
	note "log.0000000001 is still on the primary: the join may replay logs instead of an internal init"
fi
HA_REPLICAS=
ha_node c 127.0.0.2 "guiSvr.txnSync sync"
t0=$(date +%s.%N)
start_guisvr
set_role secondary 1
wait_for_log "get BDB event DB_EVENT_REP_STARTUPDONE" 120
wait_count "$total" 60
t1=$(date +%s.%N)
note "c joined with $total records in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s$(grep -q DB_EVENT_REP_INIT_DONE "$LOG" && echo ' (internal init)')"
wait_converged a c 30 >/dev/null
wait_state '^startupDone 1$' 5
on a wait_state '^peer [0-9]+ 127\.0\.0\.2 connected .* in-sync$' 10
on c stop_guisvr
on a stop_guisvr
exit 0
