#include "stats/exposition.hpp"

#include <fmt/format.h>

namespace rampart::stats {
namespace {

// A bucket bound as a label: plain decimal, no exponent, no trailing zeros.
std::string bound(double b)
{
    std::string s = fmt::format("{:.6f}", b);
    while (s.back() == '0')
        s.pop_back();
    if (s.back() == '.')
        s.pop_back();
    return s;
}

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help)
{
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void histogram(std::string& out, std::string_view name, std::string_view label, std::string_view value,
               const Histogram::Snapshot& h)
{
    const std::string l = fmt::format("{}=\"{}\"", label, label_value(value));
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < Histogram::kBounds.size(); ++i) {
        cumulative += h.buckets[i];
        out += fmt::format("{}_bucket{{{},le=\"{}\"}} {}\n", name, l, bound(Histogram::kBounds[i]), cumulative);
    }
    out += fmt::format("{}_bucket{{{},le=\"+Inf\"}} {}\n", name, l, h.count);
    out += fmt::format("{}_sum{{{}}} {:.9f}\n{}_count{{{}}} {}\n", name, l, h.sum_s, name, l, h.count);
}

void counter(std::string& out, std::string_view name, std::string_view help, std::uint64_t v)
{
    family(out, name, "counter", help);
    out += fmt::format("{} {}\n", name, v);
}

} // namespace

std::string label_value(std::string_view v)
{
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\' || c == '"')
            out += {'\\', c};
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

std::string exposition(const Recorder& r, const ProcessFacts& f)
{
    std::string out;
    family(out, "rampart_build_info", "gauge", "the running build: always 1, its version and node as labels");
    out += fmt::format("rampart_build_info{{version=\"{}\",node=\"{}\"}} 1\n", label_value(f.version),
                       label_value(f.node));
    family(out, "rampart_config_generation", "gauge", "1 at start, one more for each successful reload");
    out += fmt::format("rampart_config_generation {}\n", r.generation());

    const Counts counts = r.counts();
    family(out, "rampart_messages_total", "counter", "messages decided, by category and action");
    for (std::size_t c = 0; c < kCategories; ++c)
        for (std::size_t a = 0; a < kActions; ++a)
            out += fmt::format("rampart_messages_total{{category=\"{}\",action=\"{}\"}} {}\n", category_name(c),
                               action_name(a), counts.messages[c][a]);
    family(out, "rampart_symbol_hits_total", "counter", "messages decided that carried the symbol");
    for (const auto& [name, hits] : counts.symbols)
        out += fmt::format("rampart_symbol_hits_total{{symbol=\"{}\"}} {}\n", label_value(name), hits);

    family(out, "rampart_phase_seconds", "histogram", "time rampart took to answer one milter step");
    for (std::size_t s = 0; s < kSteps; ++s)
        histogram(out, "rampart_phase_seconds", "phase", to_string(static_cast<Step>(s)),
                  r.step_times(static_cast<Step>(s)));
    family(out, "rampart_check_seconds", "histogram", "time one check took in one call (a phase's work or replies)");
    for (const auto& [name, h] : r.check_times())
        histogram(out, "rampart_check_seconds", "check", name, h);

    counter(out, "rampart_redis_round_trips_total", "pipelines sent to Redis", f.redis_round_trips);
    counter(out, "rampart_redis_commands_total", "commands sent to Redis", f.redis_commands);
    counter(out, "rampart_redis_errors_total", "Redis round trips that failed (I/O, timeout, server unable to serve)",
            f.redis_errors);
    counter(out, "rampart_redis_failed_fast_total", "Redis calls failed at once by the open breaker",
            f.redis_failed_fast);
    counter(out, "rampart_redis_writes_dropped_total", "background writes dropped with the write queue full",
            f.redis_writes_dropped);
    family(out, "rampart_redis_breaker_open", "gauge", "1 while the Redis circuit breaker is open");
    out += fmt::format("rampart_redis_breaker_open {}\n", f.breaker_open ? 1 : 0);
    counter(out, "rampart_dns_queries_total", "DNS queries sent to a server", f.dns_queries);
    counter(out, "rampart_dns_errors_total", "DNS lookups that failed temporarily, timeouts included", f.dns_errors);
    counter(out, "rampart_dns_timeouts_total", "DNS lookups that timed out", f.dns_timeouts);
    return out;
}

} // namespace rampart::stats
