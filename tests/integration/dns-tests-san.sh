#!/bin/sh
# dns-tests-san.sh - the DNS integration tests, built with sanitizers.
here=$(cd "$(dirname "$0")" && pwd)
RAMPART_DNS_TESTS=${RAMPART_DNS_TESTS:-$here/../unit/rampart-dns-tests}${RAMPART_SAN_SUFFIX:--san}
export RAMPART_DNS_TESTS
exec "$here/dns-tests.sh"
