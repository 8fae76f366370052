// Unit tests: the HELO check through a Session (no DNS, no Redis).
#include "engine/session.hpp"
#include "helpers.hpp"

#include <doctest/doctest.h>

using namespace rampart;
using namespace rampart::test;

namespace {

// Clean mail is tagged too, so that its symbols show.
const std::string kOnlyHelo = kNoRedisChecks + R"(
[action]
clean = "tag"
[zombie]
enabled = false
[spf]
enabled = false
[helo]
own_names = ["mx.ours.example", "[11.0.0.100]"]
)";

struct Result {
    Answer mail;
    std::string symbols;
};

Result send(const std::string& ip, const std::string& helo, const std::string& extra = "",
            const std::string& auth_user = "")
{
    Session s(runtime(config(kOnlyHelo + extra)));
    s.connect(IpAddress::parse(ip), "client.example");
    s.helo(helo);
    Result r;
    r.mail = s.mail("<a@example.net>", "", auth_user);
    if (r.mail.settles())
        return r;
    s.rcpt("<b@example.org>");
    s.header("Subject", "hello");
    s.body("just a note\r\n");
    const auto out = s.eom("Q1");
    if (const auto* e = find_edit(out, HeaderEdit::Op::add, "X-Rampart-Symbols"))
        r.symbols = e->value;
    return r;
}

} // namespace

TEST_CASE("helo: names and literals that are not what RFC 5321 asks for score")
{
    struct Case {
        const char* helo;
        const char* want;
    };
    const Case cases[] = {
        {"mail.example.net", "none"},
        {"mail.example.net.", "none"},
        {"PC-4711", "RAMPART_HELO_BARE(1.00)"},
        {"localhost", "RAMPART_HELO_BARE(1.00)"},
        {"host.localdomain", "RAMPART_HELO_BARE(1.00)"},
        {"[11.0.0.1]", "none"},
        {"[11.0.0.9]", "RAMPART_HELO_IP_MISMATCH(2.00)"},
        {"[IPv6:2a00::1]", "RAMPART_HELO_IP_MISMATCH(2.00)"},
        {"11.0.0.1", "RAMPART_HELO_SYNTAX(2.00)"},
        {"11.0.0.9", "RAMPART_HELO_SYNTAX(2.00),RAMPART_HELO_IP_MISMATCH(2.00)"},
        {"bad_name.example", "RAMPART_HELO_SYNTAX(2.00)"},
        {"-x.example", "RAMPART_HELO_SYNTAX(2.00)"},
        {"x-.example", "RAMPART_HELO_SYNTAX(2.00)"},
        {"a..example", "RAMPART_HELO_SYNTAX(2.00)"},
        {"[11.0.0.1", "RAMPART_HELO_SYNTAX(2.00)"},
        {"MX.Ours.Example", "RAMPART_HELO_OURS(3.00)"},
        {"[11.0.0.100]", "RAMPART_HELO_OURS(3.00),RAMPART_HELO_IP_MISMATCH(2.00)"},
    };
    for (const auto& c : cases) {
        const std::string helo = c.helo, want = c.want;
        CAPTURE(helo);
        const auto r = send("11.0.0.1", helo);
        CHECK(r.mail.kind == Answer::Kind::proceed);
        CHECK(r.symbols == want);
    }
}

TEST_CASE("helo: authenticated senders and clients of internal networks are not judged")
{
    CHECK(send("11.0.0.1", "PC-4711", "", "alice").symbols == "none");
    CHECK(send("10.0.0.5", "PC-4711").symbols == "none");
    CHECK(send("10.0.0.5", "PC-4711", "[network]\ninternal = []\n").symbols == "RAMPART_HELO_BARE(1.00)");
}

TEST_CASE("helo: helo.reject refuses at MAIL FROM with reply.helo; the rest only scores")
{
    const std::string reject = "reject = [\"bare\", \"ours\"]\n";
    const auto bare = send("11.0.0.1", "PC-4711", "", "");
    CHECK(bare.mail.kind == Answer::Kind::proceed);
    for (const char* helo : {"PC-4711", "mx.ours.example"}) {
        const std::string h = helo;
        CAPTURE(h);
        Session s(runtime(config(kOnlyHelo + reject)));
        s.connect(IpAddress::parse("11.0.0.1"), "client.example");
        s.helo(helo);
        const Answer a = s.mail("<a@example.net>", "", "");
        CHECK(a.kind == Answer::Kind::reject);
        CHECK(a.code == "550");
        CHECK(a.text == "Helo command rejected: invalid or forged HELO name");
    }
    Session s(runtime(config(kOnlyHelo + reject)));
    s.connect(IpAddress::parse("11.0.0.1"), "client.example");
    s.helo("[11.0.0.9]");
    CHECK(s.mail("<a@example.net>", "", "").kind == Answer::Kind::proceed); // ip_mismatch not in helo.reject
}
