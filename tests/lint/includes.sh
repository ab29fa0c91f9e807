#!/bin/sh
# includes.sh — the include graph of hasvr's source has no circle.
#
# A module is a file stem in lib/, guisvr/, hasvr/ or utils/ (X.c, X.h
# and its private header X_int.h are one module); module A depends on
# module B when a file of A includes B.h (looked up beside A first, then
# in lib/). The graph must sort
# topologically (tsort): a circle means two modules that cannot be
# understood, tested or replaced one without the other.
#   tests/lint/includes.sh [-v]     -v: print the edges too
set -u
top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$top" || exit 99
edges=$(mktemp) || exit 99
trap 'rm -f "$edges" "$edges.err"' EXIT
for d in lib guisvr hasvr utils; do
	for f in "$d"/*.c "$d"/*.h; do
		[ -f "$f" ] || continue
		m=$d/$(basename "$f" | sed 's/\.[ch]$//; s/_int$//')
		sed -n 's/^#include "\([^"]*\)\.h".*/\1/p' "$f" | while read -r inc; do
			for cand in "$d/$inc" "lib/$inc"; do
				if [ -f "$cand.h" ]; then
					cand=${cand%_int}
					[ "$cand" = "$m" ] || echo "$m $cand"
					break
				fi
			done
		done
	done
done | sort -u >"$edges"
[ "${1:-}" = -v ] && cat "$edges"
n=$(wc -l <"$edges")
if [ "$n" -lt 50 ]; then
	echo "FAIL: only $n include edges found in $top: wrong folder?"
	exit 1
fi
if ! tsort "$edges" >/dev/null 2>"$edges.err"; then
	echo "FAIL: the include graph has a circle:"
	sed 's/^tsort: /  /' "$edges.err"
	exit 1
fi
echo "ok: $n include edges among $(tr ' ' '\n' <"$edges" | sort -u | wc -l) modules, no circle"
