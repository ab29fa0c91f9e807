# cluster.sh — a cluster of real hasvr hosts on one machine, and the
# nemesis that injects faults into it (sourced; POSIX sh).
#
# Every node is a network namespace of its own, so each runs hasvr (which
# supervises guisvr) on its own address with the same ports as the others,
# exactly as on separate machines:
#
#     namespace     address         role
#     <P>br         -               Linux bridge br0 joining all the others
#     <P>n1..<P>nN  192.0.2.1..N    the nodes (N is 2 or 3)
#     <P>cl         192.0.2.100     the client (workload, xdb over TLS)
#     <P>wt         192.0.2.200     the witness: answers pings, the nodes'
#                                   highAvail.pingableIp by default
# <P> is hvt<PID of the test shell>. Each of those namespaces is joined to
# the bridge by a veth pair created inside the bridge namespace (eth0 on
# the far side); 192.0.2.0/24 (TEST-NET-1) exists only inside them.
# Nothing is configured in the root namespace apart from the namespaces
# themselves and one tmpfs per node (below); no route leads out.
#
# Use:
#     . "$top_srcdir/tests/cluster/cluster.sh"
#     cluster_init 2                  # test_init, namespaces, node folders
#     cluster_start 1; cluster_start 2
#     p=$(cluster_wait_primary 30)
#     cluster_xdb "$p" -w set 0.x.1 a=b   # xdb over TLS from the client ns
#     nem_partition 2; sleep 3; nem_heal 2
#     cluster_teardown                # also run by the EXIT/INT/TERM trap
# The test must not set its own EXIT trap (lib.sh's at_exit adds to it).
# cluster.sh sources tests/integ/lib.sh: its fail, note, skip, poll_until,
# pid_alive, on, jget, ... are available, and $T is the run's folder;
# lib.sh's watchdog stops a run after HASVR_TEST_TIMEOUT s (default 300:
# set it higher for a long run). Runs side by side do not meet: each has
# its own prefix, namespaces and folder.
#
# Nodes are named by their number 1..N ("n1" is accepted too). Node i's
# folder is $T/n<i> (haSvr.cfg, guiSvr.cfg, var/, hasvr.out) as written by
# lib.sh's hasvr_node: highAvail.myAddr 192.0.2.i, node 1 primaryAddr,
# node 2 secondaryAddr, node 3 a replica. Its var/xdb is a tmpfs of
# CLUSTER_XDB_SIZE (default 64m; empty: no tmpfs, no nem_diskfull). The
# node folder itself is a tmpfs too, of CLUSTER_NODE_SIZE (default 32m;
# empty: the disk under $T): hasvr fsyncs its state there, and the disk
# of a machine busy with other work must not stall the nodes (a fault
# nobody scheduled); cluster_teardown puts the folder's files (not the
# database) back on disk, so a failed run keeps its logs.
#
# Settings (environment, read by cluster_init):
#   CLUSTER_DURABILITY    highAvail.durability (default sync)
#   CLUSTER_ACKTIMEOUT    highAvail.ackTimeout (default 500ms)
#   CLUSTER_PINGABLE      highAvail.pingableIp (default the witness,
#                         192.0.2.200; empty: none)
#   CLUSTER_HA_EXTRA      more haSvr.cfg lines (newline separated)
#   CLUSTER_GUI_EXTRA     more guiSvr.cfg lines (newline separated)
#   CLUSTER_XDB_SIZE      size of each node's var/xdb tmpfs (default 64m)
#   CLUSTER_NODE_SIZE     size of each node folder's tmpfs (default 32m)
#   CLUSTER_SCHEDULE      the nemesis log (default $T/schedule.log)
#
# The harness (NODE is 1..N):
#   cluster_usable             0, or prints why this machine cannot (skip)
#   cluster_init N             build it all (2 or 3 nodes), ping-checked;
#                              skips (77) where cluster_usable fails
#   cluster_start NODE         hasvr -d in NODE's namespace, waits for its
#                              control socket
#   cluster_stop NODE          SIGTERM, hasvr and its guisvr gone (bounded)
#   cluster_kill9 NODE         SIGKILL of hasvr and guisvr by PID
#   cluster_hasvr_pid NODE     PID of NODE's hasvr (nothing when not running)
#   cluster_guisvr_pid NODE    PID of the guisvr NODE's hasvr runs
#   cluster_on NODE CMD...     CMD in NODE's namespace
#   cluster_client CMD...      CMD in the client namespace
#   cluster_xdb NODE ARGS...   xdb -H 192.0.2.NODE -P 7801 -k key ARGS from
#                              the client namespace (remote TLS)
#   cluster_addr NODE          NODE's address
#   cluster_ns NODE            NODE's namespace
#   cluster_status NODE        haStatus --json of NODE (its exit status)
#   cluster_role NODE          PRIMARY, SECONDARY, STARTING or down
#   cluster_epoch NODE         NODE's epoch, or - when down
#   cluster_digest NODE        SHA-256 of NODE's records (local xdb dump)
#   cluster_wait_primary SECS  prints the node that is the one PRIMARY
#   cluster_wait_healthy SECS [NODE...]  haStatus -w on each (default all)
#   cluster_sample_roles FILE MS  background sampler; prints its PID; every
#                              MS ms (plus the query's time) appends
#                              "TIME_MS NODE ROLE EPOCH" for each node, one
#                              loop per node (TIME_MS: CLOCK_REALTIME ms,
#                              midpoint of the query; ROLE down and EPOCH -
#                              when the node does not answer within 2 s)
#   cluster_teardown           stop everything this run started, by PID;
#                              unmount, delete the namespaces (idempotent)
#   cluster_cleanup_stale      remove namespaces, processes and tmpfs
#                              mounts of earlier runs whose shell is dead
#                              (cluster_init runs it)
#   cluster_has_netem          0 when the kernel has the netem qdisc
# Variables: CLUSTER_N, CLUSTER_PREFIX, CLUSTER_NS_BRIDGE, CLUSTER_NS_CLIENT,
# CLUSTER_NS_WITNESS, CLUSTER_WITNESS, CLUSTER_KEYFILE (the TLS client
# key), CLUSTER_CPORT (guisvr's TLS port, 7801), CLUSTER_HPORT (7802),
# CLUSTER_RPORT (7803), CLUSTER_SCHEDULE.
#
# The nemesis; each logs "TIME_MS KIND NODE apply|heal [ARGS]" to
# $CLUSTER_SCHEDULE when it applies and when it heals (KIND: kill9,
# pause, partition with ARGS both|in|out, netem, diskfull). nem_kill9,
# nem_pause and nem_run may run in the background (&): the teardown stops
# such a subshell first.
#   nem_kill9 NODE [SECS]      kill -9 of hasvr and guisvr, SECS (default 0)
#                              down, then cluster_start
#   nem_pause NODE SECS        SIGSTOP both daemons, SECS, SIGCONT
#   nem_restart_cut NODE SECS  every other node partitioned, NODE killed
#                              (-9) and restarted alone, SECS, others healed
#                              (logged as partition and kill9 lines; the
#                              schedule names it restart-cut)
#   nem_partition NODE         drop every IP packet of NODE to/from the
#                              others (nftables table "hvtnem" in NODE's
#                              namespace; loopback untouched)
#   nem_partition_oneway NODE in|out   drop only what NODE receives (in)
#                              or sends (out)
#   nem_heal NODE              delete that table (either partition)
#   nem_netem NODE LOSS DELAYMS  netem (LOSS percent, DELAYMS ms) on both
#                              ends of NODE's veth: each direction gets it;
#                              without netem in the kernel (cluster_has_netem
#                              fails) the loss only, by nftables
#   nem_netem_heal NODE        remove both qdiscs (or the loss rules)
#   nem_diskfull NODE          fill NODE's var/xdb tmpfs (a filler file,
#                              NEM_DISKFULL_LEAVE_KB left free, default 0)
#   nem_diskfull_heal NODE     delete the filler
#   nem_random SEED COUNT MINSECS MAXSECS NODE...  print a reproducible
#                              schedule, lines "N KIND NODE DURATION"
#                              (a 31-bit LCG in sh arithmetic: the same seed
#                              gives the same lines everywhere); kinds from
#                              NEM_KINDS (default: kill9 pause partition
#                              partition-in partition-out netem diskfull
#                              restart-cut)
#   nem_run FILE|-             run such a schedule: each fault for its
#                              DURATION, healed, then NEM_GAP seconds
#                              (default 1) before the next; netem uses
#                              NEM_NETEM_LOSS (10) and NEM_NETEM_DELAY (50)
#
# Teardown (EXIT/INT/TERM, also on failure): samplers, hasvr and guisvr
# are killed by the PIDs recorded with their start times (a PID reused by
# another process is left alone), then whatever still runs inside the
# run's namespaces; the tmpfs mounts are unmounted and the namespaces
# deleted (their veths, qdiscs and nftables tables go with them).
# Needs root, iproute2 (ip, tc), nftables, iputils-ping, jq, timeout.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integ/lib.sh"

CLUSTER_N=0
CLUSTER_PREFIX=hvt$$
CLUSTER_NS_BRIDGE=${CLUSTER_PREFIX}br
CLUSTER_NS_CLIENT=${CLUSTER_PREFIX}cl
CLUSTER_NS_WITNESS=${CLUSTER_PREFIX}wt
CLUSTER_SUBNET=192.0.2
CLUSTER_CLIENT=192.0.2.100
CLUSTER_WITNESS=192.0.2.200
CLUSTER_CPORT=7801
CLUSTER_HPORT=7802
CLUSTER_RPORT=7803
CLUSTER_KEYFILE=
CLUSTER_SCHEDULE=${CLUSTER_SCHEDULE:-}

# cluster_usable: 0 when this machine can run the cluster (root, ip netns,
# the tools); else prints why and returns 1 (the caller skips).
cluster_usable()
{
	local t
	if [ "$(id -u)" != 0 ]; then
		echo "network namespaces need root"
		return 1
	fi
	for t in ip tc nft ping jq timeout; do
		command -v "$t" >/dev/null 2>&1 || { echo "$t not installed"; return 1; }
	done
	if ! ip netns list >/dev/null 2>&1; then
		echo "ip netns not available"
		return 1
	fi
	return 0
}

# _cl_node NODE: the node number (accepts 1 or n1), checked.
_cl_node()
{
	local n
	n=${1#n}
	case $n in
	[1-9]) ;;
	*) fail "not a node: '$1'" ;;
	esac
	[ "$n" -le "$CLUSTER_N" ] || fail "no node $n (the cluster has $CLUSTER_N)"
	echo "$n"
}

cluster_ns()
{
	echo "${CLUSTER_PREFIX}n$(_cl_node "$1")"
}

cluster_addr()
{
	echo "$CLUSTER_SUBNET.$(_cl_node "$1")"
}

_cl_now_ms()
{
	date +%s%3N
}

# _cl_pid_record PID: remember PID with its start time (field 22 of
# /proc/PID/stat) for the teardown.
_cl_pid_record()
{
	local st
	[ -n "$1" ] || return 0
	st=$(_cl_pid_start "$1")
	[ -n "$st" ] || return 0
	echo "$1 $st" >>"$T/cluster.pids"
}

_cl_pid_start()
{
	sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20
}

# _cl_track_self: a nemesis function run in the background (a subshell)
# records that subshell, so the teardown stops it before it could, say,
# restart a node it killed.
_cl_track_self()
{
	local me rest
	# read is built in: /proc/self is this (sub)shell
	read -r me rest </proc/self/stat
	[ "$me" != "$$" ] || return 0
	echo "$me $(_cl_pid_start "$me")" >>"$T/cluster.helpers"
}

# _cl_pid_ours PID START: 0 when PID still is the process recorded.
_cl_pid_ours()
{
	[ "$(_cl_pid_start "$1")" = "$2" ]
}

# ---- building and removing the cluster ------------------------------------

# _cl_join NS NAME ADDR: namespace NS, joined to the bridge by veth NAME
# (bridge side) / eth0 (NS side), ADDR/24 on eth0, loopback up.
_cl_join()
{
	ip netns add "$1" || fail "ip netns add $1"
	ip -n "$CLUSTER_NS_BRIDGE" link add "$2" type veth peer name eth0 netns "$1" ||
	    fail "veth $2 to $1"
	ip -n "$CLUSTER_NS_BRIDGE" link set "$2" master br0 up
	ip -n "$1" link set lo up
	# no IPv6 chatter (router solicitations, DAD) on the test net
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null || true
	ip -n "$1" addr add "$3/24" dev eth0
	ip -n "$1" link set eth0 up
}

# cluster_init N: the test's folder and traps (lib.sh test_init), the
# namespaces, the shared keys and each node's folder; fails unless the
# client pings every node and the witness.
cluster_init()
{
	local n i why
	n=$1
	case $n in 2|3) ;; *) echo "cluster_init: 2 or 3 nodes, not '$n'" >&2; exit 1 ;; esac
	[ -n "$TEST_NAME" ] || test_init cluster
	why=$(cluster_usable) || skip "$why"
	[ -x "$HASVR" ] && [ -x "$HASTATUS" ] || fail "hasvr or haStatus not built"
	at_exit cluster_teardown
	CLUSTER_N=$n
	: "${CLUSTER_SCHEDULE:=$T/schedule.log}"
	: >"$T/cluster.pids"
	cluster_cleanup_stale
	# namespaces of an earlier run whose shell had this PID
	for i in $(_cl_run_namespaces "$CLUSTER_PREFIX"); do
		_cl_ns_delete "$i"
	done

	ip netns add "$CLUSTER_NS_BRIDGE" || fail "ip netns add $CLUSTER_NS_BRIDGE"
	echo "$CLUSTER_NS_BRIDGE" >>"$T/cluster.ns"
	ip -n "$CLUSTER_NS_BRIDGE" link set lo up
	ip -n "$CLUSTER_NS_BRIDGE" link add br0 type bridge
	ip -n "$CLUSTER_NS_BRIDGE" link set br0 up
	CLUSTER_NETEM=
	cluster_has_netem ||
	    note "no netem in this kernel: nem_netem drops packets (nftables) but cannot delay them"
	i=1
	while [ $i -le "$n" ]; do
		echo "${CLUSTER_PREFIX}n$i" >>"$T/cluster.ns"
		_cl_join "${CLUSTER_PREFIX}n$i" "n$i" "$CLUSTER_SUBNET.$i"
		i=$((i + 1))
	done
	echo "$CLUSTER_NS_CLIENT" >>"$T/cluster.ns"
	_cl_join "$CLUSTER_NS_CLIENT" cl "$CLUSTER_CLIENT"
	echo "$CLUSTER_NS_WITNESS" >>"$T/cluster.ns"
	_cl_join "$CLUSTER_NS_WITNESS" wt "$CLUSTER_WITNESS"
	i=1
	while [ $i -le "$n" ]; do
		_cl_ping_ok "$CLUSTER_NS_CLIENT" "$CLUSTER_SUBNET.$i" 5 ||
		    fail "client namespace cannot ping node $i"
		i=$((i + 1))
	done
	_cl_ping_ok "$CLUSTER_NS_CLIENT" "$CLUSTER_WITNESS" 5 ||
	    fail "client namespace cannot ping the witness"

	# the group's key, the TLS client key, each node's folder
	HA_KEY="hasvr-cluster-$$-$(date +%s)-0123456789abcdef"
	HA_RPORT=$CLUSTER_RPORT
	HA_HPORT=$CLUSTER_HPORT
	HA_PRIMARY=$CLUSTER_SUBNET.1
	HA_SECONDARY=$CLUSTER_SUBNET.2
	HA_REPLICAS=
	[ "$n" -lt 3 ] || HA_REPLICAS=$CLUSTER_SUBNET.3
	HA_DURABILITY=${CLUSTER_DURABILITY:-sync}
	HA_ACKTIMEOUT=${CLUSTER_ACKTIMEOUT:-500ms}
	HA_HB_EXTRA=
	if [ -n "${CLUSTER_PINGABLE-$CLUSTER_WITNESS}" ]; then
		HA_HB_EXTRA="highAvail.pingableIp ${CLUSTER_PINGABLE-$CLUSTER_WITNESS}
highAvail.pingInterval 200ms"
	fi
	HA_EXTRA=${CLUSTER_HA_EXTRA:-}
	CLUSTER_KEYFILE=$T/client.key
	write_key "$CLUSTER_KEYFILE"
	i=1
	while [ $i -le "$n" ]; do
		_cl_node_folder $i
		i=$((i + 1))
	done
	note "cluster of $n nodes up ($CLUSTER_PREFIX*, files in $T)"
}

# _cl_node_folder I: node I's haSvr.cfg, guiSvr.cfg and var/ (var/xdb on
# its own tmpfs).
_cl_node_folder()
{
	local i l gui
	i=$1
	if [ -n "${CLUSTER_NODE_SIZE-32m}" ]; then
		mkdir -p "$T/n$i"
		mount -t tmpfs -o "size=${CLUSTER_NODE_SIZE-32m},mode=0700" \
		    "$CLUSTER_PREFIX" "$T/n$i" 2>"$T/mount.err" ||
		    skip "cannot mount a tmpfs: $(cat "$T/mount.err")"
		echo "$T/n$i" >>"$T/cluster.mounts"
	fi
	if [ -n "${CLUSTER_XDB_SIZE-64m}" ]; then
		mkdir -p "$T/n$i/var/xdb"
		mount -t tmpfs -o "size=${CLUSTER_XDB_SIZE-64m},mode=0750" \
		    "$CLUSTER_PREFIX" "$T/n$i/var/xdb" 2>"$T/mount.err" ||
		    skip "cannot mount a tmpfs: $(cat "$T/mount.err")"
		echo "$T/n$i/var/xdb" >>"$T/cluster.mounts"
	fi
	set -- "guiSvr.listenAddr $CLUSTER_SUBNET.$i" \
	    "guiSvr.listenPort $CLUSTER_CPORT" \
	    "guiSvr.clientKeyFile $CLUSTER_KEYFILE"
	gui=${CLUSTER_GUI_EXTRA:-}
	while [ -n "$gui" ]; do
		l=${gui%%
*}
		[ -z "$l" ] || set -- "$@" "$l"
		case $gui in
		*"
"*) gui=${gui#*
} ;;
		*) gui= ;;
		esac
	done
	hasvr_node "n$i" "$CLUSTER_SUBNET.$i" "$@"
}

# _cl_ping_ok NS ADDR SECS: 0 once ADDR answers a ping from NS.
_cl_ping_ok()
{
	local n
	n=0
	while [ $n -lt "$3" ]; do
		ip netns exec "$1" ping -n -q -c 1 -W 1 "$2" >/dev/null 2>&1 && return 0
		n=$((n + 1))
	done
	return 1
}

# _cl_run_namespaces PREFIX: the namespaces named PREFIX + a suffix of ours.
_cl_run_namespaces()
{
	ip netns list 2>/dev/null | awk '{print $1}' |
	    grep -E "^$1(br|n[1-9]|cl|wt)\$" || true
}

# _cl_ns_delete NS: kill what still runs inside NS (by PID), delete NS.
_cl_ns_delete()
{
	local p n
	n=0
	while [ $n -lt 50 ]; do
		p=$(ip netns pids "$1" 2>/dev/null || true)
		[ -n "$p" ] || break
		kill -9 $p 2>/dev/null || true
		sleep 0.1
		n=$((n + 1))
	done
	ip netns delete "$1" 2>/dev/null || true
}

# cluster_teardown: everything this run started goes, by PID; idempotent.
cluster_teardown()
{
	local f pid st n ns m e
	[ -n "$T" ] && [ -d "$T" ] || return 0
	e=
	case $- in *e*) e=1 ;; esac
	set +e
	# the samplers and nemesis subshells first (SIGTERM: a sampler ends
	# after its current query)
	[ -f "$T/cluster.helpers" ] && while read -r pid st; do
		_cl_pid_ours "$pid" "$st" && kill -TERM "$pid" 2>/dev/null
	done <"$T/cluster.helpers"
	[ -f "$T/cluster.helpers" ] && while read -r pid st; do
		n=0
		while _cl_pid_ours "$pid" "$st" && pid_alive "$pid" && [ $n -lt 40 ]; do
			sleep 0.1
			n=$((n + 1))
		done
	done <"$T/cluster.helpers"
	for f in "$T"/n*/var/run/haSvr.pid "$T"/n*/var/run/guiSvr.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		# only a process still in one of this run's namespaces
		[ -n "$pid" ] && _cl_in_run_ns "$pid" && _cl_pid_record "$pid"
	done
	[ -f "$T/cluster.pids" ] && while read -r pid st; do
		_cl_pid_ours "$pid" "$st" || continue
		kill -CONT "$pid" 2>/dev/null
		kill -9 "$pid" 2>/dev/null
	done <"$T/cluster.pids"
	[ -f "$T/cluster.helpers" ] && while read -r pid st; do
		_cl_pid_ours "$pid" "$st" && kill -9 "$pid" 2>/dev/null
	done <"$T/cluster.helpers"
	# wait for them (a zombie of ours counts as gone)
	for f in "$T/cluster.pids" "$T/cluster.helpers"; do
		[ -f "$f" ] || continue
		while read -r pid st; do
			n=0
			while _cl_pid_ours "$pid" "$st" && pid_alive "$pid" && [ $n -lt 50 ]; do
				sleep 0.1
				n=$((n + 1))
			done
		done <"$f"
	done
	rm -f "$T"/n*.hasvr
	# what is left inside the run's namespaces (ping children of hasvr, a
	# command run with cluster_on in the background) goes with them
	if [ -f "$T/cluster.ns" ]; then
		while read -r ns; do
			_cl_ns_delete "$ns"
		done <"$T/cluster.ns"
		rm -f "$T/cluster.ns"
	fi
	# the innermost first; a node folder's files (logs, configs; its
	# var/xdb is unmounted by then) are copied out and put back in place
	if [ -f "$T/cluster.mounts" ]; then
		for m in $(sed '1!G;h;$!d' "$T/cluster.mounts"); do
			case $m in
			*/var/xdb) _cl_umount "$m" ;;
			*)
				rm -rf "$m.kept"
				cp -a "$m" "$m.kept" 2>/dev/null
				_cl_umount "$m"
				cp -a "$m.kept/." "$m/" 2>/dev/null
				rm -rf "$m.kept"
				;;
			esac
		done
		rm -f "$T/cluster.mounts"
	fi
	[ -z "$e" ] || set -e
	return 0
}

# _cl_in_run_ns PID: 0 when PID's network namespace is one of this run's.
_cl_in_run_ns()
{
	local ns
	[ -f "$T/cluster.ns" ] || return 1
	while read -r ns; do
		if ip netns pids "$ns" 2>/dev/null | grep -qx "$1"; then
			return 0
		fi
	done <"$T/cluster.ns"
	return 1
}

_cl_umount()
{
	local n
	n=0
	while grep -qF " $1 tmpfs " /proc/self/mounts && [ $n -lt 20 ]; do
		umount "$1" 2>/dev/null || sleep 0.2
		n=$((n + 1))
	done
	if grep -qF " $1 tmpfs " /proc/self/mounts; then
		umount -l "$1" 2>/dev/null || true
	fi
}

# cluster_cleanup_stale: namespaces hvt<PID>* and tmpfs mounts named
# hvt<PID> whose shell <PID> is gone: what runs inside is killed by PID,
# the mounts unmounted, the namespaces deleted.
cluster_cleanup_stale()
{
	local ns pid src mp fs rest
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' |
	    grep -E '^hvt[0-9]+(br|n[1-9]|cl|wt)$' || true); do
		pid=$(echo "$ns" | sed -E 's/^hvt([0-9]+).*/\1/')
		[ "$pid" != "$$" ] || continue
		kill -0 "$pid" 2>/dev/null && continue
		echo "cluster: removing stale namespace $ns (shell $pid is gone)" >&2
		_cl_ns_delete "$ns"
	done
	while read -r src mp fs rest; do
		[ "$fs" = tmpfs ] || continue
		case $src in hvt[0-9]*) ;; *) continue ;; esac
		pid=${src#hvt}
		case $pid in *[!0-9]*) continue ;; esac
		[ "$pid" != "$$" ] || continue
		kill -0 "$pid" 2>/dev/null && continue
		echo "cluster: unmounting stale $mp (shell $pid is gone)" >&2
		_cl_umount "$mp"
	done <<-EOF
	$(sed '1!G;h;$!d' /proc/self/mounts)
	EOF
	return 0
}

# ---- the nodes ---------------------------------------------------------------

cluster_on()
{
	local ns
	ns=$(cluster_ns "$1")
	shift
	ip netns exec "$ns" "$@"
}

cluster_client()
{
	ip netns exec "$CLUSTER_NS_CLIENT" "$@"
}

cluster_xdb()
{
	local a
	a=$(cluster_addr "$1")
	shift
	ip netns exec "$CLUSTER_NS_CLIENT" "$XDB" -H "$a" -P "$CLUSTER_CPORT" \
	    -k "$CLUSTER_KEYFILE" "$@"
}

_cl_sock()
{
	echo "$T/n$(_cl_node "$1")/var/run/haSvr.sock"
}

# cluster_start NODE: hasvr -d inside NODE's namespace (ip netns exec
# execs it: $! is hasvr's PID), output in $T/nNODE/hasvr.out.
cluster_start()
{
	local i ns pid n st
	i=$(_cl_node "$1")
	ns=$(cluster_ns "$i")
	instance "n$i"
	if [ -f "$T/n$i.hasvr" ] && pid_alive "$(cat "$T/n$i.hasvr")"; then
		fail "cluster_start $i: hasvr already runs (pid $(cat "$T/n$i.hasvr"))"
	fi
	# (no descriptor of the caller's, e.g. nem_run's schedule, stays open)
	ip netns exec "$ns" "$HASVR" -d -f "$HACFG" </dev/null >>"$T/n$i/hasvr.out" 2>&1 \
	    3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
	pid=$!
	echo "$pid" >"$T/n$i.hasvr"
	_cl_pid_record "$pid"
	n=0
	while [ $n -lt 100 ]; do
		pid_alive "$pid" || fail "hasvr (node $i) exited during start-up: $(tail -n 5 "$T/n$i/hasvr.out")"
		st=0
		timeout 5 "$HASTATUS" -s "$VAR/run/haSvr.sock" --json >/dev/null 2>&1 || st=$?
		if [ $st -ne 3 ] && [ $st -ne 124 ]; then
			echo "$(_cl_now_ms) start $i pid $pid" >>"$T/cluster.events"
			return 0
		fi
		sleep 0.1
		n=$((n + 1))
	done
	fail "hasvr (node $i) control socket not answering after 10 s"
}

# cluster_guisvr_pid NODE: the guisvr hasvr started on NODE (from its pid file,
# only while that process runs).
cluster_guisvr_pid()
{
	local i p
	i=$(_cl_node "$1")
	p=$(cat "$T/n$i/var/run/guiSvr.pid" 2>/dev/null || true)
	[ -n "$p" ] && pid_alive "$p" && echo "$p"
	return 0
}

cluster_hasvr_pid()
{
	local i p
	i=$(_cl_node "$1")
	p=$(cat "$T/n$i.hasvr" 2>/dev/null || true)
	[ -n "$p" ] && pid_alive "$p" && echo "$p"
	return 0
}

# cluster_stop NODE: SIGTERM to hasvr; it and its guisvr must be gone
# within 20 s (else SIGKILL and fail). A node not running is left as is.
cluster_stop()
{
	local i pid gpid
	i=$(_cl_node "$1")
	pid=$(cluster_hasvr_pid "$i")
	gpid=$(cluster_guisvr_pid "$i")
	[ -z "$gpid" ] || _cl_pid_record "$gpid"
	if [ -z "$pid" ]; then
		rm -f "$T/n$i.hasvr"
		return 0
	fi
	kill -CONT $pid $gpid 2>/dev/null || true
	kill -TERM "$pid" 2>/dev/null || true
	_wait_gone "$pid" 20 || { kill -9 $pid $gpid 2>/dev/null; fail "hasvr (node $i) ignored SIGTERM for 20 s"; }
	wait "$pid" 2>/dev/null || true
	if [ -n "$gpid" ] && ! _wait_gone "$gpid" 5; then
		kill -9 "$gpid" 2>/dev/null
		fail "guisvr (node $i, pid $gpid) still runs after hasvr stopped"
	fi
	rm -f "$T/n$i.hasvr"
	echo "$(_cl_now_ms) stop $i" >>"$T/cluster.events"
}

# cluster_kill9 NODE: SIGKILL hasvr and guisvr at once (a dead machine).
cluster_kill9()
{
	local i pid gpid
	i=$(_cl_node "$1")
	pid=$(cluster_hasvr_pid "$i")
	gpid=$(cluster_guisvr_pid "$i")
	[ -z "$gpid" ] || _cl_pid_record "$gpid"
	kill -9 $pid $gpid 2>/dev/null || true
	[ -z "$pid" ] || _wait_gone "$pid" 30 || fail "hasvr (node $i) survived SIGKILL"
	[ -z "$gpid" ] || _wait_gone "$gpid" 30 || fail "guisvr (node $i) survived SIGKILL"
	[ -z "$pid" ] || wait "$pid" 2>/dev/null || true
	# pid files a killed daemon could not remove: lib.sh's cleanup kills
	# what they name, which may be another process by then
	rm -f "$T/n$i.hasvr" "$T/n$i/var/run/haSvr.pid" "$T/n$i/var/run/guiSvr.pid"
}

# cluster_status NODE: haStatus --json of NODE (exit status of haStatus;
# 3 when hasvr is not running, 124 when it does not answer in 5 s).
cluster_status()
{
	local s
	s=$(_cl_sock "$1")
	timeout 5 "$HASTATUS" -s "$s" --json
}

# _cl_role_epoch NODE: "ROLE EPOCH" ("down -" when NODE does not answer
# within 2 s). hasvr's status JSON is compact and starts with the node's
# eid, addr, self, role and epoch: sed reads those two; jq when that fails.
_cl_role_epoch()
{
	local s json out
	s=$(_cl_sock "$1")
	json=$(timeout 2 "$HASTATUS" -s "$s" --json 2>/dev/null || true)
	out=$(printf '%s\n' "$json" | sed -n \
	    's/^{"version":[0-9]*,"node":{[^{}]*"role":"\([A-Z]*\)","epoch":\([0-9]*\)[,}].*/\1 \2/p')
	if [ -z "$out" ] && [ -n "$json" ]; then
		out=$(printf '%s\n' "$json" |
		    jq -r '"\(.node.role // "down") \(.node.epoch // "-")"' 2>/dev/null || true)
	fi
	case $out in
	PRIMARY\ *|SECONDARY\ *|STARTING\ *) echo "$out" ;;
	*) echo "down -" ;;
	esac
}

cluster_role()
{
	local r
	r=$(_cl_role_epoch "$1")
	echo "${r%% *}"
}

cluster_epoch()
{
	local r
	r=$(_cl_role_epoch "$1")
	echo "${r#* }"
}

# cluster_digest NODE: SHA-256 of NODE's records (xdb dump on its local
# socket, comment lines left out); fails when the dump fails.
cluster_digest()
{
	local i
	i=$(_cl_node "$1")
	timeout 30 "$XDB" -f "$T/n$i/guiSvr.cfg" dump >"$T/digest.n$i" 2>"$T/digest.n$i.err" ||
	    fail "xdb dump of node $i: $(cat "$T/digest.n$i.err")"
	grep -v '^#' "$T/digest.n$i" | sha256sum | cut -d' ' -f1
}

# cluster_wait_primary SECS: prints the node that is PRIMARY while no
# other node is; returns 1 (printing nothing) after SECS seconds.
cluster_wait_primary()
{
	local n lim i p c
	n=0
	lim=$(($1 * 10))
	while [ $n -lt $lim ]; do
		c=0 p=
		i=1
		while [ $i -le "$CLUSTER_N" ]; do
			if [ "$(cluster_role $i)" = PRIMARY ]; then
				c=$((c + 1))
				p=$i
			fi
			i=$((i + 1))
		done
		if [ $c -eq 1 ]; then
			echo "$p"
			return 0
		fi
		sleep 0.1
		n=$((n + 1))
	done
	return 1
}

# cluster_wait_healthy SECS [NODE...]: each node's haStatus says healthy
# within SECS seconds (waited one after the other); 1 otherwise (the
# table of the first one that is not is printed on stderr).
cluster_wait_healthy()
{
	local secs i nodes
	secs=$1
	shift
	nodes=$*
	if [ -z "$nodes" ]; then
		i=1
		while [ $i -le "$CLUSTER_N" ]; do
			nodes="$nodes $i"
			i=$((i + 1))
		done
	fi
	for i in $nodes; do
		if ! timeout $((secs + 5)) "$HASTATUS" -s "$(_cl_sock "$i")" -w "$secs" \
		    >"$T/healthy.n$i" 2>&1; then
			echo "---- node $i is not healthy:" >&2
			cat "$T/healthy.n$i" >&2
			return 1
		fi
	done
	return 0
}

# cluster_sample_roles FILE MS: a background sampler appending
# "TIME_MS NODE ROLE EPOCH" lines to FILE; prints its PID (also kept in
# CLUSTER_LAST_PID when not run in a command substitution). Each node has
# a loop of its own (a paused node holds up only its own samples): a
# query, MS ms of sleep, the next query. TIME_MS is the midpoint of the
# query; lines of different nodes may be out of time order by up to a
# query's length, each node's lines are in order. Stopped by
# cluster_teardown, or by kill of that PID.
cluster_sample_roles()
{
	local f ms pid
	f=$1
	ms=$2
	: >>"$f"
	(
		set +e
		kids=
		trap 'kill -TERM $kids 2>/dev/null; exit 0' TERM INT
		i=1
		while [ $i -le "$CLUSTER_N" ]; do
			_cl_sample_node "$f" "$ms" $i &
			kids="$kids $!"
			i=$((i + 1))
		done
		wait
	) </dev/null >/dev/null 2>&1 &
	pid=$!
	echo "$pid $(_cl_pid_start "$pid")" >>"$T/cluster.helpers"
	CLUSTER_LAST_PID=$pid
	echo "$pid"
}

# _cl_sample_node FILE MS NODE: one node's sampling loop (a subshell).
_cl_sample_node()
{
	local iv t0 t1 re
	set +e
	trap 'exit 0' TERM INT
	_cl_track_self
	iv=$(printf '%d.%03d' $(($2 / 1000)) $(($2 % 1000)))
	while :; do
		t0=$(_cl_now_ms)
		re=$(_cl_role_epoch "$3")
		t1=$(_cl_now_ms)
		echo "$(((t0 + t1) / 2)) $3 $re" >>"$1"
		sleep "$iv"
	done
}

# ---- the nemesis -------------------------------------------------------------

# _nem_log KIND NODE apply|heal [ARGS...]
_nem_log()
{
	echo "$(_cl_now_ms) $*" >>"$CLUSTER_SCHEDULE"
}

# nem_kill9 NODE [SECS]: kill -9 of NODE's hasvr and guisvr (by PID), SECS
# seconds down (default 0), then cluster_start NODE.
nem_kill9()
{
	local i pid gpid
	_cl_track_self
	i=$(_cl_node "$1")
	pid=$(cluster_hasvr_pid "$i")
	gpid=$(cluster_guisvr_pid "$i")
	_nem_log kill9 "$i" apply "hasvr=${pid:-none}" "guisvr=${gpid:-none}"
	cluster_kill9 "$i"
	[ "${2:-0}" = 0 ] || sleep "$2"
	cluster_start "$i"
	_nem_log kill9 "$i" heal "hasvr=$(cluster_hasvr_pid "$i")"
}

# nem_pause NODE SECS: SIGSTOP NODE's hasvr and guisvr, SECS, SIGCONT.
nem_pause()
{
	local i pid gpid
	_cl_track_self
	i=$(_cl_node "$1")
	pid=$(cluster_hasvr_pid "$i")
	gpid=$(cluster_guisvr_pid "$i")
	[ -n "$pid$gpid" ] || fail "nem_pause: node $i runs nothing"
	[ -z "$gpid" ] || _cl_pid_record "$gpid"
	kill -STOP $pid $gpid 2>/dev/null || true
	_nem_log pause "$i" apply "$2" "pids=$pid${gpid:+,$gpid}"
	sleep "$2"
	kill -CONT $pid $gpid 2>/dev/null || true
	_nem_log pause "$i" heal
}

# nem_restart_cut NODE SECS: every other node cut off (nem_partition), then
# kill -9 of NODE and its restart at once: it comes back hearing no peer;
# SECS later the others are healed.
nem_restart_cut()
{
	local i j
	_cl_track_self
	i=$(_cl_node "$1")
	j=1
	while [ $j -le "$CLUSTER_N" ]; do
		[ $j = "$i" ] || nem_partition "$j"
		j=$((j + 1))
	done
	nem_kill9 "$i" 0
	sleep "$2"
	j=1
	while [ $j -le "$CLUSTER_N" ]; do
		[ $j = "$i" ] || nem_heal "$j"
		j=$((j + 1))
	done
}

# _nem_nft NODE in|out|both: the table hvtnem in NODE's namespace, dropping
# what eth0 receives (in), sends (out) or both; replaces an earlier one in
# one transaction.
_nem_nft()
{
	local ns rin rout
	ns=$(cluster_ns "$1")
	rin= rout=
	case $2 in
	in) rin='iifname "eth0" counter drop' ;;
	out) rout='oifname "eth0" counter drop' ;;
	both)
		rin='iifname "eth0" counter drop'
		rout='oifname "eth0" counter drop'
		;;
	*) fail "partition direction '$2': in, out or both" ;;
	esac
	ip netns exec "$ns" nft -f - <<-EOF || fail "nft in $ns"
	table inet hvtnem
	delete table inet hvtnem
	table inet hvtnem {
		chain in {
			type filter hook input priority -10; policy accept;
			$rin
		}
		chain out {
			type filter hook output priority -10; policy accept;
			$rout
		}
	}
	EOF
}

# nem_partition NODE: NODE neither sends nor receives an IP packet on the
# test net (loopback still works) until nem_heal NODE.
nem_partition()
{
	local i
	i=$(_cl_node "$1")
	_nem_nft "$i" both
	_nem_log partition "$i" apply both
}

# nem_partition_oneway NODE in|out: drop only what NODE receives (in) or
# sends (out).
nem_partition_oneway()
{
	local i
	i=$(_cl_node "$1")
	case ${2:-} in in|out) ;; *) fail "nem_partition_oneway: in or out, not '${2:-}'" ;; esac
	_nem_nft "$i" "$2"
	_nem_log partition "$i" apply "$2"
}

# nem_heal NODE: remove NODE's partition (either kind); nothing else.
nem_heal()
{
	local i ns
	i=$(_cl_node "$1")
	ns=$(cluster_ns "$i")
	if ip netns exec "$ns" nft list table inet hvtnem >/dev/null 2>&1; then
		ip netns exec "$ns" nft delete table inet hvtnem || fail "nft delete in $ns"
	fi
	_nem_log partition "$i" heal
}

# cluster_has_netem: 0 when the kernel has the netem qdisc (tried once,
# in cluster_init, on the bridge namespace's loopback).
cluster_has_netem()
{
	if [ -z "${CLUSTER_NETEM:-}" ]; then
		CLUSTER_NETEM=0
		if ip netns exec "$CLUSTER_NS_BRIDGE" tc qdisc add dev lo root netem delay 1ms \
		    2>/dev/null; then
			ip netns exec "$CLUSTER_NS_BRIDGE" tc qdisc del dev lo root 2>/dev/null || true
			CLUSTER_NETEM=1
		fi
	fi
	[ "$CLUSTER_NETEM" = 1 ]
}

# nem_netem NODE LOSS DELAYMS: every packet to and from NODE is delayed
# DELAYMS ms and lost with LOSS percent: netem on NODE's eth0 (what it
# sends) and on the bridge's port to it (what it receives). A kernel
# without netem gets the loss only, from nftables (table hvtloss in NODE's
# namespace, numgen random), and the log line says delay=none.
nem_netem()
{
	local i ns
	i=$(_cl_node "$1")
	ns=$(cluster_ns "$i")
	if cluster_has_netem; then
		ip netns exec "$ns" tc qdisc replace dev eth0 root netem loss "$2%" delay "${3}ms" ||
		    fail "tc netem in $ns"
		ip netns exec "$CLUSTER_NS_BRIDGE" tc qdisc replace dev "n$i" root netem \
		    loss "$2%" delay "${3}ms" || fail "tc netem on the bridge port n$i"
		_nem_log netem "$i" apply "loss=$2%" "delay=${3}ms"
		return 0
	fi
	ip netns exec "$ns" nft -f - <<-EOF || fail "nft (loss) in $ns"
	table inet hvtloss
	delete table inet hvtloss
	table inet hvtloss {
		chain in {
			type filter hook input priority -20; policy accept;
			iifname "eth0" numgen random mod 100 < $2 counter drop
		}
		chain out {
			type filter hook output priority -20; policy accept;
			oifname "eth0" numgen random mod 100 < $2 counter drop
		}
	}
	EOF
	_nem_log netem "$i" apply "loss=$2%" "delay=none"
}

# nem_netem_heal NODE: no more loss or delay on NODE.
nem_netem_heal()
{
	local i ns
	i=$(_cl_node "$1")
	ns=$(cluster_ns "$i")
	ip netns exec "$ns" tc qdisc del dev eth0 root 2>/dev/null || true
	ip netns exec "$CLUSTER_NS_BRIDGE" tc qdisc del dev "n$i" root 2>/dev/null || true
	if ip netns exec "$ns" nft list table inet hvtloss >/dev/null 2>&1; then
		ip netns exec "$ns" nft delete table inet hvtloss || fail "nft delete in $ns"
	fi
	_nem_log netem "$i" heal
}

# nem_diskfull NODE: fill NODE's var/xdb (its tmpfs) with a filler file,
# leaving NEM_DISKFULL_LEAVE_KB KiB (default 0) free.
nem_diskfull()
{
	local i d avail leave
	i=$(_cl_node "$1")
	d=$T/n$i/var/xdb
	grep -qF " $d tmpfs " /proc/self/mounts || fail "nem_diskfull: $d is not a tmpfs (CLUSTER_XDB_SIZE empty?)"
	leave=${NEM_DISKFULL_LEAVE_KB:-0}
	avail=$(df --output=avail -k "$d" | tail -n 1 | tr -d ' ')
	if [ "$leave" -gt 0 ]; then
		[ "$avail" -le "$leave" ] ||
		    dd if=/dev/zero of="$d/.nemesis-filler" bs=1k count=$((avail - leave)) \
			conv=notrunc oflag=append 2>/dev/null || true
	else
		dd if=/dev/zero of="$d/.nemesis-filler" bs=64k conv=notrunc oflag=append \
		    2>/dev/null || true
	fi
	_nem_log diskfull "$i" apply "avail_kb=$(df --output=avail -k "$d" | tail -n 1 | tr -d ' ')"
}

# nem_diskfull_heal NODE: delete the filler (wherever guisvr may have
# moved it inside var/xdb).
nem_diskfull_heal()
{
	local i d
	i=$(_cl_node "$1")
	d=$T/n$i/var/xdb
	find "$d" -name .nemesis-filler -type f -exec rm -f {} + 2>/dev/null || true
	_nem_log diskfull "$i" heal "avail_kb=$(df --output=avail -k "$d" | tail -n 1 | tr -d ' ')"
}

# nem_random SEED COUNT MINSECS MAXSECS NODE...: COUNT lines
# "N KIND NODE DURATION" (N from 1). x <- (1103515245 x + 12345) mod 2^31,
# bits 16..30 of each x draw the kind, the node and the duration.
nem_random()
{
	local x seed count min max kinds nk nn k n i kind node dur
	seed=$1 count=$2 min=$3 max=$4
	shift 4
	[ $# -gt 0 ] || fail "nem_random: no nodes"
	[ "$max" -ge "$min" ] || fail "nem_random: MAXSECS below MINSECS"
	kinds=${NEM_KINDS:-kill9 pause partition partition-in partition-out netem diskfull restart-cut}
	nn=$#
	nk=$(echo $kinds | wc -w)
	x=$((seed % 2147483648))
	[ $x -ge 0 ] || x=$((-x))
	n=1
	while [ $n -le "$count" ]; do
		x=$(((1103515245 * x + 12345) % 2147483648))
		k=$(((x / 65536) % nk + 1))
		x=$(((1103515245 * x + 12345) % 2147483648))
		i=$(((x / 65536) % nn + 1))
		x=$(((1103515245 * x + 12345) % 2147483648))
		dur=$((min + (x / 65536) % (max - min + 1)))
		kind=$(echo $kinds | cut -d' ' -f$k)
		eval "node=\${$i}"
		echo "$n $kind $node $dur"
		n=$((n + 1))
	done
}

# nem_run FILE|-: run a nem_random schedule (each fault for its duration,
# healed, NEM_GAP seconds before the next).
nem_run()
{
	local f n kind node dur
	_cl_track_self
	f=$1
	[ "$f" != - ] || f=/dev/stdin
	while read -r n kind node dur <&3; do
		case $n in ''|\#*) continue ;; esac
		case $kind in
		kill9) nem_kill9 "$node" "$dur" ;;
		pause) nem_pause "$node" "$dur" ;;
		partition) nem_partition "$node"; sleep "$dur"; nem_heal "$node" ;;
		partition-in) nem_partition_oneway "$node" in; sleep "$dur"; nem_heal "$node" ;;
		partition-out) nem_partition_oneway "$node" out; sleep "$dur"; nem_heal "$node" ;;
		netem)
			nem_netem "$node" "${NEM_NETEM_LOSS:-10}" "${NEM_NETEM_DELAY:-50}"
			sleep "$dur"
			nem_netem_heal "$node"
			;;
		diskfull) nem_diskfull "$node"; sleep "$dur"; nem_diskfull_heal "$node" ;;
		restart-cut) nem_restart_cut "$node" "$dur" ;;
		*) fail "nem_run: unknown fault '$kind'" ;;
		esac
		sleep "${NEM_GAP:-1}"
	done 3<"$f"
}
