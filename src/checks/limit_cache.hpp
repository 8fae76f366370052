// NAME
//   limit_cache.hpp - the rate counters this node knows to be full
// DESCRIPTION
//   Every GCRA reply tells, per counter, how long until it has room for one
//   more event. The rate limit check notes the full ones here, so that the
//   next MAIL FROM or connection charged to a full counter is refused at
//   once, from memory, without waiting for Redis; counters with room are
//   charged in Redis in the background. An entry lasts until the counter
//   has room again, at most kMaxHold, so that `rampartctl rate reset` is
//   honoured by every node within that time.
//
//   Bounded: at kMaxEntries, expired entries are swept, and if none was,
//   everything is forgotten (the cache only saves round trips and early
//   refusals; Redis holds the counters).
// THREAD SAFETY
//   Shared by every session of a Runtime; one mutex, taken only when the
//   cache has entries.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace rampart {

class LimitCache {
  public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::size_t kMaxEntries = 100000;
    static constexpr std::chrono::seconds kMaxHold{10};

    // Milliseconds until `key` has room again, as last heard from Redis; 0 when it has room or is unknown.
    std::int64_t full_for_ms(std::string_view key, Clock::time_point now = Clock::now()) const;
    // Notes that `key` has no room for the next `ms` milliseconds.
    void note_full(std::string_view key, std::int64_t ms, Clock::time_point now = Clock::now());
    std::size_t size() const;

  private:
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    mutable std::mutex d_mutex;
    std::unordered_map<std::string, Clock::time_point, Hash, std::equal_to<>> d_until;
    std::atomic<std::size_t> d_size{0};
};

} // namespace rampart
