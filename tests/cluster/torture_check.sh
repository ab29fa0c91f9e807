#!/bin/sh
# torture_check.sh — the short fixed-seed fault suite: a sync pair in
# network namespaces, 6 kills (-9, of hasvr and guisvr, then a restart) of
# either node from seed 11, four writers; fails on any acknowledged write
# lost, writes acknowledged by two primaries at once, nodes that do not
# converge, or a crash nobody caused — the fault class where sync mode
# promises no loss (README, "The fault suite"). Pauses are left out: a
# primary whose daemons were stopped longer than deadInterval acknowledges
# writes alone for a moment after it resumes, before it learns it was
# deposed (see the README). The full suite is make torture.
# Skipped (77) without root or network namespaces.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
TORTURE_SEED=${TORTURE_SEED:-11}
TORTURE_FAULTS=${TORTURE_FAULTS:-6}
TORTURE_KINDS=${TORTURE_KINDS:-kill9}
TORTURE_MIN=${TORTURE_MIN:-1}
TORTURE_MAX=${TORTURE_MAX:-3}
TORTURE_ASSERT=${TORTURE_ASSERT:-lost dualwrite converge unexpected}
export TORTURE_SEED TORTURE_FAULTS TORTURE_KINDS TORTURE_MIN TORTURE_MAX \
    TORTURE_ASSERT
exec sh "$top_srcdir/tests/cluster/torture.sh" sync
