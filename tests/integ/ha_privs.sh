#!/bin/sh
# ha_privs — started as root with highAvail.setuid set, hasvr drops to that
# user before it starts anything: hasvr and the guisvr it supervises both
# run as that user (MISSION row 5), its folders belong to it, and a
# guiSvr.setuid that names another user is refused by hasvr -n.
. "$top_srcdir/tests/integ/lib.sh"
test_init ha_privs
[ "$(id -u)" = 0 ] || skip "needs root to change user"
id nobody >/dev/null 2>&1 || skip "no user nobody"
ha_init
HA_HB_EXTRA="highAvail.setuid nobody"
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
[ "$(stat -c %U "$VAR/run")" = nobody ] || fail "var/run belongs to $(stat -c %U "$VAR/run")"
[ "$(stat -c %U "$VAR/run/haSvr.sock")" = nobody ] || fail "the control socket belongs to $(stat -c %U "$VAR/run/haSvr.sock")"
xdb -w set 0.ha_privs.1 by=nobody >/dev/null || fail "write as root through the socket failed"
hastatus >/dev/null || true
hactl sync files off >/dev/null || fail "root may change sync"
stop_hasvr

note "guiSvr.setuid naming another user is refused"
sed -i 's/^guiSvr.setuid nobody$/guiSvr.setuid root/' "$CFG"
expect_rc 1 "$HASVR" -n -f "$HACFG"
assert_grep "highAvail.setuid is 'nobody' but guiSvr.setuid .* is 'root'" "$T/err"
echo ok
