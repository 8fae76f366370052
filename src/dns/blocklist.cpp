#include "dns/blocklist.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>

namespace rampart::dns {
namespace {

bool number(std::string_view s, std::int64_t& out, int base = 10)
{
    if (s.empty())
        return false;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
    return ec == std::errc{} && end == s.data() + s.size();
}

bool octet(std::string_view s, std::vector<std::uint8_t>& values)
{
    std::int64_t a = 0, b = 0;
    if (number(s, a) && a >= 0 && a <= 255) {
        values.push_back(static_cast<std::uint8_t>(a));
        return true;
    }
    if (s.size() < 3 || s.front() != '[' || s.back() != ']')
        return false;
    s = s.substr(1, s.size() - 2);
    if (const auto dots = s.find(".."); dots != std::string_view::npos) {
        if (!number(s.substr(0, dots), a) || !number(s.substr(dots + 2), b) || a < 0 || b > 255 || a > b)
            return false;
        for (auto v = a; v <= b; ++v)
            values.push_back(static_cast<std::uint8_t>(v));
        return true;
    }
    while (!s.empty()) {
        const auto semi = s.find(';');
        if (!number(s.substr(0, semi), a) || a < 0 || a > 255)
            return false;
        values.push_back(static_cast<std::uint8_t>(a));
        s = semi == std::string_view::npos ? std::string_view{} : s.substr(semi + 1);
        if (semi != std::string_view::npos && s.empty())
            return false;
    }
    return true;
}

// Where the octet at the start of `f` ends: its dot, not one of a range's "..".
std::size_t octet_end(std::string_view f)
{
    bool bracket = false;
    for (std::size_t i = 0; i < f.size(); ++i) {
        if (f[i] == '[')
            bracket = true;
        else if (f[i] == ']')
            bracket = false;
        else if (f[i] == '.' && !bracket)
            return i;
    }
    return std::string_view::npos;
}

bool zone_name(std::string_view z)
{
    // 189: a reversed IPv6 address (63 octets) and a dot in front still fit in 253.
    if (z.empty() || z.size() > 189 || z.front() == '.' || z.back() == '.' || z.find("..") != std::string_view::npos)
        return false;
    for (char c : z)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
              c == '_'))
            return false;
    return true;
}

} // namespace

Result<BlockList> parse_blocklist(std::string_view spec)
{
    BlockList bl;
    std::string name;
    if (const auto colon = spec.find(':'); colon != std::string_view::npos) {
        name = std::string(spec.substr(0, colon));
        spec.remove_prefix(colon + 1);
        if (name.empty() || name.size() > 40)
            return Error{"the name before ':' must be 1 to 40 letters, digits or '_'"};
        for (char& c : name) {
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
                return Error{"the name before ':' must be 1 to 40 letters, digits or '_'"};
            if (c >= 'a' && c <= 'z')
                c = static_cast<char>(c - 'a' + 'A');
        }
    }
    if (const auto star = spec.rfind('*'); star != std::string_view::npos) {
        const std::string w(spec.substr(star + 1));
        char* end = nullptr;
        bl.weight = std::strtod(w.c_str(), &end);
        if (w.empty() || *end != '\0' || bl.weight < -100 || bl.weight > 100 || bl.weight == 0)
            return Error{fmt::format("bad weight \"{}\": a number in -100..100, not 0", w)};
        spec = spec.substr(0, star);
    }
    if (const auto amp = spec.rfind('&'); amp != std::string_view::npos) {
        auto m = spec.substr(amp + 1);
        std::int64_t v = 0;
        const bool hex = m.starts_with("0x") || m.starts_with("0X");
        if (!number(hex ? m.substr(2) : m, v, hex ? 16 : 10) || v <= 0 || v > 0xffffffffLL)
            return Error{fmt::format("bad mask \"{}\": a number in 1..0xffffffff", m)};
        bl.mask = static_cast<std::uint32_t>(v);
        spec = spec.substr(0, amp);
    }
    if (const auto eq = spec.find('='); eq != std::string_view::npos) {
        auto f = spec.substr(eq + 1);
        for (std::size_t i = 0; i < 4; ++i) {
            const auto dot = i < 3 ? octet_end(f) : std::string_view::npos;
            if (i < 3 && dot == std::string_view::npos)
                return Error{
                    fmt::format("bad filter \"{}\": four octets, each N, [N..M] or [N;M;...]", spec.substr(eq + 1))};
            if (!octet(f.substr(0, dot), bl.filter[i]))
                return Error{
                    fmt::format("bad filter \"{}\": four octets, each N, [N..M] or [N;M;...]", spec.substr(eq + 1))};
            f = dot == std::string_view::npos ? std::string_view{} : f.substr(dot + 1);
        }
        bl.has_filter = true;
        spec = spec.substr(0, eq);
    }
    if (!zone_name(spec))
        return Error{fmt::format("bad zone \"{}\": a domain name", spec)};
    bl.zone = std::string(spec);
    for (char& c : bl.zone)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    if (name.empty())
        for (char c : bl.zone)
            name += (c == '.' || c == '-') ? '_' : static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    bl.symbol = (bl.weight < 0 ? "RAMPART_RWL_" : "RAMPART_RBL_") + name;
    return bl;
}

BlockList::Hit BlockList::match(std::string_view a) const
{
    std::array<std::int64_t, 4> o{};
    for (std::size_t i = 0; i < 4; ++i) {
        const auto dot = i < 3 ? a.find('.') : std::string_view::npos;
        if ((i < 3 && dot == std::string_view::npos) || !number(a.substr(0, dot), o[i]) || o[i] < 0 || o[i] > 255)
            return Hit::no;
        a = dot == std::string_view::npos ? std::string_view{} : a.substr(dot + 1);
    }
    if (o[0] != 127)
        return Hit::no;
    if (o[1] == 255 && o[2] == 255)
        return Hit::refused;
    if (has_filter)
        for (std::size_t i = 0; i < 4; ++i)
            if (std::find(filter[i].begin(), filter[i].end(), o[i]) == filter[i].end())
                return Hit::no;
    if (mask) {
        const auto v = static_cast<std::uint32_t>(o[0] << 24 | o[1] << 16 | o[2] << 8 | o[3]);
        if ((v & mask) == 0)
            return Hit::no;
    }
    return Hit::yes;
}

} // namespace rampart::dns
