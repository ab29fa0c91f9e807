#!/bin/sh
# demo.sh — the main job: install, build, then start a live two-node HA
# pair on this machine — node a on 127.0.0.1, node b on 127.0.0.2, each
# with its own folder (etc/, var/) and hasvr supervising its guisvr —
# load a sample management database on the primary and show haStatus on
# both nodes and the records on the secondary.
#   DEMO_DIR (default demo-run/ in the source tree) holds a/ and b/.
#   DEMO_RECORDS sample records (default 10000).
#   Stop it with:  sh scripts/demo.sh stop
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
D=${DEMO_DIR:-$top/demo-run}
export BUILD_DIR=${BUILD_DIR:-$top/build}
B=$BUILD_DIR
N=${DEMO_RECORDS:-10000}
HB_PORT=${DEMO_HB_PORT:-17802}
REP_PORT=${DEMO_REP_PORT:-17803}

stop_node()
{
	pf=$D/$1/var/run/haSvr.pid
	[ -f "$pf" ] || return 0
	pid=$(cat "$pf")
	kill -0 "$pid" 2>/dev/null || return 0
	echo "demo: stopping hasvr on node $1 (pid $pid)"
	kill "$pid"
	i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done
}

if [ "${1:-}" = stop ]; then
	stop_node b; stop_node a
	exit 0
fi
sh "$top/scripts/setup.sh"
stop_node b; stop_node a
rm -rf "$D"
KEY=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')

node()   # node NAME ADDR
{
	mkdir -p "$D/$1/etc"
	(
		umask 077
		cat > "$D/$1/etc/haSvr.cfg" <<CFG
# demo node $1 ($2): everything under $D/$1
highAvail.isHaEnabled y
highAvail.myAddr $2
highAvail.primaryAddr 127.0.0.1
highAvail.secondaryAddr 127.0.0.2
highAvail.heartbeatPort $HB_PORT
highAvail.replicationPort $REP_PORT
highAvail.HMACKey $KEY
highAvail.durability sync
highAvail.pingableIp 127.0.0.1
highAvail.varDir $D/$1/var
highAvail.guiSvrConfig $D/$1/etc/guiSvr.cfg
highAvail.guiSvrProgram $B/guisvr/guisvr
highAvail.fileSync n
CFG
		cat > "$D/$1/etc/guiSvr.cfg" <<CFG
# demo node $1 ($2)
guiSvr.varDir $D/$1/var
guiSvr.haConfig $D/$1/etc/haSvr.cfg
guiSvr.debug y
CFG
	)
}
node a 127.0.0.1
node b 127.0.0.2
hastatus() { "$B/utils/haStatus" -s "$D/$1/var/run/haSvr.sock" ${2:+"$2"} ${3:+"$3"}; }
xdb() { n=$1; shift; "$B/utils/xdb" -f "$D/$n/etc/guiSvr.cfg" "$@"; }

echo "== hasvr -n (config check, both nodes)"
"$B/hasvr/hasvr" -n -f "$D/a/etc/haSvr.cfg"
"$B/hasvr/hasvr" -n -f "$D/b/etc/haSvr.cfg"
echo "== starting hasvr on a (127.0.0.1), then on b (127.0.0.2)"
"$B/hasvr/hasvr" -f "$D/a/etc/haSvr.cfg"
"$B/hasvr/hasvr" -f "$D/b/etc/haSvr.cfg"
echo "== waiting until both nodes are healthy"
hastatus a -w 60 >/dev/null || { hastatus a; tail -n 20 "$D/a/var/errorLog/ha.log"; exit 1; }
hastatus b -w 60 >/dev/null || { hastatus b; tail -n 20 "$D/b/var/errorLog/ha.log"; exit 1; }
primary=a; secondary=b
[ "$(hastatus a --json | jq -r .node.role)" = PRIMARY ] || { primary=b; secondary=a; }
echo "== loading a sample management database ($N records) on the primary ($primary)"
"$B/utils/xdbgen" -n "$N" -o "$D/sample.dump"
xdb $primary -w load "$D/sample.dump"
xdb $primary -w set 0.shadow_server.2 "comment=written on the primary by the demo"
hastatus $secondary -w 30 >/dev/null || true
echo "== haStatus on node a"; hastatus a || true
echo "== haStatus on node b"; hastatus b || true
echo "== xdb count on the secondary ($secondary)"; xdb $secondary count
echo "== xdb get 0.shadow_server.2 on the secondary"; xdb $secondary get 0.shadow_server.2
echo "== a write on the secondary is refused:"
xdb $secondary -w set 0.demo.1 x=1 || true
echo "== $D/$primary/var/errorLog/ha.log"; tail -n 8 "$D/$primary/var/errorLog/ha.log"
echo
echo "The pair is running. Try:"
echo "  $B/utils/haStatus -s $D/a/var/run/haSvr.sock          (or --json)"
echo "  $B/utils/haCtl -s $D/$primary/var/run/haSvr.sock switchover"
echo "  kill -9 \$(cat $D/$primary/var/run/haSvr.pid) \$(cat $D/$primary/var/run/guiSvr.pid)   (failover)"
echo "Stop both nodes with:  sh scripts/demo.sh stop"
