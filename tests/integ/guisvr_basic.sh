#!/bin/sh
# guisvr_basic.sh — one guisvr and the records tool: every xdb command with
# exact output, read-only by default, clear errors (missing record, bad id,
# daemon not running), dump on one server and load into a fresh one gives
# the same digest, generated data loads and counts, the log is written, and
# SIGTERM stops the daemon cleanly (pid file removed).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"

test_init basic
instance a
write_cfg "guiSvr.txnSync sync" "guiSvr.checkpointInterval 5s" "guiSvr.workerThreads 4"

expect_out "configuration OK" "$GUISVR" -n -f "$CFG"

# A daemon that is not running: a message saying so, exit 1.
expect_rc 1 xdb get 0.shadow_server.2
assert_grep "is guisvr running\?" "$T/err" "xdb against a stopped daemon does not say so"

note "start (daemon mode, pid file)"
start_guisvr daemon
assert_eq "$(guisvr_pid)" "$(cat "$PIDFILE")" "pid file"
[ "$(awk '/^PPid:/ {print $2}' "/proc/$(guisvr_pid)/status")" = 1 ] ||
    note "guisvr's parent is not init (a subreaper?); not checked"

note "put / get"
expect_rc 0 xdb -w put 0.shadow_server.2 type=peerGuiSvr clientOneTimePassword=netscreen
expect_out ":type (peerGuiSvr)
:clientOneTimePassword (netscreen)" xdb get 0.shadow_server.2

# Writes need -w; nothing is written without it.
for cmd in "put 0.shadow_server.3 type=x" "set 0.shadow_server.2 type=x" \
    "unset 0.shadow_server.2 type" "del 0.shadow_server.2"; do
	# shellcheck disable=SC2086
	run xdb $cmd
	[ "$RC" -ne 0 ] || fail "'xdb $cmd' without -w succeeded"
	assert_grep "[-]w" "$T/err" "'xdb $cmd' without -w does not mention -w"
done
expect_out ":type (peerGuiSvr)
:clientOneTimePassword (netscreen)" xdb get 0.shadow_server.2
expect_rc 1 xdb get 0.shadow_server.3

note "set / unset"
expect_rc 0 xdb -w set 0.shadow_server.2 clientOneTimePassword=changed "note=two words"
expect_out ":type (peerGuiSvr)
:clientOneTimePassword (changed)
:note (two words)" xdb get 0.shadow_server.2
expect_rc 0 xdb -w unset 0.shadow_server.2 note
expect_out ":type (peerGuiSvr)
:clientOneTimePassword (changed)" xdb get 0.shadow_server.2
# set creates a missing record
expect_rc 0 xdb -w set 0.shadow_server.5 type=peerGuiSvr
expect_out ":type (peerGuiSvr)" xdb get 0.shadow_server.5
# put replaces the whole record
expect_rc 0 xdb -w put 0.shadow_server.5 other=1
expect_out ":other (1)" xdb get 0.shadow_server.5
# values with bytes that need escaping survive the round trip
expect_rc 0 xdb -w put 0.shadow_server.7 'path=C:\dir (x)'
expect_out ':path (C:\\dir (x))' xdb get 0.shadow_server.7

note "list / count"
expect_rc 0 xdb -w put 0.device.1 name=fw1
expect_rc 0 xdb -w put 1.device.1 name=fw2
expect_out "0.shadow_server.2
0.shadow_server.5
0.shadow_server.7" xdb list 0.shadow_server.
expect_out "0.shadow_server.2
:type (peerGuiSvr)
:clientOneTimePassword (changed)

0.shadow_server.5
:other (1)

0.shadow_server.7
:path (C:\\\\dir (x))
" xdb list 0.shadow_server. -l
expect_out "3" xdb count 0.shadow_server.
expect_out "5" xdb count
expect_out "4" xdb count 0.
expect_out "0" xdb count 2.

note "del, missing record, bad id"
expect_rc 0 xdb -w del 0.shadow_server.7
expect_rc 1 xdb get 0.shadow_server.7
assert_grep "0\.shadow_server\.7" "$T/err" "missing-record message does not name the id"
assert_grep "no such record|not found" "$T/err" "missing-record message does not say the record does not exist"
expect_rc 1 xdb -w del 0.shadow_server.7
assert_grep "no such record|not found" "$T/err"
run xdb get 'bad id!'
[ "$RC" -eq 1 ] || [ "$RC" -eq 2 ] || fail "xdb get with a bad id exited $RC"
assert_grep "bad id!" "$T/err" "bad-id message does not name the id"
assert_grep "invalid|bad" "$T/err"
run xdb get 0..2
[ "$RC" -ne 0 ] || fail "xdb get 0..2 succeeded"
run xdb
assert_eq 2 "$RC" "xdb without a command"
run xdb frobnicate
assert_eq 2 "$RC" "xdb with an unknown command"
expect_out "4" xdb count

note "status"
expect_rc 0 xdb status
assert_grep "^pid $(guisvr_pid)\$" "$T/out" "status does not show the pid"
assert_grep "^txnSync sync\$" "$T/out"

note "dump, load into a fresh guisvr: same digest"
# 2000 generated records on top of the hand-made ones
"$XDBGEN" -n 2000 -s 7 -o "$T/gen.txt" || fail "xdbgen failed"
xdb list | sort >"$T/before.ids"
expect_rc 0 xdb -w load "$T/gen.txt"
grep -E '^[0-9]' "$T/gen.txt" | sort -u >"$T/gen.ids"
assert_eq 2000 "$(wc -l <"$T/gen.ids")" "distinct ids from xdbgen -n 2000"
total=$(xdb count)
# the generated set has its own 0.shadow_server.2, which replaces ours
assert_eq "$(sort -u "$T/gen.ids" "$T/before.ids" | wc -l)" "$total" \
    "count after loading 2000 generated records"
xdb get 0.shadow_server.2 >"$T/ss2"
xdb list | sort >"$T/have.ids"
[ -z "$(comm -23 "$T/gen.ids" "$T/have.ids")" ] || fail "loaded ids missing from xdb list"
# xdbgen is deterministic for a seed
"$XDBGEN" -n 2000 -s 7 -o "$T/gen2.txt"
cmp -s "$T/gen.txt" "$T/gen2.txt" || fail "xdbgen -s 7 twice gave different output"
d1=$(digest)
expect_rc 0 xdb dump "$T/backup.txt"
[ -s "$T/backup.txt" ] || fail "xdb dump FILE wrote nothing"
assert_eq "$(grep -v '^#' "$T/digest.dump" | sha256sum)" \
    "$(grep -v '^#' "$T/backup.txt" | sha256sum)" "dump to stdout and to a file"

instance b
write_cfg "guiSvr.txnSync writenosync"
start_guisvr
expect_out "0" xdb count
expect_rc 0 xdb -w load -b 100 "$T/backup.txt"
assert_eq "$total" "$(xdb count)" "count after loading the dump into a fresh guisvr"
assert_eq "$d1" "$(digest)" "digest after dump + load"
expect_out "$(cat "$T/ss2")" xdb get 0.shadow_server.2
# loading the same dump again changes nothing
expect_rc 0 xdb -w load "$T/backup.txt"
assert_eq "$d1" "$(digest)" "digest after loading the dump twice"
# a bad dump is refused with the line at fault
printf '0.x.1\n:a (1)\n\nnot a record line\n' >"$T/bad.txt"
expect_rc 1 xdb -w load "$T/bad.txt"
assert_grep "line [0-9]+" "$T/err" "load error does not name the line"
stop_guisvr
# a restart keeps everything
start_guisvr
assert_eq "$d1" "$(digest)" "digest after a restart"
stop_guisvr

note "log file"
instance a
[ -s "$LOG" ] || fail "$LOG missing or empty"
assert_grep "guisvr ready" "$LOG"
# every line starts with a timestamp (YYYY-MM-DD hh:mm:ss or syslog style)
bad=$(grep -Evc '^([0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}|[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2})' "$LOG" || true)
assert_eq 0 "$bad" "log lines without a timestamp"

note "SIGTERM"
pid=$(guisvr_pid)
stop_guisvr
[ ! -e "$PIDFILE" ] || fail "pid file $PIDFILE left after SIGTERM"
[ ! -e "$SOCK" ] || fail "socket $SOCK left after SIGTERM"
! pid_alive "$pid" || fail "guisvr still running after SIGTERM"
wait_for_log "shutting down|exiting|stopped" 1
expect_rc 1 xdb count
assert_grep "is guisvr running\?" "$T/err"

# the data survives a clean stop
start_guisvr
assert_eq "$total" "$(xdb count)" "count after a clean restart"
stop_guisvr
exit 0
