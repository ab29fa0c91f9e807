#!/bin/sh
# ha_heartbeat — forged, replayed, wrong-key and unknown-source heartbeats
# sent at a live primary are rejected, counted in haStatus, logged (rate
# limited) and change nothing: the pair stays healthy, roles unchanged.
. "$top_srcdir/tests/integ/lib.sh"
test_init ha_heartbeat
HBINJECT=$top_builddir/tests/integ/hbinject
[ -x "$HBINJECT" ] || fail "$HBINJECT not built"
command -v tcpdump >/dev/null || fail "tcpdump not installed (scripts/setup.sh installs it)"
[ "$(id -u)" = 0 ] || skip "capturing heartbeats on lo needs root"
ha_init

hasvr_node a 127.0.0.1; start_hasvr
hasvr_node b 127.0.0.2; start_hasvr
on a wait_role PRIMARY 20
on b wait_role SECONDARY 20
on a hastatus -w 30 >/dev/null || fail "pair not healthy"
instance a
epoch=$(jget .node.epoch)

note "capture b's heartbeats to a"
tcpdump -i lo -U -n -c 20 -w "$T/hb.pcap" "udp and src host 127.0.0.2 and dst port $HA_HPORT" \
    >"$T/tcpdump.out" 2>&1 &
echo $! >"$T/tcpdump.helper"
n=0
while kill -0 "$(cat "$T/tcpdump.helper")" 2>/dev/null && [ $n -lt 100 ]; do
	sleep 0.1; n=$((n + 1))
done
kill "$(cat "$T/tcpdump.helper")" 2>/dev/null || true
wait "$(cat "$T/tcpdump.helper")" 2>/dev/null || true
rm -f "$T/tcpdump.helper"

before_replay=$(jget '.peers[0].rejected.replay')
note "replay the 20 captured heartbeats from 127.0.0.2"
"$HBINJECT" replay "$T/hb.pcap" 127.0.0.2 127.0.0.1 "$HA_HPORT" >"$T/inj.out" ||
    fail "replay failed: $(cat "$T/inj.out")"
assert_grep "sent 20" "$T/inj.out"
note "50 forged heartbeats, 30 signed with another key, 10 from an unknown address"
"$HBINJECT" forge 127.0.0.2 127.0.0.1 "$HA_HPORT" 50 >/dev/null || fail "forge failed"
"$HBINJECT" wrongkey 127.0.0.2 127.0.0.1 "$HA_HPORT" 30 2 \
    "not-the-group-key-0123456789abcdef" >/dev/null || fail "wrongkey failed"
"$HBINJECT" wrongkey 127.0.0.3 127.0.0.1 "$HA_HPORT" 10 2 "$HA_KEY" >/dev/null ||
    fail "unknown source failed"
sleep 0.5

replay=$(jget '.peers[0].rejected.replay')
mac=$(jget '.peers[0].rejected.mac')
unknown=$(jget '.heartbeat.rejected.unknownSource')
[ $((replay - before_replay)) -ge 20 ] || fail "replayed heartbeats counted $((replay - before_replay)), not 20"
[ "$mac" -ge 80 ] || fail "forged + wrong-key heartbeats counted $mac, not 80"
[ "$unknown" -ge 10 ] || fail "unknown-source heartbeats counted $unknown, not 10"
note "rejected: replay $replay, mac $mac, unknown source $unknown"

assert_grep "heartbeat from 127\.0\.0\.2 rejected: .*(replay|sequence)" "$(hlog)"
assert_grep "heartbeat from 127\.0\.0\.2 rejected: bad HMAC" "$(hlog)"
assert_grep "heartbeat from 127\.0\.0\.3 rejected" "$(hlog)"
lines=$(grep -c "heartbeat from 127\.0\.0\.2 rejected: bad HMAC" "$(hlog)")
[ "$lines" -le 3 ] || fail "80 bad heartbeats logged $lines lines: no rate limit"

note "nothing changed: same roles, same epoch, healthy"
hastatus -w 10 >"$T/status" || { cat "$T/status" >&2; fail "a not healthy after the attack"; }
assert_grep "rejected heartbeats: [0-9]+ \(mac [0-9]+, replay [0-9]+" "$T/status"
assert_eq PRIMARY "$(role_of)" "a's role"
assert_eq "$epoch" "$(jget .node.epoch)" "a's epoch"
assert_eq SECONDARY "$(on b role_of)" "b's role"

note "build check: b restarted as another build; database sync refused"
on b stop_hasvr
export HASVR_BUILD_TAG=other-build
on b start_hasvr
unset HASVR_BUILD_TAG
n=0
while [ "$(jget '.peers[0].buildMatch')" != false ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
assert_eq false "$(jget '.peers[0].buildMatch')" "a sees b's other build"
expect_rc 1 hastatus
assert_grep "runs another build \(hasvr [^)]*\+other-build\)" "$T/out"
assert_grep "peer 127\.0\.0\.2 runs build .*database sync refused" "$(hlog)"
wait_state "^sync off$" 10
on b wait_role SECONDARY 20
note "same build again: sync resumes"
on b stop_hasvr
on b start_hasvr
hastatus -w 30 >/dev/null || fail "a not healthy once the builds match"
wait_state "^sync on$" 10
assert_grep "peer 127\.0\.0\.2 now runs the same build" "$(hlog)"
on b stop_hasvr
on a stop_hasvr
echo ok
