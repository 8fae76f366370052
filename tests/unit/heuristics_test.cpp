// Unit tests: the header and structure heuristics (src/checks/), each
// symbol on a case that should raise it and on normal mail that should not.
#include "checks/address_field.hpp"
#include "checks/check.hpp"
#include "engine/runtime.hpp"
#include "mime/content.hpp"

#include "helpers.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace rampart {
const Check& date_check();
const Check& message_id_check();
const Check& from_check();
const Check& reply_to_check();
const Check& subject_check();
const Check& body_structure_check();
const Check& attachments_check();
const Check& links_check();
} // namespace rampart

using namespace rampart;

namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

// 2024-03-15 12:00:00 UTC, a Friday.
const auto kArrival = std::chrono::sys_days{std::chrono::year{2024} / 3 / 15} + std::chrono::hours{12};

// The symbols `check` adds at end of message to `tx`, under `cfg_text`.
std::set<std::string> symbols(const Check& check, Transaction& tx, const std::string& cfg_text = "")
{
    const auto cfg = test::config(cfg_text);
    const Runtime rt{.config = cfg, .keys = Keys("")};
    Client client;
    Context ctx{*cfg, rt, client, tx};
    CHECK(check.runs_in(Phase::eom, *cfg));
    CHECK_FALSE(check.runs_in(Phase::body, *cfg));
    CHECK_FALSE(check.answers_in(Phase::eom, rt));
    CHECK_FALSE(check.uses_redis(Phase::eom, *cfg));
    check.decide(Phase::eom, ctx, {});
    std::set<std::string> out;
    for (const Symbol& s : tx.card.symbols()) {
        CHECK_MESSAGE(s.detail.size() <= 90, s.name, " detail too long: ", s.detail);
        CHECK_MESSAGE(s.score > 0, s.name);
        out.insert(s.name);
    }
    return out;
}

std::set<std::string> header_symbols(const Check& check, const Fields& fields, const std::string& cfg = "")
{
    Transaction tx;
    tx.arrival = kArrival;
    tx.headers = fields;
    return symbols(check, tx, cfg);
}

std::set<std::string> content_symbols(const Check& check, const mime::Content& content)
{
    Transaction tx;
    tx.content = &content;
    return symbols(check, tx);
}

std::string show(const std::set<std::string>& s)
{
    std::string out;
    for (const auto& n : s)
        out += n + " ";
    return out.empty() ? "(none)" : out;
}

struct HeaderCase {
    const char* why;
    Fields fields;
    std::set<std::string> want; // exactly these symbols
};

void run_header_cases(const Check& check, const std::vector<HeaderCase>& cases, const std::string& cfg = "")
{
    for (const HeaderCase& c : cases) {
        const auto got = header_symbols(check, c.fields, cfg);
        CHECK_MESSAGE(got == c.want, std::string(c.why), ": got ", show(got), " want ", show(c.want));
    }
}

mime::Part part(std::string type, std::string filename = "", std::string detected = "")
{
    mime::Part p;
    p.content_type = std::move(type);
    p.filename = std::move(filename);
    p.detected_type = std::move(detected);
    if (!p.filename.empty())
        p.disposition = "attachment";
    return p;
}

} // namespace

TEST_CASE("address fields: RFC 5322 forms, obsolete ones included, and broken ones")
{
    struct Case {
        const char* value;
        bool valid;
        std::size_t mailboxes;
        const char* name;   // of the first mailbox
        const char* domain; // of the first mailbox
    };
    const Case cases[] = {
        {"John Doe <jdoe@Machine.Example>", true, 1, "John Doe", "machine.example"},
        {"\"Joe Q. Public\" <john.q.public@example.com>", true, 1, "Joe Q. Public", "example.com"},
        {"\"Doe, John\" <john@example.com>, k@example.org", true, 2, "Doe, John", "example.com"},
        {"Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>", true, 1, "Pete", "silly.test"},
        {"A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;", true, 3, "Ed Jones", "a.test"},
        {"Undisclosed recipients:;", true, 0, "", ""},
        {"jdoe@example.com (John Doe)", true, 1, "John Doe", "example.com"},
        {"Mary Smith <@node.test:mary@example.net>", true, 1, "Mary Smith", "example.net"},
        {"\"a\\\"b\" <x@y.example>", true, 1, "a\"b", "y.example"},
        {"\"strange local\"@example.com", true, 1, "", "example.com"},
        {"jdoe @ example . com", true, 1, "", "example.com"},
        {"x@[192.0.2.1]", true, 1, "", "192.0.2.1"},
        {"=?utf-8?q?J=C3=B6rg?= <j@example.de>", true, 1, "=?utf-8?q?J=C3=B6rg?=", "example.de"},
        {"support@bank.example <x@evil.example>", false, 1, "support@bank.example", "evil.example"},
        {"Joe <joe@example.com", false, 1, "Joe", "example.com"},
        {"\"open quote <a@b.example>", false, 1, "", ""},
        {"undisclosed", false, 1, "", ""},
        {"<>", false, 1, "", ""},
        {"a@", false, 1, "", ""},
        {"a@b..example", false, 1, "", ""},
        {".a@b.example", false, 1, "", "b.example"},
        {"Joe <a@b.example> trailing", false, 1, "Joe", "b.example"},
        {"", false, 0, "", ""},
        {"Group: a@b.example", false, 1, "", "b.example"},
        {"Joe ((((((((((((((((((((deep)))))))))))))))))))) <a@b.example>", false, 1, "Joe", "b.example"},
    };
    for (const Case& c : cases) {
        const AddressField f = parse_address_field(c.value);
        CHECK_MESSAGE(f.valid == c.valid, std::string(c.value), ": error ", f.error);
        CHECK_MESSAGE(f.error.empty() == f.valid, std::string(c.value));
        REQUIRE_MESSAGE(f.mailboxes.size() == c.mailboxes, std::string(c.value));
        if (c.mailboxes > 0) {
            CHECK_MESSAGE(f.mailboxes[0].display_name == c.name, std::string(c.value), ": got ",
                          f.mailboxes[0].display_name);
            CHECK_MESSAGE(f.mailboxes[0].domain == c.domain, std::string(c.value), ": got ", f.mailboxes[0].domain);
        }
    }
}

TEST_CASE("address fields: hostile input stays within the limits")
{
    std::string many;
    for (int i = 0; i < 500; ++i)
        many += "a@b.example, ";
    const AddressField f = parse_address_field(many);
    CHECK(f.mailboxes.size() == kMaxMailboxes);
    CHECK(parse_address_field(std::string(kMaxAddressFieldBytes + 1, 'a')).error == "field too long");
    CHECK_FALSE(parse_address_field(std::string(5000, '(')).valid);
    CHECK_FALSE(parse_address_field(std::string(5000, '<')).valid);
    CHECK_FALSE(parse_address_field(std::string("a@b.example\0x", 13)).valid);
}

TEST_CASE("domain-shaped words")
{
    for (const char* yes : {"News.com", "paypal.co.uk", "www.example.org", "a-b.io"})
        CHECK_MESSAGE(looks_like_domain(yes), std::string(yes));
    for (const char* no : {"J.R.R", "v1.2", "St.Louis", "example", ".com", "a..com", "a.com.", "x_y.com", ""})
        CHECK_MESSAGE(!looks_like_domain(no), std::string(no));
}

TEST_CASE("date: missing, unreadable, wrong weekday, far from arrival")
{
    const auto d = [](const char* v) { return Fields{{"Date", v}}; };
    using S = std::set<std::string>;
    run_header_cases(date_check(),
                     {
                         {"no Date", {{"Subject", "x"}}, S{"RAMPART_DATE_MISSING"}},
                         {"prose", d("yesterday"), S{"RAMPART_DATE_INVALID"}},
                         {"ISO 8601", d("2024-03-15T12:00:00Z"), S{"RAMPART_DATE_INVALID"}},
                         {"no zone", d("Fri, 15 Mar 2024 12:00:00"), S{"RAMPART_DATE_INVALID"}},
                         {"unknown zone", d("Fri, 15 Mar 2024 12:00:00 XYZ"), S{"RAMPART_DATE_INVALID"}},
                         {"zone out of range", d("Fri, 15 Mar 2024 12:00:00 +9900"), S{"RAMPART_DATE_INVALID"}},
                         {"day 32", d("Fri, 32 Mar 2024 12:00:00 +0000"), S{"RAMPART_DATE_INVALID"}},
                         {"29 Feb, not leap", d("Wed, 29 Feb 2023 12:00:00 +0000"), S{"RAMPART_DATE_INVALID"}},
                         {"text after the zone", d("Fri, 15 Mar 2024 12:00:00 +0000 UTC"), S{"RAMPART_DATE_INVALID"}},
                         {"hour 25", d("Fri, 15 Mar 2024 25:00:00 +0000"), S{"RAMPART_DATE_INVALID"}},
                         {"no such month", d("Fri, 15 Mrz 2024 12:00:00 +0000"), S{"RAMPART_DATE_INVALID"}},
                         {"full weekday", d("Friday, 15 Mar 2024 12:00:00 +0000"), S{"RAMPART_DATE_INVALID"}},
                         {"open comment", d("Fri, 15 Mar 2024 12:00:00 +0000 (UTC"), S{"RAMPART_DATE_INVALID"}},
                         {"year 1850", d("15 Mar 1850 12:00:00 +0000"), S{"RAMPART_DATE_INVALID"}},
                         {"wrong weekday", d("Mon, 15 Mar 2024 12:00:00 +0000"), S{"RAMPART_DATE_WRONG_WEEKDAY"}},
                         {"a week ahead", d("Fri, 22 Mar 2024 12:00:00 +0000"), S{"RAMPART_DATE_FUTURE"}},
                         {"years back", d("1 Jan 2020 00:00:00 +0000"), S{"RAMPART_DATE_PAST"}},
                         {"back and wrong", d("Sun, 1 Jan 2020 00:00:00 +0000"),
                          S{"RAMPART_DATE_PAST", "RAMPART_DATE_WRONG_WEEKDAY"}},
                         // Legitimate forms, some obsolete, all near the arrival.
                         {"RFC 5322", d("Fri, 15 Mar 2024 12:00:00 +0000"), S{}},
                         {"no weekday, GMT", d("15 Mar 2024 11:00:00 GMT"), S{}},
                         {"two-digit year, EST", d("Fri, 15 Mar 24 07:00:00 EST"), S{}},
                         {"three-digit year", d("Fri, 15 Mar 124 12:00:00 +0000"), S{}},
                         {"no seconds, PDT", d("Fri, 15 Mar 2024 05:00 PDT"), S{}},
                         {"trailing comment", d("Fri, 15 Mar 2024 12:00:00 +0000 (UTC)"), S{}},
                         {"comments inside", d("Fri(day) , 15 Mar 2024 (x) 13:00:00 +0100 (CET)"), S{}},
                         {"UT, lower case", d("fri, 15 mar 2024 12:00:00 ut"), S{}},
                         {"military zone", d("Fri, 15 Mar 2024 12:00:00 Z"), S{}},
                         {"single-digit day, tab", d("Fri,\t8 Mar 2024 12:00:00 -0000"), S{}},
                         {"weekday as written", d("Sat, 16 Mar 2024 01:00:00 +1300"), S{}},
                         {"leap day", d("Thu, 29 Feb 2024 12:00:00 +0000"), S{}},
                         {"leap second", d("Fri, 15 Mar 2024 11:59:60 +0000"), S{}},
                         {"23 hours ahead", d("Sat, 16 Mar 2024 11:00:00 +0000"), S{}},
                     });
}

TEST_CASE("date: the range settings apply")
{
    const Fields f{{"Date", "Fri, 15 Mar 2024 14:00:00 +0000"}};
    CHECK(header_symbols(date_check(), f, "[content]\ndate_future_s = 3600\n") ==
          std::set<std::string>{"RAMPART_DATE_FUTURE"});
    const Fields old{{"Date", "Fri, 15 Mar 2024 10:00:00 +0000"}};
    CHECK(header_symbols(date_check(), old, "[content]\ndate_past_s = 3600\n") ==
          std::set<std::string>{"RAMPART_DATE_PAST"});
    CHECK(header_symbols(date_check(), old).empty());
}

TEST_CASE("header checks do not call a field missing when the session dropped fields")
{
    Transaction tx;
    tx.arrival = kArrival;
    tx.header_count = 5000; // more than were kept
    tx.headers = {{"Received", "x"}};
    CHECK(symbols(date_check(), tx).empty());
    CHECK(symbols(message_id_check(), tx).empty());
    CHECK(symbols(from_check(), tx).empty());
    CHECK(symbols(subject_check(), tx).empty());
}

TEST_CASE("message-id: missing, malformed, repeated")
{
    const auto m = [](const char* v) { return Fields{{"Message-ID", v}}; };
    using S = std::set<std::string>;
    run_header_cases(message_id_check(), {
                                             {"none", {{"From", "a@b.example"}}, S{"RAMPART_MSGID_MISSING"}},
                                             {"no brackets", m("abc@example.com"), S{"RAMPART_MSGID_INVALID"}},
                                             {"no @", m("<abc>"), S{"RAMPART_MSGID_INVALID"}},
                                             {"space", m("<a b@example.com>"), S{"RAMPART_MSGID_INVALID"}},
                                             {"no left", m("<@example.com>"), S{"RAMPART_MSGID_INVALID"}},
                                             {"no right", m("<abc@>"), S{"RAMPART_MSGID_INVALID"}},
                                             {"empty", m(""), S{"RAMPART_MSGID_INVALID"}},
                                             {"two ids", m("<a@b.example> <c@d.example>"), S{"RAMPART_MSGID_INVALID"}},
                                             {"two fields",
                                              {{"Message-ID", "<a@b.example>"}, {"message-id", "<c@d.example>"}},
                                              S{"RAMPART_MSGID_MULTIPLE"}},
                                             {"usual", m("<20240315120000.ABC123@mail.example.com>"), S{}},
                                             {"gmail-like", m("<CAF=+k_Zx-9$w@mail.gmail.com>"), S{}},
                                             {"literal, spaces", m("  <a.b@[192.0.2.1]>  "), S{}},
                                             {"comments", m("(id) <x@y.example> (sent by z)"), S{}},
                                         });
}

TEST_CASE("from: missing, repeated, unreadable, display names naming others")
{
    const auto f = [](const char* v) { return Fields{{"From", v}}; };
    using S = std::set<std::string>;
    run_header_cases(
        from_check(),
        {
            {"none", {{"Subject", "x"}}, S{"RAMPART_FROM_MISSING"}},
            {"two fields", {{"From", "a@b.example"}, {"From", "c@d.example"}}, S{"RAMPART_FROM_MULTIPLE"}},
            {"no address", f("undisclosed"), S{"RAMPART_FROM_INVALID"}},
            {"empty brackets", f("Someone <>"), S{"RAMPART_FROM_INVALID"}},
            {"no domain", f("a@"), S{"RAMPART_FROM_INVALID"}},
            {"unclosed", f("Joe <joe@example.com"), S{"RAMPART_FROM_INVALID"}},
            {"group only", f("Undisclosed:;"), S{"RAMPART_FROM_INVALID"}},
            {"quoted address", f("\"support@paypal.com\" <x@evil.example>"), S{"RAMPART_FROM_NAME_SPOOF"}},
            {"unquoted address", f("support@paypal.com <x@evil.example>"),
             S{"RAMPART_FROM_NAME_SPOOF", "RAMPART_FROM_INVALID"}},
            {"encoded address", f("=?utf-8?q?Support_=3Cservice=40paypal.com=3E?= <x@evil.example>"),
             S{"RAMPART_FROM_NAME_SPOOF"}},
            {"fullwidth @", f("\"service\xEF\xBC\xA0paypal.com\" <x@evil.example>"), S{"RAMPART_FROM_NAME_SPOOF"}},
            {"old comment form", f("x@evil.example (service@paypal.com)"), S{"RAMPART_FROM_NAME_SPOOF"}},
            {"second mailbox", f("a@b.example, \"ceo@corp.example\" <x@evil.example>"), S{"RAMPART_FROM_NAME_SPOOF"}},
            {"domain in name", f("\"CNET News.com\" <a@cnet.example>"), S{"RAMPART_FROM_NAME_DOMAIN"}},
            {"unquoted domain", f("PayPal.com <x@evil.example>"), S{"RAMPART_FROM_NAME_DOMAIN"}},
            {"encoded domain", f("=?utf-8?q?PayPal=2Ecom?= <x@evil.example>"), S{"RAMPART_FROM_NAME_DOMAIN"}},
            // Normal mail.
            {"plain", f("John Doe <john@example.com>"), S{}},
            {"bare", f("john@example.com"), S{}},
            {"name is own address", f("\"john@example.com\" <john@example.com>"), S{}},
            {"own address, subdomain", f("\"support@paypal.com\" <service@mail.paypal.com>"), S{}},
            {"own domain", f("Amazon.com <store-news@amazon.com>"), S{}},
            {"own domain, other TLD form", f("\"Example.co.uk Team\" <news@mail.example.co.uk>"), S{}},
            {"comma in quotes", f("\"Doe, John\" <john@example.com>"), S{}},
            {"RFC comments", f("Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>"), S{}},
            {"initials", f("J.R.R. Tolkien <jrr@example.org>"), S{}},
            {"dotted city", f("St.Louis Cardinals <x@mlb.example>"), S{}},
            {"encoded name", f("=?utf-8?q?J=C3=B6rg_M=C3=BCller?= <j@example.de>"), S{}},
            {"group", f("Team: a@example.com, b@example.com;"), S{}},
        });
}

TEST_CASE("reply-to: a freemail detour")
{
    const auto r = [](const char* from, const char* reply_to) {
        return Fields{{"From", from}, {"Reply-To", reply_to}};
    };
    using S = std::set<std::string>;
    const S fires{"RAMPART_REPLYTO_FREEMAIL"};
    run_header_cases(reply_to_check(),
                     {
                         {"bank to gmail", r("Bank <info@bank.example>", "Claims <claims.dept@gmail.com>"), fires},
                         {"yahoo abroad", r("x@bank.example", "y@yahoo.co.uk"), fires},
                         {"subdomain of a provider", r("x@bank.example", "y@inbox.mail.ru"), fires},
                         {"second mailbox", r("x@bank.example", "help@bank.example, y@outlook.com"), fires},
                         {"unreadable From", r("broken", "y@gmx.de"), fires},
                         {"same freemail", r("a@gmail.com", "b@gmail.com"), S{}},
                         {"same freemail, other host", r("a@yahoo.co.uk", "b@mail.yahoo.co.uk"), S{}},
                         {"own domain", r("x@bank.example", "help@support.bank.example"), S{}},
                         {"a list", r("x@bank.example", "list@lists.example.org"), S{}},
                         {"lookalike", r("x@bank.example", "y@notgmail.com"), S{}},
                         {"no Reply-To", {{"From", "x@bank.example"}}, S{}},
                     });
    // A configured list replaces the built-in one.
    run_header_cases(reply_to_check(),
                     {
                         {"configured", r("x@bank.example", "y@mail.example"), fires},
                         {"configured subdomain", r("x@bank.example", "y@eu.mail.example"), fires},
                         {"built-in no more", r("x@bank.example", "y@gmail.com"), S{}},
                     },
                     "[content]\nfreemail_domains = [\"mail.example\"]\n");
}

TEST_CASE("subject: missing, shouting, hidden characters, broken or needless encoding")
{
    const auto s = [](const char* v) { return Fields{{"Subject", v}}; };
    using S = std::set<std::string>;
    run_header_cases(
        subject_check(),
        {
            {"none", {{"From", "a@b.example"}}, S{"RAMPART_SUBJECT_MISSING"}},
            {"shouting", s("FINAL NOTICE: YOUR ACCOUNT IS SUSPENDED"), S{"RAMPART_SUBJECT_SHOUTING"}},
            {"encoded shouting", s("=?utf-8?q?CLAIM_YOUR_PRIZE_=E2=82=AC100?="), S{"RAMPART_SUBJECT_SHOUTING"}},
            {"zero-width space", s("Vi\xE2\x80\x8Bgra"), S{"RAMPART_SUBJECT_HIDDEN_CHARS"}},
            {"soft hyphen, encoded", s("=?utf-8?q?Fr=C2=ADee_m=C3=B6ney?="), S{"RAMPART_SUBJECT_HIDDEN_CHARS"}},
            {"right-to-left override", s("=?utf-8?q?Invoice_=E2=80=AEfdp?="), S{"RAMPART_SUBJECT_HIDDEN_CHARS"}},
            {"joiner in a word", s("=?utf-8?q?Vi=E2=80=8Dagra_=C3=A9?="), S{"RAMPART_SUBJECT_HIDDEN_CHARS"}},
            {"control character", s("=?utf-8?q?hello=07_w=C3=B6rld?="), S{"RAMPART_SUBJECT_HIDDEN_CHARS"}},
            {"broken base64", s("=?utf-8?B?w6l*0w6k=?="), S{"RAMPART_SUBJECT_BAD_ENCODING"}},
            {"unknown charset", s("=?x-no-such?q?caf=E9?="), S{"RAMPART_SUBJECT_BAD_ENCODING"}},
            {"needless", s("=?utf-8?q?Cheap_pills?="), S{"RAMPART_SUBJECT_NEEDLESS_ENCODING"}},
            {"split word", s("=?utf-8?q?V?= =?utf-8?q?iagra?= now"), S{"RAMPART_SUBJECT_NEEDLESS_ENCODING"}},
            // Normal mail.
            {"plain", s("Meeting notes for Friday"), S{}},
            {"acronyms", s("RE: NASA budget review for the next quarter"), S{}},
            {"short capitals", s("URGENT"), S{}},
            {"needed encoding", s("=?utf-8?q?R=C3=A9union?= demain"), S{}},
            {"emoji sequence", s("Family =?utf-8?q?=F0=9F=91=A8=E2=80=8D=F0=9F=91=A9?="), S{}},
            {"tab", s("a\tb"), S{}},
            {"empty", s(""), S{}},
        });
}

TEST_CASE("a subject the session kept but whose field was dropped is still judged")
{
    Transaction tx;
    tx.header_count = 5000;
    tx.has_subject = true;
    tx.subject = "BUY NOW AND SAVE BIG TODAY";
    CHECK(symbols(subject_check(), tx) == std::set<std::string>{"RAMPART_SUBJECT_SHOUTING"});
}

namespace {

// A multipart/alternative message: plain and HTML halves of ample text.
mime::Content alternative(std::string plain_text, std::string html_text)
{
    mime::Content c;
    mime::Part plain = part("text/plain"), html = part("text/html");
    plain.alternative = html.alternative = 0;
    plain.text_chars = plain_text.size();
    html.text_chars = html_text.size();
    plain.text_sample = std::move(plain_text);
    html.text_sample = std::move(html_text);
    c.plain_chars = plain.text_chars;
    c.html_visible_chars = html.text_chars;
    c.parts = {plain, html};
    return c;
}

std::string words(const char* stem, int n)
{
    std::string out;
    for (int i = 0; i < n; ++i)
        out += std::string(stem) + static_cast<char>('a' + i % 26) + static_cast<char>('a' + i / 26) + " ";
    return out;
}

} // namespace

TEST_CASE("body structure: each signal and a normal message")
{
    const std::string prose = words("word", 60) + std::string(300, 'x');
    const mime::Content normal = alternative(prose, prose);
    CHECK(content_symbols(body_structure_check(), normal).empty());

    struct Case {
        const char* why;
        mime::Content content;
        std::set<std::string> want;
    };
    std::vector<Case> cases;
    {
        mime::Content c;
        c.parts = {part("text/html")};
        c.html_visible_chars = 500;
        cases.push_back({"HTML alone", c, {"RAMPART_HTML_ONLY"}});
        c.parts.push_back(part("text/plain", "notes.txt")); // an attached text is no alternative
        cases.push_back({"HTML and an attached text", c, {"RAMPART_HTML_ONLY"}});
    }
    {
        mime::Content c = normal;
        c.html_hidden_chars = 50;
        c.html_visible_chars = 300;
        cases.push_back({"hidden text", c, {"RAMPART_HTML_INVISIBLE_TEXT"}});
        c.html_hidden_chars = 10;
        cases.push_back({"a little hidden text", c, {}});
        c.html_hidden_chars = 25;
        c.html_visible_chars = 1000;
        cases.push_back({"hidden text, much visible", c, {}});
        c.html_hidden_chars = 0;
        c.html_tiny_chars = 40;
        c.html_visible_chars = 300;
        cases.push_back({"tiny text", c, {"RAMPART_HTML_TINY_TEXT"}});
    }
    {
        mime::Content c = alternative("see the picture", "");
        c.html_images = 3;
        cases.push_back({"HTML of images", c, {"RAMPART_HTML_IMAGE_ONLY"}});
        c.html_visible_chars = 800;
        c.plain_chars = 800;
        cases.push_back({"HTML with images and text", c, {}});
    }
    {
        cases.push_back({"alternatives disagree",
                         alternative(words("cheap", 30), words("meeting", 30)),
                         {"RAMPART_ALTERNATIVE_MISMATCH"}});
        cases.push_back({"alternatives too short to judge", alternative(words("cheap", 10), words("meeting", 10)), {}});
        cases.push_back({"alternatives mostly agree",
                         alternative(words("report", 30), words("report", 30) + "View this email in your browser"),
                         {}});
        mime::Content c = alternative(words("alpha", 30), words("alpha", 30));
        for (int i = 1; i <= 50; ++i) { // many groups: only the first few are compared
            mime::Content g = alternative(words("cheap", 30), words("meeting", 30));
            for (auto& p : g.parts) {
                p.alternative = i;
                c.parts.push_back(p);
            }
        }
        cases.push_back({"a mismatch among many groups", c, {"RAMPART_ALTERNATIVE_MISMATCH"}});
    }
    {
        mime::Content c;
        c.parts = {part("text/plain"), part("image/png", "offer.png", "image/png")};
        c.plain_chars = 10;
        cases.push_back({"an image and a line", c, {"RAMPART_IMAGE_ONLY"}});
        c.parts[1] = part("application/octet-stream", "scan", "image/jpeg");
        cases.push_back({"an image by content", c, {"RAMPART_IMAGE_ONLY"}});
        c.plain_chars = 500;
        cases.push_back({"an image and a letter", c, {}});
        c.parts[1] = part("application/pdf", "invoice.pdf", "application/pdf");
        c.plain_chars = 20;
        cases.push_back({"a PDF and a line", c, {"RAMPART_PDF_ONLY"}});
        c.parts[1] = part("application/octet-stream", "Invoice.PDF");
        cases.push_back({"a PDF by name", c, {"RAMPART_PDF_ONLY"}});
        c.plain_chars = 1000;
        cases.push_back({"a PDF and a letter", c, {}});
    }
    for (const Case& c : cases) {
        const auto got = content_symbols(body_structure_check(), c.content);
        CHECK_MESSAGE(got == c.want, std::string(c.why), ": got ", show(got), " want ", show(c.want));
    }
}

TEST_CASE("content checks do nothing when the body was not parsed")
{
    for (const Check* c : {&body_structure_check(), &attachments_check(), &links_check()}) {
        Transaction tx;
        CHECK(symbols(*c, tx).empty());
    }
}

TEST_CASE("attachments: executables, disguised names, zips, contradicted types")
{
    struct Case {
        const char* why;
        mime::Part part;
        std::set<std::string> want;
    };
    mime::Part zipped = part("application/zip", "docs.zip", "application/zip");
    zipped.zip_members = {"readme.txt", "docs/payload.scr"};
    mime::Part zipped_disguised = zipped;
    zipped_disguised.zip_members = {"invoice.pdf.js"};
    mime::Part locked = part("application/zip", "docs.zip", "application/zip");
    locked.zip_members = {"report.pdf"};
    locked.zip_encrypted = true;
    mime::Part plain_zip = locked;
    plain_zip.zip_encrypted = false;
    mime::Part script_body = part("text/plain", "", "text/x-shellscript");
    const Case cases[] = {
        {"a program", part("application/octet-stream", "setup.exe"), {"RAMPART_EXE_ATTACHMENT"}},
        {"a script", part("application/javascript", "run.js"), {"RAMPART_EXE_ATTACHMENT"}},
        {"a PE by content",
         part("application/octet-stream", "file.bin", "application/x-dosexec"),
         {"RAMPART_EXE_ATTACHMENT"}},
        {"a PE without a name",
         part("application/octet-stream", "", "application/x-dosexec"),
         {"RAMPART_EXE_ATTACHMENT"}},
        {"double extension",
         part("application/octet-stream", "invoice.pdf.exe"),
         {"RAMPART_EXE_ATTACHMENT", "RAMPART_DOUBLE_EXTENSION"}},
        {"right-to-left override",
         part("application/octet-stream", "doc\xE2\x80\xAE"
                                          "fdp.exe"),
         {"RAMPART_EXE_ATTACHMENT", "RAMPART_DOUBLE_EXTENSION"}},
        {"padded extension",
         part("application/octet-stream", "invoice" + std::string(12, ' ') + ".scr"),
         {"RAMPART_EXE_ATTACHMENT", "RAMPART_DOUBLE_EXTENSION"}},
        {"executable in a zip", zipped, {"RAMPART_EXE_IN_ZIP"}},
        {"disguised in a zip", zipped_disguised, {"RAMPART_EXE_IN_ZIP", "RAMPART_DOUBLE_EXTENSION"}},
        {"encrypted zip", locked, {"RAMPART_ENCRYPTED_ZIP"}},
        {"a PE named .pdf",
         part("application/pdf", "report.pdf", "application/x-dosexec"),
         {"RAMPART_EXE_ATTACHMENT", "RAMPART_ATTACHMENT_TYPE_MISMATCH"}},
        {"a zip named .pdf",
         part("application/octet-stream", "report.pdf", "application/zip"),
         {"RAMPART_ATTACHMENT_TYPE_MISMATCH"}},
        {"a zip declared a PDF",
         part("application/pdf", "report", "application/zip"),
         {"RAMPART_ATTACHMENT_TYPE_MISMATCH"}},
        {"a PE named .txt",
         part("text/plain", "notes.txt", "application/x-dosexec"),
         {"RAMPART_EXE_ATTACHMENT", "RAMPART_ATTACHMENT_TYPE_MISMATCH"}},
        // Normal attachments.
        {"a PDF", part("application/pdf", "report.pdf", "application/pdf"), {}},
        {"a PNG named .jpg", part("image/jpeg", "photo.jpg", "image/png"), {}},
        {"a docx",
         part("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "a.docx", "application/zip"),
         {}},
        {"an xlsx declared vnd.ms-excel", part("application/vnd.ms-excel", "sheet.xlsx", "application/zip"), {}},
        {"RTF saved as .doc", part("application/msword", "letter.doc", "application/rtf"), {}},
        {"HTML in a text file", part("text/plain", "page.txt", "text/html"), {}},
        {"generic type", part("application/octet-stream", "data.zip", "application/zip"), {}},
        {"unknown declared type", part("application/vnd.apple.pkpass", "pass.pkpass", "application/zip"), {}},
        {"a zip of documents", plain_zip, {}},
        {"two dots, not executable", part("application/gzip", "backup.tar.gz", "application/gzip"), {}},
        {"a version in the name", part("text/plain", "notes.v2.txt"), {}},
        {"a text body starting #!", script_body, {}},
    };
    for (const Case& c : cases) {
        mime::Content content;
        content.parts = {part("text/plain"), c.part};
        const auto got = content_symbols(attachments_check(), content);
        CHECK_MESSAGE(got == c.want, std::string(c.why), ": got ", show(got), " want ", show(c.want));
    }
}

TEST_CASE("links: shown host against href, IP hosts, obfuscated URLs")
{
    struct Case {
        const char* why;
        std::vector<mime::HtmlLink> links;
        std::vector<mime::Url> urls;
        std::set<std::string> want;
    };
    const auto url = [](const char* host, bool ip, bool obfuscated) {
        mime::Url u;
        u.text = std::string("http://") + host + "/";
        u.host = host;
        u.ip = ip;
        u.obfuscated = obfuscated;
        return u;
    };
    const Case cases[] = {
        {"URL shown, elsewhere",
         {{"http://evil.example/login", "https://www.paypal.com/signin"}},
         {},
         {"RAMPART_URL_TEXT_MISMATCH"}},
        {"host shown, elsewhere", {{"http://evil.example/", "paypal.com"}}, {}, {"RAMPART_URL_TEXT_MISMATCH"}},
        {"host and path shown", {{"https://evil.example/", " bank.co.uk/login "}}, {}, {"RAMPART_URL_TEXT_MISMATCH"}},
        {"IP in text", {}, {url("192.0.2.1", true, false)}, {"RAMPART_URL_IP_HOST"}},
        {"IP in href", {{"http://192.0.2.1/x", "Click here"}}, {}, {"RAMPART_URL_IP_HOST"}},
        {"obfuscated", {}, {url("192.168.1.1", true, true)}, {"RAMPART_URL_IP_HOST", "RAMPART_URL_OBFUSCATED"}},
        {"user-info trick", {}, {url("evil.example", false, true)}, {"RAMPART_URL_OBFUSCATED"}},
        // Normal mail.
        {"newsletter's own domain", {{"https://click.news.example/track?id=1", "www.news.example"}}, {}, {}},
        {"same host", {{"https://www.example.com/a", "https://www.example.com/a"}}, {}, {}},
        {"words", {{"http://evil.example/", "Click here"}}, {}, {}},
        {"not a web link", {{"mailto:someone@evil.example", "paypal.com"}}, {}, {}},
        {"file name shown", {{"https://files.example/x", "report.pdf"}}, {}, {}},
        {"ordinary URLs", {}, {url("www.example.org", false, false)}, {}},
    };
    for (const Case& c : cases) {
        mime::Content content;
        content.links = c.links;
        content.urls = c.urls;
        const auto got = content_symbols(links_check(), content);
        CHECK_MESSAGE(got == c.want, std::string(c.why), ": got ", show(got), " want ", show(c.want));
    }
}

TEST_CASE("the heuristics are off with content.enabled = false")
{
    const auto cfg = test::config("[content]\nenabled = false\n");
    for (const Check* c : {&date_check(), &message_id_check(), &from_check(), &reply_to_check(), &subject_check(),
                           &body_structure_check(), &attachments_check(), &links_check()})
        CHECK_MESSAGE(!c->runs_in(Phase::eom, *cfg), c->name());
}

TEST_CASE("random header values and file names: every check stays within bounds")
{
    using namespace std::string_view_literals;
    constexpr std::string_view kAlphabet = "<>@,;:\"()[]\\. \taZ9=?_-+\x80\xE2\x80\xAE\xEF\xBC\xA0\0"sv; // NUL included
    std::mt19937 rng(20240315);
    const auto random_text = [&](std::size_t max) {
        std::string s(rng() % max, ' ');
        for (char& c : s)
            c = kAlphabet[rng() % kAlphabet.size()];
        return s;
    };
    for (int i = 0; i < 2000; ++i) {
        const Fields f{{"From", random_text(200)},
                       {"Reply-To", random_text(100)},
                       {"Date", random_text(60)},
                       {"Message-ID", random_text(60)},
                       {"Subject", "=?utf-8?q?" + random_text(60)}};
        for (const Check* c : {&date_check(), &message_id_check(), &from_check(), &reply_to_check(), &subject_check()})
            CHECK(header_symbols(*c, f).size() <= 5);
        mime::Content content;
        content.parts = {part("application/octet-stream", random_text(100), "application/x-dosexec")};
        content.parts[0].zip_members = {random_text(50), random_text(50)};
        content.links = {{random_text(80), random_text(80)}};
        CHECK(content_symbols(attachments_check(), content).size() <= 5);
        CHECK(content_symbols(links_check(), content).size() <= 3);
    }
}
