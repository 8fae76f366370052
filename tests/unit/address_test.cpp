// Unit tests: addresses, networks, and the list sets.
#include "checks/list_cache.hpp"
#include "net/address.hpp"

#include <doctest/doctest.h>

using namespace rampart;

TEST_CASE("addresses parse and print in their own family")
{
    struct Case {
        const char* in;
        const char* out;
    };
    const Case cases[] = {
        {"192.0.2.7", "192.0.2.7"},
        {"[192.0.2.7]", "192.0.2.7"},
        {"2001:db8::1", "2001:db8::1"},
        {"IPv6:2001:db8::1", "2001:db8::1"},
        {"::ffff:192.0.2.1", "192.0.2.1"},
        {"0.0.0.0", "0.0.0.0"},
        {"255.255.255.255", "255.255.255.255"},
        {"10.200.3.40", "10.200.3.40"},
    };
    for (const auto& c : cases) {
        auto a = IpAddress::parse(c.in);
        REQUIRE_MESSAGE(a, c.in);
        CHECK(a->to_string() == c.out);
    }
    for (const char* bad : {"", "300.1.1.1", "1.2.3", "example.com", "1.2.3.4/24", "::g"})
        CHECK_MESSAGE(!IpAddress::parse(bad), bad);
}

TEST_CASE("networks mask in the address's own family")
{
    auto a = IpAddress::parse("192.0.2.77");
    CHECK(network_of(*a, 24, 64).to_string() == "192.0.2.0/24");
    CHECK(network_of(*a, 16, 64).to_string() == "192.0.0.0/16");
    auto b = IpAddress::parse("2001:db8:1:2:3:4:5:6");
    CHECK(network_of(*b, 24, 64).to_string() == "2001:db8:1:2::/64");
    CHECK(network_of(*b, 24, 48).to_string() == "2001:db8:1::/48");
}

TEST_CASE("CIDR parsing and containment")
{
    auto n = Cidr::parse("10.1.2.3/8");
    REQUIRE(n);
    CHECK(n->to_string() == "10.0.0.0/8");
    CHECK(n->contains(*IpAddress::parse("10.200.0.1")));
    CHECK_FALSE(n->contains(*IpAddress::parse("11.0.0.1")));
    CHECK_FALSE(n->contains(*IpAddress::parse("::a00:1"))); // v6, not v4
    CHECK_FALSE(Cidr::parse("10.0.0.0/33"));
    CHECK_FALSE(Cidr::parse("10.0.0.0/"));
    CHECK_FALSE(Cidr::parse("2001:db8::/129"));
    CHECK(Cidr::parse("2001:db8::/32")->contains(*IpAddress::parse("2001:db8:ffff::1")));
}

TEST_CASE("IP sets find the most specific entry")
{
    IpSet s;
    s.insert(*Cidr::parse("192.0.2.0/24"));
    s.insert(*Cidr::parse("192.0.2.7"));
    s.insert(*Cidr::parse("2001:db8::/32"));
    CHECK(s.find(*IpAddress::parse("192.0.2.7"))->to_string() == "192.0.2.7/32");
    CHECK(s.find(*IpAddress::parse("192.0.2.8"))->to_string() == "192.0.2.0/24");
    CHECK_FALSE(s.find(*IpAddress::parse("192.0.3.8")));
    CHECK(s.find(*IpAddress::parse("2001:db8::5"))->to_string() == "2001:db8::/32");
    CHECK_FALSE(s.find(*IpAddress::parse("2001:db9::5")));
}

TEST_CASE("name sets match addresses, domains and parent domains")
{
    NameSet s;
    s.insert("Spammer@Example.com");
    s.insert("@bad.example");
    CHECK(s.find("spammer@example.com") == "spammer@example.com");
    CHECK(s.find("SPAMMER@EXAMPLE.COM") == "spammer@example.com");
    CHECK_FALSE(s.find("other@example.com"));
    CHECK(s.find("x@bad.example") == "bad.example");
    CHECK(s.find("x@mx.bad.example") == "bad.example");
    CHECK(s.find("mx.bad.example") == "bad.example");
    CHECK_FALSE(s.find("x@notbad.example"));
    CHECK_FALSE(s.find(""));
}
