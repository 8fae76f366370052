// Tests of the streaming MIME parser, its decoders and its parameter parsing:
// structure, encodings, charsets, file names, nesting, zip members, and that
// the result does not depend on how the body is cut into chunks.
#include "mime/decode.hpp"
#include "mime/params.hpp"
#include "mime/parser.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

using namespace rampart::mime;
using namespace std::string_literals;

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

Content parse(const Headers& headers, std::string_view body, std::size_t chunk = 64 * 1024, const Limits& limits = {})
{
    Parser p(limits);
    for (const auto& [n, v] : headers)
        p.header(n, v);
    for (std::size_t i = 0; i < body.size(); i += chunk)
        p.body(body.substr(i, chunk));
    p.finish();
    return p.content();
}

std::string base64(std::string_view in)
{
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t line = 0;
    for (std::size_t i = 0; i < in.size(); i += 3) {
        std::uint32_t v = static_cast<unsigned char>(in[i]) << 16;
        if (i + 1 < in.size())
            v |= static_cast<unsigned char>(in[i + 1]) << 8;
        if (i + 2 < in.size())
            v |= static_cast<unsigned char>(in[i + 2]);
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
        out += i + 2 < in.size() ? kAlphabet[v & 63] : '=';
        if ((line += 4) >= 76) {
            out += "\r\n";
            line = 0;
        }
    }
    return out + "\r\n";
}

void put16(std::string& s, unsigned v)
{
    s += static_cast<char>(v & 0xFF);
    s += static_cast<char>((v >> 8) & 0xFF);
}

void put32(std::string& s, std::uint32_t v)
{
    put16(s, v & 0xFFFF);
    put16(s, v >> 16);
}

struct ZipMember {
    std::string name, data;
    bool encrypted = false;
};

// A stored (uncompressed) zip archive: local headers, then an end record.
std::string make_zip(const std::vector<ZipMember>& members)
{
    std::string z;
    for (const auto& m : members) {
        z += "PK\x03\x04";
        put16(z, 20);                  // version needed
        put16(z, m.encrypted ? 1 : 0); // flags: bit 0 is encryption
        put16(z, 0);                   // stored
        put32(z, 0);                   // time, date
        put32(z, 0);                   // crc (not checked)
        put32(z, static_cast<std::uint32_t>(m.data.size()));
        put32(z, static_cast<std::uint32_t>(m.data.size()));
        put16(z, static_cast<unsigned>(m.name.size()));
        put16(z, 0); // extra
        z += m.name + m.data;
    }
    z += std::string("PK\x05\x06", 4) + std::string(18, '\0');
    return z;
}

// Everything a Content holds, so that two parses can be compared.
std::string summary(const Content& c)
{
    std::string s;
    for (const auto& p : c.parts) {
        s += p.content_type + "|" + p.charset + "|" + p.transfer_encoding + "|" + p.disposition + "|" + p.filename +
             "|" + p.detected_type + "|" + std::to_string(p.decoded_bytes) + "|" + std::to_string(p.depth) + "|" +
             std::to_string(p.alternative) + "|" + std::to_string(p.text_chars) + "|" + p.text_sample + "|" +
             (p.zip_encrypted ? "E" : "-");
        for (const auto& m : p.zip_members)
            s += "|z:" + m;
        s += "\n";
    }
    s += "text:" + c.text + "\n";
    for (const auto& u : c.urls)
        s += "url:" + u.text + " " + u.host + "\n";
    for (const auto& l : c.links)
        s += "link:" + l.href + " " + l.text + "\n";
    const auto& d = c.defects;
    for (bool b : {d.unterminated_multipart, d.missing_boundary, d.bad_base64, d.bad_qp, d.unknown_charset,
                   d.bad_charset_bytes, d.nul_bytes, d.eight_bit_headers})
        s += b ? '1' : '0';
    for (auto l : c.limits_hit)
        s += std::string(" ") + to_string(l);
    s += " " + std::to_string(c.html_visible_chars) + " " + std::to_string(c.html_hidden_chars) + " " +
         std::to_string(c.html_images) + " " + std::to_string(c.plain_chars) + " " + std::to_string(c.body_bytes) +
         (c.truncated ? " T" : "");
    return s;
}

bool has_url_host(const Content& c, std::string_view host)
{
    return std::any_of(c.urls.begin(), c.urls.end(), [&](const Url& u) { return u.host == host; });
}

const Headers kMixed = {{"Content-Type", "multipart/mixed; boundary=\"XX\""}};

} // namespace

TEST_CASE("decoders: base64 streams across pieces, skips white space and flags bad characters")
{
    struct Case {
        std::vector<std::string> pieces;
        std::string want;
        bool bad;
    };
    const Case cases[] = {
        {{"aGVsbG8="}, "hello", false},
        {{"aG", "VsbG", "8", "="}, "hello", false},
        {{"aGVs\r\n", " bG8=\r\n"}, "hello", false},
        {{"aGVsbG8"}, "hello", false},        // unpadded: the whole bytes come out
        {{"aGV*sbG8="}, "hello", true},       // a stray character is skipped
        {{"aGVsbG8=aGk="}, "hellohi", false}, // concatenated encodings
        {{"aGVsbG8=a"}, "hello", true},       // a lone character at the end
    };
    for (const auto& c : cases) {
        Base64Decoder b;
        std::string out;
        for (const auto& p : c.pieces)
            b.feed(p, out);
        b.finish();
        CHECK_MESSAGE(out == c.want, "got ", out, " want ", c.want);
        CHECK(b.bad() == c.bad);
    }
}

TEST_CASE("decoders: quoted-printable lines")
{
    struct Case {
        std::string line, want;
        bool soft, bad;
    };
    const Case cases[] = {
        {"caf=E9 cr=e8me", "caf\xE9 cr\xE8me", false, false},
        {"soft break=", "soft break", true, false},
        {"padding   \t", "padding", false, false},
        {"soft with pad=  ", "soft with pad", true, false},
        {"50=ZZ off", "50=ZZ off", false, true},
        {"ends =4", "ends =4", false, true},
        {"=3D=3d", "==", false, false},
    };
    for (const auto& c : cases) {
        QpDecoder q;
        std::string out;
        CHECK(q.line(c.line, out) == c.soft);
        CHECK_MESSAGE(out == c.want, "got ", out, " want ", c.want);
        CHECK(q.bad() == c.bad);
    }
}

TEST_CASE("decoders: charset conversion carries incomplete sequences between pieces")
{
    TextConverter t;
    REQUIRE(t.open("shift_jis"));
    std::string out;
    for (char c : std::string("\x93\xFA\x96\x7B"))
        t.feed(std::string_view(&c, 1), out);
    t.finish(out);
    CHECK(out == "\xE6\x97\xA5\xE6\x9C\xAC"); // "日本"
    CHECK_FALSE(t.bad());
    CHECK_FALSE(t.open("x-no-such-charset"));
    CHECK_FALSE(t.open("utf-8//TRANSLIT"));     // never passes options to iconv
    CHECK_FALSE(t.open(std::string(200, 'a'))); // longer than a charset name
    REQUIRE(t.open("utf-8"));
    out.clear();
    t.feed("\xC3", out);
    t.feed("\xA9\xFF", out);
    t.finish(out);
    CHECK(out == "\xC3\xA9\xEF\xBF\xBD");
    CHECK(t.bad());
}

TEST_CASE("params: type, charset, encoding, comments and quoting")
{
    auto t = parse_content_type("Text/HTML (the type) ; Charset=\"UTF-8\" ; x=\"a;b\"; boundary=\"--=_b\\\"1\"");
    CHECK(t.type == "text/html");
    CHECK(t.charset == "utf-8");
    CHECK(t.boundary == "--=_b\"1");
    CHECK(parse_content_type("text").type.empty()); // malformed: the caller's default applies
    CHECK(parse_content_type("").type.empty());
    CHECK(parse_content_type("multipart/mixed;\r\n\tboundary=abc").boundary == "abc");
    CHECK(parse_transfer_encoding(" Base64 (why not)") == "base64");
    CHECK(parse_disposition("INLINE").kind == "inline");
    CHECK(parse_disposition("form-data; name=x").kind == "attachment"); // RFC 2183: unknown is attachment
    CHECK(parse_disposition("").kind.empty());
}

TEST_CASE("params: file names with RFC 2231 and RFC 2047")
{
    struct Case {
        std::string disposition, type, want;
    };
    const Case cases[] = {
        {"attachment; filename=\"report.pdf\"", "", "report.pdf"},
        {"attachment; filename*=utf-8''%E2%82%AC%20rates.pdf", "", "\xE2\x82\xAC rates.pdf"},
        {"attachment; filename*=iso-8859-1'en'caf%E9.doc", "", "caf\xC3\xA9.doc"},
        {"attachment; filename*0*=utf-8''%C3%A9t%C3%A9; filename*1=\".txt\"", "", "\xC3\xA9t\xC3\xA9.txt"},
        {"attachment; filename*1=\"part2.exe\"; filename*0=\"part1_\"", "", "part1_part2.exe"},
        {"attachment; filename=\"=?utf-8?B?w6l0w6kuZXhl?=\"", "", "\xC3\xA9t\xC3\xA9.exe"},
        {"attachment; filename=\"plain.txt\"; filename*=utf-8''better.txt", "", "better.txt"},
        {"", "application/octet-stream; name=\"=?iso-8859-1?Q?r=E9sum=E9.zip?=\"", "r\xC3\xA9sum\xC3\xA9.zip"},
        {"attachment (a comment); filename = a(1).pdf", "", "a(1).pdf"},
        {"attachment; filename=\"a\\\"b.txt\"", "", "a\"b.txt"},
        {"attachment; filename=\"caf\xE9.txt\"", "", "caf\xEF\xBF\xBD.txt"},
        {"attachment; filename*=x-bogus''%FF.bin", "", "\xEF\xBF\xBD.bin"},
    };
    for (const auto& c : cases) {
        Headers h = {{"Content-Type", c.type.empty() ? "application/octet-stream" : c.type}};
        if (!c.disposition.empty())
            h.emplace_back("Content-Disposition", c.disposition);
        const Content got = parse(h, "data\r\n");
        REQUIRE(got.parts.size() == 1);
        CHECK_MESSAGE(got.parts[0].filename == c.want, "got ", got.parts[0].filename, " want ", c.want);
        CHECK(got.parts[0].is_attachment());
    }
    const Content longname =
        parse({{"Content-Disposition", "attachment; filename=\"" + std::string(2000, 'n') + ".exe\""}}, "x");
    CHECK(longname.parts[0].filename.size() == kMaxFilenameBytes);
}

TEST_CASE("parser: a plain message is one text part at depth 0")
{
    const Content c = parse({{"Subject", "hi"}}, "Hello world,\r\nsee http://example.com/x now.\r\n");
    REQUIRE(c.parts.size() == 1);
    const Part& p = c.parts[0];
    CHECK(p.content_type == "text/plain");
    CHECK(p.depth == 0);
    CHECK(p.alternative == -1);
    CHECK(c.text == "Hello world,\nsee http://example.com/x now.");
    CHECK(p.text_sample == c.text);
    CHECK(p.text_chars == c.text.size());
    CHECK(c.plain_chars == c.text.size());
    CHECK(has_url_host(c, "example.com"));
    CHECK(c.body_bytes == 45);
    CHECK(c.limits_hit.empty());
    CHECK_FALSE(c.truncated);
}

TEST_CASE("parser: transfer encodings of a text part")
{
    struct Case {
        std::string cte, body, want;
        bool bad_base64, bad_qp;
    };
    const Case cases[] = {
        {"base64", base64("Buy now\r\nplease"), "Buy now\nplease", false, false},
        {"quoted-printable", "Bu=\r\ny =3D now\r\nplease=20\r\n", "Buy = now\nplease ", false, false},
        {"quoted-printable", "50=ZZ off\r\n", "50=ZZ off", false, true},
        {"7bit", "line one\r\nline two\r\n", "line one\nline two", false, false},
        {"8bit", "bare LF\nlines\n", "bare LF\nlines", false, false},
        {"binary", "x\r\n", "x", false, false},
        {"x-unknown", "as is\r\n", "as is", false, false},
        {"base64", "QnV5*IG5vdw==\r\n", "Buy now", true, false},
    };
    for (const auto& c : cases) {
        const Content got = parse({{"Content-Type", "text/plain"}, {"Content-Transfer-Encoding", c.cte}}, c.body);
        REQUIRE(got.parts.size() == 1);
        CHECK_MESSAGE(got.text == c.want, c.cte, ": got ", got.text, " want ", c.want);
        CHECK(got.parts[0].transfer_encoding == c.cte);
        CHECK(got.defects.bad_base64 == c.bad_base64);
        CHECK(got.defects.bad_qp == c.bad_qp);
    }
}

TEST_CASE("parser: charsets become UTF-8, whatever the chunking")
{
    struct Case {
        std::string charset, raw, want;
    };
    const Case cases[] = {
        {"iso-8859-1", "caf\xE9", "caf\xC3\xA9"},
        {"windows-1252",
         "\x80"
         "5 only",
         "\xE2\x82\xAC"
         "5 only"},
        {"koi8-r", "\xF0\xD2\xC9\xD7\xC5\xD4", "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82"},
        {"utf-8", "\xC3\xA9t\xC3\xA9 \xF0\x9F\x98\x80", "\xC3\xA9t\xC3\xA9 \xF0\x9F\x98\x80"},
        {"shift_jis", "\x93\xFA\x96\x7B", "\xE6\x97\xA5\xE6\x9C\xAC"},
        {"gb2312", "\xD6\xD0\xCE\xC4", "\xE4\xB8\xAD\xE6\x96\x87"},
        {"iso-2022-jp", "\x1B$BF|K\\\x1B(B", "\xE6\x97\xA5\xE6\x9C\xAC"}, // stateful
        {"", "ascii only", "ascii only"},
        {"us-ascii", "\xC3\xA9", "\xC3\xA9"}, // mislabelled UTF-8 reads as clients show it
    };
    for (const auto& c : cases) {
        const Headers h = {{"Content-Type", "text/plain; charset=\"" + c.charset + "\""}};
        for (std::size_t chunk : {std::size_t{1}, std::size_t{5}, std::size_t{64 * 1024}}) {
            const Content got = parse(h, c.raw + "\r\n", chunk);
            CHECK_MESSAGE(got.text == c.want, c.charset, " chunk ", chunk, ": got ", got.text);
            CHECK_FALSE(got.defects.bad_charset_bytes);
            CHECK_FALSE(got.defects.unknown_charset);
        }
    }
    const Content bad = parse({{"Content-Type", "text/plain; charset=utf-8"}}, "ok \xFF ok");
    CHECK(bad.defects.bad_charset_bytes);
    CHECK(bad.text == "ok \xEF\xBF\xBD ok");
    const Content cut = parse({{"Content-Type", "text/plain; charset=shift_jis"}}, "ok\x93"); // sequence cut at the end
    CHECK(cut.defects.bad_charset_bytes);
    CHECK(cut.text == "ok\xEF\xBF\xBD");
    const Content unknown = parse({{"Content-Type", "text/plain; charset=x-martian"}}, "abc\xFF");
    CHECK(unknown.defects.unknown_charset);
    CHECK(unknown.text == "abc\xEF\xBF\xBD");
    CHECK(unknown.parts[0].charset == "x-martian");
}

TEST_CASE("parser: multipart structure, attachments and part headers")
{
    const std::string body = "preamble is ignored\r\n"
                             "--XX\r\n"
                             "Content-Type: text/plain;\r\n"
                             "\tcharset=iso-8859-1\r\n"
                             "Content-Transfer-Encoding: quoted-printable\r\n"
                             "\r\n"
                             "caf=E9\r\n"
                             "--XX  \r\n"
                             "Content-Type: application/octet-stream; name=\"x.bin\"\r\n"
                             "Content-Disposition: attachment\r\n"
                             "Content-Transfer-Encoding: base64\r\n"
                             "\r\n" +
                             base64("\x01\x02\x03\x04\x05") +
                             "--XX--\r\n"
                             "epilogue is ignored\r\n";
    const Content c = parse(kMixed, body);
    REQUIRE(c.parts.size() == 2);
    CHECK(c.parts[0].content_type == "text/plain");
    CHECK(c.parts[0].charset == "iso-8859-1");
    CHECK(c.parts[0].depth == 1);
    CHECK(c.text == "caf\xC3\xA9");
    CHECK(c.parts[1].content_type == "application/octet-stream");
    CHECK(c.parts[1].disposition == "attachment");
    CHECK(c.parts[1].filename == "x.bin");
    CHECK(c.parts[1].decoded_bytes == 5);
    CHECK(c.parts[1].text_chars == 0);
    CHECK_FALSE(c.defects.unterminated_multipart);
    CHECK_FALSE(c.defects.eight_bit_headers);
}

TEST_CASE("parser: nesting, an outer boundary closing inner parts, alternatives")
{
    const std::string body = "--XX\r\n"
                             "Content-Type: multipart/alternative; boundary=ALT\r\n"
                             "\r\n"
                             "--ALT\r\n"
                             "\r\n"
                             "plain version\r\n"
                             "--ALT\r\n"
                             "Content-Type: multipart/related; boundary=REL\r\n"
                             "\r\n"
                             "--REL\r\n"
                             "Content-Type: text/html\r\n"
                             "\r\n"
                             "<p>html version</p>\r\n"
                             "--REL\r\n"
                             "Content-Type: image/png\r\n"
                             "\r\n"
                             "\x89PNG\r\n"
                             "--XX\r\n" // closes REL and ALT, which never got their end
                             "Content-Type: multipart/alternative; boundary=ALT2\r\n"
                             "\r\n"
                             "--ALT2\r\n"
                             "\r\n"
                             "second group\r\n"
                             "--ALT2--\r\n"
                             "--XX\r\n"
                             "\r\n"
                             "outside\r\n"
                             "--XX--\r\n";
    const Content c = parse(kMixed, body);
    REQUIRE(c.parts.size() == 5);
    CHECK(c.parts[0].depth == 2);
    CHECK(c.parts[1].content_type == "text/html");
    CHECK(c.parts[1].depth == 3);
    CHECK(c.parts[2].content_type == "image/png");
    CHECK(c.parts[0].alternative == 0);
    CHECK(c.parts[1].alternative == 0);
    CHECK(c.parts[2].alternative == 0);
    CHECK(c.parts[3].alternative == 1);
    CHECK(c.parts[4].alternative == -1);
    CHECK(c.parts[4].depth == 1);
    CHECK(c.parts[4].text_sample == "outside");
    CHECK(c.defects.unterminated_multipart); // REL and ALT were closed by XX
    CHECK(c.text.find("plain version") != std::string::npos);
    CHECK(c.text.find("html version") != std::string::npos);
    CHECK(c.text.find("second group\noutside") != std::string::npos); // parts joined by "\n"
}

TEST_CASE("parser: message/rfc822 is read as a message")
{
    const std::string body = "--XX\r\n"
                             "\r\n"
                             "see attached\r\n"
                             "--XX\r\n"
                             "Content-Type: message/rfc822\r\n"
                             "\r\n"
                             "From: a@example.com\r\n"
                             "Subject: inner\r\n"
                             "Content-Type: text/plain; charset=koi8-r\r\n"
                             "\r\n"
                             "\xF0\xD2\xC9\xD7\xC5\xD4\r\n"
                             "--XX--\r\n";
    const Content c = parse(kMixed, body);
    REQUIRE(c.parts.size() == 3);
    CHECK(c.parts[1].content_type == "message/rfc822");
    CHECK(c.parts[1].depth == 1);
    CHECK(c.parts[1].decoded_bytes > 0);
    CHECK(c.parts[2].content_type == "text/plain");
    CHECK(c.parts[2].charset == "koi8-r");
    CHECK(c.parts[2].depth == 2);
    CHECK(c.parts[2].text_sample == "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82");
    CHECK_FALSE(c.defects.unterminated_multipart);
}

TEST_CASE("parser: a digest's parts are messages unless they say otherwise")
{
    const Content c =
        parse({{"Content-Type", "multipart/digest; boundary=D"}}, "--D\r\n\r\nSubject: one\r\n\r\nfirst\r\n--D--\r\n");
    REQUIRE(c.parts.size() == 2);
    CHECK(c.parts[0].content_type == "message/rfc822");
    CHECK(c.parts[1].text_sample == "first");
}

TEST_CASE("parser: zip attachments give their member names")
{
    const std::string zip = make_zip({{"invoice.pdf", "%PDF-1.4 not really"}, {"invoice.pdf.exe", "MZ..", true}});
    const std::string body = "--XX\r\n"
                             "Content-Type: application/octet-stream; name=files.zip\r\n"
                             "Content-Transfer-Encoding: base64\r\n"
                             "\r\n" +
                             base64(zip) + "--XX--\r\n";
    for (std::size_t chunk : {std::size_t{1}, std::size_t{5}, std::size_t{64 * 1024}}) {
        const Content c = parse(kMixed, body, chunk);
        REQUIRE(c.parts.size() == 1);
        const Part& p = c.parts[0];
        CHECK(p.detected_type == "application/zip");
        CHECK(p.decoded_bytes == zip.size());
        REQUIRE(p.zip_members.size() == 2);
        CHECK(p.zip_members[0] == "invoice.pdf");
        CHECK(p.zip_members[1] == "invoice.pdf.exe");
        CHECK(p.zip_encrypted);
    }
}

TEST_CASE("parser: HTML parts give visible text, links and their URLs")
{
    const Content c = parse({{"Content-Type", "text/html; charset=utf-8"}},
                            "<html><body><p>Hello <b>world</b></p>\r\n"
                            "<a href=\"http://click.example/a\">here</a><img src=x></body></html>\r\n");
    REQUIRE(c.parts.size() == 1);
    CHECK(c.text.find("Hello") != std::string::npos);
    CHECK(c.text.find("world") != std::string::npos);
    CHECK(c.text.find('<') == std::string::npos);
    CHECK(c.parts[0].text_chars > 0);
    CHECK(c.plain_chars == 0);
    CHECK(c.html_images == 1);
    REQUIRE(c.links.size() == 1);
    CHECK(c.links[0].href == "http://click.example/a");
    CHECK(has_url_host(c, "click.example"));
}

TEST_CASE("parser: the text sink sees the visible text as it is produced")
{
    Parser p(Limits{});
    std::string seen;
    p.on_text([&](std::string_view s) { seen.append(s); });
    p.header("Content-Type", "multipart/mixed; boundary=XX");
    p.body("--XX\r\n\r\nfirst\r\n--XX\r\nContent-Type: image/gif\r\n\r\nGIF89a\r\n--XX\r\n\r\nsecond\r\n--XX--\r\n");
    p.finish();
    CHECK(seen == "first\nsecond");
    CHECK(p.content().text == seen);
}

TEST_CASE("parser: defects of a part's own header and content")
{
    const Content c = parse(kMixed, "--XX\r\n"
                                    "Content-Type: text/plain; name=\"caf\xE9\"\r\n"
                                    "\r\n"
                                    "a\0b\r\n"
                                    "--XX\r\n"
                                    "Content-Type: multipart/mixed\r\n"
                                    "\r\n"
                                    "no boundary, read as text\r\n"
                                    "--XX--\r\n"s);
    CHECK(c.defects.eight_bit_headers);
    CHECK(c.defects.nul_bytes);
    CHECK(c.defects.missing_boundary);
    REQUIRE(c.parts.size() == 2);
    CHECK(c.parts[0].text_sample == "ab");
    CHECK(c.parts[1].content_type == "text/plain");
    CHECK(c.parts[1].text_sample == "no boundary, read as text");
}

TEST_CASE("parser: a part without a header, or whose header has no end")
{
    const Content c = parse(kMixed, "--XX\r\nno header here\r\n--XX\r\nContent-Type: text/html\r\n--XX--\r\n");
    REQUIRE(c.parts.size() == 2);
    CHECK(c.parts[0].text_sample == "no header here");
    CHECK(c.parts[1].content_type == "text/html");
    CHECK(c.parts[1].decoded_bytes == 0);
}

TEST_CASE("parser: stops at message_scan_bytes and still closes what is open")
{
    Limits l;
    l.message_scan_bytes = 40;
    Parser p(l);
    p.header("Content-Type", "multipart/mixed; boundary=XX");
    p.body("--XX\r\n\r\nkept text\r\n--XX\r\n\r\nsecond part is cut here");
    CHECK_FALSE(p.wants_more());
    p.body("never read\r\n--XX--\r\n");
    p.finish();
    const Content& c = p.content();
    CHECK(c.truncated);
    CHECK(c.body_bytes == 40);
    REQUIRE(c.parts.size() == 2);
    CHECK(c.parts[0].text_sample == "kept text");
    CHECK(c.parts[1].text_sample == "second part i");
    CHECK(c.limits_hit == std::vector<Limit>{Limit::message_scan_bytes});
    CHECK_FALSE(c.defects.unterminated_multipart); // it was not allowed to end
}

TEST_CASE("parser: bytes past part_scan_bytes are counted but not looked at")
{
    Limits l;
    l.part_scan_bytes = 10;
    const Content c = parse({}, "0123456789 http://late.example/\r\n", 64 * 1024, l);
    CHECK(c.parts[0].decoded_bytes == 31);
    CHECK(c.text == "0123456789");
    CHECK(c.urls.empty());
    CHECK(c.limits_hit == std::vector<Limit>{Limit::part_scan_bytes});
}

TEST_CASE("parser: the same Content whatever the chunk size")
{
    const std::string zip = make_zip({{"a.js", "alert(1)"}});
    const std::string body = "--XX\r\n"
                             "Content-Type: multipart/alternative; boundary=\"A\"\r\n"
                             "\r\n"
                             "--A\r\n"
                             "Content-Type: text/plain; charset=windows-1252\r\n"
                             "Content-Transfer-Encoding: quoted-printable\r\n"
                             "\r\n"
                             "Pay =80100 at http://pay.example/now =\r\n"
                             "today\r\n"
                             "--A\r\n"
                             "Content-Type: text/html; charset=utf-8\r\n"
                             "Content-Transfer-Encoding: base64\r\n"
                             "\r\n" +
                             base64("<p>Pay \xE2\x82\xAC"
                                    "100 <a href=\"http://pay.example/now\">now</a></p>") +
                             "--A--\r\n"
                             "--XX\r\n"
                             "Content-Type: application/zip\r\n"
                             "Content-Disposition: attachment; filename*=utf-8''%C3%A9.zip\r\n"
                             "Content-Transfer-Encoding: base64\r\n"
                             "\r\n" +
                             base64(zip) +
                             "--XX\r\n"
                             "Content-Type: message/rfc822\r\n"
                             "\r\n"
                             "Subject: inner\r\n"
                             "\r\n"
                             "inner \xC3\xA9t\xC3\xA9 body\n"
                             "--XX--\r\n";
    const std::string want = summary(parse(kMixed, body));
    CHECK(want.find("z:a.js") != std::string::npos);
    for (std::size_t chunk : {std::size_t{1}, std::size_t{2}, std::size_t{5}, std::size_t{7}, std::size_t{4096}})
        CHECK_MESSAGE(summary(parse(kMixed, body, chunk)) == want, "chunk ", chunk);
}
