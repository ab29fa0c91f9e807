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
# ha/good_full names a TLS key; guisvr -n checks that it exists and is private
sed -i "s|/etc/hasvr/tls/node3.key|$work/node3.key|" "$work/tests/conf/ha/good_full.cfg"
printf 'not read by -n\n' > "$work/node3.key"
chmod 600 "$work/node3.key"
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

# Every private key the daemons read is refused when others can read it,
# by `guisvr -n` and `hasvr -n` alike, naming the key, its line and the fix.
HASVR=$top_builddir/hasvr/hasvr
k=$work/keys
mkdir -p "$k"
printf 'not read by -n\n' >"$k/ca.pem"
cp "$k/ca.pem" "$k/cert.pem"
cp "$k/ca.pem" "$k/tls.key"
cp "$k/ca.pem" "$k/id_ed25519"
printf 'conf-check-secret-0123456789\n' >"$k/client.key"
chmod 600 "$k/tls.key" "$k/id_ed25519" "$k/client.key"
cp tests/conf/ha/good_pair.cfg "$k/haSvr.cfg"
cat >>"$k/haSvr.cfg" <<-END
	highAvail.tlsCAFile $k/ca.pem
	highAvail.tlsCertFile $k/cert.pem
	highAvail.tlsKeyFile $k/tls.key
	highAvail.sshKeyFile $k/id_ed25519
	highAvail.fileSyncProgram /bin/true
	highAvail.guiSvrConfig $k/guiSvr.cfg
	highAvail.guiSvrProgram $top_builddir/guisvr/guisvr
	highAvail.varDir $k/var
	END
cat >"$k/guiSvr.cfg" <<-END
	guiSvr.varDir $k/var
	guiSvr.haConfig $k/haSvr.cfg
	guiSvr.listenAddr 127.0.0.1
	guiSvr.clientKeyFile $k/client.key
	END
chmod 600 "$k/haSvr.cfg" "$k/guiSvr.cfg"
tls_line=$(grep -n '^highAvail.tlsKeyFile ' "$k/haSvr.cfg" | cut -d: -f1)
ssh_line=$(grep -n '^highAvail.sshKeyFile ' "$k/haSvr.cfg" | cut -d: -f1)
cli_line=$(grep -n '^guiSvr.clientKeyFile ' "$k/guiSvr.cfg" | cut -d: -f1)

# key_case WHAT DAEMON WANT-RC [LINE]: DAEMON -n exits WANT-RC and prints
# LINE (a fixed string; default "configuration OK").
key_case()
{
	n=$((n+1))
	case $2 in
	guisvr) "$top_builddir/guisvr/guisvr" -n -f "$k/guiSvr.cfg" >"$out" 2>&1 ;;
	hasvr) "$HASVR" -n -f "$k/haSvr.cfg" >"$out" 2>&1 ;;
	esac
	rc=$?
	if [ "$rc" != "$3" ] || ! grep -qxF "${4:-configuration OK}" "$out"; then
		echo "FAIL $1, $2 -n: exit $rc, expected $3 and the line '${4:-configuration OK}':"
		cat "$out"
		bad=$((bad+1))
	else
		echo "ok   $1, $2 -n"
	fi
}

key_case "private keys at mode 0600" guisvr 0
key_case "private keys at mode 0600" hasvr 0
chmod 644 "$k/tls.key"
for d in guisvr hasvr; do
	key_case "highAvail.tlsKeyFile at mode 0644" $d 1 "$k/haSvr.cfg:$tls_line: highAvail.tlsKeyFile: $k/tls.key is readable by others (mode 0644): run chmod 600 $k/tls.key"
done
chmod 620 "$k/tls.key"
key_case "highAvail.tlsKeyFile at mode 0620" hasvr 1 "$k/haSvr.cfg:$tls_line: highAvail.tlsKeyFile: $k/tls.key is writable by its group (mode 0620): run chmod 600 $k/tls.key"
chmod 600 "$k/tls.key"
mv "$k/tls.key" "$k/tls.key.away"
key_case "highAvail.tlsKeyFile missing" hasvr 1 "$k/haSvr.cfg:$tls_line: highAvail.tlsKeyFile: $k/tls.key: cannot stat: No such file or directory"
mv "$k/tls.key.away" "$k/tls.key"
chmod 644 "$k/id_ed25519"
key_case "highAvail.sshKeyFile at mode 0644" hasvr 1 "$k/haSvr.cfg:$ssh_line: highAvail.sshKeyFile: $k/id_ed25519 is readable by others (mode 0644): run chmod 600 $k/id_ed25519"
chmod 600 "$k/id_ed25519"
chmod 644 "$k/client.key"
for d in guisvr hasvr; do
	key_case "guiSvr.clientKeyFile at mode 0644" $d 1 "$k/guiSvr.cfg:$cli_line: guiSvr.clientKeyFile: $k/client.key is readable by others (mode 0644): run chmod 600 $k/client.key"
done
chmod 600 "$k/client.key"
chmod 644 "$k/guiSvr.cfg"
key_case "guiSvr.cfg at mode 0644" hasvr 1 "$k/guiSvr.cfg: $k/guiSvr.cfg is readable by others (mode 0644): run chmod 600 $k/guiSvr.cfg"
chmod 600 "$k/guiSvr.cfg"
key_case "private keys at mode 0600 again" hasvr 0

[ "$n" -gt 0 ] || { echo "no config cases found"; exit 1; }
echo "$n cases, $bad failed"
[ "$bad" -eq 0 ]
