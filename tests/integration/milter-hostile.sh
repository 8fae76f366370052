#!/bin/bash
#
# NAME
#	milter-hostile.sh - rampart-milter against a broken or hostile MTA
# DESCRIPTION
#	Speaks the milter protocol to rampart-milter directly, with
#	milterclient.py in the MTA's place, so that it can send what no sane
#	MTA sends. rampart-milter runs in the foreground against a private
#	redis-server, both on free loopback ports.
#
#	First the ordinary verdicts, seen on the wire:
#	  - a clean message is accepted and gets "X-Spam-Status: No, ...";
#	  - GTUBE split across two body chunks is rejected 550 5.7.1;
#	  - forged copies of X-Spam-Status, X-Spam-Score and X-Rampart-*
#	    sent in by the client are deleted (chgheader, highest index of a
#	    name first).
#
#	Then hostile input, one scenario at a time (see the table below).
#	What the filter answers to each is shown, and checked where the
#	input is valid protocol; the real assertion after every scenario is
#	that the daemon is still running and still accepts a fresh, normal
#	message. A daemon that died is reported (exit status, log) and
#	restarted, so that one run reports every scenario that kills it.
#
#	Last, Redis is killed: with redis.on_failure = tempfail a message is
#	tempfailed (at connect, MAIL or end of message); and SIGTERM, with a
#	connection still open, stops the daemon within
#	milter.shutdown_timeout_ms plus a margin, exit status 0.
#
#	Every failed assertion prints got/want; the test carries on and exits
#	1 if any failed. Exit 77 (skip) when python3, redis-server or
#	redis-cli is missing.
# ENVIRONMENT
#	RAMPART_MILTER, RAMPARTCTL as for lib.sh; RAMPART_TEST_KEEP=1 keeps
#	the state directory (logs, config) for a post-mortem.
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null 2>&1 || rt_skip "python3 not installed"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 6))' ||
	rt_skip "python3 3.6 or later is needed"
for tool in redis-server redis-cli; do
	command -v "$tool" >/dev/null 2>&1 ||
		rt_skip "$tool not installed (see scripts/install-deps)"
done
rt_find_binaries
rt_init

# The SIGTERM check has a client hold a connection open; it is stopped
# before lib.sh's teardown, which must still see the exit status (hence
# set +e: "(exit N)" is there only to set $? for it).
HOLD_PID=""
stop_holder() {
	[ -n "$HOLD_PID" ] || return 0
	kill "$HOLD_PID" 2>/dev/null || true
	wait "$HOLD_PID" 2>/dev/null || true
	HOLD_PID=""
}
on_exit() {
	local status=$?
	set +e
	stop_holder
	(exit "$status")
	rt_teardown
}
trap on_exit EXIT

# free_port: like rt_free_port, but outside the kernel's range for the
# local ports of outgoing connections: a port that a client connection (or
# its TIME_WAIT) holds cannot be bound, and a busy machine holds thousands.
free_port() {
	local lo=32768 hi=60999 port tries=0
	read -r lo hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
	while [ $tries -lt 500 ]; do
		tries=$((tries + 1))
		port=$((10000 + (RANDOM * 32768 + RANDOM) % 55000))
		[ "$port" -ge "$lo" ] && [ "$port" -le "$hi" ] && continue
		grep -qx "$port" "$RT_DIR/ports" && continue
		rt_port_open "$port" && continue
		echo "$port" >>"$RT_DIR/ports"
		echo "$port"
		return 0
	done
	rt_hard_error "no free TCP port found"
}

RT_REDIS_PORT=$(free_port)
RT_MILTER_PORT=$(free_port)
SHUTDOWN_MS=3000
SHUTDOWN_MARGIN_MS=2000
conf="$RT_DIR/rampart.conf"

# Rate limits far above what the test sends (every scenario is followed by
# a fresh message from the same client), so that only hostility is tested.
cat >"$conf" <<EOF
# rampart configuration for the hostile-MTA test.
[milter]
timeout_s = 30
shutdown_timeout_ms = $SHUTDOWN_MS

[log]
level = "${RAMPART_TEST_LOG_LEVEL:-info}"

[redis]
servers = ["127.0.0.1:$RT_REDIS_PORT"]
timeout_ms = 250
on_failure = "tempfail"  # also the default

[ratelimit]
ip_connections = "100000/1m"
ip_connections_burst = 100000
net_connections = "100000/1m"
net_connections_burst = 100000
ip_messages = "100000/1m"
ip_messages_burst = 100000
net_messages = "100000/1m"
net_messages_burst = 100000
sender_messages = "100000/1m"
sender_messages_burst = 100000
EOF

# start_milter: the daemon in the foreground, its stderr appended to
# milter.log, listening where -p says (not where the config says).
start_milter() {
	if ! "$RAMPART_MILTER" -c "$conf" --check-config >>"$RT_DIR/milter.log" 2>&1; then
		tail -n 20 "$RT_DIR/milter.log" | sed 's/^/    /'
		rt_hard_error "rampart-milter --check-config rejects $conf"
	fi
	"$RAMPART_MILTER" -c "$conf" -f -p "inet:$RT_MILTER_PORT@127.0.0.1" \
		</dev/null >>"$RT_DIR/milter.log" 2>&1 &
	RT_MILTER_PID=$!
	rt_record_pid rampart-milter "$RT_MILTER_PID"
	rt_wait_port "$RT_MILTER_PORT" "$RT_MILTER_PID" rampart-milter \
		"$RT_DIR/milter.log" || rt_hard_error "rampart-milter does not start"
}

# milter_alive: running, and not a zombie waiting to be reaped.
milter_alive() {
	rt_milter_alive || return 1
	local state
	state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$RT_MILTER_PID/status" 2>/dev/null || true)
	[ "$state" != Z ]
}

# The scenarios, in Python on top of milterclient.py. Each prints
# "key=value" lines; "result" says how the message ended: "accepted
# X-Spam-Status: VALUE", "STAGE: REPLY", or "ERROR after 'C': what".
cat >"$RT_DIR/scenarios.py" <<'PYTHON'
import os
import socket
import struct
import sys
import time

import milterclient as mc

PORT = int(sys.argv[1])
MESSAGES = os.environ["RT_MESSAGES"]
GTUBE = b"XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
SENDER = "<alice@sender.example>"
RCPTS = ["<bob@rcpt.example>"]
sessions = []


def say(key, value):
    print(f"{key}={value}", flush=True)


def load(name):
    with open(os.path.join(MESSAGES, name), "rb") as f:
        return mc.parse_message(f.read())


def session(timeout=10.0):
    s = mc.Session.open("127.0.0.1", PORT, timeout)
    sessions.append(s)
    return s


def begin(s, ip="192.0.2.10", **kw):
    """Negotiate, connect, HELO; "" when the filter lets the client go on,
    else "STAGE: REPLY"."""
    r = s.begin(ip, **kw)
    return "" if r.proceeds else f"connect/helo: {r}"


def outcome(t):
    if t.accepted:
        xss = t.eom.added("X-Spam-Status")
        return "accepted X-Spam-Status: " + (" | ".join(xss) if xss else "(none)")
    return str(t)


def deliver(message="clean.eml", ip="192.0.2.10", begin_kw=None, sender=SENDER,
            headers=None, body=None, qid="4HOST1"):
    """One message on a fresh connection, as an MTA sends it."""
    h, b = load(message)
    s = session()
    stop = begin(s, ip, **(begin_kw or {}))
    if stop:
        return stop
    t = s.send_message(sender, RCPTS, h if headers is None else headers,
                       b if body is None else body, qid)
    s.quit()
    return outcome(t)


# -- ordinary verdicts ------------------------------------------------------

def clean():
    h, b = load("clean.eml")
    s = session()
    stop = begin(s)
    if stop:
        return stop
    t = s.send_message(SENDER, RCPTS, h, b, "4CLEAN1")
    say("final", t.reply)
    say("xss", " | ".join(t.eom.added("X-Spam-Status")) if t.eom else "(no end of message)")
    say("protocol", mc.flag_names(s.protocol, mc.PROTOCOL_FLAG_NAMES))
    say("unsolicited", " ".join(str(u) for u in s.unsolicited) or "none")
    s.quit()
    return outcome(t)


def gtube_split():
    h, b = load("gtube.eml")
    cut = b.index(GTUBE) + len(GTUBE) // 2
    s = session()
    stop = begin(s, "192.0.2.20")
    if stop:
        return stop
    t = s.send_message(SENDER, RCPTS, h, [b[:cut], b[cut:]], "4GTUBE1")
    say("final", t.reply)
    say("chunks", s.body_chunks_sent)
    s.quit()
    return outcome(t)


def forged():
    h, b = load("forged-headers.eml")
    s = session()
    stop = begin(s)
    if stop:
        return stop
    t = s.send_message(SENDER, RCPTS, h, b, "4FORGE1")
    if t.eom:
        deleted = t.eom.deleted_headers()
        say("deleted", " ".join(sorted(f"{n.lower()}#{i}" for n, i in deleted)))
        say("xss_delete_order", " ".join(str(i) for n, i in deleted if n.lower() == "x-spam-status"))
        say("xss_added", len(t.eom.added("X-Spam-Status")))
    s.quit()
    return outcome(t)


# -- hostile input ----------------------------------------------------------

def huge_header_value():
    h, b = load("clean.eml")
    return deliver(headers=h + [("X-Huge", b"v" * (1024 * 1024))])


def huge_header_name():
    h, b = load("clean.eml")
    return deliver(headers=h + [(b"X-" + b"n" * (100 * 1024), "value")])


def subject_64k():
    # Just under libmilter's 64 KB packet limit: this one reaches rampart.
    h, b = load("clean.eml")
    return deliver(headers=[(n, v) for n, v in h if n.lower() != b"subject"] + [("Subject", b"S" * 65000)])


def nul_bytes():
    h, b = load("clean.eml")
    h = h + [("X-Nul", b"before\0after"), ("X-Only-Nul", b"\0"), ("Subject", b"\0\0\0")]
    return deliver(headers=h, body=b"line with a \0 in it\r\n\0\0\0\r\n" + b)


def many_headers():
    h, b = load("clean.eml")
    filler = [(f"X-Filler-{i}", f"value {i}") for i in range(20000)]
    s = session()
    stop = begin(s)
    if stop:
        return stop
    t = s.send_message(SENDER, RCPTS, h + filler + [("X-Spam-Status", "No, score=-99 forged after the filler")],
                       b, "4MANY1")
    if t.eom:
        say("late_forged_deleted", " ".join(f"{n}#{i}" for n, i in t.eom.deleted_headers()) or "nothing deleted")
    s.quit()
    return outcome(t)


def no_macros():
    return deliver(begin_kw={"macros": False}, qid=None)


def family_unknown():
    return deliver(ip="", begin_kw={"family": mc.FAMILY_UNKNOWN, "hostname": "localhost"})


def family_inet6():
    return deliver(ip="2001:db8::25")


def bad_address():
    s = session()
    s.negotiate()
    r = s.connect("client.example", mc.FAMILY_INET, "not-an-address", 25)
    if not r.proceeds:
        return f"connect: {r}"
    r = s.helo("client.example")
    return f"helo: {r}"


def null_sender():
    return deliver(sender="<>")


def long_helo_and_sender():
    return deliver(begin_kw={"helo": "h" * 60000}, sender="<" + "a" * 60000 + "@sender.example>")


def rcpt_before_mail():
    h, b = load("clean.eml")
    s = session()
    stop = begin(s)
    if stop:
        return stop
    s.set_timeout(2)
    try:
        early = str(s.rcpt("<early@rcpt.example>"))
    except mc.FilterTimeout:
        early = "no reply within 2s"
    s.set_timeout(10)
    say("early_rcpt", early)
    t = s.send_message(SENDER, RCPTS, h, b, "4EARLY1")
    s.quit()
    return outcome(t)


def eom_no_headers():
    s = session()
    stop = begin(s)
    if stop:
        return stop
    for step, r in (("mail", s.mail(SENDER, macros={"i": "4BARE1"})), ("rcpt", s.rcpt(RCPTS[0]))):
        if not r.proceeds:
            return f"{step}: {r}"
    t = mc.Transaction()
    t.stage, t.eom = "eom", s.eom(macros={"i": "4BARE1"})
    t.reply = t.eom.reply
    s.quit()
    return outcome(t)


def abort_mid_body():
    h, b = load("clean.eml")
    s = session()
    stop = begin(s)
    if stop:
        return stop
    for step, r in (("mail", s.mail(SENDER)), ("rcpt", s.rcpt(RCPTS[0]))):
        if not r.proceeds:
            return f"{step}: {r}"
    for n, v in h:
        s.header(n, v)
    s.eoh()
    s.body(b[: len(b) // 2])
    s.abort()
    t = s.send_message(SENDER, RCPTS, h, b, "4AFTER1")
    if t.eom:
        say("xss_added", len(t.eom.added("X-Spam-Status")))
    s.quit()
    return outcome(t)


def in_transaction():
    """A session that has sent MAIL, RCPT and one header."""
    s = session()
    stop = begin(s)
    if stop:
        raise mc.MilterError(stop)
    s.mail(SENDER)
    s.rcpt(RCPTS[0])
    s.header("Subject", "hello")
    return s


def after_raw(s, wait=1.0):
    """What the filter does after a malformed packet: its next packet, or
    that it closed the connection, or nothing."""
    s.set_timeout(wait)
    try:
        return f"replied {mc.Reply(*s.read_packet())}"
    except mc.FilterClosed:
        return "closed the connection"
    except mc.FilterTimeout:
        return f"said nothing for {wait}s"


def short_packet():
    s = in_transaction()
    s.send_raw(struct.pack("!I", 1000) + b"L" + b"X-Short\0v")
    s.set_timeout(0.5)
    try:
        seen = f"replied {mc.Reply(*s.read_packet())}"
    except mc.FilterTimeout:
        seen = "waited for the rest"
    except mc.FilterClosed:
        seen = "closed the connection"
    s.close()
    return f"10 of 1000 claimed bytes sent, then closed; the filter {seen}"


def zero_length():
    s = in_transaction()
    s.send_raw(struct.pack("!I", 0) + b"Lsome bytes\0")
    return f"length 0: the filter {after_raw(s)}"


def huge_length():
    s = in_transaction()
    s.send_raw(struct.pack("!I", 0xFFFFFFFF) + b"L" + b"x" * 64)
    return f"length 0xffffffff: the filter {after_raw(s)}"


def garbage_command():
    seen = []
    for cmd, data in ((b"Z", b"garbage\0"), (b"\xff", b""), (b"\0", b"\0\0")):
        s = in_transaction()
        s.send_packet(cmd, data)
        seen.append(f"{cmd!r}: {after_raw(s)}")
        s.close()
    return "; ".join(seen)


def abrupt_connections():
    socks = []
    for i in range(200):
        kind = i % 4
        if kind == 0:
            socks.append(socket.create_connection(("127.0.0.1", PORT), timeout=10))
            continue
        s = session()
        if kind == 1:
            s.send_raw(struct.pack("!I", 13) + b"O\0\0")  # half an OPTNEG
        elif kind == 2:
            s.negotiate()
        else:
            s.begin("192.0.2.30")
            s.mail(SENDER)
            s.rcpt(RCPTS[0])
            s.header("Subject", "cut off")
            s.eoh()
            s.body(b"half a bo")
        socks.append(s.sock)
    for i, sock in enumerate(socks):
        if i % 2 == 0:  # RST
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    return "200 connections opened, then closed (half reset) at OPTNEG, mid-negotiation, idle and mid-body"


# -- Redis down, shutdown -----------------------------------------------------

def redis_down():
    h, b = load("clean.eml")
    s = session()
    s.negotiate()
    steps = (("connect", lambda: s.connect("client.example", mc.FAMILY_INET, "192.0.2.40", 25,
                                           macros={"{client_addr}": "192.0.2.40"})),
             ("helo", lambda: s.helo("client.example")))
    for step, f in steps:
        r = f()
        if not r.proceeds:
            return f"{step}: {r}"
    t = s.send_message(SENDER, RCPTS, h, b, "4REDIS1")
    s.quit()
    return outcome(t)


def hold():
    """Keep a connection open until the filter closes it. Redis is down by
    now: whatever connect is answered, the connection stays."""
    s = session()
    s.negotiate()
    say("connect", s.connect("client.example", mc.FAMILY_INET, "192.0.2.50", 25))
    say("ready", 1)
    s.set_timeout(60)
    try:
        s.read_packet()
        say("held", "the filter sent something")
    except mc.FilterClosed:
        say("held", "the filter closed the connection")
    except mc.FilterTimeout:
        say("held", "still open after 60s")
    return "released"


SCENARIOS = {
    "clean": clean, "fresh": clean, "gtube-split": gtube_split, "forged": forged,
    "huge-header-value": huge_header_value, "huge-header-name": huge_header_name,
    "subject-64k": subject_64k, "nul-bytes": nul_bytes, "many-headers": many_headers,
    "no-macros": no_macros, "family-unknown": family_unknown, "family-inet6": family_inet6,
    "bad-address": bad_address, "null-sender": null_sender,
    "long-helo-sender": long_helo_and_sender, "rcpt-before-mail": rcpt_before_mail,
    "eom-no-headers": eom_no_headers, "abort-mid-body": abort_mid_body,
    "short-packet": short_packet, "zero-length": zero_length, "huge-length": huge_length,
    "garbage-command": garbage_command, "abrupt-connections": abrupt_connections,
    "redis-down": redis_down, "hold": hold,
}

try:
    result = SCENARIOS[sys.argv[2]]()
except (mc.MilterError, OSError) as e:
    last = sessions[-1].last_command if sessions else ""
    result = f"ERROR after {last!r}: {type(e).__name__}: {e}"
say("result", result)
for s in sessions:
    s.close()
PYTHON

# scenario NAME: run it; its key=value lines in $out. A Python failure
# (not a milter error, which is a result) is a test error, reported.
out=""
scenario() {
	local rc=0
	out=$(RT_MESSAGES="$RT_MESSAGES" PYTHONPATH="$RT_LIB_DIR" PYTHONDONTWRITEBYTECODE=1 \
		timeout 180 python3 "$RT_DIR/scenarios.py" "$RT_MILTER_PORT" "$1" </dev/null \
		2>"$RT_DIR/scenario.err") || rc=$?
	if [ $rc != 0 ]; then
		rt_fail "$1: the scenario itself failed (exit $rc)"
		sed 's/^/    /' "$RT_DIR/scenario.err"
	fi
}

# field KEY: that key's value in $out.
field() {
	printf '%s\n' "$out" | sed -n "s/^$1=//p" | head -n 1
}

# alive_and_fresh NAME: after scenario NAME the daemon still runs and a
# normal message still gets accepted. A dead daemon is reported and
# restarted.
alive_and_fresh() {
	if ! milter_alive; then
		local status=0
		wait "$RT_MILTER_PID" 2>/dev/null || status=$?
		rt_fail "$1: rampart-milter died"
		printf '    got:  exit status %s%s\n    want: still running\n' "$status" \
			"$([ "$status" -gt 128 ] && echo " (signal $((status - 128)))")"
		rt_log "--- last lines of milter.log ---"
		tail -n 30 "$RT_DIR/milter.log" | sed 's/^/    /'
		start_milter
		return
	fi
	rt_log "ok: $1: rampart-milter still running"
	scenario fresh
	rt_check_match "$1: then a fresh message is accepted" "$(field result)" \
		'^accepted X-Spam-Status: No, score='
}

rt_start_redis "$RT_REDIS_PORT" || rt_hard_error "cannot start redis-server"
start_milter

# --- ordinary verdicts ---------------------------------------------------

scenario clean
rt_log "negotiated protocol flags: $(field protocol)"
rt_check_match "clean: final reply" "$(field final)" '^[ac]$'
rt_check_match "clean: X-Spam-Status added" "$(field xss)" '^No, score='
rt_check "clean: no reply to no-reply steps" "$(field unsolicited)" "none"

scenario gtube-split
rt_check_match "GTUBE split over two body chunks: rejected" "$(field final)" \
	'^(y 550 5\.7\.1 |r$)'
rt_check "GTUBE split over two body chunks: chunks sent" "$(field chunks)" 2

scenario forged
rt_check "forged headers: deleted" "$(field deleted)" \
	"x-rampart-category#1 x-rampart-symbols#1 x-spam-score#1 x-spam-status#1 x-spam-status#2"
rt_check "forged headers: X-Spam-Status copies deleted highest first" \
	"$(field xss_delete_order)" "2 1"
rt_check "forged headers: X-Spam-Status added once" "$(field xss_added)" 1
rt_check_match "forged headers: accepted" "$(field result)" '^accepted X-Spam-Status: No'

# --- hostile input -----------------------------------------------------
# NAME, then what is sent, then the result wanted of the hostile message
# itself: an ERE, or "any" where only survival matters (libmilter drops
# the connection on packets it cannot parse or over its 64 KB limit).

accepted='^accepted X-Spam-Status: No, score='
while IFS='|' read -r name what want; do
	[ -n "$name" ] || continue
	scenario "$name"
	rt_log "$name ($what): $(field result)"
	if [ "$want" != any ]; then
		rt_check_match "$name: result" "$(field result)" "$want"
	fi
	case $name in
	many-headers)
		rt_check "many-headers: a forged X-Spam-Status after 20,000 headers is deleted" \
			"$(field late_forged_deleted)" "X-Spam-Status#1"
		;;
	abort-mid-body)
		rt_check "abort-mid-body: X-Spam-Status added once to the new message" \
			"$(field xss_added)" 1
		;;
	rcpt-before-mail)
		rt_log "rcpt-before-mail: the early RCPT got: $(field early_rcpt)"
		;;
	esac
	alive_and_fresh "$name"
done <<EOF
huge-header-value|a header value of 1 MB|any
huge-header-name|a header name of 100 KB|any
subject-64k|a Subject of 65,000 bytes, under the packet limit|$accepted
nul-bytes|NUL bytes inside header values and the body|$accepted
many-headers|20,000 headers, then a forged X-Spam-Status|$accepted
no-macros|no macros at all, so no queue id and no {client_addr}|$accepted
family-unknown|connect with family U, no address|$accepted
family-inet6|connect from an IPv6 address|$accepted
bad-address|connect with family 4 and the address "not-an-address"|any
null-sender|MAIL FROM:<>|$accepted
long-helo-sender|a HELO name and a sender of 60,000 bytes|$accepted
rcpt-before-mail|RCPT before MAIL, then a whole message|$accepted
eom-no-headers|end of message straight after RCPT: no header, no body|$accepted
abort-mid-body|abort in the middle of the body, then a new MAIL|$accepted
short-packet|a length field claiming 1000 bytes, 10 sent, then close|any
zero-length|a length field of 0|any
huge-length|a length field of 0xffffffff|any
garbage-command|unknown command bytes Z, 0xff, NUL mid-transaction|any
abrupt-connections|200 connections opened and closed abruptly|any
EOF

# --- Redis down --------------------------------------------------------

rt_kill_redis
scenario redis-down
rt_check_match "Redis down, on_failure = tempfail: tempfailed" "$(field result)" \
	'^(connect/helo|connect|helo|mail|rcpt|eom): (t$|y 4[0-9][0-9] )'
if milter_alive; then
	rt_log "ok: redis-down: rampart-milter still running"
else
	rt_fail "redis-down: rampart-milter died"
	tail -n 30 "$RT_DIR/milter.log" | sed 's/^/    /'
fi

# --- SIGTERM with a connection in flight -----------------------------------

if milter_alive; then
	RT_MESSAGES="$RT_MESSAGES" PYTHONPATH="$RT_LIB_DIR" PYTHONDONTWRITEBYTECODE=1 \
		python3 "$RT_DIR/scenarios.py" "$RT_MILTER_PORT" hold </dev/null \
		>"$RT_DIR/hold.out" 2>&1 &
	HOLD_PID=$!
	i=0
	until grep -q '^ready=1' "$RT_DIR/hold.out" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt $RT_WAIT ] || ! kill -0 "$HOLD_PID" 2>/dev/null; then
			sed 's/^/    /' "$RT_DIR/hold.out"
			rt_hard_error "the client holding a connection did not get going"
		fi
		sleep 0.1
	done
	limit_ms=$((SHUTDOWN_MS + SHUTDOWN_MARGIN_MS))
	start_ms=$(date +%s%3N)
	kill -TERM "$RT_MILTER_PID"
	while milter_alive && [ $(($(date +%s%3N) - start_ms)) -le $((limit_ms + 5000)) ]; do
		sleep 0.05
	done
	elapsed_ms=$(($(date +%s%3N) - start_ms))
	if milter_alive; then
		rt_fail "SIGTERM: rampart-milter still running after ${elapsed_ms} ms"
		printf '    got:  still running\n    want: exited within %s ms\n' "$limit_ms"
	else
		status=0
		wait "$RT_MILTER_PID" 2>/dev/null || status=$?
		RT_MILTER_PID=""
		rt_log "SIGTERM: exited after ${elapsed_ms} ms (shutdown_timeout_ms = $SHUTDOWN_MS)"
		rt_check "SIGTERM: exits within shutdown_timeout_ms + ${SHUTDOWN_MARGIN_MS} ms" \
			"$([ "$elapsed_ms" -le "$limit_ms" ] && echo yes || echo "no, ${elapsed_ms} ms")" yes
		rt_check "SIGTERM: exit status" "$status" 0
	fi
	i=0
	while kill -0 "$HOLD_PID" 2>/dev/null && [ $i -lt 20 ]; do
		i=$((i + 1))
		sleep 0.1
	done
	rt_log "SIGTERM: the held connection: $(sed -n 's/^held=//p' "$RT_DIR/hold.out")"
	stop_holder
else
	rt_fail "SIGTERM: not tested, rampart-milter is not running"
fi

if [ "$RT_FAILURES" -gt 0 ]; then
	rt_log "$RT_FAILURES check(s) failed"
	exit 1
fi
rt_log "all checks passed"
