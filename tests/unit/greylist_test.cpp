// Integration tests of adaptive greylisting (checks/greylist.cpp) against
// a real redis-server, started by tests/integration/redis-tests.sh.
#include "engine/session.hpp"
#include "redis_helpers.hpp"

#include <doctest/doctest.h>

using namespace rampart;
using namespace rampart::test;
using Clock = std::chrono::system_clock;

namespace {

// Greylisting with `settings`; the other Redis checks off; network.internal
// empty so that the test clients are strangers; tagged so symbols show.
std::shared_ptr<const Config> grey_config(const std::string& settings)
{
    return redis_config("grey", {"greylist"},
                        "[network]\ninternal = []\n[action]\nclean = \"tag\"\n[greylist]\n" + settings);
}

const Clock::time_point kNoon = Clock::time_point(std::chrono::seconds(1796644800)); // 2026-12-07 12:00 UTC

struct Try {
    std::string ip = "203.0.113.5";
    std::string sender = "news@sender.example";
    std::vector<std::string> rcpts = {"bob@isp.example"};
    Clock::time_point at = kNoon;
    std::string login{};
};

Outcome attempt(const std::shared_ptr<const Runtime>& rt, const Try& t)
{
    Session s(rt);
    s.connect(IpAddress::parse(t.ip), "mx.sender.example");
    s.helo("mx.sender.example");
    s.mail("<" + t.sender + ">", "", t.login);
    s.set_arrival(t.at);
    for (const auto& r : t.rcpts)
        s.rcpt("<" + r + ">");
    s.header("Subject", "hello");
    s.body("hello\r\n");
    auto out = s.eom("Q");
    s.close();
    return out;
}

bool greylisted(const Outcome& o) { return o.answer.kind == Answer::Kind::tempfail; }

std::string symbols(const Outcome& o)
{
    const auto* e = find_edit(o, HeaderEdit::Op::add, "X-Rampart-Symbols");
    return e ? e->value : "";
}

} // namespace

TEST_CASE("greylist: a new triplet waits greylist.delay_s; a retry from the same network passes, and is remembered")
{
    // Every clean message is in the band here: min_score below any score.
    auto cfg = grey_config("min_score = -100\ndelay_s = 300\n");
    auto node_a = runtime(cfg), node_b = runtime(cfg);
    Try t;
    const auto first = attempt(node_a, t);
    CHECK(greylisted(first));
    CHECK(first.answer.text == cfg->reply_greylist.substr(6));
    t.at += std::chrono::seconds(120);
    CHECK(greylisted(attempt(node_b, t))); // too early, on any node
    t.at += std::chrono::seconds(200);
    t.ip = "203.0.113.77"; // another address of the sender's pool: the same /24
    const auto retried = attempt(node_b, t);
    CHECK(retried.answer.kind == Answer::Kind::accept);
    CHECK(symbols(retried).find("RAMPART_GREYLIST_PASSED(0.00)") != std::string::npos);
    // Remembered: another sender of the domain, to another recipient, passes at once.
    t.sender = "billing@sender.example";
    t.rcpts = {"carol@isp.example"};
    CHECK(attempt(node_a, t).answer.kind == Answer::Kind::accept);
    // Another network is a stranger still.
    t.ip = "198.51.100.5";
    CHECK(greylisted(attempt(node_a, t)));
}

TEST_CASE("greylist: only the band of scores is greylisted, and never the trusted")
{
    auto cfg = grey_config("delay_s = 300\n"); // min_score 4.0: a score-0 message is below the band
    auto rt = runtime(cfg);
    Try t;
    CHECK(attempt(rt, t).answer.kind == Answer::Kind::accept);

    auto band = runtime(grey_config("min_score = -100\n"));
    Try customer;
    customer.login = "customer@isp.example"; // authenticated: never
    CHECK(attempt(band, customer).answer.kind == Answer::Kind::accept);
    Try gtube;
    gtube.sender = "other@sender.example";
    auto gtube_rt = runtime(config("[rules]\nenabled = false\n[lists]\nenabled = false\n[ratelimit]\nenabled = "
                                   "false\n[reputation]\nenabled = false\n[account]\nenabled = false\n[mailbomb]\n"
                                   "enabled = false\n[network]\ninternal = []\n[action]\nconfirmed_spam = \"tag\"\n" +
                                   redis_section("grey") + "[greylist]\nmin_score = -100\n"));
    Session s(gtube_rt); // spam is not greylisted: its own action applies
    s.connect(IpAddress::parse("203.0.113.9"), "x");
    s.helo("x");
    s.mail("<a@sender.example>", "", "");
    s.rcpt("<bob@isp.example>");
    s.header("Subject", "test");
    s.body(std::string(kGtube) + "\r\n");
    CHECK(s.eom("Q").answer.kind == Answer::Kind::accept);
    s.close();
    auto internal = runtime(config("[rules]\nenabled = false\n[content]\nenabled = false\n[lists]\nenabled = "
                                   "false\n[ratelimit]\nenabled = false\n[reputation]\nenabled = false\n[account]\n"
                                   "enabled = false\n[mailbomb]\nenabled = false\n" +
                                   redis_section("grey") + "[greylist]\nmin_score = -100\n"));
    Try own;
    own.ip = "10.1.2.3"; // network.internal's defaults include the private ranges
    CHECK(attempt(internal, own).answer.kind == Answer::Kind::accept);
}
