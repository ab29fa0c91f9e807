#!/bin/sh
# guisvr_tls.sh — the remote client service: TLS 1.3 with a PSK derived from
# guiSvr.clientKeyFile on 127.0.0.1. The right key works for every command;
# a wrong key is refused and logged ("authentication failed from
# 127.0.0.1"); plain-text and garbage bytes on the TLS port do not hurt the
# daemon; no record byte crosses the wire in clear (checked with the helper's
# recording relay, so no packet capture tool is needed); a request over
# guiSvr.maxRequestSize gets xdb guisvr's reason, not just a closed
# connection.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"

test_init tls
[ -x "$TORTURE" ] || fail "$TORTURE not built"
instance a
PORT=$(pick_port)
write_key
write_cfg "guiSvr.txnSync nosync" "guiSvr.listenAddr 127.0.0.1" \
    "guiSvr.listenPort $PORT" "guiSvr.clientKeyFile $KEYFILE"
start_guisvr
wait_for_log "listening on 127\.0\.0\.1.*$PORT" 5

# xdb over TLS, without the config (nothing local is used)
rxdb()
{
	"$XDB" -H 127.0.0.1 -P "$PORT" "$@"
}

note "the right key"
expect_rc 0 rxdb -k "$KEYFILE" -w put 0.shadow_server.2 type=peerGuiSvr clientOneTimePassword=netscreen
expect_out ":type (peerGuiSvr)
:clientOneTimePassword (netscreen)" rxdb -k "$KEYFILE" get 0.shadow_server.2
expect_out ":type (peerGuiSvr)
:clientOneTimePassword (netscreen)" xdb get 0.shadow_server.2
expect_out "1" rxdb -k "$KEYFILE" count
expect_out "0.shadow_server.2" rxdb -k "$KEYFILE" list 0.
expect_rc 0 rxdb -k "$KEYFILE" status
expect_rc 1 rxdb -k "$KEYFILE" get 0.shadow_server.9
assert_grep "no such record|not found" "$T/err"
# read-only by default over TLS too
run rxdb -k "$KEYFILE" del 0.shadow_server.2
[ "$RC" -ne 0 ] || fail "remote del without -w succeeded"
"$XDBGEN" -n 300 -s 5 -o "$T/gen.txt"
expect_rc 0 rxdb -k "$KEYFILE" -w load -b 50 "$T/gen.txt"
# the generated set includes its own 0.shadow_server.2
assert_eq "$( (grep -E '^[0-9]' "$T/gen.txt"; echo 0.shadow_server.2) | sort -u | wc -l)" \
    "$(xdb count)" "count after a remote load"
assert_eq "$(digest)" "$("$XDB" -H 127.0.0.1 -P "$PORT" -k "$KEYFILE" dump | grep -v '^#' | sha256sum | cut -d' ' -f1)" \
    "remote and local dumps"

note "a request over guiSvr.maxRequestSize: xdb prints guisvr's reason"
{ echo 0.tls.huge; printf ':v ('; head -c 10000000 /dev/zero | tr '\0' z; printf ')\n\n'; } \
    >"$T/huge.txt"
expect_rc 1 rxdb -k "$KEYFILE" -w load "$T/huge.txt"
assert_grep "not loaded: (BATCH )?request of [0-9]+ bytes exceeds guiSvr\.maxRequestSize \(4194304 bytes\)" \
    "$T/err" "xdb load of a 10 MB record over TLS: $(cat "$T/err")"
expect_rc 1 rxdb -k "$KEYFILE" get 0.tls.huge
assert_alive "a request over maxRequestSize over TLS"

note "a wrong key"
(umask 077; echo "a-different-client-key-of-enough-length" >"$T/wrong.key")
expect_rc 1 rxdb -k "$T/wrong.key" get 0.shadow_server.2
assert_grep "authentication|handshake|key" "$T/err" "xdb does not say why the TLS connection failed"
expect_rc 1 rxdb -k "$T/wrong.key" -w put 0.tls.intruder a=1
wait_for_log "authentication failed from 127\.0\.0\.1" 5
assert_alive "wrong keys"
expect_rc 1 xdb get 0.tls.intruder

note "client-side key file checks"
cp "$KEYFILE" "$T/open.key"
chmod 644 "$T/open.key"
run rxdb -k "$T/open.key" get 0.shadow_server.2
[ "$RC" -ne 0 ] || fail "xdb used a key file readable by others"
assert_grep "open\.key" "$T/err" "the key file error does not name the file"
(umask 077; echo short >"$T/short.key")
run rxdb -k "$T/short.key" get 0.shadow_server.2
[ "$RC" -ne 0 ] || fail "xdb used a 5-character key"
run rxdb -k "$T/nonexistent.key" get 0.shadow_server.2
[ "$RC" -ne 0 ] || fail "xdb ran with a missing key file"

note "plain text and garbage on the TLS port"
run "$TORTURE" -H 127.0.0.1 -P "$PORT" frame STATUS
grep -Eq "^(closed|timeout|ERR)" "$T/out" || fail "plain STATUS on the TLS port got '$(cat "$T/out")'"
assert_alive "a plain-text frame on the TLS port"
run "$TORTURE" -H 127.0.0.1 -P "$PORT" garbage 5000 3
assert_alive "garbage on the TLS port"
# a TLS 1.2 client is refused (only when the openssl tool is installed)
if command -v openssl >/dev/null 2>&1; then
	if timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -tls1_2 \
	    </dev/null >"$T/s_client.out" 2>&1; then
		! grep -q "Protocol *: TLSv1.2" "$T/s_client.out" || fail "a TLS 1.2 handshake succeeded"
	fi
	assert_alive "a TLS 1.2 client"
else
	note "openssl tool not installed: TLS 1.2 refusal not checked"
fi

note "no record bytes in clear on the wire"
RPORT=$(pick_port)
"$TORTURE" -T 60 relay "$RPORT" "$PORT" "$T/wire.cap" 3 >"$T/relay.out" 2>&1 &
echo $! >"$T/relay.helper"
n=0
until grep -q "relay listening" "$T/relay.out" 2>/dev/null; do
	n=$((n + 1))
	[ $n -lt 50 ] || fail "relay did not start: $(cat "$T/relay.out")"
	sleep 0.1
done
MARK="hasvrSecretMarker$$"
expect_rc 0 "$XDB" -H 127.0.0.1 -P "$RPORT" -k "$KEYFILE" -w put 0.tls.wire "secret=$MARK" type=wireCheck
expect_out ":secret ($MARK)
:type (wireCheck)" "$XDB" -H 127.0.0.1 -P "$RPORT" -k "$KEYFILE" get 0.tls.wire
expect_rc 0 "$XDB" -H 127.0.0.1 -P "$RPORT" -k "$KEYFILE" list 0.tls. -l
assert_grep "$MARK" "$T/out"
wait "$(cat "$T/relay.helper")" || fail "relay failed: $(cat "$T/relay.out")"
rm -f "$T/relay.helper"
cap=$(wc -c <"$T/wire.cap")
[ "$cap" -gt 200 ] || fail "the relay captured only $cap bytes"
for s in "$MARK" wireCheck 0.tls.wire; do
	! grep -aqF "$s" "$T/wire.cap" || fail "'$s' crossed the wire in clear"
done
note "$cap bytes relayed, no record bytes in clear"

stop_guisvr
exit 0
