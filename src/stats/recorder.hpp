// NAME
//   recorder.hpp - this process's counts of messages, symbols and time spent
// DESCRIPTION
//   A Recorder counts, in memory, every decided message by category and
//   action, every symbol it carried, the time each milter step took and
//   the time each check took. The counts only grow (they are Prometheus
//   counters); the stats flusher (stats/flush.hpp) sends what grew since
//   its last send to Redis, and the metrics endpoint shows them whole.
//
//   The hot path stays cheap: a message costs one relaxed atomic add for
//   its category and action and one lock of a shard of the symbol table
//   (the shard is the calling thread's, so threads rarely meet on it);
//   a timing costs a few relaxed atomic adds. Step and check timings are
//   taken only while timing() is on (metrics.listen is set), so that a
//   node without the endpoint reads no clocks for them.
//
//   A message refused before its verdict (at connect, MAIL FROM, RCPT TO,
//   or at the end by a rate limit, greylisting or a Redis failure) has no
//   category: it counts as "unclassified".
// LIMITS
//   kMaxSymbolsPerShard distinct symbol names per shard; hits of names past
//   that count under kOtherSymbol (names come from the checks and the rule
//   files, not from mail, so this holds only against a runaway rule set).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rampart {
class Check;
class Scorecard;
} // namespace rampart

namespace rampart::stats {

// The milter steps whose time is measured, named as in the metrics.
enum class Step { connect, helo, mail, rcpt, data, header, eoh, body, eom };
inline constexpr std::size_t kSteps = 9;
const char* to_string(Step s);

// Category values in their enum's order, then kUnclassified.
inline constexpr std::size_t kCategories = 6;
inline constexpr std::size_t kUnclassified = 5;
inline constexpr std::size_t kActions = 6; // Action values in their enum's order
const char* category_name(std::size_t category);
const char* action_name(std::size_t action);

inline constexpr std::size_t kMaxSymbolsPerShard = 4096;
inline constexpr std::string_view kOtherSymbol = "OTHER";

// Observations of a duration in fixed buckets (seconds), as Prometheus
// histograms have them: counts per bucket, their number and their sum.
class Histogram {
  public:
    static constexpr std::array<double, 16> kBounds = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                       0.025,   0.05,   0.1,     0.25,   0.5,   1,      2.5,   5};
    struct Snapshot {
        std::array<std::uint64_t, kBounds.size() + 1> buckets{}; // not cumulative; the last is past every bound
        std::uint64_t count = 0;
        double sum_s = 0;
    };

    void observe(std::chrono::nanoseconds d);
    Snapshot snapshot() const;

  private:
    std::array<std::atomic<std::uint64_t>, kBounds.size() + 1> d_buckets{};
    std::atomic<std::uint64_t> d_sum_ns{0};
};

// What the counters hold at one moment.
struct Counts {
    std::array<std::array<std::uint64_t, kActions>, kCategories> messages{};
    std::map<std::string, std::uint64_t, std::less<>> symbols;
};

class Recorder {
  public:
    Recorder();
    Recorder(const Recorder&) = delete;
    Recorder& operator=(const Recorder&) = delete;

    // One message decided: `category` a Category value or kUnclassified,
    // `action` an Action value; every symbol of `card` gets one hit.
    void message(std::size_t category, std::size_t action, const Scorecard& card);
    Counts counts() const;

    bool timing() const { return d_timing.load(std::memory_order_relaxed); }
    void set_timing(bool on) { d_timing.store(on, std::memory_order_relaxed); }
    void step_time(Step s, std::chrono::nanoseconds d) { d_steps[static_cast<std::size_t>(s)].observe(d); }
    void check_time(const Check& c, std::chrono::nanoseconds d);
    Histogram::Snapshot step_times(Step s) const { return d_steps[static_cast<std::size_t>(s)].snapshot(); }
    // The checks that were timed at least once, by name, in their order.
    std::vector<std::pair<std::string_view, Histogram::Snapshot>> check_times() const;

    // The configuration generation: 1 at start, one more per reload.
    void reloaded() { d_generation.fetch_add(1, std::memory_order_relaxed); }
    std::uint64_t generation() const { return d_generation.load(std::memory_order_relaxed); }

  private:
    struct StringHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    struct SymbolShard {
        mutable std::mutex mutex;
        std::unordered_map<std::string, std::uint64_t, StringHash, std::equal_to<>> hits;
    };
    static constexpr std::size_t kShards = 16;

    std::array<std::array<std::atomic<std::uint64_t>, kActions>, kCategories> d_messages{};
    std::array<SymbolShard, kShards> d_symbols;
    std::array<Histogram, kSteps> d_steps;
    std::vector<const Check*> d_checks;   // all_checks(), in order
    std::vector<Histogram> d_check_times; // one per d_checks entry
    std::atomic<bool> d_timing{false};
    std::atomic<std::uint64_t> d_generation{1};
};

// Runs f(), and when `r` times, adds the time it took to check `c`'s.
template <typename F> void timed(Recorder* r, const Check& c, F&& f)
{
    if (r == nullptr || !r->timing()) {
        f();
        return;
    }
    const auto start = std::chrono::steady_clock::now();
    f();
    r->check_time(c, std::chrono::steady_clock::now() - start);
}

} // namespace rampart::stats
