# shellcheck shell=bash
#
# NAME
#   mta.sh - a private Postfix on loopback for the MTA-level benchmark
# SYNOPSIS
#   . bench/mta.sh
#   MTA_DIR=/scratch/postfix
#   mta_start SINKPORT NAME=PORT=MILTER ...   (MILTER empty: no milter)
#   mta_send NAME PORT COUNT SESSIONS FILE...
#   mta_stop
# DESCRIPTION
#   One private Postfix instance (never the system's; nothing of it is
#   read or changed) with one smtpd service per NAME on 127.0.0.1:PORT,
#   each with its own smtpd_milters (as Postfix spells a socket:
#   inet:127.0.0.1:PORT or unix:PATH), all relaying to smtp-sink on
#   127.0.0.1:SINKPORT. No DNS, no chroot, no anvil limits (all load
#   comes from 127.0.0.1), milter_default_action = tempfail so that a
#   filter that fails shows as tempfailed mail, never as mail let through.
#   Each service logs under its own syslog_name (postfix-NAME) into
#   MTA_DIR/maillog.
#
#   mta_send runs one smtp-source per FILE at once, SESSIONS/FILES
#   parallel sessions each (at least one), COUNT messages in all, one
#   message per SMTP connection (as an MX sees them), then waits until
#   nothing is in flight. It prints one line:
#
#     NAME sent delivered rejected tempfailed discarded queued lost seconds msg_per_s
#
#   sent is what smtp-source was told to send; delivered counts
#   "status=sent" lines of the relay to the sink (cross-checked against
#   the sink's own count: the larger difference is reported as lost);
#   rejected and tempfailed count the 5.x.x and 4.x.x "reject" and
#   "milter-reject" lines of that service's smtpd; discarded its
#   "milter-discard" lines; queued what is left in the queue; lost =
#   sent - everything else, which must be 0. seconds runs from the first
#   connection to the moment the queue is empty, so msg_per_s =
#   delivered / seconds is delivered mail, end to end.
#
#   Needs root (Postfix's master, smtp-sink -u), postfix, smtp-source,
#   smtp-sink and script (postfix prints its errors only to a terminal).
# ENVIRONMENT
#   MTA_DIR   the instance's directory (required; made world-searchable)

# Where this file is: the Postfix services table is shared with the tests.
MTA_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# mta_missing: print what is missing, nothing when the MTA level can run.
mta_missing() {
    local m="" t
    [ "$(id -u)" = 0 ] || m="root"
    for t in postfix postsuper smtp-source smtp-sink script; do
        PATH="$PATH:/usr/sbin:/sbin" command -v "$t" >/dev/null 2>&1 || m="$m $t"
    done
    getent passwd postfix >/dev/null || m="$m user:postfix"
    getent group postdrop >/dev/null || m="$m group:postdrop"
    echo "${m# }"
}

MTA_SINK_PID=""

mta_postfix() {
    script -qec "postfix -c '$MTA_DIR/etc' $*" /dev/null </dev/null >>"$MTA_DIR/postfix-cmd.log" 2>&1
}

mta_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

mta_start() {
    local sink_port=$1 svc name port milter i
    shift
    PATH="$PATH:/usr/sbin:/sbin"
    mkdir -p "$MTA_DIR/etc" "$MTA_DIR/spool" "$MTA_DIR/data" "$MTA_DIR/sink"
    chmod 755 "$MTA_DIR"
    chown postfix "$MTA_DIR/data"
    chown nobody "$MTA_DIR/sink"
    cat >"$MTA_DIR/etc/main.cf" <<EOF
# A private instance for rampart's benchmark: independent of the system one.
compatibility_level = 3.6
config_directory = $MTA_DIR/etc
queue_directory = $MTA_DIR/spool
data_directory = $MTA_DIR/data
multi_instance_enable = no
alternate_config_directories =
mail_owner = postfix
setgid_group = postdrop
syslog_name = postfix-bench
maillog_file = $MTA_DIR/maillog
maillog_file_prefixes = $MTA_DIR

myhostname = mx.bench.test
mydomain = bench.test
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
message_size_limit = 104857600

# All load comes from 127.0.0.1: no anvil limits, no tarpit, no flow delay.
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
smtpd_client_recipient_rate_limit = 0
smtpd_client_new_tls_session_rate_limit = 0
smtpd_client_auth_rate_limit = 0
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 2000
in_flow_delay = 0

# Each service sets its own smtpd_milters in master.cf.
smtpd_milters =
non_smtpd_milters =
milter_protocol = 6
milter_default_action = tempfail
milter_connect_timeout = 10s
milter_command_timeout = 30s
milter_content_timeout = 120s
EOF
    : >"$MTA_DIR/etc/master.cf"
    for svc in "$@"; do
        IFS='=' read -r name port milter <<<"$svc"
        printf '127.0.0.1:%s inet n - n - 200 smtpd\n  -o syslog_name=postfix-%s\n  -o smtpd_milters=%s\n' \
            "$port" "$name" "$milter" >>"$MTA_DIR/etc/master.cf"
    done
    grep -v '^#' "$MTA_LIB_DIR/../tests/integration/postfix-services.cf" >>"$MTA_DIR/etc/master.cf"
    : >"$MTA_DIR/maillog"
    # -c: a running count of delivered messages on stdout.
    smtp-sink -c -u nobody "127.0.0.1:$sink_port" 1000 </dev/null >"$MTA_DIR/sink.out" 2>"$MTA_DIR/sink.log" &
    MTA_SINK_PID=$!
    i=0
    until mta_port_open "$sink_port"; do
        i=$((i + 1))
        if ! kill -0 "$MTA_SINK_PID" 2>/dev/null || [ $i -gt 100 ]; then
            echo "mta: smtp-sink did not start: $(tail -n 3 "$MTA_DIR/sink.log")" >&2
            return 1
        fi
        sleep 0.1
    done
    mta_postfix set-permissions || true
    if ! mta_postfix start; then
        echo "mta: postfix did not start:" >&2
        tail -n 10 "$MTA_DIR/postfix-cmd.log" "$MTA_DIR/maillog" >&2
        return 1
    fi
    for svc in "$@"; do
        IFS='=' read -r name port milter <<<"$svc"
        i=0
        until mta_port_open "$port"; do
            i=$((i + 1))
            if [ $i -gt 150 ]; then
                echo "mta: postfix does not accept on port $port:" >&2
                tail -n 10 "$MTA_DIR/maillog" >&2
                return 1
            fi
            sleep 0.1
        done
    done
}

mta_stop() {
    local pid="" i=0
    [ -f "$MTA_DIR/spool/pid/master.pid" ] && pid=$(tr -dc 0-9 <"$MTA_DIR/spool/pid/master.pid" 2>/dev/null)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        mta_postfix stop || true
        while [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
            i=$((i + 1))
            sleep 0.1
        done
    fi
    if [ -n "$MTA_SINK_PID" ]; then
        disown "$MTA_SINK_PID" 2>/dev/null || true
        kill "$MTA_SINK_PID" 2>/dev/null
        MTA_SINK_PID=""
    fi
}

# mta_in_flight: messages Postfix is still working on.
mta_in_flight() {
    find "$MTA_DIR/spool/maildrop" "$MTA_DIR/spool/incoming" "$MTA_DIR/spool/active" -type f 2>/dev/null | wc -l
}

mta_queued() {
    find "$MTA_DIR/spool/maildrop" "$MTA_DIR/spool/incoming" "$MTA_DIR/spool/active" \
        "$MTA_DIR/spool/deferred" "$MTA_DIR/spool/hold" -type f 2>/dev/null | wc -l
}

# mta_sink_count: messages the sink has received so far (its -c counter,
# "sess=N quit=N mesg=N", rewritten in place with carriage returns).
mta_sink_count() {
    tr '\r' '\n' <"$MTA_DIR/sink.out" | sed -n 's/.*mesg=\([0-9]*\).*/\1/p' | tail -n 1 | awk '{ n = $1 } END { print n + 0 }'
}

mta_send() {
    local name=$1 port=$2 count=$3 sessions=$4
    shift 4
    local files=("$@")
    local n=${#files[@]} per each i start end line0 sink0 pids=()
    each=$((sessions / n))
    [ "$each" -ge 1 ] || each=1
    line0=$(wc -l <"$MTA_DIR/maillog")
    sink0=$(mta_sink_count)
    start=$(date +%s.%N)
    for i in "${!files[@]}"; do
        # COUNT spread over the files; the first ones take the remainder.
        per=$((count / n + (i < count % n ? 1 : 0)))
        [ "$per" -gt 0 ] || continue
        smtp-source -A -s "$each" -m "$per" -f "sender$i@sender.example" -t "rcpt$i@rcpt.example" \
            -F "${files[$i]}" "127.0.0.1:$port" >>"$MTA_DIR/source.log" 2>&1 &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i"; done
    i=0
    while [ "$(mta_in_flight)" -gt 0 ] && [ $i -lt 1200 ]; do
        i=$((i + 1))
        sleep 0.05
    done
    end=$(date +%s.%N)
    sleep 0.3 # the last "status=sent" line reaches the log after the queue file is gone
    tail -n +"$((line0 + 1))" "$MTA_DIR/maillog" | awk -v name="$name" -v sent="$count" \
        -v queued="$(mta_queued)" -v sink="$(($(mta_sink_count) - sink0))" -v t="$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')" '
        / status=sent / { delivered++ }
        index($0, " postfix-" name "/smtpd[") && / (milter-)?reject: / {
            # "END-OF-MESSAGE from ...: 4.7.1 text", or "RCPT from ...: 451 4.7.1 text"
            if (match($0, /: ([45][0-9][0-9] )?[45]\.[0-9]+\.[0-9]+ /)) {
                if (substr($0, RSTART + 2, 1) == "5") rejected++; else tempfailed++
            }
        }
        index($0, " postfix-" name "/smtpd[") && / milter-discard: / { discarded++ }
        END {
            lost = sent - delivered - rejected - tempfailed - discarded - queued
            if (sink != delivered && sent - sink - rejected - tempfailed - discarded - queued > lost)
                lost = sent - sink - rejected - tempfailed - discarded - queued
            printf "%s %d %d %d %d %d %d %d %.3f %.1f\n", name, sent, delivered, rejected, tempfailed,
                discarded, queued, lost, t, (t > 0 ? delivered / t : 0)
        }'
}
