#!/bin/sh
# account-sim.sh - the compromised-account simulation
# (tests/unit/account_sim_test.cpp) against a private redis-server: prints
# the messages each hijacked account got out before its lock and the
# normal accounts locked, and fails if either is over its bound.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
RAMPART_REDIS_TESTS=${RAMPART_ACCOUNT_SIM:-$here/../unit/rampart-account-sim}
export RAMPART_REDIS_TESTS
exec "$here/redis-tests.sh"
