// Redis tests: the counts two nodes flush add up in the fleet's buckets,
// each node keeps its own, and the report (what rampartctl stats prints)
// shows both, with each node's state.
#include "engine/scorecard.hpp"
#include "engine/session.hpp"
#include "redis_helpers.hpp"
#include "stats/flush.hpp"
#include "stats/recorder.hpp"
#include "stats/report.hpp"

#include <doctest/doctest.h>

using namespace rampart;
using namespace rampart::test;

namespace {

constexpr auto kClean = static_cast<std::size_t>(Category::clean);
constexpr auto kSpam = static_cast<std::size_t>(Category::spam);
constexpr auto kAccept = static_cast<std::size_t>(Action::accept);
constexpr auto kTag = static_cast<std::size_t>(Action::tag);

void messages(stats::Recorder& r, std::size_t category, std::size_t action, int n, const char* symbol = nullptr)
{
    Scorecard c;
    if (symbol)
        c.add(symbol, 1);
    for (int i = 0; i < n; ++i)
        r.message(category, action, c);
}

std::array<std::uint64_t, stats::kWindows> totals(const stats::Totals& t, const std::string& field)
{
    const auto it = t.find(field);
    return it == t.end() ? std::array<std::uint64_t, stats::kWindows>{} : it->second;
}

using W = std::array<std::uint64_t, stats::kWindows>;

} // namespace

TEST_CASE("two nodes' flushes add up fleet-wide; each node keeps its own counts and state")
{
    const auto cfg = config(redis_section("stats"));
    Store store(*cfg);
    const Keys keys(cfg->redis_prefix);
    // A moment in the middle of a minute, an hour and a day: the buckets a
    // window sums are then known exactly.
    const std::int64_t now = 1'800'000'000 + 30;
    const std::int64_t an_hour_ago = now - 3600 - 60;

    stats::Recorder a, b;
    stats::Flusher fa, fb;
    messages(a, kClean, kAccept, 3);
    messages(a, kSpam, kTag, 2, "RAMPART_X");
    messages(b, kClean, kAccept, 4);
    messages(b, kSpam, kTag, 1, "RAMPART_X");
    // Node a flushed an hour ago (outside the hour window) and now.
    run(store, fa.take(a.counts(), {}, {"mx-a", false, 10}, keys, an_hour_ago));
    fa.delivered();
    messages(a, kClean, kAccept, 5);
    run(store, fa.take(a.counts(), {&a, 1, 0, nullptr, 0}, {"mx-a", false, 10}, keys, now));
    fa.delivered();
    run(store, fb.take(b.counts(), {&b, 0, 0, nullptr, 2}, {"mx-b", true, 10}, keys, now - 2));
    fb.delivered();

    auto report = stats::read_report(store, keys, now);
    REQUIRE_MESSAGE(report.ok(), (report.ok() ? "" : report.error().message));
    CHECK(report->has_fleet);
    // minute, hour, day, 30 days
    CHECK(totals(report->fleet, "m:clean:accept") == W{9, 9, 12, 12});
    CHECK(totals(report->fleet, "m:spam:tag") == W{1, 1, 3, 3});
    CHECK(totals(report->fleet, "s:RAMPART_X") == W{1, 1, 3, 3});
    CHECK(totals(report->fleet, "e:redis") == W{1, 1, 1, 1});
    CHECK(totals(report->fleet, "e:dns") == W{2, 2, 2, 2});

    REQUIRE(report->nodes.size() == 2);
    const auto& na = report->nodes[0];
    const auto& nb = report->nodes[1];
    CHECK(na.node == "mx-a");
    CHECK(nb.node == "mx-b");
    CHECK(totals(na.totals, "m:clean:accept") == W{5, 5, 8, 8});
    CHECK(totals(nb.totals, "m:clean:accept") == W{4, 4, 4, 4});
    CHECK(na.flushed == now);
    CHECK_FALSE(na.breaker_open);
    CHECK(nb.breaker_open);
    CHECK(stats::alive(na, now));
    CHECK_FALSE(stats::alive(na, now + 10 * 60));

    // What rampartctl stats prints of it.
    const std::string table = stats::format_table(*report);
    const auto has = [&](const std::string& text) {
        CHECK_MESSAGE(table.find(text) != std::string::npos, "missing: ", text, "\ntable:\n", table);
    };
    has("fleet: 2 nodes");
    has(fmt::format("  {:<36} {:>10} {:>10} {:>10} {:>10}\n", "clean/accept", 9, 9, 12, 12));
    has(fmt::format("  {:<36} {:>10} {:>10} {:>10} {:>10}\n", "total", 10, 10, 15, 15));
    has("  mx-a                     up, breaker closed, flushed 0 s ago");
    has("  mx-b                     up, breaker open, flushed 2 s ago");

    // One node asked for: its counts, not the fleet's.
    auto one = stats::read_report(store, keys, now, "mx-b");
    REQUIRE(one.ok());
    CHECK_FALSE(one->has_fleet);
    REQUIRE(one->nodes.size() == 1);
    CHECK(totals(one->nodes[0].totals, "s:RAMPART_X") == W{1, 1, 1, 1});
    CHECK(stats::format_table(*one).starts_with("node mx-b: up, breaker open"));

    // Every key has its TTL.
    CHECK(redis(store, {"TTL", keys.stats_bucket("", 'm', now / 60)}).integer == stats::kMinuteTtlS);
    CHECK(redis(store, {"TTL", keys.stats_bucket("mx-a", 'h', now / 3600)}).integer == stats::kHourTtlS);
    CHECK(redis(store, {"TTL", keys.stats_bucket("mx-b", 'd', now / 86400)}).integer == stats::kDayTtlS);
    CHECK(redis(store, {"TTL", keys.stats_state("mx-a")}).integer == stats::kStateTtlS);
    CHECK(redis(store, {"TTL", keys.stats_nodes()}).integer == stats::kStateTtlS);
}

TEST_CASE("an unknown node has no state, and no counts")
{
    const auto cfg = config(redis_section("stats"));
    Store store(*cfg);
    auto report = stats::read_report(store, Keys(cfg->redis_prefix), 1'800'000'000, "nobody");
    REQUIRE(report.ok());
    REQUIRE(report->nodes.size() == 1);
    CHECK_FALSE(report->nodes[0].has_state);
    CHECK(report->nodes[0].totals.empty());
    CHECK(stats::format_table(*report).starts_with("node nobody: no state"));
}
