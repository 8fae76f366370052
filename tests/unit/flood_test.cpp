// Integration tests of the connection flood defences (checks/flood.cpp,
// checks/leases.hpp) against a real redis-server, started by
// tests/integration/redis-tests.sh.
#include "engine/session.hpp"
#include "redis_helpers.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <thread>

using namespace rampart;
using namespace rampart::test;

namespace {

// Only the flood check of those that use Redis; the clients are strangers.
std::shared_ptr<const Config> flood_config(const std::string& settings)
{
    return redis_config("flood", {"flood"}, "[network]\ninternal = []\n[flood]\n" + settings);
}

// A connection from `ip` that has been answered MAIL FROM, the connect
// pipeline's reply being in by then (a client takes that long to talk).
struct Open {
    Session s;
    Answer mail;
    Open(const std::shared_ptr<const Runtime>& rt, const std::string& ip) : s(rt)
    {
        s.connect(IpAddress::parse(ip), "client.example");
        s.helo("client.example");
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        mail = s.mail("<a@sender.example>", "", "");
    }
};

} // namespace

TEST_CASE("flood: past flood.ip_concurrency open connections across nodes, a new one's mail is tempfailed")
{
    auto cfg = flood_config("ip_concurrency = 2\nnet_concurrency = 3\n");
    auto node_a = runtime(cfg), node_b = runtime(cfg);
    auto one = std::make_unique<Open>(node_a, "203.0.113.5");
    Open two(node_b, "203.0.113.5");
    CHECK(one->mail.kind == Answer::Kind::proceed);
    CHECK(two.mail.kind == Answer::Kind::proceed);
    Open three(node_a, "203.0.113.5");
    CHECK(three.mail.kind == Answer::Kind::tempfail);
    CHECK(three.mail.text == cfg->reply_flood.substr(6));
    Open neighbour(node_b, "203.0.113.6"); // the network's third
    CHECK(neighbour.mail.kind == Answer::Kind::proceed);
    Open fourth(node_b, "203.0.113.7"); // the network's fourth
    CHECK(fourth.mail.kind == Answer::Kind::tempfail);
    CHECK(node_a->leases->size() == 1); // the refused one took no lease
    // A connection that closes gives its lease back.
    one->s.close();
    one.reset();
    node_a->store->flush_writes();
    Open again(node_a, "203.0.113.5");
    CHECK(again.mail.kind == Answer::Kind::proceed);
    Open full(node_b, "203.0.113.8"); // the network has three again
    CHECK(full.mail.kind == Answer::Kind::tempfail);
    for (Session* s : {&two.s, &three.s, &neighbour.s, &fourth.s, &again.s, &full.s})
        s->close();
}

TEST_CASE("flood: leases a dead node left expire, and a live node renews its own")
{
    auto cfg = flood_config("ip_concurrency = 1\nnet_concurrency = 0\nlease_s = 5\n");
    auto rt = runtime(cfg);
    const auto ip = IpAddress::parse("198.51.100.20");
    const auto net = network_of(*ip, 24, 64);
    const auto key = rt->keys.conc_ip(*ip, net);
    // A node that died with a connection open: its lease runs out in 1.5 s.
    const auto time = redis(*rt, {"TIME"});
    const auto now_ms = std::stoll(time.elements.at(0).str) * 1000 + std::stoll(time.elements.at(1).str) / 1000;
    redis(*rt, {"ZADD", key, std::to_string(now_ms + 1500), "dead-node:1:1"});
    CHECK(Open(rt, "198.51.100.20").mail.kind == Answer::Kind::tempfail);
    std::this_thread::sleep_for(std::chrono::milliseconds(1600));
    Open live(rt, "198.51.100.20");
    CHECK(live.mail.kind == Answer::Kind::proceed);
    CHECK(redis(*rt, {"ZSCORE", key, "dead-node:1:1"}).is_nil());
    const auto before = std::stoll(redis(*rt, {"ZRANGE", key, "0", "0", "WITHSCORES"}).elements.at(1).str);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    rt->leases->renew();
    const auto after = std::stoll(redis(*rt, {"ZRANGE", key, "0", "0", "WITHSCORES"}).elements.at(1).str);
    CHECK(after > before);
    live.s.close();
}

TEST_CASE("flood: recipients past flood.rcpts_per_message and per connection get 452")
{
    auto cfg = flood_config("ip_concurrency = 0\nnet_concurrency = 0\nrcpts_per_message = 3\nrcpts_per_connection = "
                            "5\n");
    auto rt = runtime(cfg);
    CHECK(rt->leases == nullptr); // no concurrency counted: no leases
    Session s(rt);
    s.connect(IpAddress::parse("203.0.113.50"), "client.example");
    s.helo("client.example");
    s.mail("<a@sender.example>", "", "");
    for (int i = 0; i < 3; ++i)
        CHECK(s.rcpt("<r" + std::to_string(i) + "@isp.example>").kind == Answer::Kind::proceed);
    const auto fourth = s.rcpt("<r3@isp.example>");
    CHECK(fourth.kind == Answer::Kind::tempfail);
    CHECK(fourth.code == "452");
    CHECK(fourth.xcode == "4.5.3");
    s.header("Subject", "x");
    s.body("x\r\n");
    CHECK(s.eom("Q").answer.kind == Answer::Kind::accept); // for the three
    s.mail("<a@sender.example>", "", "");
    CHECK(s.rcpt("<s0@isp.example>").kind == Answer::Kind::proceed);
    CHECK(s.rcpt("<s1@isp.example>").kind == Answer::Kind::proceed);
    CHECK(s.rcpt("<s2@isp.example>").kind == Answer::Kind::tempfail); // the connection's sixth
    s.close();
}
