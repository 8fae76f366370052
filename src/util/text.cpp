#include "util/text.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>

namespace rampart {

std::string printable(std::string_view s, std::size_t max)
{
    std::string out;
    const bool cut = s.size() > max;
    out.reserve(std::min(s.size(), max) + 3);
    for (char c : s.substr(0, max)) {
        const auto u = static_cast<unsigned char>(c);
        out.push_back(u >= 0x20 && u < 0x7f ? c : '?');
    }
    if (cut)
        out += "...";
    return out;
}

std::string lowercase(std::string_view s)
{
    std::string out(s);
    for (char& c : out)
        c = ascii_lower(c);
    return out;
}

std::string_view trim(std::string_view s)
{
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && space(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && space(s.back()))
        s.remove_suffix(1);
    return s;
}

bool iequals(std::string_view a, std::string_view b)
{
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

std::string_view strip_brackets(std::string_view addr)
{
    addr = trim(addr);
    if (addr.size() >= 2 && addr.front() == '<' && addr.back() == '>')
        addr = addr.substr(1, addr.size() - 2);
    return addr;
}

std::string_view domain_of(std::string_view addr)
{
    const auto at = addr.rfind('@');
    return at == std::string_view::npos ? std::string_view{} : addr.substr(at + 1);
}

int utf8_char_length(std::string_view s, std::size_t i)
{
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80)
        return 1;
    int len = 0;
    unsigned char lo = 0x80, hi = 0xBF; // the range of the second byte
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    else
        return 0;
    for (int k = 1; k < len; ++k) {
        if (i + static_cast<std::size_t>(k) >= s.size())
            return -1;
        const auto b = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
        if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF))
            return 0;
    }
    return len;
}

std::size_t utf8_valid_prefix(std::string_view s)
{
    constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;
    std::size_t i = 0;
    while (i < s.size()) {
        // Mail text is mostly ASCII: eight bytes at a time while it is.
        std::uint64_t word;
        while (i + sizeof word <= s.size()) {
            std::memcpy(&word, s.data() + i, sizeof word);
            if (word & kHighBits)
                break;
            i += sizeof word;
        }
        if (i == s.size())
            break;
        const int len = utf8_char_length(s, i);
        if (len <= 0)
            break;
        i += static_cast<std::size_t>(len);
    }
    return i;
}

} // namespace rampart
