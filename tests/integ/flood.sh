#!/bin/sh
# flood — clients that misbehave cannot take the service from the others.
#  guisvr: 300 TCP connections that never start a TLS handshake do not
#  keep a local client out, nor a remote client with the right key for
#  longer than the handshake deadline, and are logged a few times, not 300;
#  10 local connections that pipeline 3000 STATUS requests each and never
#  read do not slow a normal client down; 8 requests of 599,000 attributes
#  each are refused from their count, not decoded.
#  hasvr: a client that pipelines 20,000 STATUS requests without reading
#  does not grow hasvr's memory; 64 idle connections of the group do not
#  lock root out of haStatus.
. "$top_srcdir/tests/integ/lib.sh"
test_init flood
# memory is measured below: under AddressSanitizer freed memory stays in a
# quarantine and would count as growth; keep it small so that RSS shows
# what the daemons hold
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1:thread_local_quarantine_size_kb=16"
export ASAN_OPTIONS
PORT=$(pick_port)
instance a
write_key
write_cfg "guiSvr.txnSync nosync" "guiSvr.listenAddr 127.0.0.1" \
    "guiSvr.listenPort $PORT" "guiSvr.clientKeyFile $KEYFILE"
start_guisvr
xdb -w set 0.flood.1 v=1 >/dev/null || fail "first write"
# timed CMD...: run CMD, its wall time in ms in $MS
timed()
{
	local t0
	t0=$(date +%s%N)
	run "$@"
	MS=$(( ($(date +%s%N) - t0) / 1000000 ))
}

note "300 idle TCP connections without a TLS handshake"
"$TORTURE" -T 60 -H 127.0.0.1 -P "$PORT" flood 300 20 >"$T/flood.out" 2>&1 &
echo $! >"$T/flood.helper"
sleep 1
timed timeout 5 "$XDB" -f "$CFG" count
[ "$RC" -eq 0 ] || fail "a local client was locked out: $(cat "$T/err")"
note "local xdb count during the flood: ${MS} ms"
n=0
until "$XDB" -H 127.0.0.1 -P "$PORT" -k "$KEYFILE" status >/dev/null 2>"$T/rerr"; do
	n=$((n + 1))
	[ $n -lt 100 ] || fail "a remote client with the right key stayed locked out: $(cat "$T/rerr")"
	sleep 0.1
done
note "the remote client with the right key got in after $((n / 10)).$((n % 10)) s (handshake deadline 5 s)"
wait_for_log "client authentication failed from 127\.0\.0\.1:[0-9]+: no TLS handshake within 5 s" 10
wait "$(cat "$T/flood.helper")" 2>/dev/null || true
rm -f "$T/flood.helper"
cat "$T/flood.out"
lines=$(grep -c "refusing a remote client\|client authentication failed\|more client authentications failed" "$LOG" || true)
note "log lines about the flood: $lines"
[ "$lines" -le 20 ] || fail "$lines log lines for one flood: not rate-limited"
assert_grep "refusing a remote client from 127\.0\.0\.1: 16 connections from 127\.0\.0\.1 already" "$LOG"

note "10 local connections pipelining 3000 STATUS requests, never reading"
"$TORTURE" -T 60 -s "$SOCK" flood 10 15 9 3000 >"$T/flood2.out" 2>&1 &
echo $! >"$T/flood2.helper"
sleep 2
timed timeout 10 "$XDB" -f "$CFG" count
[ "$RC" -eq 0 ] || fail "xdb count failed beside the slow readers: $(cat "$T/err")"
note "xdb count beside them: ${MS} ms"
[ "$MS" -lt 5000 ] || fail "xdb count took $MS ms beside clients that do not read"
wait "$(cat "$T/flood2.helper")" 2>/dev/null || true
rm -f "$T/flood2.helper"
note "8 PUTs at once of 599,000 attributes all named a (4 MB each)"
grss() { awk '/^VmRSS/ { print $2 }' "/proc/$(guisvr_pid)/status"; }
before=$(grss)
"$TORTURE" -T 60 -s "$SOCK" dupattrs 0.flood.dup 599000 8 >"$T/dup.out" 2>&1 ||
    fail "dupattrs: $(cat "$T/dup.out")"
after=$(grss)
note "guisvr RSS ${before} kB before, ${after} kB after"
[ "$(grep -c "ERR 2 .*more than the 100000 a record may have" "$T/dup.out")" -eq 8 ] ||
    fail "the 8 requests were not refused for their attribute count: $(cat "$T/dup.out")"
[ $((after - before)) -lt 65536 ] || fail "guisvr grew by $((after - before)) kB for 8 requests"
assert_alive "the floods"
stop_guisvr

note "hasvr: 20,000 pipelined STATUS requests, never read"
ha_init
hasvr_node h 127.0.0.1
start_hasvr
hpid=$(hasvr_pid)
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
before=$(rss "$hpid")
"$TORTURE" -T 60 -s "$VAR/run/haSvr.sock" flood 1 8 300 20000 >"$T/flood3.out" 2>&1 &
echo $! >"$T/flood3.helper"
sleep 4
during=$(rss "$hpid")
note "hasvr RSS ${before} kB before, ${during} kB with the unread replies"
[ $((during - before)) -lt 8192 ] || fail "hasvr grew by $((during - before)) kB for one client that does not read"
hastatus --json >/dev/null 2>&1 || [ $? -eq 1 ] || fail "haStatus failed beside the flood"
wait "$(cat "$T/flood3.helper")" 2>/dev/null || true
rm -f "$T/flood3.helper"

if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	note "64 idle control-socket connections of the group; root still gets in"
	chmod 755 "$T" "$T/h" "$VAR" "$VAR/run"
	chgrp "$(id -gn nobody)" "$VAR/run/haSvr.sock"
	su -s /bin/sh nobody -c "'$TORTURE' -T 60 -s '$VAR/run/haSvr.sock' flood 64 10" \
	    >"$T/flood4.out" 2>&1 &
	echo $! >"$T/flood4.helper"
	sleep 2
	st=0
	timeout 5 "$HASTATUS" -s "$VAR/run/haSvr.sock" --json >"$T/out" 2>&1 || st=$?
	[ $st -eq 0 ] || [ $st -eq 1 ] || fail "root's haStatus locked out ($st): $(cat "$T/out")"
	wait "$(cat "$T/flood4.helper")" 2>/dev/null || true
	rm -f "$T/flood4.helper"
	cat "$T/flood4.out"
	assert_grep "refusing a connection of uid" "$(hlog)"
fi
stop_hasvr
echo ok
