// Integration tests of the Bayes statistics against a real redis-server
// (started by tests/integration/redis-tests.sh, which passes REDIS_PORT):
// the bayes_learn, bayes_read and bayes_expire scripts through
// bayes/token_store.hpp, shards and per-domain scopes, and the Bayes check
// classifying messages played through a Session.
#include "bayes/stored.hpp"
#include "bayes/token_store.hpp"
#include "bayes/tokens.hpp"
#include "engine/replay.hpp"
#include "engine/session.hpp"
#include "redis_helpers.hpp"
#include "store/scripts.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <initializer_list>
#include <set>
#include <string>
#include <vector>

using namespace rampart;
using namespace rampart::test;
using namespace rampart::bayes;

namespace {

constexpr std::int64_t kDay = 20000; // a day number for learning, unless a test fakes others
constexpr std::int64_t kTtl = 365 * 86400;
constexpr std::int64_t kSeenTtl = 86400;

// A configuration on the test Redis with a prefix of its own ("bayesN:",
// apart from redis_test.cpp's "tN:"), so that tests do not see each other's keys.
std::shared_ptr<const Config> bayes_config(const std::string& extra = "")
{
    return config("[rules]\nenabled = false\n" + redis_section("bayes") + extra);
}

std::vector<Token> tokens_of(std::initializer_list<const char*> words)
{
    std::vector<Token> out;
    for (const char* w : words)
        out.push_back(hash_token(w));
    return out;
}

// The statistics side of the store, as the check and rampartctl use it.
struct Bayes {
    std::shared_ptr<const Config> cfg;
    Store store;
    Keys keys;
    Layout layout;

    explicit Bayes(std::shared_ptr<const Config> c, std::string_view scope = {})
        : cfg(std::move(c)), store(*cfg), keys(cfg->redis_prefix), layout(layout_of(*cfg, scope))
    {
    }

    LearnResult learn(std::span<const Token> tokens, std::string_view digest, LearnClass c, std::int64_t day = kDay)
    {
        Batch b;
        add_learn(keys, layout, tokens, digest, c, {kSeenTtl, kTtl, day}, b);
        const auto replies = run(store, b);
        const auto r = parse_learn(replies);
        REQUIRE(r);
        return *r;
    }

    Statistics read(std::span<const Token> tokens)
    {
        Batch b;
        add_read(keys, layout, tokens, b);
        REQUIRE(b.size() == read_commands(layout, tokens));
        const auto replies = run(store, b);
        auto st = parse_read(replies, layout, tokens);
        REQUIRE(st);
        return *st;
    }

    // {deleted, kept}, summed over the shards.
    std::pair<long long, long long> expire(std::span<const Token> tokens, std::int64_t day, std::int64_t days,
                                           std::int64_t max_count)
    {
        std::vector<std::int64_t> buckets;
        for (Token t : tokens)
            buckets.push_back(bucket_of(t, layout));
        std::sort(buckets.begin(), buckets.end());
        buckets.erase(std::unique(buckets.begin(), buckets.end()), buckets.end());
        Batch b;
        add_expire(keys, layout, buckets, day, days, max_count, b);
        std::pair<long long, long long> out{0, 0};
        for (const auto& r : run(store, b)) {
            REQUIRE(r.elements.size() == 2);
            out.first += r.elements[0].as_integer();
            out.second += r.elements[1].as_integer();
        }
        return out;
    }

    std::vector<std::string> keys_matching(const std::string& pattern)
    {
        Batch b;
        b.add({"KEYS", cfg->redis_prefix + pattern});
        const auto replies = run(store, b);
        std::vector<std::string> out;
        for (const auto& e : replies[0].elements)
            out.push_back(e.str);
        std::sort(out.begin(), out.end());
        return out;
    }

    Reply command(std::vector<std::string> args)
    {
        Batch b;
        b.add(std::move(args));
        return run(store, b)[0];
    }
};

void check_counts(const Statistics& st, std::size_t i, std::uint32_t spam, std::uint32_t ham)
{
    CAPTURE(i);
    REQUIRE(i < st.counts.size());
    CHECK_MESSAGE(st.counts[i].spam == spam, "spam: got ", st.counts[i].spam, " want ", spam);
    CHECK_MESSAGE(st.counts[i].ham == ham, "ham: got ", st.counts[i].ham, " want ", ham);
}

} // namespace

TEST_CASE("bayes learn: messages and tokens are counted per class, with the day they were learned")
{
    Bayes b(bayes_config());
    const auto all = tokens_of({"cheap", "pills", "meeting", "never-learned"});
    const auto before = b.read(all);
    CHECK(before.spam == 0);
    CHECK(before.ham == 0);
    CHECK(before.buckets == 0);

    const auto r1 = b.learn(tokens_of({"cheap", "pills"}), "d1", LearnClass::spam);
    CHECK(r1.changed);
    CHECK(r1.previous == "");
    CHECK(b.learn(tokens_of({"cheap"}), "d2", LearnClass::spam).changed);
    CHECK(b.learn(tokens_of({"meeting", "cheap"}), "d3", LearnClass::ham).changed);

    const auto st = b.read(all);
    CHECK(st.spam == 2);
    CHECK(st.ham == 1);
    CHECK(st.buckets == 16384);
    check_counts(st, 0, 2, 1);
    check_counts(st, 1, 1, 0);
    check_counts(st, 2, 0, 1);
    check_counts(st, 3, 0, 0);

    // As stored: "SPAM:HAM:DAY" under the token's field in its bucket; TTLs from the settings.
    const Token cheap = hash_token("cheap");
    const std::string bucket = b.keys.bayes_bucket("", 0, bucket_of(cheap, b.layout));
    CHECK(b.command({"HGET", bucket, field_of(cheap)}).str == "2:1:" + std::to_string(kDay));
    const long long bucket_ttl = b.command({"TTL", bucket}).as_integer();
    CHECK(bucket_ttl > kTtl - 60);
    CHECK(bucket_ttl <= kTtl);
    CHECK(b.command({"TTL", b.keys.bayes_meta("", 0)}).as_integer() > kTtl - 60);
    CHECK(b.command({"GET", b.keys.bayes_seen("", 0, "d3")}).str == "ham");
    const long long seen_ttl = b.command({"TTL", b.keys.bayes_seen("", 0, "d3")}).as_integer();
    CHECK(seen_ttl > kSeenTtl - 60);
    CHECK(seen_ttl <= kSeenTtl);
}

TEST_CASE("bayes learn: a bucket sent more tokens than Lua's stack holds learns, reads and forgets them all")
{
    // One bucket, so that all of a message's 20,000 tokens go to one script
    // call's one HMGET and HSET: past unpack()'s limit of about 8,000.
    Bayes b(bayes_config("[bayes]\nbuckets = 1\nmessage_tokens = 100000\n"));
    std::vector<Token> many;
    for (Token t = 1; t <= 20000; ++t)
        many.push_back(t * 0x9E3779B97F4A7C15ULL);
    CHECK(b.learn(many, "big", LearnClass::spam).changed);
    auto st = b.read(many);
    CHECK(st.spam == 1);
    REQUIRE(st.counts.size() == many.size());
    for (std::size_t i : {std::size_t{0}, std::size_t{7999}, std::size_t{8000}, std::size_t{19999}})
        check_counts(st, i, 1, 0);
    CHECK(b.command({"HLEN", b.keys.bayes_bucket("", 0, 0)}).as_integer() == 20000);
    CHECK(b.learn(many, "big", LearnClass::forget).changed);
    st = b.read(many);
    check_counts(st, 19999, 0, 0);
    CHECK(b.command({"EXISTS", b.keys.bayes_bucket("", 0, 0)}).as_integer() == 0);
}

TEST_CASE("bayes learn: the same message learned twice as the same class counts once")
{
    Bayes b(bayes_config());
    const auto t = tokens_of({"alpha", "beta"});
    CHECK(b.learn(t, "dup", LearnClass::spam).changed);
    const auto again = b.learn(t, "dup", LearnClass::spam);
    CHECK_FALSE(again.changed);
    CHECK(again.previous == "spam");
    const auto st = b.read(t);
    CHECK(st.spam == 1);
    CHECK(st.ham == 0);
    check_counts(st, 0, 1, 0);
    check_counts(st, 1, 1, 0);
}

TEST_CASE("bayes learn: relearning as the other class moves the message; forgetting takes it back")
{
    Bayes b(bayes_config());
    const auto t = tokens_of({"gamma", "delta"});
    const auto other = tokens_of({"gamma"});
    b.learn(t, "m", LearnClass::spam);
    b.learn(other, "other", LearnClass::spam); // keeps "gamma" alive once "m" is forgotten

    const auto moved = b.learn(t, "m", LearnClass::ham);
    CHECK(moved.changed);
    CHECK(moved.previous == "spam");
    auto st = b.read(t);
    CHECK(st.spam == 1);
    CHECK(st.ham == 1);
    check_counts(st, 0, 1, 1);
    check_counts(st, 1, 0, 1);
    CHECK(b.command({"GET", b.keys.bayes_seen("", 0, "m")}).str == "ham");

    const auto forgot = b.learn(t, "m", LearnClass::forget);
    CHECK(forgot.changed);
    CHECK(forgot.previous == "ham");
    st = b.read(t);
    CHECK(st.spam == 1);
    CHECK(st.ham == 0);
    check_counts(st, 0, 1, 0);
    check_counts(st, 1, 0, 0);
    // A token with nothing left is deleted, not kept as "0:0".
    const Token delta = hash_token("delta");
    CHECK(
        b.command({"HEXISTS", b.keys.bayes_bucket("", 0, bucket_of(delta, b.layout)), field_of(delta)}).as_integer() ==
        0);
    CHECK(b.command({"EXISTS", b.keys.bayes_seen("", 0, "m")}).as_integer() == 0);

    const auto twice = b.learn(t, "m", LearnClass::forget); // not learned any more
    CHECK_FALSE(twice.changed);
    CHECK(twice.previous == "");
    const auto never = b.learn(t, "never", LearnClass::forget);
    CHECK_FALSE(never.changed);
    st = b.read(t);
    CHECK(st.spam == 1);
    check_counts(st, 0, 1, 0);
}

TEST_CASE("bayes expire: rare tokens learned at least `days` ago go; frequent or recent ones stay")
{
    Bayes b(bayes_config());
    // Day 200, days 60, max_count 2: deleted when spam + ham <= 2 and last learned on day 140 or before.
    b.learn(tokens_of({"old-rare", "old-frequent", "refreshed"}), "m1", LearnClass::spam, 100);
    b.learn(tokens_of({"old-frequent"}), "m2", LearnClass::spam, 100);
    b.learn(tokens_of({"old-frequent"}), "m3", LearnClass::ham, 100);
    b.learn(tokens_of({"at-limit"}), "m4", LearnClass::spam, 140);
    b.learn(tokens_of({"at-limit"}), "m5", LearnClass::ham, 140);
    b.learn(tokens_of({"recent"}), "m6", LearnClass::spam, 141);
    b.learn(tokens_of({"refreshed"}), "m7", LearnClass::ham, 190); // learned again: its day is the last one
    const auto t = tokens_of({"old-rare", "old-frequent", "at-limit", "recent", "refreshed"});
    const auto [deleted, kept] = b.expire(t, 200, 60, 2);
    CHECK(deleted == 2); // old-rare, at-limit
    CHECK(kept == 3);
    const auto st = b.read(t);
    check_counts(st, 0, 0, 0);
    check_counts(st, 1, 2, 1);
    check_counts(st, 2, 0, 0);
    check_counts(st, 3, 1, 0);
    check_counts(st, 4, 1, 1);
    CHECK(st.spam == 4); // messages stay counted
    CHECK(st.ham == 3);

    const auto again = b.expire(t, 200, 60, 2); // nothing more to do
    CHECK(again.first == 0);
    CHECK(again.second == 3);
    const auto stricter = b.expire(t, 200, 1, 3); // now old-frequent (3) and recent (1) qualify; refreshed too
    CHECK(stricter.first == 3);
    CHECK(stricter.second == 0);
    CHECK(b.keys_matching("*:tok:*").empty()); // empty buckets are gone
}

TEST_CASE("bayes shards: tokens spread over shards, each under its own hash tag, and read back whole")
{
    Bayes b(bayes_config("[bayes]\nbuckets = 64\nshards = 4\n"));
    REQUIRE(b.layout.shards == 4);
    std::vector<Token> t;
    for (int i = 0; i < 40; ++i)
        t.push_back(hash_token("sharded-" + std::to_string(i)));
    const auto first = b.learn(t, "s1", LearnClass::spam);
    CHECK(first.changed);
    CHECK(first.previous == "");

    std::set<std::string> tags;
    for (const auto& key : b.keys_matching("*:tok:*")) {
        const auto open = key.find('{'), close = key.find('}');
        REQUIRE(open != std::string::npos);
        REQUIRE(close != std::string::npos);
        const std::string tag = key.substr(open + 1, close - open - 1);
        tags.insert(tag);
        const long long bucket = std::stoll(key.substr(key.rfind(':') + 1));
        CHECK_MESSAGE(tag == "bayes:" + std::to_string(bucket % 4), key);
    }
    CHECK(tags == std::set<std::string>{"bayes:0", "bayes:1", "bayes:2", "bayes:3"});
    CHECK(b.keys_matching("*:seen:s1").size() == 4); // each shard remembers the message

    auto st = b.read(t);
    CHECK(st.spam == 1);
    CHECK(st.ham == 0);
    CHECK(st.buckets == 64);
    for (std::size_t i = 0; i < t.size(); ++i)
        check_counts(st, i, 1, 0);

    const auto moved = b.learn(t, "s1", LearnClass::ham); // every shard moves it
    CHECK(moved.previous == "spam");
    st = b.read(t);
    CHECK(st.spam == 0);
    CHECK(st.ham == 1);
    for (std::size_t i = 0; i < t.size(); ++i)
        check_counts(st, i, 0, 1);

    // A message with no token in shard 0 is still counted in shard 0's meta.
    std::vector<Token> off_zero;
    for (Token x : t)
        if (bucket_of(x, b.layout) % 4 == 3)
            off_zero.push_back(x);
    REQUIRE_FALSE(off_zero.empty());
    CHECK(b.learn(off_zero, "s2", LearnClass::spam).changed);
    st = b.read(off_zero);
    CHECK(st.spam == 1);
    check_counts(st, 0, 1, 1);
}

TEST_CASE("bayes scope: a recipient domain keeps statistics of its own, apart from the global ones")
{
    const auto cfg = bayes_config();
    Bayes global(cfg), domain(cfg, "Example.ORG");
    CHECK(domain.layout.scope == "example.org");
    const auto t = tokens_of({"invoice", "payment"});
    global.learn(t, "x", LearnClass::spam);
    const auto in_domain = domain.learn(t, "x", LearnClass::ham); // the same message, its own seen record
    CHECK(in_domain.changed);
    CHECK(in_domain.previous == "");

    const auto g = global.read(t), d = domain.read(t);
    CHECK(g.spam == 1);
    CHECK(g.ham == 0);
    check_counts(g, 0, 1, 0);
    CHECK(d.spam == 0);
    CHECK(d.ham == 1);
    check_counts(d, 0, 0, 1);
    CHECK_FALSE(global.keys_matching("{bayes:example.org:0}:meta").empty());
    CHECK(global.keys_matching("{bayes:Example.ORG:0}:*").empty());
}

TEST_CASE("bayes add_message_learn: the global statistics, the scope's, and an expiry sweep, in one batch")
{
    const auto cfg = bayes_config("[bayes]\nexpire_buckets = 3\n");
    Bayes global(cfg), domain(cfg, "example.net");
    const HeaderFields h = {{"Message-ID", "<learn-1@example.net>"}, {"Subject", "quarterly report"}};
    const auto t = message_tokens(h, nullptr, {});
    Batch b;
    add_message_learn(*cfg, global.keys, h, t, LearnClass::ham, "example.net", b);
    CHECK(b.size() == 4);        // one learn and one expiry sweep per statistics (one shard each)
    std::set<std::string> swept; // the hash tags of the sweeps' keys
    for (const auto& cmd : b.commands())
        if (cmd.script == static_cast<int>(Script::bayes_expire))
            for (std::size_t k = 0; k < static_cast<std::size_t>(cmd.nkeys); ++k) {
                const auto open = cmd.args[k].find('{'), close = cmd.args[k].find('}');
                REQUIRE(open < close);
                swept.insert(cmd.args[k].substr(open + 1, close - open - 1));
            }
    CHECK(swept == std::set<std::string>{"bayes:0", "bayes:example.net:0"});
    const auto replies = run(global.store, b);
    const auto r = parse_learn(replies);
    REQUIRE(r);
    CHECK(r->changed);
    const auto g = global.read(t), d = domain.read(t);
    CHECK(g.ham == 1);
    CHECK(d.ham == 1);
    for (std::size_t i = 0; i < t.size(); ++i) {
        check_counts(g, i, 0, 1);
        check_counts(d, i, 0, 1);
    }
    // The digest is the Message-ID's: the same ID with another body is the same message.
    const std::string digest = message_digest(h, t);
    CHECK(global.command({"GET", global.keys.bayes_seen("", 0, digest)}).str == "ham");
    Batch again;
    const auto other_body = tokens_of({"other", "words"});
    add_message_learn(*cfg, global.keys, h, other_body, LearnClass::ham, "", again);
    const auto again_r = parse_learn(run(global.store, again));
    REQUIRE(again_r);
    CHECK_FALSE(again_r->changed);
    CHECK(again_r->previous == "ham");
}

namespace {

// The Bayes check through a Session, content parsed, every category tagged.
std::shared_ptr<const Config> check_config(const std::string& extra = "")
{
    return bayes_config("[lists]\nenabled = false\n[ratelimit]\nenabled = false\n[reputation]\nenabled = false\n"
                        "[action]\nclean = \"tag\"\nspam = \"tag\"\nconfirmed_spam = \"tag\"\n"
                        "[bayes]\nenabled = true\nmin_spam = 3\nmin_ham = 3\nstrength = 1.0\nmax_tokens = 150\n"
                        "spam_threshold = 0.9\nspam_full = 1.0\nham_threshold = 0.1\n" +
                        extra);
}

std::string message(int n, const std::string& subject, const std::string& body)
{
    return "From: Sender <sender@example.com>\r\n"
           "To: rcpt@example.net\r\n"
           "Subject: " +
           subject +
           "\r\n"
           "Date: Tue, 10 Nov 2026 09:14:51 +0000\r\n"
           "Message-ID: <" +
           std::to_string(n) +
           "@example.com>\r\n"
           "Content-Type: text/plain; charset=us-ascii\r\n"
           "\r\n" +
           body + "\r\n";
}

std::string spam_message(int n)
{
    return message(n, "Cheap pills online " + std::to_string(n),
                   "Buy cheap viagra pills now, casino bonus winner lottery prize, unsubscribe offer "
                   "guaranteed discount pharmacy click here " +
                       std::to_string(n));
}

std::string ham_message(int n)
{
    return message(n, "Quarterly report meeting " + std::to_string(n),
                   "Hello team, the agenda for the project meeting on Thursday is attached; please review the "
                   "budget figures and the quarterly report draft before then. Regards " +
                       std::to_string(n));
}

void learn_stored(const Runtime& rt, const std::string& raw, LearnClass c, const std::string& scope = "")
{
    const auto t = stored_tokens(*rt.config, raw);
    Batch b;
    add_message_learn(*rt.config, rt.keys, t.headers, t.tokens, c, scope, b);
    const auto r = parse_learn(run(*rt.store, b));
    REQUIRE(r);
    REQUIRE(r->changed);
}

// The X-Rampart-Symbols of `raw` played through a Session to `rcpt`.
std::string symbols_for(const std::shared_ptr<const Runtime>& rt, const std::string& raw,
                        const std::string& rcpt = "<rcpt@example.net>")
{
    Session s(rt);
    Envelope env;
    env.recipient = rcpt;
    const auto out = play(s, split_message(raw), 4096, env);
    s.close();
    REQUIRE(out);
    const auto* e = find_edit(*out, HeaderEdit::Op::add, "X-Rampart-Symbols");
    return e ? e->value : "";
}

bool has_symbol(const std::string& symbols, std::string_view name)
{
    return symbols.find(std::string(name) + "(") != std::string::npos;
}

} // namespace

TEST_CASE("bayes check: spammy mail gets RAMPART_BAYES_SPAM and hammy mail RAMPART_BAYES_HAM once enough is learned")
{
    auto rt = runtime(check_config());
    for (int i = 0; i < 2; ++i) {
        learn_stored(*rt, spam_message(100 + i), LearnClass::spam);
        learn_stored(*rt, ham_message(200 + i), LearnClass::ham);
    }
    // Two of each, bayes.min_spam and min_ham are 3: too few to judge.
    auto sym = symbols_for(rt, spam_message(1));
    INFO("symbols: ", sym);
    CHECK_FALSE(has_symbol(sym, "RAMPART_BAYES_SPAM"));
    CHECK_FALSE(has_symbol(sym, "RAMPART_BAYES_HAM"));
    sym = symbols_for(rt, ham_message(2));
    CHECK_FALSE(has_symbol(sym, "RAMPART_BAYES_SPAM"));
    CHECK_FALSE(has_symbol(sym, "RAMPART_BAYES_HAM"));

    learn_stored(*rt, spam_message(102), LearnClass::spam);
    learn_stored(*rt, ham_message(202), LearnClass::ham);
    sym = symbols_for(rt, spam_message(3));
    CHECK(has_symbol(sym, "RAMPART_BAYES_SPAM"));
    CHECK_FALSE(has_symbol(sym, "RAMPART_BAYES_HAM"));
    sym = symbols_for(rt, ham_message(4));
    CHECK(has_symbol(sym, "RAMPART_BAYES_HAM"));
    CHECK_FALSE(has_symbol(sym, "RAMPART_BAYES_SPAM"));
    // Words the statistics never saw: no opinion.
    sym = symbols_for(rt, message(5, "Zyxw", "Qwertz uiop asdfgh jklo"));
    CHECK_FALSE(has_symbol(sym, "RAMPART_BAYES_SPAM"));
    CHECK_FALSE(has_symbol(sym, "RAMPART_BAYES_HAM"));
}

TEST_CASE("bayes check: with per_domain, a domain's statistics judge its mail and no one else's")
{
    auto rt = runtime(check_config("per_domain = true\n"));
    for (int i = 0; i < 3; ++i) {
        learn_stored(*rt, spam_message(300 + i), LearnClass::spam, "example.net");
        learn_stored(*rt, ham_message(400 + i), LearnClass::ham, "example.net");
    }
    // Learned for example.net and globally (add_message_learn does both).
    CHECK(has_symbol(symbols_for(rt, spam_message(6), "<rcpt@Example.NET>"), "RAMPART_BAYES_SPAM"));

    auto only_domain = runtime(check_config("per_domain = true\n"));
    Bayes domain(only_domain->config, "example.net");
    for (int i = 0; i < 3; ++i) { // the domain's statistics only
        const auto s = stored_tokens(*only_domain->config, spam_message(500 + i));
        domain.learn(s.tokens, "s" + std::to_string(i), LearnClass::spam);
        const auto h = stored_tokens(*only_domain->config, ham_message(600 + i));
        domain.learn(h.tokens, "h" + std::to_string(i), LearnClass::ham);
    }
    CHECK(has_symbol(symbols_for(only_domain, spam_message(7), "<rcpt@example.net>"), "RAMPART_BAYES_SPAM"));
    CHECK(has_symbol(symbols_for(only_domain, ham_message(8), "<rcpt@example.net>"), "RAMPART_BAYES_HAM"));
    const auto elsewhere = symbols_for(only_domain, spam_message(9), "<rcpt@other.example>");
    CHECK_FALSE(has_symbol(elsewhere, "RAMPART_BAYES_SPAM"));
    CHECK_FALSE(has_symbol(elsewhere, "RAMPART_BAYES_HAM"));
}

TEST_CASE("bayes check: statistics learned with other bayes.buckets are not used")
{
    const auto learned_with = check_config("buckets = 1024\n");
    auto rt = runtime(learned_with);
    for (int i = 0; i < 3; ++i) {
        learn_stored(*rt, spam_message(700 + i), LearnClass::spam);
        learn_stored(*rt, ham_message(800 + i), LearnClass::ham);
    }
    CHECK(has_symbol(symbols_for(rt, spam_message(10)), "RAMPART_BAYES_SPAM"));
    auto other = runtime(config(
        "[lists]\nenabled = false\n[ratelimit]\nenabled = false\n[reputation]\nenabled = false\n[rules]\nenabled = "
        "false\n[action]\nclean = \"tag\"\nspam = \"tag\"\nconfirmed_spam = \"tag\"\n[bayes]\nenabled = true\nmin_spam "
        "= 3\nmin_ham = 3\nstrength = 1.0\nmax_tokens = 150\nspam_threshold = 0.9\nspam_full = 1.0\nham_threshold = "
        "0.1\nbuckets = "
        "2048\n[redis]\nservers = [\"127.0.0.1:" +
        redis_port() + "\"]\nprefix = \"" + learned_with->redis_prefix + "\"\n"));
    const auto sym = symbols_for(other, spam_message(11));
    CHECK_FALSE(has_symbol(sym, "RAMPART_BAYES_SPAM"));
    CHECK_FALSE(has_symbol(sym, "RAMPART_BAYES_HAM"));
}
