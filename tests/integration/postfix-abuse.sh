#!/bin/bash
#
# NAME
#	postfix-abuse.sh - abuse defences end to end through a real Postfix
# DESCRIPTION
#	A private Postfix on loopback with SMTP AUTH (Cyrus SASL, a private
#	sasldb) consults rampart-milter with account.messages = 3,
#	account.action = lock and mailbomb.senders = 3.
#	A compromised account:
#	  - the account's first three messages are delivered;
#	  - the fourth makes it a suspect: tempfailed 451 4.7.1 with
#	    reply.account_locked at the end of DATA, and the lock is logged;
#	  - its next message is tempfailed before DATA;
#	  - mail without a login from the same client is delivered;
#	  - rampartctl account show and list --locked show the lock, and
#	    after rampartctl account unlock the account's mail is delivered;
#	A mail bomb (mail for one recipient from ever new senders):
#	  - the first three senders' mail is delivered;
#	  - the fourth sender's is tempfailed 451 4.7.1 (reply.mailbomb) at
#	    the end of DATA, and the fifth's at RCPT TO, before DATA;
#	  - the first sender's next message still passes (on a node that
#	    saw no refusal for 10 s), and mail for others is not touched.
#	Greylisting (every clean message from outside 127.0.0.0/26 in the
#	band: greylist.min_score = -100, delay_s = 2):
#	  - a stranger's first message is tempfailed 451 4.7.1 Greylisted;
#	  - its retry after the delay is delivered.
#	A flood of recipients (flood.rcpts_per_message = 3): the fourth
#	recipient of a message gets 452 4.5.3, and the message goes to the
#	other three.
#	A zero-hour outbreak (outbreak.messages = 4, networks = 3,
#	domains = 3): the same offer from ever new client networks
#	(127.0.9.0/24 ...) and sender domains:
#	  - the first four copies are delivered without RAMPART_OUTBREAK (the
#	    fourth makes it an outbreak, after its own verdict);
#	  - the fifth carries RAMPART_OUTBREAK (and is tagged as spam), and
#	    the outbreak is logged;
#	  - rampartctl outbreak list and show name it; after rampartctl
#	    outbreak clear, the next copy carries no RAMPART_OUTBREAK.
#	Nothing is lost: sent = delivered + tempfailed + queued.
#	Exit 77 (skip) when not root or Postfix/Redis/swaks/saslpasswd2 are missing.
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

rt_require
command -v saslpasswd2 >/dev/null 2>&1 || rt_skip "saslpasswd2 not installed (Debian: sasl2-bin)"
rt_find_binaries
rt_init

RT_REDIS_PORT=$(rt_free_port)
RT_MILTER_PORT=$(rt_free_port)
sink_port=$(rt_free_port)
smtp_port=$(rt_free_port)
conf="$RT_DIR/rampart.conf"
login=alice@rampart.test

rt_start_redis "$RT_REDIS_PORT" || rt_hard_error "cannot start redis-server"
rt_start_sink "$sink_port" || rt_hard_error "cannot start smtp-sink"
rt_write_config "$conf"
cat >>"$conf" <<EOF

[account]
messages = 3
action = "lock"

[mailbomb]
rcpt_messages = "off"
senders = 3

[greylist]
min_score = -100
delay_s = 2

[flood]
rcpts_per_message = 3

[outbreak]
messages = 4
networks = 3
domains = 3

[network]
# Not greylisted: the first clients, and those of the outbreak.
internal = ["127.0.0.0/26", "127.0.8.0/21"]
EOF
rt_start_milter "$conf" || {
	rt_fail "rampart-milter does not start"
	exit 1
}
rt_sasl_user "$login" s3cret || rt_hard_error "cannot make the sasldb"
rt_start_postfix "$smtp_port" "$sink_port" "$RT_MILTER_PORT" ||
	rt_hard_error "cannot start the private Postfix"

auth=(--auth PLAIN --auth-user "$login" --auth-password s3cret)
for i in 1 2 3; do
	rt_send "auth-$i" 127.0.0.20 "$login" bob@rcpt.example clean.eml "${auth[@]}"
	rt_expect_outcome "auth-$i" accepted
done
rt_send auth-4 127.0.0.20 "$login" bob@rcpt.example clean.eml "${auth[@]}"
rt_expect_outcome auth-4 tempfailed
rt_check_match "auth-4: the account_locked reply" "$(rt_reply auth-4)" "^451 4\.7\.1 Your account is locked"
rt_check_match "the lock is logged" "$(grep 'account alice@rampart.test: suspect' "$RT_DIR/milter.log" | head -n1)" \
	"4 messages in the window, over 3; action=lock client=127.0.0.20"
rt_send auth-5 127.0.0.21 "$login" bob@rcpt.example clean.eml "${auth[@]}"
rt_expect_outcome auth-5 tempfailed
rt_expect_no_data auth-5
rt_send no-login 127.0.0.20 "$login" bob@rcpt.example clean.eml
rt_expect_outcome no-login accepted

rt_check_match "account show" "$(rt_ctl account show "$login" | tr '\n' ' ')" \
	"state: locked since .*: 4 messages in the window, over 3 window: .* messages=4 "
rt_check_match "account list --locked" "$(rt_ctl account list --locked)" "^alice@rampart.test state=lock "
rt_check_match "account unlock" "$(rt_ctl account unlock "$login")" "unlocked"
sleep 11 # the node remembers a block it refused for up to 10 s
rt_send auth-6 127.0.0.20 "$login" bob@rcpt.example clean.eml "${auth[@]}"
rt_expect_outcome auth-6 accepted
rt_check "account list --locked after unlock" "$(rt_ctl account list --locked)" ""

for i in 1 2 3; do
	rt_send "bomb-$i" 127.0.0.30 "news$i@list.example" victim@rcpt.example clean.eml
	rt_expect_outcome "bomb-$i" accepted
done
rt_send bomb-4 127.0.0.30 news4@list.example victim@rcpt.example clean.eml
rt_expect_outcome bomb-4 tempfailed
rt_check_match "bomb-4: the mailbomb reply" "$(rt_reply bomb-4)" "^451 4\.7\.1 Too much mail for this recipient"
rt_send bomb-5 127.0.0.30 news5@list.example victim@rcpt.example clean.eml
rt_expect_outcome bomb-5 tempfailed
rt_expect_no_data bomb-5
rt_send bomb-other 127.0.0.30 news5@list.example other@rcpt.example clean.eml
rt_expect_outcome bomb-other accepted
sleep 11 # the node remembers a full recipient for up to 10 s
rt_send bomb-known 127.0.0.30 news1@list.example victim@rcpt.example clean.eml
rt_expect_outcome bomb-known accepted

rt_send grey-1 127.0.0.100 news@far.example bob@rcpt.example clean.eml
rt_expect_outcome grey-1 tempfailed
rt_check_match "grey-1: the greylist reply" "$(rt_reply grey-1)" "^451 4\.7\.1 Greylisted"
sleep 3
rt_send grey-2 127.0.0.101 news@far.example bob@rcpt.example clean.eml
rt_expect_outcome grey-2 accepted

# Greylisting has remembered far.example from 127.0.0.0/24 by now.
rt_send many-rcpts 127.0.0.102 news@far.example r1@rcpt.example,r2@rcpt.example,r3@rcpt.example,r4@rcpt.example \
	clean.eml
rt_expect_outcome many-rcpts accepted
rt_check_match "many-rcpts: the fourth recipient refused" "$(rt_reply_to many-rcpts 'RCPT TO:<r4@rcpt.example>')" \
	"^452 4\.5\.3"

outbreak_symbol() { rt_header "$1" X-Rampart-Symbols | grep -o 'RAMPART_OUTBREAK(' || true; }
for i in 1 2 3 4; do
	rt_send "ob-$i" "127.0.$((8 + i)).9" "offer@spam$i.example" "ob$i@rcpt.example" outbreak.eml
	rt_expect_outcome "ob-$i" accepted
done
rt_send ob-5 127.0.13.9 offer@spam5.example ob5@rcpt.example outbreak.eml
rt_expect_outcome ob-5 accepted # spam is tagged here
rt_wait_queue || true
for i in 1 2 3 4; do
	rt_check "ob-$i: not an outbreak yet" "$(outbreak_symbol "ob-$i")" ""
done
rt_check "ob-5: a copy of an outbreak" "$(outbreak_symbol ob-5)" "RAMPART_OUTBREAK("
rt_check_match "the outbreak is logged" "$(grep ': outbreak: text:' "$RT_DIR/milter.log" | head -n1)" \
	"kind=text messages=4 networks=3 domains=3 client=127\.0\.13\.9$"
fp=$(rt_ctl outbreak list | awk '$1 ~ /^text:/ { print $1 }' | head -n1)
rt_check_match "outbreak list" "$fp" "^text:[0-9a-f]{16}$"
rt_check_match "outbreak show" "$(rt_ctl outbreak show "$fp" | tr '\n' ' ')" \
	"copies: 5 in this window.* networks=3 sender domains=3 state: outbreak since "
for f in $(rt_ctl outbreak list | awk '{ print $1 }'); do
	rt_check_match "outbreak clear $f" "$(rt_ctl outbreak clear "$f")" ": cleared; "
done
rt_check "outbreak list after clear" "$(rt_ctl outbreak list)" ""
rt_send ob-6 127.0.14.9 offer@spam6.example ob6@rcpt.example outbreak.eml
rt_expect_outcome ob-6 accepted
rt_wait_queue || true
rt_check "ob-6: cleared, no longer an outbreak" "$(outbreak_symbol ob-6)" ""

rt_count
rt_check "delivered: three before the lock, the one without a login, one after unlock, five to bomb and other, the greylisted retry, the three recipients, six copies of the offer" \
	"$RT_DELIVERED" 18
rt_check_nothing_lost

rt_finish
