// Integration tests of the outbreak defence (checks/outbreak.cpp) against a
// real redis-server, started by tests/integration/redis-tests.sh: two nodes
// share it, and a campaign split between them is seen whole.
#include "engine/session.hpp"
#include "redis_helpers.hpp"
#include "store/reputation.hpp"

#include <doctest/doctest.h>

#include <fmt/format.h>

using namespace rampart;
using namespace rampart::test;
using Clock = std::chrono::system_clock;

namespace {

// Of the checks that use Redis only the outbreak check runs (and
// reputation, when `reputation` is on), with the content checks it needs.
std::shared_ptr<const Config> outbreak_config(const std::string& settings, bool reputation = false)
{
    std::vector<std::string> on = {"content", "outbreak"};
    if (reputation)
        on.push_back("reputation");
    return redis_config("ob", on,
                        "[network]\ninternal = []\n[action]\nclean = \"tag\"\nspam = \"tag\"\n[outbreak]\n" + settings);
}

// N verdicts of one kind, now, on a reputation key (the default half-life and TTL).
void seed_reputation(const Runtime& rt, const std::string& key, bool spam, double n)
{
    Batch b;
    reputation::add(b, key, spam, Clock::now(), rt.config->reputation_half_life_s, rt.config->reputation_ttl_s, n);
    run(*rt.store, b);
}

const Clock::time_point kNoon = Clock::time_point(std::chrono::seconds(1796644800)); // 2026-12-07 12:00 UTC

const std::string kCampaign =
    "Dear customer, your account has been selected for our exclusive winter offer. Claim your reward of 500 "
    "dollars today by confirming your details on our secure page. This offer expires in 48 hours, so do not "
    "wait. Thousands of customers have already claimed their reward this week. Thank you for being a valued "
    "member of our community and we look forward to serving you again soon.\r\n";

struct Copy {
    std::string ip = "198.51.100.9";
    std::string sender = "promo@sender.example";
    std::string body = kCampaign;
    Clock::time_point at = kNoon;
};

Outcome deliver(const std::shared_ptr<const Runtime>& rt, const Copy& c)
{
    Session s(rt);
    s.connect(IpAddress::parse(c.ip), "mx.sender.example");
    s.helo("mx.sender.example");
    s.mail("<" + c.sender + ">", "", "");
    s.set_arrival(c.at);
    s.rcpt("<someone@isp.example>");
    s.header("From", "<" + c.sender + ">");
    s.header("Subject", "your reward");
    s.header("Date", "Mon, 07 Dec 2026 12:00:00 +0000");
    s.header("Message-ID", fmt::format("<{}.{}@{}>", c.ip, c.body.size(), "sender.example"));
    s.body(c.body);
    auto out = s.eom("Q");
    s.close();
    rt->store->flush_writes();
    return out;
}

std::string symbols(const Outcome& o)
{
    const auto* e = find_edit(o, HeaderEdit::Op::add, "X-Rampart-Symbols");
    return e ? e->value : "";
}

bool flagged(const Outcome& o) { return symbols(o).find("RAMPART_OUTBREAK(") != std::string::npos; }

// Copy `i` of a botnet's campaign: a network and a sender of its own.
Copy bot(int i, const std::string& body = kCampaign)
{
    Copy c;
    c.ip = fmt::format("203.0.{}.7", i);
    c.sender = fmt::format("user{}@host{}.example", i, i);
    c.body = body;
    return c;
}

} // namespace

TEST_CASE("outbreak: a campaign split across two nodes becomes an outbreak for both, and its near copies")
{
    auto cfg = outbreak_config("messages = 10\nnetworks = 5\ndomains = 5\n");
    auto node_a = runtime(cfg), node_b = runtime(cfg);
    for (int i = 1; i <= 9; ++i) {
        CAPTURE(i);
        CHECK_FALSE(flagged(deliver(i % 2 ? node_a : node_b, bot(i))));
    }
    // The tenth copy crosses every threshold: it is judged before it is
    // one, and every later copy, on either node, scores.
    CHECK_FALSE(flagged(deliver(node_b, bot(10))));
    CHECK(redis(*node_a, {"ZCARD", node_a->keys.outbreak_list()}).as_integer() == 0);
    const auto eleventh = deliver(node_a, bot(11));
    CHECK(flagged(eleventh));
    CHECK(symbols(eleventh).find(fmt::format("RAMPART_OUTBREAK({:.2f})", cfg->outbreak_score)) != std::string::npos);
    CHECK(flagged(deliver(node_b, bot(12))));
    // Neither node counted more than its half: the list is the fleet's, and
    // an outbreak on it is marked listed.
    const auto list = redis(*node_a, {"ZRANGE", node_a->keys.outbreak_list(), "0", "-1"});
    REQUIRE(!list.elements.empty());
    std::string text_fp;
    for (const auto& e : list.elements)
        if (e.str.starts_with("text:"))
            text_fp = e.str;
    REQUIRE(!text_fp.empty());
    const auto hit = redis(*node_a, {"HMGET", node_a->keys.outbreak(text_fp, "hit"), "kind", "messages", "listed"});
    REQUIRE(hit.elements.size() == 3);
    CHECK(hit.elements[0].str == "text");
    CHECK(hit.elements[1].as_integer() == 10);
    CHECK_FALSE(hit.elements[2].is_nil());
    // A copy with a name and a few words changed is caught by a near-duplicate band.
    std::string variant = kCampaign;
    variant.replace(variant.find("Dear customer"), 13, "Hello Michael");
    const auto near = deliver(node_b, bot(13, variant));
    CHECK(flagged(near));
    // Another message is not.
    CHECK_FALSE(flagged(deliver(node_a, bot(14, "Minutes of Tuesday's meeting: the budget for the new office was "
                                                "approved, the move is planned for March, and everyone should "
                                                "clear their desks by the end of February. Questions go to Anna "
                                                "in facilities.\r\n"))));
}

TEST_CASE("outbreak: a newsletter from many networks, with a VERP sender for each copy, is not one: one domain")
{
    auto cfg = outbreak_config("messages = 10\nnetworks = 5\ndomains = 5\n");
    auto rt = runtime(cfg);
    Copy c;
    for (int i = 0; i < 40; ++i) {
        c.ip = fmt::format("192.0.{}.10", i % 20); // the provider's twenty /24s
        c.sender = fmt::format("bounce-{}-someone=isp.example@List.Example", i);
        CHECK_FALSE(flagged(deliver(rt, c)));
    }
    CHECK(redis(*rt, {"ZCARD", rt->keys.outbreak_list()}).as_integer() == 0);
}

TEST_CASE("outbreak: clients with a clean record are not counted")
{
    auto cfg = outbreak_config("messages = 3\nnetworks = 2\ndomains = 2\n", true);
    auto rt = runtime(cfg);
    for (int i = 1; i <= 6; ++i) {
        const auto ip = IpAddress::parse(fmt::format("203.0.{}.7", i));
        const auto net = Cidr::parse(fmt::format("203.0.{}.0/24", i));
        REQUIRE((ip && net));
        seed_reputation(*rt, rt->keys.rep_ip(*ip, *net), false, 50);
        CHECK_FALSE(flagged(deliver(rt, bot(i))));
    }
    CHECK(redis(*rt, {"ZCARD", rt->keys.outbreak_list()}).as_integer() == 0);
}

TEST_CASE("outbreak: the window slides; an outbreak lasts outbreak.ttl_s; a cleared one stays cleared")
{
    auto cfg = outbreak_config("messages = 6\nnetworks = 3\ndomains = 3\nwindow_s = 600\nttl_s = 3600\n");
    auto rt = runtime(cfg);
    // Three copies an hour ago are out of the window: these five do not make six.
    for (int i = 1; i <= 3; ++i) {
        Copy c = bot(i);
        c.at = kNoon - std::chrono::hours(1);
        CHECK_FALSE(flagged(deliver(rt, c)));
    }
    for (int i = 4; i <= 8; ++i) {
        Copy c = bot(i);
        c.at = kNoon;
        CHECK_FALSE(flagged(deliver(rt, c)));
    }
    Copy sixth = bot(9);
    sixth.at = kNoon + std::chrono::seconds(30);
    CHECK_FALSE(flagged(deliver(rt, sixth))); // it makes the outbreak: judged before it is one
    Copy seventh = bot(10);
    seventh.at = kNoon + std::chrono::seconds(40);
    CHECK(flagged(deliver(rt, seventh)));

    // Cleared by hand (as rampartctl outbreak clear does): later copies pass, and do not bring it back.
    const auto list = redis(*rt, {"ZRANGE", rt->keys.outbreak_list(), "0", "-1"});
    for (const auto& e : list.elements) {
        redis(*rt, {"DEL", rt->keys.outbreak(e.str, "hit")});
        redis(*rt, {"SET", rt->keys.outbreak(e.str, "clear"), "1", "EX", "3600"});
    }
    for (int i = 11; i <= 15; ++i) {
        Copy c = bot(i);
        c.at = kNoon + std::chrono::seconds(60);
        CHECK_FALSE(flagged(deliver(rt, c)));
    }
}

TEST_CASE("outbreak.delay_s: new bulk content from a poor client waits; from a clean one, or once known, it passes")
{
    auto cfg = outbreak_config("messages = 100\nnetworks = 50\ndomains = 50\ndelay_s = 300\n", true);
    auto rt = runtime(cfg);
    // A client whose past verdicts are all spam.
    const auto poor = IpAddress::parse("203.0.113.66");
    REQUIRE(poor);
    const auto net = Cidr::parse("203.0.113.0/24"); // network.ipv4_prefix
    REQUIRE(net);
    seed_reputation(*rt, rt->keys.rep_ip(*poor, *net), true, 50);

    Copy c;
    c.ip = "203.0.113.66";
    const auto first = deliver(rt, c);
    INFO(symbols(first));
    CHECK(first.answer.kind == Answer::Kind::tempfail);
    CHECK(first.answer.text == cfg->reply_outbreak_delay.substr(6));
    // The same content from a client without a bad record is not held back.
    Copy clean = c;
    clean.ip = "192.0.2.44";
    clean.at = kNoon + std::chrono::seconds(10);
    CHECK(deliver(rt, clean).answer.kind == Answer::Kind::accept);
    // The poor client's retry after the delay passes: the fleet has had its time to look.
    c.at = kNoon + std::chrono::seconds(301);
    CHECK(deliver(rt, c).answer.kind == Answer::Kind::accept);
}

TEST_CASE("outbreak: authenticated senders are neither counted nor held back")
{
    auto cfg = outbreak_config("messages = 3\nnetworks = 1\ndomains = 1\n");
    auto rt = runtime(cfg);
    for (int i = 0; i < 5; ++i) {
        Session s(rt);
        s.connect(IpAddress::parse(fmt::format("198.51.100.{}", i + 1)), "client.example");
        s.helo("client.example");
        s.mail("<customer@isp.example>", "", "customer@isp.example");
        s.set_arrival(kNoon);
        s.rcpt("<friend@else.example>");
        s.header("Subject", "hi");
        s.body(kCampaign);
        CHECK_FALSE(flagged(s.eom("Q")));
        s.close();
    }
    CHECK(redis(*rt, {"ZCARD", rt->keys.outbreak_list()}).as_integer() == 0);
}
