#!/bin/sh
# filesync.sh — the file sync of the non-database files (.haDoDirect) and
# its SSH trust check (haTrustCheck), against a real sshd and real rsync.
#
# Two nodes on one machine: node a (127.0.0.1) runs .haDoDirect as
# installed (the install's sed, its default config and result paths); the
# peer is an sshd on 127.0.0.2 started in its own mount namespace, where
# node b's tree ($T/b) is mounted over node a's ($T/a). So both nodes see
# the same absolute paths with different contents, as two servers do, and
# what rsync writes on the peer lands in $T/b. Host and user keys are made
# here; sshd reads its keys and authorized_keys from $T/ssh.
#
# Checked: a tree with files, folders, modes, a symlink, a name with a
# blank arrives identical (digests, modes, owners); deletions and renames
# propagate; haSvr.cfg, guiSvr.cfg, xdb/, errorLog/, run/ and the SSH keys
# are never copied nor deleted on the peer; excludes; the result file; a
# wrong key, an unknown or changed host key, an unreachable peer and rsync
# missing on the peer each give FAIL with the reason in .haDoDirect.result
# and the command and its stderr in ha.log; the e-mail report (through a
# stand-in sendmail named by HASVR_SENDMAIL), no mailer, the hook and a
# failing hook; -n; the lock; haTrustCheck's message and exit code for
# every failure.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"

TRUST=$top_builddir/utils/haTrustCheck
DODIRECT_SRC=$top_srcdir/hasvr/haDoDirect
PEER=127.0.0.2

test_init filesync
[ -x "$TRUST" ] || fail "$TRUST not built"
[ "$(id -u)" = 0 ] || skip "needs root (sshd, a mount namespace)"
for b in /usr/sbin/sshd ssh ssh-keygen rsync unshare; do
	command -v "$b" >/dev/null 2>&1 ||
	    skip "$b is not installed (apt-get install openssh-server openssh-client rsync util-linux)"
done
unshare -m --propagation private true 2>/dev/null ||
    skip "cannot make a mount namespace here (unshare -m)"

# sshd's privilege separation folder; removed at the end if made here
made_run_sshd=
if [ ! -d /run/sshd ]; then
	mkdir -p /run/sshd && chmod 755 /run/sshd && made_run_sshd=1
fi
trap '_fs_rc=$?; _fs_cleanup; (exit $_fs_rc); _cleanup' EXIT
_fs_cleanup()
{
	set +e
	for f in "$T"/*.sshd; do
		[ -f "$f" ] || continue
		kill "$(cat "$f")" 2>/dev/null
	done
	if [ "$_fs_rc" -ne 0 ] && [ "$_fs_rc" -ne 77 ]; then
		for f in "$T"/ssh/sshd*.log "$T"/a/var/errorLog/ha.log; do
			[ -s "$f" ] || continue
			echo "---- tail of $f" >&2
			tail -n 20 "$f" >&2
		done
	fi
	[ -z "$made_run_sshd" ] || rmdir /run/sshd 2>/dev/null
}

# ---- keys, sshd ------------------------------------------------------------

S=$T/ssh
mkdir -p "$S" "$T/cfg"
ssh-keygen -q -t ed25519 -N '' -C filesync-host -f "$S/host_ed25519"
ssh-keygen -q -t ed25519 -N '' -C filesync-other-host -f "$S/other_host"
ssh-keygen -q -t ed25519 -N '' -C filesync-wrong -f "$S/wrong_key"
cp "$S/wrong_key.pub" "$S/authorized_keys.other"

# start_sshd NAME PORT [sshd -o OPTION…]: sshd on $PEER:PORT in a mount
# namespace where $T/b is mounted over $T/a; its PID in $T/NAME.sshd.
start_sshd()
{
	local name port n pid
	name=$1
	port=$2
	shift 2
	cat >"$S/$name.conf" <<-EOF
	Port $port
	ListenAddress $PEER
	HostKey $S/host_ed25519
	PidFile $S/$name.pid
	AuthorizedKeysFile $S/authorized_keys
	StrictModes no
	UsePAM no
	PubkeyAuthentication yes
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	PermitRootLogin prohibit-password
	AllowUsers root
	LogLevel VERBOSE
	EOF
	/usr/sbin/sshd -t -f "$S/$name.conf" "$@" ||
	    fail "sshd refuses its test configuration $S/$name.conf"
	unshare -m --propagation private sh -c \
	    'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh \
	    "$T/b" "$T/a" /usr/sbin/sshd -D -E "$S/$name.log" -f "$S/$name.conf" "$@" &
	pid=$!
	echo "$pid" >"$T/$name.sshd"
	n=0
	while port_free "$port"; do
		pid_alive "$pid" || fail "sshd $name exited: $(tail -n 3 "$S/$name.log" 2>/dev/null)"
		[ $n -lt 100 ] || fail "sshd $name does not listen on $PEER:$port after 10 s"
		sleep 0.1
		n=$((n + 1))
	done
}

# ---- the two nodes ------------------------------------------------------------

# a file of N KiB of random bytes
random_file()
{
	head -c "$(($2 * 1024))" /dev/urandom >"$1"
}

mkdir -p "$T/a/bin" "$T/a/etc/shared/sub/deep" "$T/a/etc/shared/run" \
    "$T/a/etc/ssh" "$T/a/var/xdb/data" "$T/a/var/errorLog" "$T/a/var/run" \
    "$T/a/var/files" "$T/a/srv/files/images"
(umask 077; printf 'shared-client-key-0123456789\n' >"$T/a/etc/shared/clientKey")
echo "notes of node a" >"$T/a/etc/shared/notes.txt"
echo "deep" >"$T/a/etc/shared/sub/deep/file"
chmod 640 "$T/a/etc/shared/sub/deep/file"
chmod 750 "$T/a/etc/shared/sub"
ln -s notes.txt "$T/a/etc/shared/link"
echo "blank" >"$T/a/etc/shared/name with blank.txt"
echo "not a runtime folder" >"$T/a/etc/shared/run/kept"
echo "editor swap" >"$T/a/etc/shared/notes.txt.swp"
printf '#!/bin/sh\necho hi\n' >"$T/a/srv/files/tool.sh"
chmod 755 "$T/a/srv/files/tool.sh"
random_file "$T/a/srv/files/images/big.bin" 512
random_file "$T/a/srv/files/images/small.bin" 3
echo "data of a" >"$T/a/var/files/x"
echo "a's database" >"$T/a/var/xdb/data/records.db"
echo "a's log" >"$T/a/var/errorLog/guiDaemon.0"
echo 111 >"$T/a/var/run/guiSvr.pid"
cp -p "$S/wrong_key" "$T/a/etc/ssh/wrong_key"
ssh-keygen -q -t ed25519 -N '' -C filesync-user -f "$T/a/etc/ssh/id_ed25519"
cp "$T/a/etc/ssh/id_ed25519.pub" "$S/authorized_keys"

# node b: its own configuration, database and logs, and leftovers that the
# sync must delete (or, excluded, keep)
mkdir -p "$T/b/etc/shared/old" "$T/b/var/xdb/data" "$T/b/var/errorLog" \
    "$T/b/var/run" "$T/b/srv/files"
echo "b's haSvr.cfg" >"$T/b/etc/haSvr.cfg"
echo "b's guiSvr.cfg" >"$T/b/etc/guiSvr.cfg"
echo "stale" >"$T/b/etc/shared/stale.txt"
echo "stale" >"$T/b/etc/shared/old/file"
echo "b's swap" >"$T/b/etc/shared/b.swp"
echo "b's database" >"$T/b/var/xdb/data/records.db"
echo "b's log" >"$T/b/var/errorLog/ha.log"
echo 222 >"$T/b/var/run/guiSvr.pid"

# the peer's sshd, and one whose users' PATH has no rsync; then a port
# with nothing listening (pick_port only skips ports already bound)
SSH_PORT=$(pick_port)
start_sshd main "$SSH_PORT"
RSYNCLESS_PORT=$(pick_port)
start_sshd rsyncless "$RSYNCLESS_PORT" -o SetEnv=PATH=/nonexistent
DEAD_PORT=$(pick_port)
for p in "$SSH_PORT" "$RSYNCLESS_PORT"; do
	printf '[%s]:%s %s\n' "$PEER" "$p" "$(cut -d' ' -f1,2 "$S/host_ed25519.pub")"
done >"$T/a/etc/ssh/known_hosts"

# ha_cfg FILE [KEY VALUE]…: node a's haSvr.cfg (mode 600), KEY lines
# replaced by the pairs given.
ha_cfg()
{
	local f k
	f=$1
	shift
	(umask 077; cat >"$f" <<-EOF
	highAvail.isHaEnabled y
	highAvail.myAddr 127.0.0.1
	highAvail.primaryAddr 127.0.0.1
	highAvail.secondaryAddr $PEER
	highAvail.HMACKey filesync-test-key-0123456789
	highAvail.varDir $T/a/var
	highAvail.guiSvrConfig $T/a/etc/guiSvr.cfg
	highAvail.rsyncUser root
	highAvail.sshPort $SSH_PORT
	highAvail.sshKeyFile $T/a/etc/ssh/id_ed25519
	highAvail.knownHostsFile $T/a/etc/ssh/known_hosts
	highAvail.syncPaths $T/a/etc $T/a/var $T/a/srv/files/
	highAvail.syncExcludes *.swp
	highAvail.syncTimeout 10s
	EOF
	)
	while [ $# -ge 2 ]; do
		k=$1
		grep -v "^$k " "$f" >"$f.new" || true
		printf '%s %s\n' "$k" "$2" >>"$f.new"
		mv "$f.new" "$f"
		shift 2
	done
	chmod 600 "$f"
}

ha_cfg "$T/a/etc/haSvr.cfg"
printf 'guiSvr.varDir %s\n' "$T/a/var" >"$T/a/etc/guiSvr.cfg"
chmod 600 "$T/a/etc/guiSvr.cfg"
"$GUISVR" -n -f "$T/a/etc/guiSvr.cfg" >"$T/out" 2>&1 ||
    fail "node a's configuration is refused: $(cat "$T/out")"

# .haDoDirect installed as `make install` does, into node a's bin/
sed -e "s|@SYSCONFDIR@|$T/a/etc|g" -e "s|@LOCALSTATEDIR@|$T/a/var|g" \
    -e "s|@UTILSDIR@|$top_builddir/utils|g" "$DODIRECT_SRC" >"$T/a/bin/.haDoDirect"
chmod 755 "$T/a/bin/.haDoDirect"
DODIRECT=$T/a/bin/.haDoDirect
RESULT=$T/a/bin/.haDoDirect.result
HALOG=$T/a/var/errorLog/ha.log

# The stand-ins for sendmail and the hook record what they get.
cat >"$T/sendmail" <<EOF
#!/bin/sh
{ echo "args: \$*"; cat; echo "---- end"; } >>"$T/mail.out"
EOF
cat >"$T/hook" <<EOF
#!/bin/sh
for a in "\$@"; do printf '[%s]' "\$a"; done >>"$T/hook.out"
echo >>"$T/hook.out"
exit \${HOOK_EXIT:-0}
EOF
chmod 755 "$T/sendmail" "$T/hook"
export HASVR_SENDMAIL="$T/sendmail"

# ---- helpers ----------------------------------------------------------------

# tree DIR [PRUNE…]: every entry under DIR with type, mode, owner, link
# target, and every file's SHA-256; PRUNE paths (relative) left out.
tree()
{
	(
		cd "$1" || exit 1
		shift
		n=$#
		for p in "$@"; do
			set -- "$@" -path "./$p" -prune -o
		done
		shift "$n"
		find . -mindepth 1 "$@" -printf '%y %m %u:%g %P %l\n' | LC_ALL=C sort
		find . -mindepth 1 "$@" -type f -print0 | LC_ALL=C sort -z |
		    xargs -0r sha256sum
	)
}

# same WHAT PRUNE…: node a's and node b's trees are the same (relative to
# $T/a and $T/b, PRUNE left out of both).
same()
{
	local what
	what=$1
	shift
	tree "$T/a" bin "$@" >"$T/tree.a"
	tree "$T/b" bin "$@" >"$T/tree.b"
	if ! cmp -s "$T/tree.a" "$T/tree.b"; then
		diff -u "$T/tree.a" "$T/tree.b" >&2 || true
		fail "$what: node b's copy differs from node a's"
	fi
}

# The files that belong to each node and are never copied.
NEVER="etc/haSvr.cfg etc/guiSvr.cfg etc/ssh var/xdb var/errorLog var/run"

# result_is STATUS REASON-ERE: the result file's four lines.
result_is()
{
	[ -f "$RESULT" ] || fail "no result file $RESULT"
	assert_eq "$1" "$(sed -n 1p "$RESULT")" "result status"
	assert_grep "^time [0-9]+$" "$RESULT"
	assert_grep "^peer $PEER$" "$RESULT"
	assert_grep "^reason .*$2" "$RESULT"
	[ "$(wc -l <"$RESULT")" -eq 4 ] || fail "result file has not 4 lines: $(cat "$RESULT")"
}

# The last lines ha.log got, after `mark`.
mark()
{
	if [ -f "$HALOG" ]; then wc -l <"$HALOG"; else echo 0; fi >"$T/halog.mark"
}
new_log()
{
	tail -n +"$(($(cat "$T/halog.mark") + 1))" "$HALOG" >"$T/halog.new"
}

# ---- copy -----------------------------------------------------------------------

note "dry run (-n) changes nothing"
expect_rc 0 "$DODIRECT" -n
assert_grep "^would run: rsync -aR --no-implied-dirs --delete --delete-missing-args --timeout=10 " "$T/out"
assert_grep "'ssh -i $T/a/etc/ssh/id_ed25519 -p $SSH_PORT -l root -o BatchMode=yes" "$T/out"
assert_grep "exclude=$T/a/var/xdb " "$T/out"
assert_grep "exclude=$T/a/etc/haSvr.cfg " "$T/out"
assert_grep "exclude=\*\.swp" "$T/out"
assert_grep "$PEER:/\$" "$T/out"
assert_grep "^mail: +to root with $T/sendmail -t, on failure$" "$T/out"
[ ! -e "$RESULT" ] || fail "-n wrote $RESULT"
[ ! -e "$T/b/etc/shared/notes.txt" ] || fail "-n copied files"

note "first sync: the tree arrives identical, node b's own files stay"
mark
expect_rc 0 "$DODIRECT"
result_is SUCCESS "copied 3 path\(s\) to $PEER"
new_log
assert_grep "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} \[[0-9]+\] NOTICE .*file sync to $PEER: SUCCESS" "$T/halog.new"
# shellcheck disable=SC2086
same "first sync" $NEVER etc/shared/notes.txt.swp etc/shared/b.swp
assert_eq "b's haSvr.cfg" "$(cat "$T/b/etc/haSvr.cfg")" "node b's haSvr.cfg"
assert_eq "b's guiSvr.cfg" "$(cat "$T/b/etc/guiSvr.cfg")" "node b's guiSvr.cfg"
assert_eq "b's database" "$(cat "$T/b/var/xdb/data/records.db")" "node b's database"
assert_eq "b's log" "$(cat "$T/b/var/errorLog/ha.log")" "node b's ha.log"
assert_eq 222 "$(cat "$T/b/var/run/guiSvr.pid")" "node b's run/"
[ ! -e "$T/b/var/errorLog/guiDaemon.0" ] || fail "a's errorLog/ was copied"
[ ! -e "$T/b/etc/ssh/id_ed25519" ] || fail "the SSH key was copied"
[ ! -e "$T/b/etc/ssh/known_hosts" ] || fail "known_hosts was copied"
[ ! -e "$T/b/etc/shared/notes.txt.swp" ] || fail "an excluded file was copied"
assert_eq "b's swap" "$(cat "$T/b/etc/shared/b.swp")" "an excluded file on the peer"
[ ! -e "$T/b/etc/shared/stale.txt" ] || fail "a file deleted here is still on the peer"
[ ! -e "$T/b/etc/shared/old" ] || fail "a folder deleted here is still on the peer"
assert_eq "not a runtime folder" "$(cat "$T/b/etc/shared/run/kept")" "a folder named run elsewhere"
[ ! -e "$T/b/bin" ] || fail "bin/ was copied"
[ -z "$(find "$T/a/bin" -name '.haDoDirect.result.*' ! -name '*.lock')" ] ||
    fail "a temporary result file was left: $(ls -a "$T/a/bin")"
[ ! -s "$T/mail.out" ] || fail "a successful sync was mailed (mailOnSuccess is n)"

note "deletions, renames, mode changes and new files propagate"
rm "$T/a/etc/shared/notes.txt" "$T/a/etc/shared/link"
mv "$T/a/etc/shared/sub" "$T/a/etc/shared/renamed"
mv "$T/a/srv/files/images/small.bin" "$T/a/srv/files/images/tiny.bin"
chmod 600 "$T/a/srv/files/tool.sh"
chmod 700 "$T/a/srv/files/images"
echo "new" >"$T/a/var/files/new"
random_file "$T/a/srv/files/images/big.bin" 600
expect_rc 0 "$DODIRECT"
result_is SUCCESS "copied 3 path"
# shellcheck disable=SC2086
same "second sync" $NEVER etc/shared/notes.txt.swp etc/shared/b.swp
[ ! -e "$T/b/etc/shared/sub" ] || fail "the old name of a renamed folder is still on the peer"

note "a listed path that is gone here is deleted there"
rm -r "$T/a/srv/files"
expect_rc 0 "$DODIRECT"
[ ! -e "$T/b/srv/files" ] || fail "srv/files, deleted here, is still on the peer"
mkdir -p "$T/a/srv/files"
echo back >"$T/a/srv/files/back"
expect_rc 0 "$DODIRECT"
# shellcheck disable=SC2086
same "third sync" $NEVER etc/shared/notes.txt.swp etc/shared/b.swp

note "one run at a time"
# a helper holding the lock: the subshell becomes the sleep
(exec 8>>"$T/a/bin/.haDoDirect.result.lock" && flock 8 && exec sleep 30) &
echo $! >"$T/flock.helper"
n=0
until ! flock -n "$T/a/bin/.haDoDirect.result.lock" true; do
	[ $n -lt 50 ] || fail "the helper does not take the lock"
	sleep 0.1
	n=$((n + 1))
done
expect_rc 3 "$DODIRECT"
assert_grep "another run holds" "$T/err"
kill "$(cat "$T/flock.helper")" 2>/dev/null || true
wait "$(cat "$T/flock.helper")" 2>/dev/null || true
rm -f "$T/flock.helper"

note "the report of a success: mail when mailOnSuccess is y, and the hook"
ha_cfg "$T/cfg/success.cfg" highAvail.mailOnSuccess y highAvail.syncHook "$T/hook" \
    highAvail.mailTo "root,ops@example.com"
: >"$T/mail.out"
: >"$T/hook.out"
expect_rc 0 "$DODIRECT" -f "$T/cfg/success.cfg"
assert_grep "^args: -t$" "$T/mail.out"
assert_grep "^To: root,ops@example.com$" "$T/mail.out"
assert_grep "^Subject: hasvr file sync SUCCESS: 127.0.0.1 to $PEER$" "$T/mail.out"
assert_grep "^\[filesync\]\[SUCCESS\]\[$PEER\]\[copied 3 path\(s\) to $PEER in [0-9]+ s\]$" "$T/hook.out"

# ---- failures ---------------------------------------------------------------------

# fails WHAT REASON-ERE [KEY VALUE]…: .haDoDirect with those settings
# fails: exit 1, FAIL and the reason in the result file, the reason, the
# command and stderr in ha.log, the mail and the hook.
fails()
{
	local what reason
	what=$1
	reason=$2
	shift 2
	ha_cfg "$T/cfg/fail.cfg" highAvail.syncHook "$T/hook" "$@"
	: >"$T/mail.out"
	: >"$T/hook.out"
	mark
	expect_rc 1 "$DODIRECT" -f "$T/cfg/fail.cfg"
	result_is FAIL "$reason"
	new_log
	assert_grep "\] ERROR .*file sync to $PEER: FAIL: .*$reason" "$T/halog.new" \
	    "$what: ha.log does not give the reason"
	assert_grep "\] ERROR .*file sync command: rsync -aR --no-implied-dirs --delete " "$T/halog.new" \
	    "$what: ha.log does not give the command"
	assert_grep "^Subject: hasvr file sync FAIL: 127.0.0.1 to $PEER$" "$T/mail.out" \
	    "$what: no mail"
	assert_grep "^reason: .*$reason" "$T/mail.out" "$what: the mail has no reason"
	assert_grep "^\[filesync\]\[FAIL\]\[$PEER\]\[.*$reason.*\]$" "$T/hook.out" \
	    "$what: the hook did not get the event"
}

note "wrong key: FAIL, refused, ssh's words in ha.log"
fails "wrong key" "refused the key $T/a/etc/ssh/wrong_key of root" \
    highAvail.sshKeyFile "$T/a/etc/ssh/wrong_key"
assert_grep "ERROR .*file sync stderr: .*Permission denied \(publickey" "$T/halog.new"
assert_grep "haTrustCheck -f $T/cfg/fail.cfg -p $PEER" "$RESULT"

# When ssh is refused, rsync exits 255 or 12 depending on which it notices
# first, ssh's exit or the closed pipe (about 1 run in 5 above gives 12).
# A stand-in rsync first in the PATH gives each status on purpose: the
# reason comes from ssh's words, whatever the status, and every reason ends
# with the haTrustCheck command.
mkdir -p "$T/fakebin"
cat >"$T/fakebin/rsync" <<'EOF'
#!/bin/sh
printf '%s\n' "$FAKE_RSYNC_STDERR" >&2
exit "$FAKE_RSYNC_EXIT"
EOF
chmod 755 "$T/fakebin/rsync"
# fake_rsync_fails EXIT STDERR REASON-ERE: .haDoDirect with that rsync
# fails with REASON-ERE and the haTrustCheck command in the result file.
fake_rsync_fails()
{
	ha_cfg "$T/cfg/fail.cfg"
	FAKE_RSYNC_EXIT=$1 FAKE_RSYNC_STDERR=$2 PATH=$T/fakebin:$PATH \
	    expect_rc 1 "$DODIRECT" -f "$T/cfg/fail.cfg"
	result_is FAIL "$3"
	assert_grep "^reason .*: check with: $top_builddir/utils/haTrustCheck -f $T/cfg/fail.cfg -p $PEER$" \
	    "$RESULT" "rsync exit $1: the reason does not end with the haTrustCheck command"
}
note "a refused key is diagnosed from ssh's stderr whatever rsync's status"
refused="root@$PEER: Permission denied (publickey).
rsync: connection unexpectedly closed (0 bytes received so far) [sender]
rsync error: unexplained error (code 255) at io.c(232) [sender=3.2.7]"
fake_rsync_fails 255 "$refused" "$PEER refused the key $T/a/etc/ssh/id_ed25519 of root: "
refused="root@$PEER: Permission denied (publickey,password).
rsync: connection unexpectedly closed (0 bytes received so far) [sender]
rsync error: error in rsync protocol data stream (code 12) at io.c(232) [sender=3.2.7]"
fake_rsync_fails 12 "$refused" "$PEER refused the key $T/a/etc/ssh/id_ed25519 of root: "
note "a file the peer refuses is not a refused key; every reason has the hint"
fake_rsync_fails 23 'rsync: [receiver] mkstemp "/etc/.x.abc" failed: Permission denied (13)' \
    "rsync to $PEER exited 23: rsync: \[receiver\] mkstemp \"/etc/\.x\.abc\" failed: Permission denied \(13\): "
assert_no_grep "refused the key" "$RESULT"
fake_rsync_fails 30 "rsync error: timeout in data send/receive (code 30)" \
    "no data moved for 10 s \(highAvail.syncTimeout; is $PEER or the network overloaded\?\): "

note "unreachable peer: FAIL"
fails "unreachable" "cannot connect to $PEER port $DEAD_PORT: Connection refused" \
    highAvail.sshPort "$DEAD_PORT"
assert_grep "ERROR .*file sync stderr: ssh: connect to host $PEER port $DEAD_PORT: Connection refused" "$T/halog.new"

note "unknown and changed host keys: FAIL"
: >"$T/cfg/known_hosts.empty"
fails "unknown host key" "the host key of $PEER is not in $T/cfg/known_hosts.empty" \
    highAvail.knownHostsFile "$T/cfg/known_hosts.empty"
printf '[%s]:%s %s\n' "$PEER" "$SSH_PORT" "$(cut -d' ' -f1,2 "$S/other_host.pub")" \
    >"$T/cfg/known_hosts.changed"
fails "changed host key" "the host key of $PEER has changed" \
    highAvail.knownHostsFile "$T/cfg/known_hosts.changed"

note "rsync missing on the peer: FAIL"
fails "rsync missing" "rsync is not installed on $PEER \(or not in the PATH of root there\)" \
    highAvail.sshPort "$RSYNCLESS_PORT"

note "a path that is never copied: FAIL before any copy"
ha_cfg "$T/cfg/fail.cfg" highAvail.syncPaths "$T/a/etc $T/a/var/xdb/data"
mark
expect_rc 1 "$DODIRECT" -f "$T/cfg/fail.cfg"
result_is FAIL "highAvail.syncPaths: $T/a/var/xdb/data is in $T/a/var/xdb, which is never copied"
new_log
assert_no_grep "file sync command" "$T/halog.new"

note "no mailer installed: logged, not mailed"
ha_cfg "$T/cfg/fail.cfg" highAvail.sshKeyFile "$T/a/etc/ssh/wrong_key"
mark
HASVR_SENDMAIL=$T/no-such-sendmail expect_rc 1 "$DODIRECT" -f "$T/cfg/fail.cfg"
new_log
assert_grep "WARN .*no mailer installed \($T/no-such-sendmail\): report not mailed" "$T/halog.new"

note "a failing hook is logged"
ha_cfg "$T/cfg/fail.cfg" highAvail.sshKeyFile "$T/a/etc/ssh/wrong_key" highAvail.syncHook "$T/hook"
mark
HOOK_EXIT=3 expect_rc 1 "$DODIRECT" -f "$T/cfg/fail.cfg"
new_log
assert_grep "ERROR .*sync hook $T/hook failed \(exit 3\)" "$T/halog.new"

note "bandwidth limit reaches rsync"
ha_cfg "$T/cfg/bw.cfg" highAvail.syncBandwidth 64K
expect_rc 0 "$DODIRECT" -n -f "$T/cfg/bw.cfg"
assert_grep " --bwlimit=64 " "$T/out"
expect_rc 0 "$DODIRECT" -f "$T/cfg/bw.cfg"

# ---- haTrustCheck -------------------------------------------------------------------

# trust CODE ERE ARGS…: haTrustCheck exits CODE and prints a line matching ERE.
trust()
{
	local code ere
	code=$1
	ere=$2
	shift 2
	expect_rc "$code" "$TRUST" -f "$T/a/etc/haSvr.cfg" "$@"
	assert_grep "$ere" "$T/out" "haTrustCheck $*: no line matching /$ere/"
}

note "haTrustCheck: all checks pass"
trust 0 "^OK rsync on the peer: rsync version"
for l in "^OK local tools: " "^OK key: $T/a/etc/ssh/id_ed25519$" \
    "^OK reachable: sshd answers on $PEER port $SSH_PORT$" \
    "^OK host key: $PEER presents ED25519 SHA256:" \
    "^OK login: $PEER accepts the key of root without a password$" \
    "^OK $PEER: the file sync can log in as root and run rsync$"; do
	assert_grep "$l" "$T/out"
done
[ "$(ssh-keygen -l -f "$S/host_ed25519.pub" | cut -d' ' -f2)" = \
    "$(sed -n 's/^OK host key: .* ED25519 \(SHA256:[^,]*\),.*/\1/p' "$T/out")" ] ||
    fail "haTrustCheck's fingerprint is not ssh-keygen's"

note "haTrustCheck: each failure, its exit code and its fix"
trust 4 "^FAIL unreachable: cannot connect to $PEER port $DEAD_PORT: Connection refused — is sshd running on the peer" \
    -P "$DEAD_PORT"
trust 6 "^FAIL host key unknown: $PEER \(port $SSH_PORT\) is not in $T/cfg/known_hosts.empty .* ssh-keyscan -p $SSH_PORT $PEER >> $T/cfg/known_hosts.empty" \
    -k "$T/cfg/known_hosts.empty"
trust 6 "^FAIL host key unknown: $T/cfg/none: No such file or directory" -k "$T/cfg/none"
trust 7 "^FAIL host key changed: $PEER presents ED25519 SHA256:.* ssh-keygen -f $T/cfg/known_hosts.changed -R '\[$PEER\]:$SSH_PORT'" \
    -k "$T/cfg/known_hosts.changed"
trust 8 "^FAIL key refused: $PEER does not accept $T/a/etc/ssh/wrong_key for user root — append $T/a/etc/ssh/wrong_key.pub to ~root/.ssh/authorized_keys" \
    -i "$T/a/etc/ssh/wrong_key"
trust 9 "^FAIL rsync missing on the peer: \`rsync --version\` as root on $PEER: .*rsync: command not found — install it there" \
    -P "$RSYNCLESS_PORT"
trust 3 "^FAIL key file $T/cfg/no_key: No such file or directory — create the key" -i "$T/cfg/no_key"
cp "$S/wrong_key" "$T/cfg/open_key"
chmod 644 "$T/cfg/open_key"
trust 3 "^FAIL key file $T/cfg/open_key is accessible by others \(mode 0644\)" -i "$T/cfg/open_key"
# the failing step ends the checks of that peer; the earlier ones passed
trust 8 "^OK host key: " -i "$T/a/etc/ssh/wrong_key"
assert_no_grep "^OK login" "$T/out"

note "haTrustCheck: usage and configuration errors exit 2"
expect_rc 2 "$TRUST" -f "$T/cfg/missing.cfg"
assert_grep "cannot open" "$T/err"
ha_cfg "$T/cfg/bad.cfg" highAvail.syncPaths "etc/shared"
expect_rc 2 "$TRUST" -f "$T/cfg/bad.cfg"
assert_grep "bad.cfg:[0-9]+: highAvail.syncPaths: 'etc/shared' is not an absolute path" "$T/err"
expect_rc 2 "$TRUST" -P 0
expect_rc 0 "$TRUST" -h
assert_grep "^Exit status: 0 all passed" "$T/out"

note "ok"
