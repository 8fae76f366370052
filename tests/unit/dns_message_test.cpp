// Unit tests: DNS responses read from the wire, hostile ones included, the
// block list syntax, and reverse names. No server (dns_test.cpp has one).
#include "dns/blocklist.hpp"
#include "dns/message.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace rampart;
using namespace rampart::dns;

namespace {

// A response built by hand: header, the question, then records.
struct Wire {
    std::vector<std::uint8_t> b;

    void u16(unsigned v)
    {
        b.push_back(static_cast<std::uint8_t>(v >> 8));
        b.push_back(static_cast<std::uint8_t>(v));
    }
    void u32(std::uint32_t v)
    {
        u16(v >> 16);
        u16(v & 0xffff);
    }
    void name(const std::string& n)
    {
        std::size_t start = 0;
        while (start < n.size()) {
            auto dot = n.find('.', start);
            if (dot == std::string::npos)
                dot = n.size();
            b.push_back(static_cast<std::uint8_t>(dot - start));
            b.insert(b.end(), n.begin() + static_cast<long>(start), n.begin() + static_cast<long>(dot));
            start = dot + 1;
        }
        b.push_back(0);
    }
    Wire(unsigned rcode, unsigned an, unsigned ns, const std::string& qname, unsigned qtype)
    {
        u16(0x1234);
        u16(0x8180 | rcode);
        u16(1);
        u16(an);
        u16(ns);
        u16(0);
        name(qname);
        u16(qtype);
        u16(1);
    }
    // A record whose owner is the question's name (a pointer to offset 12).
    void record(unsigned type, std::uint32_t ttl, const std::vector<std::uint8_t>& rdata)
    {
        u16(0xc00c);
        u16(type);
        u16(1);
        u32(ttl);
        u16(static_cast<unsigned>(rdata.size()));
        b.insert(b.end(), rdata.begin(), rdata.end());
    }
};

std::vector<std::uint8_t> bytes(std::initializer_list<int> v) { return {v.begin(), v.end()}; }

} // namespace

TEST_CASE("dns message: records of the type asked, their least TTL, and the data as text")
{
    Wire w(0, 3, 0, "x.test", 1);
    w.record(1, 300, bytes({192, 0, 2, 1}));
    w.record(1, 120, bytes({127, 0, 0, 2}));
    w.record(16, 10, bytes({3, 'a', 'b', 'c'})); // another type: ignored
    const auto a = parse_response(w.b, Type::a);
    REQUIRE(a.status == Status::ok);
    REQUIRE(a.records.size() == 2);
    CHECK(a.records[0].data == "192.0.2.1");
    CHECK(a.records[1].data == "127.0.0.2");
    CHECK(a.ttl == 120);

    Wire t(0, 1, 0, "x.test", 16);
    t.record(16, 60, bytes({7, 'v', '=', 's', 'p', 'f', '1', ' ', 3, '-', 'a', 'l', 0}));
    const auto txt = parse_response(t.b, Type::txt);
    REQUIRE(txt.records.size() == 1);
    CHECK(txt.records[0].data == std::string("v=spf1 -al"));

    Wire m(0, 1, 0, "x.test", 15);
    m.record(15, 60, bytes({0, 10, 2, 'm', 'x', 0xc0, 12})); // "mx." then the question's name by pointer
    const auto mx = parse_response(m.b, Type::mx);
    REQUIRE(mx.records.size() == 1);
    CHECK(mx.records[0].data == "10 mx.x.test");
}

TEST_CASE("dns message: negative answers, their TTL from the SOA, and server failures")
{
    Wire nx(3, 0, 1, "gone.test", 1);
    std::vector<std::uint8_t> soa = bytes({2, 'n', 's', 0, 2, 'h', 'm', 0});
    for (std::uint32_t v : {1u, 3600u, 600u, 86400u, 45u})
        for (int shift : {24, 16, 8, 0})
            soa.push_back(static_cast<std::uint8_t>(v >> shift));
    nx.record(6, 300, soa);
    const auto a = parse_response(nx.b, Type::a);
    CHECK(a.status == Status::nxdomain);
    CHECK(a.ttl == 45);
    CHECK(a.records.empty());

    const auto nodata = parse_response(Wire(0, 0, 0, "x.test", 1).b, Type::a);
    CHECK(nodata.status == Status::nodata);
    CHECK(nodata.ttl == kNoSoaTtl);
    CHECK(parse_response(Wire(2, 0, 0, "x.test", 1).b, Type::a).status == Status::servfail);
    CHECK(parse_response(Wire(5, 0, 0, "x.test", 1).b, Type::a).status == Status::refused);
    CHECK(parse_response(Wire(4, 0, 0, "x.test", 1).b, Type::a).status == Status::error);
    CHECK(parse_response(Wire(2, 0, 0, "x.test", 1).b, Type::a).temporary());
    CHECK_FALSE(nodata.temporary());
}

TEST_CASE("dns message: hostile responses are errors, never a read past the buffer")
{
    Wire ok(0, 1, 0, "x.test", 1);
    ok.record(1, 300, bytes({192, 0, 2, 1}));
    for (std::size_t cut = 0; cut < ok.b.size(); ++cut) { // every truncation
        CAPTURE(cut);
        const std::vector<std::uint8_t> part(ok.b.begin(), ok.b.begin() + static_cast<long>(cut));
        CHECK(parse_response(part, Type::a).status == Status::error);
    }

    Wire loop(0, 1, 0, "x.test", 12);
    loop.record(12, 60, bytes({0xc0, static_cast<int>(loop.b.size()) + 12})); // a pointer to itself
    CHECK(parse_response(loop.b, Type::ptr).status == Status::error);

    Wire wrong(0, 1, 0, "x.test", 1);
    wrong.record(1, 60, bytes({1, 2, 3})); // an A record of 3 bytes
    CHECK(parse_response(wrong.b, Type::a).status == Status::error);

    Wire many(0, 300, 0, "x.test", 1); // more records than kMaxRecords claimed
    CHECK(parse_response(many.b, Type::a).status == Status::error);

    Wire query = ok;
    query.b[2] &= 0x7f; // a query, not a response
    CHECK(parse_response(query.b, Type::a).status == Status::error);

    Wire ttl(0, 1, 0, "x.test", 1);
    ttl.record(1, 0xffffffff, bytes({192, 0, 2, 1}));
    CHECK(parse_response(ttl.b, Type::a).ttl == kMaxTtl);
}

TEST_CASE("dns message: a CNAME chain is followed to the records of the type asked")
{
    Wire w(0, 2, 0, "alias.test", 1);
    w.record(5, 100, bytes({4, 'r', 'e', 'a', 'l', 0xc0, 18}));   // "real." + "test" (offset 18 in the question)
    w.u16(static_cast<unsigned>(0xc000 | (w.b.size() - 12 - 2))); // owner: the CNAME's target
    w.b.resize(w.b.size() - 2);
    // The target record, its owner written out.
    w.name("real.test");
    w.u16(1);
    w.u16(1);
    w.u32(50);
    w.u16(4);
    for (int v : {192, 0, 2, 7})
        w.b.push_back(static_cast<std::uint8_t>(v));
    const auto a = parse_response(w.b, Type::a);
    REQUIRE(a.status == Status::ok);
    REQUIRE(a.records.size() == 1);
    CHECK(a.records[0].data == "192.0.2.7");
    CHECK(a.ttl == 50);
}

TEST_CASE("dns: reversed addresses for block lists and PTR names")
{
    CHECK(reverse_labels(*IpAddress::parse("192.0.2.1")) == "1.2.0.192");
    CHECK(reverse_name(*IpAddress::parse("192.0.2.1")) == "1.2.0.192.in-addr.arpa");
    CHECK(reverse_name(*IpAddress::parse("2001:db8::1")) ==
          "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
}

TEST_CASE("dnsbl syntax: Postfix's postscreen_dnsbl_sites, with a name and a mask")
{
    struct Case {
        const char* spec;
        const char* zone;
        const char* symbol;
        double weight;
        const char* answer;
        BlockList::Hit hit;
    };
    using H = BlockList::Hit;
    const Case cases[] = {
        {"zen.spamhaus.org", "zen.spamhaus.org", "RAMPART_RBL_ZEN_SPAMHAUS_ORG", 1, "127.0.0.2", H::yes},
        {"zen.spamhaus.org=127.0.0.[2..11]*3", "zen.spamhaus.org", "RAMPART_RBL_ZEN_SPAMHAUS_ORG", 3, "127.0.0.10",
         H::yes},
        {"zen.spamhaus.org=127.0.0.[2..11]*3", "zen.spamhaus.org", "RAMPART_RBL_ZEN_SPAMHAUS_ORG", 3, "127.0.0.12",
         H::no},
        {"Zen:KEY.zen.dq.spamhaus.net=127.0.0.[2;3;9]*2.5", "key.zen.dq.spamhaus.net", "RAMPART_RBL_ZEN", 2.5,
         "127.0.0.9", H::yes},
        {"Zen:KEY.zen.dq.spamhaus.net=127.0.0.[2;3;9]*2.5", "key.zen.dq.spamhaus.net", "RAMPART_RBL_ZEN", 2.5,
         "127.0.0.4", H::no},
        {"list.dnswl.org=127.0.[0..255].[1..3]*-2", "list.dnswl.org", "RAMPART_RWL_LIST_DNSWL_ORG", -2, "127.0.9.2",
         H::yes},
        {"multi.uribl.example&0x0c*4", "multi.uribl.example", "RAMPART_RBL_MULTI_URIBL_EXAMPLE", 4, "127.0.0.4",
         H::yes},
        {"multi.uribl.example&0x0c*4", "multi.uribl.example", "RAMPART_RBL_MULTI_URIBL_EXAMPLE", 4, "127.0.0.2", H::no},
        {"bl.example", "bl.example", "RAMPART_RBL_BL_EXAMPLE", 1, "192.0.2.1", H::no},            // not 127/8
        {"bl.example", "bl.example", "RAMPART_RBL_BL_EXAMPLE", 1, "127.255.255.254", H::refused}, // query refused
        {"bl.example", "bl.example", "RAMPART_RBL_BL_EXAMPLE", 1, "2001:db8::1", H::no},
    };
    for (const auto& c : cases) {
        const std::string spec = c.spec, answer = c.answer;
        CAPTURE(spec);
        CAPTURE(answer);
        const auto bl = parse_blocklist(c.spec);
        REQUIRE_MESSAGE(bl.ok(), (bl.ok() ? "" : bl.error().message));
        CHECK(bl->zone == c.zone);
        CHECK(bl->symbol == c.symbol);
        CHECK(bl->weight == c.weight);
        CHECK(bl->match(c.answer) == c.hit);
    }
    for (const char* bad :
         {"", "=127.0.0.2", "bl.example=127.0.0", "bl.example=127.0.0.[3..2]", "bl.example=127.0.0.256", "bl.example*0",
          "bl.example*x", "bl.example*1000", "bl.example&0", "bl.example&0xg", "bad name:bl.example", ":bl.example",
          "bl..example", "bl.example.", "bl example", "bl.example=127.0.0.[1;]"}) {
        const std::string spec = bad;
        CAPTURE(spec);
        CHECK_FALSE(parse_blocklist(bad).ok());
    }
}

TEST_CASE("dns answers for the fleet's cache: what encode_answer writes, decode_answer reads back while it holds")
{
    using namespace rampart::dns;
    Answer a{Status::ok, {{Type::txt, 300, "v=spf1 -all"}, {Type::txt, 300, "with space: and 12:colons"}}, 300, false};
    const std::string text = encode_answer(a, 1000300);
    CHECK(text == "r1 1000300 0 2 16 11:v=spf1 -all 16 25:with space: and 12:colons");
    const auto back = decode_answer(text, Type::txt, 1000100);
    REQUIRE(back);
    CHECK(back->status == Status::ok);
    CHECK(back->ttl == 200); // what is left of it
    CHECK(back->cached);
    REQUIRE(back->records.size() == 2);
    CHECK(back->records[1].data == "with space: and 12:colons");
    CHECK(back->records[1].ttl == 200);

    CHECK_FALSE(decode_answer(text, Type::txt, 1000300)); // expired
    CHECK_FALSE(decode_answer(text, Type::a, 1000100));   // another type's
    const auto nx = decode_answer(encode_answer(Answer{Status::nxdomain, {}, 30, false}, 1030), Type::a, 1000);
    REQUIRE(nx);
    CHECK(nx->status == Status::nxdomain);
    CHECK(nx->ttl == 30);

    for (const std::string& bad : {
             std::string(""), std::string("r1"), std::string("r2 1000300 0 0"),
             std::string("r1 1000300 3 0"),                        // SERVFAIL: not definite
             std::string("r1 1000300 1 1 1 9:192.0.2.1"),          // NXDOMAIN with a record
             std::string("r1 1000300 0 0"),                        // records without one
             std::string("r1 1000300 0 1 1 99:192.0.2.1"),         // a length past the end
             std::string("r1 1000300 0 1 1 9:192.0.2.1 trailing"), // more than it says
             std::string("r1 1000300 0 1 1 9:192.0.2.x"),          // not an address
             std::string("r1 99999999999999999999 0 1 1 9:192.0.2.1"), std::string("r1 1000300 0 99999 1 9:192.0.2.1"),
             std::string("r1 -5 0 1 1 9:192.0.2.1"),
             std::string("r1 01000300 0 1 1 9:192.0.2.1"), // not as encode_answer writes it
         }) {
        CAPTURE(bad);
        CHECK_FALSE(decode_answer(bad, Type::a, 1000100));
    }
    CHECK(decode_answer("r1 1000300 0 1 1 9:192.0.2.1", Type::a, 1000100));
}
