// NAME
//   utc.hpp - a time in seconds since 1970, as people read it in logs and reports
#pragma once

#include <cstdint>
#include <ctime>
#include <string>

namespace rampart {

// 2026-12-07T09:00:00Z; the number itself for a time gmtime cannot show.
inline std::string utc_time(std::int64_t t)
{
    const std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    char buf[32];
    if (gmtime_r(&tt, &tm) == nullptr || std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return std::to_string(t);
    return buf;
}

} // namespace rampart
