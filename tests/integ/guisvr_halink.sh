#!/bin/sh
# guisvr_halink.sh — the ha-link, driven with halinkctl as hasvr would:
# standalone (no haSvr.cfg), HA turned off (isHaEnabled n: role refused,
# naming the file), and HA on (the node and peer addresses logged, role
# primary given and shown by state and by the records tool's status, the
# event reaches a subscriber). Each connection is logged as
# "connectionMgr connected to ha-link".
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"

HALINKCTL=$top_builddir/utils/halinkctl
test_init halink
[ -x "$HALINKCTL" ] || fail "$HALINKCTL not built"
instance a
HACFG=$T/a/haSvr.cfg

halinkctl()
{
	"$HALINKCTL" -f "$CFG" "$@"
}

note "standalone: no haSvr.cfg"
write_cfg "guiSvr.haConfig $HACFG"
start_guisvr
assert_grep "no $HACFG \(guiSvr.haConfig\): running standalone" "$LOG"
expect_out "role standalone" halinkctl state
wait_for_log "connectionMgr connected to ha-link"
wait_for_log "connectionMgr ha-link closed"
expect_rc 1 halinkctl role primary
assert_grep "role primary: no $HACFG" "$T/err" "refused role does not say why"
expect_rc 1 halinkctl sync off
expect_rc 0 halinkctl events -t 1
[ ! -s "$T/out" ] || fail "events printed something with HA off: $(cat "$T/out")"
expect_rc 2 halinkctl role boss
expect_rc 2 halinkctl sync maybe
stop_guisvr
expect_rc 1 halinkctl state
assert_grep "is guisvr running\?" "$T/err" "halinkctl against a stopped guisvr"

note "HA off: highAvail.isHaEnabled n"
(umask 077; printf 'highAvail.isHaEnabled n\n' >"$HACFG")
expect_out "configuration OK" "$GUISVR" -n -f "$CFG"
start_guisvr
expect_out "role standalone" halinkctl state
expect_rc 1 halinkctl role secondary -e 3
assert_grep "highAvail.isHaEnabled is n in $HACFG" "$T/err"
expect_rc 0 xdb status
assert_grep "^role standalone" "$T/out" "xdb status with HA off"
stop_guisvr

note "haSvr.cfg readable by others is refused"
chmod 644 "$HACFG"
expect_rc 1 "$GUISVR" -n -f "$CFG"
assert_grep "readable by others" "$T/err"
chmod 600 "$HACFG"

note "HA on: addresses logged, role primary"
rport=$(pick_port)
(umask 077; cat >"$HACFG" <<-EOF
	highAvail.isHaEnabled   y
	highAvail.myAddr        127.0.0.1
	highAvail.primaryAddr   127.0.0.1
	highAvail.secondaryAddr 127.0.0.2
	highAvail.replicationPort $rport
	highAvail.HMACKey       halink-test-key-0123456789
	highAvail.durability    async
	EOF
)
expect_out "configuration OK" "$GUISVR" -n -f "$CFG"
mv "$LOG" "$LOG.off"    # the log lines waited for below are this run's
start_guisvr
assert_grep "read highAvail.heartbeatPort; myAddr = 127.0.0.1" "$LOG"
assert_grep "read highAvail.heartbeatPort; peerAddr = 127.0.0.2" "$LOG"
"$HALINKCTL" -f "$CFG" events -t 20 -n 1 >"$T/events" 2>&1 &
echo $! >"$T/events.helper"
wait_for_log "subscribed to replication events"
expect_out "role primary (epoch 1) accepted" halinkctl role primary -e 1
expect_rc 0 halinkctl state
assert_grep "^role primary" "$T/out" "state after role primary"
n=0
while [ ! -s "$T/events" ] && [ $n -lt 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
assert_grep "DB_EVENT_REP_MASTER" "$T/events" "the subscriber saw no DB_EVENT_REP_MASTER"
expect_rc 0 xdb status
assert_grep "^role primary" "$T/out" "xdb status after role primary"
stop_guisvr
