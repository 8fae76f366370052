// NAME
//   rampart-milter - the rampart mail filter daemon
// SYNOPSIS
//   rampart-milter [-c FILE] [-f] [-p SOCKET] [-u USER] [--check-config]
//                  [--dump-config] [--version] [--help]
// DESCRIPTION
//   Loads and validates the configuration, opens the milter socket, drops
//   privileges, detaches (without -f), and serves the MTA with libmilter. SIGHUP reloads the
//   configuration (a bad one is refused and the running one stays); SIGTERM
//   and SIGINT stop accepting connections and give transactions in flight
//   up to milter.shutdown_timeout_ms to finish. Started by systemd with
//   Type=notify, it reports readiness, reloads and stopping on
//   $NOTIFY_SOCKET.
//
//   libmilter's own signal thread treats SIGHUP as "stop". To keep SIGHUP
//   for reloading, smfi_main runs in a thread of its own, and the main
//   thread waits for the signals with sigwait: Linux delivers a
//   process-directed signal to the main thread first when it is waiting for
//   it, so libmilter never sees them.
// SECURITY
//   The socket is opened as the starting user (root for a privileged port
//   or a socket under /run), then -u drops to an unprivileged user before
//   any connection is served.
#include "config/settings.hpp"
#include "engine/runtime.hpp"
#include "milter/glue.hpp"
#include "ruleset/ruleset.hpp"
#include "util/log.hpp"

#include <libmilter/mfapi.h>

#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <thread>

namespace {

using namespace rampart;

constexpr const char* kDefaultConfig = "/etc/rampart/rampart.conf";

struct Options {
    std::string config = kDefaultConfig;
    bool foreground = false;
    std::string socket;
    std::string user;
    bool check_only = false;
};

void usage(FILE* out)
{
    std::fprintf(out,
                 "usage: rampart-milter [-c FILE] [-f] [-p SOCKET] [-u USER]\n"
                 "       rampart-milter --check-config [-c FILE]\n"
                 "       rampart-milter --dump-config | --version | --help\n"
                 "\n"
                 "  -c, --config FILE    configuration file (default %s)\n"
                 "  -f, --foreground     stay in the foreground and log to stderr too\n"
                 "  -p, --socket SOCKET  listen here instead of milter.socket:\n"
                 "                       inet:PORT@HOST, inet6:PORT@HOST or unix:PATH\n"
                 "  -u, --user USER      drop privileges to USER after opening the socket\n"
                 "      --check-config   validate the configuration and exit (0 good, 1 bad)\n"
                 "      --dump-config    print every setting at its default and exit\n"
                 "      --version        print the version and exit\n"
                 "      --help           print this help and exit\n"
                 "\n"
                 "Signals: SIGHUP reloads the configuration, SIGTERM stops gracefully.\n"
                 "See rampart-milter(8) and rampart.conf(5).\n",
                 kDefaultConfig);
}

int parse_args(int argc, char** argv, Options& o)
{
    enum { kCheck = 256, kDump, kVersion, kHelp };
    static const option longopts[] = {
        {"config", required_argument, nullptr, 'c'},
        {"foreground", no_argument, nullptr, 'f'},
        {"socket", required_argument, nullptr, 'p'},
        {"user", required_argument, nullptr, 'u'},
        {"check-config", no_argument, nullptr, kCheck},
        {"dump-config", no_argument, nullptr, kDump},
        {"version", no_argument, nullptr, kVersion},
        {"help", no_argument, nullptr, kHelp},
        {nullptr, 0, nullptr, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "c:fp:u:h", longopts, nullptr)) != -1) {
        switch (ch) {
        case 'c': o.config = optarg; break;
        case 'f': o.foreground = true; break;
        case 'p': o.socket = optarg; break;
        case 'u': o.user = optarg; break;
        case kCheck: o.check_only = true; break;
        case kDump: std::fputs(dump_defaults().c_str(), stdout); return 0;
        case kVersion: std::printf("rampart-milter %s\n", PACKAGE_VERSION); return 0;
        case 'h':
        case kHelp: usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        std::fprintf(stderr, "rampart-milter: unexpected argument \"%s\"\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    return -1; // go on
}

std::shared_ptr<const Config> load_or_report(const std::string& path)
{
    auto loaded = load_config(path);
    for (const auto& e : loaded.errors)
        std::fprintf(stderr, "%s\n", e.to_string().c_str());
    return loaded.config;
}

log::Level level_named(const std::string& n)
{
    if (n == "error")
        return log::Level::error;
    if (n == "warning")
        return log::Level::warning;
    if (n == "debug")
        return log::Level::debug;
    return log::Level::info;
}

void daemonize()
{
    if (pid_t pid = fork(); pid < 0) {
        std::perror("rampart-milter: fork");
        std::exit(1);
    } else if (pid > 0) {
        _exit(0);
    }
    setsid();
    if (pid_t pid = fork(); pid < 0)
        std::exit(1);
    else if (pid > 0)
        _exit(0);
    if (chdir("/") != 0)
        std::exit(1);
    const int fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        if (fd > STDERR_FILENO)
            close(fd);
    }
}

// libmilter gives no handle on its listening socket; find it among our
// descriptors. An accepted TCP socket inherits TCP_NODELAY from the
// listener, so replies that leave back to back (a header change, then the
// verdict) do not wait for the MTA's delayed ACK.
void set_nodelay_on_listeners()
{
    for (int fd = 0; fd < 1024; ++fd) {
        int listening = 0, domain = 0;
        socklen_t len = sizeof listening;
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening)
            continue;
        len = sizeof domain;
        if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 || (domain != AF_INET && domain != AF_INET6))
            continue;
        const int one = 1;
        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
            log::warning("cannot set TCP_NODELAY on the milter socket: {}", std::strerror(errno));
    }
}

bool drop_privileges(const std::string& user, const std::string& socket)
{
    const passwd* pw = getpwnam(user.c_str());
    if (pw == nullptr) {
        log::error("-u {}: no such user", user);
        return false;
    }
    if (socket.starts_with("unix:") || socket.starts_with("local:")) {
        const std::string path = socket.substr(socket.find(':') + 1);
        if (chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0)
            log::warning("cannot chown {} to {}: {}", path, user, std::strerror(errno));
    }
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
        log::error("cannot drop privileges to {}: {}", user, std::strerror(errno));
        return false;
    }
    return true;
}

// systemd's readiness protocol (sd_notify(3)), without libsystemd: one
// datagram of "KEY=VALUE" lines to the unix socket named by $NOTIFY_SOCKET,
// a path or, with a leading '@', a name in the abstract namespace. Without
// the variable (not started by systemd with Type=notify) it does nothing;
// a failure to send is logged and otherwise ignored.
void notify_service_manager(const std::string& state)
{
    const char* name = std::getenv("NOTIFY_SOCKET");
    if (name == nullptr || (name[0] != '/' && name[0] != '@'))
        return;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const size_t len = std::strlen(name);
    if (len >= sizeof addr.sun_path) {
        log::warning("NOTIFY_SOCKET is too long for a unix socket address");
        return;
    }
    std::memcpy(addr.sun_path, name, len);
    if (name[0] == '@')
        addr.sun_path[0] = '\0';
    const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&addr),
                         static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len)) < 0)
        log::warning("cannot notify the service manager ({}): {}", name, std::strerror(errno));
    if (fd >= 0)
        close(fd);
}

// RELOADING=1 carries the CLOCK_MONOTONIC time of the reload request.
std::string reloading_state()
{
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return "RELOADING=1\nMONOTONIC_USEC=" +
           std::to_string(static_cast<long long>(now.tv_sec) * 1000000 + now.tv_nsec / 1000);
}

// Under systemd, standard error is already a stream into the journal
// ($JOURNAL_STREAM names its device and inode), and so is syslog: echoing
// every line to standard error too would log it twice.
bool stderr_is_journal()
{
    const char* stream = std::getenv("JOURNAL_STREAM");
    struct stat st {};
    if (stream == nullptr || fstat(STDERR_FILENO, &st) != 0)
        return false;
    return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) == stream;
}

// Reloads on SIGHUP: validate first; a bad file leaves everything as it was.
void reload(const std::string& path)
{
    auto loaded = load_config(path);
    if (!loaded.config) {
        for (const auto& e : loaded.errors)
            log::error("reload refused: {}", e.to_string());
        log::error("reload refused: {} has {} error(s); the running configuration stays", path, loaded.errors.size());
        return;
    }
    auto rules = load_rules(*loaded.config);
    if (!rules.errors.empty()) {
        for (const auto& e : rules.errors)
            log::error("reload refused: {}", e.to_string());
        log::error("reload refused: the rules have {} error(s); the running configuration and rules stay",
                   rules.errors.size());
        return;
    }
    const auto old = milter::current_runtime();
    const Config& before = *old->config;
    const Config& after = *loaded.config;
    for (const auto& s : settings()) {
        if (s.reloadable)
            continue;
        const bool changed = std::visit([&](auto member) { return before.*member != after.*member; }, s.member);
        if (changed)
            log::warning("reload: {} changed; it takes effect at the next restart", s.key);
    }
    log::set_level(level_named(after.log_level));
    log::set_syslog(after.log_syslog);
    try {
        milter::set_runtime(Runtime::make(loaded.config, old.get(), rules.ruleset));
    } catch (const std::exception& e) { // the services could not start (the resolver): keep the running ones
        log::error("reload refused: {}; the running configuration stays", e.what());
        return;
    }
    log::info("configuration reloaded from {}", path);
}

} // namespace

int main(int argc, char** argv)
{
    Options opt;
    if (const int rc = parse_args(argc, argv, opt); rc >= 0)
        return rc;

    auto cfg = load_or_report(opt.config);
    if (!cfg)
        return 1;
    // Rule files are part of the configuration: an error in one is fatal
    // here as in --check-config, with its file and line.
    auto rules = load_rules(*cfg);
    for (const auto& e : rules.errors)
        std::fprintf(stderr, "%s\n", e.to_string().c_str());
    if (!rules.errors.empty())
        return 1;
    // So are the DKIM signing keys and the BATV key file: a key file that
    // cannot be read is found by --check-config, not by the first signed message.
    try {
        if (cfg->dkim_enabled)
            load_dkim_keys(*cfg);
        if (cfg->batv_enabled)
            load_batv_keys(*cfg);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", opt.config.c_str(), e.what());
        return 1;
    }
    if (opt.check_only) {
        if (rules.ruleset)
            std::printf("%s: configuration OK, %zu rules\n", opt.config.c_str(), rules.ruleset->size());
        else
            std::printf("%s: configuration OK\n", opt.config.c_str());
        return 0;
    }
    const std::string socket = opt.socket.empty() ? cfg->milter_socket : opt.socket;
    if (!opt.socket.empty()) {
        auto check = parse_config("[milter]\nsocket = \"" + socket + "\"\n", "-p");
        if (!check.config) {
            std::fprintf(stderr, "rampart-milter: -p %s: %s\n", socket.c_str(), check.errors.front().message.c_str());
            return 1;
        }
    }

    // Until the daemon detaches, errors go to the terminal too, so that a
    // socket that cannot be opened makes the starting command fail visibly.
    const bool echo_to_stderr = !(opt.foreground && cfg->log_syslog && stderr_is_journal());
    log::open("rampart-milter", log::facility_from_name(cfg->log_facility), echo_to_stderr);
    log::set_level(level_named(cfg->log_level));
    log::set_syslog(cfg->log_syslog);
    if (!cfg->log_syslog && !opt.foreground)
        log::warning("log.syslog is false and -f is not given: once in the background, nothing will be logged");

    // Signals are waited for by this thread only (see DESCRIPTION).
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGHUP);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    signal(SIGPIPE, SIG_IGN);

    if (smfi_setconn(const_cast<char*>(socket.c_str())) != MI_SUCCESS ||
        smfi_settimeout(static_cast<int>(cfg->milter_timeout_s)) != MI_SUCCESS || !milter::register_filter()) {
        log::error("cannot set up libmilter for {}", socket);
        return 1;
    }
    if (smfi_opensocket(true) != MI_SUCCESS) {
        log::error("cannot open the milter socket {}: {}", socket, std::strerror(errno));
        return 1;
    }
    set_nodelay_on_listeners();
    if (!opt.user.empty() && !drop_privileges(opt.user, socket))
        return 1;
    if (!milter::open_metrics(*cfg))
        return 1;
    if (!opt.foreground) {
        daemonize(); // before any thread starts: fork keeps only the calling thread
        log::open("rampart-milter", log::facility_from_name(cfg->log_facility), false);
    }

    try {
        milter::set_runtime(Runtime::make(cfg, nullptr, rules.ruleset));
    } catch (const std::exception& e) {
        log::error("{}", e.what());
        return 1;
    }
    milter::start_telemetry();
    log::info("rampart-milter {} listening on {} (config {})", PACKAGE_VERSION, socket, opt.config);

    std::thread server([] {
        if (smfi_main() != MI_SUCCESS)
            log::error("libmilter stopped with an error");
    });
    server.detach();
    notify_service_manager("READY=1");

    for (;;) {
        int sig = 0;
        if (sigwait(&signals, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            notify_service_manager(reloading_state());
            reload(opt.config);
            notify_service_manager("READY=1");
            continue;
        }
        break;
    }
    notify_service_manager("STOPPING=1");
    const auto grace = std::chrono::milliseconds(milter::current_runtime()->config->milter_shutdown_timeout_ms);
    const auto deadline = std::chrono::steady_clock::now() + grace;
    log::info("stopping: no new connections; waiting up to {} ms for {} connection(s) in flight", grace.count(),
              milter::g_active_sessions.load());
    // smfi_stop() waits for libmilter's listener, which may sit in its own
    // poll for seconds; the grace period must not wait for that.
    std::thread([] { smfi_stop(); }).detach();
    while (milter::g_active_sessions > 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (milter::g_active_sessions > 0)
        log::warning("stopping with {} connection(s) still open; their MTAs apply milter_default_action",
                     milter::g_active_sessions.load());
    milter::stop_telemetry(); // with a last flush of the counters
    // Background writes still queued (each pipeline bounded by redis.timeout_ms); a
    // store replaced by a reload drains its own queue when its last session ends.
    milter::current_runtime()->store->flush_writes();
    if (socket.starts_with("unix:") || socket.starts_with("local:"))
        unlink(socket.substr(socket.find(':') + 1).c_str());
    log::info("stopped");
    _exit(0);
}
