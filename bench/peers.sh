# shellcheck shell=bash
#
# NAME
#   peers.sh - start and stop the filters rampart is compared with
# SYNOPSIS
#   . bench/peers.sh
#   PEERS_DIR=/some/scratch/dir PEERS_LOADGEN=bench/rampart-loadgen
#   rspamd_start BASEPORT && ... && rspamd_stop
#   spamass_start BASEPORT && ... && spamass_stop
# DESCRIPTION
#   Private instances, on loopback only, with their configs and state in
#   PEERS_DIR (which must be reachable by the unprivileged users the
#   daemons switch to; bench/run makes it mode 755). The system's own
#   configs, spools and services are never touched.
#
#   rspamd (Debian's 3.4) runs from the shipped /etc/rspamd/rspamd.conf
#   with LOCAL_CONFDIR, DBDIR, RUNDIR and LOGDIR pointed into PEERS_DIR,
#   so that the shipped rules and module defaults apply and only what the
#   benchmark needs is overridden (local.d/ and override.d/ below):
#     - the rspamd_proxy worker speaks the milter protocol (milter = yes)
#       and scans messages itself (self_scan = yes): one process hop less
#       than proxying to a normal worker, about 1.5x the throughput on two
#       cores. There are `nproc` proxy workers, on BASEPORT+1 and on the
#       unix socket PEERS_DIR/rspamd/milter.sock; the normal worker is
#       off; the controller listens on BASEPORT+2;
#     - every check that needs the network is off: rbl (and with it the
#       surbl and emails lists), dkim, spf, dmarc, arc, asn, fuzzy_check,
#       hfilter (its HELO and host name checks resolve names),
#       url_redirector, phishing's feeds; the resolver points at
#       127.0.0.1:53, where nothing answers, so that a lookup a module
#       still makes (maps.rspamd.com for the remote maps, which fall back
#       to their shipped copies) never leaves the machine. The log line
#       of each message says "dns req: 0";
#     - its own redis-server on BASEPORT (greylisting, ratelimit,
#       replies, history, Bayes statistics and the rest of what rspamd
#       keeps in Redis by default), so that rspamd's Redis CPU and
#       commands are measured apart from rampart's;
#     - the compiled Hyperscan databases are kept in PEERS_CACHE (when
#       set), which makes later starts take seconds rather than a minute.
#
#   spamass-milter (0.4) hands each message to spamc, which asks a
#   private spamd on BASEPORT: local tests only (-L, no DNS or network
#   tests), no user configs (-x), the rules the Debian package ships (no
#   sa-update), its home (Bayes, auto-whitelist) in PEERS_DIR, 2 x nproc
#   children. Two spamass-milter processes share it, one on BASEPORT+1
#   and one on the unix socket PEERS_DIR/spamass/milter.sock, since
#   spamass-milter listens on one socket only.
#
#   A start function returns once the filter answers a whole milter
#   transaction (rampart-loadgen -n 1, which begins with OPTNEG) on each
#   of its sockets, and sets:
#     rspamd:  RSPAMD_INET RSPAMD_UNIX (libmilter-style socket names),
#              RSPAMD_PID (the main process; its workers are its
#              children), RSPAMD_REDIS_PID, RSPAMD_REDIS_PORT
#     spamass: SPAMASS_INET SPAMASS_UNIX, SPAMASS_INET_PID,
#              SPAMASS_UNIX_PID (each forks a spamc per message),
#              SPAMD_PID (spamd's parent; children are preforked)
#   and writes the PIDs of each process tree, as found then, to
#   PEERS_DIR/NAME.tree. CPU accounting is done on whole trees at the
#   time of each measurement (tree_pids, tree_ticks below), since spamd
#   replaces its children and spamass-milter starts one spamc per message.
#   A start function that fails prints the reason and the tail of the
#   daemon's log on stderr and returns 1, leaving nothing running.
# ENVIRONMENT
#   PEERS_DIR      scratch directory (required)
#   PEERS_LOADGEN  rampart-loadgen (default: rampart-loadgen on PATH)
#   PEERS_CACHE    directory kept between runs for rspamd's compiled
#                  regular expressions (optional)
#   PEERS_WAIT     seconds a daemon may take to answer (default 180:
#                  rspamd compiles its rules on a first start)

PEERS_WAIT=${PEERS_WAIT:-180}

peers_log() { echo "peers: $*" >&2; }

# ---------------------------------------------------------------- installed?

# rspamd_missing / spamass_missing: print what is missing, nothing when
# the peer can run.
rspamd_missing() {
    local m=""
    command -v rspamd >/dev/null 2>&1 || m="rspamd"
    command -v redis-server >/dev/null 2>&1 || m="$m redis-server"
    [ -f /etc/rspamd/rspamd.conf ] || m="$m /etc/rspamd/rspamd.conf"
    [ "$(id -u)" = 0 ] && ! getent passwd _rspamd >/dev/null && m="$m user:_rspamd"
    echo "${m# }"
}

spamass_missing() {
    local m="" t
    for t in spamass-milter spamd spamc; do
        command -v "$t" >/dev/null 2>&1 || m="$m $t"
    done
    [ "$(id -u)" = 0 ] && ! getent passwd debian-spamd >/dev/null && m="$m user:debian-spamd"
    echo "${m# }"
}

# ---------------------------------------------------------------- process trees

# tree_stat PID...: "pid ticks" for the PIDs and all their live
# descendants, ticks being the CPU time in clock ticks: user + system of
# the process, plus what it collected from the children it reaped (so
# that spamc runs and replaced spamd children are counted).
tree_stat() {
    [ $# -gt 0 ] || return 0
    # /proc/PID/stat: "pid (comm) state ppid ... utime stime cutime
    # cstime ..."; comm may hold spaces and parentheses, so fields are
    # counted from the last ")". One cat for all: it goes on past
    # processes that vanish.
    cat /proc/[0-9]*/stat 2>/dev/null | awk -v roots="$*" '
        { pid = $1; rest = substr($0, match($0, /\)[^)]*$/) + 2)
          split(rest, f, " "); parent[pid] = f[2]; ticks[pid] = f[12] + f[13] + f[14] + f[15] }
        END {
            n = split(roots, r, " ")
            for (i = 1; i <= n; i++) if (r[i] in parent) keep[r[i]] = 1
            do { changed = 0
                 for (p in parent) if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; changed = 1 }
            } while (changed)
            for (p in keep) print p, ticks[p]
        }'
}

# tree_pids PID...: the PIDs and all their live descendants.
tree_pids() { tree_stat "$@" | cut -d' ' -f1; }

# tree_ticks PID...: the CPU time of the trees, in clock ticks.
tree_ticks() { tree_stat "$@" | awk '{ t += $2 } END { print t + 0 }'; }

# tree_hwm_kb PID...: the sum of the peak resident sizes (VmHWM) of the
# trees' processes, in KB. Pages that forked workers share are counted in
# each, so for a multi-process tree this is an upper bound.
tree_hwm_kb() {
    local files=() p
    for p in $(tree_pids "$@"); do files+=("/proc/$p/status"); done
    [ ${#files[@]} -gt 0 ] || { echo 0; return; }
    cat "${files[@]}" 2>/dev/null | awk '$1 == "VmHWM:" { t += $2 } END { print t + 0 }'
}

# ---------------------------------------------------------------- common

peers_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# peer_kill PID: SIGTERM one process we started and wait for it (SIGKILL
# after 10 s).
peer_kill() {
    local pid=$1 i=0
    [ -n "$pid" ] || return 0
    disown "$pid" 2>/dev/null || true
    kill "$pid" 2>/dev/null || return 0
    while kill -0 "$pid" 2>/dev/null; do
        i=$((i + 1))
        [ $i -eq 100 ] && kill -KILL "$pid" 2>/dev/null
        sleep 0.1
    done
}

# peer_start_redis PORT DIR: a throw-away redis-server on loopback, no
# persistence; prints its PID.
peer_start_redis() {
    local port=$1 dir=$2 pid i=0
    mkdir -p "$dir"
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$dir" --daemonize no --logfile "$dir/redis.log" </dev/null >/dev/null 2>&1 &
    pid=$!
    until [ "$(redis-cli -p "$port" PING 2>/dev/null)" = PONG ]; do
        i=$((i + 1))
        if ! kill -0 "$pid" 2>/dev/null || [ $i -gt 100 ]; then
            peers_log "redis-server on port $port did not start:"
            tail -n 5 "$dir/redis.log" >&2 2>/dev/null
            peer_kill "$pid"
            return 1
        fi
        sleep 0.1
    done
    echo "$pid"
}

# peer_wait_answer SOCKET PID NAME LOG: wait until a whole milter
# transaction gets through SOCKET; fail at once if PID died.
peer_wait_answer() {
    local socket=$1 pid=$2 name=$3 log=$4 deadline=$((SECONDS + PEERS_WAIT))
    until "${PEERS_LOADGEN:-rampart-loadgen}" -p "$socket" -n 1 -C 1 --timeout 30 >/dev/null 2>&1; do
        if ! kill -0 "$pid" 2>/dev/null; then
            peers_log "$name exited during start-up; its log:"
            tail -n 20 "$log" >&2 2>/dev/null
            return 1
        fi
        if [ $SECONDS -ge $deadline ]; then
            peers_log "$name does not answer on ${socket%%:*} after ${PEERS_WAIT}s; its log:"
            tail -n 20 "$log" >&2 2>/dev/null
            return 1
        fi
        sleep 0.3
    done
}

# ---------------------------------------------------------------- rspamd

RSPAMD_PID="" RSPAMD_REDIS_PID=""

rspamd_write_config() {
    local base=$1 d=$2 workers
    workers=$(nproc)
    mkdir -p "$d/local/local.d" "$d/local/override.d"
    cat >"$d/local/local.d/options.inc" <<EOF
# No network: only the local checks run; lookups go nowhere.
filters = "chartable,regexp";
hs_cache_dir = "$d/hs/";
dns {
    nameserver = ["127.0.0.1:53"];
    timeout = 100ms;
    retransmits = 1;
}
EOF
    local m
    for m in rbl surbl emails dkim spf dmarc arc asn fuzzy_check hfilter url_redirector; do
        echo "enabled = false;" >"$d/local/local.d/$m.conf"
    done
    echo "phishtank_enabled = false; openphish_enabled = false;" >"$d/local/local.d/phishing.conf"
    echo "servers = \"127.0.0.1:$base\";" >"$d/local/local.d/redis.conf"
    cat >"$d/local/override.d/worker-proxy.inc" <<EOF
bind_socket = "127.0.0.1:$((base + 1))";
bind_socket = "$d/milter.sock mode=0666";
milter = yes;
timeout = 120s;
upstream "local" {
    default = yes;
    self_scan = yes;
}
count = $workers;
max_retries = 5;
discard_on_reject = false;
quarantine_on_reject = false;
spam_header = "X-Spam";
reject_message = "Spam message rejected";
EOF
    cat >"$d/local/override.d/worker-normal.inc" <<EOF
enabled = false;
bind_socket = "127.0.0.1:$((base + 3))";
count = 1;
EOF
    cat >"$d/local/override.d/worker-controller.inc" <<EOF
bind_socket = "127.0.0.1:$((base + 2))";
count = 1;
password = "bench";
secure_ip = "127.0.0.1";
EOF
    cat >"$d/local/override.d/logging.inc" <<EOF
type = "file";
filename = "$d/log/rspamd.log";
level = "notice";
EOF
}

# rspamd_start BASEPORT: redis on BASEPORT, milter on BASEPORT+1 and a
# unix socket, controller on BASEPORT+2 (BASEPORT+3 reserved).
rspamd_start() {
    local base=$1 d="$PEERS_DIR/rspamd" p
    for p in "$base" $((base + 1)) $((base + 2)) $((base + 3)); do
        if peers_port_open "$p"; then
            peers_log "rspamd: port $p is taken"
            return 1
        fi
    done
    mkdir -p "$d/db" "$d/run" "$d/log"
    if [ -n "${PEERS_CACHE:-}" ] && mkdir -p "$PEERS_CACHE/rspamd-hs" 2>/dev/null; then
        ln -sfn "$(cd "$PEERS_CACHE/rspamd-hs" && pwd)" "$d/hs"
    else
        mkdir -p "$d/hs"
    fi
    rspamd_write_config "$base" "$d"
    if [ "$(id -u)" = 0 ]; then
        chown -R _rspamd:_rspamd "$d/db" "$d/run" "$d/log" "$d/hs/"
    fi
    # shellcheck disable=SC2034 # for the caller
    RSPAMD_REDIS_PORT=$base
    RSPAMD_REDIS_PID=$(peer_start_redis "$base" "$d/redis") || return 1
    local user=()
    [ "$(id -u)" = 0 ] && user=(-u _rspamd -g _rspamd)
    rspamd -f -c /etc/rspamd/rspamd.conf "${user[@]}" \
        --var "LOCAL_CONFDIR=$d/local" --var "DBDIR=$d/db" \
        --var "RUNDIR=$d/run" --var "LOGDIR=$d/log" \
        </dev/null >"$d/log/stderr.log" 2>&1 &
    RSPAMD_PID=$!
    RSPAMD_INET="inet:$((base + 1))@127.0.0.1"
    RSPAMD_UNIX="unix:$d/milter.sock"
    if ! peer_wait_answer "$RSPAMD_INET" "$RSPAMD_PID" rspamd "$d/log/rspamd.log" ||
        ! peer_wait_answer "$RSPAMD_UNIX" "$RSPAMD_PID" rspamd "$d/log/rspamd.log"; then
        tail -n 5 "$d/log/stderr.log" >&2 2>/dev/null
        rspamd_stop
        return 1
    fi
    tree_pids "$RSPAMD_PID" "$RSPAMD_REDIS_PID" | sort -n >"$PEERS_DIR/rspamd.tree"
}

rspamd_stop() {
    peer_kill "$RSPAMD_PID"
    peer_kill "$RSPAMD_REDIS_PID"
    RSPAMD_PID="" RSPAMD_REDIS_PID=""
}

# rspamd_dns_requests: DNS requests rspamd logged for the messages so far
# (must be 0).
rspamd_dns_requests() {
    sed -n 's/.*dns req: \([0-9]*\).*/\1/p' "$PEERS_DIR/rspamd/log/rspamd.log" 2>/dev/null |
        awk '{ n += $1 } END { print n + 0 }'
}

# ---------------------------------------------------------------- spamass-milter

SPAMD_PID="" SPAMASS_INET_PID="" SPAMASS_UNIX_PID=""

# spamass_start BASEPORT: spamd on BASEPORT, spamass-milter on
# BASEPORT+1 and on a unix socket.
spamass_start() {
    local base=$1 d="$PEERS_DIR/spamass" p children
    for p in "$base" $((base + 1)); do
        if peers_port_open "$p"; then
            peers_log "spamass-milter: port $p is taken"
            return 1
        fi
    done
    children=$((2 * $(nproc)))
    mkdir -p "$d/home"
    local user=()
    if [ "$(id -u)" = 0 ]; then
        chown debian-spamd "$d/home"
        user=(-u debian-spamd)
    fi
    spamd -L -x "${user[@]}" -H "$d/home" -i "127.0.0.1:$base" \
        -m "$children" --min-children="$children" --min-spare=1 \
        -r "$d/spamd.pid" -s stderr </dev/null >"$d/spamd.log" 2>&1 &
    SPAMD_PID=$!
    local i=0
    until peers_port_open "$base"; do
        i=$((i + 1))
        if ! kill -0 "$SPAMD_PID" 2>/dev/null || [ $i -gt $((PEERS_WAIT * 10)) ]; then
            peers_log "spamd did not start; its log:"
            tail -n 20 "$d/spamd.log" >&2 2>/dev/null
            spamass_stop
            return 1
        fi
        sleep 0.1
    done
    SPAMASS_INET="inet:$((base + 1))@127.0.0.1"
    SPAMASS_UNIX="unix:$d/milter.sock"
    spamass-milter -p "$SPAMASS_INET" -- -d 127.0.0.1 -p "$base" \
        </dev/null >"$d/milter-inet.log" 2>&1 &
    SPAMASS_INET_PID=$!
    spamass-milter -p "$SPAMASS_UNIX" -- -d 127.0.0.1 -p "$base" \
        </dev/null >"$d/milter-unix.log" 2>&1 &
    SPAMASS_UNIX_PID=$!
    if ! peer_wait_answer "$SPAMASS_INET" "$SPAMASS_INET_PID" spamass-milter "$d/milter-inet.log" ||
        ! peer_wait_answer "$SPAMASS_UNIX" "$SPAMASS_UNIX_PID" spamass-milter "$d/milter-unix.log"; then
        tail -n 5 "$d/spamd.log" >&2 2>/dev/null
        spamass_stop
        return 1
    fi
    tree_pids "$SPAMD_PID" "$SPAMASS_INET_PID" "$SPAMASS_UNIX_PID" | sort -n >"$PEERS_DIR/spamass.tree"
}

spamass_stop() {
    peer_kill "$SPAMASS_INET_PID"
    peer_kill "$SPAMASS_UNIX_PID"
    peer_kill "$SPAMD_PID"
    SPAMD_PID="" SPAMASS_INET_PID="" SPAMASS_UNIX_PID=""
}
