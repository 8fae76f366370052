#include "mime/encoded_words.hpp"
#include "util/text.hpp"

#include <doctest/doctest.h>

using namespace rampart;

TEST_CASE("encoded words: B and Q, charsets to UTF-8, plain text around them kept")
{
    CHECK(decode_header_value("plain subject").text == "plain subject");
    CHECK(decode_header_value("=?utf-8?B?w6l0w6k=?=").text == "\xC3\xA9t\xC3\xA9"); // "été"
    CHECK(decode_header_value("=?ISO-8859-1?Q?caf=E9_cr=E8me?= ok").text == "caf\xC3\xA9 cr\xC3\xA8me ok");
    CHECK(decode_header_value("Re: =?windows-1252?q?=80100?= now").text == "Re: \xE2\x82\xAC"
                                                                           "100 now");
    auto d = decode_header_value("=?koi8-r?B?8NLJ18XU?="); // "Привет"
    CHECK(d.text == "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82");
    CHECK(d.encoded_words == 1);
    CHECK_FALSE(d.bad_encoding);
    CHECK_FALSE(d.unknown_charset);
}

TEST_CASE("encoded words: space between adjacent words goes, other text stays")
{
    CHECK(decode_header_value("=?utf-8?q?FREE?= =?utf-8?q?_MONEY?=").text == "FREE MONEY");
    CHECK(decode_header_value("=?utf-8?q?V?=\r\n =?utf-8?q?iagra?=").text == "Viagra"); // split to hide the word
    CHECK(decode_header_value("=?utf-8?q?a?= and =?utf-8?q?b?=").text == "a and b");
    CHECK(decode_header_value("=?utf-8*en?q?lang_tag?=").text == "lang tag"); // RFC 2231 language
}

TEST_CASE("encoded words: what is not well formed stays as it is")
{
    CHECK(decode_header_value("=?utf-8?x?abc?=").text == "=?utf-8?x?abc?=");   // no such encoding
    CHECK(decode_header_value("=?utf-8?q?no end").text == "=?utf-8?q?no end"); // unterminated
    CHECK(decode_header_value("=?utf-8?q?has space?=").text == "=?utf-8?q?has space?=");
    CHECK(decode_header_value("=??q?x?=").text == "=??q?x?="); // no charset
    CHECK(decode_header_value("a =? b ?= c").text == "a =? b ?= c");
}

TEST_CASE("encoded words: broken encodings, unknown charsets and control characters are flagged")
{
    auto b = decode_header_value("=?utf-8?B?w6l*0w6k=?=");
    CHECK(b.bad_encoding);
    CHECK(b.text == "\xC3\xA9t\xC3\xA9"); // the stray character is skipped
    CHECK(decode_header_value("=?utf-8?Q?50=ZZ?=").bad_encoding);
    auto u = decode_header_value("=?x-no-such-charset?Q?abc=FF?=");
    CHECK(u.unknown_charset);
    CHECK(u.text == "abc\xEF\xBF\xBD");                   // bytes kept, invalid UTF-8 replaced
    auto bad = decode_header_value("=?utf-8?Q?=C3=28?="); // invalid UTF-8 in a UTF-8 word
    CHECK(bad.bad_encoding);
    CHECK(bad.text == "\xEF\xBF\xBD(");
    CHECK(decode_header_value("=?utf-8?Q?hidden=00text?=").control_chars);
    CHECK(decode_header_value("=?iso-8859-1?Q?=E9?=").text == "\xC3\xA9");
    CHECK_FALSE(decode_header_value("=?utf-8?Q?tab=09ok?=").control_chars);
}

TEST_CASE("raw 8-bit header bytes come out as valid UTF-8")
{
    CHECK(valid_utf8("caf\xE9") == "caf\xEF\xBF\xBD");
    CHECK(valid_utf8("\xC3\xA9") == "\xC3\xA9");
    CHECK(valid_utf8("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"); // a surrogate is not UTF-8
    CHECK(valid_utf8("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");                 // overlong
    CHECK(decode_header_value("Caf\xE9 =?utf-8?q?ok?=").text == "Caf\xEF\xBF\xBD ok");
}

TEST_CASE("UTF-8 is checked the same wherever a bad byte falls in the eight-byte steps")
{
    const std::string good = "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"; // e-acute, euro sign, an emoji
    for (std::size_t at = 0; at < 20; ++at) {
        CAPTURE(at);
        std::string s(20, 'a');
        CHECK(utf8_valid_prefix(s) == s.size());
        s.insert(at, good);
        CHECK(utf8_valid_prefix(s) == s.size());
        CHECK(valid_utf8(s) == s);
        std::string bad(20, 'a');
        bad[at] = '\xFF';
        CHECK(utf8_valid_prefix(bad) == at);
        std::string want(20, 'a');
        want.replace(at, 1, "\xEF\xBF\xBD");
        CHECK(valid_utf8(bad) == want);
        std::string cut(at, 'a');
        cut += "\xE2\x82"; // the end cuts a character
        CHECK(utf8_valid_prefix(cut) == at);
        CHECK(utf8_char_length(cut, at) == -1);
        CHECK(valid_utf8(cut) == std::string(at, 'a') + "\xEF\xBF\xBD\xEF\xBF\xBD");
    }
}

TEST_CASE("a hostile header value is decoded within its limits")
{
    std::string many;
    for (int i = 0; i < 5000; ++i)
        many += "=?utf-8?q?ab?= ";
    auto d = decode_header_value(many);
    CHECK(d.encoded_words == kMaxEncodedWords);
    CHECK(d.text.size() <= kMaxDecodedBytes);
    std::string huge = "=?utf-8?B?";
    for (int i = 0; i < 40000; ++i)
        huge += "w6nDqcOp"; // "ééé", 6 bytes of UTF-8 a group
    huge += "?=";
    auto h = decode_header_value(huge);
    CHECK(h.truncated);
    CHECK(h.text.size() <= kMaxDecodedBytes);
    CHECK(valid_utf8(h.text) == h.text); // not cut inside a character
}
