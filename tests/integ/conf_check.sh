#!/bin/sh
# conf_check.sh — `guisvr -n` on every tests/conf/NAME.cfg must print exactly
# tests/conf/NAME.ok (stdout and stderr), and exit 0 only for good_* cases.
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
# Work on private copies (git and tarballs do not keep mode 600, and guisvr
# refuses a config readable by others) under the same relative names.
work=$(mktemp -d)
out=$work/out
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tests/conf"
cp "$top_srcdir"/tests/conf/*.cfg "$top_srcdir"/tests/conf/*.ok "$work/tests/conf/"
chmod 600 "$work"/tests/conf/*.cfg
# good_full names a client key file; give it a real one (guisvr -n reads it)
sed -i "s|/etc/hasvr/clientKey|$work/clientKey|" "$work/tests/conf/good_full.cfg"
printf 'conf-check-secret-0123456789\n' > "$work/clientKey"
chmod 600 "$work/clientKey"
cd "$work" || exit 1
n=0; bad=0
for cfg in tests/conf/*.cfg; do
	name=${cfg%.cfg}
	n=$((n+1))
	"$top_builddir/guisvr/guisvr" -n -f "$cfg" > "$out" 2>&1
	rc=$?
	case $(basename "$name") in
	good*) want=0 ;;
	*) want=1 ;;
	esac
	if [ "$rc" != "$want" ]; then
		echo "FAIL $cfg: exit $rc, expected $want"; cat "$out"; bad=$((bad+1)); continue
	fi
	if ! diff -u "$name.ok" "$out"; then
		echo "FAIL $cfg: output differs from $name.ok"; bad=$((bad+1)); continue
	fi
	echo "ok   $cfg"
done
[ "$n" -gt 0 ] || { echo "no config cases found"; exit 1; }
echo "$n cases, $bad failed"
[ "$bad" -eq 0 ]
