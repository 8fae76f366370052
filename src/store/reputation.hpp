// NAME
//   reputation.hpp - decayed verdict counts of an IP or network, kept without a script
// DESCRIPTION
//   Each count is kept in "forward decay" form: a verdict at time t adds
//   2^((t - B) / h) to a hash field, where h is the half-life and B the
//   start of the current epoch (one epoch is kEpochHalfLives half-lives).
//   The decayed count at time a is then the field times 2^(-(a - B) / h).
//   Adding a verdict is a plain HINCRBYFLOAT, atomic in Redis, and reading
//   is one HMGET, decayed by the reader: no Lua, no read-modify-write.
//
//   The epoch bounds the stored values (below 2^kEpochHalfLives per
//   verdict). A reader takes the current and the previous epoch's fields;
//   what is older has decayed by 2^-kEpochHalfLives or more and is left
//   out, and the writer deletes it. Field names carry the epoch length, so
//   a change of half-life starts the counts over instead of misreading
//   them; the old fields expire with the key.
//
//   Times count in whole seconds. Fleet nodes use their own clocks: a skew
//   of s seconds scales a count by 2^(s / h), nothing at half-lives of
//   hours or days.
// REDIS KEYS
//   PREFIX{NET}:rep:ip:IP, PREFIX{NET}:rep:net - hashes with fields
//   c:L:E and s:L:E (clean and spam verdicts of epoch E, epochs L seconds long)
#pragma once

#include "store/reply.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace rampart {

class Batch;

namespace reputation {

inline constexpr int kEpochHalfLives = 32;

struct Counts {
    double clean = 0;
    double spam = 0;
};

using Time = std::chrono::system_clock::time_point;

// Adds to `batch` the one command that reads KEY's counts as of `at`
// (an HMGET); counts() decodes its reply with the same `at`.
void read(Batch& batch, const std::string& key, Time at, std::int64_t half_life_s);
Counts counts(const Reply& reply, Time at, std::int64_t half_life_s);

// Adds to `batch` the commands that count `n` verdicts at `at` on KEY and
// renew its TTL: HINCRBYFLOAT, HDEL of the epoch before last, EXPIRE.
void add(Batch& batch, const std::string& key, bool spam, Time at, std::int64_t half_life_s, std::int64_t ttl_s,
         double n = 1);

} // namespace reputation
} // namespace rampart
