// Tests of the outbreak fingerprints (checks/fingerprint.hpp): what counts as
// the same message, what survives small changes, and what is left out.
#include "checks/fingerprint.hpp"
#include "mime/parser.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace rampart;
using namespace rampart::fingerprint;

namespace {

mime::Content parse(const std::string& content_type, const std::string& body)
{
    mime::Parser p(mime::Limits{});
    p.header("Content-Type", content_type);
    p.body(body);
    p.finish();
    return p.content();
}

const std::string kOffer =
    "Dear customer, your account has been selected for our exclusive winter offer. Claim your reward of 500 "
    "dollars today by confirming your details on our secure page. This offer expires in 48 hours, so do not "
    "wait. Thousands of customers have already claimed their reward this week. Thank you for being a valued "
    "member of our community and we look forward to serving you again soon.\r\n";

std::vector<std::string> ids(const std::vector<Fingerprint>& fps, Kind kind)
{
    std::vector<std::string> out;
    for (const auto& f : fps)
        if (f.kind == kind)
            out.push_back(f.id);
    return out;
}

std::size_t shared(const std::vector<std::string>& a, const std::vector<std::string>& b)
{
    return static_cast<std::size_t>(std::count_if(
        a.begin(), a.end(), [&](const std::string& x) { return std::find(b.begin(), b.end(), x) != b.end(); }));
}

std::string replaced(std::string s, const std::string& from, const std::string& to)
{
    s.replace(s.find(from), from.size(), to);
    return s;
}

} // namespace

TEST_CASE("fingerprint: words are lowercased, digits read as '#', punctuation separates, UTF-8 stays")
{
    CHECK(words("Hello,  WORLD! Call 555-1234 now\n\xc3\xa9t\xc3\xa9") ==
          std::vector<std::string>{"hello", "world", "call", "###", "####", "now", "\xc3\xa9t\xc3\xa9"});
    CHECK(words("").empty());
    CHECK(words(" \t--- ").empty());
}

TEST_CASE("fingerprint: the same text in other case, spacing and numbers is the same text")
{
    const auto a = of(parse("text/plain", kOffer), true);
    const auto b =
        of(parse("text/plain", replaced(replaced(kOffer, "500", "750"), "Dear customer,", "DEAR   customer")), true);
    REQUIRE(ids(a, Kind::text).size() == 1);
    CHECK(ids(a, Kind::text) == ids(b, Kind::text));
    CHECK(ids(a, Kind::text).front().starts_with("text:"));
    CHECK(ids(a, Kind::text).front().size() == 21);
    CHECK(ids(a, Kind::near).size() == kBands);
    CHECK(ids(a, Kind::near) == ids(b, Kind::near));
    // Without near-duplicates asked for there are none.
    CHECK(ids(of(parse("text/plain", kOffer), false), Kind::near).empty());
}

TEST_CASE("fingerprint: a changed word changes the text's fingerprint; most such copies still share a band")
{
    const auto base = of(parse("text/plain", kOffer), true);
    std::vector<std::string> all; // the text as written, cut at spaces
    for (std::size_t from = 0, to; from < kOffer.size(); from = to + 1) {
        to = std::min(kOffer.find(' ', from), kOffer.size());
        all.push_back(kOffer.substr(from, to - from));
    }
    int sharing = 0, tried = 0;
    for (std::size_t i = 1; i < all.size(); i += 3) { // one word changed in each copy, a different one each time
        std::string changed;
        for (std::size_t j = 0; j < all.size(); ++j)
            changed += (j == i ? std::string("different") : all[j]) + " ";
        const auto copy = of(parse("text/plain", changed + "\r\n"), true);
        CHECK(ids(copy, Kind::text) != ids(base, Kind::text));
        sharing += shared(ids(base, Kind::near), ids(copy, Kind::near)) > 0;
        ++tried;
    }
    REQUIRE(tried >= 20);
    CHECK(sharing >= tried * 3 / 4);
    // Another text shares none.
    const auto other = of(parse("text/plain", "The quarterly report is attached for your review before the board "
                                              "meeting on Thursday. Please send comments on the revenue section to "
                                              "Maria by Wednesday noon so that we can include them in the final "
                                              "version.\r\n"),
                          true);
    CHECK(shared(ids(base, Kind::near), ids(other, Kind::near)) == 0);
    CHECK(ids(base, Kind::text) != ids(other, Kind::text));
}

TEST_CASE("fingerprint: a short text has no text fingerprint: too many honest messages say the same")
{
    const auto fps = of(parse("text/plain", "Sent from my phone. See you at 5.\r\n"), true);
    CHECK(fps.empty());
}

TEST_CASE("fingerprint: the URL set is host and path, in any order, without query or bare domains")
{
    mime::Url u;
    u.host = "example.com";
    u.text = "https://Example.com/offer/claim?id=123#top";
    CHECK(url_key(u) == "example.com/offer/claim");
    u.text = "https://example.com/";
    CHECK(url_key(u).empty());
    u.text = "https://example.com?x=1";
    CHECK(url_key(u).empty());
    u.text = "www.example.com/a";
    CHECK(url_key(u) == "example.com/a");

    const auto a = of(parse("text/plain", "go to https://shop.example/a?u=1 or http://www.example.org/b\r\n"), false);
    const auto b = of(parse("text/plain", "http://www.example.org/b and https://SHOP.example/a?u=2\r\n"), false);
    REQUIRE(ids(a, Kind::urls).size() == 1);
    CHECK(ids(a, Kind::urls) == ids(b, Kind::urls));
    CHECK(of(parse("text/plain", "visit https://example.com/ today\r\n"), false).empty());
}

TEST_CASE("fingerprint: an attachment's content, whatever its name; images and small parts are left out")
{
    std::string blob;
    for (int i = 0; i < 100; ++i)
        blob += "PK-archive-bytes-" + std::to_string(i) + "\n";
    const auto message = [&](const std::string& name, const std::string& type, const std::string& data) {
        return parse("multipart/mixed; boundary=\"b\"",
                     "--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\nContent-Type: " + type +
                         "\r\nContent-Disposition: attachment; filename=\"" + name + "\"\r\n\r\n" + data +
                         "\r\n--b--\r\n");
    };
    const auto a = ids(of(message("invoice.zip", "application/zip", blob), false), Kind::attachment);
    const auto b = ids(of(message("other-name.bin", "application/octet-stream", blob), false), Kind::attachment);
    REQUIRE(a.size() == 1);
    CHECK(a == b);
    CHECK(ids(of(message("invoice.zip", "application/zip", blob + "x"), false), Kind::attachment) != a);
    CHECK(ids(of(message("logo.png", "image/png", blob), false), Kind::attachment).empty());
    CHECK(ids(of(message("tiny.bin", "application/octet-stream", "abc"), false), Kind::attachment).empty());
}
