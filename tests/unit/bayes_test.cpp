// Unit tests: the Bayesian classifier without Redis. What the tokenizer
// counts in a message (src/bayes/tokens.cpp), the Robinson-Fisher
// combination (classifier.cpp), message digests and the bucket layout
// (token_store.cpp), and the Bayes check's decision from replies made here.
#include "bayes/classifier.hpp"
#include "bayes/stored.hpp"
#include "bayes/token_store.hpp"
#include "bayes/tokens.hpp"
#include "checks/bayes.hpp"
#include "checks/check.hpp"
#include "config/config.hpp"
#include "engine/runtime.hpp"
#include "mime/content.hpp"

#include "helpers.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <vector>

namespace rampart {
const Check& bayes_check();
} // namespace rampart

using namespace rampart;
using namespace rampart::bayes;

namespace {

// Every token string of the message, in order, repeats included; the
// shape tokens ("x:") only when asked for.
std::vector<std::string> token_strings(const HeaderFields& headers, const mime::Content* content, bool bigrams = true,
                                       bool shapes = false)
{
    std::vector<std::string> out;
    for_each_token(headers, content, bigrams, [&](std::string_view s) {
        if (shapes || !s.starts_with("x:"))
            out.emplace_back(s);
    });
    return out;
}

std::vector<std::string> text_tokens(const std::string& text, bool bigrams = false)
{
    mime::Content c;
    c.text = text;
    return token_strings({}, &c, bigrams);
}

bool has(const std::vector<Token>& tokens, std::string_view s)
{
    return std::find(tokens.begin(), tokens.end(), hash_token(s)) != tokens.end();
}

bool has(const std::vector<std::string>& strings, std::string_view s)
{
    return std::find(strings.begin(), strings.end(), s) != strings.end();
}

std::string joined(const std::vector<std::string>& v)
{
    std::string out;
    for (const auto& s : v)
        out += (out.empty() ? "" : "|") + s;
    return out;
}

} // namespace

TEST_CASE("bayes tokens: text words are lower case, 3 to 24 bytes, punctuation and quotes at the ends dropped")
{
    struct Case {
        std::string text;
        std::string want; // the token strings, joined by '|'
    };
    const std::string w24(24, 'x'), w25 = std::string(25, 'y');
    const Case cases[] = {
        {"Hello WORLD", "hello|world"},
        {"an ox ate it", "ate"}, // shorter than kMinWordBytes
        {"--dash-- 'quoted' don't", "dash|quoted|don't"},
        {"''ab'' --cd--", ""}, // what is left is too short
        {"e-mail $100 price.list foo_bar", "e-mail|$100|price|list|foo|bar"},
        {w24, w24},
        {w25, "sk:yyyyyyy"}, // longer than kMaxWordBytes: its first kSkipPrefixBytes
        {"ABCDEFGHIJKLMNOPQRSTUVWXYZ", "sk:abcdefg"},
        {"Café CAFÉ", "café|cafÉ"},                              // only ASCII is folded
        {"12 123 4567890 12345678901234567890", "n:3|n:7|n:12"}, // numbers by length, at most 12
        {"abc123 123abc", "abc123|123abc"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.text);
        const auto got = joined(text_tokens(c.text));
        CHECK_MESSAGE(got == c.want, "got ", got, " want ", c.want);
    }
}

TEST_CASE("bayes tokens: a long word's prefix does not cut a UTF-8 sequence")
{
    std::string e13; // 13 x U+00E9: 26 bytes
    for (int i = 0; i < 13; ++i)
        e13 += "\xC3\xA9";
    const auto got = text_tokens(e13);
    REQUIRE(got.size() == 1);
    CHECK(got[0] == "sk:\xC3\xA9\xC3\xA9\xC3\xA9"); // 6 bytes, not 7
}

TEST_CASE("bayes tokens: bigrams of neighbouring text words, of the folded tokens, only when enabled")
{
    mime::Content c;
    c.text = "Buy a car order 123456 now";
    const auto on = token_strings({}, &c, true);
    CHECK(joined(on) == "buy|car|b:buy car|order|b:car order|n:6|b:order n:6|now|b:n:6 now");
    const auto off = token_strings({}, &c, false);
    CHECK(joined(off) == "buy|car|order|n:6|now");
    // The hashed set follows the setting too.
    CHECK(has(message_tokens({}, &c, {1000, true}), "b:buy car"));
    CHECK_FALSE(has(message_tokens({}, &c, {1000, false}), "b:buy car"));
    CHECK(has(message_tokens({}, &c, {1000, false}), "car"));
}

TEST_CASE("bayes tokens: Subject words decoded from RFC 2047, the first Subject only, long words cut at 24 bytes")
{
    const HeaderFields h = {{"Subject", "=?utf-8?q?Caf=C3=A9_SPECIAL?= offer " + std::string(30, 'z')},
                            {"Subject", "second"}};
    const auto got = token_strings(h, nullptr);
    CHECK(joined(got) == "h:subject|s:café|s:special|s:offer|s:" + std::string(24, 'z') + "|h:subject");
    const auto tokens = message_tokens(h, nullptr, {});
    CHECK(has(tokens, "s:café"));
    CHECK_FALSE(has(tokens, "s:second"));
    CHECK_FALSE(has(tokens, "s:=?utf-8?q?caf=c3=a9_special?="));
    CHECK(tokens.size() == 5); // h:subject counts once
}

TEST_CASE("bayes tokens: From domain and display name, Reply-To domain, Message-ID domain, mailer words")
{
    const HeaderFields h = {
        {"From", "=?utf-8?q?Jos=C3=A9_Smith?= <Jose@Mail.Example.COM>"},
        {"Reply-To", "Other <x@Reply.Example.NET>, y@second.example"},
        {"Message-ID", " <abc.123@MX1.Example.ORG> "},
        {"X-Mailer", "PHPMailer 6.0.1 (https://github.com)"},
        {"User-Agent", "Thunderbird"},
        {"X-Custom-Header", "whatever words"},
    };
    const auto got = token_strings(h, nullptr);
    CHECK(joined(got) == "h:from|f:mail.example.com|fn:josé|fn:smith|h:reply-to|r:reply.example.net|h:message-id|"
                         "mid:mx1.example.org|h:x-mailer|m:phpmailer|m:https|m:github|m:com|h:user-agent|"
                         "m:thunderbird|h:x-custom-header");
    const auto tokens = message_tokens(h, nullptr, {});
    CHECK(has(tokens, "f:mail.example.com"));
    CHECK(has(tokens, "r:reply.example.net"));
    CHECK_FALSE(has(tokens, "r:second.example")); // the first mailbox only
    CHECK_FALSE(has(tokens, "whatever"));         // other fields count by name only
}

TEST_CASE("bayes tokens: a From without an address gives no domain token; a second From is not read")
{
    const HeaderFields h = {{"From", "undisclosed"}, {"From", "b@second.example"}};
    const auto got = token_strings(h, nullptr);
    CHECK_FALSE(has(got, "f:second.example"));
    CHECK(std::none_of(got.begin(), got.end(), [](const std::string& s) { return s.starts_with("f:"); }));
}

TEST_CASE("bayes tokens: Received fields are not read at all")
{
    const HeaderFields h = {{"Received", "from relay.evil.example (1.2.3.4) by mx.example.net; Tue, 10 Nov 2026"},
                            {"RECEIVED", "from other.example"},
                            {"Subject", "hi there"}};
    CHECK(joined(token_strings(h, nullptr)) == "h:subject|s:there");
    const auto tokens = message_tokens(h, nullptr, {});
    CHECK_FALSE(has(tokens, "h:received"));
    CHECK(tokens.size() == 2);
}

TEST_CASE("bayes tokens: URL hosts with their last two labels; IP hosts without")
{
    mime::Content c;
    c.urls.push_back({"http://www.shop.example.com/x", "www.shop.example.com", false, false});
    c.urls.push_back({"http://192.0.2.7/", "192.0.2.7", true, false});
    c.urls.push_back({"http://localhost/", "localhost", false, false});
    c.urls.push_back({"mailto:x", "", false, false}); // no host: nothing
    CHECK(joined(token_strings({}, &c)) ==
          "u:www.shop.example.com|ud:example.com|u:192.0.2.7|u:localhost|ud:localhost");
    const auto tokens = message_tokens({}, &c, {});
    CHECK(has(tokens, "ud:example.com"));
    CHECK_FALSE(has(tokens, "ud:0.2.7"));
}

TEST_CASE("bayes tokens: parts by declared type and charset; attachments by detected type and extension")
{
    mime::Content c;
    mime::Part text;
    text.content_type = "text/plain";
    text.charset = "utf-8";
    mime::Part pdf;
    pdf.content_type = "application/octet-stream";
    pdf.disposition = "attachment";
    pdf.filename = "Invoice.PDF";
    pdf.detected_type = "pdf";
    mime::Part unknown; // named, so an attachment even without a disposition
    unknown.content_type = "application/x-thing";
    unknown.filename = "archive.verylongext"; // an extension over 7 bytes is no extension
    mime::Part inline_image;
    inline_image.content_type = "image/png";
    inline_image.disposition = "inline";
    inline_image.detected_type = "png";
    c.parts = {text, pdf, unknown, inline_image};
    CHECK(joined(token_strings({}, &c)) == "p:text/plain|cs:utf-8|p:application/octet-stream|a:pdf|ax:pdf|"
                                           "p:application/x-thing|a:unknown|p:image/png");
    const auto tokens = message_tokens({}, &c, {});
    CHECK(has(tokens, "a:pdf"));
    CHECK(has(tokens, "ax:pdf"));
    CHECK(has(tokens, "a:unknown"));
    CHECK_FALSE(has(tokens, "a:png")); // not an attachment
}

TEST_CASE("bayes tokens: the message's shape in buckets of powers of four, parts counted up to 16")
{
    mime::Content c;
    c.plain_chars = 100; // 16..63 is 3, 64..255 is 4
    c.html_visible_chars = 3;
    c.html_hidden_chars = 4;
    c.html_tiny_chars = 0;
    c.html_images = 63;
    c.urls.resize(64);
    c.parts.resize(40);
    std::vector<std::string> shapes;
    for (const auto& t : token_strings({}, &c, false, true))
        if (t.starts_with("x:"))
            shapes.push_back(t);
    CHECK(joined(shapes) == "x:plain:4|x:html:1|x:hidden:2|x:tiny:0|x:img:3|x:urls:4|x:parts:16");
}

TEST_CASE("bayes tokens: words of the format, priority and list fields, by field name")
{
    const HeaderFields h = {{"Content-Type", "text/html; charset=\"windows-1252\""},
                            {"X-Priority", "1 (Highest)"},
                            {"precedence", "bulk"},
                            {"List-Id", "Users <users.lists.example.org>"},
                            {"X-Other", "not read"}};
    CHECK(joined(token_strings(h, nullptr)) ==
          "h:content-type|hv:content-type:text|hv:content-type:html|hv:content-type:charset|"
          "hv:content-type:windows-1252|h:x-priority|hv:x-priority:highest|h:precedence|hv:precedence:bulk|"
          "h:list-id|hv:list-id:users|hv:list-id:users|hv:list-id:lists|hv:list-id:example|hv:list-id:org|"
          "h:x-other");
}

TEST_CASE("bayes tokens: each token once, in the order first found; at most max_tokens, the first ones")
{
    mime::Content c;
    c.text = "spam eggs spam ham eggs spam";
    const HeaderFields h = {{"Subject", "spam"}};
    const auto all = message_tokens(h, &c, {1000, false});
    std::vector<Token> want = {hash_token("h:subject"), hash_token("s:spam")};
    for (const char* shape : {"plain", "html", "hidden", "tiny", "img", "urls", "parts"})
        want.push_back(hash_token(std::string("x:") + shape + ":0"));
    for (const char* word : {"spam", "eggs", "ham"})
        want.push_back(hash_token(word));
    CHECK(all == want);
    const auto capped = message_tokens(h, &c, {3, false});
    CHECK(capped == std::vector<Token>(want.begin(), want.begin() + 3));
    CHECK(message_tokens(h, &c, {0, false}).empty());
    CHECK(message_tokens({}, nullptr, {}).empty());

    std::string many; // 2000 distinct words: the cap holds
    for (int i = 0; i < 2000; ++i)
        many += "w" + std::string(1, static_cast<char>('a' + i % 26)) + std::to_string(i) + "x ";
    c.text = many;
    CHECK(message_tokens({}, &c, {1000, true}).size() == 1000);
}

TEST_CASE("bayes tokens: a stored message gives the tokens of its headers and, with content on, of its body")
{
    const std::string raw = "From mbox-line Tue Nov 10 2026\n"
                            "Received: from relay.example\n"
                            "Subject: Cheap pills\n"
                            "Message-ID: <1@example.net>\n"
                            "Content-Type: text/plain; charset=utf-8\n"
                            "\n"
                            "Visit http://pills.example.com/buy today\n";
    const auto on = stored_tokens(
        *test::config("[content]\nenabled = true\n[bayes]\nmessage_tokens = 1000\nbigrams = true\n"), raw);
    REQUIRE(on.headers.size() == 4); // the mbox line dropped
    CHECK(has(on.tokens, "s:cheap"));
    CHECK(has(on.tokens, "visit"));
    CHECK(has(on.tokens, "u:pills.example.com"));
    CHECK(has(on.tokens, "cs:utf-8"));
    CHECK_FALSE(has(on.tokens, "h:received"));
    const auto off = stored_tokens(
        *test::config("[content]\nenabled = false\n[bayes]\nmessage_tokens = 1000\nbigrams = true\n"), raw);
    CHECK(has(off.tokens, "s:cheap"));
    CHECK(has(off.tokens, "hv:content-type:plain"));
    CHECK_FALSE(has(off.tokens, "visit"));
    CHECK_FALSE(has(off.tokens, "x:parts:1")); // the shape is the body's
    // h:subject, s:cheap, s:pills, h:message-id, mid:example.net, h:content-type and
    // hv:content-type: text, plain, charset, utf-8; h:received not among them.
    CHECK(off.tokens.size() == 10);
    CHECK(has(on.tokens, "x:parts:1"));
}

TEST_CASE("bayes chi2_survival: known values of the chi-square survival function")
{
    struct Case {
        double x2;
        std::size_t dof;
        double want; // from mpmath: gammainc(dof/2, x2/2, inf, regularized=True)
        double eps;
    };
    const Case cases[] = {
        {2, 2, 0.36787944117144233, 1e-12},
        {4, 4, 0.40600584970983808, 1e-12},
        {9.487729, 4, 0.05, 1e-8},
        {18.307038, 10, 0.05, 1e-8},
        {23.209251, 10, 0.01, 1e-8},
        {1, 20, 0.99999999982903300, 1e-12},
        {40, 20, 0.0049954123083075872, 1e-12},
        {900, 1000, 0.98928276190871026, 1e-9},
        {0, 10, 1.0, 0},
        {-3, 10, 1.0, 0},
    };
    for (const auto& c : cases) {
        CAPTURE(c.x2);
        CAPTURE(c.dof);
        const double got = chi2_survival(c.x2, c.dof);
        CHECK_MESSAGE(std::abs(got - c.want) <= c.eps, "got ", got, " want ", c.want);
    }
    // Far in the tail: tiny, not NaN, and never above 1 near zero.
    const double tail = chi2_survival(1500, 1000); // 1.0454640385979657e-22
    CHECK(std::abs(tail / 1.0454640385979657e-22 - 1) < 1e-6);
    CHECK(chi2_survival(3000, 300) == 0.0); // 1.8e-439 underflows
    CHECK(chi2_survival(1e-9, 300) <= 1.0);
}

TEST_CASE("bayes log_chi2_cdf: 1 - Q, exact where Q rounds to 1")
{
    struct Case {
        double x2;
        std::size_t dof;
    };
    // Where Q is far from 1 both ways agree.
    for (const Case c : {Case{2, 2}, Case{10, 4}, Case{50, 20}, Case{300, 100}, Case{9, 10}}) {
        CAPTURE(c.x2);
        CAPTURE(c.dof);
        CHECK(std::abs(std::exp(log_chi2_cdf(c.x2, c.dof)) - (1 - chi2_survival(c.x2, c.dof))) < 1e-12);
    }
    // dof 2: 1 - Q = 1 - exp(-x/2), so ln(1 - Q) ~ ln(x/2) for a small x.
    CHECK(std::abs(log_chi2_cdf(1e-20, 2) - std::log(0.5e-20)) < 1e-9);
    // dof 4: 1 - Q = 1 - exp(-m)(1 + m) ~ m^2 / 2.
    CHECK(std::abs(log_chi2_cdf(2e-10, 4) - std::log(0.5e-20)) < 1e-6);
    // Deep in the tail, where 1 - Q is below a double's epsilon: finite and falling with x.
    const double a = log_chi2_cdf(1.0, 300), b = log_chi2_cdf(0.5, 300);
    CHECK(std::isfinite(a));
    CHECK(a < -700);
    CHECK(b < a);
    CHECK(log_chi2_cdf(0, 10) == -std::numeric_limits<double>::infinity());
}

TEST_CASE("bayes classify: one token gives its Robinson f(w), with the strength and prior of the settings")
{
    struct Case {
        TokenCounts t;
        std::uint64_t nspam, nham;
        double strength, prior;
        double want;
    };
    const Case cases[] = {
        {{3, 1}, 10, 10, 1.0, 0.5, 0.7},                    // p = .75, f = (.5 + 4 * .75) / 5
        {{3, 1}, 10, 10, 2.0, 0.2, 3.4 / 6},                // f = (2 * .2 + 4 * .75) / 6
        {{2, 2}, 4, 20, 1.0, 0.5, (0.5 + 4 * 5.0 / 6) / 5}, // p = (.5) / (.5 + .1)
        {{0, 3}, 10, 10, 1.0, 0.5, 0.5 / 4},
        {{50, 0}, 10, 10, 1.0, 0.5, 50.5 / 51}, // counts above the class read as all of it
        {{1, 0}, 10, 10, 3.0, 0.5, (1.5 + 1) / 4},
    };
    for (const auto& c : cases) {
        CAPTURE(c.t.spam);
        CAPTURE(c.t.ham);
        CAPTURE(c.strength);
        const auto r = classify(std::span(&c.t, 1), c.nspam, c.nham, {c.strength, c.prior, 0.01, 150});
        REQUIRE(r);
        CHECK(r->tokens == 1);
        CHECK_MESSAGE(std::abs(r->probability - c.want) < 1e-12, "got ", r->probability, " want ", c.want);
    }
}

TEST_CASE("bayes classify: tokens within min_strength of 0.5 and tokens never seen are left out")
{
    const TokenCounts t[] = {{3, 1}}; // f = 0.7
    auto r = classify(t, 10, 10, {1.0, 0.5, 0.19, 150});
    REQUIRE(r);
    CHECK(r->tokens == 1);
    r = classify(t, 10, 10, {1.0, 0.5, 0.21, 150});
    REQUIRE(r);
    CHECK(r->tokens == 0);
    CHECK(r->probability == 0.5);

    const TokenCounts mixed[] = {{0, 0}, {3, 1}, {0, 0}, {1, 1}}; // unseen twice, f = 0.5 once
    r = classify(mixed, 10, 10, {1.0, 0.5, 0.1, 150});
    REQUIRE(r);
    CHECK(r->tokens == 1);
    CHECK(std::abs(r->probability - 0.7) < 1e-12);
}

TEST_CASE("bayes classify: with more tokens than max_tokens, those farthest from 0.5 are combined")
{
    // f(w), and how far from 0.5: 0.5/2 = 0.25 (0.25), (0.5 + 3 * 2/3)/4 = 0.625 (0.125),
    // 10.5/11 = 0.9545 (0.4545), 0.5/4 = 0.125 (0.375), 1.5/2 = 0.75 (0.25).
    const TokenCounts t[] = {{0, 1}, {2, 1}, {10, 0}, {0, 3}, {1, 0}};
    const double fa = 10.5 / 11, fb = 0.125;
    auto r = classify(t, 10, 10, {1.0, 0.5, 0.1, 1});
    REQUIRE(r);
    CHECK(r->tokens == 1);
    CHECK(std::abs(r->probability - fa) < 1e-12);

    r = classify(t, 10, 10, {1.0, 0.5, 0.1, 2});
    REQUIRE(r);
    CHECK(r->tokens == 2);
    // Fisher with 4 degrees of freedom: Q(x | 4) = exp(-x/2) (1 + x/2).
    const auto q4 = [](double x) { return std::exp(-x / 2) * (1 + x / 2); };
    const double h = q4(-2 * std::log(fa * fb)), s = q4(-2 * std::log((1 - fa) * (1 - fb)));
    CHECK(std::abs(r->probability - (1 + h - s) / 2) < 1e-12);

    r = classify(t, 10, 10, {1.0, 0.5, 0.1, 150});
    REQUIRE(r);
    CHECK(r->tokens == 5);
}

TEST_CASE("bayes classify: many spammy tokens give nearly 1, hammy nearly 0, mixed or none 0.5")
{
    const std::vector<TokenCounts> spammy(20, TokenCounts{20, 0}), hammy(20, TokenCounts{0, 20});
    const ClassifierSettings s{1.0, 0.5, 0.1, 150};
    auto r = classify(spammy, 50, 50, s);
    REQUIRE(r);
    CHECK(r->tokens == 20);
    CHECK(r->probability > 0.999);
    r = classify(hammy, 50, 50, s);
    REQUIRE(r);
    CHECK(r->probability < 0.001);

    std::vector<TokenCounts> mixed(spammy);
    mixed.insert(mixed.end(), hammy.begin(), hammy.end());
    r = classify(mixed, 50, 50, s);
    REQUIRE(r);
    CHECK(r->tokens == 40);
    CHECK(std::abs(r->probability - 0.5) < 1e-9);

    r = classify(std::span<const TokenCounts>(), 50, 50, s);
    REQUIRE(r);
    CHECK(r->probability == 0.5);
    CHECK(r->tokens == 0);

    // A few mildly spammy tokens are not enough to be sure.
    const std::vector<TokenCounts> thin(2, TokenCounts{2, 1});
    r = classify(thin, 50, 50, s);
    REQUIRE(r);
    CHECK(r->probability > 0.5);
    CHECK(r->probability < 0.9);
}

TEST_CASE("bayes classify: the nines, -log10(1 - p), keep ranking where p rounds to 1")
{
    const ClassifierSettings s{1.0, 0.5, 0.1, 150};
    // Where p is not near 1 the nines are those of p itself.
    const std::vector<TokenCounts> thin(2, TokenCounts{2, 1});
    auto r = classify(thin, 50, 50, s);
    REQUIRE(r);
    CHECK(std::abs(r->nines - bayes::nines_of(r->probability)) < 1e-6);
    r = classify(std::span<const TokenCounts>(), 50, 50, s);
    REQUIRE(r);
    CHECK(std::abs(r->nines - kHalfNines) < 1e-12);
    // Past what a double tells from 1, more agreeing tokens still mean more nines.
    double last = 0;
    for (std::size_t n : {20, 40, 80, 150}) {
        CAPTURE(n);
        const std::vector<TokenCounts> spammy(n, TokenCounts{40, 0});
        r = classify(spammy, 50, 50, s);
        REQUIRE(r);
        CHECK(r->probability == 1.0);
        CHECK(r->nines > 16);
        CHECK(r->nines > last);
        CHECK(r->nines <= kMaxNines);
        last = r->nines;
    }
    // Hammy messages have (nearly) no nines.
    const std::vector<TokenCounts> hammy(40, TokenCounts{0, 40});
    r = classify(hammy, 50, 50, s);
    REQUIRE(r);
    CHECK(r->nines < 1e-9);
}

TEST_CASE("bayes classify: nothing to say before both classes have learned messages")
{
    const TokenCounts t[] = {{5, 0}};
    CHECK_FALSE(classify(t, 0, 10, {}));
    CHECK_FALSE(classify(t, 10, 0, {}));
    CHECK(classify(t, 1, 1, {}));
}

TEST_CASE("bayes message_digest: by Message-ID when there is one, else by the tokens in any order")
{
    const HeaderFields a = {{"Subject", "x"}, {"Message-ID", "<1@example.net>"}};
    const HeaderFields a_padded = {{"message-id", "  <1@example.net>\t"}};
    const HeaderFields b = {{"Message-ID", "<2@example.net>"}};
    const std::vector<Token> t1 = {1, 2, 3}, t1_shuffled = {3, 1, 2}, t2 = {1, 2, 4};
    const std::string da = message_digest(a, t1);
    CHECK(da.size() == 32);
    CHECK(std::all_of(da.begin(), da.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }));
    CHECK(message_digest(a, t2) == da); // the body does not matter
    CHECK(message_digest(a_padded, {}) == da);
    CHECK(message_digest(b, t1) != da);

    const HeaderFields none = {{"Subject", "x"}};
    const HeaderFields empty_id = {{"Message-ID", "  "}};
    const std::string dt = message_digest(none, t1);
    CHECK(dt.size() == 32);
    CHECK(message_digest(none, t1_shuffled) == dt);
    CHECK(message_digest(empty_id, t1) == dt);
    CHECK(message_digest(none, t2) != dt);
    CHECK(dt != da);
}

TEST_CASE("bayes layout: a token's bucket is its low 32 bits mod buckets, its field the bits above 16")
{
    const Layout l{16384, 1, ""};
    const Token t = 0x123456789abcdef0ULL;
    CHECK(bucket_of(t, l) == 0xdef0 % 16384);
    CHECK(bucket_of(t, Layout{1000, 1, ""}) == 0x9abcdef0LL % 1000);
    CHECK(field_of(t) == std::to_string(0x123456789abcULL));
    CHECK(field_of(UINT64_MAX) == "281474976710655"); // 2^48 - 1: a 48-bit integer
    CHECK(field_of(0xffff) == "0");
    CHECK(bucket_of(UINT64_MAX, Layout{1, 1, ""}) == 0);

    // With 2^16 buckets, bucket and field together are the token: no two tokens share a slot.
    const Layout wide{65536, 1, ""};
    std::set<std::pair<std::int64_t, std::string>> slots;
    for (int i = 0; i < 5000; ++i) {
        const Token tok = hash_token("w" + std::to_string(i));
        const std::int64_t b = bucket_of(tok, l);
        CHECK(b >= 0);
        CHECK(b < l.buckets);
        CHECK(((std::stoull(field_of(tok)) << 16) | static_cast<Token>(bucket_of(tok, wide))) == tok);
        slots.emplace(bucket_of(tok, wide), field_of(tok));
    }
    CHECK(slots.size() == 5000);
}

TEST_CASE("bayes layout: reads go to one script per shard, each under its own hash tag; scopes are lower case")
{
    auto cfg = test::config("[bayes]\nbuckets = 64\nshards = 4\n");
    const Layout l = layout_of(*cfg, "Example.ORG");
    CHECK(l.buckets == 64);
    CHECK(l.shards == 4);
    CHECK(l.scope == "example.org");
    std::vector<Token> tokens;
    for (int i = 0; i < 40; ++i)
        tokens.push_back(hash_token("t" + std::to_string(i)));
    const Keys keys("p:");
    Batch b;
    add_read(keys, l, tokens, b);
    REQUIRE(b.size() == read_commands(l, tokens));
    REQUIRE(b.size() == 5); // 40 tokens over 4 shards: every shard has some
    CHECK(b.commands()[0].args ==
          std::vector<std::string>{"HMGET", "p:{bayes:example.org:0}:meta", "spam", "ham", "buckets"});
    std::size_t fields = 0;
    for (std::size_t i = 1; i < b.size(); ++i) {
        const auto& cmd = b.commands()[i];
        CHECK(cmd.script == static_cast<int>(Script::bayes_read));
        const std::string tag = "p:{bayes:example.org:" + std::to_string(i - 1) + "}:tok:";
        for (int k = 0; k < cmd.nkeys; ++k) {
            const std::string& key = cmd.args[static_cast<std::size_t>(k)];
            REQUIRE(key.starts_with(tag));
            CHECK(std::stoll(key.substr(tag.size())) % 4 == static_cast<long long>(i - 1));
        }
        // ARGV: per key a count, then that many fields.
        std::size_t a = static_cast<std::size_t>(cmd.nkeys);
        for (int k = 0; k < cmd.nkeys; ++k) {
            const std::size_t n = std::stoul(cmd.args[a]);
            fields += n;
            a += n + 1;
        }
        CHECK(a == cmd.args.size());
    }
    CHECK(fields == tokens.size());
}

TEST_CASE("bayes parse_read: counts in the order given, nil and junk as nothing, a wrong reply as none")
{
    const Layout l{16384, 1, ""};
    const std::vector<Token> tokens = {hash_token("a"), hash_token("b"), hash_token("c"), hash_token("d")};
    // The replies come in bucket order.
    std::vector<std::size_t> order = {0, 1, 2, 3};
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t x, std::size_t y) { return bucket_of(tokens[x], l) < bucket_of(tokens[y], l); });
    const std::string values[] = {"3:1:20000", "", "x:y", "5000000000:7:1"}; // "" stands for nil
    Reply meta{Reply::Type::array, 0, "", {}};
    for (const char* v : {"12", "34", "16384"})
        meta.elements.push_back({Reply::Type::string, 0, v, {}});
    Reply read{Reply::Type::array, 0, "", {}};
    for (std::size_t i : order)
        read.elements.push_back(values[i].empty() ? Reply{} : Reply{Reply::Type::string, 0, values[i], {}});
    const std::vector<Reply> replies = {meta, read};
    const auto st = parse_read(replies, l, tokens);
    REQUIRE(st);
    CHECK(st->spam == 12);
    CHECK(st->ham == 34);
    CHECK(st->buckets == 16384);
    REQUIRE(st->counts.size() == 4);
    CHECK(st->counts[0].spam == 3);
    CHECK(st->counts[0].ham == 1);
    CHECK(st->counts[1].spam + st->counts[1].ham == 0);
    CHECK(st->counts[2].spam + st->counts[2].ham == 0);
    CHECK(st->counts[3].spam == UINT32_MAX); // saturated
    CHECK(st->counts[3].ham == 7);

    CHECK_FALSE(parse_read(std::span(replies).first(1), l, tokens));
    Reply short_read = read;
    short_read.elements.pop_back();
    CHECK_FALSE(parse_read(std::vector<Reply>{meta, short_read}, l, tokens));
    CHECK_FALSE(parse_read(std::vector<Reply>{Reply{Reply::Type::error, 0, "ERR", {}}, read}, l, tokens));
    CHECK_FALSE(parse_learn({}));
}

namespace {

// The Bayes check at end of message on `tx`, its reads answered with
// `counts` for every token and `meta` = {spam, ham, buckets}.
struct Decided {
    std::size_t commands = 0;
    std::vector<Symbol> symbols;
};

// The symbols' thresholds and scores, unless a test gives its own.
const std::string kScores = "spam_threshold = 0.9\nspam_full = 1.0\nspam_score = 5.0\nnines_score = 0.0\n"
                            "ham_threshold = 0.1\nham_score = 3.0\n";

Decided decide(const std::string& cfg_text, Transaction& tx, const std::string& counts,
               const std::vector<std::string>& meta, const std::string& scores = kScores)
{
    // Every setting the decision reads is spelled out: the defaults are not what these tests are about.
    const auto cfg = test::config("[bayes]\nenabled = true\nmin_spam = 10\nmin_ham = 10\nstrength = 1.0\nprior = 0.5\n"
                                  "min_token_strength = 0.1\nmax_tokens = 150\nbuckets = 16384\nshards = 1\n" +
                                  scores + cfg_text);
    const Runtime rt{.config = cfg, .keys = Keys("p:")};
    Client client;
    Context ctx{*cfg, rt, client, tx};
    const Check& check = bayes_check();
    CHECK(check.runs_in(Phase::eom, *cfg));
    CHECK(check.uses_redis(Phase::eom, *cfg));
    Batch batch;
    check.request(Phase::eom, ctx, batch);
    std::vector<Reply> replies;
    for (const auto& cmd : batch.commands()) {
        Reply r{Reply::Type::array, 0, "", {}};
        if (cmd.script < 0) {
            for (const auto& m : meta)
                r.elements.push_back({Reply::Type::string, 0, m, {}});
        } else {
            for (std::size_t i = static_cast<std::size_t>(cmd.nkeys); i < cmd.args.size();) {
                const std::size_t n = std::stoul(cmd.args[i]);
                for (std::size_t j = 0; j < n; ++j)
                    r.elements.push_back({Reply::Type::string, 0, counts, {}});
                i += n + 1;
            }
        }
        replies.push_back(r);
    }
    check.decide(Phase::eom, ctx, replies);
    return {batch.size(), tx.card.symbols()};
}

Transaction spammy_tx()
{
    Transaction tx;
    tx.headers = {{"Subject", "cheap pills casino winner"}, {"From", "Winner <w@lottery.example>"}};
    tx.recipients = {"b@example.org"};
    return tx;
}

} // namespace

TEST_CASE("bayes check: the spam symbol rises from spam_threshold to spam_full, the ham symbol from ham_threshold to 0")
{
    const ClassifierSettings s{1.0, 0.5, 0.1, 150}; // as decide() configures the check
    const auto p_of = [&](const Transaction& tx, TokenCounts c) {
        const std::vector<TokenCounts> counts(tx.bayes_tokens.size(), c);
        return classify(counts, 40, 40, s)->probability;
    };
    const std::vector<std::string> meta = {"40", "40", "16384"};
    {
        Transaction tx = spammy_tx();
        const auto d = decide("", tx, "30:0:1", meta); // 0.9 .. 1.0, 5 points
        CHECK(d.commands == 2);
        REQUIRE(d.symbols.size() == 1);
        const double p = p_of(tx, {30, 0});
        REQUIRE(p > 0.9);
        REQUIRE(p < 1.0);
        CHECK(d.symbols[0].name == "RAMPART_BAYES_SPAM");
        CHECK(std::abs(d.symbols[0].score - 5.0 * (p - 0.9) / 0.1) < 1e-9);
        CHECK(d.symbols[0].detail.starts_with("p="));
        CHECK(d.symbols[0].detail.find(" nines=") != std::string::npos);
        CHECK(d.symbols[0].detail.ends_with(" tokens=" + std::to_string(tx.bayes_tokens.size())));
    }
    const std::string early_full =
        "spam_threshold = 0.5\nspam_full = 0.9\nspam_score = 10.0\nnines_score = 0.0\nham_threshold = 0.1\n";
    {
        Transaction tx = spammy_tx(); // p = 0.74, between threshold and full: part of the score
        const auto d = decide("", tx, "2:1:1", meta, early_full);
        const double p = p_of(tx, {2, 1});
        REQUIRE(p > 0.5);
        REQUIRE(p < 0.9);
        REQUIRE(d.symbols.size() == 1);
        CHECK(d.symbols[0].name == "RAMPART_BAYES_SPAM");
        CHECK(std::abs(d.symbols[0].score - 10.0 * (p - 0.5) / 0.4) < 1e-9);
    }
    {
        Transaction tx = spammy_tx(); // past spam_full: all of the score, no more
        const auto d = decide("", tx, "30:0:1", meta, early_full);
        REQUIRE(d.symbols.size() == 1);
        CHECK(d.symbols[0].name == "RAMPART_BAYES_SPAM");
        CHECK(d.symbols[0].score == 10.0);
    }
    {
        Transaction tx = spammy_tx();
        const auto d = decide("", tx, "0:30:1", meta,
                              "spam_threshold = 0.9\nspam_full = 1.0\nham_threshold = 0.1\nham_score = 4.0\n");
        REQUIRE(d.symbols.size() == 1);
        const double p = p_of(tx, {0, 30});
        REQUIRE(p < 0.1);
        CHECK(d.symbols[0].name == "RAMPART_BAYES_HAM");
        CHECK(std::abs(d.symbols[0].score - -4.0 * (0.1 - p) / 0.1) < 1e-9);
    }
    {
        Transaction tx = spammy_tx(); // nothing informative: p = 0.5 is not above a threshold of 0.5
        CHECK(decide("", tx, "5:5:1", meta).symbols.empty());
        Transaction at = spammy_tx();
        CHECK(decide("", at, "5:5:1", meta, early_full).symbols.empty());
    }
}

TEST_CASE("bayes score: a ramp from spam_threshold to spam_full, then the nines up to nines_full; the ham ramp")
{
    const auto cfg = test::config("[bayes]\nspam_threshold = 0.45\nspam_full = 0.55\nspam_score = 10.0\n"
                                  "nines_score = 4.0\nnines_full = 8.0\nham_threshold = 0.1\nham_score = 3.0\n");
    const double full_nines = bayes::nines_of(0.55);
    struct Case {
        double p, nines, want;
    };
    const Case cases[] = {
        {0.45, bayes::nines_of(0.45), 0.0},                                // at spam_threshold: nothing
        {0.5, kHalfNines, 5.0},                                            // half way up the ramp
        {0.55, full_nines, 10.0},                                          // spam_full: all of spam_score
        {0.99, 2.0, 10.0 + 4.0 * (2.0 - full_nines) / (8.0 - full_nines)}, // the nines add
        {1.0, 8.0, 14.0},                                                  // nines_full: all of both
        {1.0, 40.0, 14.0},                                                 // no more past it
        {0.3, bayes::nines_of(0.3), 0.0},                                  // between the thresholds
        {0.1, bayes::nines_of(0.1), 0.0},                                  // at ham_threshold: nothing
        {0.05, bayes::nines_of(0.05), -1.5},                               // half way down
        {0.0, 0.0, -3.0},                                                  // all of ham_score
    };
    for (const auto& c : cases) {
        CAPTURE(c.p);
        CAPTURE(c.nines);
        const double got = bayes_score(*cfg, c.p, c.nines);
        CHECK_MESSAGE(std::abs(got - c.want) < 1e-9, "got ", got, " want ", c.want);
    }
    // With spam_full at 1 the ramp is all there is.
    const auto ramp_only = test::config("[bayes]\nspam_threshold = 0.5\nspam_full = 1.0\nspam_score = 10.0\n"
                                        "nines_score = 4.0\n");
    CHECK(bayes_score(*ramp_only, 1.0, 300.0) == 10.0);
    CHECK(std::abs(bayes_score(*ramp_only, 0.75, 0.6) - 5.0) < 1e-9);
}

TEST_CASE("bayes settings: the thresholds and the nines must be in order")
{
    struct Case {
        std::string text, error; // error "" when the configuration loads
    };
    const Case cases[] = {
        {"spam_threshold = 0.45\nspam_full = 0.55\nham_threshold = 0.1\n", ""},
        {"spam_threshold = 0.3\nspam_full = 0.4\nham_threshold = 0.4\n", "ham_threshold must not be above"},
        {"spam_threshold = 0.5\nspam_full = 0.5\n", "spam_full must be above"},
        {"spam_full = 0.999\nnines_full = 2.5\n", "nines_full must be above the nines of bayes.spam_full (3)"},
        {"spam_full = 0.999\nnines_full = 3.5\n", ""},
        {"spam_full = 1.0\nnines_full = 0.5\n", ""}, // no nines part: nothing to order
    };
    for (const auto& c : cases) {
        CAPTURE(c.text);
        const auto parsed = parse_config("[bayes]\n" + c.text, "test.conf");
        if (c.error.empty()) {
            CHECK(parsed.config);
        } else {
            REQUIRE_FALSE(parsed.config);
            REQUIRE_FALSE(parsed.errors.empty());
            CHECK_MESSAGE(parsed.errors.front().message.find(c.error) != std::string::npos, "got ",
                          parsed.errors.front().message);
        }
    }
}

TEST_CASE("bayes check: nothing before min_spam and min_ham messages, nor from statistics of other buckets")
{
    struct Case {
        std::vector<std::string> meta;
        bool fires;
    };
    const Case cases[] = {
        {{"10", "10", "16384"}, true},   {{"9", "100", "16384"}, false},
        {{"100", "9", "16384"}, false},  {{"100", "100", "0"}, true}, // no buckets recorded yet
        {{"100", "100", "1024"}, false},                              // learned with another bayes.buckets
    };
    for (const auto& c : cases) {
        CAPTURE(c.meta[0]);
        CAPTURE(c.meta[1]);
        CAPTURE(c.meta[2]);
        Transaction tx = spammy_tx();
        CHECK(decide("", tx, "30:0:1", c.meta).symbols.size() == (c.fires ? 1u : 0u));
    }
}

TEST_CASE("bayes check: with per_domain, recipients of one domain read that domain's statistics too")
{
    {
        Transaction tx = spammy_tx();
        tx.recipients = {"a@Example.ORG", "b@example.org"};
        const auto d = decide("per_domain = true\n", tx, "30:0:1", {"5", "5", "16384"});
        CHECK(tx.bayes_scope == "example.org");
        CHECK(d.commands == 4);
        // 5 + 5 messages of each class: the domain's are added to the global ones.
        REQUIRE(d.symbols.size() == 1);
        CHECK(d.symbols[0].name == "RAMPART_BAYES_SPAM");
    }
    {
        Transaction tx = spammy_tx();
        tx.recipients = {"a@example.org", "b@example.net"};
        const auto d = decide("per_domain = true\n", tx, "30:0:1", {"5", "5", "16384"});
        CHECK(tx.bayes_scope.empty());
        CHECK(d.commands == 2);
        CHECK(d.symbols.empty());
    }
    {
        Transaction tx = spammy_tx(); // one domain, but per_domain off
        decide("", tx, "30:0:1", {"40", "40", "16384"});
        CHECK(tx.bayes_scope.empty());
    }
}

TEST_CASE("bayes check: a message without tokens asks nothing; replies that do not fit are ignored")
{
    Transaction empty;
    const auto d = decide("", empty, "30:0:1", {"40", "40", "16384"});
    CHECK(d.commands == 0);
    CHECK(d.symbols.empty());

    const auto cfg = test::config("[bayes]\nenabled = true\nmin_spam = 1\nmin_ham = 1\n");
    const Runtime rt{.config = cfg, .keys = Keys("p:")};
    Client client;
    Transaction tx = spammy_tx();
    Context ctx{*cfg, rt, client, tx};
    Batch batch;
    bayes_check().request(Phase::eom, ctx, batch);
    REQUIRE(batch.size() == 2);
    bayes_check().decide(Phase::eom, ctx, {}); // Redis failed: no replies
    const std::vector<Reply> errors(2, Reply{Reply::Type::error, 0, "ERR", {}});
    bayes_check().decide(Phase::eom, ctx, errors);
    CHECK(tx.card.symbols().empty());
    CHECK_FALSE(bayes_check().runs_in(Phase::eom, *test::config("[bayes]\nenabled = false\n")));
}
