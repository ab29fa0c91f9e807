#!/bin/sh
# demo.sh — the main job: install, build, then start guisvr on a sample
# management database and show it with the records tool.
#   DEMO_DIR (default demo-run/ in the source tree) holds etc/ and var/.
#   Stop it with:  kill $(cat $DEMO_DIR/var/run/guiSvr.pid)
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
export BUILD_DIR=${BUILD_DIR:-$top/build}
sh "$top/scripts/setup.sh"
B=$BUILD_DIR
D=${DEMO_DIR:-$top/demo-run}
N=${DEMO_RECORDS:-10000}

if [ -f "$D/var/run/guiSvr.pid" ] && kill -0 "$(cat "$D/var/run/guiSvr.pid")" 2>/dev/null; then
	echo "demo: stopping the guisvr left from an earlier run"
	kill "$(cat "$D/var/run/guiSvr.pid")"
	i=0; while [ -f "$D/var/run/guiSvr.pid" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
fi
rm -rf "$D"
mkdir -p "$D/etc"
cat > "$D/etc/guiSvr.cfg" <<CFG
# demo node: everything under $D
guiSvr.varDir $D/var
guiSvr.cacheSize 32M
guiSvr.txnSync sync
guiSvr.debug y
CFG
chmod 600 "$D/etc/guiSvr.cfg"
xdb() { "$B/utils/xdb" -f "$D/etc/guiSvr.cfg" "$@"; }

echo "== guisvr -n (config check)"
"$B/guisvr/guisvr" -n -f "$D/etc/guiSvr.cfg"
echo "== starting guisvr"
"$B/guisvr/guisvr" -f "$D/etc/guiSvr.cfg"
i=0
until xdb status >/dev/null 2>&1; do
	i=$((i+1)); [ $i -lt 100 ] || { echo "demo: guisvr did not start"; tail "$D/var/errorLog/guiDaemon.0"; exit 1; }
	sleep 0.1
done
echo "== loading a sample management database ($N records)"
"$B/utils/xdbgen" -n "$N" -o "$D/sample.dump"
xdb -w load "$D/sample.dump"
echo "== xdb count"; xdb count
echo "== xdb get 0.shadow_server.2"; xdb get 0.shadow_server.2
echo "== xdb list 0.shadow_server."; xdb list 0.shadow_server.
echo "== xdb count 0.admin."; xdb count 0.admin.
echo "== xdb -w set 0.shadow_server.2 comment='edited by the demo'"
xdb -w set 0.shadow_server.2 "comment=edited by the demo"
xdb get 0.shadow_server.2
echo "== xdb status"; xdb status
echo "== $D/var/errorLog/guiDaemon.0 (without debug lines)"
grep -v ' DEBUG ' "$D/var/errorLog/guiDaemon.0" | tail -n 12
echo
echo "guisvr is running (pid $(cat "$D/var/run/guiSvr.pid")). Try:"
echo "  $B/utils/xdb -f $D/etc/guiSvr.cfg list 0.shadow_server."
echo "Stop it with:  kill \$(cat $D/var/run/guiSvr.pid)"
