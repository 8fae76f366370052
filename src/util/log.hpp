// NAME
//   log.hpp - the one levelled logger
// DESCRIPTION
//   Lines go to syslog (ident rampart-milter or rampartctl, the configured
//   facility) unless log.syslog is off, and, in the foreground, to stderr
//   as "PROG[PID]: LEVEL: text".
//   Decision lines are key=value with the queue id first; callers pass
//   untrusted text through printable() first.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace rampart::log {

enum class Level { error = 0, warning = 1, info = 2, debug = 3 };

void open(std::string_view ident, int facility, bool to_stderr);
void set_level(Level level);
// Off: lines go to stderr only (log.syslog = false: containers, supervisors).
void set_syslog(bool on);
Level level();
void write(Level level, std::string_view text);

// Maps "mail", "daemon", "local0".."local7" to a syslog facility; -1 if unknown.
int facility_from_name(std::string_view name);

template <typename... Args> void error(fmt::format_string<Args...> f, Args&&... args)
{
    write(Level::error, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args> void warning(fmt::format_string<Args...> f, Args&&... args)
{
    write(Level::warning, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args> void info(fmt::format_string<Args...> f, Args&&... args)
{
    if (level() >= Level::info)
        write(Level::info, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args> void debug(fmt::format_string<Args...> f, Args&&... args)
{
    if (level() >= Level::debug)
        write(Level::debug, fmt::format(f, std::forward<Args>(args)...));
}

} // namespace rampart::log
