#include "store/breaker.hpp"

#include "util/log.hpp"

namespace rampart {

Breaker::Breaker(int threshold, std::chrono::milliseconds cooldown) : d_threshold(threshold), d_cooldown(cooldown) {}

bool Breaker::allow()
{
    if (!d_open.load(std::memory_order_acquire))
        return true;
    std::lock_guard lock(d_mutex);
    if (!d_open)
        return true;
    if (!d_probing && Clock::now() >= d_open_until) {
        d_probing = true; // this caller probes; the others keep failing fast
        return true;
    }
    ++d_failed_fast;
    return false;
}

void Breaker::success()
{
    d_consecutive.store(0, std::memory_order_relaxed);
    if (!d_open.load(std::memory_order_acquire))
        return;
    std::lock_guard lock(d_mutex);
    if (!d_open)
        return;
    d_open = false;
    d_probing = false;
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - d_opened_at).count();
    log::warning("redis: circuit breaker closed, Redis answers again after {} ms; {} calls failed fast while open", ms,
                 d_failed_fast - d_failed_fast_at_open);
}

void Breaker::failure(std::string_view why)
{
    ++d_failures;
    const int n = ++d_consecutive;
    std::lock_guard lock(d_mutex);
    if (d_open) {
        if (d_probing) { // the probe failed: another cooldown, no new log line
            d_probing = false;
            d_open_until = Clock::now() + d_cooldown;
        }
        return;
    }
    if (n < d_threshold)
        return;
    d_open = true;
    d_probing = false;
    d_opened_at = Clock::now();
    d_open_until = d_opened_at + d_cooldown;
    d_failed_fast_at_open = d_failed_fast;
    ++d_times_opened;
    log::warning("redis: circuit breaker open after {} consecutive failures (last: {}); calls fail fast, "
                 "probing again every {} ms",
                 n, why, d_cooldown.count());
}

} // namespace rampart
