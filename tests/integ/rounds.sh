# rounds.sh — repeated crash rounds for a group of real hasvr nodes (sourced
# by ha_three.sh and ha_pair.sh after lib.sh).
#
#     rounds_setup a:127.0.0.1 b:127.0.0.2 [c:127.0.0.3]
#     rounds_run N
#
# Each round: 4 writers on the primary (sync mode; an id is appended to an
# ack file only once its write is acknowledged), then kill -9 of one node
# (hasvr and guisvr at once: a dead machine) while they write — the primary
# in even rounds, a secondary in odd ones — then the remaining nodes must
# have a primary holding every acknowledged write of every round so far;
# the killed node is restarted and every node must reach in-sync. Every
# RESTART_EVERY rounds all nodes are killed at once and started again in
# another order. A sampler asks every node's role every 50 ms and counts
# samples in which two nodes answered PRIMARY. At the end one line:
#     rounds N: lost L of A acknowledged writes; never in-sync S; dual-primary samples D
# and the test fails unless L, S and D are 0.

ROUNDS_NODES=
ROUNDS_LOST=0
ROUNDS_NOSYNC=0
ROUNDS_ACKED=0
RESTART_EVERY=${RESTART_EVERY:-4}

rounds_setup()
{
	local n
	HA_DURABILITY=sync
	HA_ACKTIMEOUT=2s
	for n in "$@"; do
		ROUNDS_NODES="$ROUNDS_NODES ${n%%:*}"
		hasvr_node "${n%%:*}" "${n#*:}"
	done
}

# the node that answers PRIMARY (first one), or nothing
rounds_primary()
{
	local n
	for n in $ROUNDS_NODES; do
		[ -f "$T/$n.hasvr" ] || continue
		if [ "$(on "$n" role_of)" = PRIMARY ]; then
			echo "$n"
			return 0
		fi
	done
	return 1
}

# every running node: its role, one line "n=ROLE ..." per sample
_rounds_sampler()
{
	local n line prim t0 t1
	while [ ! -f "$T/sampler.stop" ]; do
		t0=$(date +%s%N)
		prim=0
		line=
		for n in $ROUNDS_NODES; do
			r=$("$HASTATUS" -s "$T/$n/var/run/haSvr.sock" --json 2>/dev/null |
			    jq -r .node.role 2>/dev/null)
			line="$line $n=${r:-down}"
			[ "$r" = PRIMARY ] && prim=$((prim + 1))
		done
		t1=$(date +%s%N)
		# a sample that took long may span a failover: not evidence
		if [ "$prim" -gt 1 ] && [ $(((t1 - t0) / 1000000)) -lt 200 ]; then
			echo "DUAL$line" >>"$T/sampler.log"
		fi
		sleep 0.05
	done
}

_rounds_start_sampler()
{
	rm -f "$T/sampler.stop"
	_rounds_sampler </dev/null >/dev/null 2>&1 &
	echo $! >"$T/sampler.helper"
}

_rounds_stop_sampler()
{
	touch "$T/sampler.stop"
	wait "$(cat "$T/sampler.helper")" 2>/dev/null || true
	rm -f "$T/sampler.helper"
}

# wait until there is one primary (bounded), print it
_rounds_wait_primary()
{
	local n p
	n=0
	while [ $n -lt 300 ]; do
		if p=$(rounds_primary); then
			echo "$p"
			return 0
		fi
		sleep 0.1
		n=$((n + 1))
	done
	for p in $ROUNDS_NODES; do
		[ -f "$T/$p.hasvr" ] && on "$p" hastatus >&2
	done
	fail "no primary after 30 s"
}

# the acknowledged writes of every round are on node $1; ROUNDS_LOST is
# the most missing at any check (a lost write stays lost)
_rounds_check()
{
	local f miss all
	all=0
	for f in "$T"/acked.*; do
		[ -s "$f" ] || continue
		on "$1" torture check "$f" >"$T/check.out" 2>&1 || true
		miss=$(awk '/^checked/ { print $4 }' "$T/check.out")
		[ -n "$miss" ] || fail "torture check on $1: $(cat "$T/check.out")"
		if [ "$miss" -ne 0 ]; then
			note "round $ROUND: $miss acknowledged writes of $(basename "$f") missing on $1"
			all=$((all + miss))
		fi
	done
	[ "$all" -le "$ROUNDS_LOST" ] || ROUNDS_LOST=$all
}

# every running node reaches in-sync (primary healthy with all peers)
_rounds_wait_sync()
{
	local p
	p=$1
	if ! on "$p" hastatus -w 60 >"$T/sync.out" 2>&1; then
		note "round $ROUND: not every node in-sync after 60 s:"
		cat "$T/sync.out" >&2
		ROUNDS_NOSYNC=$((ROUNDS_NOSYNC + 1))
	fi
}

_rounds_writers()
{
	instance "$1"
	torture -T 60 puts "0.rounds.r$ROUND" 1 4000 "$T/acked.$ROUND" 4 \
	    >"$T/load.$ROUND.out" 2>&1 &
	echo $! >"$T/load.helper"
}

_rounds_stop_writers()
{
	local pid
	pid=$(cat "$T/load.helper" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	rm -f "$T/load.helper"
}

# wait for at least $1 acknowledged writes in this round (bounded)
_rounds_wait_acks()
{
	local n
	n=0
	while [ "$(cat "$T/acked.$ROUND" 2>/dev/null | wc -l)" -lt "$1" ] &&
	    [ $n -lt 300 ]; do
		sleep 0.1
		n=$((n + 1))
	done
}

# a few valid orders of the nodes, by round
_rounds_order()
{
	case $(( $1 / RESTART_EVERY % 3 )) in
	0) echo "$ROUNDS_NODES" | awk '{ for (i = NF; i > 0; i--) printf "%s ", $i }' ;;
	1) echo "$ROUNDS_NODES" | awk '{ for (i = 2; i <= NF; i++) printf "%s ", $i; printf "%s", $1 }' ;;
	*) echo $ROUNDS_NODES ;;
	esac
}

rounds_run()
{
	local total p victim n secs
	total=$1
	for n in $(_rounds_order 0); do
		on "$n" start_hasvr
	done
	p=$(_rounds_wait_primary)
	_rounds_wait_sync "$p"
	_rounds_start_sampler
	ROUND=1
	while [ $ROUND -le "$total" ]; do
		p=$(_rounds_wait_primary)
		_rounds_writers "$p"
		_rounds_wait_acks 300
		if [ $((ROUND % RESTART_EVERY)) -eq 0 ]; then
			note "round $ROUND: kill -9 of every node under writes, then start in the order $(_rounds_order "$ROUND")"
			for n in $ROUNDS_NODES; do
				on "$n" kill9_node
			done
			_rounds_stop_writers
			for n in $(_rounds_order "$ROUND"); do
				on "$n" start_hasvr
				sleep 0.3
			done
		else
			if [ $((ROUND % 2)) -eq 1 ]; then
				victim=$p
			else
				victim=
				for n in $ROUNDS_NODES; do
					[ "$n" != "$p" ] && victim=$n
				done
			fi
			note "round $ROUND: kill -9 of $victim ($( [ "$victim" = "$p" ] && echo primary || echo secondary)) under writes"
			on "$victim" kill9_node
			if [ "$victim" != "$p" ]; then
				# writes go on without it (one ackTimeout)
				secs=0
				while [ $secs -lt 30 ] && kill -0 "$(cat "$T/load.helper")" 2>/dev/null &&
				    [ "$(wc -l <"$T/acked.$ROUND")" -lt 1500 ]; do
					sleep 0.1
					secs=$((secs + 1))
				done
			fi
			_rounds_stop_writers
			p=$(_rounds_wait_primary)
			_rounds_check "$p"
			on "$victim" start_hasvr
		fi
		p=$(_rounds_wait_primary)
		_rounds_wait_sync "$p"
		_rounds_check "$p"
		ROUNDS_ACKED=$(cat "$T"/acked.* | wc -l)
		ROUND=$((ROUND + 1))
	done
	_rounds_stop_sampler
	n=$(cat "$T/sampler.log" 2>/dev/null | wc -l)
	[ "$n" -eq 0 ] || sed -n 1,5p "$T/sampler.log" >&2
	echo "rounds $total: lost $ROUNDS_LOST of $ROUNDS_ACKED acknowledged writes; never in-sync $ROUNDS_NOSYNC; dual-primary samples $n"
	[ "$ROUNDS_LOST" -eq 0 ] || fail "$ROUNDS_LOST acknowledged writes lost"
	[ "$ROUNDS_NOSYNC" -eq 0 ] || fail "$ROUNDS_NOSYNC times a node did not reach in-sync"
	[ "$n" -eq 0 ] || fail "$n samples with two nodes answering PRIMARY"
	for n in $ROUNDS_NODES; do
		on "$n" stop_hasvr
	done
}
