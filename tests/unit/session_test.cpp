// Unit tests: the engine's phases, policy and headers, without Redis
// (checks that need Redis are off, or Redis is unreachable on purpose).
#include "engine/session.hpp"
#include "helpers.hpp"
#include "policy/policy.hpp"

#include <doctest/doctest.h>

using namespace rampart;
using namespace rampart::test;

namespace {

// Content checks are off too (kNoRedisChecks): these messages are not
// written to pass them (golden_test.cpp and heuristics_test.cpp test those).

Outcome deliver(Session& s, std::initializer_list<std::pair<const char*, const char*>> headers,
                std::initializer_list<std::string> chunks)
{
    CHECK(s.connect(IpAddress::parse("192.0.2.10"), "mx.example.net").kind == Answer::Kind::proceed);
    CHECK(s.helo("mx.example.net").kind == Answer::Kind::proceed);
    CHECK(s.mail("<a@example.net>", "", "").kind == Answer::Kind::proceed);
    CHECK(s.rcpt("<b@example.org>").kind == Answer::Kind::proceed);
    for (const auto& [n, v] : headers)
        s.header(n, v);
    for (const auto& c : chunks)
        s.body(c);
    return s.eom("ABC123");
}

} // namespace

TEST_CASE("a clean message is accepted with X-Spam-Status: No and nothing else")
{
    Session s(runtime(config(kNoRedisChecks)));
    auto out = deliver(s, {{"Subject", "hello"}}, {"just a note\r\n"});
    CHECK(out.answer.kind == Answer::Kind::accept);
    const auto* st = find_edit(out, HeaderEdit::Op::add, "X-Spam-Status");
    REQUIRE(st);
    CHECK(st->value == "No, score=0.00");
    CHECK_FALSE(find_edit(out, HeaderEdit::Op::add, "X-Rampart-Category"));
}

TEST_CASE("GTUBE is confirmed spam, found across a chunk boundary, and the rest of the body is skipped")
{
    const std::string g = kGtube;
    for (std::size_t cut : {std::size_t{0}, std::size_t{1}, g.size() / 2, g.size() - 1, g.size()}) {
        CAPTURE(cut);
        Session s(runtime(config(kNoRedisChecks + "[limits]\nskip_body = true\n")));
        s.connect(IpAddress::parse("192.0.2.10"), "x");
        s.mail("<a@example.net>", "", "");
        s.rcpt("<b@example.org>");
        const Answer first = s.body("line one\r\n" + g.substr(0, cut));
        const Answer second = s.body(g.substr(cut) + "\r\nmore");
        CHECK((first.kind == Answer::Kind::skip_body || second.kind == Answer::Kind::skip_body));
        auto out = s.eom("Q1");
        CHECK(out.answer.kind == Answer::Kind::reject);
        CHECK(out.answer.code == "550");
        CHECK(out.answer.xcode == "5.7.1");
        CHECK(out.answer.text == "Message rejected as spam");
    }
}

TEST_CASE("a body without GTUBE is not flagged, however it is chunked")
{
    Session s(runtime(config(kNoRedisChecks)));
    std::string near = std::string(kGtube);
    near[10] = 'x';
    auto out = deliver(s, {}, {near.substr(0, 30), near.substr(30)});
    CHECK(out.answer.kind == Answer::Kind::accept);
}

TEST_CASE("forged rampart headers are removed, highest occurrence first")
{
    Session s(runtime(config(kNoRedisChecks)));
    auto out = deliver(s,
                       {{"X-Spam-Status", "No"},
                        {"Received", "x"},
                        {"X-Spam-Status", "No"},
                        {"x-rampart-category", "clean"},
                        {"X-Spam-Score", "-100"}},
                       {"hi"});
    std::vector<std::pair<std::string, int>> removed;
    for (const auto& e : out.edits)
        if (e.op == HeaderEdit::Op::remove)
            removed.emplace_back(e.name, e.index);
    REQUIRE(removed.size() == 4);
    CHECK(removed[0].second == 2); // X-Spam-Status #2 before #1
    CHECK(removed[0].first == "X-Spam-Status");
    const auto pos1 = std::find(removed.begin(), removed.end(), std::pair<std::string, int>{"X-Spam-Status", 1});
    CHECK(pos1 != removed.end());
    CHECK(std::find(removed.begin(), removed.end(), std::pair<std::string, int>{"x-rampart-category", 1}) !=
          removed.end());
}

TEST_CASE("actions per category")
{
    struct Case {
        const char* action;
        Answer::Kind kind;
        bool quarantined;
        bool full_tags;
    };
    const Case cases[] = {
        {"reject", Answer::Kind::reject, false, false},   {"tempfail", Answer::Kind::tempfail, false, false},
        {"discard", Answer::Kind::discard, false, false}, {"quarantine", Answer::Kind::accept, true, false},
        {"tag", Answer::Kind::accept, false, true},       {"accept", Answer::Kind::accept, false, false},
    };
    for (const auto& c : cases) {
        CAPTURE(c.action);
        Session s(runtime(config(std::string(kNoRedisChecks) + "[action]\nconfirmed_spam = \"" + c.action +
                                 "\"\n[tag]\nsubject_prefix = \"[SPAM] \"\n")));
        auto out = deliver(s, {{"Subject", "buy now"}}, {kGtube});
        CHECK(out.answer.kind == c.kind);
        CHECK(out.quarantine_reason.empty() != c.quarantined);
        if (c.kind == Answer::Kind::tempfail)
            CHECK(out.answer.code == "451");
        CHECK((find_edit(out, HeaderEdit::Op::add, "X-Rampart-Category") != nullptr) == c.full_tags);
        if (c.full_tags) {
            CHECK(find_edit(out, HeaderEdit::Op::add, "X-Rampart-Category")->value == "confirmed-spam");
            CHECK(find_edit(out, HeaderEdit::Op::add, "X-Spam-Status")->value == "Yes, score=1000.00");
            CHECK(find_edit(out, HeaderEdit::Op::add, "X-Rampart-Symbols")->value == "RAMPART_GTUBE(1000.00)");
            const auto* subj = find_edit(out, HeaderEdit::Op::change, "Subject");
            REQUIRE(subj);
            CHECK(subj->value == "[SPAM] buy now");
            CHECK(subj->index == 1);
        }
    }
}

TEST_CASE("categories follow the thresholds")
{
    auto cfg = config(kNoRedisChecks);
    Scorecard card;
    CHECK(categorize(*cfg, card, std::nullopt) == Category::clean);
    card.add("A", 6.0);
    CHECK(categorize(*cfg, card, std::nullopt) == Category::spam);
    card.add("B", 9.0);
    CHECK(categorize(*cfg, card, std::nullopt) == Category::confirmed_spam);
    CHECK(categorize(*cfg, card, Category::clean) == Category::clean);
    card.add("A", 100.0); // a symbol counts once
    CHECK(card.total() == doctest::Approx(15.0));
    CHECK(card.summary() == "B(9.00),A(6.00)");
}

TEST_CASE("Redis unreachable: on_failure=tempfail tempfails as soon as it is known, then at MAIL FROM")
{
    auto cfg = config("[redis]\nservers = [\"127.0.0.1:1\"]\nbreaker_failures = 2\nbreaker_cooldown_ms = 60000\n");
    auto rt = runtime(cfg);
    const auto expect_unavailable = [](const Answer& a) {
        CHECK(a.kind == Answer::Kind::tempfail);
        CHECK(a.code == "451");
        CHECK(a.xcode == "4.7.1");
        CHECK(a.text == "Service temporarily unavailable, try again later");
    };
    for (int i = 0; i < 3; ++i) {
        CAPTURE(i);
        Session s(rt);
        CHECK(s.connect(IpAddress::parse("192.0.2.10"), "x").kind == Answer::Kind::proceed); // nothing waits at connect
        const Answer mail = s.mail("<a@example.net>", "", "");
        if (i == 2) { // the breaker is open: the failure is known at once
            expect_unavailable(mail);
            continue;
        }
        if (mail.settles()) {
            expect_unavailable(mail);
            continue;
        }
        const Answer rcpt = s.rcpt("<b@example.org>");
        if (rcpt.settles()) {
            expect_unavailable(rcpt);
            continue;
        }
        s.body("hello");
        expect_unavailable(s.eom("Q").answer); // at the latest at end of message
    }
    CHECK(rt->store->breaker_open());
    CHECK(rt->store->counters().failed_fast >= 1);
}

TEST_CASE("Redis unreachable: on_failure=accept delivers tagged with RAMPART_REDIS_FAILED")
{
    auto cfg = config("[redis]\nservers = [\"127.0.0.1:1\"]\non_failure = \"accept\"\n");
    Session s(runtime(cfg));
    auto out = deliver(s, {}, {"hello"});
    CHECK(out.answer.kind == Answer::Kind::accept);
    const auto* sym = find_edit(out, HeaderEdit::Op::add, "X-Rampart-Symbols");
    REQUIRE(sym);
    CHECK(sym->value.find("RAMPART_REDIS_FAILED") != std::string::npos);
}

TEST_CASE("negotiation asks only for what the enabled checks need")
{
    auto none = step_needs(
        *runtime(config(kNoRedisChecks + std::string("[gtube]\nenabled = false\n[limits]\nmax_message_size = 0\n"
                                                     "[dkim]\nenabled = false\n[dmarc]\nenabled = false\n"))));
    CHECK_FALSE(none.reply_connect);
    CHECK_FALSE(none.reply_helo);
    CHECK_FALSE(none.reply_mail);
    CHECK_FALSE(none.reply_rcpt);
    CHECK_FALSE(none.body);
    CHECK_FALSE(none.body_replies);
    // Defaults with empty lists: MAIL FROM (rate limits, reputation, SIZE=, a locked account)
    // and RCPT TO (a recipient a node found bombed) answer early; the body streams without
    // replies unless limits.skip_body asks for one per chunk.
    auto defaults = step_needs(*runtime(config("")));
    CHECK_FALSE(defaults.reply_connect);
    CHECK_FALSE(defaults.reply_helo);
    CHECK(defaults.reply_mail);
    CHECK(defaults.reply_rcpt);
    CHECK(defaults.body);
    CHECK_FALSE(defaults.body_replies);
    auto skipping = step_needs(*runtime(config("[limits]\nskip_body = true\n")));
    CHECK(skipping.body);
    CHECK(skipping.body_replies);
}

TEST_CASE("past the header limit, forged headers are still removed and the limit shows as a symbol")
{
    auto cfg = config(std::string(kNoRedisChecks) + "[action]\nclean = \"tag\"\n");
    Session s(runtime(cfg));
    s.connect(IpAddress::parse("192.0.2.10"), "x");
    s.mail("<a@example.net>", "", "");
    s.rcpt("<b@example.org>");
    for (std::size_t i = 0; i < kMaxHeaders + 5; ++i)
        s.header("X-Filler", "x");
    s.header("X-Spam-Status", "No, score=-99");
    auto out = s.eom("Q");
    const auto* removed = find_edit(out, HeaderEdit::Op::remove, "X-Spam-Status");
    REQUIRE(removed);
    CHECK(removed->index == 1);
    CHECK(find_edit(out, HeaderEdit::Op::add, "X-Rampart-Symbols")->value.find("RAMPART_TOO_MANY_HEADERS(1.00)") !=
          std::string::npos);
}

TEST_CASE("forged headers under too many names flood the message into spam")
{
    Session s(runtime(config(kNoRedisChecks)));
    s.connect(IpAddress::parse("192.0.2.10"), "x");
    s.mail("<a@example.net>", "", "");
    s.rcpt("<b@example.org>");
    for (std::size_t i = 0; i < kMaxForgedNames + 1; ++i)
        s.header("X-Rampart-" + std::to_string(i), "x");
    auto out = s.eom("Q");
    CHECK(out.answer.kind == Answer::Kind::reject); // 100 points: confirmed spam, rejected by default
}

TEST_CASE("verdict headers are removed even after a flood of other forged names")
{
    Session s(runtime(config(std::string(kNoRedisChecks) + "[action]\nconfirmed_spam = \"accept\"\n")));
    s.connect(IpAddress::parse("192.0.2.10"), "x");
    s.mail("<a@example.net>", "", "");
    s.rcpt("<b@example.org>");
    for (std::size_t i = 0; i < kMaxForgedNames + 1; ++i)
        s.header("X-Rampart-" + std::to_string(i), "x");
    s.header("X-Spam-Status", "No, score=-99");
    s.header("X-Rampart-Category", "clean");
    auto out = s.eom("Q");
    CHECK(out.answer.kind == Answer::Kind::accept);
    CHECK(find_edit(out, HeaderEdit::Op::remove, "X-Spam-Status"));
    CHECK(find_edit(out, HeaderEdit::Op::remove, "X-Rampart-Category"));
}

TEST_CASE("the cache of full rate counters holds an entry until the counter has room, at most kMaxHold")
{
    LimitCache cache;
    const auto t0 = LimitCache::Clock::now();
    CHECK(cache.full_for_ms("k", t0) == 0);
    cache.note_full("k", 0, t0); // room now: nothing to note
    CHECK(cache.size() == 0);
    cache.note_full("k", 1500, t0);
    CHECK(cache.full_for_ms("k", t0) == 1500);
    CHECK(cache.full_for_ms("k", t0 + std::chrono::milliseconds(1000)) == 500);
    CHECK(cache.full_for_ms("k", t0 + std::chrono::milliseconds(1500)) == 0);
    CHECK(cache.full_for_ms("other", t0) == 0);
    cache.note_full("slow", 3600 * 1000, t0); // full for an hour: held for kMaxHold, then asked again
    CHECK(cache.full_for_ms("slow", t0) == std::chrono::milliseconds(LimitCache::kMaxHold).count());
    CHECK(cache.full_for_ms("slow", t0 + LimitCache::kMaxHold) == 0);
}
