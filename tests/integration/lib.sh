# shellcheck shell=bash
#
# NAME
#	lib.sh - helpers for rampart's integration tests
# SUMMARY
#	. "$(dirname "$0")/lib.sh"
# DESCRIPTION
#	Starts, on loopback only, everything an end-to-end test needs and
#	stops it again: a private redis-server, a private Postfix instance
#	(independent of the system's, which is never touched), smtp-sink as
#	Postfix's next hop keeping every delivered message on disk, and
#	rampart-milter in the foreground. Sends messages with swaks, records
#	what happened to each, and counts them so that a test can prove that
#	no message was lost:
#
#	    sent = delivered + rejected (5xx) + tempfailed (4xx) + still queued
#
#	All state lives under one temporary directory, $RT_DIR, removed at
#	exit (set RAMPART_TEST_KEEP=1 to keep it for a post-mortem). The
#	teardown runs from an EXIT trap, so a failing or interrupted test
#	leaves no process behind.
# CONVENTIONS
#	Exit status 77 means "skipped" and 99 "hard error" to automake's test
#	harness. A test that cannot run says why and skips; it never passes
#	without having run.
# ENVIRONMENT
#	RAMPART_MILTER, RAMPARTCTL	the binaries under test (make check
#		exports absolute paths; otherwise they are looked for in the
#		build tree).
#	RAMPART_TEST_KEEP=1	keep $RT_DIR after the test.
#	RAMPART_TEST_LOG_LEVEL	the milter's log level (default "info").

RT_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RT_MESSAGES="$RT_LIB_DIR/messages"

RT_DIR=""
RT_FAILURES=0
RT_REDIS_PID=""
RT_SINK_PID=""
RT_MILTER_PID=""
RT_DNS_PID=""
RT_POSTFIX_ETC=""
# A test that runs Sendmail instead of Postfix (sendmail-e2e.sh) sets
# these: its daemon's PID, its queue directory and its debug log. The
# counting helpers then read Sendmail's queue and log.
RT_SENDMAIL_PID=""
RT_SENDMAIL_QUEUE=""
RT_SENDMAIL_LOG=""

# How long to wait for a daemon to answer or a queue to drain, in tenths
# of a second. Generous: a loaded CI machine is slow, and a timeout here is
# reported as a failure, never silently ignored.
RT_WAIT=150

rt_log() { printf '%s: %s\n' "${0##*/}" "$*"; }

rt_skip() {
	rt_log "SKIP: $*"
	exit 77
}

rt_hard_error() {
	rt_log "ERROR: $*"
	exit 99
}

# rt_check "what" GOT WANT: one assertion of equality; prints got/want
# when they differ and counts the failure (the test goes on, so that one
# run reports every behaviour that is broken).
rt_check() {
	if [ "$2" = "$3" ]; then
		rt_log "ok: $1"
	else
		rt_log "FAIL: $1"
		printf '    got:  %s\n    want: %s\n' "$2" "$3"
		RT_FAILURES=$((RT_FAILURES + 1))
	fi
}

# rt_check_match "what" GOT ERE: like rt_check, for an extended regex.
rt_check_match() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then
		rt_log "ok: $1"
	else
		rt_log "FAIL: $1"
		printf '    got:  %s\n    want: /%s/\n' "$2" "$3"
		RT_FAILURES=$((RT_FAILURES + 1))
	fi
}

rt_fail() {
	rt_log "FAIL: $*"
	RT_FAILURES=$((RT_FAILURES + 1))
}

# rt_require: skip unless this machine can run the tests. Postfix and
# smtp-sink need root (the master process, -u for the sink); the rest are
# the tools the tests drive.
rt_require() {
	[ "$(id -u)" = 0 ] || rt_skip "needs root (private Postfix instance)"
	PATH="$PATH:/usr/sbin:/sbin"
	local tool
	for tool in postfix smtp-sink redis-server redis-cli swaks script; do
		command -v "$tool" >/dev/null 2>&1 ||
			rt_skip "$tool not installed (see scripts/install-deps)"
	done
	getent passwd postfix >/dev/null || rt_skip "no postfix user"
	getent group postdrop >/dev/null || rt_skip "no postdrop group"
}

# rt_find_binaries: RAMPART_MILTER and RAMPARTCTL from the environment, or
# from the build tree: the current directory (make check runs tests from
# the top build directory) or two levels up (run from tests/integration).
rt_find_binaries() {
	local dir
	for dir in . ../.. "$RT_LIB_DIR/../.."; do
		if [ -z "${RAMPART_MILTER:-}" ] && [ -x "$dir/milter/rampart-milter" ]; then
			RAMPART_MILTER=$(cd "$dir" && pwd)/milter/rampart-milter
		fi
		if [ -z "${RAMPARTCTL:-}" ] && [ -x "$dir/ctl/rampartctl" ]; then
			RAMPARTCTL=$(cd "$dir" && pwd)/ctl/rampartctl
		fi
	done
	[ -x "${RAMPART_MILTER:-}" ] ||
		rt_hard_error "rampart-milter not found: build it or set RAMPART_MILTER"
	[ -x "${RAMPARTCTL:-}" ] ||
		rt_hard_error "rampartctl not found: build it or set RAMPARTCTL"
	export RAMPART_MILTER RAMPARTCTL
}

# rt_init: create the state directory (a fresh temporary one unless
# RT_STATE_DIR names one) and arm the teardown. The directory is world-searchable:
# the Postfix daemons and smtp-sink drop privileges and must reach their
# files below it.
rt_init() {
	if [ -n "${RT_STATE_DIR:-}" ]; then
		RT_DIR=$RT_STATE_DIR
		mkdir -p "$RT_DIR"
	else
		RT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/rampart-it.XXXXXX")
	fi
	chmod 755 "$RT_DIR"
	mkdir -p "$RT_DIR/swaks"
	: >"$RT_DIR/outcomes"
	: >"$RT_DIR/ports"
	trap rt_teardown EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# rt_free_port: print a TCP port on 127.0.0.1 for a daemon to listen on.
# The port is outside the kernel's ephemeral range, where any outgoing
# connection (hundreds in these tests) may hold it as its local port and
# make bind fail although nothing listens; nothing accepts on it (a
# connection is refused); and no concurrent test run has claimed it (a
# directory per port under $TMPDIR, made atomically, removed at teardown).
RT_PORT_CLAIMS="${TMPDIR:-/tmp}/rampart-it-ports"
rt_free_port() {
	local low high base span port tries=0
	read -r low high </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null ||
		{ low=32768; high=60999; }
	if [ "$low" -gt 12000 ]; then
		base=10000 span=$((low - 10000))
	elif [ "$high" -lt 63000 ]; then
		base=$((high + 1)) span=$((65535 - high))
	else
		base=20000 span=40000
	fi
	mkdir -p "$RT_PORT_CLAIMS"
	# Claims left by runs that were killed expire after a day.
	find "$RT_PORT_CLAIMS" -mindepth 1 -maxdepth 1 -mmin +1440 \
		-exec rmdir {} + 2>/dev/null || true
	while [ $tries -lt 200 ]; do
		tries=$((tries + 1))
		port=$((base + (RANDOM * 32768 + RANDOM) % span))
		rt_port_open "$port" && continue
		mkdir "$RT_PORT_CLAIMS/$port" 2>/dev/null || continue
		echo "$port" >>"$RT_DIR/ports"
		echo "$port"
		return 0
	done
	rt_hard_error "no free TCP port found"
}

# rt_port_open PORT: true when something accepts connections on it.
rt_port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# rt_wait_port PORT PID WHAT LOG: wait until PORT accepts, failing fast if
# the process that should open it has died.
rt_wait_port() {
	local i=0
	while ! rt_port_open "$1"; do
		if ! kill -0 "$2" 2>/dev/null; then
			rt_log "$3 exited during start-up; its log:"
			tail -n 30 "$4" 2>/dev/null | sed 's/^/    /'
			return 1
		fi
		i=$((i + 1))
		if [ $i -gt $RT_WAIT ]; then
			rt_log "$3 does not accept on port $1; its log:"
			tail -n 30 "$4" 2>/dev/null | sed 's/^/    /'
			return 1
		fi
		sleep 0.1
	done
}

# rt_record_pid NAME PID: note a process we started, so that a later run
# can stop it if this one was killed before its teardown ran.
rt_record_pid() {
	echo "$1 $2" >>"$RT_DIR/pids"
}

# rt_stop_stale DIR: stop what a previous run in DIR left running: its
# Postfix instance and the processes it recorded, each checked by name so
# that a recycled PID is never signalled.
rt_stop_stale() {
	local dir=$1 name pid
	if [ -f "$dir/postfix/spool/pid/master.pid" ] && [ -f "$dir/postfix/etc/main.cf" ]; then
		postfix -c "$dir/postfix/etc" stop >/dev/null 2>&1 || true
	fi
	[ -f "$dir/pids" ] || return 0
	while read -r name pid; do
		case $pid in '' | *[!0-9]*) continue ;; esac
		if tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q -- "$name"; then
			kill "$pid" 2>/dev/null || true
			sleep 0.5
			if kill -0 "$pid" 2>/dev/null; then
				kill -KILL "$pid" 2>/dev/null || true
			fi
		fi
	done <"$dir/pids"
	return 0
}

# rt_kill PID [SIGNAL]: signal one process we started and wait for it.
rt_kill() {
	local pid=$1 i=0
	[ -n "$pid" ] || return 0
	# Not our job any more: no "Killed" notice from bash, which still
	# reaps the process.
	disown "$pid" 2>/dev/null || true
	kill -"${2:-TERM}" "$pid" 2>/dev/null || return 0
	while kill -0 "$pid" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 50 ]; then
			kill -KILL "$pid" 2>/dev/null || true
		fi
		sleep 0.1
	done
}

# --- Redis ------------------------------------------------------------

# rt_start_redis PORT: a throw-away redis-server: loopback only, no RDB or
# AOF (nothing survives a kill, which is what the failure tests want),
# its own working directory, not daemonised so that we hold its PID.
rt_start_redis() {
	RT_REDIS_PORT=$1
	mkdir -p "$RT_DIR/redis"
	redis-server --port "$RT_REDIS_PORT" --bind 127.0.0.1 \
		--save '' --appendonly no --dir "$RT_DIR/redis" \
		--daemonize no --protected-mode yes \
		--logfile "$RT_DIR/redis/redis.log" </dev/null &
	RT_REDIS_PID=$!
	rt_record_pid redis-server "$RT_REDIS_PID"
	local i=0
	until [ "$(redis-cli -h 127.0.0.1 -p "$RT_REDIS_PORT" ping 2>/dev/null)" = PONG ]; do
		i=$((i + 1))
		if ! kill -0 "$RT_REDIS_PID" 2>/dev/null || [ $i -gt $RT_WAIT ]; then
			rt_log "redis-server did not start; its log:"
			tail -n 20 "$RT_DIR/redis/redis.log" 2>/dev/null | sed 's/^/    /'
			return 1
		fi
		sleep 0.1
	done
}

# rt_kill_redis: Redis dies as in a crash (SIGKILL), mid-run.
rt_kill_redis() {
	rt_kill "$RT_REDIS_PID" KILL
	RT_REDIS_PID=""
}

# --- DNS --------------------------------------------------------------

# rt_start_dns PORT ZONEFILE...: the test DNS server (tests/dns/testdns.py)
# on 127.0.0.1:PORT, UDP and TCP, serving ZONEFILEs; its queries are
# logged to $RT_DIR/dns-queries.log. Ready when it answers.
rt_start_dns() {
	RT_DNS_PORT=$1
	shift
	python3 "$RT_LIB_DIR/../dns/testdns.py" --port "$RT_DNS_PORT" \
		--log "$RT_DIR/dns-queries.log" "$@" \
		</dev/null >"$RT_DIR/dns.log" 2>&1 &
	RT_DNS_PID=$!
	rt_record_pid testdns "$RT_DNS_PID"
	local i=0
	until python3 - "$RT_DNS_PORT" <<'PY' 2>/dev/null
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.2)
s.sendto(struct.pack("!HHHHHH", 1, 0x100, 1, 0, 0, 0) + b"\x05probe\x04test\x00" + struct.pack("!HH", 1, 1),
         ("127.0.0.1", int(sys.argv[1])))
s.recv(512)
PY
	do
		i=$((i + 1))
		if ! kill -0 "$RT_DNS_PID" 2>/dev/null || [ $i -gt $RT_WAIT ]; then
			rt_log "the test DNS server did not start; its log:"
			tail -n 20 "$RT_DIR/dns.log" 2>/dev/null | sed 's/^/    /'
			return 1
		fi
		sleep 0.1
	done
}

# rt_stop_dns: the DNS server goes away (its port then answers nothing).
rt_stop_dns() {
	rt_kill "$RT_DNS_PID" KILL
	RT_DNS_PID=""
}

# --- smtp-sink -------------------------------------------------------

# rt_start_sink PORT: Postfix's next hop. Each transaction is written to
# its own file under $RT_DIR/sink so that tests can read the headers that
# arrived. Runs as nobody, so the directory belongs to nobody.
rt_start_sink() {
	RT_SINK_PORT=$1
	mkdir -p "$RT_DIR/sink"
	chown nobody "$RT_DIR/sink"
	smtp-sink -u nobody -d "$RT_DIR/sink/msg." \
		"127.0.0.1:$RT_SINK_PORT" 256 \
		</dev/null >"$RT_DIR/sink.log" 2>&1 &
	RT_SINK_PID=$!
	rt_record_pid smtp-sink "$RT_SINK_PID"
	rt_wait_port "$RT_SINK_PORT" "$RT_SINK_PID" smtp-sink "$RT_DIR/sink.log"
}

# --- Postfix ----------------------------------------------------------

# rt_postfix CMD...: run the postfix command on the private instance.
# postfix prints its errors only to a terminal, so give it one.
rt_postfix() {
	script -qec "postfix -c '$RT_POSTFIX_ETC' $*" /dev/null </dev/null \
		>>"$RT_DIR/postfix/postfix-cmd.log" 2>&1
}

# rt_start_postfix SMTPPORT SINKPORT [MILTERPORT]: a private Postfix
# instance under $RT_DIR/postfix that listens on 127.0.0.1:SMTPPORT,
# relays everything to the sink, and consults rampart on MILTERPORT (no
# milter if empty). Nothing uses DNS; no service is chrooted; anvil's
# per-client limits are off because every test client is on 127/8.
rt_start_postfix() {
	local smtp_port=$1 sink_port=$2 milter_port=${3:-} pf="$RT_DIR/postfix"
	RT_SMTP_PORT=$smtp_port
	RT_POSTFIX_ETC="$pf/etc"
	mkdir -p "$pf/etc" "$pf/spool" "$pf/data"
	chown postfix "$pf/data"

	cat >"$pf/etc/main.cf" <<EOF
# Private instance for rampart's tests: independent of the system one.
compatibility_level = 3.6
config_directory = $pf/etc
queue_directory = $pf/spool
data_directory = $pf/data
multi_instance_enable = no
alternate_config_directories =
mail_owner = postfix
setgid_group = postdrop
syslog_name = rampart-test-postfix
maillog_file = $pf/maillog
maillog_file_prefixes = $pf

myhostname = mx.rampart.test
mydomain = rampart.test
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
relay_domains =
local_recipient_maps =
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:$sink_port
smtp_dns_support_level = disabled
smtp_host_lookup = native
smtpd_peername_lookup = no
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
biff = no
append_dot_mydomain = no

# Tests send bursts from 127/8: no anvil limits, no tarpit, no flow delay.
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
smtpd_client_recipient_rate_limit = 0
smtpd_client_new_tls_session_rate_limit = 0
smtpd_client_auth_rate_limit = 0
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 100
smtpd_hard_error_limit = 200
in_flow_delay = 0

# A filter that is down must not let mail through unfiltered.
smtpd_milters = ${milter_port:+inet:127.0.0.1:$milter_port}
non_smtpd_milters =
milter_protocol = 6
milter_default_action = tempfail
milter_connect_timeout = 10s
milter_command_timeout = 20s
milter_content_timeout = 60s
${RT_POSTFIX_MAIN_EXTRA:-}
EOF

	# One line per service; "n" in the chroot column everywhere.
	printf '127.0.0.1:%s inet n - n - - smtpd\n' "$smtp_port" >"$pf/etc/master.cf"
	grep -v '^#' "$RT_LIB_DIR/postfix-services.cf" >>"$pf/etc/master.cf"
	: >"$pf/maillog"
	rt_postfix set-permissions || true
	if ! rt_postfix start; then
		rt_log "postfix did not start:"
		sed 's/^/    /' "$pf/postfix-cmd.log"
		tail -n 20 "$pf/maillog" | sed 's/^/    /'
		return 1
	fi
	local i=0
	until rt_port_open "$smtp_port"; do
		i=$((i + 1))
		if [ $i -gt $RT_WAIT ]; then
			rt_log "postfix does not accept on port $smtp_port:"
			tail -n 20 "$pf/maillog" | sed 's/^/    /'
			return 1
		fi
		sleep 0.1
	done
}

# rt_sasl_user LOGIN PASSWORD: SMTP AUTH (PLAIN, LOGIN) for the private
# Postfix started after this, with Cyrus SASL reading a private sasldb
# holding LOGIN (user@realm); clients then give swaks --auth-user LOGIN
# --auth-password PASSWORD. Needs saslpasswd2 (Debian: sasl2-bin) and the
# sasldb plugin (libsasl2-modules-db).
rt_sasl_user() {
	local login=$1 password=$2 sasl="$RT_DIR/sasl"
	mkdir -p "$sasl"
	printf '%s' "$password" | saslpasswd2 -p -c -f "$sasl/sasldb2" -u "${login#*@}" "${login%@*}" || return 1
	chown postfix "$sasl/sasldb2"
	chmod 600 "$sasl/sasldb2"
	chmod 755 "$sasl" # smtpd reads it as the postfix user
	cat >"$sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $sasl/sasldb2
mech_list: PLAIN LOGIN
EOF
	chmod 644 "$sasl/smtpd.conf"
	# Debian's Postfix reads CONFIG_DIRECTORY/sasl/smtpd.conf whatever
	# cyrus_sasl_config_path says; others read cyrus_sasl_config_path.
	mkdir -p "$RT_DIR/postfix/etc/sasl"
	cp "$sasl/smtpd.conf" "$RT_DIR/postfix/etc/sasl/smtpd.conf"
	RT_POSTFIX_MAIN_EXTRA="# SMTP AUTH with a private sasldb
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $sasl
smtpd_sasl_security_options = noanonymous"
}

rt_stop_postfix() {
	[ -n "$RT_POSTFIX_ETC" ] || return 0
	[ -f "$RT_DIR/postfix/spool/pid/master.pid" ] || return 0
	rt_postfix stop || true
	# Wait for the master to go, so that nothing is left writing below
	# $RT_DIR when it is removed.
	local pid i=0
	pid=$(tr -dc 0-9 <"$RT_DIR/postfix/spool/pid/master.pid" 2>/dev/null || true)
	while [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
		i=$((i + 1))
		sleep 0.1
	done
}

# rt_queued: messages still in the private instance's queue.
rt_queued() {
	if [ -n "$RT_SENDMAIL_QUEUE" ]; then
		# A control file (qf; Qf when quarantined) per queued message.
		find "$RT_SENDMAIL_QUEUE" -type f \( -name 'qf*' -o -name 'Qf*' \) | wc -l
		return
	fi
	local s="$RT_DIR/postfix/spool"
	find "$s/maildrop" "$s/incoming" "$s/active" "$s/deferred" "$s/hold" \
		-type f 2>/dev/null | wc -l
}

# rt_wait_queue: wait until nothing is in flight (incoming, active); what
# is deferred or held stays queued and is counted as such.
rt_wait_queue() {
	local i=0
	while [ "$(rt_in_flight)" -gt 0 ]; do
		i=$((i + 1))
		if [ $i -gt $RT_WAIT ]; then
			rt_log "queue did not drain in time"
			return 1
		fi
		sleep 0.1
	done
}

# rt_in_flight: messages accepted whose first delivery attempt has not
# ended. Sendmail's are a control file still being written (tf) or one
# with no attempt counted yet (N0; a deferred one says N1 or more).
rt_in_flight() {
	if [ -n "$RT_SENDMAIL_QUEUE" ]; then
		{
			find "$RT_SENDMAIL_QUEUE" -type f -name 'tf*'
			find "$RT_SENDMAIL_QUEUE" -type f -name 'qf*' -exec grep -l -x N0 {} + 2>/dev/null
		} | wc -l
		return
	fi
	local s="$RT_DIR/postfix/spool"
	find "$s/maildrop" "$s/incoming" "$s/active" -type f 2>/dev/null | wc -l
}

# --- rampart ----------------------------------------------------------

# rt_write_config FILE: a rampart config for this run. Settings come from
# RT_CFG_* variables so a test can vary them:
#   RT_CFG_ON_FAILURE (tempfail), RT_CFG_IP_MESSAGES ("120/1m"),
#   RT_CFG_IP_BURST (60), RT_CFG_REFRESH_MS (500), RT_CFG_ACTION_CLEAN
#   (accept), RT_CFG_MAX_SIZE (1000000). The rules are the tree's rules/.
rt_write_config() {
	cat >"$1" <<EOF
# rampart configuration for an integration test run.
[milter]
socket = "inet:$RT_MILTER_PORT@127.0.0.1"

[log]
level = "${RAMPART_TEST_LOG_LEVEL:-info}"

[redis]
servers = ["127.0.0.1:$RT_REDIS_PORT"]
prefix = "rampart:"
timeout_ms = 250
on_failure = "${RT_CFG_ON_FAILURE:-tempfail}"
breaker_failures = 3
breaker_cooldown_ms = 2000

[lists]
refresh_ms = ${RT_CFG_REFRESH_MS:-500}

[ratelimit]
ip_messages = "${RT_CFG_IP_MESSAGES:-120/1m}"
ip_messages_burst = ${RT_CFG_IP_BURST:-60}

[limits]
max_message_size = ${RT_CFG_MAX_SIZE:-1000000}

[rules]
shipped = "$RT_LIB_DIR/../../rules"

[action]
confirmed_spam = "reject"
spam = "tag"
clean = "${RT_CFG_ACTION_CLEAN:-accept}"
EOF
}

# rt_start_milter CONFIG: check the config, then run rampart-milter in the
# foreground (its stderr appended to $RT_DIR/milter.log) and wait until
# its socket accepts.
rt_start_milter() {
	RT_MILTER_CONF=$1
	if ! "$RAMPART_MILTER" -c "$RT_MILTER_CONF" --check-config \
		>>"$RT_DIR/milter.log" 2>&1; then
		rt_log "rampart-milter --check-config rejects $RT_MILTER_CONF:"
		tail -n 20 "$RT_DIR/milter.log" | sed 's/^/    /'
		return 1
	fi
	"$RAMPART_MILTER" -c "$RT_MILTER_CONF" -f </dev/null \
		>>"$RT_DIR/milter.log" 2>&1 &
	RT_MILTER_PID=$!
	rt_record_pid rampart-milter "$RT_MILTER_PID"
	rt_wait_port "$RT_MILTER_PORT" "$RT_MILTER_PID" rampart-milter \
		"$RT_DIR/milter.log"
}

rt_stop_milter() {
	rt_kill "$RT_MILTER_PID" TERM
	RT_MILTER_PID=""
}

# rt_reload_milter: SIGHUP the milter and wait until it logs that the
# configuration was reloaded or refused. A fixed sleep is not enough:
# compiling the rules can take seconds on a loaded machine.
rt_reload_milter() {
	local done_re='configuration reloaded|reload refused' before i=0
	before=$(grep -c -E "$done_re" "$RT_DIR/milter.log")
	kill -HUP "$RT_MILTER_PID" || return 1
	while [ "$(grep -c -E "$done_re" "$RT_DIR/milter.log")" -le "$before" ]; do
		rt_milter_alive || return 1
		i=$((i + 1))
		if [ $i -gt $RT_WAIT ]; then
			rt_log "rampart-milter logged no reload in time after SIGHUP"
			return 1
		fi
		sleep 0.1
	done
}

# rt_milter_alive: the milter process is still there (a crash would be
# masked by milter_default_action = tempfail otherwise).
rt_milter_alive() {
	[ -n "$RT_MILTER_PID" ] && kill -0 "$RT_MILTER_PID" 2>/dev/null
}

rt_ctl() {
	"$RAMPARTCTL" -c "$RT_MILTER_CONF" "$@"
}

# rt_milter_warnings: how many times Postfix has so far logged trouble
# talking to a milter. A rise means Postfix applied its default action
# instead of hearing rampart's answer.
rt_milter_warnings() {
	if [ -n "$RT_SENDMAIL_LOG" ]; then
		# The log is Sendmail's milter debugging (-d64), quiet but for
		# the negotiation unless a filter fails.
		grep -c -E -i 'error|fail|timeout|time out' "$RT_SENDMAIL_LOG" 2>/dev/null || true
		return
	fi
	grep -c -i 'warning: .*milter' "$RT_DIR/postfix/maillog" 2>/dev/null || true
}

# --- sending and reading back ----------------------------------------

# rt_expect_outcome NAME OUTCOME: the client was told OUTCOME; on a mismatch
# show the SMTP dialogue.
rt_expect_outcome() {
	local got
	got=$(rt_outcome "$1")
	rt_check "$1: outcome" "$got $(rt_reply "$1")" "$2 $(rt_reply "$1")"
	[ "$got" = "$2" ] || rt_transcript "$1"
}

# rt_expect_no_data NAME: the session never got as far as DATA.
rt_expect_no_data() {
	local r
	r=$(rt_reply_to "$1" DATA)
	if [ -n "$r" ]; then
		rt_fail "$1: reached DATA (reply \"$r\"), want rejection before DATA"
		rt_transcript "$1"
	else
		rt_log "ok: $1: rejected before DATA"
	fi
}

# rt_send NAME CLIENT_IP FROM TO MESSAGE [SWAKS_OPTION...]: send MESSAGE
# (a file under messages/) through the private Postfix from CLIENT_IP
# (any 127/8 address) and record the outcome under NAME. Every message
# carries "X-Test-Id: NAME" so that its delivered copy can be found.
rt_send() {
	local name=$1 ip=$2 from=$3 to=$4 msg=$5
	shift 5
	local t="$RT_DIR/swaks/$name.txt"
	swaks --server "127.0.0.1:$RT_SMTP_PORT" --local-interface "$ip" \
		--helo "client-${ip//./-}.rampart.test" \
		--from "$from" --to "$to" --data "@$RT_MESSAGES/$msg" \
		--add-header "X-Test-Id: $name" --timeout 60 "$@" \
		</dev/null >"$t" 2>&1 || true
	rt_classify "$name" >>"$RT_DIR/outcomes"
}

# rt_classify NAME: one line "NAME OUTCOME CODE TEXT" from a transcript.
# OUTCOME is accepted (queued, whatever some recipients were told; CODE is
# then the queue id), rejected (5xx),
# tempfailed (4xx) or broken (no SMTP answer at all: a test error).
rt_classify() {
	local t="$RT_DIR/swaks/$1.txt" err qid
	# Queued is accepted, whatever some recipients were told. Postfix
	# says "250 2.0.0 Ok: queued as QID", Sendmail "250 2.0.0 QID
	# Message accepted for delivery".
	qid=$(sed -n -e 's/^<-  *250 .*queued as \([0-9A-Za-z]*\).*/\1/p' \
		-e 's/^<-  *250 [0-9.]* \([0-9A-Za-z]*\) Message accepted for delivery.*/\1/p' \
		"$t" | tr -d '\r' | head -n1)
	if [ -n "$qid" ]; then
		printf '%s accepted %s\n' "$1" "$qid"
		return
	fi
	err=$(grep -m1 '^<\*\* ' "$t" | sed 's/^<\*\* *//' | tr -d '\r')
	case $err in
	5*) printf '%s rejected %s\n' "$1" "$err"; return ;;
	4*) printf '%s tempfailed %s\n' "$1" "$err"; return ;;
	esac
	printf '%s broken %s\n' "$1" "$(grep -m1 -E '^(\*\*\*|<\*\*)' "$t" | tr -d '\r')"
}

# rt_outcome NAME: the recorded outcome word; rt_reply NAME: code + text.
rt_outcome() { awk -v n="$1" '$1 == n { print $2 }' "$RT_DIR/outcomes"; }
rt_reply() { awk -v n="$1" '$1 == n { $1 = ""; $2 = ""; sub(/^  /, ""); print }' "$RT_DIR/outcomes"; }

# rt_reply_to NAME COMMAND: the server's first reply line after the client
# sent COMMAND (e.g. "MAIL FROM", "RCPT TO", "DATA") in that transcript;
# empty if the command was never sent.
rt_reply_to() {
	awk -v c="$2" '
		found && /^<(-|\*\*) / { sub(/^<(-|\*\*) +/, ""); sub(/\r$/, ""); print; exit }
		/^ -> / && index($0, " -> " c) == 1 { found = 1 }
	' "$RT_DIR/swaks/$1.txt"
}

# rt_stage NAME: where in the session the first error reply came: the
# command it answered ("end of DATA" when the message had been sent,
# "greeting" when it came before any command).
rt_stage() {
	tr -d '\r' <"$RT_DIR/swaks/$1.txt" | awk '
		/^<\*\* / { print (body ? "end of DATA" : (cmd == "" ? "greeting" : cmd)); exit }
		/^<-  *354 / { body = 1; next }
		/^ -> / && !body { cmd = $2; if (cmd == "MAIL" || cmd == "RCPT") cmd = cmd " " $3; sub(/:.*/, "", cmd) }
	'
}

# rt_transcript NAME: the SMTP dialogue of that transcript (message body
# and EHLO capabilities left out), indented, for failure reports.
rt_transcript() {
	tr -d '\r' <"$RT_DIR/swaks/$1.txt" | awk '
		/^<-  *354 / { print; body = 1; next }
		body && /^ -> / { next }
		/^<-  *250-/ { next }
		/^(<-|<\*\*| ->|\*\*\*)/ { body = 0; print }
	' | sed 's/^/    | /'
}

# rt_delivered NAME: the sink's file holding message NAME (empty if it
# did not arrive).
rt_delivered() {
	rt_wait_queue || true # queued is not yet delivered
	grep -l -i -x -F "X-Test-Id: $1" "$RT_DIR"/sink/msg.* 2>/dev/null |
		head -n1 || true
}

# rt_headers NAME: the delivered message's header section, continuation
# lines unfolded, CRs removed. smtp-sink puts its own X-* lines about the
# session before the message; those are skipped (they end at the
# Received: header Postfix added).
rt_headers() {
	local f
	f=$(rt_delivered "$1")
	[ -n "$f" ] || return 0
	tr -d '\r' <"$f" | awk '
		!inmsg && /^Received:/ { inmsg = 1 }
		!inmsg { next }
		/^$/ { exit }
		/^[ \t]/ { sub(/^[ \t]+/, " "); cur = cur $0; next }
		{ if (cur != "") print cur; cur = $0 }
		END { if (cur != "") print cur }
	'
}

# rt_header NAME FIELD: the values of every FIELD header of message NAME,
# one per line (field name matched case-insensitively).
rt_header() {
	rt_headers "$1" | awk -v f="$2" '
		BEGIN { f = tolower(f) ":" }
		tolower(substr($0, 1, length(f))) == f {
			v = substr($0, length(f) + 1); sub(/^[ \t]+/, "", v); print v
		}'
}

# rt_count: the "nothing lost" check over every message sent so far.
# Waits for in-flight mail to settle first. Sets RT_SENT, RT_DELIVERED,
# RT_REJECTED, RT_TEMPFAILED, RT_QUEUED, RT_BROKEN.
rt_count() {
	rt_wait_queue || true
	RT_SENT=$(wc -l <"$RT_DIR/outcomes")
	RT_REJECTED=$(awk '$2 == "rejected"' "$RT_DIR/outcomes" | wc -l)
	RT_TEMPFAILED=$(awk '$2 == "tempfailed"' "$RT_DIR/outcomes" | wc -l)
	RT_BROKEN=$(awk '$2 == "broken"' "$RT_DIR/outcomes" | wc -l)
	RT_DELIVERED=$(find "$RT_DIR/sink" -name 'msg.*' -type f | wc -l)
	RT_QUEUED=$(rt_queued)
	rt_log "count: sent=$RT_SENT delivered=$RT_DELIVERED rejected=$RT_REJECTED" \
		"tempfailed=$RT_TEMPFAILED queued=$RT_QUEUED broken=$RT_BROKEN"
}

# rt_check_nothing_lost: after rt_count, what every end-to-end run ends
# with: every session got an SMTP answer, every message sent is accounted
# for, the milter still runs, and the MTA logged no milter warning (or
# exactly RT_EXPECTED_MILTER_WARNINGS, those of a case that stopped the
# milter on purpose).
rt_check_nothing_lost() {
	rt_check "no session without an SMTP answer" "$RT_BROKEN" 0
	rt_check "sent = delivered + rejected + tempfailed + queued" \
		"$RT_SENT" $((RT_DELIVERED + RT_REJECTED + RT_TEMPFAILED + RT_QUEUED))
	rt_check "milter still running at the end" "$(rt_milter_alive && echo yes || echo no)" yes
	local mta=Postfix
	[ -z "$RT_SENDMAIL_LOG" ] || mta=Sendmail
	rt_check "$mta milter warnings over the whole run" \
		"$(rt_milter_warnings)" "${RT_EXPECTED_MILTER_WARNINGS:-0}"
}

# rt_finish: the end of a test script: exit 1 saying how many assertions
# failed, or say that all passed.
rt_finish() {
	if [ "$RT_FAILURES" -gt 0 ]; then
		rt_log "$RT_FAILURES assertion(s) failed"
		exit 1
	fi
	rt_log "all assertions passed"
}

# --- teardown --------------------------------------------------------

# On failure, show the logs that explain it before they are removed.
rt_dump_logs() {
	local f
	for f in "$RT_DIR/milter.log" "$RT_DIR/postfix/maillog" ${RT_SENDMAIL_LOG:+"$RT_SENDMAIL_LOG"} \
		"$RT_DIR/redis/redis.log" "$RT_DIR/sink.log"; do
		[ -s "$f" ] || continue
		rt_log "--- last lines of ${f#"$RT_DIR"/} ---"
		tail -n 60 "$f" | sed 's/^/    /'
	done
}

rt_teardown() {
	local status=$?
	trap - EXIT
	[ -n "$RT_DIR" ] || exit "$status"
	rt_stop_postfix
	rt_kill "$RT_SENDMAIL_PID"
	rt_stop_milter
	rt_kill "$RT_SINK_PID"
	rt_kill "$RT_REDIS_PID"
	rt_kill "$RT_DNS_PID"
	if [ "$status" != 0 ] && [ "$status" != 77 ]; then
		rt_dump_logs
	fi
	local port
	while read -r port; do
		rmdir "$RT_PORT_CLAIMS/$port" 2>/dev/null || true
	done <"$RT_DIR/ports" 2>/dev/null || true
	if [ "${RAMPART_TEST_KEEP:-0}" = 1 ]; then
		rt_log "state kept in $RT_DIR"
	else
		rm -rf "$RT_DIR"
	fi
	exit "$status"
}
