// NAME
//   urls.cpp - URLs in text and links, hosts read the way a browser reads them
// DESCRIPTION
//   parse_url() follows the browser's URL parser where spammers lean on it:
//   tabs and line breaks inside a URL are dropped, any run of '/' or '\'
//   after "http:" leads to the host (only "//" is the plain form), user-info
//   before the last '@' is skipped, and the host is what a browser would
//   connect to.
//
//   normalize_host() decodes %-escapes, maps non-ASCII labels with IDNA
//   (UTS #46 non-transitional, then transitional) to their xn-- form,
//   lower-cases, drops one trailing dot, and reads a host ending in a number
//   as IPv4 (parts in decimal, octal with a leading 0, hex with 0x; fewer
//   than four parts fill the last ones, as browsers do). What remains must
//   be letters, digits, '-', '_' and dots, at most 253 bytes, each label 1
//   to 63 bytes. IPv6 literals come back in brackets, canonical.
//
//   Obfuscated: %-escapes in the host, IPv4 in any form but the dotted
//   decimal quad, user-info, a backslash or other than two slashes after
//   the scheme, and a label written in non-ASCII characters (fullwidth
//   letters, ideographic full stops, zero-width characters, ...) that IDNA
//   maps to plain ASCII. Upper case, ports, a trailing dot and ordinary
//   internationalised names are not hiding.
//
//   find_urls() finds http://, https:// and ftp:// URLs (any case) and bare
//   "www." hosts that start a word, and drops trailing punctuation a reader
//   takes as the sentence's: .,;:!?'"* and a ')' or ']' without its
//   opening one. It scans prose with memchr for ':' and '.'.
// LIMITS
//   Raw hosts longer than kMaxRawHostBytes are not read; Url::text is cut
//   at kMaxUrlBytes (at a character boundary).
#include "mime/urls.hpp"

#include "util/text.hpp"

#include <arpa/inet.h>
#include <idn2.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>

namespace rampart::mime {
namespace {

constexpr std::size_t kMaxHostBytes = 253;
constexpr std::size_t kMaxLabelBytes = 63;
constexpr std::size_t kMaxRawHostBytes = 1024; // before %-decoding and IDNA
constexpr std::size_t kMaxSchemeBytes = 5;     // "https"

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_alnum(char c) { return is_digit(c) || is_alpha(c); }
bool is_host_char(char c) { return is_alnum(c) || c == '-' || c == '_' || c == '.'; }

bool all_of(std::string_view s, bool (*pred)(char)) { return std::all_of(s.begin(), s.end(), pred); }

bool starts_with_ci(std::string_view s, std::string_view prefix)
{
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// One part of an IPv4 address as a browser reads it; false when it is not a number.
bool ipv4_part(std::string_view s, std::uint64_t& v, bool& unusual)
{
    int base = 10;
    if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s.remove_prefix(2);
    } else if (s.size() >= 2 && s[0] == '0') {
        base = 8;
        s.remove_prefix(1);
    }
    unusual = unusual || base != 10;
    v = 0;
    for (char c : s) {
        const int d = hex_value(c);
        if (d < 0 || d >= base)
            return false;
        v = v * static_cast<unsigned>(base) + static_cast<unsigned>(d);
        if (v > 0xFFFFFFFFu)
            return false;
    }
    return !s.empty() || base == 16; // "0x" alone is 0
}

enum class Ipv4 { no, yes, broken };

// A host that ends in a number is IPv4 or nothing (as in browsers).
Ipv4 parse_ipv4(std::string_view host, std::string& out, bool& unusual)
{
    const std::string_view last = host.substr(host.rfind('.') + 1);
    std::uint64_t v = 0;
    bool ignored = false;
    if (last.empty() || (!all_of(last, is_digit) && !ipv4_part(last, v, ignored)))
        return Ipv4::no;
    std::array<std::uint64_t, 4> part{};
    std::size_t n = 0;
    for (std::size_t start = 0; start <= host.size(); ++n) {
        const std::size_t dot = std::min(host.find('.', start), host.size());
        if (n == 4 || !ipv4_part(host.substr(start, dot - start), part[n], unusual))
            return Ipv4::broken;
        start = dot + 1;
    }
    unusual = unusual || n != 4;
    for (std::size_t i = 0; i + 1 < n; ++i)
        if (part[i] > 255)
            return Ipv4::broken;
    if (part[n - 1] >= (std::uint64_t{1} << (8 * (5 - n))))
        return Ipv4::broken;
    std::uint64_t addr = part[n - 1];
    for (std::size_t i = 0; i + 1 < n; ++i)
        addr += part[i] << (8 * (3 - i));
    out.clear();
    for (int shift = 24; shift >= 0; shift -= 8) {
        out += std::to_string((addr >> shift) & 0xFF);
        if (shift > 0)
            out.push_back('.');
    }
    return Ipv4::yes;
}

// Splits a UTF-8 host on '.' and the full stops IDNA reads as dots.
std::size_t split_labels(std::string_view s, std::array<std::string_view, 128>& labels, bool& wide_dot)
{
    static constexpr std::string_view kDots[] = {"\xE3\x80\x82", "\xEF\xBC\x8E", "\xEF\xBD\xA1"};
    std::size_t n = 0, start = 0, i = 0;
    while (i <= s.size() && n < labels.size()) {
        std::size_t dot_len = i == s.size() || s[i] == '.' ? 1 : 0;
        for (std::string_view d : kDots)
            if (dot_len == 0 && s.substr(i, d.size()) == d)
                dot_len = d.size(), wide_dot = true;
        if (dot_len == 0) {
            ++i;
            continue;
        }
        labels[n++] = s.substr(start, i - start);
        i += dot_len;
        start = i;
    }
    return n;
}

// IDNA of a host with non-ASCII bytes; "" when IDNA rejects it.
std::string to_ascii(const std::string& host, bool& obfuscated)
{
    char* raw = nullptr;
    int rc = idn2_to_ascii_8z(host.c_str(), &raw, IDN2_NONTRANSITIONAL);
    if (rc != IDN2_OK)
        rc = idn2_to_ascii_8z(host.c_str(), &raw, IDN2_TRANSITIONAL);
    if (rc != IDN2_OK)
        return {};
    const std::unique_ptr<char, decltype(&idn2_free)> hold(raw, &idn2_free);
    std::string out(raw);
    // A label that needed non-ASCII characters to write but maps to plain
    // ASCII looks like a name the filter knows and hides it.
    std::array<std::string_view, 128> in_labels, out_labels;
    bool wide_dot = false, ignored = false;
    const std::size_t n_in = split_labels(host, in_labels, wide_dot);
    const std::size_t n_out = split_labels(out, out_labels, ignored);
    obfuscated = obfuscated || wide_dot || n_in != n_out;
    for (std::size_t i = 0; i < std::min(n_in, n_out); ++i) {
        const bool wide = std::any_of(in_labels[i].begin(), in_labels[i].end(),
                                      [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
        if (wide && !starts_with_ci(out_labels[i], "xn--"))
            obfuscated = true;
    }
    return out;
}

std::string ipv6_host(std::string_view inner)
{
    if (inner.empty() || inner.size() > INET6_ADDRSTRLEN)
        return {};
    const std::string s(inner);
    in6_addr a{};
    char buf[INET6_ADDRSTRLEN];
    if (inet_pton(AF_INET6, s.c_str(), &a) != 1 || inet_ntop(AF_INET6, &a, buf, sizeof buf) == nullptr)
        return {};
    return "[" + std::string(buf) + "]";
}

bool valid_dns_host(std::string_view h)
{
    if (h.empty() || h.size() > kMaxHostBytes || !all_of(h, is_host_char))
        return false;
    for (std::size_t start = 0; start <= h.size();) {
        const std::size_t dot = std::min(h.find('.', start), h.size());
        if (dot == start || dot - start > kMaxLabelBytes)
            return false;
        start = dot + 1;
    }
    return true;
}

// A URL in prose ends at white space, a quote or an angle bracket.
bool ends_url(std::string_view s, std::size_t i)
{
    const auto c = static_cast<unsigned char>(s[i]);
    if (c <= 0x20 || c == 0x7F || c == '<' || c == '>' || c == '"' || c == '`')
        return true;
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xA0) // no-break space
        return true;
    return c == 0xE3 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 && // U+3000..U+3002
           static_cast<unsigned char>(s[i + 2]) <= 0x82;
}

// Drops what a reader takes as the sentence's, not the URL's. The
// brackets are counted once: a URL followed by many ')' stays linear.
std::string_view strip_trailing(std::string_view u)
{
    const auto count = [&](char c) { return std::count(u.begin(), u.end(), c); };
    std::ptrdiff_t open_paren = count('('), close_paren = count(')');
    std::ptrdiff_t open_square = count('['), close_square = count(']');
    while (!u.empty()) {
        const char c = u.back();
        if (c == ')' && close_paren > open_paren)
            --close_paren;
        else if (c == ']' && close_square > open_square)
            --close_square;
        else if (std::string_view(".,;:!?'\"*").find(c) == std::string_view::npos)
            break;
        u.remove_suffix(1);
    }
    return u;
}

bool starts_word(std::string_view text, std::size_t at)
{
    if (at == 0)
        return true;
    const char c = text[at - 1];
    return !is_alnum(c) && c != '.' && c != '-' && c != '_' && c != '+' && c != '@';
}

// Where a URL found at `hit` (a ':' or '.') starts, or npos.
std::size_t url_start(std::string_view text, std::size_t hit)
{
    if (text[hit] == '.') { // "www."
        if (hit < 3 || !iequals(text.substr(hit - 3, 3), "www") || !starts_word(text, hit - 3) ||
            hit + 1 >= text.size() || ends_url(text, hit + 1))
            return std::string_view::npos;
        return hit - 3;
    }
    if (hit + 1 >= text.size() || (text[hit + 1] != '/' && text[hit + 1] != '\\'))
        return std::string_view::npos;
    std::size_t start = hit;
    while (start > 0 && hit - start < kMaxSchemeBytes && is_alpha(text[start - 1]))
        --start;
    for (std::string_view scheme : {"https", "http", "ftp"}) {
        const std::size_t s = hit - std::min(hit - start, scheme.size());
        if (hit - s == scheme.size() && iequals(text.substr(s, scheme.size()), scheme) && starts_word(text, s))
            return s;
    }
    return std::string_view::npos;
}

} // namespace

std::string normalize_host(std::string_view raw, bool& obfuscated, bool& ip)
{
    obfuscated = false;
    ip = false;
    std::string_view h = raw;
    if (const auto cut = h.find_first_of("/\\?#"); cut != std::string_view::npos) {
        obfuscated = h[cut] == '\\'; // a browser reads it as '/'
        h = h.substr(0, cut);
    }
    if (const auto at = h.rfind('@'); at != std::string_view::npos) {
        obfuscated = true;
        h.remove_prefix(at + 1);
    }
    if (!h.empty() && h.front() == '[') {
        const auto close = h.find(']');
        const std::string_view port = close == std::string_view::npos ? "" : h.substr(close + 1);
        if (close == std::string_view::npos || (!port.empty() && (port[0] != ':' || !all_of(port.substr(1), is_digit))))
            return {};
        std::string v6 = ipv6_host(h.substr(1, close - 1));
        ip = !v6.empty();
        return v6;
    }
    if (const auto colon = h.find(':'); colon != std::string_view::npos) {
        if (!all_of(h.substr(colon + 1), is_digit))
            return {};
        h = h.substr(0, colon);
    }
    if (h.empty() || h.size() > kMaxRawHostBytes)
        return {};
    std::string host;
    bool wide = false;
    for (std::size_t i = 0; i < h.size(); ++i) {
        char c = h[i];
        if (c == '%') {
            if (i + 2 >= h.size() || hex_value(h[i + 1]) < 0 || hex_value(h[i + 2]) < 0)
                return {};
            c = static_cast<char>(hex_value(h[i + 1]) * 16 + hex_value(h[i + 2]));
            i += 2;
            obfuscated = true;
        }
        if (c == '\0')
            return {};
        wide = wide || static_cast<unsigned char>(c) >= 0x80;
        host.push_back(c);
    }
    if (wide && (host = to_ascii(host, obfuscated)).empty())
        return {};
    host = lowercase(host);
    if (host.size() > 1 && host.back() == '.')
        host.pop_back();
    std::string v4;
    bool unusual = false;
    switch (parse_ipv4(host, v4, unusual)) {
    case Ipv4::broken: return {};
    case Ipv4::yes:
        ip = true;
        obfuscated = obfuscated || unusual;
        return v4;
    case Ipv4::no: break;
    }
    return valid_dns_host(host) ? host : std::string{};
}

std::optional<Url> parse_url(std::string_view s)
{
    s = trim(s);
    Url u;
    std::size_t keep = std::min(s.size(), kMaxUrlBytes);
    while (keep > 0 && keep < s.size() && (static_cast<unsigned char>(s[keep]) & 0xC0) == 0x80)
        --keep; // not inside a character
    u.text.assign(s.substr(0, keep));
    std::string clean(s); // browsers drop tabs and line breaks anywhere in a URL
    clean.erase(std::remove_if(clean.begin(), clean.end(), [](char c) { return c == '\t' || c == '\n' || c == '\r'; }),
                clean.end());
    std::string_view rest = clean;
    bool hiding = false;
    const bool www = starts_with_ci(rest, "www.");
    if (!www) {
        const auto colon = rest.find_first_of(":/\\?#");
        if (colon != std::string_view::npos && rest[colon] == ':' && colon > 0) {
            const std::string scheme = lowercase(rest.substr(0, colon));
            if (scheme != "http" && scheme != "https" && scheme != "ftp")
                return std::nullopt;
            rest.remove_prefix(colon + 1);
        } else if (!rest.starts_with("//")) {
            return std::nullopt;
        }
        std::size_t slashes = 0;
        for (; slashes < rest.size() && (rest[slashes] == '/' || rest[slashes] == '\\'); ++slashes)
            hiding = hiding || rest[slashes] == '\\';
        hiding = hiding || slashes != 2;
        rest.remove_prefix(slashes);
    }
    u.host = normalize_host(rest, u.obfuscated, u.ip);
    if (u.host.empty() || (www && rest.size() <= 4))
        return std::nullopt;
    u.obfuscated = u.obfuscated || hiding;
    return u;
}

void find_urls(std::string_view text, std::vector<Url>& out, std::size_t max)
{
    const auto next = [&](char c, std::size_t from) {
        const void* hit = from < text.size() ? std::memchr(text.data() + from, c, text.size() - from) : nullptr;
        return hit == nullptr ? text.size() : static_cast<std::size_t>(static_cast<const char*>(hit) - text.data());
    };
    std::size_t colon = next(':', 0), dot = next('.', 0);
    std::size_t pos = 0;
    while (out.size() < max) {
        if (colon < pos)
            colon = next(':', pos);
        if (dot < pos)
            dot = next('.', pos);
        const std::size_t hit = std::min(colon, dot);
        if (hit >= text.size())
            return;
        const std::size_t start = url_start(text, hit);
        if (start == std::string_view::npos || start < pos) {
            pos = hit + 1;
            continue;
        }
        std::size_t end = hit;
        while (end < text.size() && !ends_url(text, end))
            ++end;
        if (auto u = parse_url(strip_trailing(text.substr(start, end - start))))
            out.push_back(std::move(*u));
        pos = end;
    }
}

std::string_view registered_domain(std::string_view host)
{
    if (host.empty() || host.front() == '[' ||
        std::all_of(host.begin(), host.end(), [](char c) { return is_digit(c) || c == '.'; }))
        return host;
    static constexpr std::string_view kShortSecondLevel[] = {"co",  "com", "net", "org", "gov",
                                                             "edu", "ac",  "or",  "ne",  "go"};
    const auto last = host.rfind('.');
    if (last == std::string_view::npos || last == 0)
        return host;
    const auto second = host.rfind('.', last - 1);
    if (second == std::string_view::npos)
        return host;
    const std::string_view tld = host.substr(last + 1), sld = host.substr(second + 1, last - second - 1);
    const bool short_sld =
        std::find(std::begin(kShortSecondLevel), std::end(kShortSecondLevel), sld) != std::end(kShortSecondLevel);
    if (tld.size() == 2 && all_of(tld, is_alpha) && short_sld && second > 0) {
        const auto third = host.rfind('.', second - 1);
        return third == std::string_view::npos ? host : host.substr(third + 1);
    }
    return host.substr(second + 1);
}

} // namespace rampart::mime
