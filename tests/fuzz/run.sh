#!/bin/sh
# run.sh — make fuzz: runs each libFuzzer harness SECONDS on a copy of its
# seeds and reports, per harness, the inputs executed, the coverage at the
# end (libFuzzer's cov: edges and ft: features), the corpus it grew and
# the crashes it saved (a crash ends a harness's run early: its seconds
# say so). A harness's corpus, log and crash inputs stay in
# FUZZ_WORK (tests/fuzz/work), so a later run goes on from there.
#
#   run.sh SECONDS NAME...     (top_srcdir, FUZZ_BIN, FUZZ_WORK from make)
#
# Exit 1 if any harness crashed: replay its crash file with
# tests/fuzz/replay_NAME FILE (or FUZZ_BIN/fuzz_NAME FILE), fix the parser,
# and add the file to tests/fuzz/regress/NAME.
set -u
: "${top_srcdir:?}" "${FUZZ_BIN:?}" "${FUZZ_WORK:?}"
secs=$1
shift
src=$top_srcdir/tests/fuzz
crashed=0

mkdir -p "$FUZZ_WORK/crashes"
printf '%-10s %7s %12s %8s %6s %7s %7s %7s\n' harness seconds executions \
    exec/s cov ft corpus crashes
for t in "$@"; do
	corpus=$FUZZ_WORK/corpus/$t
	log=$FUZZ_WORK/$t.log
	mkdir -p "$corpus"
	cp "$src/corpus/$t"/* "$corpus/"
	[ -d "$src/regress/$t" ] && cp "$src/regress/$t"/* "$corpus/"
	case $t in
	guicfg) cp "$top_srcdir"/tests/conf/*.cfg "$corpus/" ;;
	hacfg) cp "$top_srcdir"/tests/conf/ha/*.cfg "$corpus/" ;;
	esac
	set --
	[ -f "$src/dict/$t.dict" ] && set -- "-dict=$src/dict/$t.dict"
	before=$(ls "$FUZZ_WORK/crashes" | grep -c "^$t-")
	start=$(date +%s)
	"$FUZZ_BIN/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 \
	    -timeout=10 -rss_limit_mb=2048 \
	    -artifact_prefix="$FUZZ_WORK/crashes/$t-" "$@" "$corpus" \
	    > "$log" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
	after=$(ls "$FUZZ_WORK/crashes" | grep -c "^$t-")
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	last=$(grep -E '^#[0-9]+' "$log" | grep ' cov: ' | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
	new=$((after - before))
	printf '%-10s %7s %12s %8s %6s %7s %7s %7s\n' "$t" "$took" \
	    "${execs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$new"
	if [ "$rc" -ne 0 ] || [ "$new" -gt 0 ]; then
		crashed=1
		echo "  $t: exit $rc; see $log and $FUZZ_WORK/crashes/$t-*"
	fi
done
exit $crashed
