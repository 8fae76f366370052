#!/bin/bash
#
# NAME
#	postfix-e2e.sh - rampart end to end through a real Postfix
# DESCRIPTION
#	A private Postfix on loopback consults rampart-milter as its
#	smtpd_milters and relays what it accepts to smtp-sink; rampart keeps
#	its state in a private redis-server. Messages are sent with swaks,
#	each from the 127/8 client address its case needs, and the test
#	checks what the client was told and what reached the sink:
#
#	  - a clean message is delivered with "X-Spam-Status: No, score=..",
#	    and forged copies of rampart's headers sent in by the client do
#	    not survive;
#	  - GTUBE is rejected 550 5.7.1 at the end of DATA;
#	  - a block-listed client IP is rejected before DATA, a block-listed
#	    sender at MAIL FROM, a block-listed recipient at RCPT TO;
#	  - a burst from one client IP over ip_messages is answered 451 4.7.1
#	    before DATA, and other clients are unaffected;
#	  - Redis killed mid-run: with on_failure = tempfail messages get
#	    451 4.7.1 from rampart itself (not from Postfix's
#	    milter_default_action); after switching to on_failure = accept
#	    (by SIGHUP, then by a restart) they are delivered and tagged
#	    RAMPART_REDIS_FAILED; once Redis is back, normal service resumes;
#	  - nothing is lost: sent = delivered + rejected + tempfailed + queued.
#
#	Every failed assertion prints got/want; the test carries on so that
#	one run reports all broken behaviours, and exits 1 if any failed.
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

# Small rate limit so that a burst trips it; every other case sends from
# its own client address and stays far below it.
RT_CFG_IP_MESSAGES=5/1m
RT_CFG_IP_BURST=5
RT_CFG_REFRESH_MS=500
RT_CFG_ON_FAILURE=tempfail
conf="$RT_DIR/rampart.conf"

rt_start_redis "$RT_REDIS_PORT" || rt_hard_error "cannot start redis-server"
rt_start_sink "$sink_port" || rt_hard_error "cannot start smtp-sink"
rt_write_config "$conf"
rt_start_milter "$conf" || { rt_fail "rampart-milter does not start"; exit 1; }
rt_start_postfix "$smtp_port" "$sink_port" "$RT_MILTER_PORT" ||
	rt_hard_error "cannot start the private Postfix"

rcpt=bob@rcpt.example

# expect_log_line "what" ERE: some line of rampart's log (its decision
# lines: "QUEUEID: client=IP ... category=C ... action=A symbols=...")
# matches ERE.
expect_log_line() {
	local line
	line=$(grep -E -- "$2" "$RT_DIR/milter.log" | head -n1 || true)
	if [ -n "$line" ]; then
		rt_log "ok: $1"
	else
		rt_fail "$1"
		printf '    got:  no line in milter log\n    want: /%s/\n' "$2"
	fi
}

# --- clean mail, and forged headers ----------------------------------

rt_log "== clean message, forged rampart headers"
rt_send clean 127.0.0.2 alice@sender.example "$rcpt" clean.eml
rt_send forged 127.0.0.2 carol@sender.example dave@rcpt.example forged-headers.eml
rt_wait_queue || true
status_re='^No, score=-?[0-9]+\.[0-9]{2}([ ;,]|$)'
for m in clean forged; do
	rt_expect_outcome "$m" accepted
	rt_check "$m: delivered to the sink" "$([ -n "$(rt_delivered "$m")" ] && echo yes || echo no)" yes
	rt_check "$m: number of X-Spam-Status headers" \
		"$(rt_header "$m" X-Spam-Status | wc -l)" 1
	rt_check_match "$m: X-Spam-Status" "$(rt_header "$m" X-Spam-Status)" "$status_re"
	# The clean action is accept: no tag headers, and none of the client's.
	for h in X-Rampart-Category X-Spam-Score X-Rampart-Symbols; do
		rt_check "$m: $h headers (clean => accept, forged ones removed)" \
			"$(rt_header "$m" "$h" | tr '\n' '|')" ""
	done
done
rt_check "forged: no forged header value survives" \
	"$(rt_headers forged | grep -i -E '^x-(spam|rampart)-.*forged' || true)" ""
qid=$(rt_reply clean)
expect_log_line "clean: log line with category=clean action=accept" \
	"$qid: client=127\.0\.0\.2 .*category=clean .*action=accept"

# --- GTUBE -------------------------------------------------------------

rt_log "== GTUBE"
rt_send gtube 127.0.0.3 mallory@sender.example "$rcpt" gtube.eml
rt_expect_outcome gtube rejected
rt_check_match "gtube: reply" "$(rt_reply gtube)" '^550 5\.7\.1 '
rt_check_match "gtube: rejected at end of DATA (DATA was accepted)" \
	"$(rt_reply_to gtube DATA)" '^354 '
expect_log_line "gtube: log line with category=confirmed-spam action=reject" \
	"client=127\.0\.0\.3 .*category=confirmed-spam .*action=reject"

# --- content -----------------------------------------------------------

# Golden messages of the unit tests (tests/messages), through a real Postfix.
rt_log "== content: a disguised executable, a phishing message, SIZE= over the limit"
rt_send exe 127.0.0.4 billing@sender.example "$rcpt" ../../messages/virus-double-extension.eml
rt_send phish 127.0.0.4 security@sender.example "$rcpt" ../../messages/spam-phish.eml
rt_wait_queue || true
rt_expect_outcome exe accepted
exe_symbols=$(rt_header exe X-Rampart-Symbols)
for sym in RAMPART_EXE_ATTACHMENT RAMPART_DOUBLE_EXTENSION RAMPART_ATTACHMENT_TYPE_MISMATCH; do
	rt_check_match "exe: X-Rampart-Symbols has $sym" "$exe_symbols" "(^|,)$sym\\("
done
rt_check "exe: X-Rampart-Category" "$(rt_header exe X-Rampart-Category)" spam
expect_log_line "exe: decision line with the attachment symbols" \
	"$(rt_reply exe): client=127\\.0\\.0\\.4 .*category=spam .*action=tag .*RAMPART_EXE_ATTACHMENT"
rt_expect_outcome phish rejected
rt_check_match "phish: reply" "$(rt_reply phish)" '^550 5\.7\.1 '
for sym in RAMPART_URL_TEXT_MISMATCH RAMPART_URL_IP_HOST RAMPART_FROM_NAME_SPOOF; do
	expect_log_line "phish: decision line has $sym" \
		"client=127\\.0\\.0\\.4 .*category=confirmed-spam .*action=reject .*$sym\\("
done
expect_log_line "phish: decision line has a shipped rule's symbol" \
	"client=127\\.0\\.0\\.4 .*category=confirmed-spam .*symbols=.*PHISH_[A-Z_]+\\("

# SIZE= over limits.max_message_size (1000000 here; Postfix's own limit is
# larger) is refused at MAIL FROM, before DATA.
size_reply=$(python3 - "$RT_SMTP_PORT" <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
s.ehlo("size-test.rampart.test")
code, text = s.mail("big@sender.example", ["SIZE=2000000"])
print(code, text.decode(errors="replace"))
s.quit()
PY
) || size_reply="(no SMTP dialogue)"
rt_check_match "SIZE=2000000: refused at MAIL FROM by rampart" "$size_reply" '^552 5\.3\.4 Message too big for this system'

# --- lists -------------------------------------------------------------

rt_log "== allow/block lists"
rt_ctl list add block ip 127.0.0.5 ||
	rt_fail "rampartctl list add block ip 127.0.0.5: exit $?"
rt_ctl list add block from spammer@bad.example ||
	rt_fail "rampartctl list add block from spammer@bad.example: exit $?"
rt_ctl list add block from bad-domain.example ||
	rt_fail "rampartctl list add block from bad-domain.example: exit $?"
rt_ctl list add block rcpt blocked@rcpt.example ||
	rt_fail "rampartctl list add block rcpt blocked@rcpt.example: exit $?"
shown=$(rt_ctl list show block ip 2>&1 || true)
rt_check_match "rampartctl list show block ip" "$shown" '127\.0\.0\.5'
# Running milters pick up list changes within refresh_ms (500 here).
sleep 1.5

rt_send blocked-ip 127.0.0.5 alice@sender.example "$rcpt" clean.eml
rt_expect_outcome blocked-ip rejected
# A 5xx at connect makes Postfix answer the greeting with its own "554
# ... not accepting connections"; rampart's 5.7.1 text shows in its log.
rt_check_match "blocked-ip: reply" "$(rt_reply blocked-ip)" '^5[0-9][0-9] '
rt_check_match "blocked-ip: Postfix logs rampart's 5.7.1 reject" \
	"$(grep -E 'milter-reject: [A-Z]+ from [^ ]*\[127\.0\.0\.5\]' "$RT_DIR/postfix/maillog" | head -n1)" \
	'milter-reject: [A-Z]+ from [^ ]*\[127\.0\.0\.5\]: 5[0-9][0-9] 5\.7\.1'
rt_expect_no_data blocked-ip

rt_send blocked-from 127.0.0.6 spammer@bad.example "$rcpt" clean.eml
rt_expect_outcome blocked-from rejected
rt_check_match "blocked-from: reply to MAIL FROM" \
	"$(rt_reply_to blocked-from "MAIL FROM")" '^550 5\.7\.1'

rt_send blocked-domain 127.0.0.6 someone@mail.bad-domain.example "$rcpt" clean.eml
rt_expect_outcome blocked-domain rejected
rt_check_match "blocked-domain: reply to MAIL FROM (subdomain of listed domain)" \
	"$(rt_reply_to blocked-domain "MAIL FROM")" '^550 5\.7\.1'

rt_send blocked-rcpt 127.0.0.6 alice@sender.example blocked@rcpt.example clean.eml
rt_expect_outcome blocked-rcpt rejected
rt_check_match "blocked-rcpt: reply to RCPT TO" \
	"$(rt_reply_to blocked-rcpt "RCPT TO")" '^550 5\.7\.1'

# The same client, sender and recipient otherwise are fine.
rt_send unlisted 127.0.0.6 alice@sender.example "$rcpt" clean.eml
rt_expect_outcome unlisted accepted

# --- rate limit --------------------------------------------------------

rt_log "== burst over ip_messages = $RT_CFG_IP_MESSAGES, burst $RT_CFG_IP_BURST"
burst=12
for i in $(seq 1 $burst); do
	rt_send "burst-$i" 127.0.0.7 "burst-$i@sender.example" "$rcpt" clean.eml
done
accepted=0
limited=0
for i in $(seq 1 $burst); do
	case $(rt_outcome "burst-$i") in
	accepted) accepted=$((accepted + 1)) ;;
	tempfailed)
		limited=$((limited + 1))
		r=$(rt_reply "burst-$i")
		if ! printf '%s\n' "$r" | grep -Eq '^451 4\.7\.1 .*[Rr]ate'; then
			rt_fail "burst-$i: reply"
			printf '    got:  %s\n    want: /^451 4\\.7\\.1 .*rate/\n' "$r"
		fi
		if [ -n "$(rt_reply_to "burst-$i" DATA)" ]; then
			rt_fail "burst-$i: rate limit answered after DATA, want at MAIL or RCPT"
			rt_transcript "burst-$i"
		fi
		;;
	*)
		rt_fail "burst-$i: $(rt_outcome "burst-$i") $(rt_reply "burst-$i")"
		rt_transcript "burst-$i"
		;;
	esac
done
rt_check "burst: first message accepted" "$(rt_outcome burst-1)" accepted
rt_check_match "burst: accepted count (burst $RT_CFG_IP_BURST)" "$accepted" '^[56]$'
rt_check "burst: the rest answered 451" "$limited" $((burst - accepted))
rt_check "burst: last message limited" "$(rt_outcome "burst-$burst")" tempfailed
rt_send after-burst 127.0.0.8 alice@sender.example "$rcpt" clean.eml
rt_expect_outcome after-burst accepted
rt_log "rampartctl rate show 127.0.0.7: $(rt_ctl rate show 127.0.0.7 2>&1 | tr '\n' ' ')"

# --- Redis dies ------------------------------------------------------

rt_log "== Redis killed, on_failure = tempfail"
warnings=$(rt_milter_warnings)
rt_kill_redis
for i in 1 2 3 4 5; do
	rt_send "redis-down-$i" "127.0.0.1$i" "down-$i@sender.example" "$rcpt" clean.eml
	rt_expect_outcome "redis-down-$i" tempfailed
	rt_check_match "redis-down-$i: reply" "$(rt_reply "redis-down-$i")" '^451 4\.7\.1'
done
rt_check "redis down: milter still running" "$(rt_milter_alive && echo yes || echo no)" yes
rt_check "redis down: Postfix milter warnings (451 came from rampart, not default_action)" \
	"$(rt_milter_warnings)" "$warnings"

rt_log "== Redis down, on_failure = accept by SIGHUP"
RT_CFG_ON_FAILURE=accept rt_write_config "$conf"
rt_reload_milter || rt_fail "rampart-milter did not reload on SIGHUP"
expect_log_line "SIGHUP: configuration reloaded" "configuration reloaded from"
for i in 1 2; do
	n="redis-accept-hup-$i"
	rt_send "$n" "127.0.0.2$i" "accept-$i@sender.example" "$rcpt" clean.eml
done
rt_wait_queue || true
for i in 1 2; do
	n="redis-accept-hup-$i"
	rt_expect_outcome "$n" accepted
	rt_check_match "$n: X-Spam-Status" "$(rt_header "$n" X-Spam-Status)" '^(Yes|No), score='
	rt_check_match "$n: tagged RAMPART_REDIS_FAILED" \
		"$(rt_headers "$n" | grep -E '^X-(Spam|Rampart)-' | tr '\n' '|')" 'RAMPART_REDIS_FAILED'
done
rt_check "after SIGHUP: milter still running" "$(rt_milter_alive && echo yes || echo no)" yes

rt_log "== Redis down, on_failure = accept, milter restarted"
rt_stop_milter
rt_start_milter "$conf" || rt_fail "rampart-milter does not start while Redis is down"
n=redis-accept-restart
rt_send "$n" 127.0.0.31 restart@sender.example "$rcpt" clean.eml
rt_wait_queue || true
rt_expect_outcome "$n" accepted
rt_check_match "$n: tagged RAMPART_REDIS_FAILED" \
	"$(rt_headers "$n" | grep -E '^X-(Spam|Rampart)-' | tr '\n' '|')" 'RAMPART_REDIS_FAILED'
expect_log_line "$n: log line with symbol RAMPART_REDIS_FAILED" \
	"client=127\.0\.0\.31 .*symbols=.*RAMPART_REDIS_FAILED"

rt_log "== Redis back"
rt_start_redis "$RT_REDIS_PORT" || rt_hard_error "cannot restart redis-server"
# Past breaker_cooldown_ms (2000) the breaker lets traffic through again.
sleep 3
n=redis-back
rt_send "$n" 127.0.0.41 back@sender.example "$rcpt" clean.eml
rt_wait_queue || true
rt_expect_outcome "$n" accepted
rt_check "$n: not tagged RAMPART_REDIS_FAILED" \
	"$(rt_headers "$n" | grep RAMPART_REDIS_FAILED || true)" ""
rt_check_match "$n: X-Spam-Status" "$(rt_header "$n" X-Spam-Status)" "$status_re"

# --- nothing lost ------------------------------------------------------

rt_log "== count"
rt_count
rt_check_nothing_lost
rt_check "accepted = delivered + queued" \
	"$(awk '$2 == "accepted"' "$RT_DIR/outcomes" | wc -l)" $((RT_DELIVERED + RT_QUEUED))

rt_finish
