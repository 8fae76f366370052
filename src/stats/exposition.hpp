// NAME
//   exposition.hpp - this process's counters in the Prometheus text format
// DESCRIPTION
//   exposition() renders text format 0.0.4 (what GET /metrics answers,
//   milter/metrics_server.cpp): the Recorder's counters and histograms,
//   the Store's and the resolver's counters, the breaker's state, the
//   configuration generation and the build. Names, types and labels are
//   documented in rampart-milter(8), METRICS. Every family has its HELP
//   and TYPE lines; label values are escaped as the format says.
#pragma once

#include "stats/recorder.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace rampart::stats {

// What the process knows beside the Recorder, read when the page is made.
struct ProcessFacts {
    std::uint64_t redis_round_trips = 0, redis_commands = 0, redis_errors = 0, redis_failed_fast = 0,
                  redis_writes_dropped = 0;
    bool breaker_open = false;
    std::uint64_t dns_queries = 0, dns_errors = 0, dns_timeouts = 0;
    std::string_view version;
    std::string_view node;
};

std::string exposition(const Recorder& r, const ProcessFacts& f);

// A label value as the text format wants it: \, " and newline escaped.
std::string label_value(std::string_view v);

} // namespace rampart::stats
