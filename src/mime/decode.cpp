// NAME
//   decode.cpp - streaming base64, quoted-printable and charset to UTF-8
// DESCRIPTION
//   See decode.hpp. The decoders work on what they are given and keep only
//   their bit accumulator or an incomplete multibyte sequence in between.
#include "mime/decode.hpp"
#include "util/text.hpp"

#include "mime/encoded_words.hpp"

#include <array>
#include <bit>
#include <cerrno>
#include <cstring>

namespace rampart::mime {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD"; // U+FFFD
constexpr signed char kInvalid = -1, kSpace = -2, kPad = -3;

constexpr std::array<signed char, 256> make_base64_table()
{
    std::array<signed char, 256> t{};
    for (auto& v : t)
        v = kInvalid;
    for (int i = 0; i < 26; ++i) {
        t['A' + i] = static_cast<signed char>(i);
        t['a' + i] = static_cast<signed char>(26 + i);
    }
    for (int i = 0; i < 10; ++i)
        t['0' + i] = static_cast<signed char>(52 + i);
    t['+'] = 62;
    t['/'] = 63;
    t['='] = kPad;
    for (unsigned char c : {' ', '\t', '\r', '\n', '\f', '\v'})
        t[c] = kSpace;
    return t;
}

constexpr auto kBase64 = make_base64_table();

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Length of the UTF-8 sequence a lead byte starts; 0 for no lead byte.
std::size_t sequence_length(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return 2;
    if (c >= 0xE0 && c <= 0xEF)
        return 3;
    if (c >= 0xF0 && c <= 0xF4)
        return 4;
    return 0;
}

// Bytes at the end of `s` that begin a sequence the next piece may complete.
std::size_t incomplete_tail(std::string_view s)
{
    for (std::size_t k = 1; k <= 3 && k <= s.size(); ++k) {
        const auto c = static_cast<unsigned char>(s[s.size() - k]);
        if (is_continuation(c))
            continue;
        return sequence_length(c) > k ? k : 0;
    }
    return 0;
}

struct Alias {
    std::string_view declared, iconv;
};

// Names mail clients read as another (usually wider) charset.
constexpr Alias kAliases[] = {
    {"ks_c_5601-1987", "cp949"},    {"ks_c_5601", "cp949"},  {"gb2312", "gbk"},          {"x-gbk", "gbk"},
    {"iso-8859-8-i", "iso-8859-8"}, {"x-sjis", "shift_jis"}, {"shift-jis", "shift_jis"}, {"windows-874", "cp874"},
    {"x-mac-roman", "macintosh"},
};

// Charsets in which ASCII bytes outside a multibyte sequence are ASCII
// (not UTF-7, UTF-16, ISO-2022, HZ or EBCDIC): a piece that is all ASCII
// needs no conversion.
constexpr std::string_view kAsciiSafe[] = {
    "iso-8859-", "windows-", "cp125", "cp874",   "cp932",  "cp936", "cp949",     "cp950", "cp437",     "cp85",   "cp86",
    "koi8-",     "euc-",     "gbk",   "gb18030", "gb2312", "big5",  "shift_jis", "sjis",  "macintosh", "tis-620"};

bool ascii_safe(std::string_view name)
{
    for (auto prefix : kAsciiSafe)
        if (name.starts_with(prefix))
            return true;
    return false;
}

constexpr std::string_view kUtf8Names[] = {"utf-8", "utf8", "us-ascii", "ascii", "ansi_x3.4-1968", "us", "iso646-us"};

constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;

} // namespace

bool all_ascii(std::string_view s)
{
    const char* p = s.data();
    std::size_t n = s.size();
    std::uint64_t acc = 0;
    for (; n >= 8; p += 8, n -= 8) {
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        acc |= w;
    }
    for (; n > 0; ++p, --n)
        acc |= static_cast<unsigned char>(*p);
    return (acc & kHighBits) == 0;
}

std::size_t utf8_chars(std::string_view s)
{
    const char* p = s.data();
    std::size_t n = s.size(), continuations = 0;
    for (; n >= 8; p += 8, n -= 8) {
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        // a continuation byte has its top bit set and the next one clear
        if (const std::uint64_t c = w & ~(w << 1) & kHighBits)
            continuations += static_cast<std::size_t>(std::popcount(c));
    }
    for (; n > 0; ++p, --n)
        continuations += is_continuation(static_cast<unsigned char>(*p));
    return s.size() - continuations;
}

void Base64Decoder::feed(std::string_view text, std::string& out)
{
    for (char ch : text) {
        const int v = kBase64[static_cast<unsigned char>(ch)];
        if (v >= 0) {
            d_bits = (d_bits << 6) | static_cast<std::uint32_t>(v);
            d_nbits += 6;
            if (d_nbits >= 8) {
                d_nbits -= 8;
                out.push_back(static_cast<char>((d_bits >> d_nbits) & 0xFF));
            }
        } else if (v == kPad) {
            // Padding ends a quantum; what follows is read as more base64,
            // as clients do with concatenated encodings.
            if (d_nbits == 6)
                d_bad = true;
            d_bits = 0;
            d_nbits = 0;
        } else if (v == kInvalid) {
            d_bad = true;
        }
    }
}

void Base64Decoder::finish()
{
    if (d_nbits == 6)
        d_bad = true;
    d_bits = 0;
    d_nbits = 0;
}

bool QpDecoder::line(std::string_view text, std::string& out)
{
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
        text.remove_suffix(1);
    const bool soft = !text.empty() && text.back() == '=';
    if (soft)
        text.remove_suffix(1);
    std::size_t i = 0;
    while (i < text.size()) {
        const auto eq = text.find('=', i);
        if (eq == std::string_view::npos) {
            out.append(text.substr(i));
            break;
        }
        out.append(text.substr(i, eq - i));
        const int hi = eq + 1 < text.size() ? hex_value(text[eq + 1]) : -1;
        const int lo = eq + 2 < text.size() ? hex_value(text[eq + 2]) : -1;
        if (hi >= 0 && lo >= 0) {
            out.push_back(static_cast<char>(hi * 16 + lo));
            i = eq + 3;
        } else {
            d_bad = true;
            out.push_back('=');
            i = eq + 1;
        }
    }
    return soft;
}

bool charset_for_iconv(std::string_view declared, std::string& name)
{
    name.clear();
    if (declared.size() > kMaxCharsetName)
        return false;
    for (char c : declared) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                        c == '_' || c == '.' || c == ':' || c == '+' || c == '(' || c == ')';
        if (!ok)
            return false;
        name.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
    }
    for (auto n : kUtf8Names)
        if (name == n) {
            name.clear();
            return true;
        }
    for (const auto& a : kAliases)
        if (name == a.declared) {
            name = a.iconv;
            break;
        }
    return true;
}

TextConverter::~TextConverter() { close(); }

void TextConverter::close()
{
    if (d_cd != reinterpret_cast<iconv_t>(-1))
        iconv_close(d_cd);
    d_cd = reinterpret_cast<iconv_t>(-1);
}

bool TextConverter::open(std::string_view charset)
{
    close();
    d_carry.clear();
    d_bad = false;
    d_mode = Mode::utf8;
    if (charset.empty())
        return true;
    if (!charset_for_iconv(charset, d_name)) {
        d_mode = Mode::lenient;
        return false;
    }
    if (d_name.empty())
        return true;
    d_cd = iconv_open("UTF-8", d_name.c_str());
    if (d_cd == reinterpret_cast<iconv_t>(-1)) {
        d_mode = Mode::lenient;
        return false;
    }
    d_mode = Mode::iconv;
    d_ascii_safe = ascii_safe(d_name);
    return true;
}

void TextConverter::append_checked(std::string_view bytes, std::string& out)
{
    if (all_ascii(bytes)) {
        out.append(bytes);
        return;
    }
    const std::string v = valid_utf8(bytes);
    if (d_mode == Mode::utf8 && v != bytes)
        d_bad = true;
    out.append(v);
}

void TextConverter::feed_utf8(std::string_view bytes, std::string& out)
{
    if (!d_carry.empty()) {
        const std::size_t need = sequence_length(static_cast<unsigned char>(d_carry[0]));
        while (d_carry.size() < need && !bytes.empty() && is_continuation(static_cast<unsigned char>(bytes[0]))) {
            d_carry.push_back(bytes[0]);
            bytes.remove_prefix(1);
        }
        if (d_carry.size() < need && bytes.empty())
            return;
        append_checked(d_carry, out);
        d_carry.clear();
    }
    const std::size_t keep = incomplete_tail(bytes);
    append_checked(bytes.substr(0, bytes.size() - keep), out);
    d_carry.assign(bytes.substr(bytes.size() - keep));
}

void TextConverter::feed_iconv(std::string_view bytes, std::string& out)
{
    if (d_ascii_safe && d_carry.empty() && all_ascii(bytes)) {
        out.append(bytes);
        return;
    }
    if (!d_carry.empty()) {
        d_joined.assign(d_carry);
        d_joined.append(bytes);
        d_carry.clear();
        bytes = d_joined;
    }
    char buf[8192];
    char* in = const_cast<char*>(bytes.data()); // iconv's signature; it does not write the input
    std::size_t in_left = bytes.size();
    while (in_left > 0) {
        char* o = buf;
        std::size_t o_left = sizeof buf;
        const auto r = iconv(d_cd, &in, &in_left, &o, &o_left);
        out.append(buf, sizeof buf - o_left);
        if (r != static_cast<std::size_t>(-1))
            break;
        if (errno == E2BIG)
            continue;
        if (errno == EINVAL && in_left <= kMaxCarry) { // the next piece may complete it
            d_carry.assign(in, in_left);
            break;
        }
        d_bad = true; // EILSEQ: one byte is lost
        out.append(kReplacement);
        ++in;
        --in_left;
    }
}

void TextConverter::feed(std::string_view bytes, std::string& out)
{
    if (d_mode == Mode::iconv)
        feed_iconv(bytes, out);
    else
        feed_utf8(bytes, out);
}

void TextConverter::finish(std::string& out)
{
    if (!d_carry.empty()) {
        d_bad = d_bad || d_mode != Mode::lenient;
        out.append(kReplacement);
        d_carry.clear();
    }
    if (d_mode == Mode::iconv) {
        char buf[64];
        char* o = buf;
        std::size_t o_left = sizeof buf;
        iconv(d_cd, nullptr, nullptr, &o, &o_left); // a stateful charset's closing shift
        out.append(buf, sizeof buf - o_left);
    }
    close();
    d_mode = Mode::utf8;
}

} // namespace rampart::mime
