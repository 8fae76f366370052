#include "mime/urls.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

using namespace rampart::mime;

TEST_CASE("urls: parse_url reads the host a browser would go to")
{
    struct Case {
        std::string url;
        const char* want_host; // nullptr: no URL
        bool want_ip;
        bool want_obfuscated;
    };
    const std::string label64(64, 'a');
    const std::string host254 = std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." +
                                std::string(62, 'd') + ".e"; // 63+1+63+1+63+1+62+2 = 256
    const std::vector<Case> cases = {
        {"http://Example.COM/path", "example.com", false, false},
        {"https://www.example.com:8080/x?y#z", "www.example.com", false, false},
        {"HTTP://example.com./", "example.com", false, false},
        {"ftp://files.example.net/pub", "files.example.net", false, false},
        {"//cdn.example.net/x.js", "cdn.example.net", false, false},
        {"www.example.org/page", "www.example.org", false, false},
        {"  http://trimmed.example/  ", "trimmed.example", false, false},
        {"http://ex\tam\nple.com/", "example.com", false, false}, // browsers drop tabs and newlines
        {"http://m\xC3\xBCnchen.de/", "xn--mnchen-3ya.de", false, false},
        {"http://xn--mnchen-3ya.de/", "xn--mnchen-3ya.de", false, false},
        {"http://fa\xC3\x9F.de/", "xn--fa-hia.de", false, false},       // non-transitional keeps the sharp s
        {"http://\xF0\x9F\x98\x80.com/", "xn--e28h.com", false, false}, // only transitional takes it
        // Hiding forms.
        {"http://paypal.com@evil.example/", "evil.example", false, true},
        {"http://user:pw@host.example:21/", "host.example", false, true},
        {"http://%65vil.com/", "evil.com", false, true},
        {"http://3232235777/", "192.168.1.1", true, true},
        {"http://0300.0250.0.1/", "192.168.0.1", true, true},
        {"http://0xC0A80001/", "192.168.0.1", true, true},
        {"http://0xc0.0xa8.0.1/", "192.168.0.1", true, true},
        {"http://192.168.1/", "192.168.0.1", true, true},
        {"http://127.1/", "127.0.0.1", true, true},
        {"http://192.168.0.1/", "192.168.0.1", true, false},
        {"http:\\\\evil.com\\path", "evil.com", false, true},
        {"http:/evil.com", "evil.com", false, true},
        {"http:evil.com", "evil.com", false, true},
        {"http://x.example\\@evil.com/", "x.example", false, true}, // the backslash ends the host
        {"http://\xEF\xBD\x85\xEF\xBD\x98\xEF\xBD\x81\xEF\xBD\x8D\xEF\xBD\x90\xEF\xBD\x8C\xEF\xBD\x85.com/", // fullwidth
         "example.com", false, true},
        {"http://example\xE3\x80\x82"
         "com/",
         "example.com", false, true},                                  // ideographic full stop
        {"http://pay\xE2\x80\x8Bpal.com/", "paypal.com", false, true}, // zero-width space
        {"http://[2001:DB8::1]:443/", "[2001:db8::1]", true, false},
        // Not URLs.
        {"mailto:someone@example.com", nullptr, false, false},
        {"javascript:alert(1)", nullptr, false, false},
        {"cid:part1@example", nullptr, false, false},
        {"example.com/page", nullptr, false, false},
        {"http://", nullptr, false, false},
        {"", nullptr, false, false},
        {"www.", nullptr, false, false},
        {"http://1.2.3.4.5/", nullptr, false, false},
        {"http://256.1.1.1/", nullptr, false, false},
        {"http://08.1.1.1/", nullptr, false, false},
        {"http://a..b/", nullptr, false, false},
        {"http://exa mple.com/", nullptr, false, false},
        {"http://host.example:abc/", nullptr, false, false},
        {"http://%zz.example/", nullptr, false, false},
        {"http://a%2fb.example/", nullptr, false, false},
        {"http://[zz]/", nullptr, false, false},
        {"http://" + label64 + ".com/", nullptr, false, false},
        {"http://" + host254 + "/", nullptr, false, false},
        {"http://\xE2\x92\x88"
         "com/",
         nullptr, false, false}, // U+2488: IDNA refuses it
    };
    for (const auto& c : cases) {
        INFO("url: " << c.url);
        const auto got = parse_url(c.url);
        if (c.want_host == nullptr) {
            CHECK_FALSE(got.has_value());
            continue;
        }
        REQUIRE(got.has_value());
        CHECK(got->host == c.want_host);
        CHECK(got->ip == c.want_ip);
        CHECK(got->obfuscated == c.want_obfuscated);
    }
}

TEST_CASE("urls: parse_url keeps the text as written, at most kMaxUrlBytes")
{
    CHECK(parse_url("http://a.example/X").value().text == "http://a.example/X");
    const auto long_url = parse_url("http://a.example/" + std::string(3 * kMaxUrlBytes, 'p'));
    REQUIRE(long_url.has_value());
    CHECK(long_url->text.size() == kMaxUrlBytes);
    CHECK(long_url->host == "a.example");
}

TEST_CASE("urls: normalize_host")
{
    struct Case {
        const char* raw;
        const char* want;
        bool want_obfuscated;
        bool want_ip;
    };
    const Case cases[] = {
        {"EXAMPLE.com", "example.com", false, false},
        {"example.com:80", "example.com", false, false},
        {"paypal.com@evil.example:80", "evil.example", true, false},
        {"a.example/path", "a.example", false, false},
        {"a.example\\path", "a.example", true, false},
        {"%41.example", "a.example", true, false},
        {"2130706433", "127.0.0.1", true, true},
        {"[::1]", "[::1]", false, true},
        {"under_score.example", "under_score.example", false, false},
        {"", "", false, false},
        {"bad!char.example", "", false, false},
        {".", "", false, false},
    };
    for (const auto& c : cases) {
        INFO("raw: " << c.raw);
        bool obfuscated = !c.want_obfuscated, ip = !c.want_ip;
        CHECK(normalize_host(c.raw, obfuscated, ip) == c.want);
        if (*c.want != '\0') {
            CHECK(obfuscated == c.want_obfuscated);
            CHECK(ip == c.want_ip);
        }
    }
}

TEST_CASE("urls: find_urls finds scheme URLs and www. hosts in prose, as a reader would")
{
    struct Case {
        std::string text;
        std::vector<std::string> want; // Url::text of each
    };
    const std::vector<Case> cases = {
        {"Visit http://example.com/a, or https://b.example.org/x.",
         {"http://example.com/a", "https://b.example.org/x"}},
        {"(see www.example.com)", {"www.example.com"}},
        {"<http://example.com/>", {"http://example.com/"}},
        {"Wiki: https://en.wikipedia.org/wiki/Foo_(bar) ok", {"https://en.wikipedia.org/wiki/Foo_(bar)"}},
        {"[link: https://x.example/a]", {"https://x.example/a"}},
        {"'http://q.example/' and \"ftp://f.example/\"!", {"http://q.example/", "ftp://f.example/"}},
        {"Really?! HTTP://UPPER.EXAMPLE/...", {"HTTP://UPPER.EXAMPLE/"}},
        {"WWW.SHOUT.EXAMPLE; then", {"WWW.SHOUT.EXAMPLE"}},
        {"two http://a.example/ http://b.example/", {"http://a.example/", "http://b.example/"}},
        {"glued http://a.example/\xC2\xA0next", {"http://a.example/"}},
        {"hidden http:\\\\evil.example\\x here", {"http:\\\\evil.example\\x"}},
        {"line end http://a.example/x\r\nnext", {"http://a.example/x"}},
        // Not URLs.
        {"xhttp://no.example and awww.no.example and snowww.example", {}},
        {"mailto:x@y.example, note: time 10:30, ratio 3:1.", {}},
        {"user@www.example.com wrote", {}},
        {"www. is a prefix; so is http:", {}},
        {"http://bad..host/ here", {}},
    };
    for (const auto& c : cases) {
        INFO("text: " << c.text);
        std::vector<Url> got;
        find_urls(c.text, got, 100);
        REQUIRE(got.size() == c.want.size());
        for (std::size_t i = 0; i < got.size(); ++i)
            CHECK(got[i].text == c.want[i]);
    }
}

TEST_CASE("urls: find_urls stops at max, and appends")
{
    std::string text;
    for (int i = 0; i < 50; ++i)
        text += "http://h" + std::to_string(i) + ".example/ ";
    std::vector<Url> got;
    got.push_back({});
    find_urls(text, got, 10);
    CHECK(got.size() == 10);
    CHECK(got[1].host == "h0.example");
}

TEST_CASE("urls: find_urls is fast on prose without URLs")
{
    std::string prose;
    while (prose.size() < 20 * 1024 * 1024)
        prose += "The quick brown fox jumps over the lazy dog. Note: nothing here; www is a word. ";
    std::vector<Url> got;
    const auto t0 = std::chrono::steady_clock::now();
    find_urls(prose, got, 100);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK(got.empty());
    CHECK(seconds < 5.0);

    // Hostile tokens stay linear: long runs of brackets, dots and schemes.
    const std::vector<std::string> hostile = {
        "http://a.example/" + std::string(1000000, ')'),
        "http://a.example/" + std::string(1000000, '.'),
        "http://" + std::string(1000000, 'u') + "@evil.example/",
        [] {
            std::string s;
            while (s.size() < 1000000)
                s += "http://www.";
            return s;
        }(),
    };
    for (const auto& h : hostile) {
        got.clear();
        const auto h0 = std::chrono::steady_clock::now();
        find_urls(h, got, 100);
        CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - h0).count() < 5.0);
        CHECK(got.size() <= 100);
    }
    got.clear();
    find_urls(hostile[2], got, 100); // a long user-info does not hide the host
    REQUIRE(got.size() == 1);
    CHECK(got[0].host == "evil.example");
    CHECK(got[0].obfuscated);
}

TEST_CASE("urls: registered_domain")
{
    struct Case {
        const char* host;
        const char* want;
    };
    const Case cases[] = {
        {"www.example.com", "example.com"},
        {"example.com", "example.com"},
        {"com", "com"},
        {"a.b.c.example.org", "example.org"},
        {"www.example.co.uk", "example.co.uk"},
        {"example.co.uk", "example.co.uk"},
        {"co.uk", "co.uk"},
        {"a.b.example.com.au", "example.com.au"},
        {"shop.example.ne.jp", "example.ne.jp"},
        {"mail.example.ac.za", "example.ac.za"},
        {"x.example.gov.br", "example.gov.br"},
        {"www.example.io", "example.io"},
        {"x.co.com", "co.com"},         // no country code
        {"x.example.uk", "example.uk"}, // not a short second level
        {"192.168.0.1", "192.168.0.1"},
        {"[2001:db8::1]", "[2001:db8::1]"},
    };
    for (const auto& c : cases) {
        INFO("host: " << c.host);
        CHECK(registered_domain(c.host) == c.want);
    }
}
