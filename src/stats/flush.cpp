#include "stats/flush.hpp"

#include <fmt/format.h>

#include <utility>
#include <vector>

namespace rampart::stats {
namespace {

// What a counter gained; one that went down was started again (a new
// Recorder or Store), and all it holds is new.
std::uint64_t gain(std::uint64_t now, std::uint64_t before) { return now >= before ? now - before : now; }

} // namespace

Batch Flusher::take(const Counts& counts, const ErrorTotals& errors, const NodeState& state, const Keys& keys,
                    std::int64_t now_s)
{
    std::vector<std::pair<std::string, std::uint64_t>> fields;
    for (std::size_t c = 0; c < kCategories; ++c)
        for (std::size_t a = 0; a < kActions; ++a)
            if (const auto n = gain(counts.messages[c][a], d_last.messages[c][a]))
                fields.emplace_back(fmt::format("m:{}:{}", category_name(c), action_name(a)), n);
    for (const auto& [name, hits] : counts.symbols) {
        const auto before = d_last.symbols.find(name);
        if (const auto n = gain(hits, before == d_last.symbols.end() ? 0 : before->second))
            fields.emplace_back("s:" + name, n);
    }
    const bool same_store = errors.store == d_last_errors.store,
               same_resolver = errors.resolver == d_last_errors.resolver;
    if (const auto n = gain(errors.redis, same_store ? d_last_errors.redis : 0))
        fields.emplace_back("e:redis", n);
    const auto failed_fast = gain(errors.redis_fast, same_store ? d_last_errors.redis_fast : 0);
    if (failed_fast)
        fields.emplace_back("e:redis_fast", failed_fast);
    if (const auto n = gain(errors.dns, same_resolver ? d_last_errors.dns : 0))
        fields.emplace_back("e:dns", n);
    d_taken = counts;
    d_taken_errors = errors;

    Batch b;
    if (!fields.empty()) {
        const std::pair<char, std::int64_t> units[] = {{'m', kMinuteTtlS}, {'h', kHourTtlS}, {'d', kDayTtlS}};
        const std::int64_t length[] = {60, 3600, 86400};
        for (std::size_t u = 0; u < 3; ++u)
            for (const std::string_view node : {std::string_view(state.node), std::string_view()}) {
                const auto key = keys.stats_bucket(node, units[u].first, now_s / length[u]);
                for (const auto& [field, n] : fields)
                    b.add({"HINCRBY", key, field, std::to_string(n)});
                b.add({"EXPIRE", key, std::to_string(units[u].second)});
            }
    }
    const auto state_key = keys.stats_state(state.node);
    b.add({"HSET", state_key, "breaker", state.breaker_open || failed_fast ? "open" : "closed", "flushed",
           std::to_string(now_s), "flush_s", std::to_string(state.flush_s), "version", PACKAGE_VERSION});
    b.add({"EXPIRE", state_key, std::to_string(kStateTtlS)});
    b.add({"ZADD", keys.stats_nodes(), std::to_string(now_s), state.node});
    b.add({"ZREMRANGEBYSCORE", keys.stats_nodes(), "-inf", fmt::format("({}", now_s - kStateTtlS)});
    b.add({"EXPIRE", keys.stats_nodes(), std::to_string(kStateTtlS)});
    return b;
}

void Flusher::delivered()
{
    d_last = d_taken;
    d_last_errors = d_taken_errors;
}

} // namespace rampart::stats
