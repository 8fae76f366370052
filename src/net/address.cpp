#include "net/address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>

namespace rampart {
namespace {

constexpr std::array<std::uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

} // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text)
{
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']')
        text = text.substr(1, text.size() - 2);
    if (text.size() > 5 && (text.substr(0, 5) == "IPv6:" || text.substr(0, 5) == "ipv6:"))
        text = text.substr(5);
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN)
        return std::nullopt;
    char buf[INET6_ADDRSTRLEN];
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    IpAddress a;
    in_addr v4{};
    if (inet_pton(AF_INET, buf, &v4) == 1) {
        std::memcpy(a.d_bytes.data(), kMappedPrefix.data(), kMappedPrefix.size());
        std::memcpy(a.d_bytes.data() + 12, &v4, 4);
        return a;
    }
    if (inet_pton(AF_INET6, buf, a.d_bytes.data()) == 1)
        return a;
    return std::nullopt;
}

std::optional<IpAddress> IpAddress::from_sockaddr(const sockaddr* sa)
{
    if (sa == nullptr)
        return std::nullopt;
    IpAddress a;
    if (sa->sa_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
        std::memcpy(a.d_bytes.data(), kMappedPrefix.data(), kMappedPrefix.size());
        std::memcpy(a.d_bytes.data() + 12, &in->sin_addr, 4);
        return a;
    }
    if (sa->sa_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
        std::memcpy(a.d_bytes.data(), &in6->sin6_addr, 16);
        return a;
    }
    return std::nullopt;
}

bool IpAddress::is_v4() const { return std::memcmp(d_bytes.data(), kMappedPrefix.data(), kMappedPrefix.size()) == 0; }

IpAddress IpAddress::masked(int prefix) const
{
    IpAddress out = *this;
    int bits = is_v4() ? prefix + 96 : prefix;
    if (bits < 0)
        bits = 0;
    for (int i = 0; i < 16; ++i) {
        const int keep = bits - i * 8;
        if (keep >= 8)
            continue;
        out.d_bytes[i] &= keep <= 0 ? 0 : static_cast<std::uint8_t>(0xff << (8 - keep));
    }
    if (is_v4()) // keep the mapped prefix whatever the mask
        std::memcpy(out.d_bytes.data(), kMappedPrefix.data(), kMappedPrefix.size());
    return out;
}

std::string IpAddress::to_string() const
{
    char buf[INET6_ADDRSTRLEN];
    if (!is_v4()) {
        inet_ntop(AF_INET6, d_bytes.data(), buf, sizeof buf);
        return buf;
    }
    // By hand: glibc formats IPv4 with sprintf, and addresses are formatted
    // several times per message (rate limit and reputation keys).
    char* p = buf;
    for (int i = 12; i < 16; ++i) {
        if (i > 12)
            *p++ = '.';
        p = std::to_chars(p, buf + sizeof buf, unsigned{d_bytes[static_cast<std::size_t>(i)]}).ptr;
    }
    return std::string(buf, p);
}

std::optional<Cidr> Cidr::parse(std::string_view text)
{
    const auto slash = text.find('/');
    const auto addr = IpAddress::parse(text.substr(0, slash));
    if (!addr)
        return std::nullopt;
    const int max = addr->is_v4() ? 32 : 128;
    int prefix = max;
    if (slash != std::string_view::npos) {
        const auto digits = text.substr(slash + 1);
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
        if (ec != std::errc{} || end != digits.data() + digits.size() || prefix < 0 || prefix > max)
            return std::nullopt;
    }
    return Cidr{addr->masked(prefix), prefix};
}

bool Cidr::contains(const IpAddress& a) const { return a.is_v4() == base.is_v4() && a.masked(prefix) == base; }

std::string Cidr::to_string() const { return base.to_string() + "/" + std::to_string(prefix); }

Cidr network_of(const IpAddress& a, int v4_prefix, int v6_prefix)
{
    const int prefix = a.is_v4() ? v4_prefix : v6_prefix;
    return Cidr{a.masked(prefix), prefix};
}

std::size_t IpAddressHash::operator()(const IpAddress& a) const noexcept
{
    std::uint64_t hi = 0, lo = 0;
    std::memcpy(&hi, a.bytes().data(), 8);
    std::memcpy(&lo, a.bytes().data() + 8, 8);
    return std::hash<std::uint64_t>{}(hi * 0x9e3779b97f4a7c15ULL ^ lo);
}

} // namespace rampart
