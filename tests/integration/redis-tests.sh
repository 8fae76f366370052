#!/bin/sh
# redis-tests.sh - runs the Redis integration tests (tests/unit/redis_test.cpp)
# against a private redis-server on a free loopback port, nothing persisted.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
tests=${RAMPART_REDIS_TESTS:-$here/../unit/rampart-redis-tests}
redis=${REDIS_SERVER:-$(command -v redis-server || echo /usr/bin/redis-server)}
if [ ! -x "$redis" ]; then
    echo "SKIP: redis-server not installed (Debian: redis-server)"
    exit 77
fi

dir=$(mktemp -d)
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM

# A free port: let the kernel pick one, then hand it to Redis.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
       echo $((20000 + $$ % 20000)))
"$redis" --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" \
    --logfile "$dir/redis.log" >/dev/null 2>&1 &
pid=$!
i=0
until "${REDIS_CLI:-redis-cli}" -p "$port" ping >/dev/null 2>&1; do
    i=$((i + 1))
    if [ $i -gt 100 ]; then
        echo "FAIL: redis-server did not start on port $port"
        cat "$dir/redis.log"
        exit 1
    fi
    sleep 0.05
done

REDIS_PORT=$port "$tests"
