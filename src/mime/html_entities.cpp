// NAME
//   html_entities.cpp - character references: the named table and their decoding
// DESCRIPTION
//   The names are the HTML 4 set (Latin-1, symbols and Greek, special
//   characters), the upper-case spellings of the legacy names, and the
//   HTML 5 names that spammers use to spell out punctuation or hide
//   characters (&colon;, &period;, &sol;, &ZeroWidthSpace;, ...). Names are
//   case-sensitive; names that stand for two code points are left out.
//
//   As in browsers: the names of the Latin-1 block and amp, lt, gt, quot
//   (either case) are read without the closing ';', taking the longest such
//   name ("&notit;" is "\u00ACit;"), except in an attribute where a letter,
//   digit or '=' follows, so that query strings ("?a=1&copy=2") survive.
//   Numeric references may omit ';' too; 0, surrogates and values past
//   U+10FFFF become U+FFFD, and 128 to 159 are read as windows-1252.
// LIMITS
//   A numeric value is read up to U+110000 and no further.
#include "mime/html.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace rampart::mime {
namespace {

constexpr std::size_t kMaxLegacyName = 6; // the longest name allowed without ';'

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

struct NamedEntity {
    std::string_view name;
    char32_t cp;
    bool legacy;
};

// U+00A0 to U+00FF in order; all of them may go without ';'.
constexpr std::array<std::string_view, 96> kLatin1 = {
    "nbsp",   "iexcl",  "cent",   "pound",  "curren", "yen",    "brvbar", "sect",   "uml",    "copy",   "ordf",
    "laquo",  "not",    "shy",    "reg",    "macr",   "deg",    "plusmn", "sup2",   "sup3",   "acute",  "micro",
    "para",   "middot", "cedil",  "sup1",   "ordm",   "raquo",  "frac14", "frac12", "frac34", "iquest", "Agrave",
    "Aacute", "Acirc",  "Atilde", "Auml",   "Aring",  "AElig",  "Ccedil", "Egrave", "Eacute", "Ecirc",  "Euml",
    "Igrave", "Iacute", "Icirc",  "Iuml",   "ETH",    "Ntilde", "Ograve", "Oacute", "Ocirc",  "Otilde", "Ouml",
    "times",  "Oslash", "Ugrave", "Uacute", "Ucirc",  "Uuml",   "Yacute", "THORN",  "szlig",  "agrave", "aacute",
    "acirc",  "atilde", "auml",   "aring",  "aelig",  "ccedil", "egrave", "eacute", "ecirc",  "euml",   "igrave",
    "iacute", "icirc",  "iuml",   "eth",    "ntilde", "ograve", "oacute", "ocirc",  "otilde", "ouml",   "divide",
    "oslash", "ugrave", "uacute", "ucirc",  "uuml",   "yacute", "thorn",  "yuml",
};

// clang-format off
constexpr NamedEntity kOthers[] = {
    // Legacy names outside Latin-1, in both spellings.
    {"amp", '&', true}, {"lt", '<', true}, {"gt", '>', true}, {"quot", '"', true}, {"AMP", '&', true},
    {"LT", '<', true}, {"GT", '>', true}, {"QUOT", '"', true}, {"COPY", 0xA9, true}, {"REG", 0xAE, true},
    // ASCII punctuation and white space spelled out (HTML 5).
    {"apos", '\'', false}, {"Tab", 0x09, false}, {"NewLine", 0x0A, false}, {"excl", '!', false}, {"num", '#', false},
    {"dollar", '$', false}, {"percnt", '%', false}, {"lpar", '(', false}, {"rpar", ')', false}, {"ast", '*', false},
    {"plus", '+', false}, {"comma", ',', false}, {"period", '.', false}, {"sol", '/', false}, {"colon", ':', false}, {"semi", ';', false},
    {"equals", '=', false}, {"quest", '?', false}, {"commat", '@', false}, {"lsqb", '[', false},
    {"bsol", '\\', false}, {"rsqb", ']', false}, {"Hat", '^', false}, {"lowbar", '_', false}, {"grave", '`', false},
    {"lcub", '{', false}, {"verbar", '|', false}, {"rcub", '}', false},
    // Latin Extended, spacing modifiers.
    {"OElig", 0x152, false}, {"oelig", 0x153, false}, {"Scaron", 0x160, false}, {"scaron", 0x161, false},
    {"Yuml", 0x178, false}, {"fnof", 0x192, false}, {"circ", 0x2C6, false}, {"tilde", 0x2DC, false},
    // Spaces, joiners, dashes and quotes.
    {"ensp", 0x2002, false}, {"emsp", 0x2003, false}, {"emsp13", 0x2004, false}, {"emsp14", 0x2005, false},
    {"numsp", 0x2007, false}, {"puncsp", 0x2008, false}, {"thinsp", 0x2009, false}, {"hairsp", 0x200A, false},
    {"ZeroWidthSpace", 0x200B, false}, {"NegativeVeryThinSpace", 0x200B, false}, {"NegativeThinSpace", 0x200B, false},
    {"NegativeMediumSpace", 0x200B, false}, {"NegativeThickSpace", 0x200B, false}, {"zwnj", 0x200C, false},
    {"zwj", 0x200D, false}, {"lrm", 0x200E, false}, {"rlm", 0x200F, false}, {"hyphen", 0x2010, false},
    {"dash", 0x2010, false}, {"ndash", 0x2013, false}, {"mdash", 0x2014, false}, {"horbar", 0x2015, false},
    {"lsquo", 0x2018, false}, {"rsquo", 0x2019, false}, {"rsquor", 0x2019, false}, {"sbquo", 0x201A, false},
    {"lsquor", 0x201A, false}, {"ldquo", 0x201C, false}, {"rdquo", 0x201D, false}, {"rdquor", 0x201D, false},
    {"bdquo", 0x201E, false}, {"ldquor", 0x201E, false}, {"dagger", 0x2020, false}, {"Dagger", 0x2021, false},
    {"bull", 0x2022, false}, {"bullet", 0x2022, false}, {"nldr", 0x2025, false}, {"hellip", 0x2026, false},
    {"mldr", 0x2026, false}, {"permil", 0x2030, false}, {"prime", 0x2032, false}, {"Prime", 0x2033, false},
    {"lsaquo", 0x2039, false}, {"rsaquo", 0x203A, false}, {"oline", 0x203E, false}, {"caret", 0x2041, false},
    {"frasl", 0x2044, false}, {"MediumSpace", 0x205F, false}, {"NoBreak", 0x2060, false}, {"af", 0x2061, false},
    {"ApplyFunction", 0x2061, false}, {"it", 0x2062, false}, {"InvisibleTimes", 0x2062, false}, {"ic", 0x2063, false},
    {"InvisibleComma", 0x2063, false}, {"euro", 0x20AC, false},
    // Letter-like symbols and arrows.
    {"image", 0x2111, false}, {"copysr", 0x2117, false}, {"weierp", 0x2118, false}, {"real", 0x211C, false},
    {"trade", 0x2122, false}, {"TRADE", 0x2122, false}, {"alefsym", 0x2135, false}, {"larr", 0x2190, false},
    {"uarr", 0x2191, false}, {"rarr", 0x2192, false}, {"darr", 0x2193, false}, {"harr", 0x2194, false},
    {"crarr", 0x21B5, false}, {"lArr", 0x21D0, false}, {"uArr", 0x21D1, false}, {"rArr", 0x21D2, false},
    {"dArr", 0x21D3, false}, {"hArr", 0x21D4, false},
    // Mathematical operators and technical symbols.
    {"forall", 0x2200, false}, {"part", 0x2202, false}, {"exist", 0x2203, false}, {"empty", 0x2205, false},
    {"nabla", 0x2207, false}, {"isin", 0x2208, false}, {"notin", 0x2209, false}, {"ni", 0x220B, false},
    {"prod", 0x220F, false}, {"sum", 0x2211, false}, {"minus", 0x2212, false}, {"lowast", 0x2217, false},
    {"radic", 0x221A, false}, {"prop", 0x221D, false}, {"infin", 0x221E, false}, {"ang", 0x2220, false},
    {"and", 0x2227, false}, {"or", 0x2228, false}, {"cap", 0x2229, false}, {"cup", 0x222A, false},
    {"int", 0x222B, false}, {"there4", 0x2234, false}, {"sim", 0x223C, false}, {"cong", 0x2245, false},
    {"asymp", 0x2248, false}, {"ne", 0x2260, false}, {"equiv", 0x2261, false}, {"le", 0x2264, false},
    {"ge", 0x2265, false}, {"sub", 0x2282, false}, {"sup", 0x2283, false}, {"nsub", 0x2284, false},
    {"sube", 0x2286, false}, {"supe", 0x2287, false}, {"oplus", 0x2295, false}, {"otimes", 0x2297, false},
    {"perp", 0x22A5, false}, {"sdot", 0x22C5, false}, {"lceil", 0x2308, false}, {"rceil", 0x2309, false},
    {"lfloor", 0x230A, false}, {"rfloor", 0x230B, false}, {"lang", 0x27E8, false}, {"rang", 0x27E9, false},
    // Shapes and dingbats.
    {"squ", 0x25A1, false}, {"square", 0x25A1, false}, {"blacksquare", 0x25AA, false}, {"loz", 0x25CA, false},
    {"starf", 0x2605, false}, {"star", 0x2606, false}, {"phone", 0x260E, false}, {"female", 0x2640, false},
    {"male", 0x2642, false}, {"spades", 0x2660, false}, {"clubs", 0x2663, false}, {"hearts", 0x2665, false},
    {"diams", 0x2666, false}, {"check", 0x2713, false}, {"cross", 0x2717, false},
    // Greek.
    {"Alpha", 0x391, false}, {"Beta", 0x392, false}, {"Gamma", 0x393, false}, {"Delta", 0x394, false},
    {"Epsilon", 0x395, false}, {"Zeta", 0x396, false}, {"Eta", 0x397, false}, {"Theta", 0x398, false},
    {"Iota", 0x399, false}, {"Kappa", 0x39A, false}, {"Lambda", 0x39B, false}, {"Mu", 0x39C, false},
    {"Nu", 0x39D, false}, {"Xi", 0x39E, false}, {"Omicron", 0x39F, false}, {"Pi", 0x3A0, false},
    {"Rho", 0x3A1, false}, {"Sigma", 0x3A3, false}, {"Tau", 0x3A4, false}, {"Upsilon", 0x3A5, false},
    {"Phi", 0x3A6, false}, {"Chi", 0x3A7, false}, {"Psi", 0x3A8, false}, {"Omega", 0x3A9, false},
    {"alpha", 0x3B1, false}, {"beta", 0x3B2, false}, {"gamma", 0x3B3, false}, {"delta", 0x3B4, false},
    {"epsilon", 0x3B5, false}, {"zeta", 0x3B6, false}, {"eta", 0x3B7, false}, {"theta", 0x3B8, false},
    {"iota", 0x3B9, false}, {"kappa", 0x3BA, false}, {"lambda", 0x3BB, false}, {"mu", 0x3BC, false},
    {"nu", 0x3BD, false}, {"xi", 0x3BE, false}, {"omicron", 0x3BF, false}, {"pi", 0x3C0, false},
    {"rho", 0x3C1, false}, {"sigmaf", 0x3C2, false}, {"sigma", 0x3C3, false}, {"tau", 0x3C4, false},
    {"upsilon", 0x3C5, false}, {"phi", 0x3C6, false}, {"chi", 0x3C7, false}, {"psi", 0x3C8, false},
    {"omega", 0x3C9, false}, {"thetasym", 0x3D1, false}, {"upsih", 0x3D2, false}, {"piv", 0x3D6, false},
};
// clang-format on

// All names in one sorted table, built once (thread-safe static init).
const std::vector<NamedEntity>& sorted_entities()
{
    static const std::vector<NamedEntity> table = [] {
        std::vector<NamedEntity> t;
        t.reserve(kLatin1.size() + std::size(kOthers));
        for (std::size_t i = 0; i < kLatin1.size(); ++i)
            t.push_back({kLatin1[i], static_cast<char32_t>(0xA0 + i), true});
        t.insert(t.end(), std::begin(kOthers), std::end(kOthers));
        std::sort(t.begin(), t.end(), [](const NamedEntity& a, const NamedEntity& b) { return a.name < b.name; });
        return t;
    }();
    return table;
}

// The code point of a named reference, 0 when the name is unknown; `legacy`
// says whether it may go without ';'.
char32_t named_entity(std::string_view name, bool& legacy)
{
    const auto& t = sorted_entities();
    const auto it =
        std::lower_bound(t.begin(), t.end(), name, [](const NamedEntity& e, std::string_view n) { return e.name < n; });
    if (it == t.end() || it->name != name)
        return 0;
    legacy = it->legacy;
    return it->cp;
}

// A numeric reference's value as a browser shows it.
char32_t fix_code_point(std::uint32_t v)
{
    static constexpr char16_t kWindows1252[32] = {0x20AC, 0x81,   0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
                                                  0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D,   0x017D, 0x8F,
                                                  0x90,   0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
                                                  0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D,   0x017E, 0x0178};
    if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0xFFFD;
    if (v >= 0x80 && v <= 0x9F)
        return kWindows1252[v - 0x80];
    return v;
}

} // namespace

std::size_t HtmlToText::encode_utf8(char32_t cp, char* b)
{
    if (cp < 0x80) {
        b[0] = static_cast<char>(cp);
        return 1;
    }
    if (cp < 0x800) {
        b[0] = static_cast<char>(0xC0 | (cp >> 6));
        b[1] = static_cast<char>(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        b[0] = static_cast<char>(0xE0 | (cp >> 12));
        b[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        b[2] = static_cast<char>(0x80 | (cp & 0x3F));
        return 3;
    }
    b[0] = static_cast<char>(0xF0 | (cp >> 18));
    b[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    b[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    b[3] = static_cast<char>(0x80 | (cp & 0x3F));
    return 4;
}

std::size_t HtmlToText::match_reference(std::string_view s, bool in_attr, char32_t& cp)
{
    if (s.empty())
        return 0;
    if (s[0] == '#') {
        std::size_t i = 1;
        const bool hex = i < s.size() && (s[i] == 'x' || s[i] == 'X');
        i += hex ? 1 : 0;
        const std::size_t start = i;
        std::uint32_t v = 0;
        for (; i < s.size() && (hex ? hex_value(s[i]) >= 0 : is_digit(s[i])); ++i)
            v = std::min<std::uint32_t>(v * (hex ? 16 : 10) + static_cast<std::uint32_t>(hex_value(s[i])), 0x110000);
        if (i == start)
            return 0;
        cp = fix_code_point(v);
        return i < s.size() && s[i] == ';' ? i + 1 : i;
    }
    std::size_t j = 0;
    while (j < s.size() && is_alnum(s[j]))
        ++j;
    bool legacy = false;
    if (j > 0 && j < s.size() && s[j] == ';' && (cp = named_entity(s.substr(0, j), legacy)) != 0)
        return j + 1;
    for (std::size_t len = std::min(j, kMaxLegacyName); len >= 2; --len) {
        cp = named_entity(s.substr(0, len), legacy);
        if (cp == 0 || !legacy)
            continue;
        if (in_attr && len < s.size() && (is_alnum(s[len]) || s[len] == '='))
            return 0;
        return len;
    }
    return 0;
}

void HtmlToText::decode_attribute(std::string_view in, std::string& out)
{
    out.clear();
    while (!in.empty()) {
        const auto amp = in.find('&');
        out.append(in.substr(0, amp));
        if (amp == std::string_view::npos)
            return;
        in.remove_prefix(amp + 1);
        char32_t cp = 0;
        const std::size_t used = match_reference(in, true, cp);
        if (used == 0) {
            out.push_back('&');
            continue;
        }
        char b[4];
        out.append(b, encode_utf8(cp, b));
        in.remove_prefix(used);
    }
}

} // namespace rampart::mime
