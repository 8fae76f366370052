#!/bin/bash
#
# NAME
#	postfix-batv.sh - the backscatter defence (BATV) end to end through a real Postfix
# DESCRIPTION
#	A private Postfix on loopback with SMTP AUTH (Cyrus SASL, a private
#	sasldb) consults rampart-milter with batv.domains = batv.example and
#	soft.example, batv.enforce = batv.example, and batv.sign_networks =
#	127.0.0.64/26. Postfix relays everything to smtp-sink (mynetworks,
#	no recipient maps).
#	Outbound:
#	  - an authenticated sender of batv.example reaches the sink with a
#	    prvs= MAIL FROM, and the change is logged;
#	  - a client of sign_networks without a login is tagged too;
#	  - a client outside them without a login is not, nor is a sender of
#	    another domain.
#	Inbound bounces (null sender):
#	  - to an untagged address of batv.example: 550 5.7.1 (reply.batv)
#	    at RCPT TO, before DATA, and the refusal is logged;
#	  - to a forged tag of batv.example: refused the same way;
#	  - to the tagged sender of the first message: delivered, and the
#	    sink sees the untagged recipient;
#	  - to an untagged address of soft.example: delivered, scored
#	    RAMPART_BATV_BAD.
#	A reload with a broken key file is refused and the running keys stay:
#	the tag of the first message still validates.
#	Nothing is lost: sent = delivered + rejected + tempfailed + queued.
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
keys="$RT_DIR/batv.keys"
login=alice@rampart.test

printf '# test keys\n1 test-key-one-0123456789abcdef\n0 test-key-zero-0123456789abcdef\n' >"$keys"
chmod 600 "$keys"

rt_start_redis "$RT_REDIS_PORT" || rt_hard_error "cannot start redis-server"
rt_start_sink "$sink_port" || rt_hard_error "cannot start smtp-sink"
rt_write_config "$conf"
cat >>"$conf" <<EOF

[batv]
enabled = true
key_file = "$keys"
domains = ["batv.example", "soft.example"]
enforce = ["batv.example"]
sign_networks = ["127.0.0.64/26"]
EOF
rt_start_milter "$conf" || {
	rt_fail "rampart-milter does not start"
	exit 1
}
rt_sasl_user "$login" s3cret || rt_hard_error "cannot make the sasldb"
rt_start_postfix "$smtp_port" "$sink_port" "$RT_MILTER_PORT" ||
	rt_hard_error "cannot start the private Postfix"

# rt_sink_field NAME FIELD: the value of smtp-sink's FIELD record (X-Mail-Args,
# X-Rcpt-Args) for message NAME, one line per record.
rt_sink_field() {
	local f
	f=$(rt_delivered "$1")
	[ -n "$f" ] || return 0
	tr -d '\r' <"$f" | awk -v f="$2:" '/^Received:/ { exit } index($0, f) == 1 { sub(/^[^:]*: */, ""); print }'
}

tag_re='prvs=1[0-9]{3}[0-9a-f]{6}='
auth=(--auth PLAIN --auth-user "$login" --auth-password s3cret)

rt_send out-auth 127.0.0.20 alice@batv.example bob@rcpt.example clean.eml "${auth[@]}"
rt_expect_outcome out-auth accepted
mail_args=$(rt_sink_field out-auth X-Mail-Args)
tagged=$(printf '%s\n' "$mail_args" | sed -n 's/^<\(prvs=[^>]*\)>.*/\1/p')
[ -n "$tagged" ] || tagged=prvs=0000000000=alice@batv.example # the checks below then fail, they do not hang
rt_check_match "out-auth: the sink sees a tagged MAIL FROM" "$mail_args" "^<${tag_re}alice@batv\.example>"
rt_check_match "out-auth: the tagging is logged" \
	"$(grep 'envelope: from=<alice@batv.example>' "$RT_DIR/milter.log" | head -n1)" \
	" [0-9A-F]+: envelope: from=<alice@batv\.example> new_from=<${tag_re}alice@batv\.example>$"

rt_send out-network 127.0.0.70 daemon@batv.example bob@rcpt.example clean.eml
rt_expect_outcome out-network accepted
rt_check_match "out-network: sign_networks are tagged" "$(rt_sink_field out-network X-Mail-Args)" \
	"^<${tag_re}daemon@batv\.example>"
rt_send out-stranger 127.0.0.30 carol@batv.example bob@rcpt.example clean.eml
rt_expect_outcome out-stranger accepted
rt_check_match "out-stranger: no login, not in sign_networks: untagged" "$(rt_sink_field out-stranger X-Mail-Args)" \
	"^<carol@batv\.example>"
rt_send out-other 127.0.0.20 alice@other.example bob@rcpt.example clean.eml "${auth[@]}"
rt_expect_outcome out-other accepted
rt_check_match "out-other: another domain: untagged" "$(rt_sink_field out-other X-Mail-Args)" \
	"^<alice@other\.example>"

rt_send bounce-untagged 127.0.0.40 '<>' alice@batv.example bounce.eml
rt_expect_outcome bounce-untagged rejected
rt_check_match "bounce-untagged: the batv reply" "$(rt_reply_to bounce-untagged 'RCPT TO')" \
	"^550 5\.7\.1 Bounce to an address that sent no mail"
rt_expect_no_data bounce-untagged
rt_check_match "bounce-untagged: the refusal is logged" \
	"$(grep 'from=<> to=<alice@batv.example> action=reject' "$RT_DIR/milter.log" | head -n1)" \
	"symbols=RAMPART_BATV_BAD\(3\.00\)"
rt_send bounce-forged 127.0.0.40 '<>' prvs=1123abcdef=alice@batv.example bounce.eml
rt_expect_outcome bounce-forged rejected
rt_check_match "bounce-forged: the batv reply" "$(rt_reply_to bounce-forged 'RCPT TO')" "^550 5\.7\.1 Bounce"

rt_send bounce-tagged 127.0.0.40 '<>' "$tagged" bounce.eml
rt_expect_outcome bounce-tagged accepted
rt_check_match "bounce-tagged: the sink sees the untagged recipient" "$(rt_sink_field bounce-tagged X-Rcpt-Args)" \
	"^<alice@batv\.example>( |$)"
rt_check_match "bounce-tagged: the untagging is logged" \
	"$(grep "envelope: to=<$tagged>" "$RT_DIR/milter.log" | head -n1)" "new_to=<alice@batv\.example>$"
rt_send bounce-soft 127.0.0.40 '<>' alice@soft.example bounce.eml
rt_expect_outcome bounce-soft accepted
rt_check_match "bounce-soft: scored, not refused" \
	"$(grep 'from=<> rcpts=1 ' "$RT_DIR/milter.log" | grep -c 'RAMPART_BATV_BAD(3.00)')" "^1$"

printf '0 short\n' >"$keys"
rt_reload_milter || rt_fail "no reload logged"
rt_check_match "a broken key file is refused" "$(grep 'reload refused' "$RT_DIR/milter.log" | head -n1)" \
	"batv\.key_file .*batv\.keys:1: the secret of key 0 is shorter than 16 bytes"
rt_send bounce-after-reload 127.0.0.40 '<>' "$tagged" bounce.eml
rt_expect_outcome bounce-after-reload accepted

rt_count
rt_check "delivered: four outbound, the tagged bounce twice, the soft bounce" "$RT_DELIVERED" 7
rt_check "rejected: the untagged and the forged bounce" "$RT_REJECTED" 2
rt_check_nothing_lost

rt_finish
