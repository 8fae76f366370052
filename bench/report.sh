# shellcheck shell=bash
#
# NAME
#   report.sh - the tables and target lines of bench/run
# SYNOPSIS
#   . bench/report.sh; report >FILE
# DESCRIPTION
#   Reads what bench/run measured in its scratch directory and prints the
#   report; returns bench/run's exit status (see there). Sourced by
#   bench/run, whose variables it reads:
#     runs.tsv    one line per milter-level run: filter transport
#                 concurrency round, then the fields of json_fields, then
#                 filter_ticks backend_ticks redis_commands redis_reads
#                 peak_rss_kb
#     json.txt    filter transport concurrency round JSON
#     mta.txt     round, then the line of mta_send
#     memory.txt  key value
# shellcheck disable=SC2154 # the settings and state are bench/run's

hz=$(getconf CLK_TCK)

# agg FILTER TRANSPORT CONCURRENCY: over the rounds, "msg/s p50 p95 p99
# max errors accept reject tempfail other hdrs/msg cpu_total cpu_filter
# cpu_backend cmds/msg reads/msg rss_mb completed" (means, max of max
# and RSS, sums of counts, per-message figures over all completed
# messages); "-" when there was no such run.
agg() {
    awk -v f="$1" -v t="$2" -v c="$3" -v hz="$hz" '
        $1 == f && $2 == t && $3 == c {
            n++; rate += $7; p50 += $8; p95 += $9; p99 += $10; if ($11 > mx) mx = $11
            err += $12; acc += $13; rej += $14; tf += $15; oth += $16 + $17; hdr += $18
            done += $5; ft += $20; bt += $21; cmd += $22; rd += $23; if ($24 > hwm) hwm = $24
        }
        END {
            if (!n) { print "-"; exit }
            d = done ? done : 1
            printf "%.1f %.2f %.2f %.2f %.2f %d %d %d %d %d %.2f %.2f %.2f %.2f %.2f %.2f %.1f %d\n",
                rate / n, p50 / n, p95 / n, p99 / n, mx, err, acc, rej, tf, oth, hdr / d,
                (ft + bt) * 1000 / hz / d, ft * 1000 / hz / d, bt * 1000 / hz / d,
                cmd / d, rd / d, hwm / 1024, done
        }' "$scratch/runs.tsv"
}

# ratio A B: A / B to two decimals, 0 when B is 0; ratio3: to three, for
# the target lines, so that a ratio just under its goal does not print as
# the goal itself
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
ratio3() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }'; }

# holds EXPR: awk's verdict on a numeric comparison
holds() { awk "BEGIN { exit !($1) }"; }

machine() {
    local cpu ram
    cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -1)
    ram=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
    echo "machine: nproc=$(nproc) cpu=\"$cpu\" ram=$ram kernel=$(uname -r)"
}

software() {
    local s
    s="$("$milter" --version 2>/dev/null | head -1)"
    s="$s, $(redis-server --version | sed -n 's/.*v=\([0-9.]*\).*/Redis \1/p')"
    command -v rspamd >/dev/null && s="$s, rspamd $(rspamd --version 2>/dev/null | sed -n 's/.*version //p')"
    command -v spamd >/dev/null && s="$s, SpamAssassin $(spamd --version 2>/dev/null | sed -n 's/.*version //p' | head -1)"
    command -v spamass-milter >/dev/null &&
        s="$s, spamass-milter $(dpkg-query -W -f='${Version}' spamass-milter 2>/dev/null)"
    command -v postconf >/dev/null && s="$s, Postfix $(postconf -d -h mail_version 2>/dev/null)"
    echo "software: $s"
}

describe_load() {
    local ham spam
    ham=$(find "$corpus/ham" -name '*.eml' | wc -l)
    spam=$(find "$corpus/spam" -name '*.eml' | wc -l)
    if [ "$corpus" = "$scratch/stand-in" ]; then
        echo "corpus: $((ham + spam)) stand-in messages (the SpamAssassin public corpus could not be fetched)"
    else
        echo "corpus: the SpamAssassin public corpus, $((ham + spam)) messages ($ham ham, $spam spam)"
    fi
    echo "milter level: rampart-loadgen -d $seconds -C 16/64 -m corpus --ip-pool $ip_pool, one message per"
    echo "  milter connection, each connection starting at its own place in the corpus; $rounds interleaved"
    echo "  round(s) of null, rampart, rspamd, spamass per socket and concurrency; figures are means over"
    echo "  the rounds (max ms and RSS: the largest; counts: sums)"
}

table_throughput() {
    local f t c a null_rate
    printf '%-8s %-4s %4s %9s %6s %8s %8s %8s %9s %6s\n' filter sock conc msg/s "x null" "p50 ms" "p95 ms" \
        "p99 ms" "max ms" errors
    for c in $concs; do
        for t in $transports; do
            null_rate=$(agg null "$t" "$c" | cut -d' ' -f1)
            for f in "${filters[@]}"; do
                a=$(agg "$f" "$t" "$c")
                [ "$a" = - ] && continue
                read -r rate p50 p95 p99 mx err _ <<<"$a"
                printf '%-8s %-4s %4s %9s %6s %8s %8s %8s %9s %6s\n' "$f" "$t" "$c" "$rate" \
                    "$(ratio "$rate" "$null_rate")" "$p50" "$p95" "$p99" "$mx" "$err"
            done
        done
    done
}

table_cost() {
    local f t c a
    printf '%-8s %-4s %4s %7s %7s %7s %7s %6s %7s %7s %7s %6s %6s %6s\n' filter sock conc "cpu s" \
        filter backend cmd/msg rt/msg "RSS MB" accept reject tempf other hdr/msg
    for c in $concs; do
        for t in $transports; do
            for f in "${filters[@]}"; do
                a=$(agg "$f" "$t" "$c")
                [ "$a" = - ] && continue
                read -r _ _ _ _ _ _ acc rej tf oth hdr cpu cpuf cpub cmd rd rss _ <<<"$a"
                case $f in rampart | rspamd) ;; *) cmd=- rd=- ;; esac
                [ "$f" = null ] && cpub=-
                printf '%-8s %-4s %4s %7s %7s %7s %7s %6s %7s %7s %7s %6s %6s %6s\n' "$f" "$t" "$c" \
                    "$cpu" "$cpuf" "$cpub" "$cmd" "$rd" "$rss" "$acc" "$rej" "$tf" "$oth" "$hdr"
            done
        done
    done
}

# mta_agg NAME: over the rounds, "sent delivered rejected tempfailed
# discarded queued lost seconds msg/s"
mta_agg() {
    awk -v n="$1" '$2 == n { k++; s += $3; d += $4; r += $5; t += $6; x += $7; q += $8; l += $9; sec += $10; rate += $11 }
        END { if (!k) { print "-"; exit }
              printf "%d %d %d %d %d %d %d %.1f %.1f\n", s, d, r, t, x, q, l, sec, rate / k }' "$scratch/mta.txt"
}

table_mta() {
    local name a null_rate
    null_rate=$(mta_agg null | awk '{ print $9 }')
    printf '%-8s %6s %9s %8s %10s %9s %6s %5s %7s %8s\n' milter sent delivered rejected tempfailed discarded \
        queued lost msg/s "x null"
    for name in none null rampart rspamd; do
        a=$(mta_agg "$name")
        [ "$a" = - ] && continue
        read -r s d r t x q l _ rate <<<"$a"
        printf '%-8s %6s %9s %8s %10s %9s %6s %5s %7s %8s\n' "$name" "$s" "$d" "$r" "$t" "$x" "$q" "$l" \
            "$rate" "$(ratio "$rate" "$null_rate")"
    done
}

mem() { awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "$scratch/memory.txt"; }

memory_lines() {
    local base peak bj cj
    base=$(mem big_base_kb) peak=$(mem big_peak_kb) bj=$(mem big_json) cj=$(mem conns_json)
    printf '  %.1f MB message, GTUBE at its end: RSS %.1f MB before, peak %.1f MB: growth %.1f MB (%s, %s ms, errors %s)\n' \
        "$(awk -v b="$(mem big_bytes)" 'BEGIN { print b / 1048576 }')" \
        "$(awk -v k="$base" 'BEGIN { print k / 1024 }')" "$(awk -v k="$peak" 'BEGIN { print k / 1024 }')" \
        "$(awk -v a="$base" -v b="$peak" 'BEGIN { print (b - a) / 1024 }')" \
        "$(json_verdict "$bj")" "$(json_fields "$bj" | cut -d' ' -f4)" "$(json_fields "$bj" | cut -d' ' -f8)"
    read -r completed _ _ _ _ _ _ err _ _ _ _ _ _ conns <<<"$(json_fields "$cj")"
    printf '  %d connections held open: RSS %.1f MB idle, peak %.1f MB (threads up to %s, sockets up to %s;\n' \
        "$conns" "$(awk -v k="$(mem conns_base_kb)" 'BEGIN { print k / 1024 }')" \
        "$(awk -v k="$(mem conns_peak_kb)" 'BEGIN { print k / 1024 }')" "$(mem conns_threads)" "$(mem conns_sockets)"
    printf '    %d messages in %s s over them, errors %d)\n' "$completed" "$conn_seconds" "$err"
}

# shellcheck disable=SC2034 # the counts are read by name
json_verdict() {
    local a acc rej tf dis qua
    read -r _ _ _ _ _ _ _ _ acc rej tf dis qua _ <<<"$(json_fields "$1")"
    for a in acc rej tf dis qua; do
        if [ "${!a}" -gt 0 ]; then
            case $a in acc) echo accepted ;; rej) echo rejected ;; tf) echo tempfailed ;; dis) echo discarded ;;
                qua) echo quarantined ;; esac
            return
        fi
    done
    echo "no verdict"
}

# ---------------------------------------------------------------- targets

status=0
target() { # target OK TEXT
    if [ "$1" = 1 ]; then
        echo "PASS  $2"
    else
        echo "FAIL  $2"
        status=1
    fi
}
skip() { echo "SKIP  $*"; }

targets() {
    local c t a n s ok have_rspamd=0
    [[ " ${filters[*]} " == *" rspamd "* ]] && have_rspamd=1
    for c in $concs; do
        for t in $transports; do
            read -r ar _ _ ap99 _ _ _ _ _ _ _ acpu _ <<<"$(agg rampart "$t" "$c")"
            read -r nr _ _ np99 _ <<<"$(agg null "$t" "$c")"
            holds "$ar >= 0.6 * $nr" && ok=1 || ok=0
            target $ok "throughput, $t c$c: rampart $(ratio3 "$ar" "$nr")x the null milter ($ar vs $nr msg/s; target >= 0.6x)"
            holds "$ap99 <= 2 * $np99" && ok=1 || ok=0
            target $ok "p99 latency, $t c$c: rampart $ap99 ms, $(ratio3 "$ap99" "$np99")x the null milter's $np99 ms (target <= 2x)"
            if [ $have_rspamd = 1 ]; then
                read -r sr _ _ _ _ _ _ _ _ _ _ scpu _ <<<"$(agg rspamd "$t" "$c")"
                holds "$ar >= 4 * $sr" && ok=1 || ok=0
                target $ok "throughput, $t c$c: rampart $(ratio3 "$ar" "$sr")x rspamd ($ar vs $sr msg/s; target >= 4x)"
                holds "$acpu * 4 <= $scpu" && ok=1 || ok=0
                target $ok "CPU per message, $t c$c: rampart + Redis $acpu s/1000, $(ratio3 "$acpu" "$scpu")x rspamd + Redis's $scpu (target <= 0.25x)"
            else
                skip "throughput and CPU against rspamd, $t c$c: rspamd not installed"
            fi
        done
    done
    read -r n s <<<"$(awk '$1 == "rampart" { d += $5; r += $23 } END { printf "%d %.2f\n", d, (d ? r / d : 0) }' "$scratch/runs.tsv")"
    holds "$s <= 3" && ok=1 || ok=0
    target $ok "Redis round trips per message: $s over $n rampart messages (target <= 3)"
    a=$(awk -v a="$(mem big_base_kb)" -v b="$(mem big_peak_kb)" 'BEGIN { printf "%.1f", (b - a) / 1024 }')
    read -r _ _ _ _ _ _ _ n _ <<<"$(json_fields "$(mem big_json)")"
    holds "$a < 16 && $n == 0" && ok=1 || ok=0
    target $ok "memory, one ${big_mb} MB message: RSS growth $a MB, errors $n (target < 16 MB)"
    a=$(awk -v k="$(mem conns_peak_kb)" 'BEGIN { printf "%.1f", k / 1024 }')
    read -r _ _ _ _ _ _ _ n _ _ _ _ _ _ c <<<"$(json_fields "$(mem conns_json)")"
    holds "$a < 256 && $c >= $conns && $n == 0" && ok=1 || ok=0
    target $ok "memory, $conns connections open at once: peak RSS $a MB ($c connections, errors $n; target < 256 MB)"
    if [ -s "$scratch/mta.txt" ]; then
        read -r _ _ _ _ _ _ _ _ ar <<<"$(mta_agg rampart)"
        read -r _ _ _ _ _ _ _ _ nr <<<"$(mta_agg null)"
        holds "$ar >= 0.9 * $nr" && ok=1 || ok=0
        target $ok "MTA level: Postfix with rampart $(ratio3 "$ar" "$nr")x Postfix with the null milter ($ar vs $nr msg/s; target >= 0.9x)"
        n=$(awk '{ l += $9 } END { print l + 0 }' "$scratch/mta.txt")
        [ "$n" = 0 ] && ok=1 || ok=0
        target $ok "MTA level: no message lost (sent = delivered + rejected + tempfailed + discarded + queued; lost $n)"
    else
        skip "MTA level: not run (see above)"
    fi
}

# every filter answered: each milter-level run completed something
smoke_status() {
    local bad
    bad=$(awk '$5 == 0 { printf " %s/%s/c%s", $1, $2, $3 }' "$scratch/runs.tsv")
    if [ -n "$bad" ]; then
        echo "FAIL  no message completed:$bad"
        status=1
    else
        echo "ok    every filter answered: ${filters[*]}"
    fi
    if [ -s "$scratch/mta.txt" ]; then
        awk '$9 != 0 { bad = 1 } END { exit bad }' "$scratch/mta.txt" ||
            { echo "FAIL  the MTA level lost messages"; status=1; }
    fi
}

report() {
    local line
    echo "# rampart benchmark ($mode), $(date +%F)"
    machine
    software
    echo "load average (1 min) before the run: $load_before; the run took $elapsed s"
    describe_load
    for line in "${skipped[@]}"; do echo "$line"; done
    echo
    echo "## Milter level: throughput and latency"
    echo "x null: msg/s over the null milter's on the same socket and concurrency; latency from MAIL to"
    echo "the final reply at end of message; errors: messages that did not complete"
    echo
    table_throughput
    echo
    echo "## Milter level: cost and verdicts"
    echo "cpu s: CPU seconds per 1000 messages of the filter's process tree plus its backend's: filter"
    echo "(rampart-milter; rspamd's main process and workers; spamass-milter and the spamc it runs) and"
    echo "backend (rampart's redis-server; rspamd's redis-server; spamd and its children). cmd/msg:"
    echo "commands Redis ran per message, those inside Lua scripts included; rt/msg: round trips, the"
    echo "client reads Redis served (one per pipeline or command sent alone), per message; both"
    echo "include the background polling of the idle instances. RSS MB: the sum of the peak RSS"
    echo "(VmHWM) of filter and backend processes (shared pages of forked workers count in each)."
    echo "Verdicts are sums over the rounds; other: discard and quarantine; hdr/msg: headers added or"
    echo "changed per message"
    echo
    table_cost
    if [[ " ${filters[*]} " == *" rspamd "* ]]; then
        echo
        echo "rspamd made $(rspamd_dns_requests) DNS requests for the messages it scanned (the network checks are off)."
    fi
    echo
    echo "## MTA level"
    if [ -s "$scratch/mta.txt" ]; then
        echo "smtp-source, 16 sessions, one message per connection, the same 8 corpus messages (5 ham, 3 spam)"
        echo "-> a private Postfix 3.7 (one smtpd per milter, inet milter sockets, milter_default_action ="
        echo "tempfail) -> smtp-sink; $mta_count messages per milter in each of $mta_rounds round(s); msg/s: delivered"
        echo "per second from the first connection until the queue is empty, mean over the rounds; the"
        echo "counts are sums: sent = delivered + rejected + tempfailed + discarded + queued + lost"
        echo
        table_mta
    else
        echo "not run (see above)"
    fi
    echo
    echo "## Memory (rampart-milter, a fresh process for each test)"
    memory_lines
    echo
    echo "## Targets (issue 4)"
    if [ "$mode" = smoke ]; then
        echo "not asserted in --smoke mode"
        smoke_status
    else
        targets
    fi
    echo
    echo "## rampart's configuration"
    # The report names the source tree's files relative to it, not where
    # this machine keeps them.
    sed -e "s|$here/\.\./|./|g" -e 's/^/    /' "$scratch/rampart.conf"
    echo
    echo "## Raw results (filter, socket, concurrency, round, rampart-loadgen JSON)"
    sed "s|unix:$scratch/|unix:|g" "$scratch/json.txt"
    echo "memory, ${big_mb} MB message: $(mem big_json | sed "s|unix:$scratch/|unix:|g")"
    echo "memory, $conns connections: $(mem conns_json | sed "s|unix:$scratch/|unix:|g")"
    if [ -s "$scratch/mta.txt" ]; then
        echo "MTA level (round, milter, sent, delivered, rejected, tempfailed, discarded, queued, lost, seconds, msg/s):"
        sed 's/^/  /' "$scratch/mta.txt"
    fi
    return $status
}
