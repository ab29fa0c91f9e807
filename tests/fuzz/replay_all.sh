#!/bin/sh
# replay_all.sh — make check's part of the fuzzing: every harness, built
# with the normal compiler and replay.c, runs over its committed seeds
# (tests/fuzz/corpus/NAME), the inputs that once broke a parser
# (tests/fuzz/regress/NAME) and, for the config harnesses, the config test
# files (tests/conf). A broken invariant aborts and names its input. Then
# the seeds are checked to be what mkcorpus writes today, so that they
# follow the encoders (make fuzz-corpus rewrites them).
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
fuzz=$top_srcdir/tests/fuzz
bin=$top_builddir/tests/fuzz
bad=0

for dir in "$fuzz"/corpus/*/; do
	name=$(basename "$dir")
	set -- "$fuzz/corpus/$name"
	[ -d "$fuzz/regress/$name" ] && set -- "$@" "$fuzz/regress/$name"
	case $name in
	guicfg) set -- "$@" "$top_srcdir"/tests/conf/*.cfg ;;
	hacfg) set -- "$@" "$top_srcdir"/tests/conf/ha/*.cfg ;;
	esac
	if [ ! -x "$bin/replay_$name" ]; then
		echo "FAIL $name: no $bin/replay_$name"
		bad=1
	elif ! "$bin/replay_$name" "$@"; then
		echo "FAIL $name: an input broke the harness (see above)"
		bad=1
	fi
done
for prog in "$bin"/replay_*; do
	[ -x "$prog" ] || continue
	name=${prog##*/replay_}
	if [ ! -d "$fuzz/corpus/$name" ]; then
		echo "FAIL $name: no seeds in tests/fuzz/corpus/$name"
		bad=1
	fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! "$bin/mkcorpus" "$tmp"; then
	echo "FAIL mkcorpus"
	bad=1
elif ! diff -r "$fuzz/corpus" "$tmp/corpus" >/dev/null ||
    ! diff -r "$fuzz/dict" "$tmp/dict" >/dev/null; then
	diff -r "$fuzz/corpus" "$tmp/corpus"
	diff -r "$fuzz/dict" "$tmp/dict"
	echo "FAIL: the seeds are not what mkcorpus writes today: run" \
	    "make fuzz-corpus and commit tests/fuzz/corpus and tests/fuzz/dict"
	bad=1
fi
exit $bad
