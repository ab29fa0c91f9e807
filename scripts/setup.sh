#!/bin/sh
# setup.sh — install the Debian 12 packages hasvr needs, then build it out of
# tree in $BUILD_DIR (default: build/ beside this script's parent).
#   scripts/setup.sh [configure options…]     e.g. --enable-asan
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$top/build}
# etcd-server/etcd-client: the etcd client's tests start their own cluster
# on free ports (Debian also enables an etcd service on 127.0.0.1:2379
# where systemd runs; the tests do not use it).
PKGS="build-essential autoconf automake libtool pkg-config libdb5.3-dev db5.3-util \
libssl-dev libssh2-1-dev libcunit1-dev libevent-dev libjansson-dev openssl \
rsync openssh-server openssh-client socat iproute2 tcpdump iputils-ping nftables jq \
libcurl4-openssl-dev etcd-server etcd-client"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "setup: these Debian packages are missing:$missing" >&2
		echo "setup: run as root (or: apt-get install$missing)" >&2
		exit 1
	fi
	echo "setup: installing$missing"
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
fi

cd "$top"
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
	autoreconf -fi
fi
mkdir -p "$BUILD_DIR"
cd "$BUILD_DIR"
want="$*"
if [ ! -f Makefile ] || [ "$(cat .configure-args 2>/dev/null)" != "$want" ]; then
	"$top/configure" -q "$@"
	printf '%s' "$want" > .configure-args
fi
make -j"$(nproc)" all
make -j"$(nproc)" tests/unit/unit_tests tests/bench/bench_commit >/dev/null
echo "setup: built in $BUILD_DIR"
