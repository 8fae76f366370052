#!/bin/bash
#
# NAME
#	sendmail-e2e.sh - rampart end to end through a real Sendmail
# DESCRIPTION
#	The Sendmail wiring that README.md ("Wiring Sendmail") and
#	rampart-milter(8) give, proved: a private Sendmail on loopback, its
#	sendmail.cf built with m4 from Debian's sendmail-cf and from that very
#	INPUT_MAIL_FILTER line (read from the README, only the port of S=
#	changed), consults rampart-milter and relays what it accepts to
#	smtp-sink; rampart keeps its state in a private redis-server.
#	Messages are sent with swaks, and the test checks what the client was
#	told and what reached the sink:
#
#	  - a clean message is delivered with rampart's "X-Spam-Status: No,
#	    score=.."; forged copies of rampart's headers sent in by the
#	    client are removed; a message scored spam is delivered tagged
#	    (X-Rampart-Category, X-Rampart-Symbols); rampart's decision line
#	    carries Sendmail's queue id, the one the client was given;
#	  - GTUBE is rejected 550 5.7.1 at the end of DATA, a block-listed
#	    sender 550 5.7.1 at MAIL FROM, and neither arrives;
#	  - Redis killed, on_failure = tempfail: 451 4.7.1 from rampart
#	    itself; rampart-milter stopped: 451 4.3.2 from Sendmail, as F=T
#	    asks; nothing arrives; once both are back, mail flows again;
#	  - nothing is lost: sent = delivered + rejected + tempfailed + queued.
#
#	Exit 77 (skip) when not root, when Postfix's smtp-sink, Redis or
#	swaks are missing, or when the unpacked Sendmail is absent; exit 1
#	when it is there and any assertion fails.
# NOT THE SYSTEM'S MTA, NOT PORT 25
#	Debian's sendmail-bin cannot be installed beside Postfix (both
#	provide mail-transport-agent; its postinst would also start a
#	Sendmail on port 25). scripts/unpack-sendmail (run by
#	scripts/install-deps) only unpacks the packages with dpkg-deb -x into
#	$RAMPART_SENDMAIL_ROOT (default /var/cache/rampart-tests/sendmail);
#	this test runs that binary as
#	    sendmail -C $RT_DIR/sendmail/sendmail.cf -bD -q10s
#	in the foreground, as root, with a configuration that uses none of
#	the system's mail files (/etc/mail) and listens nowhere else: DaemonPortOptions on
#	127.0.0.1 and a free port only (FEATURE(no_default_msa): no port
#	587 either); its own queue directory and pid, status, help and
#	relay-domains files (the last absent); no alias file; every
#	non-local recipient relayed to [127.0.0.1] on the sink's port
#	(SMART_HOST with RELAY_MAILER_ARGS); relaying allowed for 127/8
#	(RELAY_DOMAIN) only; sender domains not looked up in DNS
#	(accept_unresolvable_domains: the test domains have none).
#	DefaultUser is mail:mail, which Debian's base-passwd provides; the
#	relay mailer runs inside Sendmail itself, so nothing else needs a
#	user of its own (no smmsp, no mailnull).
#	Sendmail looks up its own host name before it reads any
#	configuration and, when the name has no dot and resolves to none,
#	sleeps a minute ("My unqualified host name ... unknown"); on such a
#	host it runs in a UTS namespace of its own (unshare --uts) named
#	mx.rampart.test, or, where that is refused, starts a minute late. Without syslog, its log is its milter debugging
#	(-d64.5) in $RT_DIR/sendmail/debug.log (-D).
# SENDMAIL AND POSTFIX, AS RAMPART SEES THEM
#	Seen with Sendmail 8.17.1.9 (Debian 12) in its milter debugging:
#	  - Sendmail speaks milter protocol 6 and offers every action and
#	    step flag (fflags 0x1ff, pflags 0x1fffff); rampart takes the
#	    actions 0x7d (add and change headers, add and delete recipients,
#	    quarantine, change sender) and, with this configuration,
#	    pflags 0xf3380 (no reply at connect, HELO, headers, end of
#	    headers, DATA, unknown and body; replies at MAIL FROM and RCPT
#	    TO, where the lists answer). The test checks the version.
#	  - The macros are Sendmail's defaults (Milter.macros.*): at connect
#	    j (confDOMAIN_NAME, mx.rampart.test), _,
#	    {daemon_name} ("MTA", the Name= of DaemonPortOptions; Postfix
#	    sends its myhostname), {if_name}, {if_addr}, and no
#	    {client_addr} (rampart reads the address from the connect step);
#	    at MAIL FROM i, {auth_type}, {auth_authen}, {auth_ssf},
#	    {auth_author}, {mail_mailer}, {mail_host}, {mail_addr}; at the
#	    end of the message only {msg_id}.
#	  - The queue id (i) comes at MAIL FROM, so a sender refused there is
#	    logged under its queue id (Postfix logs NOQUEUE), and it is the
#	    id of the "250 2.0.0 QID Message accepted for delivery" reply.
#	  - {auth_authen} is not tested here: Sendmail's SASL reads its
#	    configuration from system paths (Sendmail.conf, sasldb2), which
#	    a private instance should not touch. postfix-abuse.sh covers
#	    the account checks through Postfix.
#	  - A filter Sendmail cannot reach, with F=T, answers MAIL FROM
#	    with "451 4.3.2 Please try again later"; Postfix's
#	    milter_default_action = tempfail answers "451 4.7.1 Service
#	    unavailable - try again later".
set -eu

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || rt_skip "needs root (a private Sendmail instance)"
PATH="$PATH:/usr/sbin:/sbin"
for tool in smtp-sink redis-server redis-cli swaks m4; do
	command -v "$tool" >/dev/null 2>&1 ||
		rt_skip "$tool not installed (see scripts/install-deps)"
done
sm_root=${RAMPART_SENDMAIL_ROOT:-/var/cache/rampart-tests/sendmail}
sm_bin="$sm_root/usr/libexec/sendmail/sendmail"
sm_cf_dir="$sm_root/usr/share/sendmail/cf"
if [ ! -x "$sm_bin" ] || [ ! -f "$sm_cf_dir/m4/cf.m4" ]; then
	rt_skip "no unpacked Sendmail in $sm_root (see scripts/unpack-sendmail)"
fi
getent passwd mail >/dev/null || rt_skip "no mail user (Sendmail's DefaultUser)"

rt_find_binaries
rt_init

# Ports as every test takes them: free, outside the ephemeral range,
# claimed against concurrent runs (rt_free_port); never 25 or 7357.
RT_REDIS_PORT=$(rt_free_port)
RT_MILTER_PORT=$(rt_free_port)
sink_port=$(rt_free_port)
RT_SMTP_PORT=$(rt_free_port)

# The snippet under test: README's and the man page's must be the same.
readme="$RT_LIB_DIR/../../README.md"
manpage="$RT_LIB_DIR/../../man/rampart-milter.8"
snippet=$(grep -m1 "^ *INPUT_MAIL_FILTER(\`rampart'" "$readme" | sed 's/^ *//' || true)
[ -n "$snippet" ] || rt_hard_error "no INPUT_MAIL_FILTER line in $readme"
rt_check "the man page's Sendmail snippet is README's" \
	"$(grep -m1 -F "INPUT_MAIL_FILTER(" "$manpage" || true)" "$snippet"
case $snippet in
*"S=inet:7357@127.0.0.1,"*) ;;
*) rt_hard_error "README's snippet has no S=inet:7357@127.0.0.1: $snippet" ;;
esac
filter_line=${snippet/S=inet:7357@127.0.0.1,/S=inet:$RT_MILTER_PORT@127.0.0.1,}

# start_sendmail: build sendmail.cf from an mc file holding the snippet
# and run Sendmail on RT_SMTP_PORT (see the header for why each line).
start_sendmail() {
	local sm="$RT_DIR/sendmail"
	mkdir -p "$sm/mqueue"
	chmod 700 "$sm/mqueue"
	cat >"$sm/rampart-test.mc" <<EOF
divert(-1)
# A private Sendmail for rampart's tests: loopback only, none of the system's mail files.
divert(0)dnl
VERSIONID(\`rampart sendmail-e2e')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`mx.rampart.test')dnl
define(\`QUEUE_DIR', \`$sm/mqueue')dnl
define(\`STATUS_FILE', \`$sm/sendmail.st')dnl
define(\`confPID_FILE', \`$sm/sendmail.pid')dnl
define(\`confCR_FILE', \`-o $sm/relay-domains')dnl
define(\`HELP_FILE', \`$sm/helpfile')dnl
define(\`confDEF_USER_ID', \`mail:mail')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confTO_IDENT', \`0s')dnl
undefine(\`ALIAS_FILE')dnl
define(\`SMART_HOST', \`relay:[127.0.0.1]')dnl
define(\`RELAY_MAILER_ARGS', \`TCP \$h $sink_port')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`no_default_msa')dnl
RELAY_DOMAIN(\`127')dnl
DAEMON_OPTIONS(\`Family=inet, Name=MTA, Port=$RT_SMTP_PORT, Addr=127.0.0.1')dnl
$filter_line
MAILER(\`smtp')dnl
EOF
	if ! m4 -D_CF_DIR_="$sm_cf_dir/" "$sm_cf_dir/m4/cf.m4" "$sm/rampart-test.mc" \
		>"$sm/sendmail.cf" 2>"$sm/m4.log"; then
		rt_log "m4 cannot build sendmail.cf:"
		sed 's/^/    /' "$sm/m4.log"
		return 1
	fi
	RT_SENDMAIL_QUEUE="$sm/mqueue"
	RT_SENDMAIL_LOG="$sm/debug.log"
	: >"$RT_SENDMAIL_LOG"
	local uts="" start_wait=$RT_WAIT
	case $(hostname) in
	*.*) ;;
	*)
		if unshare --uts true 2>/dev/null; then
			uts="unshare --uts"
		else
			rt_log "no UTS namespace here: Sendmail waits a minute for its unqualified host name"
			start_wait=$((RT_WAIT + 900))
		fi
		;;
	esac
	# shellcheck disable=SC2016
	$uts sh -c '[ -z "$1" ] || hostname "$1"; shift; exec "$@"' sh "${uts:+mx.rampart.test}" \
		"$sm_bin" -C "$sm/sendmail.cf" -bD -q10s -D "$RT_SENDMAIL_LOG" -d64.5 \
		</dev/null >>"$sm/sendmail.out" 2>&1 &
	RT_SENDMAIL_PID=$!
	rt_record_pid sendmail "$RT_SENDMAIL_PID"
	RT_WAIT=$start_wait rt_wait_port "$RT_SMTP_PORT" "$RT_SENDMAIL_PID" sendmail "$sm/sendmail.out"
}

RT_CFG_ON_FAILURE=tempfail
conf="$RT_DIR/rampart.conf"
rt_start_redis "$RT_REDIS_PORT" || rt_hard_error "cannot start redis-server"
rt_start_sink "$sink_port" || rt_hard_error "cannot start smtp-sink"
rt_write_config "$conf"
rt_start_milter "$conf" || { rt_fail "rampart-milter does not start"; exit 1; }
start_sendmail || { rt_fail "the private Sendmail does not start"; exit 1; }

rcpt=bob@rcpt.example

# expect_log_line "what" ERE: like postfix-e2e.sh's, over rampart's log.
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

arrived() { [ -n "$(rt_delivered "$1")" ] && echo yes || echo no; }

# --- accepted: clean, forged headers, spam tagged -----------------------

rt_log "== clean message, forged rampart headers, a message scored spam"
rt_send clean 127.0.0.2 alice@sender.example "$rcpt" clean.eml
rt_send forged 127.0.0.2 carol@sender.example dave@rcpt.example forged-headers.eml
rt_send exe 127.0.0.4 billing@sender.example "$rcpt" ../../messages/virus-double-extension.eml
rt_wait_queue || true
status_re='^No, score=-?[0-9]+\.[0-9]{2}([ ;,]|$)'
for m in clean forged; do
	rt_expect_outcome "$m" accepted
	rt_check "$m: delivered to the sink" "$(arrived "$m")" yes
	rt_check "$m: number of X-Spam-Status headers" \
		"$(rt_header "$m" X-Spam-Status | wc -l)" 1
	rt_check_match "$m: X-Spam-Status" "$(rt_header "$m" X-Spam-Status)" "$status_re"
	for h in X-Rampart-Category X-Spam-Score X-Rampart-Symbols; do
		rt_check "$m: $h headers (clean => accept, forged ones removed)" \
			"$(rt_header "$m" "$h" | tr '\n' '|')" ""
	done
done
rt_check_match "Sendmail and rampart negotiated milter protocol version 6" \
	"$(grep -m1 'milter_negotiate(rampart): received:' "$RT_SENDMAIL_LOG" || true)" ': version 6,'
rt_check "forged: no forged header value survives" \
	"$(rt_headers forged | grep -i -E '^x-(spam|rampart)-.*forged' || true)" ""
qid=$(rt_reply clean)
rt_check_match "clean: Sendmail's queue id" "$qid" '^[0-9A-Za-z]{10,}$'
rt_check_match "clean: came through Sendmail (its Received: header, that queue id)" \
	"$(rt_header clean Received | tr '\n' '|')" "by mx\\.rampart\\.test \\(8\\.[0-9.]+/[0-9.]+\\) with ESMTP id $qid"
expect_log_line "clean: decision line under Sendmail's queue id, category=clean action=accept" \
	"^.*$qid: client=127\.0\.0\.2 .*category=clean .*action=accept"
rt_expect_outcome exe accepted
rt_check "exe: delivered to the sink" "$(arrived exe)" yes
rt_check "exe: X-Rampart-Category" "$(rt_header exe X-Rampart-Category)" spam
rt_check_match "exe: X-Rampart-Symbols" "$(rt_header exe X-Rampart-Symbols)" '(^|,)RAMPART_DOUBLE_EXTENSION\('

# --- rejected: GTUBE, a block-listed sender ----------------------------

rt_log "== GTUBE, a block-listed sender"
rt_send gtube 127.0.0.3 mallory@sender.example "$rcpt" gtube.eml
rt_expect_outcome gtube rejected
rt_check_match "gtube: reply" "$(rt_reply gtube)" '^550 5\.7\.1 '
rt_check_match "gtube: rejected at end of DATA (DATA was accepted)" \
	"$(rt_reply_to gtube DATA)" '^354 '
rt_check "gtube: not delivered" "$(arrived gtube)" no
expect_log_line "gtube: decision line with category=confirmed-spam action=reject" \
	"client=127\.0\.0\.3 .*category=confirmed-spam .*action=reject"

rt_ctl list add block from spammer@bad.example ||
	rt_fail "rampartctl list add block from spammer@bad.example: exit $?"
sleep 1.5 # lists.refresh_ms is 500
rt_send blocked-from 127.0.0.6 spammer@bad.example "$rcpt" clean.eml
rt_expect_outcome blocked-from rejected
rt_check_match "blocked-from: reply to MAIL FROM" \
	"$(rt_reply_to blocked-from "MAIL FROM")" '^550 5\.7\.1'
rt_check "blocked-from: not delivered" "$(arrived blocked-from)" no
# Sendmail passes the queue id at MAIL FROM: no NOQUEUE here.
expect_log_line "blocked-from: decision line under a queue id, not NOQUEUE" \
	"^.*[0-9A-Za-z]{10,}: client=127\.0\.0\.6 .*action=reject"

# --- tempfailed: Redis down, then rampart down --------------------------

rt_log "== Redis killed, on_failure = tempfail"
rt_kill_redis
for i in 1 2 3; do
	n="redis-down-$i"
	rt_send "$n" "127.0.0.1$i" "down-$i@sender.example" "$rcpt" clean.eml
	rt_expect_outcome "$n" tempfailed
	rt_check_match "$n: reply (rampart's own)" "$(rt_reply "$n")" '^451 4\.7\.1'
	rt_check "$n: not delivered" "$(arrived "$n")" no
done
rt_check "redis down: milter still running" "$(rt_milter_alive && echo yes || echo no)" yes

rt_log "== rampart-milter stopped: Sendmail's F=T"
rt_stop_milter
warnings=$(rt_milter_warnings)
for i in 1 2; do
	n="milter-down-$i"
	rt_send "$n" "127.0.0.2$i" "nofilter-$i@sender.example" "$rcpt" clean.eml
	rt_expect_outcome "$n" tempfailed
	rt_check_match "$n: reply (Sendmail's, F=T)" "$(rt_reply "$n")" '^451 4\.3\.2 '
	rt_check "$n: not delivered" "$(arrived "$n")" no
done
RT_EXPECTED_MILTER_WARNINGS=$(($(rt_milter_warnings) - warnings))
rt_check "milter down: Sendmail logged its filter failing" \
	"$([ "$RT_EXPECTED_MILTER_WARNINGS" -gt 0 ] && echo yes || echo no)" yes

rt_log "== Redis and rampart back"
rt_start_redis "$RT_REDIS_PORT" || rt_hard_error "cannot restart redis-server"
rt_start_milter "$conf" || rt_fail "rampart-milter does not start again"
n=back
rt_send "$n" 127.0.0.31 back@sender.example "$rcpt" clean.eml
rt_wait_queue || true
rt_expect_outcome "$n" accepted
rt_check "$n: delivered to the sink" "$(arrived "$n")" yes
rt_check_match "$n: X-Spam-Status" "$(rt_header "$n" X-Spam-Status)" "$status_re"

# --- nothing lost ------------------------------------------------------

rt_log "== count"
rt_count
rt_check_nothing_lost
rt_check "accepted = delivered + queued" \
	"$(awk '$2 == "accepted"' "$RT_DIR/outcomes" | wc -l)" $((RT_DELIVERED + RT_QUEUED))
rt_check "delivered (clean, forged, exe, back)" "$RT_DELIVERED" 4

rt_finish
