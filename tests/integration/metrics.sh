#!/bin/bash
#
# NAME
#	metrics.sh - the Prometheus endpoint and rampartctl stats, after real mail
# DESCRIPTION
#	Two rampart-milter daemons (nodes node-a and node-b, stats.flush_s =
#	1) share a private redis-server; node-a also serves metrics.listen.
#	milterclient.py plays the MTAs: two clean messages and GTUBE go to
#	node-a, one clean message to node-b. Then:
#	  - GET /metrics on node-a shows rampart_messages_total grown by what
#	    node-a decided (clean/accept by 2, confirmed-spam/reject by 1),
#	    RAMPART_GTUBE's hit, the end-of-message steps timed and the gtube
#	    check timed; any other path is 404, a request past 8192 bytes 400;
#	  - rampartctl stats --json, once both nodes have flushed, shows the
#	    fleet's counts as the sum of the nodes' (3 clean/accept in the
#	    last hour), each node's own, both alive with their breakers
#	    closed; the table and --node say the same in words;
#	  - rampartctl stats with a bad argument is a usage error (2).
#	Exit 77 (skip) when python3, redis-server or redis-cli is missing.
# ENVIRONMENT
#	RAMPART_MILTER, RAMPARTCTL as for lib.sh; RAMPART_TEST_KEEP=1 keeps
#	the state directory.
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null 2>&1 || rt_skip "python3 not installed"
for tool in redis-server redis-cli; do
	command -v "$tool" >/dev/null 2>&1 || rt_skip "$tool not installed (see scripts/install-deps)"
done
rt_find_binaries
rt_init

RT_REDIS_PORT=$(rt_free_port)
RT_MILTER_PORT=$(rt_free_port)
port_b=$(rt_free_port)
metrics_port=$(rt_free_port)
conf_a="$RT_DIR/rampart-a.conf"
conf_b="$RT_DIR/rampart-b.conf"

rt_start_redis "$RT_REDIS_PORT" || rt_hard_error "cannot start redis-server"
rt_write_config "$conf_a"
cat >>"$conf_a" <<EOF

[stats]
flush_s = 1
node = "node-a"

[metrics]
listen = "127.0.0.1:$metrics_port"
EOF
sed -e "s/inet:$RT_MILTER_PORT@/inet:$port_b@/" -e 's/^node = "node-a"/node = "node-b"/' \
	-e 's/^listen = .*/listen = ""/' "$conf_a" >"$conf_b"
rt_start_milter "$conf_a" || rt_hard_error "rampart-milter (node-a) does not start"
"$RAMPART_MILTER" -c "$conf_b" -f </dev/null >>"$RT_DIR/milter-b.log" 2>&1 &
pid_b=$!
rt_record_pid rampart-milter "$pid_b"
stop_b() { rt_kill "$pid_b"; }
trap 'stop_b; rt_teardown' EXIT
rt_wait_port "$port_b" "$pid_b" "rampart-milter (node-b)" "$RT_DIR/milter-b.log" ||
	rt_hard_error "rampart-milter (node-b) does not start"
rt_wait_port "$metrics_port" "$RT_MILTER_PID" "the metrics endpoint" "$RT_DIR/milter.log" ||
	rt_hard_error "node-a's metrics endpoint does not listen"

# fetch PATH: the endpoint's status line and body, "STATUS\nBODY".
fetch() {
	python3 - "$metrics_port" "$1" <<'PYTHON'
import sys
import urllib.error
import urllib.request

try:
    with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}{sys.argv[2]}", timeout=10) as r:
        print(r.status)
        print(r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code)
PYTHON
}

# sample PAGE SERIES: the value of one series in a page, 0 when absent.
sample() {
	printf '%s\n' "$1" | awk -v s="$2" '$1 == s { v = $2 } END { print v + 0 }'
}

before=$(fetch /metrics)
rt_check "GET /metrics answers 200" "$(printf '%s\n' "$before" | sed -n 1p)" 200

cat >"$RT_DIR/send.py" <<'PYTHON'
import os
import sys

import milterclient as mc

NODES = {"a": int(sys.argv[1]), "b": int(sys.argv[2])}
MESSAGES = os.environ["RT_MESSAGES"]


def send(node, ip, message, qid):
    with open(os.path.join(MESSAGES, message), "rb") as f:
        h, b = mc.parse_message(f.read())
    s = mc.Session.open("127.0.0.1", NODES[node], 20.0)
    r = s.begin(ip)
    if not r.proceeds:
        print(f"{qid} connect: {r}", flush=True)
        return
    t = s.send_message("<alice@sender.example>", ["<bob@rcpt.example>"], h, b, qid)
    print(f"{qid} {'accepted' if t.accepted else t}", flush=True)
    s.quit()


send("a", "192.0.2.31", "clean.eml", "4STATSA1")
send("a", "192.0.2.32", "clean.eml", "4STATSA2")
send("a", "192.0.2.33", "gtube.eml", "4STATSA3")
send("b", "192.0.2.34", "clean.eml", "4STATSB1")
PYTHON
outcomes=$(RT_MESSAGES="$RT_MESSAGES" PYTHONPATH="$RT_LIB_DIR" python3 "$RT_DIR/send.py" "$RT_MILTER_PORT" "$port_b")
rt_check_match "the clean messages are accepted" "$(printf '%s\n' "$outcomes" | grep -c '^4STATS[AB][12] accepted$')" '^3$'
rt_check_match "GTUBE is rejected" "$(printf '%s\n' "$outcomes" | grep '^4STATSA3 ')" '^4STATSA3 eom: .*550'

after=$(fetch /metrics)
grown() { echo $(($(sample "$after" "$1") - $(sample "$before" "$1"))); }
rt_check "rampart_messages_total clean/accept grew by node-a's two" \
	"$(grown 'rampart_messages_total{category="clean",action="accept"}')" 2
rt_check "rampart_messages_total confirmed-spam/reject grew by one" \
	"$(grown 'rampart_messages_total{category="confirmed-spam",action="reject"}')" 1
rt_check "RAMPART_GTUBE's hit is counted" "$(grown 'rampart_symbol_hits_total{symbol="RAMPART_GTUBE"}')" 1
rt_check "each end of message is timed" "$(grown 'rampart_phase_seconds_count{phase="eom"}')" 3
rt_check_match "the gtube check is timed" "$(sample "$after" 'rampart_check_seconds_count{check="gtube"}')" '^[1-9]'
rt_check "the breaker is closed" "$(sample "$after" rampart_redis_breaker_open)" 0
rt_check_match "Redis round trips are counted" "$(sample "$after" rampart_redis_round_trips_total)" '^[1-9]'
rt_check "another path is 404" "$(fetch / | sed -n 1p)" 404
oversized=$(python3 - "$metrics_port" <<'PYTHON'
import socket
import sys

s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
try:
    s.sendall(b"GET /metrics HTTP/1.0\r\nX-Pad: " + b"a" * 9000)
except OSError as e:  # the server gave up reading: its answer may still be there
    print(f"send: {e}", file=sys.stderr)
print(s.recv(100).split(b"\r\n")[0].decode())
PYTHON
)
rt_check "a request past 8192 bytes is refused" "$oversized" "HTTP/1.0 400 Bad Request"
rt_check "the endpoint still serves after it" "$(fetch /metrics | sed -n 1p)" 200

# Both nodes flush every second; wait until the fleet holds all four.
json_field() {
	python3 -c 'import json, sys
r = json.load(sys.stdin)
print(eval(sys.argv[1], {"r": r, "node": lambda n: [x for x in r["nodes"] if x["node"] == n][0]}))' "$1"
}
i=0
while :; do
	json=$(rt_ctl stats --json 2>&1 || true)
	n=$(printf '%s' "$json" | json_field 'sum(c[1] for c in r["fleet"]["messages"].values())' 2>/dev/null || echo 0)
	[ "$n" -ge 4 ] && break
	i=$((i + 1))
	if [ $i -gt 100 ]; then
		rt_fail "the counts did not reach Redis in time: $json"
		break
	fi
	sleep 0.2
done
rt_check "fleet: clean/accept in the last hour is the nodes' sum" \
	"$(printf '%s' "$json" | json_field 'r["fleet"]["messages"]["clean/accept"][1]')" 3
rt_check "fleet: confirmed-spam/reject in the last hour" \
	"$(printf '%s' "$json" | json_field 'r["fleet"]["messages"]["confirmed-spam/reject"][1]')" 1
rt_check "fleet: RAMPART_GTUBE in the last day" \
	"$(printf '%s' "$json" | json_field 'r["fleet"]["symbols"]["RAMPART_GTUBE"][2]')" 1
rt_check "node-a's own clean/accept" "$(printf '%s' "$json" | json_field 'node("node-a")["messages"]["clean/accept"][1]')" 2
rt_check "node-b's own clean/accept" "$(printf '%s' "$json" | json_field 'node("node-b")["messages"]["clean/accept"][1]')" 1
rt_check "both nodes alive, breakers closed" \
	"$(printf '%s' "$json" | json_field '[(x["node"], x["alive"], x["breaker"]) for x in r["nodes"]]')" \
	"[('node-a', True, 'closed'), ('node-b', True, 'closed')]"

table=$(rt_ctl stats 2>&1 || true)
rt_check_match "the table lists node-a as up" "$table" '^  node-a +up, breaker closed, flushed [0-9]+ s ago \(every 1 s\)'
rt_check_match "the table sums clean/accept" "$table" '^  clean/accept +[0-9]+ +3 +3 +3$'
rt_check_match "--node shows one node" "$(rt_ctl stats --node node-b 2>&1 | sed -n 1p)" '^node node-b: up, breaker closed'
set +e
rt_ctl stats --frob >"$RT_DIR/usage.out" 2>&1
status=$?
set -e
rt_check "rampartctl stats with a bad argument is a usage error" "$status" 2

rt_finish
