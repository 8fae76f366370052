// NAME
//   flush.hpp - this node's counts, added to the fleet's counters in Redis
// DESCRIPTION
//   Every stats.flush_s seconds the milter's stats thread asks a Flusher
//   for what the Recorder and the error counters gained since the last
//   delivered flush, as one Batch, and sends it as one pipeline on a
//   pooled connection of its own (Store::execute_alone, as the background
//   write queue does): no message waits for it, and the number of Redis
//   commands per message does not change. Only when Redis took the batch
//   (delivered()) do the gains count as sent; a flush that fails, or that
//   is not tried because the breaker is open, leaves them for the next
//   one, so that the errors of an outage reach Redis once it is back.
//
//   The gains are added (HINCRBY) to six hashes, the node's and the
//   fleet's bucket of the current minute, hour and day (store/keys.hpp),
//   each then given its TTL; the node's state hash and its entry in the
//   fleet's node list say when it last flushed and whether its breaker was
//   open. A gain is put in the bucket of the moment it is delivered, so a
//   count can land up to stats.flush_s late (later after an outage) in a
//   later minute. A node whose breaker stays open cannot flush: it shows
//   as silent, with the state of its last flush.
//
//   Fields of a bucket hash (stats/report.hpp reads them):
//     m:CATEGORY:ACTION   messages decided (stats/recorder.hpp names)
//     s:SYMBOL            messages that carried the symbol
//     e:redis             Redis round trips that failed
//     e:redis_fast        Redis calls failed at once by the open breaker
//     e:dns               DNS lookups that failed temporarily (timeouts too)
//   Fields of the state hash: breaker ("open" when it is open at the flush
//   or calls failed fast since the last delivered one, else "closed"),
//   flushed (seconds since 1970), flush_s, version.
#pragma once

#include "stats/recorder.hpp"
#include "store/keys.hpp"
#include "store/redis.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace rampart::stats {

inline constexpr std::int64_t kMinuteTtlS = 2 * 3600;
inline constexpr std::int64_t kHourTtlS = 2 * 86400;
inline constexpr std::int64_t kDayTtlS = 35 * 86400;
inline constexpr std::int64_t kStateTtlS = 35 * 86400; // the state hash and the node list

// The error counters of this process, as the Store and the resolver keep
// them; `store` and `resolver` identify their source: a reload that builds
// a new one starts its counts again.
struct ErrorTotals {
    const void* store = nullptr;
    std::uint64_t redis = 0, redis_fast = 0;
    const void* resolver = nullptr;
    std::uint64_t dns = 0;
};

struct NodeState {
    std::string node; // stats.node, or the host name
    bool breaker_open = false;
    std::int64_t flush_s = 0;
};

class Flusher {
  public:
    // The commands that add what grew since the last delivered flush to
    // the buckets of `now_s` (seconds since 1970), then the node's state.
    Batch take(const Counts& counts, const ErrorTotals& errors, const NodeState& state, const Keys& keys,
               std::int64_t now_s);
    // Redis took the batch of the last take(): its gains are sent.
    void delivered();

  private:
    Counts d_last, d_taken;
    ErrorTotals d_last_errors, d_taken_errors;
};

} // namespace rampart::stats
