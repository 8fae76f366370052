// Hostile input for the streaming MIME parser. Every message is generated
// here at run time; each test asserts that the limit or defect is recorded,
// that what is kept stays within its bounds, and (by finishing) that the
// parser completes.
#include "mime/encoded_words.hpp"
#include "mime/parser.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

using namespace rampart::mime;

namespace {

Content parse(std::string_view type, std::string_view body, std::size_t chunk = 64 * 1024, const Limits& l = {})
{
    Parser p(l);
    if (!type.empty())
        p.header("Content-Type", type);
    for (std::size_t i = 0; i < body.size(); i += chunk)
        p.body(body.substr(i, chunk));
    p.finish();
    return p.content();
}

bool hit(const Content& c, Limit l)
{
    return std::find(c.limits_hit.begin(), c.limits_hit.end(), l) != c.limits_hit.end();
}

// What must hold for any input.
void check_bounded(const Content& c, const Limits& l = {})
{
    CHECK(c.parts.size() <= l.parts);
    CHECK(c.text.size() <= kKeptTextBytes);
    CHECK(rampart::valid_utf8(c.text) == c.text);
    CHECK(c.urls.size() <= kMaxUrls);
    CHECK(c.links.size() <= kMaxLinks);
    CHECK(c.body_bytes <= l.message_scan_bytes);
    const std::set<Limit> once(c.limits_hit.begin(), c.limits_hit.end());
    CHECK(once.size() == c.limits_hit.size());
    for (const auto& p : c.parts) {
        CHECK(p.depth <= l.depth);
        CHECK(p.filename.size() <= kMaxFilenameBytes);
        CHECK(rampart::valid_utf8(p.filename) == p.filename);
        CHECK(p.text_sample.size() <= kTextSampleBytes);
        CHECK(p.zip_members.size() <= kMaxZipMembers);
        CHECK(p.content_type.size() <= 128);
        CHECK(p.charset.size() <= 128);
    }
}

std::string fingerprint(const Content& c)
{
    std::string s;
    for (const auto& p : c.parts)
        s += p.content_type + "|" + p.charset + "|" + p.filename + "|" + p.detected_type + "|" +
             std::to_string(p.decoded_bytes) + "|" + std::to_string(p.depth) + "|" + std::to_string(p.alternative) +
             "|" + std::to_string(p.text_chars) + "|" + p.text_sample + "\n";
    s += c.text;
    for (const auto& u : c.urls)
        s += "\n" + u.text;
    const auto& d = c.defects;
    for (bool b : {d.unterminated_multipart, d.missing_boundary, d.bad_base64, d.bad_qp, d.unknown_charset,
                   d.bad_charset_bytes, d.nul_bytes, d.eight_bit_headers})
        s += b ? '1' : '0';
    for (auto l : c.limits_hit)
        s += to_string(l);
    return s + std::to_string(c.body_bytes);
}

} // namespace

TEST_CASE("hostile: multiparts nested 1,000 deep stop at the depth limit")
{
    std::string body;
    for (int i = 1; i < 1000; ++i)
        body += "--b" + std::to_string(i - 1) + "\r\nContent-Type: multipart/mixed; boundary=\"b" + std::to_string(i) +
                "\"\r\n\r\n";
    body += "--b999\r\n\r\ninnermost\r\n";
    for (int i = 999; i >= 0; --i)
        body += "--b" + std::to_string(i) + "--\r\n";
    const Limits l;
    const Content c = parse("multipart/mixed; boundary=b0", body);
    check_bounded(c);
    CHECK(hit(c, Limit::depth));
    REQUIRE(c.parts.size() == 1); // the deepest allowed multipart, read as one part
    CHECK(c.parts[0].depth == l.depth);
    CHECK(c.parts[0].content_type == "multipart/mixed");
    CHECK_FALSE(c.defects.unterminated_multipart);
}

TEST_CASE("hostile: messages enclosed 1,000 deep stop at the depth limit")
{
    std::string body;
    for (int i = 0; i < 1000; ++i)
        body += "Content-Type: message/rfc822\r\n\r\n";
    body += "innermost\r\n";
    const Limits l;
    const Content c = parse("message/rfc822", body);
    check_bounded(c);
    CHECK(hit(c, Limit::depth));
    CHECK(c.parts.size() == l.depth + 1);
}

TEST_CASE("hostile: 100,000 parts are counted, at most parts inventoried")
{
    std::string body;
    for (int i = 0; i < 100000; ++i)
        body += "--p\r\n\r\nx\r\n";
    body += "--p--\r\n";
    const Limits l;
    const Content c = parse("multipart/mixed; boundary=p", body);
    check_bounded(c);
    CHECK(hit(c, Limit::parts));
    CHECK(c.parts.size() == l.parts);
    CHECK_FALSE(c.defects.unterminated_multipart);
}

TEST_CASE("hostile: a million header fields in a part, and many in the message's own")
{
    std::string body = "--h\r\n";
    for (int i = 0; i < 1000000; ++i)
        body += "X-F: v\r\n";
    body += "Content-Type: application/x-hidden\r\n\r\nbody\r\n--h--\r\n";
    const Content c = parse("multipart/mixed; boundary=h", body);
    check_bounded(c);
    CHECK(hit(c, Limit::part_headers));
    REQUIRE(c.parts.size() == 1);
    CHECK(c.parts[0].content_type == "text/plain"); // the field past the limit was skipped

    Parser p(Limits{});
    for (int i = 0; i < 100000; ++i)
        p.header("X-Top", "v");
    p.header("Content-Type", "multipart/mixed; boundary=never");
    p.body("plain after all\r\n");
    p.finish();
    CHECK(hit(p.content(), Limit::part_headers));
    CHECK(p.content().text == "plain after all");
}

TEST_CASE("hostile: a 1 MB line is cut at line_bytes, whatever the chunking")
{
    const Limits l;
    const std::string line(1024 * 1024, 'a');
    const std::string body =
        "--L\r\n\r\n" + line + "\r\nafter\r\n--L\r\nContent-Type: text/plain;" + line + "\r\n\r\nnext\r\n--L--\r\n";
    const Content whole = parse("multipart/mixed; boundary=L", body);
    check_bounded(whole);
    CHECK(whole.limits_hit == std::vector<Limit>{Limit::line_bytes});
    REQUIRE(whole.parts.size() == 2);
    CHECK(whole.parts[0].decoded_bytes == l.line_bytes + 1 + 5);
    CHECK(whole.parts[1].text_sample == "next");
    const Content pieces = parse("multipart/mixed; boundary=L", body, 4093);
    CHECK(fingerprint(pieces) == fingerprint(whole));
}

TEST_CASE("hostile: NUL bytes in a text part are dropped and flagged")
{
    std::string body = "be";
    body += std::string(5000, '\0');
    body += "nign\r\n";
    const Content c = parse("text/plain", body, 7);
    check_bounded(c);
    CHECK(c.defects.nul_bytes);
    CHECK(c.text == "benign");
}

TEST_CASE("hostile: broken base64 and quoted-printable are decoded as far as they go")
{
    const Content b = parse("text/plain", "", 1);
    CHECK(b.parts.size() == 1);
    std::string junk;
    for (int i = 0; i < 20000; ++i)
        junk += "SGVs*bG8!\r\n=====\r\n@@@@\r\n";
    Parser p(Limits{});
    p.header("Content-Transfer-Encoding", "base64");
    p.body(junk);
    p.finish();
    check_bounded(p.content());
    CHECK(p.content().defects.bad_base64);
    CHECK(p.content().text.starts_with("Hello"));

    std::string qp;
    for (int i = 0; i < 20000; ++i)
        qp += "=\r\n=G=1=\r\n=ZZ=";
    Parser q(Limits{});
    q.header("Content-Transfer-Encoding", "quoted-printable");
    q.body(qp + "\r\n");
    q.finish();
    check_bounded(q.content());
    CHECK(q.content().defects.bad_qp);
}

TEST_CASE("hostile: boundaries that never close")
{
    std::string body;
    for (int i = 0; i < 200; ++i)
        body += "--o" + std::to_string(i) + "\r\nContent-Type: multipart/mixed; boundary=o" + std::to_string(i + 1) +
                "\r\n\r\n";
    const Content c = parse("multipart/mixed; boundary=o0", body);
    check_bounded(c);
    CHECK(c.defects.unterminated_multipart);
    CHECK(hit(c, Limit::depth));
    const Content only_preamble = parse("multipart/mixed; boundary=zz", "no boundary ever\r\n");
    CHECK(only_preamble.defects.unterminated_multipart);
    CHECK(only_preamble.parts.empty());
}

TEST_CASE("hostile: raw 8-bit bytes in part header fields")
{
    std::string body =
        "--e\r\nContent-Type: text/plain; name=\"\xFF\xFE\xC0\x80.exe\"\r\nX-\x80\x81: \xFF\r\n\r\nok\r\n--e--\r\n";
    const Content c = parse("multipart/mixed; boundary=e", body);
    check_bounded(c);
    CHECK(c.defects.eight_bit_headers);
    REQUIRE(c.parts.size() == 1);
    CHECK(c.parts[0].filename.ends_with(".exe"));
}

TEST_CASE("hostile: unknown and absurd charset names")
{
    const Content unknown = parse("text/plain; charset=x-no-such-charset", "abc\xFF\xFE def\r\n");
    check_bounded(unknown);
    CHECK(unknown.defects.unknown_charset);
    CHECK(unknown.text == "abc\xEF\xBF\xBD\xEF\xBF\xBD def");

    const Content huge = parse("text/plain; charset=\"" + std::string(2000, 'k') + "\"", "text\r\n");
    check_bounded(huge);
    CHECK(huge.defects.unknown_charset);
    CHECK(huge.text == "text");

    const Content options = parse("text/plain; charset=\"utf-8//IGNORE\"", "text\r\n");
    CHECK(options.defects.unknown_charset);
}

TEST_CASE("hostile: a boundary longer than a line is no boundary")
{
    Limits l;
    l.line_bytes = 1000;
    const std::string b(1500, 'B');
    const Content c = parse("multipart/mixed; boundary=\"" + b + "\"",
                            "--" + b + "\r\n\r\nhidden?\r\n--" + b + "--\r\n", 64 * 1024, l);
    check_bounded(c, l);
    CHECK(c.defects.missing_boundary);
    REQUIRE(c.parts.size() == 1);
    CHECK(c.parts[0].content_type == "text/plain");
    CHECK(c.text.find("hidden?") != std::string::npos); // read, not skipped as a preamble
}

TEST_CASE("hostile: parameters, comments and quotes without end")
{
    const std::string comments = "text/plain; charset=" + std::string(100000, '(');
    check_bounded(parse(comments, "x\r\n"));
    std::string params = "text/plain";
    for (int i = 0; i < 20000; ++i)
        params += "; filename*" + std::to_string(i % 100) + "*=utf-8''%41";
    check_bounded(parse(params, "x\r\n"));
    const Content quote = parse("application/octet-stream; name=\"never closed" + std::string(3000, 'x'), "x\r\n");
    check_bounded(quote);
    CHECK(quote.parts[0].filename.size() == kMaxFilenameBytes);
}

TEST_CASE("hostile: repeated URLs do not crowd out the rest")
{
    std::string body;
    for (int i = 0; i < 20000; ++i)
        body += "http://same.example/\n";
    for (int i = 0; i < 2000; ++i)
        body += "http://h" + std::to_string(i) + ".example/\n";
    const Content c = parse("text/plain", body);
    check_bounded(c);
    CHECK(c.urls.size() == kMaxUrls);
    CHECK(c.urls[1].text.find("h0.example") != std::string::npos);
}

TEST_CASE("hostile: random structures give bounded results, whatever the chunking")
{
    const std::vector<std::string> pieces = {
        "--a\r\n",
        "--a--\r\n",
        "--b\r\n",
        "--b--\r\n",
        "\r\n",
        "\n",
        "Content-Type: multipart/mixed; boundary=b\r\n",
        "Content-Type: multipart/alternative; boundary=a\r\n",
        "Content-Type: message/rfc822\r\n",
        "Content-Type: text/html; charset=shift_jis\r\n",
        "Content-Type: text/plain; charset=utf-8\r\n",
        "Content-Transfer-Encoding: base64\r\n",
        "Content-Transfer-Encoding: quoted-printable\r\n",
        "Content-Disposition: attachment; filename*0*=utf-8''%E2%82; filename*1*=%AC.zip\r\n",
        " folded\r\n",
        "SGVsbG8gaHR0cDovL3guZXhhbXBsZS8=\r\n",
        "caf=E9 =\r\n",
        "\x93\xFA\x96",
        "\x7B\r\n",
        "<a href=\"http://y.example/\">",
        "PK\x03\x04",
        std::string("\0\r\0", 3),
        "\xC3",
        "\xA9\r",
        "http://z.example/p",
    };
    std::mt19937 rng(2046);
    Limits l;
    l.depth = 6;
    l.parts = 40;
    l.line_bytes = 64;
    l.part_scan_bytes = 300;
    l.message_scan_bytes = 6000;
    for (int round = 0; round < 300; ++round) {
        std::string body;
        const int n = std::uniform_int_distribution<int>(1, 200)(rng);
        for (int i = 0; i < n; ++i)
            body += pieces[std::uniform_int_distribution<std::size_t>(0, pieces.size() - 1)(rng)];
        const std::string type = round % 2 ? "multipart/mixed; boundary=a" : "multipart/alternative; boundary=b";
        const Content whole = parse(type, body, 1 << 20, l);
        check_bounded(whole, l);
        const std::size_t chunk = std::uniform_int_distribution<std::size_t>(1, 97)(rng);
        const Content cut = parse(type, body, chunk, l);
        CHECK_MESSAGE(fingerprint(cut) == fingerprint(whole), "round ", round, " chunk ", chunk);
    }
}
