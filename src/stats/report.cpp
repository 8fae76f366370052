#include "stats/report.hpp"

#include <algorithm>

namespace rampart::stats {
namespace {

// The buckets of one scope that the windows need, in one pipeline's order:
// kMinutes minute buckets, kHours hour buckets, kDays day buckets, each
// oldest first and ending with the current one.
constexpr std::int64_t kMinutes = 60, kHours = 24, kDays = 30;
constexpr std::size_t kBucketsPerScope = kMinutes + kHours + kDays;

void add_buckets(Batch& b, const Keys& keys, std::string_view node, std::int64_t now_s)
{
    for (std::int64_t i = kMinutes - 1; i >= 0; --i)
        b.add({"HGETALL", keys.stats_bucket(node, 'm', now_s / 60 - i)});
    for (std::int64_t i = kHours - 1; i >= 0; --i)
        b.add({"HGETALL", keys.stats_bucket(node, 'h', now_s / 3600 - i)});
    for (std::int64_t i = kDays - 1; i >= 0; --i)
        b.add({"HGETALL", keys.stats_bucket(node, 'd', now_s / 86400 - i)});
}

void add_to(Totals& t, const Reply& hash, std::size_t window)
{
    for (std::size_t i = 0; i + 1 < hash.elements.size(); i += 2) {
        const long long n = hash.elements[i + 1].as_integer(-1);
        if (n > 0)
            t[hash.elements[i].str][window] += static_cast<std::uint64_t>(n);
    }
}

// The replies of add_buckets, from `first` on, summed into windows.
Totals sum_buckets(const std::vector<Reply>& replies, std::size_t first)
{
    Totals t;
    for (std::size_t i = 0; i < kBucketsPerScope; ++i) {
        const Reply& r = replies[first + i];
        if (i < kMinutes) {
            add_to(t, r, 1);
            if (i == kMinutes - 1)
                add_to(t, r, 0);
        } else if (i < kMinutes + kHours) {
            add_to(t, r, 2);
        } else {
            add_to(t, r, 3);
        }
    }
    return t;
}

Result<std::vector<Reply>> run(Store& store, const Batch& b)
{
    auto r = store.execute(b);
    if (!r)
        return r.error();
    for (const auto& reply : *r)
        if (reply.is_error())
            return Error{"Redis: " + reply.str};
    if (r->size() != b.size())
        return Error{"Redis gave fewer replies than commands"};
    return r;
}

} // namespace

Result<Report> read_report(Store& store, const Keys& keys, std::int64_t now_s, std::string_view node)
{
    Report report;
    report.now_s = now_s;
    std::vector<std::string> names;
    if (!node.empty()) {
        names.emplace_back(node);
    } else {
        Batch list;
        list.add({"ZRANGE", keys.stats_nodes(), "0", "-1"});
        auto r = run(store, list);
        if (!r)
            return r.error();
        for (const auto& e : (*r)[0].elements)
            names.push_back(e.str);
        std::sort(names.begin(), names.end());
    }
    report.has_fleet = node.empty();
    Batch b;
    if (report.has_fleet)
        add_buckets(b, keys, {}, now_s);
    for (const auto& n : names) {
        b.add({"HMGET", keys.stats_state(n), "breaker", "flushed", "flush_s", "version"});
        add_buckets(b, keys, n, now_s);
    }
    auto r = run(store, b);
    if (!r)
        return r.error();
    std::size_t at = 0;
    if (report.has_fleet) {
        report.fleet = sum_buckets(*r, at);
        at += kBucketsPerScope;
    }
    for (const auto& n : names) {
        NodeReport nr;
        nr.node = n;
        const auto& state = (*r)[at++].elements;
        if (state.size() == 4 && !state[1].is_nil()) {
            nr.has_state = true;
            nr.breaker_open = state[0].str == "open";
            nr.flushed = state[1].as_integer();
            nr.flush_s = state[2].as_integer();
            nr.version = state[3].str;
        }
        nr.totals = sum_buckets(*r, at);
        at += kBucketsPerScope;
        report.nodes.push_back(std::move(nr));
    }
    return report;
}

bool alive(const NodeReport& n, std::int64_t now_s)
{
    return n.has_state && now_s - n.flushed <= kSilentFlushes * n.flush_s + kSilentSlackS;
}

} // namespace rampart::stats
