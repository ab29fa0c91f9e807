#!/bin/sh
# ha_three — three real nodes (a primary, b secondary, c a replica from
# highAvail.replicaAddrs), sync mode, 10 rounds of kill -9 under writes:
# the primary, a secondary, or every node at once and a start in another
# order. No acknowledged write may be lost, every node must reach in-sync
# after each round, and two nodes never answer PRIMARY at once (see
# rounds.sh). ROUNDS=N overrides the count.
. "$top_srcdir/tests/integ/lib.sh"
. "$top_srcdir/tests/integ/rounds.sh"
test_init ha_three
ha_init
HA_REPLICAS=127.0.0.3
rounds_setup a:127.0.0.1 b:127.0.0.2 c:127.0.0.3
rounds_run "${ROUNDS:-10}"
echo ok
