#!/bin/sh
# ha_privs — a tree installed by `make install` (into this test's folder with
# DESTDIR, its folders left root's as make install leaves them, DB_CONFIG
# among them): hasvr started as root with highAvail.setuid drops to that
# user before it starts anything; hasvr and the guisvr it supervises both
# run as that user (MISSION row 5); the folders they write (var, run,
# errorLog, xdb and its data, log and init) and what make install put in
# them become that user's, and guisvr serves writes; a link planted in
# xdb/data does not hand its target over; a guiSvr.setuid that names
# another user is refused by hasvr -n.
. "$top_srcdir/tests/integ/lib.sh"
test_init ha_privs
[ "$(id -u)" = 0 ] || skip "needs root to change user"
id nobody >/dev/null 2>&1 || skip "no user nobody"

note "make install into the test's folder"
prefix=$(sed -n 's/^prefix = //p' "$top_builddir/Makefile")
[ -n "$prefix" ] || fail "no prefix in $top_builddir/Makefile"
# a make of its own, not a sub-make of the one running the tests
(umask 022 && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
    make -C "$top_builddir" install DESTDIR="$T/inst") >"$T/install.out" 2>&1 ||
    fail "make install DESTDIR=$T/inst failed: $(tail -n 5 "$T/install.out")"
R=$T/inst$prefix
for f in sbin/hasvr sbin/guisvr var/xdb/data/DB_CONFIG var/xdb/log var/xdb/init; do
	[ -e "$R/$f" ] || fail "make install left no $R/$f"
done
[ "$(stat -c %U "$R/var/xdb/data/DB_CONFIG")" = root ] ||
    fail "make install left DB_CONFIG to $(stat -c %U "$R/var/xdb/data/DB_CONFIG"), not root"
HASVR=$R/sbin/hasvr
GUISVR=$R/sbin/guisvr
# links to root's files planted in xdb/data must not become nobody's
echo secret >"$T/outside"
chmod 600 "$T/outside"
ln "$T/outside" "$R/var/xdb/data/hardlink"
ln -s "$T/outside" "$R/var/xdb/data/symlink"

ha_init
HA_HB_EXTRA="highAvail.setuid nobody"
# node a's var is the installed one, reached by a short link (UNIX socket
# paths are limited to 107 bytes, and the prefix may be long)
mkdir -p "$T/a"
ln -s "$R/var" "$T/a/var"
hasvr_node a 127.0.0.1 "guiSvr.setuid nobody"
# the daemons read their config files as nobody
chmod 755 "$T" "$T/a"
chown nobody "$HACFG" "$CFG"

note "hasvr and guisvr run as nobody"
start_hasvr
wait_role PRIMARY 20
[ "$(ps -o user= -p "$(hasvr_pid)" | tr -d ' ')" = nobody ] ||
    fail "hasvr runs as $(ps -o user= -p "$(hasvr_pid)")"
n=0
while [ ! -s "$PIDFILE" ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
gpid=$(cat "$PIDFILE")
[ "$(ps -o user= -p "$gpid" | tr -d ' ')" = nobody ] ||
    fail "guisvr runs as $(ps -o user= -p "$gpid")"
for f in run errorLog xdb xdb/data xdb/log xdb/init xdb/data/DB_CONFIG; do
	[ "$(stat -c %U "$R/var/$f")" = nobody ] ||
	    fail "var/$f belongs to $(stat -c %U "$R/var/$f"), not nobody"
done
[ "$(stat -c %U "$VAR/run/haSvr.sock")" = nobody ] || fail "the control socket belongs to $(stat -c %U "$VAR/run/haSvr.sock")"
[ "$(stat -c %U "$T/outside")" = root ] ||
    fail "a link planted in xdb/data handed $T/outside to $(stat -c %U "$T/outside")"
[ "$(stat -c %U -L "$R/var/xdb/data/symlink")" = root ] || fail "the symlink's target changed owner"
xdb -w set 0.ha_privs.1 by=nobody >/dev/null || fail "write as root through the socket failed"
expect_out ":by (nobody)" xdb get 0.ha_privs.1
[ "$(cat "$PIDFILE")" = "$gpid" ] || fail "guisvr was restarted (pid $gpid, now $(cat "$PIDFILE"))"
assert_no_grep "Permission denied" "$LOG" "guisvr's log: $(grep "Permission denied" "$LOG" | head -n 3)"
hastatus >/dev/null || true
hactl sync files off >/dev/null || fail "root may change sync"
stop_hasvr

note "guiSvr.setuid naming another user is refused"
sed -i 's/^guiSvr.setuid nobody$/guiSvr.setuid root/' "$CFG"
expect_rc 1 "$HASVR" -n -f "$HACFG"
assert_grep "highAvail.setuid is 'nobody' but guiSvr.setuid .* is 'root'" "$T/err"
echo ok
