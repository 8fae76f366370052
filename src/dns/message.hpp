// NAME
//   message.hpp - DNS answers as rampart's checks see them, read from the wire
// DESCRIPTION
//   An Answer is what one question (a name and a type) brought: a Status,
//   the records of the type asked (a CNAME chain followed within the
//   message), and how long it may be cached. parse_response() reads a
//   response as a resolver received it (RFC 1035 section 4), checking
//   every length and every compression pointer against the message and
//   against named ceilings; what does not parse is Status::error, never a
//   read past the buffer.
//
//   A record's data is kept as text: an address for A and AAAA, a name
//   (lower case, no trailing dot) for PTR, CNAME and NS, "PREF NAME" for
//   MX, and for TXT its character strings joined with nothing between them,
//   as SPF (RFC 7208 section 3.3), DKIM and DMARC read them.
//
//   The TTL of a positive answer is the least of its records'; that of a
//   negative one (NXDOMAIN, or no record of the type) is the least of the
//   SOA record's TTL and its minimum field (RFC 2308 section 5), or
//   kNoSoaTtl when the server sent none.
// SECURITY
//   Everything in a response is untrusted: names longer than kMaxName,
//   pointer chains longer than kMaxPointers, more than kMaxRecords records
//   or a record running past the message make it Status::error.
#pragma once

#include "net/address.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::dns {

enum class Type : std::uint16_t { a = 1, ns = 2, cname = 5, soa = 6, ptr = 12, mx = 15, txt = 16, aaaa = 28 };

// What an answer says. The first three are definite: the name has those
// records, or has none. The others are temporary errors (SPF's
// "temperror", RFC 7208 section 2.6.6): the question may get an answer later.
enum class Status { ok, nxdomain, nodata, servfail, refused, timeout, error };

inline constexpr std::size_t kMaxName = 255;     // octets of a name on the wire (RFC 1035 2.3.4)
inline constexpr std::size_t kMaxPointers = 32;  // compression pointers followed in one name
inline constexpr std::size_t kMaxRecords = 256;  // of any section, in one response
inline constexpr std::uint32_t kNoSoaTtl = 60;   // negative answers without an SOA
inline constexpr std::uint32_t kMaxTtl = 604800; // a week, as RFC 8767 caps it

struct Record {
    Type type;
    std::uint32_t ttl;
    std::string data;
};

struct Answer {
    Status status = Status::error;
    std::vector<Record> records; // of the type asked, in the order received
    std::uint32_t ttl = 0;       // seconds it may be cached
    bool cached = false;         // served from the cache

    bool temporary() const { return status >= Status::servfail; }
    bool found() const { return status == Status::ok; }
};

std::string_view to_string(Status s);
std::string_view to_string(Type t);

// The answer to (`name`, `type`) in `response`. Records of other names than
// the question's (and its CNAME chain's) are ignored.
Answer parse_response(std::span<const std::uint8_t> response, Type type);

// The labels of an address in reverse order: for 192.0.2.1 "1.2.0.192",
// for IPv6 its 32 nibbles (RFC 3596 section 2.5). In front of a block
// list's zone they make its query; in front of "in-addr.arpa" or
// "ip6.arpa" (reverse_name) the name of the address's PTR records.
std::string reverse_labels(const IpAddress& address);
std::string reverse_name(const IpAddress& address);

// A definite answer (ok, nxdomain, nodata) as text for a cache shared by
// the fleet (dns.fleet_cache), good until `expires` (seconds since the
// epoch): "r1 EXPIRES STATUS COUNT" and for each record " TYPE LEN:DATA".
std::string encode_answer(const Answer& a, std::int64_t expires);
// The answer to a question of `type` that `text` holds, its TTL the
// seconds left at `now`; nullopt when it is not what encode_answer() wrote
// for that type (it came from Redis: nothing in it is trusted), is not
// definite, or has expired.
std::optional<Answer> decode_answer(std::string_view text, Type type, std::int64_t now);

} // namespace rampart::dns
