#!/bin/sh
# conf_check.sh — `guisvr -n` on every tests/conf/NAME.cfg must print exactly
# tests/conf/NAME.ok (stdout and stderr), and exit 0 only for good_* cases.
# Each tests/conf/ha/NAME.cfg is a haSvr.cfg, checked the same way through a
# guiSvr.cfg whose guiSvr.haConfig names it.
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
# Work on private copies (git and tarballs do not keep mode 600, and guisvr
# refuses a config readable by others) under the same relative names.
work=$(mktemp -d)
out=$work/out
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tests/conf/ha"
cp "$top_srcdir"/tests/conf/*.cfg "$top_srcdir"/tests/conf/*.ok "$work/tests/conf/"
cp "$top_srcdir"/tests/conf/ha/*.cfg "$top_srcdir"/tests/conf/ha/*.ok \
    "$work/tests/conf/ha/"
chmod 600 "$work"/tests/conf/*.cfg "$work"/tests/conf/ha/*.cfg
# good_full names a client key file; give it a real one (guisvr -n reads it)
sed -i "s|/etc/hasvr/clientKey|$work/clientKey|" "$work/tests/conf/good_full.cfg"
printf 'conf-check-secret-0123456789\n' > "$work/clientKey"
chmod 600 "$work/clientKey"
# ... and a haSvr.cfg, which guisvr -n checks too
sed -i "s|/etc/hasvr/haSvr.cfg|$work/haSvr.cfg|" "$work/tests/conf/good_full.cfg"
cp "$work/tests/conf/ha/good_pair.cfg" "$work/haSvr.cfg"
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
for cfg in tests/conf/ha/*.cfg; do
	name=${cfg%.cfg}
	n=$((n+1))
	printf 'guiSvr.haConfig %s\n' "$work/$cfg" > "$work/gui.cfg"
	chmod 600 "$work/gui.cfg"
	# guiSvr.haConfig is absolute: show the paths as the .ok files do
	"$top_builddir/guisvr/guisvr" -n -f "$work/gui.cfg" > "$out.raw" 2>&1
	rc=$?
	sed "s|$work/||g" "$out.raw" > "$out"
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

# haSvr.cfg holds highAvail.HMACKey: readable by others, it is refused
n=$((n+1))
chmod 644 "$work/haSvr.cfg"
"$top_builddir/guisvr/guisvr" -n -f tests/conf/good_full.cfg > "$out" 2>&1
rc=$?
chmod 600 "$work/haSvr.cfg"
if [ "$rc" != 1 ] || ! grep -q "haSvr.cfg is readable by others (mode 0644): run chmod 600" "$out"; then
	echo "FAIL haSvr.cfg mode 0644: exit $rc"; cat "$out"; bad=$((bad+1))
else
	echo "ok   haSvr.cfg mode 0644 refused"
fi

[ "$n" -gt 0 ] || { echo "no config cases found"; exit 1; }
echo "$n cases, $bad failed"
[ "$bad" -eq 0 ]
