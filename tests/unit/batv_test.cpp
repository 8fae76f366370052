// Unit tests: BATV (prvs=) tags: signing, verification, expiry across the
// modulo-1000 wrap, key rotation, hostile addresses, key files and
// settings, and the check in a Session.
#include "auth/batv.hpp"
#include "engine/session.hpp"
#include "helpers.hpp"
#include "temp_dir.hpp"
#include "util/text.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

using namespace rampart;
using namespace rampart::test;

namespace {

constexpr std::int64_t kToday = 20000; // 2024-10-04

batv::KeyRing ring(std::string_view text)
{
    auto r = batv::KeyRing::parse(text, "test.keys");
    if (!r)
        FAIL("bad test keys: ", r.error().message);
    return *r;
}

const batv::KeyRing& one_key()
{
    static const batv::KeyRing r = ring("5 correct horse battery staple\n");
    return r;
}

} // namespace

TEST_CASE("batv: a tag is prvs=KDDDSSSSSS= with the HMAC-SHA1 of KDDD and the lower-cased address")
{
    // Python: hmac.new(b"correct horse battery staple", b"5007alice@example.com", "sha1").hexdigest()[:6]
    const auto tagged = batv::sign(one_key(), "Alice@Example.COM", kToday, 7);
    REQUIRE(tagged);
    CHECK(*tagged == "prvs=5007e8d513=Alice@Example.COM");
    const auto v = batv::verify(one_key(), *tagged, kToday, 7);
    CHECK(v.status == batv::Status::valid);
    CHECK(v.address == "Alice@Example.COM");
    // The MTA of a bounce may change the case of anything.
    CHECK(batv::verify(one_key(), "PRVS=5007E8D513=alice@example.com", kToday, 7).status == batv::Status::valid);
}

TEST_CASE("batv: a tag is valid from the day it is made until valid_days later, across the wrap of DDD")
{
    struct Case {
        std::int64_t signed_on, checked_on;
        int valid_days;
        batv::Status want;
    };
    const Case cases[] = {
        {kToday, kToday, 7, batv::Status::valid},
        {kToday, kToday + 7, 7, batv::Status::valid},
        {kToday, kToday + 8, 7, batv::Status::expired},
        {kToday, kToday + 500, 7, batv::Status::expired},
        {kToday, kToday - 1, 7, batv::Status::expired}, // eight days ahead: more than valid_days
        {20995, 20999, 7, batv::Status::valid},         // expires on day 21002: DDD = 002
        {20995, 21001, 7, batv::Status::valid},
        {20995, 21002, 7, batv::Status::valid},
        {20995, 21003, 7, batv::Status::expired},
        {20995, 21500, 7, batv::Status::expired},
        {kToday, kToday + 993, 7, batv::Status::expired},
        // DDD repeats every 1000 days: only a new key ends a tag for good.
        {kToday, kToday + 1000, 7, batv::Status::valid},
        {kToday, kToday + 365, 365, batv::Status::valid},
        {kToday, kToday + 366, 365, batv::Status::expired},
    };
    for (const auto& c : cases) {
        CAPTURE(c.signed_on);
        CAPTURE(c.checked_on);
        const auto tagged = batv::sign(one_key(), "bob@example.org", c.signed_on, c.valid_days);
        REQUIRE(tagged);
        const auto got = batv::verify(one_key(), *tagged, c.checked_on, c.valid_days).status;
        CHECK_MESSAGE(got == c.want, "got ", std::string(batv::to_string(got)), ", want ",
                      std::string(batv::to_string(c.want)));
    }
}

TEST_CASE("batv: key rotation: the first key signs, every key of the file verifies, an unknown key fails")
{
    const auto before = ring("1 the-new-key-0123456789\n0 the-old-key-0123456789\n");
    const auto promoted = ring("# key 1 promoted\n0 the-old-key-0123456789\n1 the-new-key-0123456789\n");
    const auto old_only = ring("0 the-old-key-0123456789\n");
    const auto other_secret = ring("1 another-secret-0123456789\n");
    CHECK(before.signing().number == 1);
    const auto tagged = batv::sign(before, "carol@example.net", kToday, 7);
    REQUIRE(tagged);
    CHECK(tagged->starts_with("prvs=1"));
    CHECK(batv::verify(promoted, *tagged, kToday, 7).status == batv::Status::valid);
    const auto old_tag = batv::sign(old_only, "carol@example.net", kToday, 7);
    REQUIRE(old_tag);
    CHECK(batv::verify(before, *old_tag, kToday, 7).status == batv::Status::valid);
    CHECK(batv::verify(old_only, *tagged, kToday, 7).status == batv::Status::unknown_key);
    CHECK(batv::verify(other_secret, *tagged, kToday, 7).status == batv::Status::bad_signature);
    // A tag is bound to its address.
    std::string moved = *tagged;
    moved.replace(moved.find("carol"), 5, "dave");
    CHECK(batv::verify(before, moved, kToday, 7).status == batv::Status::bad_signature);
}

TEST_CASE("batv: hostile recipients are untagged or malformed, never valid")
{
    const auto good = *batv::sign(one_key(), "a@example.org", kToday, 7); // prvs=5007SSSSSS=a@example.org
    struct Case {
        std::string address;
        batv::Status want;
    };
    const Case cases[] = {
        {"", batv::Status::untagged},
        {"a@example.org", batv::Status::untagged},
        {"prv=5007e8d513=a@example.org", batv::Status::untagged},
        {"prvs", batv::Status::untagged},
        {"prvs=", batv::Status::malformed},
        {"prvs==a@example.org", batv::Status::malformed},
        {"prvs=5007e8d51=a@example.org", batv::Status::malformed},   // short signature
        {"prvs=5007e8d5133=a@example.org", batv::Status::malformed}, // long signature
        {"prvs=5007e8d51g=a@example.org", batv::Status::malformed},  // not hex
        {"prvs=x007e8d513=a@example.org", batv::Status::malformed},  // not a key number
        {"prvs=50a7e8d513=a@example.org", batv::Status::malformed},  // not a day
        {"prvs=5007e8d513-a@example.org", batv::Status::malformed},  // no '=' after the tag
        {"prvs=5007e8d513=@example.org", batv::Status::malformed},   // empty local part
        {"prvs=5007e8d513=a@", batv::Status::malformed},             // empty domain
        {"prvs=5007e8d513=a.example.org", batv::Status::malformed},  // no '@'
        {"prvs=5007e8d513", batv::Status::malformed},
        {std::string("prvs=5007e8d513=a\0@example.org", 30), batv::Status::bad_signature},
        {"prvs=5007e8d513=" + std::string(300, 'a') + "@example.org", batv::Status::malformed}, // too long
        {good.substr(0, 9) + "000000" + good.substr(15), batv::Status::bad_signature},
    };
    for (const auto& c : cases) {
        CAPTURE(c.address);
        const auto got = batv::verify(one_key(), c.address, kToday, 7).status;
        CHECK_MESSAGE(got == c.want, "got ", std::string(batv::to_string(got)), ", want ",
                      std::string(batv::to_string(c.want)));
    }
}

TEST_CASE("batv: what cannot carry a tag is not tagged")
{
    const std::vector<std::string> addresses = {"",
                                                "nobody",
                                                "@example.org",
                                                "a@",
                                                "\"a b\"@example.org",
                                                "prvs=5007e8d513=a@b.example",
                                                "PRVS=x@example.org",
                                                std::string(250, 'a') + "@example.org"};
    for (const auto& a : addresses) {
        CAPTURE(a);
        CHECK_FALSE(batv::sign(one_key(), a, kToday, 7));
    }
}

TEST_CASE("batv: key files: one bad line is an error naming its line, never a crash")
{
    struct Case {
        std::string text, error; // error empty: good
    };
    const Case cases[] = {
        {"0 0123456789abcdef\n", ""},
        {"# comment\n\n  3\tsixteen bytes ok\r\n7 and-another-secret\n", ""},
        {"", "test.keys: no key"},
        {"# only comments\n\n", "test.keys: no key"},
        {"0 short\n", "test.keys:1: the secret of key 0 is shorter than 16 bytes"},
        {"0\n", "test.keys:1: want \"K SECRET\""},
        {"x 0123456789abcdef\n", "test.keys:1: want \"K SECRET\""},
        {"10 0123456789abcdef\n", "test.keys:1: want \"K SECRET\""},
        {"0 0123456789abcdef\n0 fedcba9876543210\n", "test.keys:2: key 0 is given twice"},
        {"1 " + std::string(2000, 'k') + "\n", "test.keys:1: the secret of key 1 is longer than 1024 bytes"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.text);
        const auto r = batv::KeyRing::parse(c.text, "test.keys");
        if (c.error.empty()) {
            CHECK(r);
        } else {
            REQUIRE_FALSE(r);
            CHECK_MESSAGE(r.error().message.starts_with(c.error), "got ", r.error().message, ", want ", c.error);
        }
    }
    const auto missing = batv::KeyRing::load("/nonexistent/rampart/batv.keys");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().message.starts_with("/nonexistent/rampart/batv.keys: cannot open"));
    TempDir dir("batv-test");
    const auto too_big = batv::KeyRing::load(dir.write("big.keys", std::string(batv::kMaxKeyFileBytes + 1, '#')));
    REQUIRE_FALSE(too_big);
    CHECK(too_big.error().message.find("larger than") != std::string::npos);
}

TEST_CASE("batv: settings that do not go together are configuration errors")
{
    struct Case {
        const char* text;
        const char* error;
    };
    const Case cases[] = {
        {"[batv]\nenabled = true\ndomains = [\"example.com\"]\n", "batv.enabled needs batv.key_file"},
        {"[batv]\nenabled = true\nkey_file = \"/etc/rampart/batv.keys\"\n", "batv.enabled needs batv.domains"},
        {"[batv]\ndomains = [\"example.com\"]\nenforce = [\"example.org\"]\n",
         "batv.enforce: \"example.org\" is not in batv.domains"},
        {"[batv]\nkey_file = \"batv.keys\"\n", "must be an absolute path"},
        {"[batv]\nvalid_days = 500\n", "out of range"},
        {"[batv]\ndomains = [\"Example.COM\"]\n", "lower-case domain name"},
        {"[batv]\nsign_networks = [\"192.0.2.0/33\"]\n", "ADDRESS/PREFIX"},
        {"[reply]\nbatv = \"4.7.1 later\"\n", "5.X.Y"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.text);
        const auto loaded = parse_config(c.text, "t.conf");
        REQUIRE_FALSE(loaded.errors.empty());
        CHECK_MESSAGE(loaded.errors.front().message.find(c.error) != std::string::npos, "got ",
                      loaded.errors.front().message, ", want ", c.error);
    }
    CHECK(parse_config("[batv]\ndomains = [\"example.com\"]\nenforce = [\"*\"]\n", "t.conf").errors.empty());
    // The key file is read with the services: an unreadable one stops a start or a reload.
    auto cfg = config(kNoRedisChecks + "[batv]\nenabled = true\nkey_file = \"/nonexistent/batv.keys\"\n"
                                       "domains = [\"example.com\"]\n");
    CHECK_THROWS_WITH_AS(runtime(cfg), doctest::Contains("batv.key_file /nonexistent/batv.keys: cannot open"),
                         std::runtime_error);
}

namespace {

// A Session with BATV on for example.com (enforced) and example.net (scored).
struct BatvSession {
    TempDir dir{"batv-test"};
    std::shared_ptr<const Runtime> rt =
        runtime(config(kNoRedisChecks + "[batv]\nenabled = true\nkey_file = \"" +
                       dir.write("batv.keys", "5 correct horse battery staple\n") +
                       "\"\ndomains = [\"example.com\", \"example.net\"]\nenforce = [\"example.com\"]\n"
                       "sign_networks = [\"198.51.100.0/24\"]\n"));
    Session s{rt};

    std::string tag(const std::string& address) const
    {
        const auto now =
            std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        return *batv::sign(*rt->batv_keys, address, batv::day_of(now), 7);
    }
};

} // namespace

TEST_CASE("batv: the session tags authenticated senders and senders of sign_networks, not others")
{
    struct Case {
        const char* client;
        const char* auth_user;
        const char* sender;
        bool tagged;
    };
    const Case cases[] = {
        {"192.0.2.10", "alice", "<alice@example.com>", true},
        {"192.0.2.10", "alice", "<alice@Example.NET>", true},
        {"198.51.100.7", "", "<daemon@example.com>", true},
        {"192.0.2.10", "", "<alice@example.com>", false}, // a stranger using our domain
        {"192.0.2.10", "alice", "<alice@example.org>", false},
        {"192.0.2.10", "alice", "<>", false},
    };
    for (const auto& c : cases) {
        CAPTURE(c.client);
        CAPTURE(c.sender);
        BatvSession b;
        b.s.connect(IpAddress::parse(c.client), "client.example");
        b.s.mail(c.sender, "", c.auth_user);
        CHECK(b.s.rcpt("<someone@example.org>").kind == Answer::Kind::proceed);
        const auto out = b.s.eom("Q1");
        CHECK(out.answer.kind == Answer::Kind::accept);
        if (c.tagged)
            CHECK(out.new_sender == b.tag(std::string(strip_brackets(c.sender))));
        else
            CHECK(out.new_sender.empty());
    }
    BatvSession already;
    already.s.connect(IpAddress::parse("192.0.2.10"), "client.example");
    already.s.mail("<" + already.tag("alice@example.com") + ">", "", "alice");
    already.s.rcpt("<someone@example.org>");
    CHECK(already.s.eom("Q2").new_sender.empty());
}

TEST_CASE("batv: bounces to our domains need a valid tag; enforced domains refuse them at RCPT TO")
{
    BatvSession b;
    CHECK(step_needs(*b.rt).reply_rcpt);
    b.s.connect(IpAddress::parse("192.0.2.10"), "mx.elsewhere.example");
    b.s.mail("<>", "", "");
    const Answer untagged = b.s.rcpt("<alice@example.com>");
    CHECK(untagged.kind == Answer::Kind::reject);
    CHECK(untagged.code == "550");
    CHECK(untagged.xcode == "5.7.1");
    CHECK(untagged.text == "Bounce to an address that sent no mail");
    CHECK(b.s.rcpt("<prvs=5000000000=alice@example.com>").kind == Answer::Kind::reject);
    const std::string tagged = b.tag("alice@example.com");
    CHECK(b.s.rcpt("<" + tagged + ">").kind == Answer::Kind::proceed);
    CHECK(b.s.rcpt("<bob@example.net>").kind == Answer::Kind::proceed);   // scored only
    CHECK(b.s.rcpt("<carol@example.org>").kind == Answer::Kind::proceed); // not ours
    const auto out = b.s.eom("Q3");
    REQUIRE(out.answer.kind == Answer::Kind::accept);
    REQUIRE(out.recipient_changes.size() == 1);
    CHECK(out.recipient_changes[0].from == tagged);
    CHECK(out.recipient_changes[0].to == "alice@example.com");
    const auto* status = find_edit(out, HeaderEdit::Op::add, "X-Spam-Status");
    REQUIRE(status);
    CHECK(status->value == "No, score=2.00"); // RAMPART_BATV_BAD (3.0) + RAMPART_BATV_VALID (-1.0)
}

TEST_CASE("batv: a reply to a tagged sender has its tag stripped; our own users' bounces are not judged")
{
    BatvSession reply;
    reply.s.connect(IpAddress::parse("192.0.2.10"), "mx.elsewhere.example");
    reply.s.mail("<someone@example.org>", "", "");
    const std::string tagged = reply.tag("alice@example.com");
    CHECK(reply.s.rcpt("<" + tagged + ">").kind == Answer::Kind::proceed);
    CHECK(reply.s.rcpt("<prvs=5000000000=bob@example.com>").kind == Answer::Kind::proceed); // left to the MTA
    auto out = reply.s.eom("Q4");
    REQUIRE(out.recipient_changes.size() == 1);
    CHECK(out.recipient_changes[0].to == "alice@example.com");

    BatvSession receipt; // a read receipt (null sender) from an authenticated user
    receipt.s.connect(IpAddress::parse("192.0.2.10"), "client.example");
    receipt.s.mail("<>", "", "bob");
    CHECK(receipt.s.rcpt("<alice@example.com>").kind == Answer::Kind::proceed);
    out = receipt.s.eom("Q5");
    CHECK(out.answer.kind == Answer::Kind::accept);
    CHECK(out.recipient_changes.empty());
}
