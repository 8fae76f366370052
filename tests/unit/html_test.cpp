#include "mime/html.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

using namespace rampart::mime;

namespace {

struct Converted {
    std::string text;
    std::size_t visible = 0, hidden = 0, tiny = 0, images = 0;
    std::vector<HtmlLink> links;
};

// Converts `html` fed in pieces of `chunk` bytes (0: all at once).
Converted convert(const std::string& html, std::size_t chunk = 0)
{
    HtmlToText h;
    Converted c;
    if (chunk == 0)
        h.feed(html, c.text);
    for (std::size_t at = 0; chunk > 0 && at < html.size(); at += chunk)
        h.feed(std::string_view(html).substr(at, chunk), c.text);
    h.finish(c.text);
    c.visible = h.visible_chars();
    c.hidden = h.hidden_chars();
    c.tiny = h.tiny_chars();
    c.images = h.images();
    c.links = h.links();
    return c;
}

// The same result whatever the chunking: 1 byte, 7 bytes, all at once.
Converted convert_every_way(const std::string& html)
{
    const Converted whole = convert(html);
    for (std::size_t chunk : {1, 7}) {
        const Converted part = convert(html, chunk);
        INFO("chunk=" << chunk << " html=" << html);
        CHECK(part.text == whole.text);
        CHECK(part.visible == whole.visible);
        CHECK(part.hidden == whole.hidden);
        CHECK(part.tiny == whole.tiny);
        CHECK(part.images == whole.images);
        CHECK(part.links.size() == whole.links.size());
    }
    return whole;
}

struct TextCase {
    const char* html;
    const char* want;
};

void check_texts(std::initializer_list<TextCase> cases)
{
    for (const auto& c : cases) {
        const Converted got = convert_every_way(c.html);
        INFO("html: " << c.html);
        CHECK(got.text == c.want);
    }
}

struct CountCase {
    const char* html;
    const char* want_text;
    std::size_t want_hidden;
    std::size_t want_tiny;
};

void check_counts(std::initializer_list<CountCase> cases)
{
    for (const auto& c : cases) {
        const Converted got = convert_every_way(c.html);
        INFO("html: " << c.html);
        CHECK(got.text == c.want_text);
        CHECK(got.hidden == c.want_hidden);
        CHECK(got.tiny == c.want_tiny);
    }
}

double seconds_since(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

} // namespace

TEST_CASE("html: tags go, blocks break lines, white space collapses")
{
    check_texts({
        {"<p>Hello <b>world</b></p>", "Hello world"},
        {"  lots   of \n\t space  ", "lots of space"},
        {"a<br>b", "a\nb"},
        {"a<br><br>b", "a\n\nb"},
        {"a<br><br><br><br>b", "a\n\nb"}, // at most one blank line
        {"a </br> b", "a\nb"},
        {"a <br>  b <p>  c", "a\nb\nc"},                                                       // no space starts a line
        {"<img src=a style='display:none'>after<br style='display:none'>more", "after\nmore"}, // void: no push
        {"<meta name=x><link rel=y><input type=text>text", "text"},
        {"<div>one</div><div>two</div>", "one\ntwo"},
        {"<div> <p> deep </p> </div>", "deep"}, // no leading or trailing space on a line
        {"<h1>Title</h1>body<hr>end", "Title\nbody\nend"},
        {"<ul><li>x<li>y</ul>", "x\ny"},
        {"<table><tr><td>a<td>b<tr><td>c</table>", "a b\nc"},
        {"V<b></b>i<i>a</i>gra", "Viagra"}, // inline tags split no words
        {"a < b and 1<2", "a < b and 1<2"},
        {"<noscript>enable scripts</noscript>", "enable scripts"},
        {"<body>a</body>b</html>c", "abc"}, // text after </body> still shows
        {"<DIV CLASS=x>Upper</DIV>", "Upper"},
        {"</div></span>a</p>b", "a\nb"}, // stray end tags are ignored (</p> still breaks)
    });
}

TEST_CASE("html: script, style, head and title content, comments and declarations are dropped")
{
    check_texts({
        {"<head><title>T</title><style>p{color:red}</style></head><body>x</body>", "x"},
        {"x<script>var s = '</b>'; if (a<b) {}</script>y", "xy"},
        {"x<SCRIPT type=text/javascript>a</scriptx></SCRIPT >y", "xy"},
        {"a<!-- hidden <b>tags</b> -->b", "ab"},
        {"a<!-->b", "ab"},
        {"a<!--->b", "ab"},
        {"a<!-- x --!>b", "ab"},
        {"<!DOCTYPE html>x", "x"},
        {"a<![CDATA[ junk > ]]>b", "ab"},
        {"a<?xml version='1.0'?>b", "ab"},
        {"a</>b</ x>c", "abc"},
        {"<iframe>fallback</iframe>x", "x"},
    });
}

TEST_CASE("html: named and numeric references decode to UTF-8")
{
    check_texts({
        {"&lt;tag&gt; &amp; &quot;q&quot; &apos;s", "<tag> & \"q\" 's"},
        {"caf&eacute; &euro;5 &trade; &copy; &reg; &hellip;", "caf\xC3\xA9 \xE2\x82\xAC"
                                                              "5 \xE2\x84\xA2 \xC2\xA9 \xC2\xAE \xE2\x80\xA6"},
        {"&mdash;&ndash;&lsquo;&rsquo;&ldquo;&rdquo;&bull;",
         "\xE2\x80\x94\xE2\x80\x93\xE2\x80\x98\xE2\x80\x99\xE2\x80\x9C\xE2\x80\x9D\xE2\x80\xA2"},
        {"&Agrave;&yuml;&szlig;&times;", "\xC3\x80\xC3\xBF\xC3\x9F\xC3\x97"},
        {"a&nbsp;&nbsp;b", "a b"}, // a no-break space is a space
        {"&#65;&#x42;&#X43;&#0068;", "ABCD"},
        {"&#0;|&#xD800;|&#x110000;|&#99999999999;", "\xEF\xBF\xBD|\xEF\xBF\xBD|\xEF\xBF\xBD|\xEF\xBF\xBD"},
        {"&#150;&#153;", "\xE2\x80\x93\xE2\x84\xA2"}, // windows-1252, as browsers read them
        {"&#104&#116tp", "http"},                     // ';' may be left out
        {"AT&T, a & b, &unknown; &#; &#x;", "AT&T, a & b, &unknown; &#; &#x;"},
        {"&copy 2024 &amp", "\xC2\xA9 2024 &"}, // legacy names need no ';'
        {"&notit;", "\xC2\xACit;"},
        {"h&colon;&sol;&sol;x&period;com", "h://x.com"},
        {"&Eacute; &eacute;", "\xC3\x89 \xC3\xA9"}, // names are case-sensitive
    });
}

TEST_CASE("html: UTF-8 is counted in characters, invalid bytes replaced")
{
    const Converted c = convert_every_way("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
    CHECK(c.text == "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
    CHECK(c.visible == 8);
    check_texts({
        {"a\xFF"
         "b",
         "a\xEF\xBF\xBD"
         "b"},
        {"\xC3(", "\xEF\xBF\xBD("},
        {"\xE2\x82<b>x</b>", "\xEF\xBF\xBDx"},
        {"\xED\xA0\x80", "\xEF\xBF\xBD"}, // a surrogate
        {"a\x01\x7F"
         "b",
         "ab"}, // control characters show nothing
    });
}

TEST_CASE("html: hidden text is counted and not shown")
{
    check_counts({
        {"a<span style=\"display:none\">secret</span>b", "ab", 6, 0},
        {"a<span style='DISPLAY : NONE !important'>x y</span>b", "ab", 2, 0},
        {"a<span style='display:/* c */none'>x</span>b", "ab", 1, 0},
        {"a<div hidden>x</div>b", "ab", 1, 0},
        {"a<template><p>x</p></template>b", "ab", 1, 0},
        {"a<span style='visibility:hidden'>x<b style='visibility:visible'>v</b></span>", "av", 1, 0},
        {"a<span style='font-size:0'>x</span><span style='font-size:0px'>y</span><i style='font-size:0pt'>z</i>", "a",
         3, 0},
        {"a<span style='font:0/0 a'>x</span>", "a", 1, 0},
        {"a<span style='opacity:0'>x</span><span style='opacity:0.05'>y</span><b style='opacity:.5'>z</b>", "az", 2, 0},
        {"a<div style='max-height:0;overflow:hidden'>x</div>", "a", 1, 0},
        {"a<div style='max-height:0'>x</div>", "a\nx", 0, 0},      // not clipped: it shows
        {"a<span style=\"display:none\"> x </span>b", "ab", 1, 0}, // hidden space is no space
        {"<div style='display:none'><p>x<p>y</div>z", "z", 2, 0},
        {"<p style='display:none'>x<p>shown", "shown", 1, 0},   // the new <p> closes the hidden one
        {"<span style='display:none'><b>x</span>y", "y", 1, 0}, // </span> closes the <b> inside
        {"<table><tr><td><div style='display:none'>x</td><td>y</table>", "y", 1, 0}, // a cell closes the div
        {"<div style='font-size:0'>x<span style='font-size:12px'>y</span></div>", "y", 1, 0},
    });
}

TEST_CASE("html: text in the background colour is hidden")
{
    check_counts({
        {"a<span style='color:#fff'>x</span>", "a", 1, 0}, // default background is white
        {"a<font color=white>x</font><font color='#FFFFFF'>y</font><font color=ffffff>z</font>", "a", 3, 0},
        {"<body bgcolor=black>a<font color=black>x</font></body>", "", 2, 0}, // black on black: all hidden
        {"<body bgcolor=black text=white>a<font color=black>x</font></body>", "a", 1, 0},
        {"<table bgcolor='#123456'><tr><td><span style='color:rgb(18, 52, 86)'>x</span>y", "y", 1, 0},
        {"<td bgcolor=red><span style='color:#f00'>x</span></td>", "", 1, 0},
        {"<div style='background:#000 no-repeat;color:black'>x</div>", "", 1, 0},
        {"<div style='background-color:navy'><span style='color:#000080'>x</span></div>", "", 1, 0},
        {"a<span style='color:transparent'>x</span><span style='color:rgba(0,0,0,0)'>y</span>", "a", 2, 0},
        {"a<span style='color:#0000'>x</span>", "a", 1, 0},
        {"<td background='bg.jpg'><font color=white>on an image</font></td>", "on an image", 0, 0},
        {"<div style=\"background:url(x.png) #fff\"><font color=white>x</font></div>", "x", 0, 0},
        {"<font color=white><a href='http://x/'>link</a></font>", "link", 0, 0}, // links are blue
        {"<a href='http://x/' style='color:#fff'>link</a>", "", 4, 0},
        {"<span style='color:#fefefe'>near</span>", "near", 0, 0}, // only the same colour hides
    });
}

TEST_CASE("html: zero-width characters are removed and counted hidden")
{
    check_counts({
        {"V\xE2\x80\x8Bi\xE2\x80\x8C"
         "a\xE2\x80\x8Dg\xE2\x81\xA0r\xEF\xBB\xBF"
         "a",
         "Viagra", 5, 0},
        {"V&ZeroWidthSpace;i&#x200B;a&zwj;g&shy;ra", "Viagra", 4, 0},
    });
}

TEST_CASE("html: tiny text is shown and counted")
{
    check_counts({
        {"a<span style='font-size:1px'>bc d</span>", "abc d", 0, 3},
        {"<span style='font-size:3pt'>x</span><span style='font-size:12pt'>y</span>", "xy", 0, 1},
        {"<span style='font-size:5.9px'>x</span><span style='font-size:6px'>y</span>", "xy", 0, 1},
        {"<font size=1>x</font><font size=2>y</font><font size=-5>z</font>", "xyz", 0, 2},
        {"<font size=1><span style='font-size:14px'>big</span></font>", "big", 0, 0},
        {"<div style='font-size:10px'><span style='font-size:0.5em'>x</span><b style='font-size:50%'>y</b></div>", "xy",
         0, 2},
        {"<span style='font: bold 2px Arial'>x</span><span style='font: 700 12px/1 Arial'>y</span>", "xy", 0, 1},
    });
}

TEST_CASE("html: anchors give href and shown text")
{
    const Converted c = convert_every_way("<a href=\"http://x.example/?a=1&amp;b=2\"> Click  <b>here</b> </a>"
                                          "<A HREF=' http://y.example/ '>y</A>"
                                          "<a href=http://z.example/p?q=1&copy=2>z</a>"
                                          "<a name=top>no href</a>"
                                          "<a href='http://h.example/'>vis<span style=display:none>ible</span></a>"
                                          "<map><area href='http://m.example/' alt=map></map>"
                                          "<a href=1>one<a href=2>two");
    struct Want {
        const char* href;
        const char* text;
    };
    const std::vector<Want> want = {
        {"http://x.example/?a=1&b=2", "Click here"},
        {"http://y.example/", "y"},
        {"http://z.example/p?q=1&copy=2", "z"},
        {"http://h.example/", "vis"},
        {"http://m.example/", ""},
        {"1", "one"},
        {"2", "two"},
    };
    REQUIRE(c.links.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        INFO("link " << i);
        CHECK(c.links[i].href == want[i].href);
        CHECK(c.links[i].text == want[i].text);
    }
}

TEST_CASE("html: anchors are bounded")
{
    std::string many;
    for (int i = 0; i < 600; ++i)
        many += "<a href='http://e.example/" + std::to_string(i) + "'>x</a>";
    CHECK(convert(many).links.size() == HtmlToText::kMaxLinks);

    const std::string long_text(5000, 'y');
    const Converted c = convert("<a href='http://e.example/" + std::string(5000, 'p') + "'>" + long_text + "</a>");
    REQUIRE(c.links.size() == 1);
    CHECK(c.links[0].href.size() == HtmlToText::kMaxLinkBytes);
    CHECK(c.links[0].text.size() == HtmlToText::kMaxLinkBytes);
    CHECK(c.text == long_text); // the page text itself is not cut
}

TEST_CASE("html: images are counted, attributes in every form are read")
{
    CHECK(convert_every_way("<img src=a><IMG SRC='b'/><image src=c>x").images == 3);
    check_texts({
        {"<p title=\"a>b\">x</p>", "x"}, // '>' inside a quoted value
        {"<p title='a\"b>'>x</p>", "x"},
        {"<p title=a\"b>x</p>", "x"}, // a quote inside an unquoted value
        {"<div  style = \"display:none\" >x</div>y", "y"},
        {"<div style=display:none>x</div>y", "y"},
        {"<div HIDDEN>x</div>y", "y"},
        {"<div style=\"display:none\" style=\"display:block\">x</div>y", "y"}, // the first one counts
    });
}

TEST_CASE("html: a tag longer than kMaxTagBytes is dropped whole")
{
    const std::string big(HtmlToText::kMaxTagBytes + 100, 'v');
    check_texts({
        {("<div style='display:none' title='" + big + "'>after</div>").c_str(), "after"},
        {("<script src='" + big + "'>var hidden;</script>x").c_str(), "x"},
    });
}

TEST_CASE("html: nesting is bounded and deep nesting inherits")
{
    std::string deep;
    for (std::size_t i = 0; i < HtmlToText::kMaxDepth + 50; ++i)
        deep += "<span>";
    const Converted c = convert("<div style=display:none>" + deep + "x</div>");
    CHECK(c.text.empty());
    CHECK(c.hidden == 1);
}

TEST_CASE("html: hostile input completes quickly with bounded output")
{
    struct Hostile {
        const char* name;
        std::string html;
        const char* want_prefix;
    };
    std::string nested;
    for (int i = 0; i < 100000; ++i)
        nested += "<div>";
    nested += "x";
    for (int i = 0; i < 100000; ++i)
        nested += "</div>";
    std::string anchors;
    for (int i = 0; i < 100000; ++i)
        anchors += "<a href=x>";
    const std::vector<Hostile> cases = {
        {"10 MB of '<'", std::string(10 * 1024 * 1024, '<'), "<<<"},
        {"unterminated comment", "a<!--" + std::string(10 * 1024 * 1024, 'x'), "a"},
        {"100,000 nested <div>", nested, "x"},
        {"1 MB attribute", "<a href='" + std::string(1024 * 1024, 'h') + "'>t</a>after", "tafter"},
        {"unterminated quote", "<p title='" + std::string(1024 * 1024, 'q'), ""},
        {"100,000 open anchors", anchors, ""},
        {"entity soup", std::string(1024 * 1024, '&'), "&&&"},
    };
    for (const auto& h : cases) {
        INFO(h.name);
        const auto t0 = std::chrono::steady_clock::now();
        const Converted whole = convert(h.html);
        const Converted small = convert(h.html, 4096);
        // A guard against work that grows with the square of the input (hours
        // on these), not a speed test: generous for -O0 and sanitizers.
        CHECK(seconds_since(t0) < 120.0);
        CHECK(whole.text.size() <= h.html.size());
        CHECK(whole.text.starts_with(h.want_prefix));
        CHECK(small.text == whole.text);
        CHECK(whole.links.size() <= HtmlToText::kMaxLinks);
    }
}

TEST_CASE("html: every chunk size gives the same result, also on random markup")
{
    const std::string doc =
        "<!DOCTYPE html><html><head><title>t</title><style>.a{}</style></head>"
        "<body bgcolor=\"#ffffff\"><!-- note --><p>Caf&eacute; &amp; more&hellip;</p>"
        "<div style=\"display:none\">hidden &copy; text</div><table><tr><td>a<td>b</table>"
        "<a href=\"http://x.example/?a=1&amp;b=2\">link <b>text</b></a> \xE2\x82\xAC\xF0\x9F\x98\x80"
        "<font size=1>tiny</font>&#x200B;<script>if (a<b) x='</div>';</script>end</body></html>";
    const Converted whole = convert(doc);
    CHECK(whole.text == "Caf\xC3\xA9 & more\xE2\x80\xA6\na b\nlink text \xE2\x82\xAC\xF0\x9F\x98\x80tinyend");
    for (std::size_t chunk = 1; chunk <= 40; ++chunk) {
        const Converted part = convert(doc, chunk);
        INFO("chunk=" << chunk);
        CHECK(part.text == whole.text);
        CHECK(part.hidden == whole.hidden);
        CHECK(part.tiny == whole.tiny);
        REQUIRE(part.links.size() == 1);
        CHECK(part.links[0].text == "link text");
    }

    // Random soup of markup fragments and bytes: no crash, no dependence on chunking.
    static const char* const kPieces[] = {"<",
                                          ">",
                                          "</",
                                          "<!--",
                                          "-->",
                                          "&",
                                          "&amp",
                                          ";",
                                          "#x",
                                          "\"",
                                          "'",
                                          "=",
                                          " ",
                                          "\n",
                                          "a",
                                          "<p>",
                                          "<div style='display:none'>",
                                          "</div>",
                                          "<a href=",
                                          "<script>",
                                          "</script>",
                                          "\xC3",
                                          "\xA9",
                                          "\xE2\x80\x8B",
                                          "<br>",
                                          "\x00",
                                          "<![CDATA[",
                                          "]]>",
                                          "<font color=white>",
                                          "<td>",
                                          "<table>"};
    std::uint32_t seed = 12345;
    std::string soup;
    while (soup.size() < 200000) {
        seed = seed * 1664525u + 1013904223u;
        soup += kPieces[(seed >> 16) % std::size(kPieces)];
    }
    const Converted soup_whole = convert(soup);
    for (std::size_t chunk : {1, 3, 64, 1000}) {
        const Converted part = convert(soup, chunk);
        INFO("soup chunk=" << chunk);
        CHECK(part.text == soup_whole.text);
        CHECK(part.visible == soup_whole.visible);
        CHECK(part.hidden == soup_whole.hidden);
        CHECK(part.links.size() == soup_whole.links.size());
    }
}

TEST_CASE("html: a converter moves")
{
    HtmlToText a;
    std::string out;
    a.feed("<p>one <a href=u>t", out);
    HtmlToText b = std::move(a);
    b.feed("wo</a>", out);
    b.finish(out);
    CHECK(out == "one two");
    REQUIRE(b.links().size() == 1);
    CHECK(b.links()[0].text == "two");
}
