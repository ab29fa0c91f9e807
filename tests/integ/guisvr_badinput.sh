#!/bin/sh
# guisvr_badinput.sh — malformed client frames: each gets an ERR reply where
# one can be sent (or the connection is closed), nothing is stored, the log
# names the rejected request, and the daemon keeps serving after every one.
# xdb, whose request over guiSvr.maxRequestSize is refused while it is still
# sending, prints the reason guisvr replied.
#
# Frame header (lib/proto.h): u32 len, u16 type, u16 flags, u32 seq.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"

test_init badinput
[ -x "$TORTURE" ] || fail "$TORTURE not built"
instance a
write_cfg "guiSvr.txnSync nosync" "guiSvr.maxRecordSize 64K" "guiSvr.maxRequestSize 256K"
start_guisvr
expect_rc 0 xdb -w put 0.bad.keep a=1
before=$(digest)

# reply PATTERN WHAT torture-args...: the helper's one-line reply must match
# PATTERN (ERE, anchored), then the daemon must still answer.
reply()
{
	pat=$1
	what=$2
	shift 2
	run torture "$@"
	head -n 1 "$T/out" >"$T/reply"
	grep -Eq "^($pat)" "$T/reply" ||
	    fail "$what: reply '$(cat "$T/reply")' does not match /$pat/ ($(cat "$T/err"))"
	echo "   $what -> $(cat "$T/reply")"
	assert_alive "$what"
}

note "unknown request types"
reply "ERR 9 " "type 999" frame 999
reply "ERR 9 " "type 0" frame 0
reply "ERR 9 " "a reply type (OK) sent as a request" frame 100
reply "ERR 9 " "type 0xffff with a payload" frame 0xffff 00010203

note "lengths"
reply "ERR 3 " "length 2^31-1" frame PUT -l 0x7fffffff
reply "ERR 3 " "length 0xffffffff" frame GET -l 0xffffffff
reply "ERR 3 " "length just over maxRequestSize" frame PUT -l 262145
reply "sent" "header announcing 100 bytes, 20 sent, close" \
    frame PUT -l 100 -t 20 000530 2e742e3100000000
reply "sent" "5 bytes of a header, close" frame STATUS -t 5
reply "sent" "connect and close" frame STATUS -t 0
n=0
while [ $n -lt 50 ]; do
	run torture frame STATUS -t 0
	n=$((n + 1))
done
assert_alive "50 connect/close"

note "garbage"
reply "ERR |closed|no reply" "4 KiB of garbage" garbage 4096 1
reply "ERR |closed|no reply" "4 KiB of other garbage" garbage 4096 99
reply "no reply|closed" "7 bytes of garbage" garbage 7 2
reply "ERR |closed|no reply" "64 KiB of garbage" garbage 65536 5

note "valid headers, invalid payloads"
# GET: str16 id
reply "ERR 2 " "GET without payload" frame GET
reply "ERR 2 " "GET id length past the end" frame GET 0100616263
reply "ERR (2|4) " "GET id with a space" frame GET 0003612062
reply "ERR (2|4) " "GET id with a NUL" frame GET 0005302e7400 31
reply "ERR 2 " "GET with trailing bytes" frame GET 0005302e742e31ff
# PUT: str16 id, u32 count, (u16 nlen, name, u32 vlen, value)*
reply "ERR 2 " "PUT attribute count 2^32-1" frame PUT 0005302e742e31ffffffff
reply "ERR 2 " "PUT value length past the end" frame PUT 0005302e742e3100000001000161ffffff0031
reply "ERR (2|4) " "PUT duplicate attribute names" \
    frame PUT 0005302e742e3100000002000161000000013100016100000001 32
reply "ERR (2|4) " "PUT empty attribute name" frame PUT 0005302e742e31000000010000 0000000131
reply "ERR (2|4) " "PUT attribute name with '/'" frame PUT 0005302e742e3100000001 00012f0000000131
reply "ERR 2 " "PUT trailing byte" frame PUT 0005302e742e3100000000ff
reply "ERR (2|4) " "PUT id '0.t.' (empty id part)" frame PUT 0004302e742e00000000
reply "ERR (2|4) " "PUT id with leading-zero domain" frame PUT 000530302e742e3100000000
reply "ERR (2|4) " "SET with a bad id" frame SET 00036162630000000000
reply "ERR 2 " "UNSET truncated" frame UNSET 0005302e74
reply "ERR 2 " "DEL without payload" frame DEL
# LIST: str16 prefix, u32 limit
reply "ERR 2 " "LIST without limit" frame LIST 0000
reply "ERR (2|4) " "LIST prefix with '!'" frame LIST 00022121 00000000
reply "ERR 2 " "COUNT prefix length past the end" frame COUNT 00ff30
# BATCH: u32 n, (u8 op, record)*
reply "ERR (2|3) " "BATCH of a million ops, no bytes" frame BATCH 000f4240
reply "ERR 2 " "BATCH op code 9" frame BATCH 00000001 09 0005302e742e3100000000
reply "ERR 2 " "BATCH op code 0" frame BATCH 00000001 00 0005302e742e3100000000
reply "ERR 2 " "BATCH count 2, one op" frame BATCH 00000002 01 0005302e742e3100000000
reply "ERR 2 " "BATCH with trailing bytes" frame BATCH 00000001 01 0005302e742e3100000000 ee
# the checks apply to every op of a batch, not just the first
reply "ERR (2|4) " "BATCH second op with a bad id" \
    frame BATCH 00000002 01 0005302e742e3100000000 01 000361206200000000

note "records over the limits"
reply "OK" "60000-byte record (under maxRecordSize 64K)" bigput 0.bad.big 60000
expect_rc 0 xdb -w del 0.bad.big
reply "ERR 3 " "100000-byte record (over maxRecordSize 64K)" bigput 0.bad.big 100000
reply "ERR 3 |ERR -1 .*closed|closed" "300000-byte request (over maxRequestSize 256K)" bigput 0.bad.big 300000
expect_rc 1 xdb get 0.bad.big
# a SET that would grow a record past the limit is refused as a whole
reply "OK" "a 40000-byte record" bigput 0.bad.grow 40000
v=$(head -c 40000 /dev/zero | tr '\0' z)
expect_rc 1 xdb -w set 0.bad.grow "more=$v"
assert_grep "maxRecordSize|too (big|large)" "$T/err" "xdb set over the limit: $(cat "$T/err")"
[ "$(xdb get 0.bad.grow | wc -l)" -eq 1 ] || fail "a refused SET changed 0.bad.grow"
expect_rc 0 xdb -w del 0.bad.grow

note "xdb is told why a request over maxRequestSize is refused"
# guisvr stops reading after the header and closes once it has replied:
# xdb's send fails, and the reason is in the reply waiting to be read
{ echo 0.bad.huge; printf ':v ('; head -c 10000000 /dev/zero | tr '\0' z; printf ')\n\n'; } \
    >"$T/huge.txt"
expect_rc 1 xdb -w load "$T/huge.txt"
assert_grep "not loaded: (BATCH )?request of [0-9]+ bytes exceeds guiSvr\.maxRequestSize \(262144 bytes\)" \
    "$T/err" "xdb load of a 10 MB record: $(cat "$T/err")"
v=$(head -c 100000 /dev/zero | tr '\0' y)
expect_rc 1 xdb -w set 0.bad.huge "a=$v" "b=$v" "c=$v" "d=$v" "e=$v" "f=$v" "g=$v" "h=$v"
assert_grep "request of [0-9]+ bytes exceeds guiSvr\.maxRequestSize" "$T/err" \
    "xdb set of 800 KB: $(cat "$T/err")"
expect_rc 1 xdb get 0.bad.huge
assert_alive "requests over maxRequestSize from xdb"

note "a client stalled mid-frame does not block others"
torture -T 4 frame PUT -l 100 000530 >"$T/stall.out" 2>&1 &
sp=$!
echo "$sp" >"$T/stall.helper"
sleep 0.3
n=0
while [ $n -lt 5 ]; do
	timeout 3 "$XDB" -f "$CFG" status >/dev/null || fail "status blocked by a stalled client"
	n=$((n + 1))
done
wait "$sp" || true
rm -f "$T/stall.helper"

note "nothing was stored, the log names the rejected requests"
assert_eq "$before" "$(digest)" "records after the bad input"
assert_alive "all bad input"
rejected=$(grep -Ec "client .*(request refused|unknown request type|exceeds guiSvr.maxRequestSize)" "$LOG" || true)
# each kind of refusal is logged (repeats of one kind within 10 s only
# counted), so the kinds sent above come to at least 20 lines
[ "$rejected" -ge 20 ] || fail "only $rejected log lines about rejected requests in $LOG"
assert_grep "client .*unknown request type 999" "$LOG" "the log does not name the unknown request type"
assert_grep "client .*PUT request of 2147483647 bytes exceeds guiSvr.maxRequestSize" "$LOG" \
    "the log does not name the oversized request"
assert_grep "client .*BATCH request refused: malformed BATCH request: .*opcode 9" "$LOG" \
    "the log does not say why a BATCH was refused"
stop_guisvr
exit 0
