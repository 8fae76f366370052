#!/bin/sh
# dns-tests.sh - runs the DNS tests (tests/unit/dns_test.cpp: the resolver,
# its cache and failures, and the checks that lean on DNS) against a private
# DNS server (tests/dns/testdns.py) on a free loopback port, serving
# tests/dns/test.zone, and a private redis-server for dns.fleet_cache.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
tests=${RAMPART_DNS_TESTS:-$here/../unit/rampart-dns-tests}
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP: python3 not installed (Debian: python3), the test DNS server needs it"
    exit 77
fi
redis=${REDIS_SERVER:-$(command -v redis-server || echo /usr/bin/redis-server)}
if [ ! -x "$redis" ]; then
    echo "SKIP: redis-server not installed (Debian: redis-server)"
    exit 77
fi

dir=$(mktemp -d)
pid=""
redis_pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM

# A port free for both TCP and UDP: let the kernel pick one.
port=$(python3 -c '
import socket
while True:
    t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
')
python3 "$here/../dns/testdns.py" --port "$port" --log "$dir/queries.log" "$here/../dns/test.zone" \
    >"$dir/server.log" 2>&1 &
pid=$!
# Ready when it answers a query (the probe's own query is in the log).
i=0
until python3 -c '
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.2)
s.sendto(struct.pack("!HHHHHH", 1, 0x100, 1, 0, 0, 0) + b"\x05probe\x04test\x00" + struct.pack("!HH", 1, 1),
         ("127.0.0.1", int(sys.argv[1])))
s.recv(512)' "$port" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 100 ]; then
        echo "FAIL: the test DNS server did not start on port $port"
        cat "$dir/server.log"
        exit 1
    fi
    sleep 0.05
done

redis_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$redis" --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" \
    --logfile "$dir/redis.log" >/dev/null 2>&1 &
redis_pid=$!
i=0
until "${REDIS_CLI:-redis-cli}" -p "$redis_port" ping >/dev/null 2>&1; do
    i=$((i + 1))
    if [ $i -gt 100 ]; then
        echo "FAIL: redis-server did not start on port $redis_port"
        cat "$dir/redis.log"
        exit 1
    fi
    sleep 0.05
done

DNS_PORT=$port DNS_LOG="$dir/queries.log" REDIS_PORT=$redis_port "$tests"
