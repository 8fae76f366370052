#!/bin/bash
#
# NAME
#	postfix-dns.sh - rampart's DNS checks end to end through a real Postfix
# DESCRIPTION
#	A private Postfix on loopback consults rampart-milter, which asks a
#	private DNS server (tests/dns/testdns.py serving tests/dns/e2e.zone)
#	about its clients; 127.0.0.0/8 is made "public" to rampart
#	(network.internal = []), so that each client address stands for a
#	stranger on the Internet:
#
#	  - a named, confirmed client on no list is delivered, tagged, with
#	    "Authentication-Results: mx.rampart.test; spf=pass ...";
#	  - a client on a DNS block list over dnsbl.reject_score is refused
#	    550 5.7.1 at MAIL FROM, before DATA;
#	  - a client without reverse DNS (a zombie) is refused 550 5.7.25 at
#	    MAIL FROM, before DATA (zombie.reject = ["no_ptr"]);
#	  - a client with a dynamic-looking name on a light list is delivered
#	    with RAMPART_RDNS_DYNAMIC and the list's symbol;
#	  - a message whose From domain asks for DMARC p=reject, with nothing
#	    aligned, is refused 550 at the end of DATA (dmarc.reject = true);
#	  - with the DNS server silent, a new client's message is delivered
#	    with the temperror symbols (dns.on_temperror = accept), never
#	    refused for what DNS could not say, within dns.budget_ms;
#	  - nothing is lost: sent = delivered + rejected + tempfailed + queued.
#	Exit 77 (skip) when not root or Postfix/Redis/swaks are missing.
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

rt_require
rt_find_binaries
rt_init

RT_REDIS_PORT=$(rt_free_port)
RT_MILTER_PORT=$(rt_free_port)
sink_port=$(rt_free_port)
smtp_port=$(rt_free_port)
dns_port=$(rt_free_port)
RT_CFG_ACTION_CLEAN=tag
conf="$RT_DIR/rampart.conf"

rt_start_redis "$RT_REDIS_PORT" || rt_hard_error "cannot start redis-server"
rt_start_dns "$dns_port" "$RT_LIB_DIR/../dns/e2e.zone" || rt_hard_error "cannot start the test DNS server"
rt_start_sink "$sink_port" || rt_hard_error "cannot start smtp-sink"
rt_write_config "$conf"
cat >>"$conf" <<EOF

[dns]
servers = ["127.0.0.1:$dns_port"]
timeout_ms = 300
tries = 2
budget_ms = 500

[dnsbl]
zones = ["BL:bl.e2e.test*6", "LIGHT:light.e2e.test*1"]
reject_score = 5

[zombie]
reject = ["no_ptr"]

[network]
internal = []

[auth]
authserv_id = "mx.rampart.test"

[dmarc]
reject = true
EOF
rt_start_milter "$conf" || {
	rt_fail "rampart-milter does not start"
	exit 1
}
rt_start_postfix "$smtp_port" "$sink_port" "$RT_MILTER_PORT" ||
	rt_hard_error "cannot start the private Postfix"

rcpt=bob@rcpt.example

# expect_refused_at_mail NAME ERE: MAIL FROM got a reply matching ERE,
# and the session never reached DATA.
expect_refused_at_mail() {
	rt_check_match "$1: reply to MAIL FROM" "$(rt_reply_to "$1" "MAIL FROM")" "$2"
	rt_expect_no_data "$1"
}

rt_log "== DNS up: a good client, a listed one, a zombie, a dynamic one"
rt_send good 127.0.0.21 alice@sender.e2e.test "$rcpt" clean.eml
rt_send listed 127.0.0.22 alice@sender.example "$rcpt" clean.eml
rt_send zombie 127.0.0.23 alice@sender.example "$rcpt" clean.eml
rt_send dynamic 127.0.0.24 alice@sender.example "$rcpt" clean.eml
rt_wait_queue || true

rt_expect_outcome good accepted
rt_check "good: Authentication-Results" "$(rt_header good Authentication-Results | tr -s ' \t' ' ')" \
	"mx.rampart.test; spf=pass smtp.mailfrom=sender.e2e.test; dkim=none; dmarc=none header.from=sender.example"
# At the top: above the client's own fields (RFC 8601 section 5).
rt_check "good: Authentication-Results comes before the message's Subject" \
	"$(rt_headers good | grep -n -i -E '^(Authentication-Results|Subject):' | cut -d: -f2 | tr '\n' ' ')" \
	"Authentication-Results Subject "
rt_check "good: no DNS symbol in X-Rampart-Symbols" \
	"$(rt_header good X-Rampart-Symbols | grep -o -E 'RAMPART_(RBL|RWL|RDNS|DNSBL)_[A-Z_]*' || true)" ""

rt_expect_outcome listed rejected
expect_refused_at_mail listed '^550 5\.7\.1 Service unavailable; client listed by DNS block lists'

rt_expect_outcome zombie rejected
expect_refused_at_mail zombie '^550 5\.7\.25 Client host rejected: no valid reverse DNS'
rt_check_match "zombie: decision line names the symbol" \
	"$(grep -E 'client=127\.0\.0\.23 .*action=reject' "$RT_DIR/milter.log" | head -n1)" 'RAMPART_RDNS_NONE\('

rt_expect_outcome dynamic accepted
dyn_symbols=$(rt_header dynamic X-Rampart-Symbols)
for sym in RAMPART_RDNS_DYNAMIC RAMPART_RBL_LIGHT; do
	rt_check_match "dynamic: X-Rampart-Symbols has $sym" "$dyn_symbols" "(^|,)$sym\\("
done

rt_log "== DMARC: a From domain that asks for p=reject, nothing aligned"
rt_send dmarc-reject 127.0.0.21 alice@sender.e2e.test "$rcpt" clean.eml --header "From: Boss <boss@reject.e2e.test>"
rt_expect_outcome dmarc-reject rejected
rt_check_match "dmarc-reject: refused at end of DATA" "$(rt_reply dmarc-reject)" \
	'^550 5\.7\.1 Rejected by the DMARC policy of the From domain'
rt_check_match "dmarc-reject: DATA itself was accepted" "$(rt_reply_to dmarc-reject DATA)" '^354 '
rt_check_match "dmarc-reject: decision line names the symbol" \
	"$(grep -E 'action=reject .*RAMPART_DMARC_REJECT' "$RT_DIR/milter.log" | head -n1)" 'RAMPART_DMARC_REJECT\('

rt_log "== DNS silent: a new client is judged without DNS, within the budget"
# Stopped, not killed: its socket still takes the queries and never
# answers, the worst case (a dead server's port answers "unreachable" at once).
kill -STOP "$RT_DNS_PID"
start=$(date +%s%N)
rt_send dns-down 127.0.0.25 alice@sender.example "$rcpt" clean.eml
took_ms=$((($(date +%s%N) - start) / 1000000))
rt_wait_queue || true
rt_expect_outcome dns-down accepted
down_symbols=$(rt_header dns-down X-Rampart-Symbols)
for sym in RAMPART_DNSBL_TEMPERROR RAMPART_RDNS_TEMPERROR; do
	rt_check_match "dns-down: X-Rampart-Symbols has $sym" "$down_symbols" "(^|,)$sym\\("
done
kill -CONT "$RT_DNS_PID"
rt_log "dns-down: the SMTP session took $took_ms ms with dns.budget_ms = 500"
# Each lookup would give up after 300 + 600 ms; the budget cuts the
# message's wait to 500 ms. Generous: swaks and Postfix take their own
# time on a loaded machine.
rt_check "dns-down: the session took under 3 s" "$([ "$took_ms" -lt 3000 ] && echo yes || echo no)" yes

# --- nothing lost ------------------------------------------------------

rt_log "== count"
rt_count
rt_check_nothing_lost

rt_finish
