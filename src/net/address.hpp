// NAME
//   address.hpp - IPv4/IPv6 client addresses and CIDR networks
// DESCRIPTION
//   An IpAddress is 16 bytes; IPv4 addresses are kept as IPv4-mapped IPv6
//   (::ffff:a.b.c.d) so that one code path handles both, but they print and
//   mask as IPv4 (prefix lengths 0..32). Networks name the /24 or /64 that
//   rate limits and reputation aggregate over.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct sockaddr;

namespace rampart {

class IpAddress {
  public:
    IpAddress() = default;
    static std::optional<IpAddress> parse(std::string_view text);
    static std::optional<IpAddress> from_sockaddr(const sockaddr* sa);

    bool is_v4() const;
    // Zeroes the bits past `prefix` (counted in the address's own family).
    IpAddress masked(int prefix) const;
    std::string to_string() const;
    const std::array<std::uint8_t, 16>& bytes() const { return d_bytes; }

    friend bool operator==(const IpAddress&, const IpAddress&) = default;

  private:
    std::array<std::uint8_t, 16> d_bytes{};
};

struct Cidr {
    IpAddress base; // already masked
    int prefix = 0; // in the address's own family: 0..32 or 0..128

    // "192.0.2.0/24", "2001:db8::/32", or a bare address (a host route).
    static std::optional<Cidr> parse(std::string_view text);
    bool contains(const IpAddress& a) const;
    std::string to_string() const;
    friend bool operator==(const Cidr&, const Cidr&) = default;
};

// The network an address belongs to for aggregation: /v4_prefix or /v6_prefix.
Cidr network_of(const IpAddress& a, int v4_prefix, int v6_prefix);

struct IpAddressHash {
    std::size_t operator()(const IpAddress& a) const noexcept;
};

} // namespace rampart
