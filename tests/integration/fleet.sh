#!/bin/bash
#
# NAME
#	fleet.sh - two rampart-milter processes on one Redis see an attack split between them whole
# DESCRIPTION
#	Two rampart-milter daemons (nodes A and B) share a private
#	redis-server; milterclient.py plays the MTAs, sending each attack half
#	to each node, alternately. Neither node alone sees enough to act:
#	  - an outbreak (outbreak.messages = 6, networks = 3, domains = 3):
#	    copies 1-6 of one offer, each from a new network and sender
#	    domain, carry no RAMPART_OUTBREAK (the sixth makes it an
#	    outbreak, after its own verdict); the seventh (on B) and the
#	    eighth (on A) do;
#	  - a mail bomb (mailbomb.senders = 4): one recipient's mail from four
#	    senders is accepted, the fifth sender's is tempfailed;
#	  - a compromised account (account.messages = 4, action = lock): its
#	    fifth message is tempfailed, and so is the next, on the other
#	    node;
#	  - a connection flood (flood.ip_concurrency = 2): with one
#	    connection from an address open on each node, a third, on
#	    either, is tempfailed (at MAIL FROM, or at the step after
#	    it when the fleet's answer comes after a fast client's MAIL);
#	  - reputation: rampartctl reputation show reads the verdicts both
#	    nodes recorded for one client.
#	Exit 77 (skip) when python3, redis-server or redis-cli is missing.
# ENVIRONMENT
#	RAMPART_MILTER as for lib.sh; RAMPART_TEST_KEEP=1 keeps the state
#	directory.
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
conf_a="$RT_DIR/rampart-a.conf"
conf_b="$RT_DIR/rampart-b.conf"

rt_start_redis "$RT_REDIS_PORT" || rt_hard_error "cannot start redis-server"
rt_write_config "$conf_a"
cat >>"$conf_a" <<EOF

[outbreak]
messages = 6
networks = 3
domains = 3

[mailbomb]
rcpt_messages = "off"
senders = 4

[account]
messages = 4
action = "lock"

[flood]
ip_concurrency = 2

[greylist]
enabled = false

[network]
# The test's clients (documentation ranges) are not internal here.
internal = ["127.0.0.0/8"]
EOF
sed "s/inet:$RT_MILTER_PORT@/inet:$port_b@/" "$conf_a" >"$conf_b"
rt_start_milter "$conf_a" || rt_hard_error "rampart-milter (node A) does not start"
"$RAMPART_MILTER" -c "$conf_b" -f </dev/null >>"$RT_DIR/milter-b.log" 2>&1 &
pid_b=$!
rt_record_pid rampart-milter "$pid_b"
stop_b() { rt_kill "$pid_b"; }
trap 'stop_b; rt_teardown' EXIT
rt_wait_port "$port_b" "$pid_b" "rampart-milter (node B)" "$RT_DIR/milter-b.log" ||
	rt_hard_error "rampart-milter (node B) does not start"

# The scenarios: each line "NAME OUTCOME", where OUTCOME is "accepted
# SYMBOLS" or "STEP: REPLY" for a message stopped at STEP.
cat >"$RT_DIR/fleet.py" <<'PYTHON'
import os
import sys
import time

import milterclient as mc

NODES = {"A": int(sys.argv[1]), "B": int(sys.argv[2])}
MESSAGES = os.environ["RT_MESSAGES"]
held = []


def load(name):
    with open(os.path.join(MESSAGES, name), "rb") as f:
        return mc.parse_message(f.read())


def symbols(t):
    return " ".join(t.eom.added("X-Rampart-Symbols")) or "none"


def send(name, node, ip, sender, rcpt, message="clean.eml", login=None):
    s = mc.Session.open("127.0.0.1", NODES[node], 20.0)
    r = s.begin(ip)
    if not r.proceeds:
        print(f"{name} connect: {r}", flush=True)
        s.close()
        return
    h, b = load(message)
    if login is None:
        t = s.send_message(sender, [rcpt], h, b, "4FLEET" + name.replace("-", ""))
        outcome = f"accepted {symbols(t)}" if t.accepted else str(t)
    else:  # an authenticated sender: the login macro goes with MAIL FROM
        r = s.mail(sender, macros={"{auth_authen}": login, "i": "4FLEET"})
        if not r.proceeds:
            outcome = f"mail: {r}"
        else:
            s.rcpt(rcpt)
            s.data()
            for n, v in h:
                s.header(n, v)
            s.eoh()
            s.body(b)
            e = s.eom()
            outcome = f"accepted {' '.join(e.added('X-Rampart-Symbols'))}" if e.reply.letter in (
                mc.SMFIR_ACCEPT, mc.SMFIR_CONTINUE) else f"eom: {e}"
    print(f"{name} {outcome}", flush=True)
    s.quit()


def node(i):
    return "AB"[i % 2]


# An outbreak: one offer from ever new networks and sender domains.
for i in range(1, 9):
    send(f"ob-{i}", node(i), f"198.51.{i}.7", f"<offer@spam{i}.example>", f"<ob{i}@rcpt.example>",
         "outbreak.eml")
    if i == 6:
        time.sleep(0.2)  # node A's write queue makes it an outbreak in the background

# A mail bomb: one recipient, ever new senders.
for i in range(1, 6):
    send(f"bomb-{i}", node(i), "192.0.2.30", f"<news{i}@list{i}.example>", "<victim@rcpt.example>")

# A compromised account blasting through both nodes.
for i in range(1, 7):
    send(f"acct-{i}", node(i), f"192.0.2.{40 + i}", "<alice@rampart.test>", f"<r{i}@rcpt.example>",
         login="alice@rampart.test")

# A flood: connections from one address held open on both nodes.
for i, n in enumerate("AB"):
    s = mc.Session.open("127.0.0.1", NODES[n], 20.0)
    r = s.begin("203.0.113.50")
    print(f"hold-{n} {'open' if r.proceeds else 'connect: ' + str(r)}", flush=True)
    held.append(s)
for n in "AB":
    send(f"flood-{n}", n, "203.0.113.50", "<someone@flood.example>", "<bob@rcpt.example>")
for s in held:
    s.quit()
PYTHON

RT_MESSAGES=$RT_MESSAGES PYTHONPATH="$RT_LIB_DIR" python3 "$RT_DIR/fleet.py" "$RT_MILTER_PORT" "$port_b" \
	>"$RT_DIR/fleet.out" 2>&1 || rt_fail "the scenarios did not run: $(tail -n 5 "$RT_DIR/fleet.out")"
outcome() { awk -v n="$1" '$1 == n { $1 = ""; sub(/^ /, ""); print }' "$RT_DIR/fleet.out"; }

for i in 1 2 3 4 5 6; do
	rt_check_match "ob-$i (node $([ $((i % 2)) = 1 ] && echo B || echo A)): accepted, no outbreak yet" \
		"$(outcome "ob-$i" | grep -v RAMPART_OUTBREAK || echo "(an outbreak)")" "^accepted "
done
rt_check_match "ob-7 (node B): an outbreak from copies split between the nodes" "$(outcome ob-7)" \
	"^accepted .*RAMPART_OUTBREAK\("
rt_check_match "ob-8 (node A): an outbreak for the other node too" "$(outcome ob-8)" "^accepted .*RAMPART_OUTBREAK\("

for i in 1 2 3 4; do
	rt_check_match "bomb-$i: accepted" "$(outcome "bomb-$i")" "^accepted "
done
rt_check_match "bomb-5: a fifth sender across the nodes is tempfailed" "$(outcome bomb-5)" "4\.7\.1 Too much mail"

for i in 1 2 3 4; do
	rt_check_match "acct-$i: accepted" "$(outcome "acct-$i")" "^accepted"
done
rt_check_match "acct-5: the account's fifth message is tempfailed" "$(outcome acct-5)" \
	"^eom: .*4\.7\.1 Your account is locked"
rt_check_match "acct-6: the other node refuses the locked account too" "$(outcome acct-6)" \
	"^(mail|rcpt|eom): .*4\.7\.1 Your account is locked"

rt_check "hold-A: open" "$(outcome hold-A)" open
rt_check "hold-B: open" "$(outcome hold-B)" open
rt_check_match "flood-A: a third connection is tempfailed" "$(outcome flood-A)" "^(mail|rcpt|eom): .*4\.7\.1 Too many connections"
rt_check_match "flood-B: and on the other node too" "$(outcome flood-B)" "^(mail|rcpt|eom): .*4\.7\.1 Too many connections"

# Reputation recorded by both nodes: the mail bomb's four accepted
# messages (the tempfailed fifth is not a verdict), read back decayed.
rep=""
for _ in $(seq 50); do
	rep=$(rt_ctl reputation show 192.0.2.30 2>&1 | tr '\n' ' ')
	case $rep in *"clean=4.00"*) break ;; esac
	sleep 0.1
done
rt_check_match "reputation show: both nodes' verdicts on one client" "$rep" \
	"^ip 192\.0\.2\.30 clean=4\.00 spam=0\.00 spam_share=0% net 192\.0\.2\.0/24 clean=[0-9.]+ spam=[0-9.]+ spam_share="

rt_check "node A still running" "$(rt_milter_alive && echo yes || echo no)" yes
rt_check "node B still running" "$(kill -0 "$pid_b" 2>/dev/null && echo yes || echo no)" yes

if [ "$RT_FAILURES" -gt 0 ]; then
	rt_log "the scenarios' output:"
	sed 's/^/    /' "$RT_DIR/fleet.out"
fi
rt_finish
