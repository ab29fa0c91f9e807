#!/bin/sh
# torture.sh — the fault suite: one durability mode, a seeded random fault
# schedule, writers recording every operation, and a checker over the
# recorded history (tests/cluster/README has the parts).
#
#   tests/cluster/torture.sh MODE        MODE: sync | strict | async
# Settings (environment):
#   TORTURE_SEED      schedule seed (default 1): the same seed gives the
#                     same faults, nodes and durations on any machine
#   TORTURE_FAULTS    faults in the schedule (default 50)
#   TORTURE_NODES     2 or 3 (default 2)
#   TORTURE_WRITERS   concurrent writers (default 4)
#   TORTURE_MIN/MAX   seconds each fault lasts (default 1..4)
#   TORTURE_KINDS     fault kinds (default every kind of cluster.sh's
#                     nemesis: kill9 pause partition partition-in
#                     partition-out netem diskfull restart-cut)
#   TORTURE_ASSERT    what makes the run fail (exit 1), a list of:
#                     lost (an acknowledged write missing at the end),
#                     dualwrite (writes acknowledged by two primaries at
#                     once), converge (the nodes never agree), unexpected
#                     (a sanitizer report or a crash nobody caused);
#                     default: none (report only)
# Prints one table (and keeps it in $T/table). Needs root (namespaces).
#
# How a run goes: a cluster of TORTURE_NODES hosts in network namespaces
# (cluster.sh) starts with highAvail.durability MODE; the roles of every
# node are sampled every 20 ms; the writers run in the client namespace
# for the whole schedule (workload.c); each fault is applied, lasts its
# time and is healed, one after the other; then every node is started
# again if it is down, and the run waits (bounded) for one primary, every
# node healthy and equal digests. The final primary's ids, the ids in any
# copy a node kept aside (diverged-*, resync-*) and the history go to the
# checker (checker.c).
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$(pwd)}"
MODE=${1:-sync}
case $MODE in
sync|strict|async) ;;
*) echo "usage: torture.sh sync|strict|async" >&2; exit 2 ;;
esac
HASVR_TEST_TIMEOUT=${HASVR_TEST_TIMEOUT:-1800}
. "$top_srcdir/tests/cluster/cluster.sh"
test_init "torture-$MODE"
[ "$(id -u)" = 0 ] || skip "the fault suite needs root (network namespaces)"
command -v ip >/dev/null 2>&1 || skip "iproute2 (ip) is not installed"
WORKLOAD=$top_builddir/tests/cluster/workload
CHECKER=$top_builddir/tests/cluster/checker
for b in "$WORKLOAD" "$CHECKER"; do
	[ -x "$b" ] || fail "$b not built (make check TESTS= builds it)"
done
SEED=${TORTURE_SEED:-1}
FAULTS=${TORTURE_FAULTS:-50}
N=${TORTURE_NODES:-2}
W=${TORTURE_WRITERS:-4}
MIN=${TORTURE_MIN:-1}
MAX=${TORTURE_MAX:-4}
[ -n "${TORTURE_KINDS:-}" ] && NEM_KINDS=$TORTURE_KINDS
PREFIX=0.torture
DEAD_MS=500

CLUSTER_DURABILITY=$MODE
CLUSTER_ACKTIMEOUT=${CLUSTER_ACKTIMEOUT:-500ms}
# room for minutes of writes and for the copies a node keeps aside each
# time it gives up a diverged history (tmpfs: only what is used counts)
CLUSTER_XDB_SIZE=${CLUSTER_XDB_SIZE:-1g}
cluster_init "$N"
nodes=
addrs=
i=1
while [ $i -le "$N" ]; do
	cluster_start $i
	nodes="$nodes $i"
	addrs="$addrs${addrs:+,}$(cluster_addr $i)"
	i=$((i + 1))
done
p=$(cluster_wait_primary 30) || fail "no primary after start"
cluster_wait_healthy 60 >/dev/null || fail "the cluster is not healthy after start"

# shellcheck disable=SC2086
nem_random "$SEED" "$FAULTS" "$MIN" "$MAX" $nodes >"$T/schedule"
gap=${NEM_GAP:-1}
secs=$(awk -v gap="$gap" '{ s += $4 + gap } END { print s + 0 }' "$T/schedule")
note "mode $MODE, seed $SEED, $FAULTS faults on $N nodes over about $secs s, $W writers"

sampler=$(cluster_sample_roles "$T/roles" 20)
cluster_client "$WORKLOAD" -k "$CLUSTER_KEYFILE" -P "$CLUSTER_CPORT" \
    -n "$addrs" -c "$W" -d $((secs + 3)) -p "$PREFIX" -o "$T/history" \
    -T 2000 >"$T/workload.out" 2>"$T/workload.err" &
echo $! >"$T/workload.helper"
sleep 1
nem_run "$T/schedule"
st=0
wait "$(cat "$T/workload.helper")" || st=$?
rm -f "$T/workload.helper"
[ "$st" -eq 0 ] || fail "workload exited $st: $(tail -n 5 "$T/workload.err")"

# every fault is healed; a node a fault left down is started again
for i in $nodes; do
	[ -n "$(cluster_hasvr_pid $i)" ] || cluster_start $i
done
t0=$(date +%s%3N)
converged=no
p=$(cluster_wait_primary 60) || p=
healthy=no
[ -n "$p" ] && cluster_wait_healthy 120 >/dev/null 2>&1 && healthy=yes
k=0
while :; do
	: >"$T/digests"
	for i in $nodes; do
		echo "$(cluster_addr $i) $(cluster_digest $i 2>/dev/null || echo none)" \
		    >>"$T/digests"
	done
	if [ "$(awk '{ print $2 }' "$T/digests" | sort -u | wc -l)" -eq 1 ] &&
	    ! grep -q ' none$' "$T/digests"; then
		converged=yes
		break
	fi
	[ "$healthy" = yes ] && [ $k -lt 60 ] || break
	sleep 1
	k=$((k + 1))
done
[ "$healthy" = yes ] || note "not healthy 3 min after the last fault: $(for i in $nodes; do printf '%s ' "$i:$(cluster_role $i)"; done)"
conv_ms=$(( $(date +%s%3N) - t0 ))
kill "$sampler" 2>/dev/null || true

# FINAL: the final primary's ids (the first node answering when none is)
: >"$T/final"
for i in $p $nodes; do
	cluster_xdb "$i" list "$PREFIX." >"$T/final" 2>"$T/final.err" && break
done

# ASIDE: the ids of every copy a node kept aside (recovered on a scratch
# copy: the original stays as it was)
aside_args=
k=0
for d in "$T"/n*/var/xdb/diverged-* "$T"/n*/var/xdb/resync-*; do
	[ -d "$d" ] || continue
	k=$((k + 1))
	kept_aside_ids "$d" "$T/aside$k" || continue
	aside_args="$aside_args -a $T/aside$k"
done

# the samples name nodes by number, the history by address
awk '{ $2 = "192.0.2." $2; print }' "$T/roles" >"$T/roles.addr"
# shellcheck disable=SC2086
"$CHECKER" -h "$T/history" -f "$T/final" -r "$T/roles.addr" -D "$T/digests" \
    $aside_args >"$T/verdict" 2>"$T/checker.err" || true
v() { awk -v k="$1" '$1 == k { print $2; exit }' "$T/verdict"; }
[ -n "$(v ops)" ] || fail "checker gave no verdict: $(cat "$T/checker.err")"

# unexpected: sanitizer reports, crashes nobody caused, the longest time
# with no primary among the samples
san=$(cat "$T"/n*/hasvr.out "$T"/n*/var/errorLog/* 2>/dev/null |
    grep -c 'ERROR: \(Address\|Leak\|UndefinedBehavior\)Sanitizer\|runtime error:' || true)
crash=$(cat "$T"/n*/var/errorLog/ha.log 2>/dev/null |
    grep -c 'highAvailSvr (pid [0-9]*) was killed by signal \([^9]\|9[0-9]\)' || true)
noprim=$(sort -n "$T/roles" | awk '
    { role[$2] = $3; t = $1
      any = 0; for (n in role) if (role[n] == "PRIMARY") any = 1
      if (!any && start == "") start = t
      if (any && start != "") { if (t - start > max) max = t - start; start = "" } }
    END { if (start != "" && t - start > max) max = t - start; print max + 0 }')

kinds=$(awk '{ c[$2]++ } END { for (k in c) printf "%s %d, ", k, c[k] }' "$T/schedule" |
    sed 's/, $//')
{
	echo "mode $MODE   seed $SEED   nodes $N   writers $W   faults $FAULTS ($kinds)"
	echo "  operations     ok $(v ops_ok)   fail $(v ops_fail)   info $(v ops_info)"
	echo "  lost           $(v lost) acknowledged writes missing at the end ($(v lost_preserved) of them kept aside)"
	echo "  dual primary   $(v dual_primary_windows) windows, $(v dual_primary_ms) ms; with writes acknowledged by both: $(v dual_write_windows) ($(v dual_write_ms) ms)"
	echo "  unexpected     present after a definite failure $(v unexpected_present); sanitizer reports $san; crashes not caused by a fault $crash"
	echo "  convergence    $converged in $conv_ms ms (healthy: $healthy); longest time without a primary $noprim ms"
} >"$T/table"
cat "$T/table"
# what happened around a loss: the faults and the nodes that acknowledged
# the lost writes (first ones)
if [ "$(v lost)" != 0 ] || [ "$(v dual_primary_windows)" != 0 ]; then
	awk '$1 == "lost_id" { print $3 }' "$T/verdict" | sort | uniq -c |
	    awk '{ printf "  lost writes acknowledged by %s: %d (of the first 20 listed)\n", $2, $1 }'
	grep '^window' "$T/verdict" | head -n 5 | sed 's/^/  /'
fi
grep '^verdict' "$T/verdict"

bad=
for a in ${TORTURE_ASSERT:-}; do
	case $a in
	lost) [ "$(v lost)" = 0 ] || bad="$bad lost=$(v lost)" ;;
	dualwrite) [ "$(v dual_write_windows)" = 0 ] || bad="$bad dual_write_windows=$(v dual_write_windows)" ;;
	converge) [ "$converged" = yes ] || bad="$bad not-converged" ;;
	unexpected) [ "$san" = 0 ] && [ "$crash" = 0 ] && [ "$(v unexpected_present)" = 0 ] ||
	    bad="$bad unexpected(san=$san crash=$crash present=$(v unexpected_present))" ;;
	*) fail "TORTURE_ASSERT: unknown '$a'" ;;
	esac
done
[ -z "$bad" ] || { grep '^lost_id\|^window' "$T/verdict" | head -n 10 >&2; fail "violated:$bad (seed $SEED, mode $MODE)"; }
cluster_teardown
echo ok
