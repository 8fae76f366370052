#!/bin/sh
# cli.sh - the command lines that scripts and packages rely on:
# rampart-milter --check-config, --dump-config, --help, --version, bad
# flags; rampartctl usage errors. No Redis needed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
milter=${RAMPART_MILTER:-$here/../../milter/rampart-milter}
ctl=${RAMPARTCTL:-$here/../../ctl/rampartctl}
srcdir=${srcdir:-$here/../..}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT INT TERM
failures=0

# expect NAME WANT_STATUS GREP_PATTERN CMD...: runs CMD, checks its exit
# status and that its stdout+stderr contain GREP_PATTERN.
expect() {
    name=$1 want=$2 pattern=$3
    shift 3
    "$@" >"$dir/out" 2>&1
    got=$?
    if [ "$got" != "$want" ]; then
        echo "FAIL: $name: exit status got $got, want $want"; sed 's/^/    /' "$dir/out"
        failures=$((failures + 1))
    elif [ -n "$pattern" ] && ! grep -q -- "$pattern" "$dir/out"; then
        echo "FAIL: $name: output lacks \"$pattern\":"; sed 's/^/    /' "$dir/out"
        failures=$((failures + 1))
    else
        echo "ok: $name"
    fi
}

expect "shipped config is valid" 0 "configuration OK" "$milter" --check-config -c "$srcdir/etc/rampart.conf"

printf '[redis]\ntimeout_ms = "slow"\n\n[nosuch]\nx = 1\n' >"$dir/bad.conf"
expect "bad value: file:line" 1 "$dir/bad.conf:2: redis.timeout_ms must be an integer" \
    "$milter" --check-config -c "$dir/bad.conf"
expect "unknown section: file:line" 1 "$dir/bad.conf:4: unknown section" "$milter" --check-config -c "$dir/bad.conf"

head -c 3000 /dev/urandom >"$dir/garbage.conf"
expect "binary garbage is refused" 1 "garbage.conf" "$milter" --check-config -c "$dir/garbage.conf"
expect "missing file is refused" 1 "cannot open" "$milter" --check-config -c "$dir/none.conf"
expect "a bad config stops start-up" 1 "$dir/bad.conf:2:" "$milter" -f -c "$dir/bad.conf"

"$milter" --dump-config >"$dir/dump.conf"
expect "--dump-config is a valid config" 0 "configuration OK" "$milter" --check-config -c "$dir/dump.conf"
expect "--help" 0 "--check-config" "$milter" --help
expect "--version" 0 "rampart-milter " "$milter" --version
expect "unknown flag" 2 "usage:" "$milter" --frobnicate
expect "bad -p socket" 1 "inet:PORT@HOST" "$milter" -f -c "$dir/dump.conf" -p "tcp:25"

expect "rampartctl --help" 0 "list add" "$ctl" --help
expect "rampartctl unknown command" 2 "unknown command" "$ctl" -c "$dir/dump.conf" frob
expect "rampartctl bad list kind" 2 "expected ip, helo, from or rcpt" "$ctl" -c "$dir/dump.conf" list add block nets 1.2.3.4
expect "rampartctl bad address" 2 "not an IP address or CIDR" "$ctl" -c "$dir/dump.conf" list add block ip 300.1.2.3
expect "rampartctl bad config" 1 "bad.conf:2:" "$ctl" -c "$dir/bad.conf" list show
expect "rampartctl account needs a command" 2 "expected show LOGIN" "$ctl" -c "$dir/dump.conf" account
expect "rampartctl account list takes --locked only" 2 "expected show LOGIN" "$ctl" -c "$dir/dump.conf" account list --all
expect "rampartctl account show needs a login" 2 "expected show LOGIN" "$ctl" -c "$dir/dump.conf" account show
expect "rampartctl outbreak needs a command" 2 "expected list, show FINGERPRINT" "$ctl" -c "$dir/dump.conf" outbreak
expect "rampartctl outbreak show needs a fingerprint" 2 "not a fingerprint" "$ctl" -c "$dir/dump.conf" outbreak show text:xyz
expect "rampartctl stats --node needs a name" 2 "expected --node NODE or --json" "$ctl" -c "$dir/dump.conf" stats --node
expect "rampartctl stats takes no other argument" 2 "expected --node NODE or --json" "$ctl" -c "$dir/dump.conf" stats hour

printf '[redis]\nservers = ["127.0.0.1:1"]\nconnect_timeout_ms = 100\n' >"$dir/dead.conf"
expect "rampartctl with Redis down" 1 "Redis" "$ctl" -c "$dir/dead.conf" list show

[ "$failures" = 0 ] || { echo "$failures check(s) failed"; exit 1; }
echo "all checks passed"
