#!/bin/sh
# ha_halink_rights — the ha-link (var/run/guiSvr.halink, mode 0660) lets
# the daemons' group read the state, but only hasvr's user and root change
# roles: a member's `halinkctl role …` is refused on both nodes and logged,
# nothing changes, and the primary keeps taking writes. A role changed
# behind hasvr's back anyway (by root, by hand) is noticed and set back by
# hasvr within a second, and shown in haStatus. Idle connections of the
# group cannot lock hasvr's user or root out of the ha-link.
. "$top_srcdir/tests/integ/lib.sh"
test_init ha_halink_rights
[ "$(id -u)" = 0 ] || skip "needs root (another user in the daemons' group)"
id nobody >/dev/null 2>&1 || skip "no user nobody"
ha_init
HA_DURABILITY=sync
hasvr_node a 127.0.0.1; start_hasvr
hasvr_node b 127.0.0.2; start_hasvr
on a wait_role PRIMARY 20
on b wait_role SECONDARY 20
on b hastatus -w 30 >/dev/null || fail "pair not healthy"

# the group of nobody may use the ha-link sockets (as an operator would be)
ng=$(id -gn nobody)
chmod 755 "$T"
for n in a b; do
	chmod 755 "$T/$n" "$T/$n/var" "$T/$n/var/run"
	chmod 644 "$T/$n/guiSvr.cfg"
	chgrp "$ng" "$T/$n/var/run/guiSvr.halink"
done
as_nobody()
{
	su -s /bin/sh nobody -c "$*"
}

note "a member of the group reads the state but cannot change roles"
as_nobody "'$HALINKCTL' -s '$T/a/var/run/guiSvr.halink' state" >"$T/out" 2>&1 ||
    fail "state refused to the group: $(cat "$T/out")"
assert_grep "^role primary" "$T/out"
st=0
as_nobody "'$HALINKCTL' -s '$T/a/var/run/guiSvr.halink' role secondary" >"$T/out" 2>&1 || st=$?
[ $st -ne 0 ] || fail "a member turned the primary into a secondary"
assert_grep "only hasvr's user .* and root may change it" "$T/out"
st=0
as_nobody "'$HALINKCTL' -s '$T/b/var/run/guiSvr.halink' role primary -e 99" >"$T/out" 2>&1 || st=$?
[ $st -ne 0 ] || fail "a member made the secondary a primary"
st=0
as_nobody "'$HALINKCTL' -s '$T/b/var/run/guiSvr.halink' sync off" >"$T/out" 2>&1 || st=$?
[ $st -ne 0 ] || fail "a member turned database sync off"
assert_grep "role change refused: only hasvr's user" "$(log_of a)"
assert_grep "role change refused: only hasvr's user" "$(log_of b)"
on b halinkctl state | grep -q "^role secondary" || fail "b's role changed"
on a xdb -w set 0.halink.rights v=1 >/dev/null || fail "the primary refuses writes"
on b wait_count 1 20

note "a role changed behind hasvr's back is set back"
on a halinkctl role secondary -e 1 >/dev/null || fail "root's halinkctl refused"
wait_for_log "highAvailSvr has role secondary .* not primary .* telling it again" 10 "$(on a hlog)"
on a wait_until 10 "guisvr of a primary again" sh -c \
    "'$HALINKCTL' -s '$T/a/var/run/guiSvr.halink' state | grep -q '^role primary'"
on a expect_rc 1 hastatus
assert_grep "changed behind hasvr's back" "$T/out"
on a wait_until 10 "writes on a again" sh -c \
    "'$XDB' -f '$T/a/guiSvr.cfg' -w set 0.halink.back v=2"
assert_eq SECONDARY "$(on b role_of)" "b stays secondary"

note "idle connections of the group do not lock hasvr's user or root out"
pids=
i=0
while [ $i -lt 12 ]; do
	as_nobody "exec socat -u UNIX-CONNECT:'$T/a/var/run/guiSvr.halink' OPEN:/dev/null" \
	    </dev/null >/dev/null 2>&1 &
	echo $! >"$T/idle$i.helper"
	i=$((i + 1))
done
sleep 1
wait_for_log "refusing a connection of uid [0-9]+ .*the daemons' group already holds its share" 10 "$(log_of a)"
on a halinkctl state >/dev/null || fail "root locked out of the ha-link by idle connections"
on a xdb -w set 0.halink.after v=3 >/dev/null || fail "writes on a with the ha-link crowded"
for f in "$T"/idle*.helper; do
	kill "$(cat "$f")" 2>/dev/null || true
	rm -f "$f"
done
on b stop_hasvr
on a stop_hasvr
echo ok
