// NAME
//   token_store.hpp - where token statistics live in Redis, and the batches
//   that learn, read and expire them
// DESCRIPTION
//   A key per token would cost Redis about 90 bytes per token. Tokens are
//   instead grouped into bayes.buckets hashes: token t lives in bucket
//   (t mod 2^32) mod buckets, under field t >> 16 (a 48-bit integer, which
//   a listpack stores in 6 bytes), with the value "SPAM:HAM:DAY". While a
//   bucket holds fewer fields than Redis's hash-max-listpack-entries (128 by
//   default), Redis keeps it as one compact listpack: about 20 bytes per
//   token. Buckets fall into bayes.shards shards, each under a hash tag of
//   its own ({bayes:SHARD}), so that on Redis Cluster the statistics spread
//   over the nodes and every script touches one slot.
//
//   Learning a message sends one bayes_learn script per shard that holds
//   its tokens (shard 0 always: its meta hash holds the message counts the
//   classifier reads), all in one pipeline; reading sends one HMGET of
//   shard 0's meta and one bayes_read per shard, in one pipeline.
//   A message is known by a digest of its Message-ID (of its tokens when it
//   has none); each shard remembers the class it learned a digest as, for
//   bayes.seen_ttl_s, so that learning it again as the other class moves it.
// LIMITS
//   Token counts saturate at 2^32 - 1 when read.
#pragma once

#include "bayes/classifier.hpp"
#include "bayes/tokens.hpp"
#include "config/config.hpp"
#include "store/keys.hpp"
#include "store/redis.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::bayes {

struct Layout {
    std::int64_t buckets = 16384;
    std::int64_t shards = 1;
    std::string scope; // "" for the global statistics, else a recipient domain
};
// bayes.buckets and bayes.shards of `cfg`, for `scope`.
Layout layout_of(const Config& cfg, std::string_view scope = {});

std::int64_t bucket_of(Token t, const Layout& l);
std::string field_of(Token t);

// Reads: replies are the meta HMGET, then one per shard with tokens.
void add_read(const Keys& keys, const Layout& l, std::span<const Token> tokens, Batch& batch);
struct Statistics {
    std::uint64_t spam = 0, ham = 0; // messages learned
    std::int64_t buckets = 0;        // as recorded at learning; 0 before any
    std::vector<TokenCounts> counts; // one per token, in the order given to add_read
};
// nullopt when the replies are not what add_read asked for `tokens`.
std::optional<Statistics> parse_read(std::span<const Reply> replies, const Layout& l, std::span<const Token> tokens);
// How many commands add_read adds for these tokens.
std::size_t read_commands(const Layout& l, std::span<const Token> tokens);

enum class LearnClass { spam, ham, forget };
const char* to_string(LearnClass c);

struct LearnSettings {
    std::int64_t seen_ttl_s = 0;
    std::int64_t ttl_s = 0;
    std::int64_t day = 0; // today(), or a fixed day for tests
};
void add_learn(const Keys& keys, const Layout& l, std::span<const Token> tokens, std::string_view digest, LearnClass c,
               const LearnSettings& s, Batch& batch);
struct LearnResult {
    bool changed = false;
    std::string previous; // "spam", "ham" or "" (not learned before)
};
std::optional<LearnResult> parse_learn(std::span<const Reply> replies);

// One bayes_expire per shard of `buckets`; replies {deleted, kept} each.
void add_expire(const Keys& keys, const Layout& l, std::span<const std::int64_t> buckets, std::int64_t day,
                std::int64_t days, std::int64_t max_count, Batch& batch);

// Learning one message as the milter's autolearn and rampartctl do: the
// global statistics (and `scope`'s, unless ""), then the expiry sweep of
// bayes.expire_buckets random buckets. parse_learn reads the first replies.
void add_message_learn(const Config& cfg, const Keys& keys, const HeaderFields& headers, std::span<const Token> tokens,
                       LearnClass c, std::string_view scope, Batch& batch);

std::string message_digest(const HeaderFields& headers, std::span<const Token> tokens);
std::int64_t today();

} // namespace rampart::bayes
