// The content checks as the engine runs them: SIZE= at MAIL FROM, the body
// streamed into the parser and skipped past the scan limit, limit symbols,
// header padding, and score overrides of built-in symbols.
#include "engine/replay.hpp"
#include "engine/session.hpp"
#include "helpers.hpp"
#include "ruleset/ruleset.hpp"

#include <doctest/doctest.h>

using namespace rampart;
using namespace rampart::test;

namespace {

const std::string kBase(kReplayConfig);

void envelope(Session& s)
{
    REQUIRE(s.connect(IpAddress::parse("192.0.2.10"), "mx.example.net").kind == Answer::Kind::proceed);
    REQUIRE(s.helo("mx.example.net").kind == Answer::Kind::proceed);
    REQUIRE(s.mail("<a@example.net>", "", "").kind == Answer::Kind::proceed);
    REQUIRE(s.rcpt("<b@example.org>").kind == Answer::Kind::proceed);
}

void proper_headers(Session& s)
{
    s.header("From", "Alice <a@example.net>");
    s.header("To", "b@example.org");
    s.header("Subject", "notes");
    s.header("Date", "Tue, 10 Nov 2026 09:14:51 +0000");
    s.header("Message-ID", "<1@example.net>");
}

std::string symbols_of(const Outcome& o)
{
    const auto* e = find_edit(o, HeaderEdit::Op::add, "X-Rampart-Symbols");
    return e ? e->value : "";
}

} // namespace

TEST_CASE("SIZE= over limits.max_message_size is refused at MAIL FROM with 552 5.3.4")
{
    struct Case {
        std::optional<std::uint64_t> size;
        bool refused;
    };
    const Case cases[] = {{std::nullopt, false}, {1000, false}, {1000000, false}, {1000001, true}, {UINT64_MAX, true}};
    for (const auto& c : cases) {
        CAPTURE(c.size.value_or(0));
        Session s(runtime(config(kBase + "[limits]\nmax_message_size = 1000000\n")));
        s.connect(IpAddress::parse("192.0.2.10"), "x");
        const Answer a = s.mail("<a@example.net>", "", "", c.size);
        CHECK((a.kind == Answer::Kind::reject) == c.refused);
        if (c.refused) {
            CHECK(a.code == "552");
            CHECK(a.xcode == "5.3.4");
            CHECK(a.text == "Message too big for this system");
        }
    }
    Session off(runtime(config(kBase + "[limits]\nmax_message_size = 0\n")));
    off.connect(IpAddress::parse("192.0.2.10"), "x");
    CHECK(off.mail("<a@example.net>", "", "", UINT64_MAX).kind == Answer::Kind::proceed);
}

TEST_CASE("past limits.message_scan_bytes the body is skipped and the message still decided")
{
    for (const bool skip : {true, false}) {
        CAPTURE(skip);
        Session s(runtime(
            config(kBase + "[limits]\nmessage_scan_bytes = 4096\nskip_body = " + (skip ? "true" : "false") + "\n")));
        envelope(s);
        proper_headers(s);
        const std::string line = "just an ordinary line of a long report\r\n";
        std::string chunk;
        while (chunk.size() < 1000)
            chunk += line;
        Answer last;
        int chunks = 0;
        for (; chunks < 20; ++chunks) {
            last = s.body(chunk);
            if (last.kind == Answer::Kind::skip_body)
                break;
        }
        if (skip) {
            CHECK(last.kind == Answer::Kind::skip_body);
            CHECK(chunks < 6);
        } else {
            CHECK(last.kind == Answer::Kind::proceed);
        }
        const Outcome out = s.eom("Q1");
        CHECK(out.answer.kind == Answer::Kind::accept);
        CHECK(symbols_of(out).find("RAMPART_MIME_MESSAGE_SCAN_LIMIT(") != std::string::npos);
    }
}

TEST_CASE("a message without a body is parsed from its headers alone")
{
    Session s(runtime(config(kBase)));
    envelope(s);
    proper_headers(s);
    const Outcome out = s.eom("Q1");
    CHECK(out.answer.kind == Answer::Kind::accept);
    const auto* cat = find_edit(out, HeaderEdit::Op::add, "X-Rampart-Category");
    REQUIRE(cat);
    CHECK(cat->value == std::string("clean"));
}

TEST_CASE("header padding does not hide the message's Content-Type")
{
    Session s(runtime(config(kBase)));
    envelope(s);
    proper_headers(s);
    const std::string filler(1000, 'x');
    for (int i = 0; i < 400; ++i) // 400 KB of fields: past kMaxKeptHeaderBytes
        s.header("X-Filler", filler);
    s.header("Content-Type", "multipart/mixed; boundary=\"b\"");
    s.body("--b\r\nContent-Type: text/html\r\n\r\n<p>only html</p>\r\n--b--\r\n");
    const Outcome out = s.eom("Q1");
    CHECK(symbols_of(out).find("RAMPART_HTML_ONLY(") != std::string::npos);
}

TEST_CASE("a score line re-weighs a built-in symbol and a rule; 0 takes a symbol's weight away")
{
    auto cfg = config(kBase);
    auto loaded = rules::Ruleset::parse("rule LUNCH_WORD\n    body /\\blunch\\b/i\n    score 1.5\n    describe lunch\n"
                                        "score LUNCH_WORD 4\nscore RAMPART_HTML_ONLY 0\n",
                                        "local.rules");
    for (const auto& e : loaded.errors)
        FAIL(e.to_string());
    auto rt = std::make_shared<Runtime>(*runtime(cfg)); // the test runtime loads no rules of its own
    rt->rules = loaded.ruleset;
    Session s(rt);
    envelope(s);
    proper_headers(s);
    s.header("Content-Type", "text/html");
    s.body("<p>Lunch today?</p>\r\n");
    const std::string syms = symbols_of(s.eom("Q1"));
    CHECK(syms.find("LUNCH_WORD(4.00)") != std::string::npos);
    CHECK(syms.find("RAMPART_HTML_ONLY(0.00)") != std::string::npos);
}

TEST_CASE("many small header fields before Content-Type neither hide the structure nor keep the flood")
{
    Session s(runtime(config(kBase)));
    envelope(s);
    proper_headers(s);
    for (int i = 0; i < 20000; ++i) // past the parser's part_headers and the kept-field ceiling
        s.header("X", "");
    s.header("Content-Type", "multipart/mixed; boundary=\"b\"");
    for (int i = 0; i < 20000; ++i) // each a second Content-Type, none of them kept
        s.header("Content-Type", "text/plain");
    s.body("--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\n"
           "Content-Type: application/octet-stream; name=\"tool.exe\"\r\n"
           "Content-Disposition: attachment; filename=\"tool.exe\"\r\n\r\nMZ\r\n--b--\r\n");
    const std::string syms = symbols_of(s.eom("Q1"));
    CHECK(syms.find("RAMPART_EXE_ATTACHMENT(") != std::string::npos);
    CHECK(syms.find("RAMPART_MIME_PART_HEADERS(") == std::string::npos);
}
