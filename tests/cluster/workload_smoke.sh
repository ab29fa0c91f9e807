#!/bin/sh
# workload_smoke.sh — the fault-suite workload and checker against a real
# pair on loopback: a (127.0.0.1, primary) and b (127.0.0.2), sync
# durability. Four writers write (and read back 10% of the time) for
# WL_SECS (default 10) seconds over TLS while the workload samples every
# node's role (guisvr's STATUS every 20 ms per node);
# WL_KILL_AT seconds in (default 3) the primary's hasvr and guisvr are
# killed with SIGKILL (by PID), b takes over and the writers follow it.
# Then:
#   FINAL  = the ids b holds:  xdb -H 127.0.0.2 -P PORT -k KEY list PREFIX.
#   ASIDE  = ids of any diverged-*/resync-* copy on either node (after
#            recovery of a scratch copy with db5.3_recover, when installed)
#   a restarts, rejoins as secondary; DIGESTS = each node's dump digest
#   checker --max-lost 0 --no-dual-write --require-converged
# (sync durability: no acknowledged write may be lost). Not in make check
# (root not needed, but it runs ~15 s and binds 127.0.0.2).
#   cd build && top_srcdir=.. top_builddir=$PWD sh ../tests/cluster/workload_smoke.sh
# HASVR_TEST_KEEP=1 keeps the files (history, roles, final, logs).
. "$top_srcdir/tests/integ/lib.sh"
test_init workload_smoke
WORKLOAD=$top_builddir/tests/cluster/workload
CHECKER=$top_builddir/tests/cluster/checker
for b in "$WORKLOAD" "$CHECKER"; do
	[ -x "$b" ] || fail "$b not built (make check TESTS= builds it)"
done
WL_SECS=${WL_SECS:-10}
WL_KILL_AT=${WL_KILL_AT:-3}
PREFIX=0.smoke

ha_init
HA_DURABILITY=sync
HA_ACKTIMEOUT=2s
# pick_port runs in a subshell and would give HA_RPORT again
PORT=$((HA_RPORT + 1))
while ! port_free "$PORT"; do
	PORT=$((PORT + 1))
done
CKEY=$T/client.key
write_key "$CKEY"
hasvr_node a 127.0.0.1 "guiSvr.listenAddr 127.0.0.1" "guiSvr.listenPort $PORT" \
    "guiSvr.clientKeyFile $CKEY"
start_hasvr
hasvr_node b 127.0.0.2 "guiSvr.listenAddr 127.0.0.2" "guiSvr.listenPort $PORT" \
    "guiSvr.clientKeyFile $CKEY"
start_hasvr
on a wait_role PRIMARY 20
on b wait_role SECONDARY 20
on b hastatus -w 30 >/dev/null || fail "pair not healthy before the test"
wait_until 10 "a's TLS port not answering" \
    "$XDB" -H 127.0.0.1 -P "$PORT" -k "$CKEY" status

note "4 writers for $WL_SECS s; the primary a is killed after $WL_KILL_AT s"
"$WORKLOAD" -k "$CKEY" -P "$PORT" -n 127.0.0.1,127.0.0.2 -c 4 -d "$WL_SECS" \
    -p "$PREFIX" -o "$T/history" -T 2000 -R 10 -r "$T/roles" -i 20 \
    >"$T/workload.out" 2>"$T/workload.err" &
echo $! >"$T/workload.helper"
sleep "$WL_KILL_AT"
grep -q ' ok 127\.0\.0\.1$' "$T/history" || fail "no write acknowledged by a before the kill: $(cat "$T/workload.err")"
instance a
kill9_node
note "a killed at $(date +%s%3N)"
instance b
wait_role PRIMARY 15
note "b is primary at $(date +%s%3N)"
st=0
wait "$(cat "$T/workload.helper")" || st=$?
rm -f "$T/workload.helper"
[ "$st" -eq 0 ] || fail "workload exited $st: $(cat "$T/workload.err")"
cat "$T/workload.out"
grep -q ' ok 127\.0\.0\.2$' "$T/history" || fail "no write acknowledged by b after the failover"

# FINAL: what the new primary holds
"$XDB" -H 127.0.0.2 -P "$PORT" -k "$CKEY" list "$PREFIX." >"$T/final" ||
    fail "cannot list b's records"

note "a restarts and rejoins as secondary"
instance a
start_hasvr
wait_role SECONDARY 30
hastatus -w 60 >"$T/status.a" || { cat "$T/status.a" >&2; fail "a did not reach in-sync"; }

# ASIDE: ids in any copy kept aside (a diverged or resynced database)
aside_args=
k=0
for d in "$T"/*/var/xdb/diverged-* "$T"/*/var/xdb/resync-*; do
	[ -d "$d" ] || continue
	k=$((k + 1))
	n=$k
	note "preserved copy $d"
	kept_aside_ids "$d" "$T/aside$n" || continue
	aside_args="$aside_args -a $T/aside$n"
done

# DIGESTS: the two nodes once converged (bounded)
n=0
while :; do
	da=$(on a digest)
	db=$(on b digest)
	[ "$da" = "$db" ] || [ $n -ge 60 ] || { sleep 1; n=$((n + 1)); continue; }
	break
done
printf '127.0.0.1 %s\n127.0.0.2 %s\n' "$da" "$db" >"$T/digests"

# the role sampling must have been dense enough to judge dual primaries
gap=$(sort -k2,2 -k1,1n "$T/roles" | awk '
    $2 == node && $1 - last > max { max = $1 - last }
    { node = $2; last = $1 } END { print max + 0 }')
note "$(wc -l <"$T/roles") role samples, largest gap per node $gap ms"

st=0
# shellcheck disable=SC2086
"$CHECKER" -h "$T/history" -f "$T/final" -r "$T/roles" -D "$T/digests" $aside_args \
    --max-lost 0 --no-dual-write --require-converged >"$T/verdict" || st=$?
cat "$T/verdict"
[ "$st" -eq 0 ] || fail "checker found a violation (exit $st)"
on b stop_hasvr
on a stop_hasvr
echo ok
