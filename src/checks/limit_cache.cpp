#include "checks/limit_cache.hpp"

#include <algorithm>

namespace rampart {

std::int64_t LimitCache::full_for_ms(std::string_view key, Clock::time_point now) const
{
    if (d_size.load(std::memory_order_relaxed) == 0)
        return 0;
    std::lock_guard lock(d_mutex);
    const auto it = d_until.find(key);
    if (it == d_until.end() || it->second <= now)
        return 0;
    return std::chrono::ceil<std::chrono::milliseconds>(it->second - now).count();
}

void LimitCache::note_full(std::string_view key, std::int64_t ms, Clock::time_point now)
{
    if (ms <= 0)
        return;
    const auto until = now + std::min<Clock::duration>(std::chrono::milliseconds(ms), kMaxHold);
    std::lock_guard lock(d_mutex);
    if (d_until.size() >= kMaxEntries) {
        std::erase_if(d_until, [&](const auto& e) { return e.second <= now; });
        if (d_until.size() >= kMaxEntries)
            d_until.clear();
    }
    auto [it, added] = d_until.try_emplace(std::string(key), until);
    if (!added)
        it->second = std::max(it->second, until);
    d_size.store(d_until.size(), std::memory_order_relaxed);
}

std::size_t LimitCache::size() const { return d_size.load(std::memory_order_relaxed); }

} // namespace rampart
