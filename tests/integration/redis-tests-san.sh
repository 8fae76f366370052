#!/bin/sh
# redis-tests-san.sh - the Redis integration tests, built with sanitizers.
here=$(cd "$(dirname "$0")" && pwd)
RAMPART_REDIS_TESTS=${RAMPART_REDIS_TESTS:-$here/../unit/rampart-redis-tests}${RAMPART_SAN_SUFFIX:--san}
export RAMPART_REDIS_TESTS
exec "$here/redis-tests.sh"
