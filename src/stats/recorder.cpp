#include "stats/recorder.hpp"

#include "checks/check.hpp"
#include "config/config.hpp"
#include "engine/scorecard.hpp"

#include <algorithm>

namespace rampart::stats {

const char* to_string(Step s)
{
    switch (s) {
    case Step::connect: return "connect";
    case Step::helo: return "helo";
    case Step::mail: return "mail";
    case Step::rcpt: return "rcpt";
    case Step::data: return "data";
    case Step::header: return "header";
    case Step::eoh: return "eoh";
    case Step::body: return "body";
    case Step::eom: return "eom";
    }
    return "connect";
}

const char* category_name(std::size_t category)
{
    return category == kUnclassified ? "unclassified" : to_string(static_cast<Category>(category));
}

const char* action_name(std::size_t action) { return to_string(static_cast<Action>(action)); }

void Histogram::observe(std::chrono::nanoseconds d)
{
    const double s = std::chrono::duration<double>(d).count();
    const auto bucket = static_cast<std::size_t>(std::lower_bound(kBounds.begin(), kBounds.end(), s) - kBounds.begin());
    d_buckets[bucket].fetch_add(1, std::memory_order_relaxed);
    d_sum_ns.fetch_add(static_cast<std::uint64_t>(std::max<std::int64_t>(0, d.count())), std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const
{
    Snapshot out;
    for (std::size_t i = 0; i < d_buckets.size(); ++i) {
        out.buckets[i] = d_buckets[i].load(std::memory_order_relaxed);
        out.count += out.buckets[i];
    }
    out.sum_s = static_cast<double>(d_sum_ns.load(std::memory_order_relaxed)) / 1e9;
    return out;
}

Recorder::Recorder()
{
    const auto checks = all_checks();
    d_checks.assign(checks.begin(), checks.end());
    d_check_times = std::vector<Histogram>(d_checks.size());
}

void Recorder::message(std::size_t category, std::size_t action, const Scorecard& card)
{
    if (category >= kCategories || action >= kActions)
        return;
    d_messages[category][action].fetch_add(1, std::memory_order_relaxed);
    if (card.symbols().empty())
        return;
    // Each thread keeps to one shard: threads meet on a lock only when
    // there are more of them than shards.
    static std::atomic<std::size_t> next_shard{0};
    thread_local const std::size_t shard = next_shard.fetch_add(1, std::memory_order_relaxed) % kShards;
    SymbolShard& s = d_symbols[shard];
    std::lock_guard lock(s.mutex);
    for (const auto& sym : card.symbols()) {
        if (auto it = s.hits.find(std::string_view(sym.name)); it != s.hits.end())
            ++it->second;
        else if (s.hits.size() < kMaxSymbolsPerShard)
            s.hits.emplace(sym.name, 1);
        else
            ++s.hits[std::string(kOtherSymbol)];
    }
}

Counts Recorder::counts() const
{
    Counts out;
    for (std::size_t c = 0; c < kCategories; ++c)
        for (std::size_t a = 0; a < kActions; ++a)
            out.messages[c][a] = d_messages[c][a].load(std::memory_order_relaxed);
    for (const auto& s : d_symbols) {
        std::lock_guard lock(s.mutex);
        for (const auto& [name, n] : s.hits)
            out.symbols[name] += n;
    }
    return out;
}

void Recorder::check_time(const Check& c, std::chrono::nanoseconds d)
{
    const auto it = std::find(d_checks.begin(), d_checks.end(), &c);
    if (it != d_checks.end())
        d_check_times[static_cast<std::size_t>(it - d_checks.begin())].observe(d);
}

std::vector<std::pair<std::string_view, Histogram::Snapshot>> Recorder::check_times() const
{
    std::vector<std::pair<std::string_view, Histogram::Snapshot>> out;
    for (std::size_t i = 0; i < d_checks.size(); ++i)
        if (auto snap = d_check_times[i].snapshot(); snap.count > 0)
            out.emplace_back(d_checks[i]->name(), snap);
    return out;
}

} // namespace rampart::stats
