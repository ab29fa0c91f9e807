#!/bin/sh
# guisvr_privs.sh — files and privileges: guisvr refuses a config or client
# key file that others can read (the message names the file), refuses an
# unknown guiSvr.setuid user, and, started as root with guiSvr.setuid nobody,
# runs as nobody with no capabilities and owns its database files.
# The root part exits 77 (skipped) when not run as root or without 'nobody'.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"

test_init privs
instance a
PORT=$(pick_port)
write_key
write_cfg "guiSvr.txnSync nosync" "guiSvr.listenAddr 127.0.0.1" \
    "guiSvr.listenPort $PORT" "guiSvr.clientKeyFile $KEYFILE"

# refuses MODE-SETTING WHAT: guisvr (checking and starting) must fail and
# name FILE on stderr; no daemon may be left running.
refuses()
{
	file=$1
	what=$2
	run timeout 20 "$GUISVR" -f "$CFG" -d
	[ "$RC" -ne 0 ] && [ "$RC" -ne 124 ] || fail "guisvr started with $what (exit $RC)"
	assert_grep "$file" "$T/err" "the refusal for $what does not name $file"
	[ ! -S "$SOCK" ] || fail "socket created despite $what"
	cp "$T/err" "$T/refusal"
	# -n must flag it too: a check that passes while start refuses misleads
	run "$GUISVR" -f "$CFG" -n
	[ "$RC" -eq 1 ] || fail "guisvr -n accepts $what (exit $RC; start refuses it)"
	assert_grep "$file" "$T/err" "guisvr -n does not name $file for $what"
	echo "   refusal: $(cat "$T/refusal")"
}

note "config file readable by others"
chmod 644 "$CFG"
refuses "$CFG" "a config readable by others"
assert_grep "chmod|readable|mode" "$T/refusal" "the message does not say what is wrong"
chmod 606 "$CFG"
refuses "$CFG" "a config writable by others"
chmod 640 "$CFG"
start_guisvr
stop_guisvr
chmod 600 "$CFG"

note "client key file readable by others"
chmod 644 "$KEYFILE"
refuses "$KEYFILE" "a key file readable by others"
chmod 600 "$KEYFILE"
(umask 077; echo short >"$KEYFILE")
refuses "$KEYFILE" "a 5-character key"
write_key

note "unknown guiSvr.setuid user"
cp "$CFG" "$T/good.cfg"
echo "guiSvr.setuid hasvr-no-such-user-$$" >>"$CFG"
run timeout 20 "$GUISVR" -f "$CFG" -d
[ "$RC" -ne 0 ] && [ "$RC" -ne 124 ] || fail "guisvr started with an unknown setuid user"
assert_grep "hasvr-no-such-user-$$" "$T/err"
cp "$T/good.cfg" "$CFG"
chmod 600 "$CFG"

# ---- as root: drop to nobody ------------------------------------------------
[ "$(id -u)" -eq 0 ] || skip "not root: guiSvr.setuid not checked"
getent passwd nobody >/dev/null 2>&1 || skip "no user 'nobody'"
nuid=$(id -u nobody)
ngid=$(id -g nobody)

note "root with guiSvr.setuid nobody"
instance n
PORT=$(pick_port)
write_key
write_cfg "guiSvr.txnSync sync" "guiSvr.setuid nobody" "guiSvr.listenAddr 127.0.0.1" \
    "guiSvr.listenPort $PORT" "guiSvr.clientKeyFile $KEYFILE"
# nobody must be able to reach its var directory
chmod 755 "$T" "$T/n"
start_guisvr
pid=$(guisvr_pid)
st=/proc/$pid/status
assert_eq "Uid:	$nuid	$nuid	$nuid	$nuid" "$(grep '^Uid:' "$st")" "guisvr's uids"
assert_eq "Gid:	$ngid	$ngid	$ngid	$ngid" "$(grep '^Gid:' "$st")" "guisvr's gids"
assert_eq "CapEff:	0000000000000000" "$(grep '^CapEff:' "$st")" "guisvr's effective capabilities"
# supplementary groups are nobody's, not root's
! grep -Eq '^Groups:.*\b0\b' "$st" || fail "guisvr kept group root: $(grep '^Groups:' "$st")"

expect_rc 0 xdb -w put 0.shadow_server.2 type=peerGuiSvr
expect_out ":type (peerGuiSvr)" xdb get 0.shadow_server.2
expect_out ":type (peerGuiSvr)" "$XDB" -H 127.0.0.1 -P "$PORT" -k "$KEYFILE" get 0.shadow_server.2
"$XDBGEN" -n 200 -s 9 -o "$T/gen.txt"
expect_rc 0 xdb -w load "$T/gen.txt"
# (the generated set has its own 0.shadow_server.2)
total=$(xdb count)
assert_eq 200 "$total" "records after the load"

[ -n "$(find "$VAR/xdb/data" -type f)" ] || fail "no files in $VAR/xdb/data"
notnobody=$(find "$VAR/xdb" "$VAR/errorLog" "$VAR/run" ! -user nobody -print)
[ -z "$notnobody" ] || fail "files not owned by nobody: $notnobody"
[ -n "$(find "$VAR/xdb/data" -name '*.db' -user nobody)" ] || fail "no database file owned by nobody"
[ -n "$(find "$VAR/xdb/log" -name 'log.*' -user nobody)" ] || fail "no transaction log owned by nobody"

stop_guisvr
[ ! -e "$PIDFILE" ] || fail "pid file left behind by the unprivileged daemon"
# the restart (recovery as nobody) keeps everything
start_guisvr
assert_eq "$total" "$(xdb count)" "records after a restart as nobody"
kill9_guisvr
start_guisvr
assert_eq "$total" "$(xdb count)" "records after kill -9 and recovery as nobody"
notnobody=$(find "$VAR/xdb" ! -user nobody -print)
[ -z "$notnobody" ] || fail "files not owned by nobody after recovery: $notnobody"
stop_guisvr
exit 0
