// Unit tests: the in-memory counters (stats/recorder.hpp), what a flush
// sends (stats/flush.hpp), the Prometheus page (stats/exposition.hpp),
// the HTTP answers of the endpoint (milter/metrics_server.hpp), the
// report's rendering (stats/report.hpp) and the settings; no Redis.
#include "engine/scorecard.hpp"
#include "engine/session.hpp"
#include "helpers.hpp"
#include "milter/metrics_server.hpp"
#include "stats/exposition.hpp"
#include "stats/flush.hpp"
#include "stats/recorder.hpp"
#include "stats/report.hpp"

#include <doctest/doctest.h>

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <thread>

using namespace rampart;
using namespace rampart::test;

namespace {

Scorecard card(std::initializer_list<const char*> names)
{
    Scorecard c;
    for (const char* n : names)
        c.add(n, 1);
    return c;
}

constexpr auto kClean = static_cast<std::size_t>(Category::clean);
constexpr auto kSpam = static_cast<std::size_t>(Category::spam);
constexpr auto kAccept = static_cast<std::size_t>(Action::accept);
constexpr auto kTag = static_cast<std::size_t>(Action::tag);
constexpr auto kReject = static_cast<std::size_t>(Action::reject);

// HINCRBY KEY FIELD N commands of `b` as "KEY FIELD" -> N.
std::map<std::string, std::string> increments(const Batch& b)
{
    std::map<std::string, std::string> out;
    for (const auto& c : b.commands())
        if (c.args[0] == "HINCRBY")
            out[c.args[1] + " " + c.args[2]] = c.args[3];
    return out;
}

// A Runtime as Runtime::make builds it, for the stats part: with its
// Recorder; `previous` the Runtime a reload replaces.
std::shared_ptr<const Runtime> runtime_with_stats(const std::string& toml, const Runtime* previous = nullptr)
{
    auto cfg = config(toml);
    auto rt = std::const_pointer_cast<Runtime>(runtime(cfg));
    add_stats(*rt, previous);
    return rt;
}

} // namespace

TEST_CASE("the recorder counts messages by category and action, and each symbol once per message")
{
    stats::Recorder r;
    r.message(kClean, kAccept, card({}));
    r.message(kSpam, kTag, card({"RAMPART_A", "RAMPART_B"}));
    r.message(kSpam, kTag, card({"RAMPART_A"}));
    r.message(stats::kUnclassified, kReject, card({"RAMPART_C"}));
    r.message(99, kAccept, card({"RAMPART_IGNORED"})); // not a category: not counted
    const auto c = r.counts();
    CHECK(c.messages[kClean][kAccept] == 1);
    CHECK(c.messages[kSpam][kTag] == 2);
    CHECK(c.messages[stats::kUnclassified][kReject] == 1);
    CHECK(c.symbols ==
          std::map<std::string, std::uint64_t, std::less<>>{{"RAMPART_A", 2}, {"RAMPART_B", 1}, {"RAMPART_C", 1}});
}

TEST_CASE("counts from many threads add up")
{
    stats::Recorder r;
    constexpr int kThreads = 8, kEach = 2000;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < kEach; ++i)
                r.message(kSpam, kTag, card({"RAMPART_X"}));
        });
    for (auto& t : threads)
        t.join();
    const auto c = r.counts();
    CHECK(c.messages[kSpam][kTag] == kThreads * kEach);
    CHECK(c.symbols.at("RAMPART_X") == kThreads * kEach);
}

TEST_CASE("a histogram puts each duration in the first bucket whose bound holds it")
{
    stats::Histogram h;
    h.observe(std::chrono::microseconds(30)); // <= 0.00005
    h.observe(std::chrono::microseconds(50)); // <= 0.00005: bounds are inclusive
    h.observe(std::chrono::milliseconds(2));  // <= 0.0025
    h.observe(std::chrono::seconds(10));      // past every bound
    const auto s = h.snapshot();
    CHECK(s.count == 4);
    CHECK(s.buckets[0] == 2);
    CHECK(s.buckets[5] == 1); // 0.0025
    CHECK(s.buckets.back() == 1);
    CHECK(s.sum_s == doctest::Approx(10.00208));
}

TEST_CASE("a flush sends what grew since the last one, to the node's and the fleet's buckets")
{
    stats::Recorder r;
    stats::Flusher f;
    const Keys keys("p:");
    const stats::NodeState node{"mx1", false, 10};
    const std::int64_t t = 1'800'000'000; // minute 30000000, hour 500000, day 20833
    r.message(kSpam, kTag, card({"RAMPART_A"}));
    const stats::ErrorTotals errors{&r, 2, 5, nullptr, 0};
    auto b = f.take(r.counts(), errors, node, keys, t);
    auto inc = increments(b);
    for (const std::string key : {"p:{stats:mx1}:m:30000000", "p:{stats}:m:30000000", "p:{stats:mx1}:h:500000",
                                  "p:{stats}:h:500000", "p:{stats:mx1}:d:20833", "p:{stats}:d:20833"}) {
        CHECK_MESSAGE(inc[key + " m:spam:tag"] == "1", key);
        CHECK_MESSAGE(inc[key + " s:RAMPART_A"] == "1", key);
        CHECK_MESSAGE(inc[key + " e:redis"] == "2", key);
        CHECK_MESSAGE(inc[key + " e:redis_fast"] == "5", key);
    }
    CHECK(inc.size() == 6 * 4);
    std::map<std::string, std::string> ttl;
    for (const auto& c : b.commands())
        if (c.args[0] == "EXPIRE")
            ttl[c.args[1]] = c.args[2];
    CHECK(ttl["p:{stats}:m:30000000"] == "7200");
    CHECK(ttl["p:{stats:mx1}:h:500000"] == "172800");
    CHECK(ttl["p:{stats:mx1}:d:20833"] == "3024000");
    CHECK(ttl["p:{stats:mx1}:state"] == "3024000");
    const auto state =
        std::find_if(b.commands().begin(), b.commands().end(), [](const auto& c) { return c.args[0] == "HSET"; });
    REQUIRE(state != b.commands().end());
    CHECK_MESSAGE(state->args[3] == "open", "calls failed fast since the last flush: the breaker was open");

    SUBCASE("nothing new: only the node's state and its place in the node list")
    {
        f.delivered();
        b = f.take(r.counts(), errors, node, keys, t + 10);
        CHECK(increments(b).empty());
        REQUIRE(b.size() >= 3);
        CHECK(b.commands()[0].args == std::vector<std::string>{"HSET", "p:{stats:mx1}:state", "breaker", "closed",
                                                               "flushed", std::to_string(t + 10), "flush_s", "10",
                                                               "version", PACKAGE_VERSION});
        CHECK(b.commands()[2].args ==
              std::vector<std::string>{"ZADD", "p:{stats}:nodes", std::to_string(t + 10), "mx1"});
    }
    SUBCASE("only the gain goes out; a new Store's counters count whole")
    {
        f.delivered();
        r.message(kSpam, kTag, card({"RAMPART_A", "RAMPART_B"}));
        const int other_store = 0;
        b = f.take(r.counts(), {&other_store, 1, 0, nullptr, 0}, node, keys, t + 60);
        inc = increments(b);
        CHECK(inc["p:{stats}:m:30000001 m:spam:tag"] == "1");
        CHECK(inc["p:{stats}:m:30000001 s:RAMPART_A"] == "1");
        CHECK(inc["p:{stats}:m:30000001 s:RAMPART_B"] == "1");
        CHECK(inc["p:{stats}:m:30000001 e:redis"] == "1");
        CHECK(inc.size() == 6 * 4);
    }
    SUBCASE("a flush Redis did not take leaves its gains for the next")
    {
        r.message(kSpam, kTag, card({}));
        b = f.take(r.counts(), {&r, 3, 5, nullptr, 0}, node, keys, t + 60);
        inc = increments(b);
        CHECK(inc["p:{stats}:m:30000001 m:spam:tag"] == "2");
        CHECK(inc["p:{stats}:m:30000001 s:RAMPART_A"] == "1");
        CHECK(inc["p:{stats}:m:30000001 e:redis"] == "3");
        CHECK(inc["p:{stats}:m:30000001 e:redis_fast"] == "5");
        f.delivered();
        b = f.take(r.counts(), {&r, 3, 5, nullptr, 0}, node, keys, t + 70);
        CHECK(increments(b).empty());
    }
}

TEST_CASE("the Prometheus page: every family typed, counters by label, cumulative buckets")
{
    stats::Recorder r;
    r.message(kSpam, kTag, card({"RAMPART_A", "QUOTE\"D"}));
    r.step_time(stats::Step::eom, std::chrono::milliseconds(3));
    r.step_time(stats::Step::eom, std::chrono::milliseconds(30));
    r.reloaded();
    const stats::ProcessFacts f{.redis_round_trips = 7,
                                .redis_errors = 2,
                                .breaker_open = true,
                                .dns_errors = 4,
                                .version = "1.2.3",
                                .node = "mx1"};
    const std::string page = stats::exposition(r, f);
    const auto has = [&](const std::string& line) {
        CHECK_MESSAGE(page.find("\n" + line + "\n") != std::string::npos, "missing: ", line, "\npage:\n", page);
    };
    has("# TYPE rampart_messages_total counter");
    has("rampart_messages_total{category=\"spam\",action=\"tag\"} 1");
    has("rampart_messages_total{category=\"clean\",action=\"accept\"} 0");
    has("rampart_messages_total{category=\"unclassified\",action=\"tempfail\"} 0");
    has("rampart_symbol_hits_total{symbol=\"RAMPART_A\"} 1");
    has("rampart_symbol_hits_total{symbol=\"QUOTE\\\"D\"} 1");
    has("# TYPE rampart_phase_seconds histogram");
    has("rampart_phase_seconds_bucket{phase=\"eom\",le=\"0.0025\"} 0");
    has("rampart_phase_seconds_bucket{phase=\"eom\",le=\"0.005\"} 1");
    has("rampart_phase_seconds_bucket{phase=\"eom\",le=\"0.05\"} 2");
    has("rampart_phase_seconds_bucket{phase=\"eom\",le=\"+Inf\"} 2");
    has("rampart_phase_seconds_count{phase=\"eom\"} 2");
    has("rampart_phase_seconds_sum{phase=\"eom\"} 0.033000000");
    has("rampart_phase_seconds_count{phase=\"helo\"} 0");
    has("rampart_redis_round_trips_total 7");
    has("rampart_redis_errors_total 2");
    has("rampart_redis_breaker_open 1");
    has("rampart_dns_errors_total 4");
    has("rampart_config_generation 2");
    has("rampart_build_info{version=\"1.2.3\",node=\"mx1\"} 1");
    // Every sample's family was announced.
    std::istringstream in(page);
    std::set<std::string> typed;
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with("# TYPE ")) {
            typed.insert(line.substr(7, line.find(' ', 7) - 7));
            continue;
        }
        if (line.starts_with("#"))
            continue;
        std::string name = line.substr(0, line.find_first_of("{ "));
        for (const char* suffix : {"_bucket", "_sum", "_count"})
            if (!typed.count(name) && name.ends_with(suffix))
                name.resize(name.size() - std::string_view(suffix).size());
        CHECK_MESSAGE(typed.count(name), "sample without a TYPE line: ", line);
    }
}

TEST_CASE("label values are escaped")
{
    CHECK(stats::label_value(R"(a"b\c)") == R"(a\"b\\c)");
    CHECK(stats::label_value("a\nb") == "a\\nb");
}

TEST_CASE("the endpoint answers GET /metrics only")
{
    const milter::MetricsServer::Page page = [] { return std::string("rampart_x 1\n"); };
    struct Case {
        const char* request;
        const char* status;
    };
    const Case cases[] = {
        {"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.0 200 OK\r\n"},
        {"GET /metrics?x=1 HTTP/1.0\r\n\r\n", "HTTP/1.0 200 OK\r\n"},
        {"GET / HTTP/1.0\r\n\r\n", "HTTP/1.0 404 Not Found\r\n"},
        {"GET /metricsx HTTP/1.0\r\n\r\n", "HTTP/1.0 404 Not Found\r\n"},
        {"POST /metrics HTTP/1.0\r\n\r\n", "HTTP/1.0 405 Method Not Allowed\r\n"},
        {"hello\r\n\r\n", "HTTP/1.0 400 Bad Request\r\n"},
        {"GET /metrics\r\n\r\n", "HTTP/1.0 400 Bad Request\r\n"},
    };
    for (const auto& c : cases) {
        const std::string got = milter::metrics_response(c.request, page);
        CHECK_MESSAGE(got.starts_with(c.status), "request ", c.request, " got ", got);
    }
    const std::string ok = milter::metrics_response("GET /metrics HTTP/1.0\r\n\r\n", page);
    CHECK(ok.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n") != std::string::npos);
    CHECK(ok.find("Content-Length: 12\r\n") != std::string::npos);
    CHECK(ok.ends_with("\r\n\r\nrampart_x 1\n"));
}

TEST_CASE("the report as a table and as JSON")
{
    stats::Report r;
    r.now_s = 1'800'000'000;
    r.has_fleet = true;
    r.fleet["m:spam:tag"] = {1, 5, 9, 20};
    r.fleet["m:clean:accept"] = {2, 10, 30, 100};
    r.fleet["s:RAMPART_A"] = {1, 2, 3, 4};
    r.fleet["s:RAMPART_B"] = {1, 2, 8, 9};
    r.fleet["e:dns"] = {0, 1, 1, 1};
    stats::NodeReport up{"mx1", true, r.now_s - 5, 10, false, "1.0", {}};
    up.totals["m:clean:accept"] = {2, 10, 30, 100};
    stats::NodeReport gone{"mx2", true, r.now_s - 3600, 10, true, "1.0", {}};
    r.nodes = {up, gone};
    const std::string t = stats::format_table(r);
    const auto line = [&](const char* name, std::initializer_list<int> n) {
        auto it = n.begin();
        return fmt::format("  {:<36} {:>10} {:>10} {:>10} {:>10}\n", name, it[0], it[1], it[2], it[3]);
    };
    CHECK_MESSAGE(t.find(line("clean/accept", {2, 10, 30, 100})) != std::string::npos, t);
    CHECK_MESSAGE(t.find(line("total", {3, 15, 39, 120})) != std::string::npos, t);
    CHECK_MESSAGE(t.find(line("dns", {0, 1, 1, 1})) != std::string::npos, t);
    CHECK_MESSAGE(t.find(line("redis", {0, 0, 0, 0})) != std::string::npos, t);
    CHECK_MESSAGE(t.find(line("RAMPART_B", {1, 2, 8, 9}) + line("RAMPART_A", {1, 2, 3, 4})) != std::string::npos,
                  "symbols with more hits in the last day first: ", t);
    CHECK_MESSAGE(t.find("mx1                      up, breaker closed, flushed 5 s ago") != std::string::npos, t);
    CHECK_MESSAGE(t.find("mx2                      silent, breaker open, flushed 3600 s ago") != std::string::npos, t);
    const std::string j = stats::format_json(r);
    CHECK_MESSAGE(
        j.find(R"("fleet":{"messages":{"clean/accept":[2,10,30,100],"spam/tag":[1,5,9,20]})") != std::string::npos, j);
    CHECK_MESSAGE(j.find(R"({"node":"mx1","alive":true,"breaker":"closed","flushed":1799999995,"flush_s":10,)") !=
                      std::string::npos,
                  j);
    CHECK_MESSAGE(j.find(R"({"node":"mx2","alive":false,"breaker":"open")") != std::string::npos, j);
}

TEST_CASE("stats and metrics settings")
{
    struct Case {
        const char* toml;
        const char* error; // nullptr: valid
    };
    const Case cases[] = {
        {"[metrics]\nlisten = \"127.0.0.1:9925\"\n", nullptr},
        {"[metrics]\nlisten = \"[::1]:9925\"\n", nullptr},
        {"[metrics]\nlisten = \"localhost:9925\"\n", "must be ADDRESS:PORT with an IP address"},
        {"[metrics]\nlisten = \"127.0.0.1:0\"\n", "port must be in 1..65535"},
        {"[metrics]\nlisten = \"9925\"\n", "must be ADDRESS:PORT, e.g."},
        {"[stats]\nnode = \"mx-1.example\"\n", nullptr},
        {"[stats]\nnode = \"a{b}\"\n", "must not contain spaces, control characters or braces"},
        {"[stats]\nflush_s = 0\n", "stats.flush_s"},
    };
    for (const auto& c : cases) {
        const auto loaded = parse_config(c.toml, "t.conf");
        if (!c.error) {
            CHECK_MESSAGE(loaded.errors.empty(), c.toml, (loaded.errors.empty() ? "" : loaded.errors[0].to_string()));
        } else {
            REQUIRE_MESSAGE(!loaded.errors.empty(), c.toml);
            CHECK_MESSAGE(loaded.errors[0].to_string().find(c.error) != std::string::npos, c.toml, " got ",
                          loaded.errors[0].to_string());
        }
    }
}

TEST_CASE("a session counts each decided message once, refusals as unclassified")
{
    const auto rt = runtime_with_stats(kNoRedisChecks + "[stats]\nnode = \"mx9\"\n");
    REQUIRE(rt->stats);
    CHECK(rt->node == "mx9");
    CHECK_FALSE(rt->stats->timing()); // metrics.listen is empty
    Session s(rt);
    s.connect(IpAddress::parse("192.0.2.10"), "mx.example.net");
    s.helo("mx.example.net");
    s.mail("<a@example.net>", "", "");
    s.rcpt("<b@example.org>");
    s.header("Subject", "hi");
    s.body(std::string("x ") + kGtube + "\r\n");
    const auto out = s.eom("Q1");
    const auto c = rt->stats->counts();
    const auto spam = static_cast<std::size_t>(Category::confirmed_spam);
    const auto action = static_cast<std::size_t>(rt->config->action_for(Category::confirmed_spam));
    CHECK(c.messages[spam][action] == 1);
    std::uint64_t all = 0;
    for (const auto& row : c.messages)
        for (auto n : row)
            all += n;
    CHECK(all == 1);
    CHECK(c.symbols.at("RAMPART_GTUBE") == 1);
    (void)out;
}

TEST_CASE("with metrics on, the checks of a message are timed")
{
    const auto rt = runtime_with_stats(kNoRedisChecks + "[metrics]\nlisten = \"127.0.0.1:9925\"\n");
    REQUIRE(rt->stats);
    CHECK(rt->stats->timing());
    Session s(rt);
    s.connect(IpAddress::parse("192.0.2.10"), "mx.example.net");
    s.helo("mx.example.net");
    s.mail("<a@example.net>", "", "");
    s.rcpt("<b@example.org>");
    s.body(std::string("x ") + kGtube + "\r\n");
    s.eom("Q1");
    const auto times = rt->stats->check_times();
    const auto gtube = std::find_if(times.begin(), times.end(), [](const auto& t) { return t.first == "gtube"; });
    REQUIRE_MESSAGE(gtube != times.end(), "the gtube check was not timed");
    CHECK(gtube->second.count >= 1);
}

TEST_CASE("no stats, no metrics: nothing is counted")
{
    const auto rt = runtime_with_stats(kNoRedisChecks + "[stats]\nenabled = false\n");
    CHECK_FALSE(rt->stats);
}

TEST_CASE("a reload keeps the counts and counts a generation; timing stays as the start decided")
{
    const auto metrics = kNoRedisChecks + "[metrics]\nlisten = \"127.0.0.1:9925\"\n";
    const auto stats_off = kNoRedisChecks + "[stats]\nenabled = false\n";
    SUBCASE("started without the endpoint")
    {
        const auto first = runtime_with_stats(kNoRedisChecks);
        first->stats->message(kClean, kAccept, card({}));
        const auto second = runtime_with_stats(metrics, first.get());
        CHECK(second->stats == first->stats);
        CHECK(second->stats->generation() == 2);
        CHECK_FALSE(second->stats->timing()); // no endpoint was opened: nothing to time for
        CHECK(second->stats->counts().messages[kClean][kAccept] == 1);
        CHECK_FALSE(runtime_with_stats(stats_off, second.get())->stats);
    }
    SUBCASE("started with the endpoint: it keeps its counts whatever the reloads say")
    {
        const auto first = runtime_with_stats(metrics);
        const auto second = runtime_with_stats(stats_off, first.get());
        REQUIRE(second->stats);
        CHECK(second->stats == first->stats);
        CHECK(second->stats->timing());
    }
}
