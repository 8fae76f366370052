// NAME
//   stats.hpp - rampartctl stats: the fleet's counters, per window and node
// SYNOPSIS
//   rampartctl [-c FILE] stats [--node NODE] [--json]
// DESCRIPTION
//   Reads the counters the milters flush to Redis (stats/flush.hpp) and
//   prints them summed over the last minute, hour, day and 30 days
//   (stats/report.hpp): for the fleet with one line per node, or for one
//   node with --node. --json prints the same as one JSON object.
#pragma once

#include "config/config.hpp"

#include <string>
#include <vector>

namespace rampart::ctl {

// `args` are those after "stats"; returns the exit status (0, 1 Redis, 2 usage).
int stats_command(const Config& cfg, const std::vector<std::string>& args);

} // namespace rampart::ctl
