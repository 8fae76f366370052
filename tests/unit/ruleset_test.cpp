// The rule language (rampart-rules(5)): every kind, flags, overrides,
// metas, every load error with its file:line, streaming across chunks,
// a thousand rules at once, and the shipped rules/ directory.
#include "ruleset/ruleset.hpp"
#include "temp_dir.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <hs/hs.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace rampart;
using namespace rampart::rules;
using rampart::test::TempDir;

namespace {

struct Message {
    std::vector<std::pair<std::string, std::string>> headers;
    std::vector<std::string> body, rawbody, full, uris; // chunks / URLs, in order
};

using Fields = std::vector<std::pair<std::string, std::string>>;
using Chunks = std::vector<std::string>;

Message headers(Fields h)
{
    Message m;
    m.headers = std::move(h);
    return m;
}
Message body(Chunks c)
{
    Message m;
    m.body = std::move(c);
    return m;
}
Message rawbody(Chunks c)
{
    Message m;
    m.rawbody = std::move(c);
    return m;
}
Message full(Chunks c)
{
    Message m;
    m.full = std::move(c);
    return m;
}
Message uris(Chunks c)
{
    Message m;
    m.uris = std::move(c);
    return m;
}

std::shared_ptr<const Ruleset> compile(std::string_view text)
{
    auto loaded = Ruleset::parse(text, "test.rules");
    for (const auto& e : loaded.errors)
        MESSAGE("unexpected error: ", e.to_string());
    REQUIRE(loaded.errors.empty());
    REQUIRE(loaded.ruleset);
    return loaded.ruleset;
}

Scorecard scan(const std::shared_ptr<const Ruleset>& set, const Message& m)
{
    RuleScan s(set);
    for (const auto& [name, value] : m.headers)
        s.header(name, value);
    for (const auto& c : m.body)
        s.body(c);
    for (const auto& c : m.rawbody)
        s.rawbody(c);
    for (const auto& c : m.full)
        s.full(c);
    for (const auto& u : m.uris)
        s.uri(u);
    Scorecard card;
    s.finish(card);
    return card;
}

std::string fired(const Scorecard& card)
{
    std::vector<std::string> names;
    for (const auto& s : card.symbols())
        names.push_back(s.name);
    std::sort(names.begin(), names.end());
    std::string out;
    for (const auto& n : names)
        out += (out.empty() ? "" : " ") + n;
    return out;
}

// The first error, as "FILE:LINE: MESSAGE", or "" when the text loads.
std::string first_error(std::string_view text)
{
    auto loaded = Ruleset::parse(text, "test.rules");
    if (loaded.errors.empty()) {
        CHECK(loaded.ruleset);
        return "";
    }
    CHECK_FALSE(loaded.ruleset);
    return loaded.errors.front().to_string();
}

std::string source_path(const std::string& rel) { return std::string(RAMPART_SRCDIR) + "/" + rel; }

} // namespace

TEST_CASE("every kind of rule hits what it should and misses the rest")
{
    struct Case {
        const char* rule; // the kind line of rule R
        Message msg;
        bool want;
    };
    const Case cases[] = {
        {"header Subject =~ /cheap/", headers({{"Subject", "cheap watches"}}), true},
        {"header Subject =~ /cheap/", headers({{"Subject", "quarterly report"}}), false},
        {"header Subject =~ /cheap/", headers({{"X-Other", "cheap watches"}}), false},
        {"header subject =~ /cheap/", headers({{"SUBJECT", "cheap watches"}}), true}, // field names are caseless
        {"header Received =~ /evil/", headers({{"Received", "from a"}, {"Received", "from evil"}}), true},
        {"header Subject !~ /report/", headers({{"Subject", "quarterly report"}}), false},
        {"header Subject !~ /report/", headers({{"Subject", "hello"}}), true},
        {"header Subject !~ /report/", headers({{"From", "a@b"}}), true}, // absent field
        {"header * =~ /^X-Mailer: Bulk/", headers({{"X-Mailer", "BulkSender 2"}}), true},
        {"header * =~ /^X-Mailer: Bulk/", headers({{"User-Agent", "X-Mailer: Bulk"}}), false},
        {"header * !~ /^Date: /", headers({{"From", "a@b"}}), true},
        {"header * !~ /^Date: /", headers({{"Date", "Mon, 1 Jan 2024"}}), false},
        {"body /\\bfree money\\b/", body({"get free money now"}), true},
        {"body /\\bfree money\\b/", body({"freedom"}), false},
        {"body /caf\\x{e9}/", body({"un caf\xC3\xA9 ?"}), true}, // UTF-8 text
        {"rawbody /=46REE/", rawbody({"=46REE offer"}), true},
        {"rawbody /=46REE/", body({"=46REE offer"}), false}, // the body text is not the raw body
        {"full /^X-Spam-Bait: yes\\r$/m", full({"From: a\r\nX-Spam-Bait: yes\r\n\r\nhi\r\n"}), true},
        {"full /^X-Spam-Bait: yes\\r$/m", full({"From: a\r\n\r\nX-Spam-Bait no\r\n"}), false},
        {"uri /^https?:\\/\\/\\d+\\.\\d+\\.\\d+\\.\\d+\\//", uris({"http://10.1.2.3/login"}), true},
        {"uri /^https?:\\/\\/\\d+\\.\\d+\\.\\d+\\.\\d+\\//", uris({"https://example.com/"}), false},
        {"uri m{^https://[^/]+/paypal}", uris({"https://x.test/paypal/"}), true},
        {"uri m{^https://[^/]+/paypal}", body({"https://x.test/paypal/"}), false}, // not a URL input
    };
    for (const auto& c : cases) {
        const std::string rule = c.rule;
        CAPTURE(rule);
        const auto set = compile(fmt::format("rule R\n  {}\n  describe test\n", c.rule));
        const auto card = scan(set, c.msg);
        CHECK(card.has("R") == c.want);
    }
}

TEST_CASE("flags i, s and m; a rule reports once however often it matches")
{
    struct Case {
        const char* pattern;
        const char* text;
        bool want;
    };
    const Case cases[] = {
        {"/viagra/", "VIAGRA", false},    {"/viagra/i", "VIAGRA", true},    {"/a.b/", "a\nb", false},
        {"/a.b/s", "a\nb", true},         {"/^two$/", "one\ntwo\n", false}, {"/^two$/m", "one\ntwo\nthree", true},
        {"/(?i)viagra/", "ViAgRa", true}, {"m#a/b#", "a/b", true},          {"m(x(y)z)", "xyz", true},
        {"m{a{2}}i", "AA", true},         {"/a\\/b/", "a/b", true},
    };
    for (const auto& c : cases) {
        const std::string pattern = c.pattern;
        CAPTURE(pattern);
        const auto set = compile(fmt::format("rule R\n body {}\n", c.pattern));
        CHECK(scan(set, body({c.text})).has("R") == c.want);
    }
    const auto set = compile("rule R\n body /spam/\n score 1.5\n describe spam word\n");
    const auto card = scan(set, body({"spam spam spam", "and spam"}));
    REQUIRE(card.symbols().size() == 1);
    CHECK(card.symbols()[0].score == doctest::Approx(1.5));
    CHECK(card.symbols()[0].detail == "spam word");
    CHECK(compile("rule R\n body /x/\n")->size() == 1);
}

TEST_CASE("later definitions replace earlier ones; top-level score lines re-weigh")
{
    TempDir dir("ruleset-test");
    const std::string shipped = dir.path("shipped");
    std::filesystem::create_directories(shipped);
    std::ofstream(shipped + "/10-a.rules") << "rule A\n body /alpha/\n score 2\n describe old\n"
                                              "rule B\n body /beta/\n score 1\n";
    std::ofstream(shipped + "/20-b.rules") << "rule C\n body /gamma/\n score 3\n";
    std::ofstream(shipped + "/notes.txt") << "this is not a rules file\n";
    std::ofstream(shipped + "/.hidden.rules") << "garbage\n";
    const std::string local = dir.write("local.rules", "rule A\n body /delta/\n score 0.5\n describe new\n"
                                                       "score C 0\n"
                                                       "score RAMPART_DNSBL 4.5\n");
    const std::vector<std::string> paths = {shipped, local};
    auto loaded = Ruleset::load(paths);
    for (const auto& e : loaded.errors)
        MESSAGE(e.to_string());
    REQUIRE(loaded.ruleset);
    const auto& set = loaded.ruleset;
    CHECK(set->size() == 3);
    const auto old_text = scan(set, body({"alpha beta gamma"}));
    CHECK(fired(old_text) == "B"); // A no longer matches alpha; C is silenced
    const auto new_text = scan(set, body({"delta"}));
    REQUIRE(new_text.symbols().size() == 1);
    CHECK(new_text.symbols()[0].score == doctest::Approx(0.5));
    CHECK(new_text.symbols()[0].detail == "new");
    CHECK(set->score_of("RAMPART_DNSBL") == 4.5);
    CHECK_FALSE(set->score_of("RAMPART_OTHER"));
    CHECK_FALSE(set->score_of("B")); // a rule of the set, not a built-in

    // A top-level score line wins wherever it stands, the last one read most of all.
    const auto s = compile("score R 2.5\nrule R\n body /x/\n score 1\nscore R -1\n");
    const auto card = scan(s, body({"x"}));
    REQUIRE(card.symbols().size() == 1);
    CHECK(card.symbols()[0].score == doctest::Approx(-1));
}

TEST_CASE("metas: boolean, counting, nested, and rules silenced to zero still count")
{
    const auto set = compile("rule NESTED\n meta TWO_OF && !AND_AB || EXACTLY_ONE && C\n" // reads metas defined later
                             "rule A\n body /\\balpha\\b/\n score 0\n"
                             "rule B\n body /\\bbeta\\b/\n score 0\n"
                             "rule C\n body /\\bgamma\\b/\n score 0\n"
                             "rule AND_AB\n meta A && B\n"
                             "rule A_NOT_C\n meta A && !C\n"
                             "rule TWO_OF\n meta A + B + C >= 2\n"
                             "rule EXACTLY_ONE\n meta A + B + C == 1\n"
                             "rule ALL_BUT_ONE\n meta 3 - (A + B + C) < 2 && (A + B + C) != 3\n"
                             "rule NOT_A\n meta !A\n");
    struct Case {
        const char* text;
        const char* want;
    };
    const Case cases[] = {
        {"nothing here", "NOT_A"},
        {"alpha", "A_NOT_C EXACTLY_ONE"},
        {"alpha beta", "ALL_BUT_ONE AND_AB A_NOT_C TWO_OF"},
        {"alpha gamma", "ALL_BUT_ONE NESTED TWO_OF"},
        {"gamma", "EXACTLY_ONE NESTED NOT_A"},
        {"alpha beta gamma", "AND_AB TWO_OF"},
    };
    for (const auto& c : cases) {
        const std::string text = c.text;
        CAPTURE(text);
        CHECK(fired(scan(set, body({c.text}))) == c.want);
    }
}

TEST_CASE("meta cycles are errors at the meta's line")
{
    CHECK(first_error("rule A\n meta B\nrule B\n meta A\n") == "test.rules:2: rule A: meta cycle A -> B -> A");
    CHECK(first_error("rule S\n meta S\n") == "test.rules:2: rule S: meta cycle S -> S");
    CHECK(first_error("rule X\n body /x/\nrule D\n meta A && X\nrule A\n meta B || X\nrule B\n meta A\n") ==
          "test.rules:6: rule A: meta cycle A -> B -> A");
}

TEST_CASE("every load error names its file and line")
{
    struct Case {
        const char* text;
        const char* want; // the start of the first error
    };
    const Case cases[] = {
        {"rule A\n body /x/\n frobnicate 3\n", "test.rules:3: unknown keyword `frobnicate`"},
        {"# comment\nfrobnicate\n", "test.rules:2: unknown keyword `frobnicate`"},
        {"\nrule A\n score 2\n", "test.rules:2: rule A has no kind line"},
        {"rule A\n body /x/\n uri /y/\n", "test.rules:3: rule A: a second kind line (the first is at line 2)"},
        {"rule lower\n body /x/\n", "test.rules:1: bad rule name `lower`"},
        {"rule A-B\n body /x/\n", "test.rules:1: bad rule name `A-B`"},
        {"rule 1A\n body /x/\n", "test.rules:1: bad rule name `1A`"},
        {"rule A B\n body /x/\n", "test.rules:1: rule wants one name"},
        {"rule RAMPART_MINE\n body /x/\n", "test.rules:1: rule name `RAMPART_MINE`: names starting with RAMPART_"},
        {"rule A\n body /x/\n score lots\n", "test.rules:3: bad score `lots`"},
        {"rule A\n body /x/\n score 1e9\n", "test.rules:3: bad score `1e9`"},
        {"rule A\n body /x/\n score 5000\n", "test.rules:3: bad score `5000`"},
        {"rule A\n body /x/\n score 1\n score 2\n", "test.rules:4: rule A: a second score line"},
        {"score A nan\n", "test.rules:1: bad score `nan`"},
        {"rule A\n body /x/\nscore NOPE 1\n", "test.rules:3: score: no rule named NOPE"},
        {"rule A\n body /x/\n describe\n", "test.rules:3: rule A: describe wants text"},
        {"rule A\n body /x/\n describe a\n describe b\n", "test.rules:4: rule A: a second describe line"},
        {"body /x/\n", "test.rules:1: `body` outside a rule"},
        {"rule A\n body /x/\nscore A 1\n body /y/\n", "test.rules:4: `body` outside a rule"},
        {"rule A\n meta B && C\nrule B\n body /b/\n", "test.rules:2: rule A: meta names C, which is no rule"},
        {"rule A\n body /b/\nrule M\n meta A && RAMPART_DNSBL\n", "test.rules:4: rule M: meta names RAMPART_DNSBL"},
        {"rule A\n meta (B\nrule B\n body /b/\n", "test.rules:2: rule A: meta expression, column 3: missing `)`"},
        {"rule A\n meta B &&\nrule B\n body /b/\n", "test.rules:2: rule A: meta expression, column 5: expression ends"},
        {"rule A\n meta\n", "test.rules:2: rule A: empty meta expression"},
        {"rule A\n body x\n", "test.rules:2: rule A: pattern must be /.../"},
        {"rule A\n body /x\n", "test.rules:2: rule A: pattern has no closing `/`"},
        {"rule A\n body //\n", "test.rules:2: rule A: empty pattern"},
        {"rule A\n body /x/g\n", "test.rules:2: rule A: unknown pattern flag `g`"},
        {"rule A\n header Subject == /x/\n", "test.rules:2: rule A: header wants =~ or !~"},
        {"rule A\n header Sub:ject =~ /x/\n", "test.rules:2: rule A: bad header field name"},
        {"rule A\n header Subject\n", "test.rules:2: rule A: header wants FIELD =~ /pattern/"},
        {"rule A\n body /(a)\\1/\n", "test.rules:2: rule A: pattern refused: "},  // a backreference
        {"rule A\n body /(?<=a)b/\n", "test.rules:2: rule A: pattern refused: "}, // a lookbehind
        {"rule A\n body /x*/\n", "test.rules:2: rule A: pattern refused: "},      // matches the empty string
        {"rule A\n body /x[/\n", "test.rules:2: rule A: pattern refused: "},      // unbalanced
        {"rule A\n body /\xC3(/\n", "test.rules:2: rule A: pattern refused: "},   // not UTF-8
        {"rule A\n body /x/\n describe a\x01z\n", "test.rules:3: control character in line"},
    };
    for (const auto& c : cases) {
        const std::string text = c.text;
        CAPTURE(text);
        const std::string got = first_error(c.text);
        CHECK_MESSAGE(got.starts_with(c.want), "got: ", got);
    }
    // Hyperscan's own message comes with the rule's line.
    hs_database_t* db = nullptr;
    hs_compile_error_t* err = nullptr;
    REQUIRE(hs_compile("(a)\\1", HS_FLAG_SINGLEMATCH, HS_MODE_STREAM, nullptr, &db, &err) != HS_SUCCESS);
    const std::string hs_message = err->message;
    hs_free_compile_error(err);
    CHECK(first_error("rule A\n body /ok/\nrule B\n\n rawbody /(a)\\1/\n") ==
          "test.rules:5: rule B: pattern refused: " + hs_message);
}

TEST_CASE("a refused pattern among many is reported at its own rule")
{
    std::string text;
    for (int i = 0; i < 50; ++i)
        text += fmt::format("rule R{}\n body /word{}\\b/\n", i, i);
    text += "rule BAD\n body /(?<!x)y/\n";
    const std::string got = first_error(text);
    CHECK(got.starts_with("test.rules:102: rule BAD: pattern refused: "));
}

TEST_CASE("limits: line length, file size and rule count are errors with file:line")
{
    const std::string long_line = "rule A\n body /" + std::string(kMaxLineBytes, 'a') + "/\n";
    CHECK(first_error(long_line).starts_with(
        fmt::format("test.rules:2: line too long: {} > {} bytes", kMaxLineBytes + 8, kMaxLineBytes)));
    CHECK(first_error("rule A\n body /" + std::string(kMaxLineBytes - 10, 'a') + "/\n") == "");

    std::string big = "rule A\n body /x/\n";
    big += std::string(kMaxFileBytes, '#');
    CHECK(first_error(big) == fmt::format("test.rules:3: file too big: more than {} bytes", kMaxFileBytes));

    std::string many;
    for (std::size_t i = 0; i <= kMaxRules; ++i)
        many += fmt::format("rule R{}\nbody /x/\n", i);
    CHECK(first_error(many) ==
          fmt::format("test.rules:{}: too many rules: more than {}", 2 * kMaxRules + 1, kMaxRules));
    many += "rule R5\nbody /y/\n"; // a redefinition does not count again
    auto loaded = Ruleset::parse(many, "test.rules");
    CHECK(loaded.errors.size() == 1);
}

TEST_CASE("errors are all reported, up to a ceiling")
{
    std::string text;
    for (int i = 0; i < 150; ++i)
        text += "bogus\n";
    const auto loaded = Ruleset::parse(text, "test.rules");
    REQUIRE(loaded.errors.size() == 101);
    CHECK(loaded.errors[99].to_string() == "test.rules:100: unknown keyword `bogus`");
    CHECK(loaded.errors[100].to_string() == "50 more errors not shown");
}

TEST_CASE("unreadable files and directories are errors without a line")
{
    TempDir dir("ruleset-test");
    const std::vector<std::string> missing = {dir.path("nope.rules")};
    auto loaded = Ruleset::load(missing);
    REQUIRE(loaded.errors.size() == 1);
    CHECK(loaded.errors[0].line == 0);
    CHECK(loaded.errors[0].to_string() == missing[0] + ": cannot read: No such file or directory");
    CHECK_FALSE(loaded.ruleset);

    const std::string bad = dir.write("bad.rules", "rule A\n body /x/\n\nbogus\n");
    const std::vector<std::string> one = {bad};
    loaded = Ruleset::load(one);
    REQUIRE(loaded.errors.size() == 1);
    CHECK(loaded.errors[0].to_string() == bad + ":4: unknown keyword `bogus`");

    const std::vector<std::string> none;
    loaded = Ruleset::load(none); // no rules is a valid, empty set
    REQUIRE(loaded.ruleset);
    CHECK(loaded.ruleset->size() == 0);
    CHECK_FALSE(loaded.ruleset->wants_rawbody());
    CHECK(scan(loaded.ruleset, headers({{"Subject", "x"}})).symbols().empty());
}

TEST_CASE("streams: a pattern split over chunks still hits, and the end of data counts")
{
    const auto set = compile("rule RAW\n rawbody /wire transfer/\n"
                             "rule FULL\n full /X-Bait: yes/\n"
                             "rule BODY\n body /caf\\x{e9} cr\\x{e8}me/\n"
                             "rule TAIL\n body /final words$/\n"
                             "rule ANCHOR\n rawbody /\\Aleading/\n");
    CHECK(set->wants_rawbody());
    CHECK(set->wants_full());
    Message m;
    m.rawbody = {"leading text, send a wi", "re tra", "nsfer today"};
    m.full = {"Subject: hi\r\nX-Ba", "it: yes\r\n\r\n"};
    // "é" and "è" are cut between chunks inside their UTF-8 bytes
    m.body = {"un caf\xC3", "\xA9 cr\xC3", "\xA8", "me, final words"};
    CHECK(fired(scan(set, m)) == "ANCHOR BODY FULL RAW TAIL");

    Message later;
    later.rawbody = {"not ", "leading"};
    later.body = {"final words then more"};
    CHECK(fired(scan(set, later)) == "");
}

TEST_CASE("invalid UTF-8 in text inputs is repaired, not fed to the UTF-8 databases")
{
    const auto set = compile("rule B\n body /\\bfree offer\\b/\n"
                             "rule H\n header Subject =~ /^win \\x{fffd} now$/\n"
                             "rule U\n uri /\\/login\\b/\n"
                             "rule R\n rawbody /\\xff\\xfe/\n");
    Message m;
    m.headers = {{"Subject", "win \xFF now"}};
    m.body = {"\xC3", "(\xFF free offer \xE2\x82"}; // bad lead, stray byte, a cut character at the end
    m.uris = {"http://h\xC0\xAF.test/login"};
    m.rawbody = {"\xFF\xFE"};
    CHECK(fired(scan(set, m)) == "B H R U");
}

TEST_CASE("a thousand generated rules load and scan a 10 KB body correctly")
{
    std::string text;
    for (int i = 0; i < 1000; ++i)
        text += fmt::format("rule GEN_{}\n body /\\btoken{}x\\b/i\n score 0.{}\n describe generated {}\n", i, i,
                            i % 9 + 1, i);
    text += "rule GEN_SUBJECT\n header Subject =~ /token7x/\n";
    const auto set = compile(text);
    CHECK(set->size() == 1001);
    std::string body;
    int k = 0;
    while (body.size() < 10 * 1024)
        body += fmt::format("filler word number {} ", k++);
    body += " TOKEN17X and token999x, token5000x, token12";
    Message m;
    m.headers = {{"Subject", "token7x"}};
    for (std::size_t at = 0; at < body.size(); at += 1000)
        m.body.push_back(body.substr(at, 1000));
    CHECK(fired(scan(set, m)) == "GEN_17 GEN_999 GEN_SUBJECT");
}

TEST_CASE("scans in several threads share one set and its scratch pool")
{
    const auto set = compile("rule A\n body /alpha/\nrule S\n header Subject =~ /beta/\n");
    std::vector<std::thread> threads;
    std::vector<int> ok(4, 0);
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 200; ++i) {
                const bool even = i % 2 == 0;
                Message m = headers({{"Subject", even ? "beta" : "gamma"}});
                m.body = {even ? "alpha" : "omega"};
                const auto card = scan(set, m);
                ok[t] += card.has("A") == even && card.has("S") == even;
            }
        });
    for (auto& th : threads)
        th.join();
    for (int t = 0; t < 4; ++t)
        CHECK(ok[t] == 200);
}

TEST_CASE("a scan left unfinished or fed after finish() is harmless")
{
    const auto set = compile("rule R\n rawbody /x/\n");
    {
        RuleScan s(set);
        s.rawbody("x"); // destroyed with its stream open
    }
    RuleScan s(set);
    Scorecard card;
    s.finish(card);
    s.rawbody("x");
    s.finish(card);
    CHECK(card.symbols().empty());
}

namespace {

std::shared_ptr<const Ruleset> shipped()
{
    const std::vector<std::string> paths = {source_path("rules")};
    auto loaded = Ruleset::load(paths);
    for (const auto& e : loaded.errors)
        MESSAGE("shipped rules: ", e.to_string());
    REQUIRE(loaded.errors.empty());
    return loaded.ruleset;
}

Message business_mail()
{
    Message m;
    m.headers = {{"From", "Anna Berg <anna.berg@example.com>"},
                 {"To", "Tom Rees <tom@example.org>"},
                 {"Subject", "Minutes of Tuesday's meeting and the invoice for March"},
                 {"Date", "Tue, 12 Mar 2024 10:15:00 +0100"},
                 {"Message-ID", "<20240312101500.4711@example.com>"}};
    m.body = {"Hi Tom,\n\nthanks for your time on Tuesday. As agreed, attached are the minutes and our invoice "
              "for March (payment within 30 days, bank details as usual). Could you verify the figures in section "
              "2 before Friday? If your account team needs a login for the shared folder, I'll send one.\n\n"
              "We should also discuss the limited budget for Q3, and whether the price is guaranteed for 12 "
              "months. My colleague will click through the prototype and send feedback.\n\n"
              "Best regards,\nAnna Berg\nSales Manager, Example Ltd.\n+49 30 1234567\n"};
    m.rawbody = m.body;
    m.uris = {"https://www.example.com/products/", "https://calendar.example.com/event?id=42"};
    return m;
}

} // namespace

TEST_CASE("the shipped rules load, fire on spam samples, and stay quiet on business mail")
{
    const auto set = shipped();
    CHECK(set->size() >= 50);

    CHECK(fired(scan(set, business_mail())) == "");

    struct Case {
        Message msg;
        const char* rule;
    };
    const Case cases[] = {
        {headers({{"To", "undisclosed-recipients:;"}}), "TO_UNDISCLOSED"},
        {headers({{"Subject", "FREE gift inside"}}), "SUBJECT_FREE_CAPS"},
        {headers({{"From", "\"Support\" <user4839201755@mail.test>"}}), "FROM_LONG_DIGITS"},
        {body({"I am a barrister and you are named the beneficiary of the estate."}), "LOTTERY_BARRISTER"},
        {body({"Congratulations, you have won the prize!"}), "LOTTERY_YOU_HAVE_WON"},
        {body({"a sum of $12.5 million to be moved by wire transfer"}), "MONEY_MILLIONS"},
        {body({"Buy cheap v1agra online"}), "OBFU_VIAGRA"},
        {body({"genuine c.i.a.l.i.s here"}), "OBFU_CIALIS"},
        {body({"Order Viagra without a prescription"}), "PHARMA_NO_PRESCRIPTION"},
        {body({"Your account has been suspended. Verify your account now."}), "PHISH_VERIFY_ACCOUNT"},
        {uris({"http://192.0.2.7/secure/login.php"}), "URI_IP_LOGIN"},
        {body({"Act now! This offer expires today."}), "URGENCY_ACT_NOW"},
    };
    for (const auto& c : cases) {
        const std::string rule = c.rule;
        CAPTURE(rule);
        CHECK_MESSAGE(scan(set, c.msg).has(c.rule), "fired: ", fired(scan(set, c.msg)));
    }
}

TEST_CASE("the examples of rampart-rules(5) load on top of the shipped rules")
{
    std::ifstream in(source_path("man/rampart-rules.5"));
    REQUIRE(in);
    std::string line, examples; // the .nf blocks of the EXAMPLES section
    bool section = false, block = false;
    while (std::getline(in, line)) {
        if (line.starts_with(".SH"))
            section = line == ".SH EXAMPLES";
        else if (line == ".nf" || line == ".fi")
            block = line == ".nf";
        else if (section && block && !line.starts_with("."))
            examples += line + "\n";
    }
    for (const auto& [from, to] : {std::pair<std::string, std::string>{"\\e", "\\"}, {"\\-", "-"}})
        for (auto at = examples.find(from); at != std::string::npos; at = examples.find(from, at + to.size()))
            examples.replace(at, from.size(), to);
    REQUIRE(examples.find("rule URI_IP_LOGIN") != std::string::npos);
    TempDir dir("ruleset-test");
    const std::vector<std::string> paths = {source_path("rules"), dir.write("local.rules", examples)};
    auto loaded = Ruleset::load(paths);
    for (const auto& e : loaded.errors)
        MESSAGE(e.to_string());
    REQUIRE(loaded.ruleset);
    CHECK(loaded.ruleset->score_of("RAMPART_SUBJECT_SHOUTING") == 0.2);
    CHECK(scan(loaded.ruleset, uris({"http://10.0.0.1/login"})).has("URI_IP_LOGIN"));
    CHECK_FALSE(scan(loaded.ruleset, body({"next of kin"})).has("LOTTERY_NEXT_OF_KIN")); // silenced
}
