# etcd.sh — a real etcd cluster for the tests (sourced; POSIX sh). Debian's
# etcd-server and etcd-client (3.4) must be installed; nothing here needs
# root.
#
# Use:
#     . "$top_srcdir/tests/integ/lib.sh"    # (optional: pick_port)
#     . "$top_srcdir/tests/etcd/etcd.sh"
#     at_exit 'etcd_cluster_stop "$T/etcd"'
#     etcd_cluster_start "$T/etcd" e1=127.0.0.1 e2=127.0.0.1 e3=127.0.0.1
#     eps=$(etcd_endpoints "$T/etcd")      # http://127.0.0.1:P1,...
#     etcd_member_stop "$T/etcd" e1          # SIGTERM (or: ... e1 KILL)
#     etcd_member_start "$T/etcd" e1         # again, same data
#     etcd_wait_healthy "$T/etcd" 20
#     etcd_cluster_stop "$T/etcd"            # safe twice, or half-started
#
# Members are given as NAME=HOST or NAME=HOST:CLIENTPORT:PEERPORT (NAME:
# letters, digits, - and _). Without ports, two free ones are taken
# (lib.sh's pick_port when it is defined), so several members can share
# 127.0.0.1; with a host of its own each member can use 2379:2380.
#
# ETCD_WRAP: how to run a command "as" a member, for members that are not
# reachable from here (network namespaces). When set, every command for
# member NAME (etcd itself, etcdctl for the health checks) runs as
#     $ETCD_WRAP NAME CMD [ARG...]
# e.g. with tests/cluster/cluster.sh's namespaces:
#     etcd_in_ns() { n=$1; shift; ip netns exec "$(cluster_ns "${n#e}")" "$@"; }
#     ETCD_WRAP=etcd_in_ns
#     etcd_cluster_start "$T/etcd" e1=192.0.2.1:2379:2380 e2=192.0.2.2:2379:2380 \
#         e3=192.0.2.3:2379:2380
# The wrapper may fork: etcd writes its own PID (a shell that execs it).
#
# Other settings (environment, read when a member starts):
#   ETCD_TLS=1            (at etcd_cluster_start) https client URLs with
#                         --client-cert-auth: a CA, a certificate per member
#                         (subjectAltName its host) and a client
#                         certificate are made with openssl in DIR/tls:
#                           ca.pem  client.pem client.key  NAME.pem NAME.key
#                         Peers talk plain HTTP. Later calls read the mode
#                         from DIR, not from ETCD_TLS.
#   ETCD_HEARTBEAT_MS     --heartbeat-interval (default 100)
#   ETCD_ELECTION_MS      --election-timeout (default 1000)
#   ETCD_START_TIMEOUT    seconds etcd_cluster_start waits for a healthy
#                         cluster (default 30)
#
# Files in DIR: members ("NAME HOST CLIENTPORT PEERPORT" lines), NAME.data/
# (the data dir), NAME.log (etcd's output), NAME.pid (etcd's PID, while it
# runs) with NAME.start (its start time, so that a reused PID is never
# signalled), tls/ (ETCD_TLS).
#
# Functions (each prints its own error and returns 1 on failure):
#   etcd_cluster_start DIR MEMBER...  start all ("new" cluster), wait until
#                         every member is healthy (a leader, a quorum read)
#   etcd_member_stop DIR NAME [SIG]   SIG (default TERM) to its PID, wait
#                         (bounded, then KILL); not running: nothing. A
#                         leader on SIGTERM hands its leadership over
#                         first: quick with a quorum, 7 s without one
#   etcd_member_start DIR NAME  restart with its data (cluster state
#                         "existing"); waits until it answers, not for a
#                         quorum (etcd_wait_healthy for that)
#   etcd_cluster_stop DIR  SIGKILL to every member still running, by PID
#                         (idempotent). Not SIGTERM: a leader that stops
#                         tries to hand its leadership over first, and
#                         with its peers stopping too that takes etcd's
#                         request timeout (7 s); the WAL survives a KILL.
#   etcd_wait_healthy DIR [SECS [NAME...]]  until each (default all) is
#                         healthy; on timeout the logs' tails
#   etcd_endpoints DIR    the client URLs, comma-separated, in member order
#   etcd_endpoint DIR NAME  one member's client URL
#   etcd_leader DIR       the name of the member that is the leader
#   etcd_member_pid DIR NAME  its PID while it runs (else nothing)
#   etcd_ctl DIR ARG...   etcdctl (API 3) with all endpoints and the TLS
#                         files, run here (not wrapped)

ETCD_BIN=${ETCD_BIN:-etcd}
ETCDCTL_BIN=${ETCDCTL_BIN:-etcdctl}

_etcd_err()
{
	echo "etcd.sh: $*" >&2
	return 1
}

# etcd_usable: 0, or prints why these tests cannot run here
etcd_usable()
{
	command -v "$ETCD_BIN" >/dev/null 2>&1 ||
	    { echo "etcd not installed (apt-get install etcd-server)"; return 1; }
	command -v "$ETCDCTL_BIN" >/dev/null 2>&1 ||
	    { echo "etcdctl not installed (apt-get install etcd-client)"; return 1; }
	if [ "${ETCD_TLS:-0}" = 1 ]; then
		command -v openssl >/dev/null 2>&1 ||
		    { echo "openssl not installed"; return 1; }
	fi
	return 0
}

# _etcd_run NAME CMD...: CMD for member NAME (through ETCD_WRAP)
_etcd_run()
{
	local n
	n=$1
	shift
	if [ -n "${ETCD_WRAP:-}" ]; then
		$ETCD_WRAP "$n" "$@"
	else
		"$@"
	fi
}

# _etcd_member DIR NAME: sets _e_host _e_cport _e_pport, or fails
_etcd_member()
{
	local n h c p
	_e_host='' _e_cport='' _e_pport=''
	[ -f "$1/members" ] || { _etcd_err "no cluster in $1"; return 1; }
	while read -r n h c p; do
		if [ "$n" = "$2" ]; then
			_e_host=$h _e_cport=$c _e_pport=$p
			return 0
		fi
	done <"$1/members"
	_etcd_err "no member $2 in $1"
}

_etcd_names()
{
	[ -f "$1/members" ] || return 0
	cut -d' ' -f1 "$1/members"
}

_etcd_scheme()
{
	if [ -f "$1/tls/on" ]; then echo https; else echo http; fi
}

# _etcd_url HOST PORT SCHEME (IPv6 literals in brackets)
_etcd_url()
{
	case $1 in
	*:*) echo "$3://[$1]:$2" ;;
	*) echo "$3://$1:$2" ;;
	esac
}

etcd_endpoint()
{
	_etcd_member "$1" "$2" || return 1
	_etcd_url "$_e_host" "$_e_cport" "$(_etcd_scheme "$1")"
}

etcd_endpoints()
{
	local n out
	out=''
	for n in $(_etcd_names "$1"); do
		out="$out${out:+,}$(etcd_endpoint "$1" "$n")" || return 1
	done
	echo "$out"
}

# _etcd_tlsflags DIR: etcdctl's TLS options for DIR's cluster
_etcd_tlsflags()
{
	[ -f "$1/tls/on" ] || return 0
	echo "--cacert $1/tls/ca.pem --cert $1/tls/client.pem --key $1/tls/client.key"
}

etcd_ctl()
{
	local d
	d=$1
	shift
	# shellcheck disable=SC2046
	ETCDCTL_API=3 "$ETCDCTL_BIN" --endpoints "$(etcd_endpoints "$d")" \
	    $(_etcd_tlsflags "$d") --dial-timeout 2s --command-timeout 5s "$@"
}

# _etcd_ctl_member DIR NAME ARG...: etcdctl against NAME alone, run as NAME
_etcd_ctl_member()
{
	local d n u
	d=$1 n=$2
	shift 2
	u=$(etcd_endpoint "$d" "$n") || return 1
	# shellcheck disable=SC2046
	_etcd_run "$n" env ETCDCTL_API=3 "$ETCDCTL_BIN" --endpoints "$u" \
	    $(_etcd_tlsflags "$d") --dial-timeout 1s --command-timeout 2s "$@"
}

# _etcd_start_time PID: field 22 of /proc/PID/stat
_etcd_start_time()
{
	sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20
}

# _etcd_alive PID START: 0 while PID runs and is the process that started
# at START (not a zombie, not a reused PID)
_etcd_alive()
{
	local st
	[ -n "$1" ] || return 1
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1,20)
	[ -n "$st" ] && [ "${st%% *}" != Z ] && [ "${st#* }" = "$2" ]
}

etcd_member_pid()
{
	local p s
	p=$(cat "$1/$2.pid" 2>/dev/null) || return 0
	s=$(cat "$1/$2.start" 2>/dev/null) || return 0
	if _etcd_alive "$p" "$s"; then echo "$p"; fi
	return 0
}

_etcd_free_port_next=
# _etcd_pick_port DIR: a free port into $_e_port (in this shell: pick_port's
# counter must advance, which $(...) would lose)
_etcd_pick_port()
{
	local hex n
	if command -v pick_port >/dev/null 2>&1; then
		pick_port >"$1/.port" || return 1
		_e_port=$(cat "$1/.port")
		rm -f "$1/.port"
		return 0
	fi
	[ -n "$_etcd_free_port_next" ] ||
	    _etcd_free_port_next=$((21000 + ($$ * 41) % 11000))
	n=0
	while [ $n -lt 500 ]; do
		_e_port=$_etcd_free_port_next
		_etcd_free_port_next=$((_e_port + 1))
		[ "$_etcd_free_port_next" -lt 32700 ] || _etcd_free_port_next=21000
		hex=$(printf '%04X' "$_e_port")
		if ! cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
		    awk '{print $2}' | grep -q ":$hex\$"; then
			return 0
		fi
		n=$((n + 1))
	done
	_etcd_err "no free TCP port"
}

# _etcd_tls_make DIR: CA, member and client certificates in DIR/tls
_etcd_tls_make()
{
	local d t n h c p san
	d=$1
	t=$d/tls
	mkdir -p "$t"
	cat >"$t/openssl.cnf" <<-EOF
	[req]
	distinguished_name = dn
	prompt = no
	[dn]
	CN = hasvr test etcd
	[ca]
	basicConstraints = critical,CA:TRUE
	keyUsage = critical,keyCertSign,cRLSign
	subjectKeyIdentifier = hash
	[client]
	basicConstraints = CA:FALSE
	keyUsage = critical,digitalSignature
	extendedKeyUsage = clientAuth
	EOF
	openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -keyout "$t/ca.key" -out "$t/ca.pem" -days 7 -subj "/CN=hasvr test etcd CA" \
	    -config "$t/openssl.cnf" -extensions ca >"$t/openssl.log" 2>&1 ||
	    { cat "$t/openssl.log" >&2; _etcd_err "openssl: cannot make the CA"; return 1; }
	# _etcd_tls_cert NAME SUBJECT EXTSECTION: NAME.pem, NAME.key signed by the CA
	while read -r n h c p; do
		case $h in
		*[!0-9.]*) case $h in *:*) san="IP:$h" ;; *) san="DNS:$h" ;; esac ;;
		*) san="IP:$h" ;;
		esac
		cat >"$t/$n.ext" <<-EOF
		[server]
		basicConstraints = CA:FALSE
		keyUsage = critical,digitalSignature,keyEncipherment
		extendedKeyUsage = serverAuth,clientAuth
		subjectAltName = $san
		EOF
		_etcd_tls_cert "$t" "$n" "/CN=$n" "$t/$n.ext" server || return 1
	done <"$d/members"
	_etcd_tls_cert "$t" client "/CN=hasvr test client" "$t/openssl.cnf" client ||
	    return 1
	: >"$t/on"
}

_etcd_tls_cert()
{
	openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -keyout "$1/$2.key" -out "$1/$2.csr" -subj "$3" \
	    -config "$1/openssl.cnf" >>"$1/openssl.log" 2>&1 &&
	openssl x509 -req -in "$1/$2.csr" -CA "$1/ca.pem" -CAkey "$1/ca.key" \
	    -CAcreateserial -days 7 -extfile "$4" -extensions "$5" \
	    -out "$1/$2.pem" >>"$1/openssl.log" 2>&1 ||
	    { cat "$1/openssl.log" >&2; _etcd_err "openssl: cannot make $2's certificate"; return 1; }
	rm -f "$1/$2.csr"
}

# _etcd_launch DIR NAME new|existing: etcd for NAME in the background
_etcd_launch()
{
	local d n state scheme cluster m h c p tls job i pid
	d=$1 n=$2 state=$3
	_etcd_member "$d" "$n" || return 1
	if [ -n "$(etcd_member_pid "$d" "$n")" ]; then
		_etcd_err "member $n already runs (pid $(cat "$d/$n.pid"))"
		return 1
	fi
	scheme=$(_etcd_scheme "$d")
	cluster=''
	while read -r m h c p; do
		cluster="$cluster${cluster:+,}$m=$(_etcd_url "$h" "$p" http)"
	done <"$d/members"
	tls=''
	if [ "$scheme" = https ]; then
		tls="--cert-file $d/tls/$n.pem --key-file $d/tls/$n.key \
--client-cert-auth --trusted-ca-file $d/tls/ca.pem"
	fi
	rm -f "$d/$n.pid" "$d/$n.start"
	echo "---- $(date '+%F %T') start ($state)" >>"$d/$n.log"
	# The shell writes its PID, then becomes etcd: the PID holds through
	# any wrapper. The subshell drops the caller's descriptors with exec:
	# redirections on a command would keep copies in it (dash saves them
	# above 9), and it lives as long as etcd.
	(
		exec </dev/null >>"$d/$n.log" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
		# shellcheck disable=SC2086
		_etcd_run "$n" sh -c 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' \
		    "$d/$n.pid" "$ETCD_BIN" --name "$n" --data-dir "$d/$n.data" \
		    --listen-client-urls "$(_etcd_url "$_e_host" "$_e_cport" "$scheme")" \
		    --advertise-client-urls "$(_etcd_url "$_e_host" "$_e_cport" "$scheme")" \
		    --listen-peer-urls "$(_etcd_url "$_e_host" "$_e_pport" http)" \
		    --initial-advertise-peer-urls "$(_etcd_url "$_e_host" "$_e_pport" http)" \
		    --initial-cluster "$cluster" --initial-cluster-state "$state" \
		    --initial-cluster-token "$(cat "$d/token")" \
		    --heartbeat-interval "${ETCD_HEARTBEAT_MS:-100}" \
		    --election-timeout "${ETCD_ELECTION_MS:-1000}" $tls
	) &
	job=$!
	echo "$job" >"$d/$n.job"
	i=0
	while [ ! -s "$d/$n.pid" ] && [ $i -lt 50 ]; do
		kill -0 "$job" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	pid=$(cat "$d/$n.pid" 2>/dev/null || true)
	[ -n "$pid" ] || { tail -n 5 "$d/$n.log" >&2; _etcd_err "member $n did not start"; return 1; }
	_etcd_start_time "$pid" >"$d/$n.start"
	if [ ! -s "$d/$n.start" ]; then
		tail -n 15 "$d/$n.log" >&2
		_etcd_err "member $n (pid $pid) exited at once; log $d/$n.log"
		return 1
	fi
}

# _etcd_tails DIR: the end of every member's log, on stderr
_etcd_tails()
{
	local n
	for n in $(_etcd_names "$1"); do
		echo "---- tail of $1/$n.log" >&2
		tail -n 15 "$1/$n.log" >&2 2>/dev/null
	done
}

etcd_wait_healthy()
{
	local d secs lim i n bad out
	d=$1
	secs=${2:-30}
	shift
	[ $# -eq 0 ] || shift
	[ $# -gt 0 ] || set -- $(_etcd_names "$d")
	lim=$((secs * 5))
	i=0
	while :; do
		bad=''
		for n in "$@"; do
			if [ -z "$(etcd_member_pid "$d" "$n")" ]; then
				_etcd_tails "$d"
				_etcd_err "member $n is not running"
				return 1
			fi
			out=$(_etcd_ctl_member "$d" "$n" endpoint health 2>&1) ||
			    bad="$bad $n"
		done
		[ -n "$bad" ] || return 0
		i=$((i + 1))
		if [ $i -ge $lim ]; then
			echo "$out" >&2
			_etcd_tails "$d"
			_etcd_err "not healthy after $secs s:$bad (cluster in $d)"
			return 1
		fi
		sleep 0.2
	done
}

etcd_cluster_start()
{
	local d spec n rest h c p names secs
	d=$1
	shift
	[ $# -gt 0 ] || { _etcd_err "etcd_cluster_start DIR NAME=HOST[:CPORT:PPORT]..."; return 1; }
	mkdir -p "$d" || return 1
	[ ! -s "$d/members" ] || { _etcd_err "$d already holds a cluster"; return 1; }
	: >"$d/members.tmp"
	names=' '
	for spec in "$@"; do
		n=${spec%%=*}
		rest=${spec#*=}
		case $n in
		''|*[!A-Za-z0-9_-]*) _etcd_err "bad member name in '$spec'"; return 1 ;;
		esac
		case $names in *" $n "*) _etcd_err "member $n given twice"; return 1 ;; esac
		names="$names$n "
		[ "$rest" != "$spec" ] && [ -n "$rest" ] ||
		    { _etcd_err "'$spec' is not NAME=HOST[:CPORT:PPORT]"; return 1; }
		case $rest in
		*:*:*)
			p=${rest##*:}
			rest=${rest%:*}
			c=${rest##*:}
			h=${rest%:*}
			;;
		*)
			h=$rest
			_etcd_pick_port "$d" || return 1
			c=$_e_port
			_etcd_pick_port "$d" || return 1
			p=$_e_port
			;;
		esac
		echo "$n $h $c $p" >>"$d/members.tmp"
	done
	mv "$d/members.tmp" "$d/members"
	echo "hasvr-test-$$-$(date +%s)" >"$d/token"
	if [ "${ETCD_TLS:-0}" = 1 ]; then
		_etcd_tls_make "$d" || return 1
	fi
	for n in $(_etcd_names "$d"); do
		_etcd_launch "$d" "$n" new || return 1
	done
	secs=${ETCD_START_TIMEOUT:-30}
	etcd_wait_healthy "$d" "$secs"
}

etcd_member_start()
{
	local d n i
	d=$1 n=$2
	_etcd_launch "$d" "$n" existing || return 1
	# it answers (a status needs no quorum)
	i=0
	while ! _etcd_ctl_member "$d" "$n" endpoint status >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -ge 100 ] || [ -z "$(etcd_member_pid "$d" "$n")" ]; then
			tail -n 15 "$d/$n.log" >&2
			_etcd_err "member $n not answering after restart"
			return 1
		fi
		sleep 0.1
	done
}

# _etcd_reap DIR NAME: forget NAME's process once it is gone
_etcd_reap()
{
	local job
	job=$(cat "$1/$2.job" 2>/dev/null || true)
	[ -z "$job" ] || wait "$job" 2>/dev/null || true
	rm -f "$1/$2.pid" "$1/$2.start" "$1/$2.job"
}

etcd_member_stop()
{
	local d n sig pid i
	d=$1 n=$2 sig=${3:-TERM}
	pid=$(etcd_member_pid "$d" "$n")
	if [ -n "$pid" ]; then
		kill -"$sig" "$pid" 2>/dev/null || true
		i=0
		while [ -n "$(etcd_member_pid "$d" "$n")" ] && [ $i -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		if [ -n "$(etcd_member_pid "$d" "$n")" ]; then
			kill -KILL "$pid" 2>/dev/null || true
			sleep 0.2
			echo "etcd.sh: member $n ignored SIG$sig for 10 s; killed" >&2
		fi
		echo "---- $(date '+%F %T') stopped (SIG$sig)" >>"$d/$n.log"
	fi
	_etcd_reap "$d" "$n"
}

etcd_cluster_stop()
{
	local d n pid i left
	d=$1
	[ -d "$d" ] || return 0
	for n in $(_etcd_names "$d"); do
		pid=$(etcd_member_pid "$d" "$n")
		[ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true
	done
	i=0
	while [ $i -lt 100 ]; do
		left=''
		for n in $(_etcd_names "$d"); do
			[ -z "$(etcd_member_pid "$d" "$n")" ] || left="$left $n"
		done
		[ -n "$left" ] || break
		sleep 0.1
		i=$((i + 1))
	done
	for n in $(_etcd_names "$d"); do
		_etcd_reap "$d" "$n"
	done
	[ -z "$left" ] || { _etcd_err "members$left survived SIGKILL for 10 s"; return 1; }
	return 0
}

etcd_leader()
{
	local d n l
	d=$1
	for n in $(_etcd_names "$d"); do
		[ -n "$(etcd_member_pid "$d" "$n")" ] || continue
		# simple: "URL, ID, VERSION, DB SIZE, IS LEADER, IS LEARNER, ..."
		l=$(_etcd_ctl_member "$d" "$n" -w simple endpoint status 2>/dev/null |
		    awk -F', ' '{print $5}')
		if [ "$l" = true ]; then
			echo "$n"
			return 0
		fi
	done
	_etcd_err "no leader among the running members of $d"
}
