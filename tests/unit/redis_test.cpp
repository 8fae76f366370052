// Integration tests against a real redis-server, started by
// tests/integration/redis-tests.sh, which passes its port in REDIS_PORT.
#include "auth/batv.hpp"
#include "engine/session.hpp"
#include "redis_helpers.hpp"
#include "store/reputation.hpp"
#include "temp_dir.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

using namespace rampart;
using namespace rampart::test;

namespace {

// A configuration on the test Redis with a prefix of its own, so tests do not see each other's keys.
std::shared_ptr<const Config> base_config(const std::string& extra = "", const std::string& redis_extra = "")
{
    // The content checks are off: these messages are not written to pass them.
    return config("[content]\nenabled = false\n[rules]\nenabled = false\n" + redis_section("t", redis_extra) + extra);
}

void list_add(const Runtime& rt, ListKind kind, bool block, const std::string& value)
{
    Batch b;
    b.add({"SADD", rt.keys.list(kind, block), value});
    b.add({"INCR", rt.keys.list_version()});
    run(*rt.store, b);
    REQUIRE(rt.lists->refresh());
}

struct Message {
    std::string ip = "192.0.2.10";
    std::string sender = "<a@example.net>";
    std::vector<std::string> rcpts = {"<b@example.org>"};
    std::string body = "hello\r\n";
};

struct Result {
    Answer connect, mail;
    std::vector<Answer> rcpt;
    Outcome eom;
};

// One connection with one message, closed as the MTA closes it.
Result send(const std::shared_ptr<const Runtime>& rt, const Message& m)
{
    Session s(rt);
    Result r;
    r.connect = s.connect(IpAddress::parse(m.ip), "client.example.net");
    if (!r.connect.settles()) {
        s.helo("client.example.net");
        r.mail = s.mail(m.sender, "", "");
        if (!r.mail.settles()) {
            for (const auto& rc : m.rcpts)
                r.rcpt.push_back(s.rcpt(rc));
            s.header("Subject", "test");
            s.body(m.body);
            r.eom = s.eom("QID1");
        }
    }
    s.close();
    return r;
}

// Call i of thread t: a counter of the thread's own and an echo, so that
// its replies show whose they are and in which order they came.
Batch numbered_call(const std::string& prefix, int t, int i)
{
    Batch b;
    b.add({"INCR", prefix + std::to_string(t)});
    b.add({"ECHO", std::to_string(t) + ":" + std::to_string(i)});
    return b;
}

bool answers_call(const rampart::Result<std::vector<Reply>>& r, int t, int i)
{
    return r && r->size() == 2 && r->at(0).as_integer() == i + 1 &&
           r->at(1).str == std::to_string(t) + ":" + std::to_string(i);
}

} // namespace

TEST_CASE("GCRA allows the burst, then tempfails with a retry time; each reply says how long a counter stays full")
{
    auto cfg = base_config();
    Store store(*cfg);
    for (int i = 1; i <= 6; ++i) {
        Batch b;
        b.eval(Script::gcra, {"t:gcra:{x}:a", "t:gcra:{x}:b"}, {"12000000", "5", "1000000", "100"}); // 5/1m, burst 5
        auto r = run(store, b);
        CAPTURE(i);
        REQUIRE(r[0].type == Reply::Type::array);
        REQUIRE(r[0].elements.size() == 3);
        CHECK(r[0].elements[2].as_integer() == 0); // the roomy counter
        if (i < 5) {
            CHECK(r[0].elements[0].as_integer() == 0);
            CHECK(r[0].elements[1].as_integer() == 0);
        } else { // the fifth event fills the burst; the sixth is refused
            CHECK(r[0].elements[0].as_integer() == (i == 5 ? 0 : 1));
            CHECK(r[0].elements[1].as_integer() > 0);
            CHECK(r[0].elements[1].as_integer() <= 12000);
        }
    }
    Batch b; // the refused call advanced neither counter
    b.eval(Script::rate_peek, {"t:gcra:{x}:b"}, {"1000000", "100"});
    CHECK(run(store, b)[0].elements[0].as_integer() == 95);
}

TEST_CASE("a script cache flushed under us is reloaded (NOSCRIPT)")
{
    auto cfg = base_config();
    Store store(*cfg);
    Batch g;
    g.eval(Script::gcra, {"t:noscript:{x}"}, {"1000000", "100"});
    run(store, g);
    Batch flush;
    flush.add({"SCRIPT", "FLUSH"});
    run(store, flush);
    auto r = run(store, g);
    REQUIRE(r[0].type == Reply::Type::array);
    CHECK(r[0].elements[0].as_integer() == 0);
}

TEST_CASE("block-listed client IP is rejected at connect, before any message")
{
    auto rt = runtime(base_config());
    list_add(*rt, ListKind::ip, true, "192.0.2.0/24");
    Message m;
    auto r = send(rt, m);
    CHECK(r.connect.kind == Answer::Kind::reject);
    CHECK(r.connect.code == "550");
    CHECK(r.connect.text == "Access denied by local policy");
    m.ip = "198.51.100.1";
    CHECK(send(rt, m).connect.kind == Answer::Kind::proceed);
}

TEST_CASE("batv: an allow-listed client's bounce is not judged, and a valid tag is still stripped")
{
    TempDir dir{"batv-allow"};
    auto rt = runtime(base_config("[batv]\nenabled = true\nkey_file = \"" +
                                  dir.write("batv.keys", "5 correct horse battery staple\n") +
                                  "\"\ndomains = [\"example.com\"]\nenforce = [\"example.com\"]\n"));
    list_add(*rt, ListKind::ip, false, "192.0.2.99"); // the backup MX, say
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    const std::string tagged = *batv::sign(*rt->batv_keys, "alice@example.com", batv::day_of(now), 7);
    Session s(rt);
    s.connect(IpAddress::parse("192.0.2.99"), "backup-mx.example");
    s.mail("<>", "", "");
    CHECK(s.rcpt("<bob@example.com>").kind == Answer::Kind::proceed); // untagged: not judged
    CHECK(s.rcpt("<" + tagged + ">").kind == Answer::Kind::proceed);
    const auto out = s.eom("Q");
    CHECK(out.answer.kind == Answer::Kind::accept);
    REQUIRE(out.recipient_changes.size() == 1); // delivered to the plain address
    CHECK(out.recipient_changes[0].to == "alice@example.com");
    s.close();
}

TEST_CASE("block-listed sender is rejected at MAIL FROM; domains cover subdomains")
{
    auto rt = runtime(base_config());
    list_add(*rt, ListKind::from, true, "spam.example");
    Message m;
    m.sender = "<X@Mail.Spam.Example>";
    auto r = send(rt, m);
    CHECK(r.mail.kind == Answer::Kind::reject);
    CHECK(r.mail.xcode == "5.7.1");
    m.sender = "<ok@example.net>";
    CHECK(send(rt, m).mail.kind == Answer::Kind::proceed);
}

TEST_CASE("block-listed recipient is refused alone; the others still get the message")
{
    auto rt = runtime(base_config());
    list_add(*rt, ListKind::rcpt, true, "nobody@example.org");
    Message m;
    m.rcpts = {"<nobody@example.org>", "<b@example.org>"};
    auto r = send(rt, m);
    REQUIRE(r.rcpt.size() == 2);
    CHECK(r.rcpt[0].kind == Answer::Kind::reject);
    CHECK(r.rcpt[1].kind == Answer::Kind::proceed);
    CHECK(r.eom.answer.kind == Answer::Kind::accept);
}

TEST_CASE("allow-listed client IP settles the message as clean, even GTUBE")
{
    auto rt = runtime(base_config());
    list_add(*rt, ListKind::ip, false, "192.0.2.10");
    Message m;
    m.body = kGtube;
    auto r = send(rt, m);
    CHECK(r.eom.answer.kind == Answer::Kind::accept);
    const auto* st = find_edit(r.eom, HeaderEdit::Op::add, "X-Spam-Status");
    REQUIRE(st);
    CHECK(st->value.starts_with("No"));
}

TEST_CASE("a burst of messages from one IP over ratelimit.ip_messages gets 451 4.7.1 at MAIL")
{
    auto rt = runtime(base_config("[ratelimit]\nip_messages = \"3/1m\"\nip_messages_burst = 3\n"));
    Message m;
    for (int i = 1; i <= 5; ++i) {
        CAPTURE(i);
        auto r = send(rt, m);
        if (i <= 3) {
            CHECK(r.mail.kind == Answer::Kind::proceed);
        } else {
            CHECK(r.mail.kind == Answer::Kind::tempfail);
            CHECK(r.mail.code == "451");
            CHECK(r.mail.xcode == "4.7.1");
            CHECK(r.mail.text.find("Rate limit") != std::string::npos);
        }
    }
    m.ip = "198.51.100.1"; // another client is not affected
    CHECK(send(rt, m).mail.kind == Answer::Kind::proceed);
}

TEST_CASE("per-sender limit follows the sender across client IPs; the null sender is not limited")
{
    auto rt = runtime(base_config("[ratelimit]\nsender_messages = \"2/1h\"\nsender_messages_burst = 2\n"));
    Message m;
    m.sender = "<bot@example.net>";
    for (int i = 1; i <= 3; ++i) {
        m.ip = "203.0.113." + std::to_string(i);
        CHECK(send(rt, m).mail.kind == (i <= 2 ? Answer::Kind::proceed : Answer::Kind::tempfail));
    }
    m.sender = "<>";
    for (int i = 0; i < 3; ++i)
        CHECK(send(rt, m).mail.kind == Answer::Kind::proceed);
}

TEST_CASE("connections over ratelimit.ip_connections are tempfailed at MAIL")
{
    auto rt = runtime(base_config("[ratelimit]\nip_connections = \"2/1m\"\nip_connections_burst = 2\n"));
    Message m;
    CHECK(send(rt, m).mail.kind == Answer::Kind::proceed);
    CHECK(send(rt, m).mail.kind == Answer::Kind::proceed);
    auto r = send(rt, m);
    CHECK(r.connect.kind == Answer::Kind::proceed); // counted at connect, answered at MAIL
    CHECK(r.mail.kind == Answer::Kind::tempfail);
}

TEST_CASE("reputation: an IP whose verdicts were spam scores as spam at connect")
{
    auto rt = runtime(
        base_config("[reputation]\nmin_messages = 5\nip_weight = 4.0\nnet_weight = 2.0\n[action]\nclean = \"tag\"\n"));
    const auto ip = IpAddress::parse("192.0.2.10");
    const auto net = network_of(*ip, 24, 64);
    Message test_message;
    test_message.body = kGtube;
    for (int i = 0; i < 6; ++i)
        send(rt, test_message); // GTUBE forces its category: it says nothing of the sender
    Message m;
    CHECK(find_edit(send(rt, m).eom, HeaderEdit::Op::add, "X-Spam-Status")->value == "No, score=0.00");
    rt->store->flush_writes();

    Batch seed; // six spam verdicts, as the end-of-message pipeline records them
    for (int i = 0; i < 6; ++i)
        for (const auto& key : {rt->keys.rep_ip(*ip, net), rt->keys.rep_net(net)})
            reputation::add(seed, key, true, std::chrono::system_clock::now(), 259200, 3600);
    run(*rt->store, seed);
    // The clean verdict just recorded makes the share 6/7: scores scale with (2s - 1).
    auto r = send(rt, m);
    CHECK(r.eom.answer.kind == Answer::Kind::accept);
    const auto* sym = find_edit(r.eom, HeaderEdit::Op::add, "X-Rampart-Symbols");
    REQUIRE(sym);
    CHECK(sym->value.find("RAMPART_REP_IP_SPAM(2.86)") != std::string::npos);
    CHECK(sym->value.find("RAMPART_REP_NET_SPAM(1.43)") != std::string::npos);
    m.ip = "198.51.100.1"; // a stranger has no reputation yet
    CHECK(find_edit(send(rt, m).eom, HeaderEdit::Op::add, "X-Spam-Status")->value == "No, score=0.00");
}

TEST_CASE("reputation: a clean history scores below zero")
{
    auto rt = runtime(base_config("[reputation]\nmin_messages = 3\n"));
    Message m;
    m.ip = "203.0.113.9";
    for (int i = 0; i < 3; ++i) {
        send(rt, m);
        rt->store->flush_writes();
    }
    auto r = send(rt, m);
    CHECK(find_edit(r.eom, HeaderEdit::Op::add, "X-Spam-Status")->value == "No, score=-4.50");
}

TEST_CASE("reputation counts halve every half-life, across epochs, with plain commands")
{
    auto rt = runtime(base_config());
    const std::string key = rt->keys.rep_net(*Cidr::parse("198.51.100.0/24"));
    using std::chrono::hours;
    constexpr std::int64_t h = 3600;
    // One hour before an epoch ends (epochs are 32 half-lives of 1 h).
    const reputation::Time t0{std::chrono::seconds(32 * h * 1000) - hours(1)};
    const auto read = [&](reputation::Time at, std::int64_t half_life = 3600) {
        Batch b;
        reputation::read(b, key, at, half_life);
        return reputation::counts(run(*rt->store, b).at(0), at, half_life);
    };
    const auto add = [&](bool spam, reputation::Time at, double n) {
        Batch b;
        reputation::add(b, key, spam, at, h, 86400 * 30, n);
        run(*rt->store, b);
    };
    add(true, t0, 8);
    CHECK(read(t0).spam == doctest::Approx(8));
    CHECK(read(t0 + hours(1)).spam == doctest::Approx(4)); // read from the next epoch
    add(false, t0 + hours(1), 4);
    add(true, t0 + hours(1), 1);
    auto n = read(t0 + hours(3));
    CHECK(n.spam == doctest::Approx(5.0 / 4));
    CHECK(n.clean == doctest::Approx(1.0));
    CHECK(read(t0 + hours(3), 7200).clean == 0); // another half-life: the counts start over
    // A verdict two epochs later drops the oldest epoch's fields; what is
    // kept has decayed by 2^-32 or more anyway.
    add(false, t0 + hours(34), 1);
    CHECK(read(t0 + hours(34)).clean == doctest::Approx(1.0));
    CHECK(redis(*rt, {"HLEN", key}).as_integer() == 3); // c and s of the epoch before, c of this one
    CHECK(redis(*rt, {"TTL", key}).as_integer() > 86400 * 29);
    CHECK(redis(*rt, {"TYPE", key}).str == "hash");
}

TEST_CASE("the MTA waits for no Redis round trip before end of message; the record goes behind")
{
    auto rt = runtime(base_config("", "timeout_ms = 5000\n"));
    send(rt, Message{}); // connected, scripts loaded
    rt->store->flush_writes();
    const auto before = rt->store->counters().round_trips;
    Store admin(*rt->config);
    Batch pause;
    pause.add({"CLIENT", "PAUSE", "1500", "ALL"});
    run(admin, pause);
    const auto start = std::chrono::steady_clock::now();
    Session s(rt);
    CHECK(s.connect(IpAddress::parse("192.0.2.10"), "x").kind == Answer::Kind::proceed);
    s.helo("x");
    CHECK(s.mail("<a@example.net>", "", "").kind == Answer::Kind::proceed);
    CHECK(s.rcpt("<b@example.org>").kind == Answer::Kind::proceed);
    s.header("Subject", "test");
    s.body("hello\r\n");
    const auto before_eom = std::chrono::steady_clock::now() - start;
    CHECK(before_eom < std::chrono::milliseconds(750)); // Redis holds every reply for 1.5 s
    auto out = s.eom("Q");
    CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(1000)); // it waited for them here
    CHECK(out.answer.kind == Answer::Kind::accept);
    CHECK(find_edit(out, HeaderEdit::Op::add, "X-Spam-Status")->value == "No, score=0.00");
    const auto trips = rt->store->counters().round_trips - before;
    // Connect's and MAIL FROM's pipelines, shared when they meet, and the end of the
    // message's (the recipient's mail bomb counters).
    CHECK(trips >= 2);
    CHECK(trips <= 3);
    rt->store->flush_writes();
    CHECK(rt->store->counters().round_trips - before == trips + 1); // and the verdict's record, sent behind
}

TEST_CASE("connect's counters and reputation read go in MAIL FROM's pipeline, or alone when the connection ends")
{
    auto rt = runtime(base_config("[flood]\nenabled = false\n"));
    const auto ip = IpAddress::parse("192.0.2.77");
    const auto net = network_of(*ip, 24, 64);
    const auto trips = [&] { return rt->store->counters().round_trips; };
    send(rt, Message{}); // connected, scripts loaded
    rt->store->flush_writes();
    {
        const auto before = trips();
        Session s(rt);
        CHECK(s.connect(ip, "x").kind == Answer::Kind::proceed);
        s.helo("x");
        CHECK(trips() == before); // held
        CHECK(s.mail("<held@example.net>", "", "").kind == Answer::Kind::proceed);
        CHECK(trips() == before + 1); // one round trip for connect's and MAIL FROM's commands
        CHECK(s.rcpt("<b@example.org>").kind == Answer::Kind::proceed);
        s.header("Subject", "test");
        s.body("hello\r\n");
        CHECK(s.eom("Q").answer.kind == Answer::Kind::accept);
        s.close();
        CHECK(redis(*rt, {"EXISTS", rt->keys.conn_rate_ip(*ip, net)}).as_integer() == 1);
        CHECK(redis(*rt, {"EXISTS", rt->keys.msg_rate_ip(*ip, net)}).as_integer() == 1);
    }
    redis(*rt, {"DEL", rt->keys.conn_rate_ip(*ip, net)});
    {
        const auto before = trips();
        Session s(rt);
        s.connect(ip, "x");
        s.helo("x");
        s.close(); // no MAIL FROM: the connection is charged all the same
        CHECK(trips() == before + 1);
        CHECK(redis(*rt, {"EXISTS", rt->keys.conn_rate_ip(*ip, net)}).as_integer() == 1);
    }
    // With concurrency limits on (for a client they count: not internal),
    // the lease must reach the fleet at connect: nothing is held.
    auto leased = runtime(base_config("[network]\ninternal = []\n"));
    send(leased, Message{});
    const auto before = leased->store->counters().round_trips;
    Session s(leased);
    s.connect(ip, "x");
    CHECK(leased->store->counters().round_trips == before + 1);
    s.close();
}

TEST_CASE("a counter filled by another node: Redis refuses the charge, and the node learns it")
{
    auto cfg = base_config("[ratelimit]\nsender_messages = \"2/1h\"\nsender_messages_burst = 2\n");
    auto node_a = runtime(cfg), node_b = runtime(cfg); // two nodes, one Redis
    Message m;
    m.sender = "<bot@example.net>";
    CHECK(send(node_a, m).mail.kind == Answer::Kind::proceed);
    CHECK(send(node_a, m).mail.kind == Answer::Kind::proceed);  // the counter is full now
    CHECK(send(node_a, m).mail.kind == Answer::Kind::tempfail); // node A knows it
    auto r = send(node_b, m); // node B does not, yet: it charges in passing, and Redis refuses
    CHECK(r.mail.kind == Answer::Kind::proceed);
    REQUIRE(r.rcpt.size() == 1);
    // Refused where the refusal is in by then; a message decided before it came is not held back.
    if (r.rcpt[0].settles())
        CHECK(r.rcpt[0].code == "451");
    else
        CHECK((r.eom.answer.kind == Answer::Kind::accept || r.eom.answer.code == "451"));
    CHECK(send(node_b, m).mail.kind == Answer::Kind::tempfail); // now node B knows too
    CHECK(node_b->limits->size() == 1);
}

TEST_CASE("a connection is counted when it connects, even one that never sends MAIL FROM")
{
    auto rt = runtime(base_config("[ratelimit]\nip_connections = \"2/1h\"\nip_connections_burst = 2\n"));
    for (int i = 0; i < 2; ++i) {
        Session s(rt);
        s.connect(IpAddress::parse("192.0.2.10"), "x");
        s.helo("x");
        s.close();
    }
    rt->store->flush_writes();
    Session s(rt);
    s.connect(IpAddress::parse("192.0.2.10"), "x");
    CHECK(s.mail("<a@example.net>", "", "").kind == Answer::Kind::tempfail);
    CHECK(s.mail("<b@example.net>", "", "").kind == Answer::Kind::tempfail); // the whole connection
    s.close();
}

TEST_CASE("the breaker opens when Redis dies and closes when it answers again")
{
    // A server that is not there, then the real one: reload-free recovery is
    // the Store's own business.
    auto dead =
        runtime(config("[redis]\nservers = [\"127.0.0.1:1\"]\nbreaker_failures = 2\nbreaker_cooldown_ms = 50\n"));
    Message m;
    send(dead, m);
    send(dead, m);
    CHECK(dead->store->breaker_open());
    CHECK(send(dead, m).mail.kind == Answer::Kind::tempfail);

    auto cfg = base_config("", "breaker_failures = 1\nbreaker_cooldown_ms = 50\n");
    Store store(*cfg);
    Batch ping;
    ping.add({"PING"});
    CHECK(store.execute(ping).ok());
    CHECK_FALSE(store.breaker_open());
}

TEST_CASE("a reload keeps the lists in memory even when the new Redis is unreachable")
{
    auto cfg = base_config();
    auto rt = Runtime::make(cfg);
    list_add(*rt, ListKind::ip, true, "192.0.2.0/24");
    auto moved = config("[redis]\nservers = [\"127.0.0.1:1\"]\nprefix = \"" + cfg->redis_prefix + "\"\n");
    auto next = Runtime::make(moved, rt.get());
    CHECK(next->store != rt->store);
    CHECK(next->lists->ip(*IpAddress::parse("192.0.2.99")).block);
    auto same = Runtime::make(base_config(), next.get()); // another prefix: other lists
    CHECK_FALSE(same->lists->ip(*IpAddress::parse("192.0.2.99")).block);
}

TEST_CASE("Redis down under on_failure=tempfail: a block-listed sender still gets its 550, the others 451")
{
    auto cfg = base_config();
    auto rt = Runtime::make(cfg);
    list_add(*rt, ListKind::from, true, "spammer@example.net");
    auto down = Runtime::make(config("[redis]\nservers = [\"127.0.0.1:1\"]\nprefix = \"" + cfg->redis_prefix + "\"\n"),
                              rt.get()); // the lists stay in memory
    Session s(down);
    s.connect(IpAddress::parse("192.0.2.10"), "x");
    s.helo("x");
    std::this_thread::sleep_for(std::chrono::milliseconds(100)); // connect's pipeline has failed by now
    const Answer blocked = s.mail("<spammer@example.net>", "", "");
    CHECK(blocked.kind == Answer::Kind::reject);
    CHECK(blocked.code == "550");
    const Answer other = s.mail("<a@example.net>", "", "");
    CHECK(other.kind == Answer::Kind::tempfail);
    CHECK(other.code == "451");
    s.close();
}

TEST_CASE("a phase asks for a reply only while its block list has entries")
{
    // Mail bombs and floods may answer any RCPT TO.
    auto rt = runtime(base_config("[mailbomb]\nenabled = false\n[flood]\nenabled = false\n"));
    REQUIRE(rt->lists->refresh());
    CHECK_FALSE(step_needs(*rt).reply_connect);
    CHECK_FALSE(step_needs(*rt).reply_helo);
    CHECK_FALSE(step_needs(*rt).reply_rcpt);
    list_add(*rt, ListKind::ip, true, "192.0.2.0/24");
    CHECK(step_needs(*rt).reply_connect);
    list_add(*rt, ListKind::helo, true, "bad.example");
    CHECK(step_needs(*rt).reply_helo);
    list_add(*rt, ListKind::rcpt, true, "x@example.org");
    CHECK(step_needs(*rt).reply_rcpt);
    list_add(*rt, ListKind::ip, false, "198.51.100.0/24"); // allow lists never answer early
    CHECK(step_needs(*rt).reply_connect);
}

TEST_CASE("a block found at a step without a reply is given at the next step, at the latest at end of message")
{
    auto rt = runtime(base_config());
    list_add(*rt, ListKind::helo, true, "bad.example");
    Session s(rt);
    CHECK(s.connect(IpAddress::parse("192.0.2.10"), "x").kind == Answer::Kind::proceed);
    CHECK(s.helo("mx.bad.example").kind == Answer::Kind::reject); // negotiated without a reply: not seen
    CHECK(s.mail("<a@example.net>", "", "").kind == Answer::Kind::reject);
    s.rcpt("<b@example.org>");
    s.body("hello");
    auto out = s.eom("Q");
    CHECK(out.answer.kind == Answer::Kind::reject);
    CHECK(out.answer.code == "550");
    CHECK(out.edits.empty());
}

TEST_CASE("concurrent callers share round trips and each gets its own replies")
{
    auto cfg = base_config();
    Store store(*cfg);
    constexpr int kThreads = 16, kCalls = 200;
    const auto before = store.counters().round_trips;
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < kCalls; ++i) {
                if (!answers_call(store.execute(numbered_call("t:shared:", t, i)), t, i))
                    ++wrong;
            }
        });
    for (auto& th : threads)
        th.join();
    CHECK(wrong == 0);
    const auto trips = store.counters().round_trips - before;
    INFO("round trips for ", kThreads * kCalls, " calls: ", trips);
    CHECK(trips <= static_cast<std::uint64_t>(kThreads * kCalls));
    CHECK(trips >= 1);
}

TEST_CASE("batches submitted from many threads at once each get their own replies, in order")
{
    auto cfg = base_config();
    Store store(*cfg);
    constexpr int kThreads = 16, kCalls = 200;
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            std::vector<std::shared_ptr<const Pending>> sent;
            for (int i = 0; i < kCalls; ++i) { // several in flight per thread before any is read
                sent.push_back(store.submit(numbered_call("t:submit:", t, i)));
            }
            for (int i = 0; i < kCalls; ++i)
                if (!answers_call(sent[static_cast<std::size_t>(i)]->wait(), t, i))
                    ++wrong;
        });
    for (auto& th : threads)
        th.join();
    CHECK(wrong == 0);
}

TEST_CASE("a batch submitted to a Redis that does not answer fails after redis.timeout_ms, and so does the next")
{
    auto cfg = base_config("", "timeout_ms = 200\nbreaker_failures = 100\n");
    Store store(*cfg);
    Batch ping;
    ping.add({"PING"});
    REQUIRE(store.submit(ping)->wait().ok()); // connected
    Store admin(*cfg);
    Batch pause;
    pause.add({"CLIENT", "PAUSE", "600", "ALL"});
    run(admin, pause);
    auto first = store.submit(ping);
    auto second = store.submit(ping);
    CHECK_FALSE(first->wait().ok());
    CHECK_FALSE(second->wait().ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    CHECK(store.submit(ping)->wait().ok()); // a new connection once Redis answers again
}

TEST_CASE("an allow-listed sender spends no rate counter")
{
    auto rt = runtime(base_config("[ratelimit]\nsender_messages = \"1/1h\"\nsender_messages_burst = 1\n"));
    list_add(*rt, ListKind::from, false, "vip@example.net");
    Message m;
    m.sender = "<vip@example.net>";
    for (int i = 0; i < 3; ++i)
        CHECK(send(rt, m).mail.kind == Answer::Kind::proceed);
}

TEST_CASE("a connection over its limit: every MAIL is refused, a blocked sender still with 550")
{
    auto rt = runtime(base_config("[ratelimit]\nip_connections = \"1/1h\"\nip_connections_burst = 1\n"));
    list_add(*rt, ListKind::from, true, "spammer@example.net");
    send(rt, Message{});
    Session s(rt);
    s.connect(IpAddress::parse("192.0.2.10"), "x");
    CHECK(s.mail("<a@example.net>", "", "").kind == Answer::Kind::tempfail);
    CHECK(s.mail("<b@example.net>", "", "").kind == Answer::Kind::tempfail);
    CHECK(s.mail("<spammer@example.net>", "", "").kind == Answer::Kind::reject);
}

TEST_CASE("a connection whose first MAIL a message counter refused is still counted")
{
    auto rt = runtime(base_config("[ratelimit]\nip_messages = \"1/1h\"\nip_messages_burst = 1\n"
                                  "ip_connections = \"10/1h\"\nip_connections_burst = 10\n"));
    send(rt, Message{}); // connection 1, message 1: the message counter is now full
    {
        Session s(rt); // connection 2: counted; its message refused by the message counter
        s.connect(IpAddress::parse("192.0.2.10"), "x");
        CHECK(s.mail("<a@example.net>", "", "").kind == Answer::Kind::tempfail);
        s.close();
    }
    rt->store->flush_writes();
    const auto ip = IpAddress::parse("192.0.2.10");
    Batch peek;
    peek.eval(Script::rate_peek, {rt->keys.conn_rate_ip(*ip, network_of(*ip, 24, 64))}, {"360000000", "10"});
    auto r = run(*rt->store, peek);
    REQUIRE(r[0].elements.size() == 2);
    CHECK(r[0].elements[0].as_integer() == 8); // two connections counted, room for eight
}
