#!/bin/sh
# ha_diskfull — a full disk under a node's var/xdb (a small tmpfs, filled).
#  1. the secondary's disk fills under sync writes: guisvr is not killed
#     (no SIGBUS: Berkeley DB's regions live in memory), says so once in a
#     while rather than for every write, the secondary is reported dirty
#     with the reason, writes go on on the primary; once space is back it
#     catches up by itself and holds every acknowledged write.
#  2. the primary's disk fills: it hands the primary role to the in-sync
#     secondary (ha.log says why), writes go on there with every write
#     acknowledged before; once space is back the old primary rejoins as an
#     in-sync secondary.
. "$top_srcdir/tests/integ/lib.sh"
test_init ha_diskfull
[ "$(id -u)" = 0 ] || skip "mounting a small tmpfs needs root"
ha_init
HA_DURABILITY=sync
HA_ACKTIMEOUT=1s
MOUNTS=
at_exit 'for m in $MOUNTS; do umount -l "$m" 2>/dev/null; done'

# small_disk NODE: NODE's var/xdb on a 40 MiB tmpfs of its own
small_disk()
{
	mkdir -p "$T/$1/var/xdb"
	mount -t tmpfs -o size=40m,mode=0750 hasvr-test "$T/$1/var/xdb" 2>"$T/mount.err" ||
	    skip "cannot mount a tmpfs: $(cat "$T/mount.err")"
	MOUNTS="$MOUNTS $T/$1/var/xdb"
}
# fill NODE: leave about 2 MiB free on NODE's var/xdb
fill()
{
	local avail
	avail=$(df --output=avail -k "$T/$1/var/xdb" | tail -n 1)
	dd if=/dev/zero of="$T/$1/var/xdb/filler" bs=1k count=$((avail - 2048)) 2>/dev/null || true
}
unfill()
{
	rm -f "$T/$1/var/xdb/filler"
}
# writes NODE NAME COUNT [SECS]: sync puts on NODE (4 writers); with SECS,
# a failed put is tried again until SECS have passed (an application)
writes()
{
	instance "$1"
	torture -T 90 ${4:+-K $4} puts "0.df.$2" 1 "$3" "$T/acked.$2" 4 \
	    >"$T/load.$2.out" 2>&1 || true
}

note "1. the secondary's disk fills under sync writes"
hasvr_node a 127.0.0.1
hasvr_node b 127.0.0.2
small_disk b
on a start_hasvr
on a wait_role PRIMARY 20
on b start_hasvr
on b wait_role SECONDARY 20
on b hastatus -w 30 >/dev/null || fail "pair not healthy"
fill b
writes a one 40000 &
echo $! >"$T/load.helper"
on b wait_until 60 "b reports its disk while the writes go on" sh -c \
    "'$HASTATUS' -s '$T/b/var/run/haSvr.sock' >'$T/st.b'; grep -q 'refuses writes' '$T/st.b'"
assert_grep "dirty" "$T/st.b"
wait "$(cat "$T/load.helper")" || true
rm -f "$T/load.helper"
[ "$(wc -l <"$T/acked.one")" -gt 20000 ] || fail "writes stopped on the primary: $(cat "$T/load.one.out")"
instance b
assert_no_grep "killed by signal" "$(hlog)"
n=$(grep -c "No space left on device" "$LOG" || true)
note "guiDaemon.0 of b: $n lines about the full disk"
[ "$n" -lt 100 ] || fail "$n lines about the full disk in $LOG: not rate-limited"
unfill b
on a hastatus -w 60 >"$T/st" || { cat "$T/st" >&2; fail "b did not catch up once space was back"; }
on b torture check "$T/acked.one" >/dev/null || fail "acknowledged writes missing on b"
wait_converged a b 30 >/dev/null
on b stop_hasvr
on a stop_hasvr

note "2. the primary's disk fills: it hands over to the in-sync secondary"
rm -rf "$T/c" "$T/d"
hasvr_node c 127.0.0.1
hasvr_node d 127.0.0.2
small_disk c
on c start_hasvr
on c wait_role PRIMARY 20
on d start_hasvr
on d wait_role SECONDARY 20
on d hastatus -w 30 >/dev/null || fail "pair not healthy"
writes c two 2000
fill c
writes c three 1000000 8
on d wait_role PRIMARY 30
instance c
assert_grep "database server cannot serve: .*refuses writes" "$(hlog)"
assert_grep "role change PRIMARY -> SECONDARY, reason: this node's database server cannot serve .*handing the primary role to in-sync peer 2" "$(hlog)"
on d xdb -w set 0.df.after v=1 >/dev/null || fail "the new primary refuses writes"
for f in two three; do
	on d torture check "$T/acked.$f" >/dev/null || fail "acknowledged writes of $f missing on the new primary"
done
note "$(cat "$T/acked.two" "$T/acked.three" | wc -l) acknowledged writes are on the new primary"
unfill c
on c wait_role SECONDARY 30
on d hastatus -w 90 >"$T/st" || { cat "$T/st" >&2; fail "c did not rejoin in-sync once space was back"; }
wait_converged c d 30 >/dev/null
on d stop_hasvr
on c stop_hasvr
echo ok
