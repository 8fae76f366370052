#include "mime/encoded_words.hpp"

#include "util/text.hpp"

#include <algorithm>
#include <cerrno>
#include <iconv.h>

namespace rampart {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD"; // U+FFFD
constexpr std::size_t kMaxCharsetName = 64;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

int base64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

// Decodes base64, skipping what is not of its alphabet (and saying so).
std::string decode_b(std::string_view in, bool& bad)
{
    std::string out;
    out.reserve(in.size() * 3 / 4);
    unsigned bits = 0;
    int nbits = 0;
    std::size_t i = 0;
    for (; i < in.size() && in[i] != '='; ++i) {
        const int v = base64_value(in[i]);
        if (v < 0) {
            bad = true;
            continue;
        }
        bits = (bits << 6) | static_cast<unsigned>(v);
        nbits += 6;
        if (nbits >= 8) {
            nbits -= 8;
            out.push_back(static_cast<char>((bits >> nbits) & 0xFF));
        }
    }
    for (; i < in.size(); ++i) // only padding may follow
        if (in[i] != '=')
            bad = true;
    if (nbits >= 6) // a lone sixth bit group cannot end base64
        bad = true;
    return out;
}

// Decodes RFC 2047 Q: "_" is a space, =XX a byte.
std::string decode_q(std::string_view in, bool& bad)
{
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (c == '_') {
            out.push_back(' ');
        } else if (c == '=' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0 && hex_value(in[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2])));
            i += 2;
        } else {
            if (c == '=')
                bad = true;
            out.push_back(c);
        }
    }
    return out;
}

struct Word {
    std::size_t end = 0; // one past "?="
    std::string_view charset, encoding, text;
};

// An encoded word starting at raw[at] ("=?"), or nothing.
bool parse_word(std::string_view raw, std::size_t at, Word& w)
{
    std::size_t p = at + 2;
    const auto q1 = raw.find('?', p);
    if (q1 == std::string_view::npos || q1 == p || q1 - p > kMaxCharsetName)
        return false;
    w.charset = raw.substr(p, q1 - p);
    for (char c : w.charset)
        if (is_space(c) || c == '=')
            return false;
    if (q1 + 2 >= raw.size() || raw[q1 + 2] != '?')
        return false;
    w.encoding = raw.substr(q1 + 1, 1);
    if (w.encoding != "B" && w.encoding != "b" && w.encoding != "Q" && w.encoding != "q")
        return false;
    p = q1 + 3;
    const auto close = raw.find("?=", p);
    if (close == std::string_view::npos)
        return false;
    w.text = raw.substr(p, close - p);
    for (char c : w.text)
        if (is_space(c))
            return false;
    w.end = close + 2;
    if (const auto star = w.charset.find('*'); star != std::string_view::npos) // RFC 2231 language
        w.charset = w.charset.substr(0, star);
    return !w.charset.empty();
}

void append_bounded(std::string& out, std::string_view s, DecodedHeader& d)
{
    if (out.size() + s.size() > kMaxDecodedBytes) {
        std::size_t cut = kMaxDecodedBytes - out.size();
        while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) // not inside a character
            --cut;
        s = s.substr(0, cut);
        d.truncated = true;
    }
    out.append(s);
}

} // namespace

std::string valid_utf8(std::string_view s)
{
    std::size_t ok = utf8_valid_prefix(s);
    if (ok == s.size())
        return std::string(s);
    std::string out;
    out.reserve(s.size() + 2 * kReplacement.size());
    for (;;) {
        out.append(s.substr(0, ok));
        s.remove_prefix(ok);
        if (s.empty())
            return out;
        out.append(kReplacement); // one byte that starts no valid character
        s.remove_prefix(1);
        ok = utf8_valid_prefix(s);
    }
}

bool to_utf8(std::string_view charset, std::string_view bytes, std::string& out, bool& bad)
{
    const std::string cs = lowercase(charset);
    if (cs == "utf-8" || cs == "utf8" || cs == "us-ascii" || cs == "ascii") {
        std::string v = valid_utf8(bytes);
        bad = bad || v.size() != bytes.size() || v != bytes;
        out.append(v);
        return true;
    }
    iconv_t cd = iconv_open("UTF-8", cs.c_str());
    if (cd == reinterpret_cast<iconv_t>(-1)) {
        out.append(valid_utf8(bytes));
        return false;
    }
    std::string buf(bytes.size() * 4 + 16, '\0');
    char* in = const_cast<char*>(bytes.data()); // iconv's signature; it does not write the input
    std::size_t in_left = bytes.size();
    while (in_left > 0) {
        char* o = buf.data();
        std::size_t o_left = buf.size();
        const auto r = iconv(cd, &in, &in_left, &o, &o_left);
        out.append(buf.data(), buf.size() - o_left);
        if (r != static_cast<std::size_t>(-1))
            break;
        if (errno == E2BIG)
            continue;
        // EILSEQ, or EINVAL (an incomplete sequence at the end): one byte is lost
        bad = true;
        out.append(kReplacement);
        ++in;
        --in_left;
        iconv(cd, nullptr, nullptr, nullptr, nullptr);
    }
    iconv_close(cd);
    return true;
}

DecodedHeader decode_header_value(std::string_view raw)
{
    DecodedHeader d;
    std::string& out = d.text;
    std::size_t i = 0, plain_from = 0;
    bool last_was_word = false;
    while (i < raw.size() && !d.truncated) {
        const auto at = raw.find("=?", i);
        Word w;
        if (at == std::string_view::npos || d.encoded_words >= kMaxEncodedWords)
            break;
        if (!parse_word(raw, at, w)) {
            i = at + 2;
            continue;
        }
        const std::string_view between = raw.substr(plain_from, at - plain_from);
        const bool only_space = std::all_of(between.begin(), between.end(), [](char c) { return is_space(c); });
        if (!(last_was_word && only_space)) // space between adjacent encoded words is dropped
            append_bounded(out, valid_utf8(between), d);
        bool bad = false;
        const std::string bytes =
            (w.encoding == "B" || w.encoding == "b") ? decode_b(w.text, bad) : decode_q(w.text, bad);
        std::string text;
        if (!to_utf8(w.charset, bytes, text, bad))
            d.unknown_charset = true;
        d.bad_encoding = d.bad_encoding || bad;
        for (unsigned char c : text)
            if ((c < 0x20 && c != '\t') || c == 0x7F)
                d.control_chars = true;
        append_bounded(out, text, d);
        ++d.encoded_words;
        last_was_word = true;
        i = plain_from = w.end;
    }
    if (plain_from < raw.size() && !d.truncated)
        append_bounded(out, valid_utf8(raw.substr(plain_from)), d);
    return d;
}

} // namespace rampart
