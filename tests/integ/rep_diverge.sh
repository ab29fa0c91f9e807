#!/bin/sh
# rep_diverge.sh — diverged histories are preserved, not silently lost:
# a primary, b secondary, in sync; b stops; a writes records X; a stops; b
# starts and is made primary, writes records Y; a starts and is told to be
# secondary. Then a's X is preserved in a's var/xdb/diverged-*/ (a hot
# backup holding X), the log reports "diverged history: N transactions
# rolled back; preserved in DIR" with N = the transactions of X, and a holds
# exactly b's data (digests equal: Y present, X gone).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"

test_init rep_diverge
ha_init
HA_DURABILITY=sync
NX=5

ha_node a 127.0.0.1 "guiSvr.txnSync sync"
start_guisvr
set_role primary 1
wait_for_log "get BDB event DB_EVENT_REP_MASTER"
"$XDBGEN" -n 500 -s 5 -o "$T/gen.txt"
expect_rc 0 xdb -w load -b 100 "$T/gen.txt"
ha_node b 127.0.0.2 "guiSvr.txnSync sync"
start_guisvr
set_role secondary 1
wait_state '^startupDone 1$' 30
on a wait_state '^peer [0-9]+ 127\.0\.0\.2 connected .* in-sync$' 20
common=$(wait_converged a b 20)
note "in sync: $(on a xdb count) records"

note "b stops; a writes $NX transactions X"
on b stop_guisvr
instance a
wait_state '^peer [0-9]+ 127\.0\.0\.2 down ' 10
i=1
while [ $i -le $NX ]; do
	xdb -w put "0.rep_diverge.x$i" "lost=only-on-a-XVALUE-$$-$i" >/dev/null ||
	    fail "write X$i on a"
	i=$((i + 1))
done
stop_guisvr

note "b becomes primary and writes Y"
instance b
start_guisvr
set_role primary 2
wait_for_log "get BDB event DB_EVENT_REP_MASTER" 10
wait_state '^role primary$' 5
i=1
while [ $i -le 3 ]; do
	xdb -w put "0.rep_diverge.y$i" "kept=written-on-b-$i" >/dev/null || fail "write Y$i on b"
	i=$((i + 1))
done
xdb -w del 0.rep_diverge.nonexistent >/dev/null 2>&1 || true
btotal=$(xdb count)

note "a returns and is told to be secondary"
instance a
mv "$LOG" "$LOG.before"
start_guisvr
set_role secondary 2
wait_for_log "diverged history: [0-9]+ transactions? rolled back; preserved in " 60
line=$(grep -E "diverged history: [0-9]+ transactions? rolled back; preserved in " "$LOG" | head -n 1)
note "a's log: ${line#*] }"
nrb=$(echo "$line" | sed -n 's/.*diverged history: \([0-9]*\) transaction.*/\1/p')
assert_eq "$NX" "$nrb" "transactions reported rolled back"
dir=$(echo "$line" | sed -n 's/.*preserved in \([^ ;,]*\).*/\1/p')
dir=${dir%.}
case "$dir" in
"$VAR"/xdb/diverged-*) ;;
*) fail "the preserved copy '$dir' is not under $VAR/xdb/diverged-*" ;;
esac
[ -d "$dir" ] || fail "the preserved copy $dir does not exist"
ls "$VAR"/xdb/diverged-* >/dev/null 2>&1 || fail "no $VAR/xdb/diverged-*"
i=1
while [ $i -le $NX ]; do
	grep -rqa "only-on-a-XVALUE-$$-$i" "$dir" || fail "X$i is not in the preserved copy $dir"
	i=$((i + 1))
done
note "X preserved in $dir ($(ls "$dir" | tr '\n' ' '))"

wait_state '^startupDone 1$' 30
wait_count "$btotal" 30
wait_converged a b 30 >/dev/null
run xdb get 0.rep_diverge.x1
[ "$RC" -ne 0 ] || fail "X1 is still on a after the sync-up"
expect_out ":kept (written-on-b-3)" xdb get 0.rep_diverge.y3
on b wait_state '^peer [0-9]+ 127\.0\.0\.1 connected .* in-sync$' 20
d=$(on b digest)
[ "$d" != "$common" ] || fail "digest unchanged by Y"

on a stop_guisvr
on b stop_guisvr
exit 0
