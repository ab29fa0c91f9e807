#!/bin/sh
# ha_pair — a pair, sync mode, 10 rounds of kill -9 under writes: the
# primary, the secondary, or both at once and a start in another order.
# No acknowledged write may be lost, both nodes must reach in-sync after
# each round, and the two never answer PRIMARY at once (see rounds.sh).
# ROUNDS=N overrides the count.
. "$top_srcdir/tests/integ/lib.sh"
. "$top_srcdir/tests/integ/rounds.sh"
test_init ha_pair
ha_init
rounds_setup a:127.0.0.1 b:127.0.0.2
rounds_run "${ROUNDS:-10}"
echo ok
