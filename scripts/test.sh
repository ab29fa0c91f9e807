#!/bin/sh
# test.sh — install what is needed, build under AddressSanitizer and run the
# whole test suite (unit + integration with real daemons), then the release
# checks (make distcheck) unless QUICK=1.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
export BUILD_DIR=${BUILD_DIR:-$top/build-asan}
sh "$top/scripts/setup.sh" --enable-asan
cd "$BUILD_DIR"
# leak checks stay on; Berkeley DB's own allocations at exit are not ours
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
summary() {
	# one plain closing line for any CI reader: "tests: N passed, N failed, N skipped"
	l=tests/unit/unit_tests.log
	p=0; f=0; s=0
	for t in tests/unit/*.trs tests/lint/*.trs tests/cluster/*.trs tests/integ/*.trs; do
		[ -f "$t" ] || continue
		case "$(sed -n 's/^:test-result: //p' "$t")" in
		PASS|XFAIL) p=$((p+1));; SKIP) s=$((s+1));; *) f=$((f+1));;
		esac
	done
	echo "tests: $p passed, $f failed, $s skipped"
}
if ! make -j2 check; then
	for f in tests/unit/*.log tests/lint/*.log tests/cluster/*.log tests/integ/*.log; do
		[ -f "$f" ] || continue
		grep -q '^:test-result: \(FAIL\|ERROR\)' "${f%.log}.trs" 2>/dev/null || continue
		echo "===== $f"; tail -n 60 "$f"
	done
	summary
	exit 1
fi
grep -E "^(Run Summary|  *(suites|tests|asserts))" tests/unit/unit_tests.log || true
summary
if [ "${QUICK:-0}" != 1 ]; then
	BUILD_DIR=$top/build sh "$top/scripts/setup.sh"
	cd "$top/build" && make -j2 distcheck
fi
echo "test: all checks passed"
