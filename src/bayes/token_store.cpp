#include "bayes/token_store.hpp"

#include "util/text.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <map>
#include <random>
#include <xxhash.h>

namespace rampart::bayes {
namespace {

// The tokens' indices in the order add_read and add_learn send them: by
// shard, then bucket, then as given.
std::map<std::int64_t, std::map<std::int64_t, std::vector<std::size_t>>> grouped(const Layout& l,
                                                                                 std::span<const Token> tokens)
{
    std::map<std::int64_t, std::map<std::int64_t, std::vector<std::size_t>>> g;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        const std::int64_t b = bucket_of(tokens[i], l);
        g[b % l.shards][b].push_back(i);
    }
    return g;
}

struct ShardRequest {
    std::vector<std::string> keys;
    std::vector<std::string> argv; // per key: count, then fields
};

// The tokens grouped by shard, then bucket (both in ascending order).
std::map<std::int64_t, ShardRequest> group(const Keys& keys, const Layout& l, std::span<const Token> tokens)
{
    std::map<std::int64_t, ShardRequest> out;
    for (const auto& [shard, buckets] : grouped(l, tokens)) {
        ShardRequest& r = out[shard];
        for (const auto& [b, indices] : buckets) {
            r.keys.push_back(keys.bayes_bucket(l.scope, shard, b));
            r.argv.push_back(std::to_string(indices.size()));
            for (std::size_t i : indices)
                r.argv.push_back(field_of(tokens[i]));
        }
    }
    return out;
}

// "SPAM:HAM:DAY" -> counts; a value that does not read so counts nothing.
TokenCounts parse_counts(std::string_view v)
{
    TokenCounts c;
    std::uint64_t s = 0, h = 0;
    const char* p = v.data();
    const char* end = v.data() + v.size();
    auto r = std::from_chars(p, end, s);
    if (r.ec != std::errc{} || r.ptr == end || *r.ptr != ':')
        return c;
    r = std::from_chars(r.ptr + 1, end, h);
    if (r.ec != std::errc{})
        return c;
    constexpr std::uint64_t kMax = UINT32_MAX;
    c.spam = static_cast<std::uint32_t>(std::min(s, kMax));
    c.ham = static_cast<std::uint32_t>(std::min(h, kMax));
    return c;
}

} // namespace

Layout layout_of(const Config& cfg, std::string_view scope)
{
    return Layout{cfg.bayes_buckets, cfg.bayes_shards, lowercase(scope)};
}

std::int64_t bucket_of(Token t, const Layout& l)
{
    return static_cast<std::int64_t>((t & 0xffffffffu) % static_cast<std::uint64_t>(l.buckets));
}

std::string field_of(Token t) { return std::to_string(t >> 16); }

const char* to_string(LearnClass c)
{
    switch (c) {
    case LearnClass::spam: return "spam";
    case LearnClass::ham: return "ham";
    case LearnClass::forget: return "forget";
    }
    return "forget";
}

std::size_t read_commands(const Layout& l, std::span<const Token> tokens) { return 1 + grouped(l, tokens).size(); }

void add_read(const Keys& keys, const Layout& l, std::span<const Token> tokens, Batch& batch)
{
    batch.add({"HMGET", keys.bayes_meta(l.scope, 0), "spam", "ham", "buckets"});
    for (auto& [shard, r] : group(keys, l, tokens))
        batch.eval(Script::bayes_read, std::move(r.keys), std::move(r.argv));
}

std::optional<Statistics> parse_read(std::span<const Reply> replies, const Layout& l, std::span<const Token> tokens)
{
    const auto groups = grouped(l, tokens);
    if (replies.size() != 1 + groups.size() || replies[0].type != Reply::Type::array || replies[0].elements.size() != 3)
        return std::nullopt;
    Statistics st;
    const auto& meta = replies[0].elements;
    st.spam = static_cast<std::uint64_t>(std::max(0LL, meta[0].as_integer()));
    st.ham = static_cast<std::uint64_t>(std::max(0LL, meta[1].as_integer()));
    st.buckets = meta[2].as_integer();
    st.counts.resize(tokens.size());
    std::size_t r = 1;
    for (const auto& [shard, buckets] : groups) {
        const Reply& reply = replies[r++];
        std::size_t v = 0;
        for (const auto& [b, indices] : buckets)
            for (std::size_t i : indices) {
                if (reply.type != Reply::Type::array || v >= reply.elements.size())
                    return std::nullopt;
                const Reply& value = reply.elements[v++];
                if (value.type == Reply::Type::string)
                    st.counts[i] = parse_counts(value.str);
            }
    }
    return st;
}

void add_learn(const Keys& keys, const Layout& l, std::span<const Token> tokens, std::string_view digest, LearnClass c,
               const LearnSettings& s, Batch& batch)
{
    auto groups = group(keys, l, tokens);
    groups.try_emplace(0); // shard 0 counts the message even when none of its tokens live there
    for (auto& [shard, r] : groups) {
        std::vector<std::string> k{keys.bayes_seen(l.scope, shard, digest), keys.bayes_meta(l.scope, shard)};
        k.insert(k.end(), std::make_move_iterator(r.keys.begin()), std::make_move_iterator(r.keys.end()));
        std::vector<std::string> argv{to_string(c), std::to_string(s.seen_ttl_s), std::to_string(s.ttl_s),
                                      std::to_string(s.day), std::to_string(l.buckets)};
        argv.insert(argv.end(), std::make_move_iterator(r.argv.begin()), std::make_move_iterator(r.argv.end()));
        batch.eval(Script::bayes_learn, std::move(k), std::move(argv));
    }
}

std::optional<LearnResult> parse_learn(std::span<const Reply> replies)
{
    // Shard 0's reply comes first (the groups are in shard order) and speaks for the message.
    if (replies.empty() || replies[0].elements.size() != 2)
        return std::nullopt;
    return LearnResult{replies[0].elements[0].as_integer() == 1, replies[0].elements[1].str};
}

void add_expire(const Keys& keys, const Layout& l, std::span<const std::int64_t> buckets, std::int64_t day,
                std::int64_t days, std::int64_t max_count, Batch& batch)
{
    std::map<std::int64_t, std::vector<std::string>> by_shard;
    for (std::int64_t b : buckets)
        by_shard[b % l.shards].push_back(keys.bayes_bucket(l.scope, b % l.shards, b));
    for (auto& [shard, k] : by_shard)
        batch.eval(Script::bayes_expire, std::move(k),
                   {std::to_string(day), std::to_string(days), std::to_string(max_count)});
}

void add_message_learn(const Config& cfg, const Keys& keys, const HeaderFields& headers, std::span<const Token> tokens,
                       LearnClass c, std::string_view scope, Batch& batch)
{
    const LearnSettings ls{cfg.bayes_seen_ttl_s, cfg.bayes_ttl_s, today()};
    const std::string digest = message_digest(headers, tokens);
    const Layout global = layout_of(cfg);
    add_learn(keys, global, tokens, digest, c, ls, batch);
    if (!scope.empty())
        add_learn(keys, layout_of(cfg, scope), tokens, digest, c, ls, batch);
    if (cfg.bayes_expire_buckets <= 0)
        return;
    thread_local std::mt19937_64 random{std::random_device{}()};
    std::uniform_int_distribution<std::int64_t> pick(0, cfg.bayes_buckets - 1);
    std::vector<std::int64_t> buckets;
    for (std::int64_t i = 0; i < cfg.bayes_expire_buckets; ++i)
        buckets.push_back(pick(random));
    add_expire(keys, global, buckets, ls.day, cfg.bayes_expire_days, cfg.bayes_expire_max_count, batch);
    if (!scope.empty()) // a domain's statistics age like the global ones
        add_expire(keys, layout_of(cfg, scope), buckets, ls.day, cfg.bayes_expire_days, cfg.bayes_expire_max_count,
                   batch);
}

std::string message_digest(const HeaderFields& headers, std::span<const Token> tokens)
{
    XXH128_hash_t h{};
    bool found = false;
    for (const auto& [name, value] : headers)
        if (iequals(name, "Message-ID")) {
            const std::string_view id = trim(value);
            if (!id.empty()) {
                h = XXH3_128bits(id.data(), id.size());
                found = true;
            }
            break;
        }
    if (!found) {
        std::vector<Token> sorted(tokens.begin(), tokens.end());
        std::sort(sorted.begin(), sorted.end());
        h = XXH3_128bits(sorted.data(), sorted.size() * sizeof(Token));
    }
    char buf[33];
    static constexpr char kHex[] = "0123456789abcdef";
    for (int i = 0; i < 16; ++i) {
        const std::uint64_t half = i < 8 ? h.high64 : h.low64;
        const unsigned byte = (half >> (8 * (7 - i % 8))) & 0xff;
        buf[2 * i] = kHex[byte >> 4];
        buf[2 * i + 1] = kHex[byte & 0xf];
    }
    return std::string(buf, 32);
}

std::int64_t today()
{
    using namespace std::chrono;
    return duration_cast<days>(system_clock::now().time_since_epoch()).count();
}

} // namespace rampart::bayes
