#include "util/log.hpp"

#include <syslog.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <mutex>

namespace rampart::log {
namespace {

std::atomic<Level> g_level{Level::info};
std::string g_ident = "rampart";
bool g_stderr = true;
std::atomic<bool> g_syslog{true};
long g_pid = static_cast<long>(getpid());
std::mutex g_stderr_mutex;

int priority(Level l)
{
    switch (l) {
    case Level::error: return LOG_ERR;
    case Level::warning: return LOG_WARNING;
    case Level::info: return LOG_INFO;
    case Level::debug: return LOG_DEBUG;
    }
    return LOG_INFO;
}

const char* name(Level l)
{
    switch (l) {
    case Level::error: return "error";
    case Level::warning: return "warning";
    case Level::info: return "info";
    case Level::debug: return "debug";
    }
    return "info";
}

} // namespace

void open(std::string_view ident, int facility, bool to_stderr)
{
    g_ident = std::string(ident);
    g_stderr = to_stderr;
    g_pid = static_cast<long>(getpid()); // after a fork to the background
    openlog(g_ident.c_str(), LOG_PID | LOG_NDELAY, facility);
}

void set_level(Level l) { g_level = l; }
void set_syslog(bool on) { g_syslog = on; }
Level level() { return g_level; }

void write(Level l, std::string_view text)
{
    if (l > g_level)
        return;
    if (g_syslog.load(std::memory_order_relaxed))
        syslog(priority(l), "%.*s", static_cast<int>(text.size()), text.data());
    if (g_stderr) {
        std::lock_guard lock(g_stderr_mutex);
        std::fprintf(stderr, "%s[%ld]: %s: %.*s\n", g_ident.c_str(), g_pid, name(l), static_cast<int>(text.size()),
                     text.data());
        std::fflush(stderr);
    }
}

int facility_from_name(std::string_view n)
{
    struct Entry {
        std::string_view name;
        int value;
    };
    static constexpr Entry table[] = {
        {"mail", LOG_MAIL},     {"daemon", LOG_DAEMON}, {"user", LOG_USER},     {"local0", LOG_LOCAL0},
        {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},
        {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
    };
    for (const auto& e : table)
        if (e.name == n)
            return e.value;
    return -1;
}

} // namespace rampart::log
