#!/bin/sh
# selftest — the cluster harness and its nemesis do what they claim.
# Two nodes in their own network namespaces: one PRIMARY and one SECONDARY,
# both healthy; a record written over TLS from the client namespace is on
# the other node. Then each fault once, briefly, checked from outside:
#   kill9          hasvr and guisvr gone, the other node becomes PRIMARY,
#                  the killed one rejoins as SECONDARY holding the records
#   diskfull       the node's var/xdb has no room left, then has again
#   pause          both daemons are stopped (state T), then run again
#   netem          round trips to the node take at least twice the delay
#                  (a kernel without netem: a part of the pings is lost)
#   partition in   the node hears nothing, the peer still hears it
#   partition out  the peer hears nothing, the node still hears the peer
#   partition      the client cannot ping the node, the peer loses its
#                  heartbeats; after the heal both come back
# plus the role sampler, the schedule log, nem_random (same seed, same
# schedule, the one written below) and nem_run. After the teardown no
# namespace, mount or process of the run may be left.
# This tests the harness, not hasvr: after kill -9 the pair must be healthy
# again (as in ha_failover); after the other faults only one PRIMARY and
# one SECONDARY hearing each other are required, and a pair that is not
# healthy (database dirty, say) is reported as a note.
# Exit 0 pass, 77 skip (not root, no ip netns), 1 fail.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${HASVR_TEST_TIMEOUT:=600}"
# heartbeats that a loaded machine (other tests beside this one) does not
# delay past the dead interval: a failover nobody caused would make the
# checks below race with it
: "${CLUSTER_HA_EXTRA=highAvail.heartbeatInterval 200ms
highAvail.deadInterval 2s}"
. "$top_srcdir/tests/cluster/cluster.sh"
test_init cluster_selftest
started=$(date +%s)

# role_is NODE ROLE
role_is()
{
	[ "$(cluster_role "$1")" = "$2" ]
}

# sees NODE PEER true|false: NODE's hasvr has PEER alive (or not)
sees()
{
	local a
	a=$(cluster_addr "$2")
	[ "$(cluster_status "$1" 2>/dev/null |
	    jq -r --arg a "$a" '.peers[] | select(.addr == $a) | .alive')" = "$3" ]
}

# pings NODE: the client namespace gets an answer from NODE
pings()
{
	cluster_client ping -n -q -c 1 -W 1 "$(cluster_addr "$1")" >/dev/null 2>&1
}

# proc_state PID: the state letter of PID (R, S, T, ...)
proc_state()
{
	sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1
}

# avail_kb NODE: free KiB on NODE's var/xdb
avail_kb()
{
	df --output=avail -k "$T/n$1/var/xdb" | tail -n 1 | tr -d ' '
}

test_same_digest()
{
	[ "$(cluster_digest "$P")" = "$(cluster_digest "$O")" ]
}

# gone PID: PID has exited (a zombie counts as gone)
gone()
{
	! pid_alive "$1"
}

# settled WHAT: one PRIMARY and one SECONDARY that hear each other; then
# P is the primary and O the secondary (a fault may have swapped them)
settled()
{
	P=$(cluster_wait_primary 30) || fail "no single PRIMARY after $1"
	O=$((3 - P))
	wait_until 30 "node $O is not SECONDARY after $1" role_is "$O" SECONDARY
	wait_until 15 "node $P does not hear node $O after $1" sees "$P" "$O" true
	wait_until 15 "node $O does not hear node $P after $1" sees "$O" "$P" true
}

# write_primary ID ATTR...: a write over TLS to the primary; when the
# roles changed since they were read, once more to the new primary
write_primary()
{
	local n
	n=0
	while ! cluster_xdb "$P" -w set "$@" >"$T/out" 2>&1; do
		n=$((n + 1))
		[ $n -lt 3 ] && grep -q 'this node is secondary' "$T/out" ||
		    fail "TLS write to node $P: $(cat "$T/out")"
		settled "the write to $P was refused"
	done
}

# healthy SECS WHAT: settled, and both nodes healthy within SECS
healthy()
{
	cluster_wait_healthy "$1" || fail "$2: the pair is not healthy"
	settled "$2"
}

# soft_healthy SECS WHAT: settled; a pair not healthy within SECS is
# reported (a note with haStatus's problems), not a failure
NOT_HEALTHY=
soft_healthy()
{
	settled "$2"
	if ! cluster_wait_healthy "$1" 2>"$T/soft.err"; then
		note "after $2 the pair is not healthy within $1 s:"
		grep -E '^(----|  - )' "$T/soft.err" || true
		NOT_HEALTHY="$NOT_HEALTHY, $2"
		settled "$2"
	fi
}

# ---- nem_random needs no cluster -------------------------------------------

note "nem_random: the same seed gives the same schedule"
want="1 partition-in 2 7
2 pause 2 3
3 pause 1 4
4 netem 2 6
5 netem 1 6"
assert_eq "$want" "$(nem_random 1 5 1 9 1 2 3)" "nem_random 1 5 1 9 1 2 3"
assert_eq "$(nem_random 77 20 1 30 1 2)" "$(nem_random 77 20 1 30 1 2)" "nem_random twice"
[ "$(nem_random 77 20 1 30 1 2)" != "$(nem_random 78 20 1 30 1 2)" ] ||
    fail "seeds 77 and 78 give the same schedule"
nem_random 9 200 2 5 1 3 | awk '
    $4 < 2 || $4 > 5 { print "duration out of range: " $0; bad = 1 }
    $3 != 1 && $3 != 3 { print "node not asked for: " $0; bad = 1 }
    { k[$2] = 1 }
    END { n = 0; for (x in k) n++; if (n != 7) { print n " kinds, not 7"; bad = 1 }
	  exit bad }' >&2 || fail "nem_random draws outside what it was given"

# ---- the cluster -------------------------------------------------------------

# the root namespace's links and addresses stay as they were
ip -o link show | sed 's/^[0-9]*: //; s/ .*//' | sort >"$T/root.links"
ip -o addr show | awk '{print $2, $3, $4}' | sort >"$T/root.addrs"
cluster_init 2
ip -o link show | sed 's/^[0-9]*: //; s/ .*//' | sort | diff "$T/root.links" - >&2 ||
    fail "cluster_init changed the root namespace's links"
ip -o addr show | awk '{print $2, $3, $4}' | sort | diff "$T/root.addrs" - >&2 ||
    fail "cluster_init changed the root namespace's addresses"
for ns in $(cat "$T/cluster.ns"); do
	ip netns list | awk '{print $1}' | grep -qx "$ns" || fail "namespace $ns missing"
done
grep -qF " $T/n1 tmpfs " /proc/self/mounts || fail "no tmpfs on n1"
grep -qF " $T/n1/var/xdb tmpfs " /proc/self/mounts || fail "no tmpfs on n1/var/xdb"
grep -qF " $T/n2/var/xdb tmpfs " /proc/self/mounts || fail "no tmpfs on n2/var/xdb"

note "start both nodes: one PRIMARY, one SECONDARY, healthy"
cluster_start 1
cluster_start 2
cluster_wait_primary 30 >/dev/null || fail "no single PRIMARY after 30 s"
healthy 60 "the start"
SAMPLER=$(cluster_sample_roles "$T/roles.log" 100)
note "primary $P, secondary $O, sampler $SAMPLER"

note "a record over TLS from the client namespace, read on the other node"
write_primary 0.cluster.selftest v=1 who=client
wait_until 20 "nodes $P and $O hold different records" test_same_digest
cluster_xdb "$O" get 0.cluster.selftest >"$T/out" 2>&1 ||
    fail "TLS read from node $O: $(cat "$T/out")"
assert_grep '^:v \(1\)$' "$T/out" "the record read back from node $O"
# the local socket on the other node too
"$XDB" -f "$T/n$O/guiSvr.cfg" get 0.cluster.selftest >"$T/out" 2>&1 ||
    fail "local read on node $O: $(cat "$T/out")"
assert_grep '^:who \(client\)$' "$T/out"

note "kill -9 of the primary $P (5 s down): $O takes over, $P rejoins"
K=$P
N=$O
hp=$(cluster_hasvr_pid "$K")
gp=$(cluster_guisvr_pid "$K")
nem_kill9 "$K" 5 &
kill_job=$!
wait_until 5 "node $K's hasvr survives nem_kill9" gone "$hp"
wait_until 5 "node $K's guisvr survives nem_kill9" gone "$gp"
assert_eq down "$(cluster_role "$K")" "role of the killed node"
wait_until 5 "node $N does not become PRIMARY" role_is "$N" PRIMARY
wait "$kill_job" || fail "nem_kill9 (restart) failed"
np=$(cluster_hasvr_pid "$K")
[ -n "$np" ] && [ "$np" != "$hp" ] || fail "node $K not restarted (hasvr '$np')"
wait_until 30 "node $K does not rejoin as SECONDARY" role_is "$K" SECONDARY
healthy 60 "kill -9"
assert_eq "$N" "$P" "the primary after kill -9"
cluster_xdb "$N" -w set 0.cluster.after v=3 >"$T/out" 2>&1 ||
    fail "TLS write to the new primary $N: $(cat "$T/out")"
wait_until 30 "nodes $K and $N differ after kill -9" test_same_digest
"$XDB" -f "$T/n$K/guiSvr.cfg" get 0.cluster.selftest >/dev/null 2>&1 ||
    fail "the first record is not on the rejoined node $K"

note "diskfull on the secondary $O"
nem_diskfull "$O"
a=$(avail_kb "$O")
[ "$a" -lt 64 ] || fail "node $O's var/xdb still has $a KiB free"
if dd if=/dev/zero of="$T/n$O/var/xdb/probe" bs=64k count=1 2>/dev/null; then
	fail "a 64 KiB file still fits on node $O's var/xdb"
fi
rm -f "$T/n$O/var/xdb/probe"
write_primary 0.cluster.diskfull v=2
nem_diskfull_heal "$O"
a=$(avail_kb "$O")
[ "$a" -gt 32768 ] || fail "node $O's var/xdb has only $a KiB after the heal"
soft_healthy 30 "diskfull"

note "pause of the secondary $O for 6 s"
hp=$(cluster_hasvr_pid "$O")
gp=$(cluster_guisvr_pid "$O")
[ -n "$hp" ] && [ -n "$gp" ] || fail "node $O: hasvr '$hp', guisvr '$gp'"
nem_pause "$O" 6 &
pause_job=$!
# the apply line is logged once both are stopped
wait_until 5 "no pause apply in the schedule log" \
    grep -Eq "^[0-9]+ pause $O apply " "$CLUSTER_SCHEDULE"
assert_eq T "$(proc_state "$hp")" "hasvr state during the pause"
assert_eq T "$(proc_state "$gp")" "guisvr state during the pause"
# within the pause: 2 s at most for the role, the peer's dead interval
# (2 s) gone by the next check
assert_eq down "$(cluster_role "$O")" "role of the paused node (no answer)"
wait_until 3 "node $P still hears the paused node $O" sees "$P" "$O" false
wait "$pause_job" || fail "nem_pause failed"
[ "$(proc_state "$hp")" != T ] || fail "hasvr still stopped after the pause"
[ "$(proc_state "$gp")" != T ] || fail "guisvr still stopped after the pause"
soft_healthy 30 "pause"

if cluster_has_netem; then
	note "netem on the secondary $O: 20% loss, 100 ms each way"
	nem_netem "$O" 20 100
	cluster_on "$O" tc qdisc show dev eth0 | grep -q netem ||
	    fail "no netem qdisc on node $O's eth0"
	cluster_client ping -n -c 12 -i 0.2 -W 2 "$(cluster_addr "$O")" >"$T/ping.out" 2>&1 || true
	rtt=$(sed -n 's|^rtt min/avg/max/mdev = \([0-9]*\)\..*|\1|p' "$T/ping.out")
	[ -n "$rtt" ] || fail "no ping answered through netem: $(tail -n 3 "$T/ping.out")"
	[ "$rtt" -ge 190 ] || fail "round trip to node $O is $rtt ms under 2 x 100 ms of netem"
	nem_netem_heal "$O"
	cluster_on "$O" tc qdisc show dev eth0 | grep -q netem && fail "netem left on node $O"
	cluster_client ping -n -c 3 -i 0.2 -W 2 "$(cluster_addr "$O")" >"$T/ping.out" 2>&1 ||
	    fail "ping after the netem heal: $(tail -n 3 "$T/ping.out")"
	rtt=$(sed -n 's|^rtt min/avg/max/mdev = \([0-9]*\)\..*|\1|p' "$T/ping.out")
	[ "$rtt" -lt 50 ] || fail "round trip to node $O still $rtt ms after the heal"
else
	note "netem on the secondary $O: 30% loss each way (no netem in this kernel: no delay)"
	nem_netem "$O" 30 100
	grep -Eq "netem $O apply loss=30% delay=none$" "$CLUSTER_SCHEDULE" ||
	    fail "the schedule log does not say the delay is missing"
	cluster_client ping -n -q -c 40 -i 0.05 -W 1 "$(cluster_addr "$O")" >"$T/ping.out" 2>&1 || true
	got=$(sed -n 's|.* \([0-9]*\) received.*|\1|p' "$T/ping.out")
	[ -n "$got" ] || fail "no ping summary: $(cat "$T/ping.out")"
	[ "$got" -gt 0 ] && [ "$got" -lt 36 ] ||
	    fail "$got of 40 pings answered through 30% loss each way"
	cluster_on "$O" nft list table inet hvtloss >"$T/loss.out" 2>&1 || fail "no loss table on node $O"
	drops=$(sed -n 's/.*counter packets \([0-9]*\) .*/\1/p' "$T/loss.out" | awk '{s += $1} END {print s + 0}')
	[ "$drops" -gt 0 ] || fail "the loss rules dropped nothing"
	nem_netem_heal "$O"
	cluster_on "$O" nft list table inet hvtloss >/dev/null 2>&1 && fail "loss table left on node $O"
	cluster_client ping -n -q -c 10 -i 0.05 -W 1 "$(cluster_addr "$O")" >"$T/ping.out" 2>&1 ||
	    fail "pings lost after the netem heal: $(tail -n 2 "$T/ping.out")"
	note "$got of 40 pings answered, $drops packets dropped"
fi
soft_healthy 30 "netem"

note "one-way partition in on the secondary $O: $O hears nothing, $P still hears $O"
nem_partition_oneway "$O" in
wait_until 10 "node $O still hears node $P" sees "$O" "$P" false
sleep 1
sees "$P" "$O" true || fail "node $P lost node $O's heartbeats (only $O's input is cut)"
pings "$O" && fail "the client pings node $O (its input is cut)"
nem_heal "$O"
soft_healthy 30 "the one-way partition (in)"

note "one-way partition out on the secondary $O: $P hears nothing, $O still hears $P"
nem_partition_oneway "$O" out
wait_until 10 "node $P still hears node $O" sees "$P" "$O" false
sleep 1
sees "$O" "$P" true || fail "node $O lost node $P's heartbeats (only $O's output is cut)"
pings "$O" && fail "the client pings node $O (its output is cut)"
nem_heal "$O"
soft_healthy 30 "the one-way partition (out)"

note "partition of the secondary $O: unreachable, then back"
nem_partition "$O"
pings "$O" && fail "the client pings node $O through the partition"
pings "$P" || fail "the client cannot ping node $P (not partitioned)"
cluster_on "$O" ping -n -q -c 1 -W 1 "$CLUSTER_WITNESS" >/dev/null 2>&1 &&
    fail "partitioned node $O pings the witness"
cluster_on "$O" ping -n -q -c 1 -W 1 "$(cluster_addr "$O")" >/dev/null 2>&1 ||
    fail "partitioned node $O cannot ping itself (loopback)"
wait_until 10 "node $P still hears node $O" sees "$P" "$O" false
wait_until 10 "node $O still hears node $P" sees "$O" "$P" false
sleep 1
nem_heal "$O"
cluster_on "$O" nft list tables | grep -q hvtnem && fail "table hvtnem left after the heal"
pings "$O" || fail "the client cannot ping node $O after the heal"
soft_healthy 30 "the partition"

note "nem_run of a short schedule"
NEM_KINDS="partition netem" nem_random 5 2 1 1 "$O" >"$T/sched"
before=$(wc -l <"$CLUSTER_SCHEDULE")
NEM_GAP=0 nem_run "$T/sched"
assert_eq $((before + 4)) "$(wc -l <"$CLUSTER_SCHEDULE")" "schedule log lines after nem_run"
soft_healthy 30 "nem_run"

note "the schedule log and the role samples"
for k in partition netem pause diskfull kill9; do
	grep -Eq "^[0-9]{13} $k [12] apply" "$CLUSTER_SCHEDULE" || fail "no '$k apply' in the schedule log"
	grep -Eq "^[0-9]{13} $k [12] heal" "$CLUSTER_SCHEDULE" || fail "no '$k heal' in the schedule log"
done
grep -Eq "^[0-9]{13} partition [12] apply in$" "$CLUSTER_SCHEDULE" || fail "no one-way (in) entry"
grep -Eq "^[0-9]{13} partition [12] apply out$" "$CLUSTER_SCHEDULE" || fail "no one-way (out) entry"
pid_alive "$SAMPLER" || fail "the role sampler died"
awk '!/^[0-9]+ [12] (PRIMARY|SECONDARY|STARTING|down) ([0-9]+|-)$/ { print; bad = 1 }
    END { exit bad }' "$T/roles.log" >&2 || fail "malformed lines in the role samples"
# time order per node; after the kill node K is sampled down, then node N PRIMARY
tk=$(awk -v k="$K" '$2 == "kill9" && $3 == k && $4 == "apply" { print $1; exit }' "$CLUSTER_SCHEDULE")
awk -v k="$K" -v n="$N" -v tk="$tk" '
    $1 < last[$2] { print "time goes back: " $0; bad = 1 } { last[$2] = $1 }
    $1 >= tk && $2 == k && $3 == "down" && !kd { kd = $1 }
    $1 >= tk && $2 == n && $3 == "PRIMARY" && !np { np = $1 }
    $1 < tk && $2 == k && $3 == "PRIMARY" { kp = $1 }
    END { if (!(kp && kd && np)) {
		print "kill at " tk ": node " k " PRIMARY before at " kp ", down at " kd ", node " n " PRIMARY at " np
		bad = 1 }
	  exit bad }' "$T/roles.log" >&2 || fail "the role samples do not show the failover"
gap=$(awk '$2 == 1 { if (l) print $1 - l; l = $1 }' "$T/roles.log" | sort -n |
    awk '{ g[NR] = $1 } END { print g[int((NR + 1) / 2)] + 0 }')
note "$(wc -l <"$T/roles.log") role samples (median gap on node 1: $gap ms for 100 ms asked), $(wc -l <"$CLUSTER_SCHEDULE") schedule lines"

note "stop node $O cleanly, tear down, nothing left"
cluster_stop "$O"
[ "$(cluster_role "$O")" = down ] || fail "node $O answers after cluster_stop"
mkdir -p "$T/kept"
cp "$T/cluster.pids" "$T/cluster.helpers" "$T/cluster.ns" "$T/cluster.mounts" "$T/kept/"
cluster_teardown
for ns in $(cat "$T/kept/cluster.ns"); do
	! ip netns list | awk '{print $1}' | grep -qx "$ns" || fail "namespace $ns left"
done
! ip netns list | grep -Eq "^$CLUSTER_PREFIX(br|n[1-9]|cl|wt)( |\$)" ||
    fail "namespaces $CLUSTER_PREFIX* left"
! grep -q "^$CLUSTER_PREFIX " /proc/self/mounts || fail "tmpfs $CLUSTER_PREFIX still mounted"
for m in $(cat "$T/kept/cluster.mounts"); do
	! grep -qF " $m " /proc/self/mounts || fail "$m still mounted"
done
for i in 1 2; do
	[ -s "$T/n$i/var/errorLog/ha.log" ] && [ -s "$T/n$i/haSvr.cfg" ] ||
	    fail "node $i's logs and configs are not back on disk after the teardown"
done
cat "$T/kept/cluster.pids" "$T/kept/cluster.helpers" >"$T/kept/all.pids"
while read -r pid st; do
	if _cl_pid_ours "$pid" "$st" && pid_alive "$pid"; then
		fail "pid $pid ($(cat /proc/$pid/comm 2>/dev/null)) of the run still runs"
	fi
done <"$T/kept/all.pids"
for f in /proc/[0-9]*/cmdline; do
	c=$(tr '\0' ' ' <"$f" 2>/dev/null) || continue
	case $c in
	*"$T/"*) fail "a process of the run still runs: $f: $c" ;;
	esac
done
[ -z "$NOT_HEALTHY" ] || note "hasvr was not healthy within 30 s after: ${NOT_HEALTHY#, }"
note "passed in $(($(date +%s) - started)) s"
echo ok
