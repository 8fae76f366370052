// Integration tests against a real DNS server (tests/dns/testdns.py serving
// tests/dns/test.zone), started by tests/integration/dns-tests.sh, which
// passes its port in DNS_PORT and its query log in DNS_LOG.
#include "auth/spf.hpp"
#include "dns/resolver.hpp"
#include "engine/session.hpp"
#include "helpers.hpp"
#include "redis_helpers.hpp"
#include "store/dns_cache.hpp"

#include <doctest/doctest.h>

// dkim.h is C99: it says _Bool where C++ says bool.
#define _Bool bool
#include <opendkim/dkim.h>
#undef _Bool

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>

using namespace rampart;
using namespace rampart::test;
using Clock = std::chrono::steady_clock;

namespace {

std::string source_path(const std::string& rel) { return std::string(RAMPART_SRCDIR) + "/" + rel; }

std::string dns_port()
{
    const char* p = std::getenv("DNS_PORT");
    if (p == nullptr)
        FAIL("DNS_PORT is not set; run these tests through tests/integration/dns-tests.sh");
    return p;
}

// How many queries for `name` (with its trailing dot) of `type` reached the server.
int queries_for(const std::string& name, const std::string& type)
{
    const char* log = std::getenv("DNS_LOG");
    REQUIRE(log);
    std::ifstream in(log);
    int n = 0;
    for (std::string line; std::getline(in, line);)
        n += line == name + ". " + type;
    return n;
}

std::string dns_settings(const std::string& extra = "")
{
    // 200 ms for a try unless `extra` says otherwise
    const bool timeout = extra.find("timeout_ms") != std::string::npos;
    return "[dns]\nservers = [\"127.0.0.1:" + dns_port() + "\"]\n" + (timeout ? "" : "timeout_ms = 200\n") +
           "tries = 2\n" + extra;
}

std::shared_ptr<const Config> dns_config(const std::string& extra = "") { return config(dns_settings(extra)); }

const dns::Answer& resolve(dns::Resolver& r, const std::string& name, dns::Type t)
{
    static thread_local std::shared_ptr<const dns::Lookup> keep;
    keep = r.lookup(name, t);
    REQUIRE(keep->wait_until(Clock::now() + std::chrono::seconds(5)));
    return keep->answer();
}

std::vector<std::string> data_of(const dns::Answer& a)
{
    std::vector<std::string> out;
    for (const auto& r : a.records)
        out.push_back(r.data);
    std::sort(out.begin(), out.end());
    return out;
}

} // namespace

TEST_CASE("dns: answers of every type the checks read, CNAMEs followed, TXT strings joined")
{
    dns::Resolver r(*dns_config());
    struct Case {
        const char* name;
        dns::Type type;
        dns::Status status;
        std::vector<std::string> want;
    };
    const Case cases[] = {
        {"a.test", dns::Type::a, dns::Status::ok, {"192.0.2.1"}},
        {"A.Test.", dns::Type::a, dns::Status::ok, {"192.0.2.1"}}, // case and the root dot do not matter
        {"a.test", dns::Type::aaaa, dns::Status::ok, {"2001:db8::1"}},
        {"two.test", dns::Type::a, dns::Status::ok, {"192.0.2.1", "192.0.2.2"}},
        {"txt.test", dns::Type::txt, dns::Status::ok, {"v=spf1 ip4:192.0.2.0/24 -all"}},
        {"alias.test", dns::Type::a, dns::Status::ok, {"192.0.2.1"}},
        {"10.2.0.192.bl.test", dns::Type::a, dns::Status::ok, {"127.0.0.2"}},
        {"nothing.test", dns::Type::a, dns::Status::nxdomain, {}},
        {"a.test", dns::Type::txt, dns::Status::nodata, {}},
        {"servfail.test", dns::Type::a, dns::Status::servfail, {}},
        {"x.servfail.test", dns::Type::txt, dns::Status::servfail, {}},
    };
    for (const auto& c : cases) {
        const std::string name = c.name;
        CAPTURE(name);
        CAPTURE(dns::to_string(c.type));
        const auto& a = resolve(r, c.name, c.type);
        CHECK(dns::to_string(a.status) == dns::to_string(c.status));
        CHECK(data_of(a) == c.want);
        CHECK(a.temporary() == (c.status == dns::Status::servfail));
    }
}

TEST_CASE("dns: a negative answer is cached for its SOA's negative TTL, a positive one for its own")
{
    dns::Resolver r(*dns_config());
    const auto& nx = resolve(r, "negative.test", dns::Type::a);
    CHECK(nx.status == dns::Status::nxdomain);
    CHECK(nx.ttl == 30); // the SOA's minimum, below its TTL of 300
    const auto& pos = resolve(r, "two.test", dns::Type::a);
    CHECK(pos.ttl == 300);
    CHECK_FALSE(pos.cached);
}

TEST_CASE("dns: a second lookup is answered from the cache until the TTL runs out")
{
    dns::Resolver r(*dns_config());
    const int before = queries_for("short.test", "A");
    CHECK_FALSE(resolve(r, "short.test", dns::Type::a).cached);
    const auto& again = resolve(r, "short.test", dns::Type::a);
    CHECK(again.cached);
    CHECK(data_of(again) == std::vector<std::string>{"192.0.2.9"});
    CHECK(queries_for("short.test", "A") == before + 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100)); // its TTL is 1 s
    CHECK_FALSE(resolve(r, "short.test", dns::Type::a).cached);
    CHECK(queries_for("short.test", "A") == before + 2);
    CHECK(r.counters().cache_hits == 1);
}

TEST_CASE("dns: lookups of one name in flight together are one query")
{
    dns::Resolver r(*dns_config("timeout_ms = 2000\n")); // longer than the server's delay: one try
    const int before = queries_for("shared.slow.test", "A");
    auto one = r.lookup("shared.slow.test", dns::Type::a);
    auto two = r.lookup("shared.slow.test", dns::Type::a);
    CHECK(one == two);
    REQUIRE(two->wait_until(Clock::now() + std::chrono::seconds(5)));
    CHECK(queries_for("shared.slow.test", "A") == before + 1);
}

TEST_CASE("dns: lookups asked together are answered together, not one after the other")
{
    // Each name is answered 300 ms late: 20 of them one after the other
    // would take 6 s; together they take one delay.
    dns::Resolver r(*dns_config("timeout_ms = 2000\n"));
    std::vector<std::shared_ptr<const dns::Lookup>> all;
    const auto start = Clock::now();
    for (int i = 0; i < 20; ++i)
        all.push_back(r.lookup("p" + std::to_string(i) + ".slow.test", dns::Type::a));
    for (const auto& l : all) {
        REQUIRE(l->wait_until(start + std::chrono::seconds(10)));
        CHECK(l->answer().status == dns::Status::nxdomain);
    }
    CHECK(Clock::now() - start < std::chrono::seconds(3));
}

TEST_CASE("dns: a server that never answers costs the timeout, and is remembered for dns.failure_ttl_s")
{
    dns::Resolver r(*dns_config("failure_ttl_s = 30\n"));
    const auto start = Clock::now();
    const auto& a = resolve(r, "dead.test", dns::Type::a);
    const auto took = Clock::now() - start;
    CHECK(a.status == dns::Status::timeout);
    CHECK(a.temporary());
    // Two tries: 200 ms, then 400 ms.
    CHECK(took >= std::chrono::milliseconds(500));
    CHECK(took < std::chrono::milliseconds(3000));
    const auto again_start = Clock::now();
    const auto& again = resolve(r, "dead.test", dns::Type::a);
    CHECK(again.status == dns::Status::timeout);
    CHECK(again.cached);
    CHECK(Clock::now() - again_start < std::chrono::milliseconds(100));
    CHECK(r.counters().timeouts == 1);
}

TEST_CASE("dns: an answer too big for UDP comes over TCP")
{
    dns::Resolver r(*dns_config());
    const auto& a = resolve(r, "big.test", dns::Type::txt);
    REQUIRE(a.status == dns::Status::ok);
    CHECK(a.records.size() == 5);
    for (const auto& rec : a.records)
        CHECK(rec.data.size() == 299);
}

TEST_CASE("dns: a name that cannot be sent is a definite NXDOMAIN at once, and nothing is sent")
{
    dns::Resolver r(*dns_config());
    for (const std::string& bad : {std::string(), std::string("a..test"), std::string(64, 'x') + ".test",
                                   std::string(300, 'a'), std::string("sp ace.test")}) {
        CAPTURE(bad);
        auto l = r.lookup(bad, dns::Type::a);
        CHECK(l->ready());
        CHECK(l->answer().status == dns::Status::nxdomain); // no such name can exist: definite, not temporary
    }
    CHECK(r.counters().queries == 0);
}

TEST_CASE("dns: the cache keeps at most dns.cache_entries names")
{
    dns::Resolver r(*dns_config("cache_entries = 2\n"));
    resolve(r, "a.test", dns::Type::a);
    resolve(r, "two.test", dns::Type::a);
    resolve(r, "txt.test", dns::Type::txt); // pushes a.test out
    CHECK(resolve(r, "txt.test", dns::Type::txt).cached);
    CHECK(resolve(r, "two.test", dns::Type::a).cached);
    CHECK_FALSE(resolve(r, "a.test", dns::Type::a).cached);
}

// ---- the fleet's cache in Redis ----

namespace {

// One node: its store and a resolver that shares answers through it.
struct Node {
    std::shared_ptr<Store> store;
    std::shared_ptr<RedisDnsCache> fleet;
    std::unique_ptr<dns::Resolver> resolver;

    explicit Node(const std::shared_ptr<const Config>& cfg)
        : store(std::make_shared<Store>(*cfg)), fleet(std::make_shared<RedisDnsCache>(store, Keys(cfg->redis_prefix))),
          resolver(std::make_unique<dns::Resolver>(*cfg, fleet))
    {
    }
};

} // namespace

TEST_CASE("dns.fleet_cache: what one node asked a server, another reads from Redis; failures stay each node's own")
{
    auto cfg = config(dns_settings("fleet_cache = true\n") + redis_section("dns"));
    Node a(cfg), b(cfg);
    const int two = queries_for("two.test", "A"), nx = queries_for("fleet-nx.test", "A"),
              sf = queries_for("servfail.test", "TXT");
    const auto& pos = resolve(*a.resolver, "two.test", dns::Type::a);
    CHECK_FALSE(pos.cached);
    CHECK(resolve(*a.resolver, "fleet-nx.test", dns::Type::a).status == dns::Status::nxdomain);
    CHECK(resolve(*a.resolver, "servfail.test", dns::Type::txt).status == dns::Status::servfail);
    a.store->flush_writes(); // the answers go to Redis behind the lookups

    const auto ttl = redis(*a.store, {"TTL", cfg->redis_prefix + "dns:1/two.test"}).as_integer();
    CHECK(ttl > 290);
    CHECK(ttl <= 300); // the record's TTL
    const auto nx_ttl = redis(*a.store, {"TTL", cfg->redis_prefix + "dns:1/fleet-nx.test"}).as_integer();
    CHECK(nx_ttl > 20);
    CHECK(nx_ttl <= 30); // the SOA's negative TTL
    CHECK(redis(*a.store, {"EXISTS", cfg->redis_prefix + "dns:16/servfail.test"}).as_integer() == 0);

    const auto& shared = resolve(*b.resolver, "two.test", dns::Type::a);
    CHECK(shared.status == dns::Status::ok);
    CHECK(shared.cached);
    CHECK(data_of(shared) == std::vector<std::string>{"192.0.2.1", "192.0.2.2"});
    CHECK(shared.ttl > 290);
    CHECK(shared.ttl <= 300);
    const auto& shared_nx = resolve(*b.resolver, "fleet-nx.test", dns::Type::a);
    CHECK(shared_nx.status == dns::Status::nxdomain);
    CHECK(shared_nx.records.empty());
    CHECK(resolve(*b.resolver, "servfail.test", dns::Type::txt).status == dns::Status::servfail);

    CHECK(queries_for("two.test", "A") == two + 1); // one query for the fleet
    CHECK(queries_for("fleet-nx.test", "A") == nx + 1);
    CHECK(queries_for("servfail.test", "TXT") == sf + 2); // a failure is asked by each node
    CHECK(b.resolver->counters().fleet_hits == 2);
    CHECK(b.resolver->counters().queries == 1);
    CHECK(a.resolver->counters().fleet_hits == 0);
}

TEST_CASE("dns.fleet_cache: a value that is not an answer, or a Redis that is down, only costs the query to DNS")
{
    auto cfg = config(dns_settings("fleet_cache = true\n") + redis_section("dns"));
    Node node(cfg);
    const std::string key = cfg->redis_prefix + "dns:1/a.test";
    const auto in_100s = std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count() +
        100);
    // First the value encode_answer writes, with one thing wrong.
    const std::string good = "r1 " + in_100s + " 0 1 1 9:192.0.2.7"; // a.test is 192.0.2.1: this says 192.0.2.7
    for (const std::string& bad : {std::string("garbage"), "r1 " + in_100s + " 0 1 1 9:not an ip",
                                   "r1 " + in_100s + " 0 1 28 9:192.0.2.7", // a record of another type
                                   "r1 " + in_100s + " 3 0",                // SERVFAIL is never shared
                                   std::string("r1 1 0 1 1 9:192.0.2.7"),   // expired in 1970
                                   "r1 " + in_100s + " 0 2 1 9:192.0.2.7",  // one record short
                                   good}) {
        CAPTURE(bad);
        node.store->flush_writes(); // the last round's answer is in Redis before this value goes over it
        redis(*node.store, {"SET", key, bad});
        dns::Resolver fresh(*cfg, node.fleet); // nothing in its own cache
        const int before = queries_for("a.test", "A");
        const auto& a = resolve(fresh, "a.test", dns::Type::a);
        CHECK(a.status == dns::Status::ok);
        if (bad == good) { // read, to show that the others were refused for what is wrong with them
            CHECK(data_of(a) == std::vector<std::string>{"192.0.2.7"});
            CHECK(queries_for("a.test", "A") == before);
            CHECK(fresh.counters().fleet_hits == 1);
            break;
        }
        CHECK(data_of(a) == std::vector<std::string>{"192.0.2.1"});
        CHECK(queries_for("a.test", "A") == before + 1);
        CHECK(fresh.counters().fleet_hits == 0);
    }
    redis(*node.store, {"SET", key, "garbage"});
    {
        dns::Resolver fresh(*cfg, node.fleet);
        resolve(fresh, "a.test", dns::Type::a);
    }
    node.store->flush_writes();
    CHECK(redis(*node.store, {"GET", key}).str.ends_with(" 0 1 1 9:192.0.2.1")); // the DNS answer replaced it

    auto down = config(dns_settings("fleet_cache = true\n") + redis_section("dns", "", "1"));
    Node alone(down);
    const int before = queries_for("two.test", "A");
    const auto start = Clock::now();
    CHECK(data_of(resolve(*alone.resolver, "two.test", dns::Type::a)) ==
          std::vector<std::string>{"192.0.2.1", "192.0.2.2"});
    CHECK(Clock::now() - start < std::chrono::seconds(2));
    CHECK(queries_for("two.test", "A") == before + 1);
}

// ---- DNS block and allow lists through a Session ----

namespace {

// Clean mail is tagged too, so that its symbols show; the HELO check is
// off (helo_test.cpp tests it).
const std::string kOnlyDns = kNoRedisChecks + "[helo]\nenabled = false\n[action]\nclean = \"tag\"\n";

struct Delivery {
    Answer connect, mail;
    Outcome out;
    std::string symbols;
};

struct Client {
    std::string ip;
    std::string helo = "client.example";
    std::string auth_user{};
};

// One message from `c` through a Session whose configuration adds `extra`
// to the DNS settings (with `dns_extra` in [dns]).
Delivery deliver(const Client& c, const std::string& extra, const std::string& dns_extra = "")
{
    Session s(runtime(config(kOnlyDns + "[spf]\nenabled = false\n" + dns_settings(dns_extra) + extra)));
    Delivery d;
    d.connect = s.connect(IpAddress::parse(c.ip), "client.example");
    s.helo(c.helo);
    d.mail = s.mail("<a@example.net>", "", c.auth_user);
    if (d.mail.settles())
        return d;
    s.rcpt("<b@example.org>");
    s.header("Subject", "hello");
    s.body("just a note\r\n");
    d.out = s.eom("Q1");
    if (const auto* e = find_edit(d.out, HeaderEdit::Op::add, "X-Rampart-Symbols"))
        d.symbols = e->value;
    return d;
}

Delivery deliver_from(const std::string& ip, const std::string& dnsbl, const std::string& dns_extra = "")
{
    return deliver({ip}, "[zombie]\nenabled = false\n[dnsbl]\n" + dnsbl, dns_extra);
}

} // namespace

TEST_CASE("dns.fleet_cache: a client listed on a block list, seen by one node, is known to the next without a query")
{
    const std::string settings =
        kOnlyDns + "[spf]\nenabled = false\n[zombie]\nenabled = false\n[dnsbl]\nzones = [\"bl.test*3\"]\n" +
        dns_settings("fleet_cache = true\n") + redis_section("dns");
    const int before = queries_for("10.2.0.192.bl.test", "A");
    for (int node = 0; node < 2; ++node) {
        CAPTURE(node);
        auto rt = runtime(config(settings)); // a node of its own: its own store, resolver and cache
        REQUIRE(rt->resolver->fleet());
        Session s(rt);
        s.connect(IpAddress::parse("192.0.2.10"), "client.example");
        s.helo("client.example");
        s.mail("<a@example.net>", "", "");
        s.rcpt("<b@example.org>");
        s.header("Subject", "hello");
        s.body("just a note\r\n");
        const auto out = s.eom("Q1");
        REQUIRE(find_edit(out, HeaderEdit::Op::add, "X-Rampart-Symbols"));
        CHECK(find_edit(out, HeaderEdit::Op::add, "X-Rampart-Symbols")->value == "RAMPART_RBL_BL_TEST(3.00)");
        CHECK(rt->resolver->counters().fleet_hits == static_cast<std::uint64_t>(node));
        s.close();
        rt->store->flush_writes();
    }
    CHECK(queries_for("10.2.0.192.bl.test", "A") == before + 1);
}

TEST_CASE("dnsbl: a listed client gets each list's symbol and weight; filters, masks and refusals are heeded")
{
    const std::string zones = R"(zones = ["bl.test=127.0.0.[2..3]*3", "B2:bl2.test*1.5", "WL:wl.test=127.0.10.2*-2",
                                  "MASK:bl.test&0x08*2"])";
    struct Case {
        const char* ip;
        const char* want; // in X-Rampart-Symbols
    };
    const Case cases[] = {
        {"192.0.2.10", "RAMPART_RBL_BL_TEST(3.00),RAMPART_RBL_B2(1.50)"},
        {"192.0.2.11", "none"},                   // 127.0.0.4: outside the filter, no 0x08 bit
        {"192.0.2.12", "none"},                   // 127.255.255.254: the list refused the query
        {"192.0.2.13", "RAMPART_RBL_MASK(2.00)"}, // 127.0.0.8: outside the filter, inside the mask
        {"192.0.2.20", "RAMPART_RWL_WL(-2.00)"},
        {"192.0.2.99", "none"},
        {"2001:db8::1", "RAMPART_RBL_BL_TEST(3.00)"},
    };
    for (const auto& c : cases) {
        const std::string ip = c.ip, want = c.want;
        CAPTURE(ip);
        CAPTURE(want);
        const auto d = deliver_from(c.ip, zones);
        CHECK(d.mail.kind == Answer::Kind::proceed);
        CHECK(d.symbols == c.want);
    }
}

TEST_CASE("dnsbl: weights reaching dnsbl.reject_score refuse the client at MAIL FROM")
{
    const std::string zones = R"(zones = ["bl.test*3", "bl2.test*2"]
reject_score = 5
)";
    const auto listed = deliver_from("192.0.2.10", zones);
    CHECK(listed.connect.kind == Answer::Kind::proceed); // the MTA did not wait at connect
    CHECK(listed.mail.kind == Answer::Kind::reject);
    CHECK(listed.mail.code == "550");
    CHECK(listed.mail.text == "Service unavailable; client listed by DNS block lists");
    const auto once = deliver_from("192.0.2.13", R"(zones = ["bl.test*3", "bl2.test*2"]
reject_score = 3
)");
    CHECK(once.mail.kind == Answer::Kind::reject); // one list of weight 3 is enough for 3
    const auto clean = deliver_from("192.0.2.99", zones);
    CHECK(clean.mail.kind == Answer::Kind::proceed);
    CHECK(clean.out.answer.kind == Answer::Kind::accept);
}

TEST_CASE("dnsbl: a list that fails is a temperror symbol; a tempfail only where dns.on_temperror says so")
{
    const std::string zones = R"(zones = ["broken.test", "silent.test", "bl.test*2"])";
    const auto accepted = deliver_from("192.0.2.10", zones);
    CHECK(accepted.out.answer.kind == Answer::Kind::accept);
    CHECK(accepted.symbols.find("RAMPART_RBL_BL_TEST(2.00)") != std::string::npos);
    CHECK(accepted.symbols.find("RAMPART_DNSBL_TEMPERROR(0.00)") != std::string::npos);

    const auto deferred = deliver_from("192.0.2.10", zones, "on_temperror = \"tempfail\"\n");
    CHECK(deferred.mail.kind == Answer::Kind::tempfail);
    CHECK(deferred.mail.code == "451");
    CHECK(deferred.mail.text == "DNS lookups failed, try again later");
}

TEST_CASE("dnsbl: with the DNS server silent, a message waits at most dns.budget_ms")
{
    // Every list is silent: each lookup would take 200 + 400 ms; the budget cuts it to 150 ms in all.
    const std::string zones = R"(zones = ["silent.test", "a.silent.test", "b.silent.test"])";
    const auto start = Clock::now();
    const auto d = deliver_from("192.0.2.77", zones, "budget_ms = 150\n");
    const auto took = Clock::now() - start;
    CHECK(d.out.answer.kind == Answer::Kind::accept);
    CHECK(d.symbols.find("RAMPART_DNSBL_TEMPERROR") != std::string::npos);
    CHECK(took < std::chrono::milliseconds(550));
}

// ---- zombie heuristics: reverse DNS ----

TEST_CASE("zombie: no PTR, a PTR that does not lead back, and names that look dynamic score")
{
    struct Case {
        const char* ip;
        const char* want;
    };
    const Case cases[] = {
        {"11.0.0.1", "none"},                         // mail.good.test, confirmed
        {"11.0.0.2", "RAMPART_RDNS_NONE(1.50)"},      // no PTR
        {"11.0.0.3", "RAMPART_RDNS_MISMATCH(1.00)"},  // fake.good.test -> 11.9.9.9
        {"11.0.0.4", "RAMPART_RDNS_DYNAMIC(1.50)"},   // 4-0-0-11.dyn.isp.test, confirmed
        {"11.0.0.5", "RAMPART_RDNS_DYNAMIC(1.50)"},   // dsl5.isp.test
        {"11.0.0.6", "RAMPART_RDNS_TEMPERROR(0.00)"}, // SERVFAIL
        {"11.0.0.7", "none"},                         // smtp.cable.test: the word is the provider's
        {"11.0.0.8", "none"},                         // two PTR names, the second leads back
        {"2a00::1", "none"},                          // v6.good.test, confirmed over AAAA
        {"10.1.2.3", "none"},                         // internal: not looked up
    };
    for (const auto& c : cases) {
        const std::string ip = c.ip, want = c.want;
        CAPTURE(ip);
        const auto d = deliver({ip}, "");
        CHECK(d.mail.kind == Answer::Kind::proceed);
        CHECK(d.symbols == want);
    }
    CHECK(queries_for("3.2.1.10.in-addr.arpa", "PTR") == 0);
}

TEST_CASE("zombie: zombie.reject refuses at MAIL FROM; authenticated and DNS-allowed clients are not judged")
{
    const std::string reject = "[zombie]\nreject = [\"no_ptr\", \"dynamic\"]\n";
    const auto none = deliver({"11.0.0.2"}, reject);
    CHECK(none.mail.kind == Answer::Kind::reject);
    CHECK(none.mail.xcode == "5.7.25");
    const auto dynamic = deliver({"11.0.0.5"}, reject);
    CHECK(dynamic.mail.kind == Answer::Kind::reject);
    CHECK(dynamic.mail.text == "Client host rejected: dynamic address, send through your provider's mail server");
    const auto mismatch = deliver({"11.0.0.3"}, reject); // not asked to refuse: scores only
    CHECK(mismatch.mail.kind == Answer::Kind::proceed);
    CHECK(mismatch.symbols == "RAMPART_RDNS_MISMATCH(1.00)");

    const auto submitter = deliver({"11.0.0.5", "laptop", "alice"}, reject);
    CHECK(submitter.mail.kind == Answer::Kind::proceed);
    CHECK(submitter.symbols == "none");

    // 11.0.0.2 on an allow list whose weight vouches for it.
    const auto vouched = deliver({"11.0.0.2"}, reject + "[dnsbl]\nzones = [\"WL:wl2.test*-3\"]\nallow_score = 2\n");
    CHECK(vouched.mail.kind == Answer::Kind::proceed);
    CHECK(vouched.symbols == "RAMPART_RWL_WL(-3.00)");
}

TEST_CASE("zombie: a reverse DNS that fails tempfails only under dns.on_temperror = tempfail")
{
    CHECK(deliver({"11.0.0.6"}, "").out.answer.kind == Answer::Kind::accept);
    const auto d = deliver({"11.0.0.6"}, "", "on_temperror = \"tempfail\"\n");
    CHECK(d.mail.kind == Answer::Kind::tempfail);
}

// ---- SPF ----

TEST_CASE("spf: every result of RFC 7208 from records served by the test DNS server")
{
    dns::Resolver r(*dns_config());
    struct Case {
        const char* ip;
        const char* helo;
        const char* sender;
        auth::SpfResult want;
        const char* domain;
    };
    using S = auth::SpfResult;
    const Case cases[] = {
        {"11.0.1.5", "h.example", "a@spf.test", S::pass, "spf.test"},
        {"11.0.2.5", "h.example", "a@spf.test", S::fail, "spf.test"},
        {"11.0.2.5", "h.example", "a@SOFT.test", S::softfail, "soft.test"},
        {"11.0.2.5", "h.example", "a@neutral.test", S::neutral, "neutral.test"},
        {"11.0.1.5", "h.example", "a@incl.test", S::pass, "incl.test"},
        {"11.0.2.5", "h.example", "a@incl.test", S::fail, "incl.test"},
        {"11.0.3.1", "h.example", "a@mx.test", S::pass, "mx.test"},
        {"11.0.3.2", "h.example", "a@mx.test", S::fail, "mx.test"},
        {"11.0.1.5", "h.example", "a@perm.test", S::permerror, "perm.test"},
        {"11.0.1.5", "h.example", "a@twice.test", S::permerror, "twice.test"},
        {"11.0.1.5", "h.example", "a@nospf.test", S::none, "nospf.test"},
        {"11.0.1.5", "h.example", "a@nothing.test", S::none, "nothing.test"},
        {"11.0.1.5", "h.example", "a@x.servfail.test", S::temperror, "x.servfail.test"},
        {"11.0.1.5", "helo.spf.test", "", S::pass, "helo.spf.test"}, // a bounce: the HELO name's record
        {"11.0.2.5", "helo.spf.test", "", S::fail, "helo.spf.test"},
        {"11.0.1.5", "nodot", "", S::none, "nodot"},
        {"2a00:1::5", "h.example", "a@v6.spf.test", S::pass, "v6.spf.test"},
        {"2a00:2::5", "h.example", "a@v6.spf.test", S::fail, "v6.spf.test"},
    };
    for (const auto& c : cases) {
        const std::string ip = c.ip, sender = c.sender, helo = c.helo;
        CAPTURE(ip);
        CAPTURE(sender);
        CAPTURE(helo);
        const auto spf =
            auth::evaluate_spf(r, Clock::now() + std::chrono::seconds(5), *IpAddress::parse(ip), helo, sender);
        CHECK(auth::to_string(spf.result) == auth::to_string(c.want));
        CHECK(spf.domain == c.domain);
        CHECK(spf.helo_identity == sender.empty());
    }
}

TEST_CASE("spf: a fail carries an explanation of what failed")
{
    dns::Resolver r(*dns_config());
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    const auto own = auth::evaluate_spf(r, deadline, *IpAddress::parse("11.0.2.5"), "h.example", "a@explain.test");
    CHECK(own.result == auth::SpfResult::fail);
    CHECK(own.explanation == "explain.test does not designate 11.0.2.5 as permitted sender");
    const auto ours = auth::evaluate_spf(r, deadline, *IpAddress::parse("11.0.2.5"), "h.example", "a@spf.test");
    CHECK(ours.explanation == "spf.test does not designate 11.0.2.5 as permitted sender");
}

TEST_CASE("spf: an include that never answers is a temperror within the deadline")
{
    dns::Resolver r(*dns_config());
    const auto start = Clock::now();
    const auto spf = auth::evaluate_spf(r, start + std::chrono::milliseconds(300), *IpAddress::parse("11.0.1.5"),
                                        "h.example", "a@hang.test");
    CHECK(spf.result == auth::SpfResult::temperror);
    CHECK(Clock::now() - start < std::chrono::milliseconds(1500));
}

TEST_CASE("spf: the result scores, goes into Authentication-Results, and a fail is refused at RCPT when asked")
{
    const std::string only_spf =
        "[zombie]\nenabled = false\n[dkim]\nenabled = false\n[auth]\nauthserv_id = \"mx.rampart.test\"\n";
    const auto sent = [&](const std::string& ip, const std::string& sender, const std::string& extra,
                          std::vector<std::pair<std::string, std::string>> headers = {}) {
        Session s(runtime(config(kOnlyDns + dns_settings() + only_spf + extra)));
        s.connect(IpAddress::parse(ip), "client.example");
        s.helo("client.example");
        struct R {
            Answer mail, rcpt;
            Outcome out;
        } r;
        r.mail = s.mail("<" + sender + ">", "", "");
        r.rcpt = s.rcpt("<b@example.org>");
        for (const auto& [n, v] : headers)
            s.header(n, v);
        s.header("Subject", "hello");
        s.body("just a note\r\n");
        r.out = s.eom("Q1");
        return r;
    };
    const auto pass = sent("11.0.1.5", "a@spf.test", "");
    const auto* ar = find_edit(pass.out, HeaderEdit::Op::insert, "Authentication-Results");
    REQUIRE(ar);
    CHECK(ar->value == "mx.rampart.test;\n\tspf=pass smtp.mailfrom=spf.test");
    CHECK(find_edit(pass.out, HeaderEdit::Op::add, "X-Rampart-Symbols")->value == "RAMPART_SPF_PASS(-0.20)");

    const auto fail = sent("11.0.2.5", "a@explain.test", "");
    CHECK(fail.rcpt.kind == Answer::Kind::proceed); // not asked to refuse
    CHECK(find_edit(fail.out, HeaderEdit::Op::add, "X-Rampart-Symbols")->value == "RAMPART_SPF_FAIL(2.00)");

    const auto refused = sent("11.0.2.5", "a@explain.test", "[spf]\nreject_fail = true\n");
    CHECK(refused.rcpt.kind == Answer::Kind::reject);
    CHECK(refused.rcpt.xcode == "5.7.23");
    CHECK(refused.rcpt.text == "SPF validation failed: explain.test does not designate 11.0.2.5 as permitted sender");

    // Ours claimed by someone else is removed; another's stays.
    const auto forged = sent("11.0.1.5", "a@spf.test", "",
                             {{"Authentication-Results", "other.example; spf=pass smtp.mailfrom=x.example"},
                              {"Authentication-Results", " (forged) mx.rampart.test; dkim=pass header.d=bank.example"},
                              {"Authentication-Results", "mx.rampart.test; spf=pass"},
                              {"Authentication-Results", " (an unclosed comment"}});
    std::vector<int> removed;
    for (const auto& e : forged.out.edits)
        if (e.op == HeaderEdit::Op::remove && e.name == "Authentication-Results")
            removed.push_back(e.index);
    CHECK(removed == std::vector<int>{3, 2});

    // Authenticated senders and internal clients are not checked.
    Session s(runtime(config(kOnlyDns + dns_settings() + only_spf)));
    s.connect(IpAddress::parse("11.0.2.5"), "client.example");
    s.helo("client.example");
    s.mail("<a@spf.test>", "", "alice");
    s.rcpt("<b@example.org>");
    s.body("x\r\n");
    const auto out = s.eom("Q2");
    CHECK_FALSE(find_edit(out, HeaderEdit::Op::insert, "Authentication-Results"));
}

// ---- DKIM ----

namespace {

// A DKIM-Signature field value for `headers` and `body`, made with
// libopendkim and a key of tests/dns/ (relaxed/relaxed, rsa-sha256).
std::string dkim_sign(const std::string& key_file, const std::string& domain, const std::string& selector,
                      const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body)
{
    std::ifstream in(source_path("tests/dns/" + key_file));
    REQUIRE(in);
    std::string key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    DKIM_LIB* lib = dkim_init(nullptr, nullptr);
    REQUIRE(lib);
    DKIM_STAT stat = DKIM_STAT_OK;
    DKIM* d =
        dkim_sign(lib, reinterpret_cast<const u_char*>("test"), nullptr, reinterpret_cast<dkim_sigkey_t>(key.data()),
                  reinterpret_cast<const u_char*>(selector.c_str()), reinterpret_cast<const u_char*>(domain.c_str()),
                  DKIM_CANON_RELAXED, DKIM_CANON_RELAXED, DKIM_SIGN_RSASHA256, -1, &stat);
    REQUIRE(d);
    for (const auto& [n, v] : headers) {
        std::string f = n + ": " + v;
        dkim_header(d, reinterpret_cast<u_char*>(f.data()), f.size());
    }
    dkim_eoh(d);
    std::string b = body;
    dkim_body(d, reinterpret_cast<u_char*>(b.data()), b.size());
    REQUIRE(dkim_eom(d, nullptr) == DKIM_STAT_OK);
    std::vector<u_char> sig(4096);
    REQUIRE(dkim_getsighdr(d, sig.data(), sig.size(), std::strlen("DKIM-Signature: ")) == DKIM_STAT_OK);
    dkim_free(d);
    dkim_close(lib);
    return reinterpret_cast<const char*>(sig.data());
}

struct Signed {
    std::string symbols, auth_results;
};

Signed verify(const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body)
{
    Session s(
        runtime(config(kOnlyDns + dns_settings() +
                       "[zombie]\nenabled = false\n[spf]\nenabled = false\n[auth]\nauthserv_id = \"mx.test\"\n")));
    s.connect(IpAddress::parse("11.0.1.5"), "client.example");
    s.helo("client.example");
    s.mail("<a@signed.test>", "", "");
    s.rcpt("<b@example.org>");
    for (const auto& [n, v] : headers)
        s.header(n, v);
    s.body(body);
    const auto out = s.eom("Q1");
    Signed r;
    if (const auto* e = find_edit(out, HeaderEdit::Op::add, "X-Rampart-Symbols"))
        r.symbols = e->value;
    if (const auto* e = find_edit(out, HeaderEdit::Op::insert, "Authentication-Results"))
        r.auth_results = e->value;
    return r;
}

const std::vector<std::pair<std::string, std::string>> kSignedHeaders = {
    {"From", "Alice <alice@signed.test>"},       {"To", "bob@example.org"},         {"Subject", "a signed note"},
    {"Date", "Mon, 07 Dec 2026 09:00:00 +0000"}, {"Message-ID", "<1@signed.test>"},
};
const std::string kSignedBody = "Hello Bob,\r\n\r\nthis note is signed.\r\n";

} // namespace

TEST_CASE("dkim: each signature's result, with key size and algorithm, in Authentication-Results")
{
    struct Case {
        const char* what;
        const char* key;
        const char* domain;
        const char* selector;
        std::string body; // as delivered (signed: kSignedBody)
        const char* want; // the dkim= entry
        const char* symbol;
    };
    const Case cases[] = {
        {"pass", "dkim-test.key", "signed.test", "sel", kSignedBody,
         "dkim=pass header.d=signed.test header.s=sel header.a=rsa-sha256 (2048-bit key)", "RAMPART_DKIM_PASS(-0.20)"},
        {"body changed", "dkim-test.key", "signed.test", "sel", kSignedBody + "P.S. added on the way\r\n",
         "dkim=fail header.d=signed.test header.s=sel header.a=rsa-sha256 (2048-bit key) (body hash mismatch)",
         "RAMPART_DKIM_FAIL(1.00)"},
        {"forged: another key", "dkim-other.key", "signed.test", "sel", kSignedBody,
         "dkim=fail header.d=signed.test header.s=sel header.a=rsa-sha256", "RAMPART_DKIM_FAIL(1.00)"},
        {"no key", "dkim-test.key", "signed.test", "nokey", kSignedBody,
         "dkim=permerror header.d=signed.test header.s=nokey header.a=rsa-sha256", "RAMPART_DKIM_PERMERROR(0.30)"},
        {"revoked key", "dkim-test.key", "signed.test", "revoked", kSignedBody,
         "dkim=permerror header.d=signed.test header.s=revoked header.a=rsa-sha256", "RAMPART_DKIM_PERMERROR(0.30)"},
        {"key lookup SERVFAIL", "dkim-test.key", "x.servfail.test", "sel", kSignedBody,
         "dkim=temperror header.d=x.servfail.test header.s=sel header.a=rsa-sha256", "RAMPART_DKIM_TEMPERROR(0.00)"},
    };
    for (const auto& c : cases) {
        const std::string what = c.what;
        CAPTURE(what);
        auto headers = kSignedHeaders;
        headers.insert(headers.begin(),
                       {"DKIM-Signature", dkim_sign(c.key, c.domain, c.selector, kSignedHeaders, kSignedBody)});
        const auto r = verify(headers, c.body);
        std::string ar = r.auth_results;
        std::replace(ar.begin(), ar.end(), '\r', ' ');
        std::replace(ar.begin(), ar.end(), '\n', ' ');
        CAPTURE(ar);
        CAPTURE(r.symbols);
        CHECK(r.auth_results.starts_with("mx.test;\n\t" + std::string(c.want)));
        CHECK(r.symbols.find(c.symbol) != std::string::npos);
    }
}

TEST_CASE("dkim: a broken signature field is a permerror, a tampered signature value a fail")
{
    const std::string sig = dkim_sign("dkim-test.key", "signed.test", "sel", kSignedHeaders, kSignedBody);
    // The b= tag (not bh=), wherever the folding put it.
    auto b = sig.find(" b=");
    if (b == std::string::npos)
        b = sig.find("\tb=");
    REQUIRE(b != std::string::npos);
    struct Case {
        const char* what;
        std::string field;
        const char* want;
    };
    std::string tampered = sig;
    tampered[b + 10] = tampered[b + 10] == 'A' ? 'B' : 'A'; // one character of the signature itself
    const Case cases[] = {
        {"no b=", sig.substr(0, b), "dkim=permerror"},
        {"no d=", "v=1; a=rsa-sha256; s=sel; h=from; bh=abc; b=abc", "dkim=permerror"},
        {"tampered b=", tampered, "dkim=fail header.d=signed.test"},
    };
    for (const auto& c : cases) {
        const std::string what = c.what;
        CAPTURE(what);
        auto headers = kSignedHeaders;
        headers.insert(headers.begin(), {"DKIM-Signature", c.field});
        const auto r = verify(headers, kSignedBody);
        std::string ar = r.auth_results;
        std::replace(ar.begin(), ar.end(), '\r', ' ');
        std::replace(ar.begin(), ar.end(), '\n', ' ');
        CAPTURE(ar);
        CHECK(r.auth_results.find(c.want) != std::string::npos);
    }
}

TEST_CASE("dkim: every signature is verified; an unsigned message is dkim=none")
{
    auto headers = kSignedHeaders;
    headers.insert(headers.begin(),
                   {"DKIM-Signature", dkim_sign("dkim-other.key", "signed.test", "sel", kSignedHeaders, kSignedBody)});
    headers.insert(headers.begin(),
                   {"DKIM-Signature", dkim_sign("dkim-test.key", "signed.test", "sel", kSignedHeaders, kSignedBody)});
    const auto two = verify(headers, kSignedBody);
    CHECK(two.auth_results.find("dkim=pass header.d=signed.test") != std::string::npos);
    CHECK(two.auth_results.find("dkim=fail header.d=signed.test") != std::string::npos);
    CHECK(two.symbols.find("RAMPART_DKIM_PASS") != std::string::npos);
    CHECK(two.symbols.find("RAMPART_DKIM_FAIL") != std::string::npos);

    CHECK(verify(kSignedHeaders, kSignedBody).auth_results.starts_with("mx.test;\n\tdkim=none;"));
}

// ---- DMARC ----

namespace {

struct Judged {
    Outcome out;
    std::string symbols, auth_results, status;
};

// A message from 11.0.1.5 (SPF allows it for spf.test) with `from` in
// From (or the fields given), signed for signed.test when `sign`.
Judged judge_dmarc(const std::string& envelope, std::vector<std::pair<std::string, std::string>> headers, bool sign,
                   const std::string& extra = "")
{
    if (sign)
        headers.insert(headers.begin(),
                       {"DKIM-Signature", dkim_sign("dkim-test.key", "signed.test", "sel", headers, kSignedBody)});
    Session s(runtime(
        config(kOnlyDns + dns_settings() + "[zombie]\nenabled = false\n[auth]\nauthserv_id = \"mx.test\"\n" + extra)));
    s.connect(IpAddress::parse("11.0.1.5"), "client.example");
    s.helo("client.example");
    s.mail("<" + envelope + ">", "", "");
    s.rcpt("<b@example.org>");
    for (const auto& [n, v] : headers)
        s.header(n, v);
    s.body(kSignedBody);
    Judged j;
    j.out = s.eom("Q1");
    if (const auto* e = find_edit(j.out, HeaderEdit::Op::add, "X-Rampart-Symbols"))
        j.symbols = e->value;
    if (const auto* e = find_edit(j.out, HeaderEdit::Op::insert, "Authentication-Results"))
        j.auth_results = e->value;
    if (const auto* e = find_edit(j.out, HeaderEdit::Op::add, "X-Spam-Status"))
        j.status = e->value;
    return j;
}

std::vector<std::pair<std::string, std::string>> from(const std::string& address)
{
    return {{"From", address}, {"To", "bob@example.org"}, {"Subject", "a note"}, {"Message-ID", "<2@x.test>"}};
}

} // namespace

TEST_CASE("dmarc: aligned SPF or DKIM passes; a failure gets the domain's policy, pct= and all")
{
    struct Case {
        const char* what;
        const char* envelope;
        const char* from;
        bool sign;
        const char* want;   // the dmarc= entry
        const char* symbol; // "" for none
        bool spam;          // at least spam, whatever the score
    };
    const Case cases[] = {
        {"DKIM aligned", "x@other.test", "alice@signed.test", true, "dmarc=pass header.from=signed.test",
         "RAMPART_DMARC_PASS(-0.50)", false},
        {"SPF aligned", "a@spf.test", "a@spf.test", false, "dmarc=pass header.from=spf.test",
         "RAMPART_DMARC_PASS(-0.50)", false},
        {"relaxed: a subdomain's signature aligns", "x@other.test", "alice@mail.signed.test", true,
         "dmarc=pass header.from=mail.signed.test", "RAMPART_DMARC_PASS(-0.50)", false},
        {"p=reject, nothing aligned", "x@other.test", "alice@signed.test", false,
         "dmarc=fail (p=reject) header.from=signed.test", "RAMPART_DMARC_REJECT(4.00)", true},
        {"p=quarantine", "x@other.test", "a@quar.test", false, "dmarc=fail (p=quarantine) header.from=quar.test",
         "RAMPART_DMARC_QUARANTINE(3.00)", true},
        {"p=none", "x@other.test", "a@mon.test", false, "dmarc=fail (p=none) header.from=mon.test",
         "RAMPART_DMARC_FAIL(1.00)", false},
        {"pct=0: one step down", "x@other.test", "a@pct.test", false, "dmarc=fail (p=quarantine) header.from=pct.test",
         "RAMPART_DMARC_QUARANTINE(3.00)", true},
        {"no record", "x@other.test", "a@nothing.test", false, "dmarc=none header.from=nothing.test", "", false},
        {"record lookup fails", "x@other.test", "a@x.servfail.test", false,
         "dmarc=temperror header.from=x.servfail.test", "RAMPART_DMARC_TEMPERROR(0.00)", false},
    };
    for (const auto& c : cases) {
        const std::string what = c.what;
        CAPTURE(what);
        const auto j = judge_dmarc(c.envelope, from(c.from), c.sign);
        std::string ar = j.auth_results;
        std::replace(ar.begin(), ar.end(), '\r', ' ');
        std::replace(ar.begin(), ar.end(), '\n', ' ');
        CAPTURE(ar);
        CAPTURE(j.symbols);
        CHECK(j.auth_results.find(c.want) != std::string::npos);
        if (*c.symbol)
            CHECK(j.symbols.find(c.symbol) != std::string::npos);
        else
            CHECK(j.symbols.find("RAMPART_DMARC") == std::string::npos);
        CHECK(j.status.starts_with(c.spam ? "Yes" : "No"));
        CHECK(j.out.answer.kind == Answer::Kind::accept);
    }
}

TEST_CASE("dmarc: dmarc.reject refuses p=reject at end of DATA; several From addresses cannot be judged")
{
    const auto refused = judge_dmarc("x@other.test", from("alice@signed.test"), false, "[dmarc]\nreject = true\n");
    CHECK(refused.out.answer.kind == Answer::Kind::reject);
    CHECK(refused.out.answer.text == "Rejected by the DMARC policy of the From domain");
    const auto passed = judge_dmarc("x@other.test", from("alice@signed.test"), true, "[dmarc]\nreject = true\n");
    CHECK(passed.out.answer.kind == Answer::Kind::accept);

    auto two = from("alice@signed.test");
    two.push_back({"From", "mallory@evil.test"});
    const auto j = judge_dmarc("x@other.test", two, false);
    CHECK(j.auth_results.find("dmarc=permerror") != std::string::npos);
}

TEST_CASE("dkim: mail of an authenticated sender is signed with its domain's key, and the signature verifies")
{
    const std::string keys = "[dkim]\nkeys = [\"signed.test:sel:" + source_path("tests/dns/dkim-test.key") + "\"]\n";
    const auto submit = [&](const std::string& author, const std::string& login) {
        Session s(runtime(config(kOnlyDns + dns_settings() + "[zombie]\nenabled = false\n" + keys)));
        s.connect(IpAddress::parse("11.0.1.5"), "laptop");
        s.helo("laptop");
        s.mail("<" + author + ">", "", login);
        s.rcpt("<bob@example.org>");
        auto headers = kSignedHeaders;
        headers.front().second = author;
        for (const auto& [n, v] : headers)
            s.header(n, v);
        s.body(kSignedBody);
        const auto out = s.eom("Q1");
        const auto* e = find_edit(out, HeaderEdit::Op::insert, "DKIM-Signature");
        return std::make_pair(e ? e->value : std::string(), headers);
    };
    for (const char* author : {"alice@signed.test", "alice@mail.signed.test"}) {
        const std::string a = author;
        CAPTURE(a);
        auto [sig, headers] = submit(a, "alice");
        REQUIRE_FALSE(sig.empty());
        CHECK(sig.find("d=signed.test;") != std::string::npos);
        CHECK(sig.find("s=sel;") != std::string::npos);
        CHECK(sig.find("a=rsa-sha256;") != std::string::npos);
        // The milter folds with LF alone (the MTA writes CRLF on the wire),
        // as the MTA may hand a folded field to the verifier of a receiver.
        CHECK(sig.find('\r') == std::string::npos);
        // What a receiver of ours sees: the signature verifies.
        headers.insert(headers.begin(), {"DKIM-Signature", sig});
        const auto r = verify(headers, kSignedBody);
        CHECK(r.auth_results.find("dkim=pass header.d=signed.test header.s=sel") != std::string::npos);
    }
    CHECK(submit("alice@other.test", "alice").first.empty()); // no key for the domain
    CHECK(submit("alice@signed.test", "").first.empty());     // not authenticated: verified, not signed
}

TEST_CASE("dkim: a key that cannot be read stops the start, naming it")
{
    const auto cfg = config(dns_settings() + "[dkim]\nkeys = [\"signed.test:sel:/nonexistent/key.pem\"]\n");
    CHECK_THROWS_WITH(
        load_dkim_keys(*cfg),
        "dkim.keys \"signed.test:sel:/nonexistent/key.pem\": cannot read the key file /nonexistent/key.pem");
}

// ---- URL hosts in DNS block lists ----

TEST_CASE("uribl: the registered domains and IPv4 hosts of the message's URLs are looked up in dnsbl.url_zones")
{
    const std::string cfg = kNoRedisChecksContent + std::string(R"(
[action]
clean = "tag"
[zombie]
enabled = false
[spf]
enabled = false
[dkim]
enabled = false
[dmarc]
enabled = false
[helo]
enabled = false
[dnsbl]
url_zones = ["URI:uribl.test*4", "broken.test"]
)");
    const auto scan = [&](const std::string& body) {
        Session s(runtime(config(cfg + dns_settings())));
        s.connect(IpAddress::parse("11.0.1.5"), "client.example");
        s.helo("client.example");
        s.mail("<a@example.net>", "", "");
        s.rcpt("<b@example.org>");
        s.header("From", "a@example.net");
        s.header("Subject", "offer");
        s.body(body);
        const auto out = s.eom("Q1");
        const auto* e = find_edit(out, HeaderEdit::Op::add, "X-Rampart-Symbols");
        return e ? e->value : std::string();
    };
    const auto listed = scan("Buy now at http://www.Evil-URL.test/buy?x=1 or http://good.test/\r\n");
    CHECK(listed.find("RAMPART_URIBL_URI(4.00)") != std::string::npos);
    CHECK(listed.find("RAMPART_URIBL_TEMPERROR(0.00)") != std::string::npos); // broken.test fails
    CHECK(scan("See http://11.9.9.9/login\r\n").find("RAMPART_URIBL_URI(4.00)") != std::string::npos);
    CHECK(scan("See http://good.test/ and http://11.9.9.8/\r\n").find("RAMPART_URIBL_URI") == std::string::npos);
    CHECK(queries_for("evil-url.test.uribl.test", "A") >= 1);
}

TEST_CASE("dmarc: a reverse zone that never answers spends the budget, yet the DMARC record asked early is judged")
{
    // 11.0.0.9's PTR is never answered: end of message waits the whole
    // budget for it. The From domain's record was asked when the header
    // was in, so its answer is there all the same.
    Session s(runtime(config(kOnlyDns + dns_settings("budget_ms = 300\n") + "[auth]\nauthserv_id = \"mx.test\"\n")));
    s.connect(IpAddress::parse("11.0.0.9"), "client.example");
    s.helo("client.example");
    s.mail("<x@other.test>", "", "");
    s.rcpt("<b@example.org>");
    for (const auto& [n, v] : from("alice@signed.test"))
        s.header(n, v);
    s.body(kSignedBody);
    const auto out = s.eom("Q1");
    const auto* ar = find_edit(out, HeaderEdit::Op::insert, "Authentication-Results");
    REQUIRE(ar);
    CHECK(ar->value.find("dmarc=fail (p=reject) header.from=signed.test") != std::string::npos);
    const auto* sym = find_edit(out, HeaderEdit::Op::add, "X-Rampart-Symbols");
    REQUIRE(sym);
    CHECK(sym->value.find("RAMPART_RDNS_TEMPERROR") != std::string::npos);
}

TEST_CASE("dkim: a message rampart signs keeps its Subject even when tagged as spam with a prefix")
{
    const auto send = [&](bool with_key) {
        const std::string cfg = kNoRedisChecks + dns_settings() +
                                "[helo]\nenabled = false\n[zombie]\nenabled = false\n[dkim]\nkeys = [" +
                                (with_key ? "\"signed.test:sel:" + source_path("tests/dns/dkim-test.key") + "\"" : "") +
                                "]\n[tag]\nsubject_prefix = \"[SPAM] \"\n[action]\nconfirmed_spam = \"tag\"\n";
        Session s(runtime(config(cfg)));
        s.connect(IpAddress::parse("11.0.1.5"), "laptop");
        s.helo("laptop");
        s.mail("<alice@signed.test>", "", "alice");
        s.rcpt("<bob@example.org>");
        for (const auto& [n, v] : kSignedHeaders)
            s.header(n, v);
        s.body(std::string(kGtube) + "\r\n");
        return s.eom("Q1");
    };
    const auto signed_out = send(true);
    CHECK(find_edit(signed_out, HeaderEdit::Op::insert, "DKIM-Signature"));
    CHECK(find_edit(signed_out, HeaderEdit::Op::add, "X-Spam-Status")->value.starts_with("Yes"));
    CHECK_FALSE(find_edit(signed_out, HeaderEdit::Op::change, "Subject"));
    const auto unsigned_out = send(false); // the same message, no key: the prefix is put
    CHECK_FALSE(find_edit(unsigned_out, HeaderEdit::Op::insert, "DKIM-Signature"));
    const auto* subject = find_edit(unsigned_out, HeaderEdit::Op::change, "Subject");
    REQUIRE(subject);
    CHECK(subject->value == "[SPAM] a signed note");
}
