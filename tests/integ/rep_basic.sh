#!/bin/sh
# rep_basic.sh — two guisvr nodes replicate the management database: a on
# 127.0.0.1 made primary, b on 127.0.0.2 made secondary over the ha-link
# (halinkctl, as hasvr would). Checks the Berkeley DB events in the logs
# (MASTER on a; CLIENT, NEWMASTER, STARTUPDONE on b), the address and ha-link
# log lines, 10k records written on the primary as batched loads and as
# single puts (from several connections) arriving identical on the secondary
# (digests of `xdb dump` minus its header), reads on the secondary, and a
# write on the secondary refused with the primary's address.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"

test_init rep_basic
ha_init

note "two nodes: a (127.0.0.1) primary, b (127.0.0.2) secondary"
ha_node a 127.0.0.1 "guiSvr.txnSync sync"
start_guisvr
assert_grep "read highAvail.heartbeatPort; myAddr = 127.0.0.1" "$LOG"
assert_grep "read highAvail.heartbeatPort; peerAddr = 127.0.0.2" "$LOG"
set_role primary 1
wait_for_log "connectionMgr connected to ha-link"
wait_for_log "get BDB event DB_EVENT_REP_MASTER"
wait_state '^role primary$'
xdb -w put 0.rep_basic.first note=before-the-secondary >/dev/null

ha_node b 127.0.0.2 "guiSvr.txnSync sync"
start_guisvr
assert_grep "read highAvail.heartbeatPort; myAddr = 127.0.0.2" "$LOG"
assert_grep "read highAvail.heartbeatPort; peerAddr = 127.0.0.1" "$LOG"
set_role secondary 1
wait_for_log "connectionMgr connected to ha-link"
wait_for_log "get BDB event DB_EVENT_REP_CLIENT" 10
wait_for_log "get BDB event DB_EVENT_REP_NEWMASTER" 20
wait_for_log "get BDB event DB_EVENT_REP_STARTUPDONE" 30
wait_state '^startupDone 1$' 10
wait_state '^role secondary$'
wait_count 1 10
expect_out ":note (before-the-secondary)" xdb get 0.rep_basic.first

instance a
wait_state '^peer [0-9]+ 127\.0\.0\.2 connected .* in-sync$' 20

note "batched loads on the primary: 6000 records"
"$XDBGEN" -n 6000 -s 7 -o "$T/gen.txt"
instance a
expect_rc 0 xdb -w load -b 500 "$T/gen.txt"

note "single puts on the primary: 4000 records from 4 connections"
torture puts 0.rep_single.r 1 4000 "$T/acked" 4 >/dev/null ||
    fail "single puts on the primary failed"
assert_eq 4000 "$(wc -l <"$T/acked" | tr -d ' ')" "acknowledged single puts"
total=$(xdb count)
assert_eq 10001 "$total" "records on the primary (6000 loaded + 4000 put + 1)"

note "the secondary converges ($total records)"
on b wait_count "$total" 60
d=$(wait_converged a b 30)
note "digest $d on both"
instance b
torture check "$T/acked" >/dev/null || fail "single puts do not read back on the secondary"

note "a write on the secondary is refused, naming the primary"
expect_rc 1 xdb -w put 0.rep_basic.onb x=y
assert_grep "127\.0\.0\.1" "$T/err" "refused write does not name the primary"
expect_rc 1 xdb -w del 0.rep_basic.first
assert_grep "127\.0\.0\.1" "$T/err"
expect_out ":note (before-the-secondary)" xdb get 0.rep_basic.first
assert_eq "$total" "$(xdb count)" "records on the secondary after the refused writes"

note "state on both"
on a ha_state | sed 's/^/  a: /'
on b ha_state | sed 's/^/  b: /'
on a stop_guisvr
on b stop_guisvr
exit 0
