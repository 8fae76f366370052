// NAME
//   report.hpp - the fleet's counters read back from Redis (rampartctl stats)
// DESCRIPTION
//   read_report reads the buckets that stats/flush.hpp writes and sums
//   them over four windows, each made of whole buckets ending with the
//   current one:
//     minute   the current minute's bucket (the counts flushed so far in it)
//     hour     the last 60 minute buckets
//     day      the last 24 hour buckets
//     30 days  the last 30 day buckets
//   for the fleet and for each node in the fleet's node list (or for one
//   node), with each node's state: when it last flushed, whether its
//   Redis breaker was open then, and whether it is alive (it flushed
//   within kSilentFlushes flush intervals, plus kSilentSlackS).
//
//   format_table and format_json render a Report for people and for
//   scripts. Names read from Redis are made printable (table) or escaped
//   (JSON) before they are shown.
#pragma once

#include "store/keys.hpp"
#include "store/redis.hpp"
#include "util/error.hpp"

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::stats {

inline constexpr std::size_t kWindows = 4;
inline constexpr std::array<std::string_view, kWindows> kWindowNames = {"minute", "hour", "day", "30 days"};
inline constexpr std::int64_t kSilentFlushes = 3;
inline constexpr std::int64_t kSilentSlackS = 10;

// Bucket fields (m:..., s:..., e:...) -> their sum over each window.
using Totals = std::map<std::string, std::array<std::uint64_t, kWindows>>;

struct NodeReport {
    std::string node;
    bool has_state = false; // false: its state hash is gone (silent for 35 days)
    std::int64_t flushed = 0;
    std::int64_t flush_s = 0;
    bool breaker_open = false;
    std::string version;
    Totals totals;
};

struct Report {
    std::int64_t now_s = 0;
    bool has_fleet = false; // false when one node was asked for
    Totals fleet;
    std::vector<NodeReport> nodes; // by name
};

// Reads the fleet's totals and every node's (`node` empty), or one node's.
// An Error when Redis cannot answer; an unknown node is a node without state.
Result<Report> read_report(Store& store, const Keys& keys, std::int64_t now_s, std::string_view node = {});

bool alive(const NodeReport& n, std::int64_t now_s);

std::string format_table(const Report& r);
std::string format_json(const Report& r);

} // namespace rampart::stats
