#!/bin/sh
# torture_check.sh — the short fixed-seed fault suite: a sync pair in
# network namespaces, 8 faults from seed 11 — kills (-9, of hasvr and
# guisvr, then a restart) and pauses (SIGSTOP longer than deadInterval,
# then SIGCONT) of either node — four writers; fails on any acknowledged
# write lost, writes acknowledged by two primaries at once, nodes that do
# not converge, or a crash nobody caused: the fault classes where sync
# mode promises no loss (README, "The fault suite"). Partitions are left
# out: two nodes alone cannot tell a dead peer from a cut link, and sync
# mode loses writes under them by design. The full suite is make torture.
# Skipped (77) without root or network namespaces.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
TORTURE_SEED=${TORTURE_SEED:-11}
TORTURE_FAULTS=${TORTURE_FAULTS:-8}
TORTURE_KINDS=${TORTURE_KINDS:-kill9 pause}
TORTURE_MIN=${TORTURE_MIN:-1}
TORTURE_MAX=${TORTURE_MAX:-3}
TORTURE_ASSERT=${TORTURE_ASSERT:-lost dualwrite converge unexpected}
export TORTURE_SEED TORTURE_FAULTS TORTURE_KINDS TORTURE_MIN TORTURE_MAX \
    TORTURE_ASSERT
exec sh "$top_srcdir/tests/cluster/torture.sh" sync
