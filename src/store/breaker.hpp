// NAME
//   breaker.hpp - circuit breaker in front of Redis
// DESCRIPTION
//   After `threshold` consecutive failures the breaker opens: calls fail at
//   once (microseconds, no timeout) for `cooldown`. Then one call is let
//   through as a probe; its success closes the breaker, its failure opens it
//   for another cooldown. Each change of state is logged once; failures and
//   calls failed fast are counted.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string_view>

namespace rampart {

class Breaker {
  public:
    using Clock = std::chrono::steady_clock;

    Breaker(int threshold, std::chrono::milliseconds cooldown);

    // True when a call may go to Redis now.
    bool allow();
    void success();
    void failure(std::string_view why);

    bool is_open() const { return d_open.load(std::memory_order_relaxed); }
    std::uint64_t failures() const { return d_failures; }
    std::uint64_t failed_fast() const { return d_failed_fast; }
    std::uint64_t times_opened() const { return d_times_opened; }

  private:
    const int d_threshold;
    const std::chrono::milliseconds d_cooldown;
    std::mutex d_mutex;
    std::atomic<bool> d_open{false};
    std::atomic<int> d_consecutive{0};
    bool d_probing = false;
    Clock::time_point d_open_until;
    Clock::time_point d_opened_at;
    std::atomic<std::uint64_t> d_failures{0};
    std::atomic<std::uint64_t> d_failed_fast{0};
    std::atomic<std::uint64_t> d_times_opened{0};
    std::uint64_t d_failed_fast_at_open = 0;
};

} // namespace rampart
