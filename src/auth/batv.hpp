// NAME
//   batv.hpp - Bounce Address Tag Validation: prvs= tags on envelope senders
// DESCRIPTION
//   A bounce goes to the envelope sender of the message it is about. A
//   sender whose outgoing mail carries a tag only its own servers can make
//   knows that a bounce to an untagged address is not about its mail:
//   backscatter from spam sent in its name. The tag follows
//   draft-levine-smtp-batv-01 ("prvs", simple private signature):
//
//     prvs=KDDDSSSSSS=LOCAL@DOMAIN
//
//   K is the key number (0 to 9), DDD the day the tag expires (days since
//   1970-01-01 UTC, modulo 1000) and SSSSSS the first three bytes, in
//   lower-case hex, of HMAC-SHA1 keyed with key K's secret over the ASCII
//   text "KDDD" followed by the original address LOCAL@DOMAIN in lower
//   case. The whole address is lower-cased, not only the domain: some
//   MTAs change the case of the local part of a bounce's recipient, and
//   mail systems treat local parts without regard to case in practice.
//   The hex digits of a tag are read in either case.
//
//   A tag is valid when its key number is in the key ring, its signature
//   matches, and its day is today or at most valid_days ahead (compared
//   modulo 1000, so that the wrap from 999 to 000 is no surprise; valid_days
//   must stay below 500 for that).
//
//   The key ring comes from a file of lines "K SECRET": the first line's
//   key signs, every key in the file verifies, so that a new key can be
//   added before it signs and an old one kept until its tags expire.
//   Lines starting with '#' and empty lines are comments.
// SECURITY
//   Addresses come from the SMTP client: a tag is read only in its exact
//   form, at most kMaxAddressBytes long, and anything else is "not
//   tagged" or "malformed", never an error. Signatures are compared in
//   constant time. Secrets are never logged; a key file error names the
//   line, not its text.
// LIMITS
//   kMinSecretBytes to kMaxSecretBytes per secret, at most 10 keys (one per
//   number), a key file of at most kMaxKeyFileBytes.
#pragma once

#include "util/error.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::batv {

inline constexpr std::size_t kMinSecretBytes = 16;
inline constexpr std::size_t kMaxSecretBytes = 1024;
inline constexpr std::size_t kMaxKeyFileBytes = 64 * 1024;
// Longest address tagged or read as tagged: RFC 5321's path limit.
inline constexpr std::size_t kMaxAddressBytes = 256;
inline constexpr std::size_t kTagBytes = 16; // "prvs=KDDDSSSSSS="

struct Key {
    int number = 0;
    std::string secret;
};

// Keys by number; the first one read signs.
class KeyRing {
  public:
    // From the text of a key file; `name` is used in the error messages.
    static Result<KeyRing> parse(std::string_view text, std::string_view name);
    static Result<KeyRing> load(const std::string& path);

    const Key& signing() const { return d_keys.front(); }
    const Key* find(int number) const;
    std::size_t size() const { return d_keys.size(); }

  private:
    std::vector<Key> d_keys; // never empty once parsed
};

// Days since 1970-01-01 UTC of a Unix time.
constexpr std::int64_t day_of(std::int64_t unix_seconds)
{
    return unix_seconds >= 0 ? unix_seconds / 86400 : -((-unix_seconds + 86399) / 86400);
}

// True when the local part starts with "prvs=" (any case): the address
// claims a tag, valid or not.
bool looks_tagged(std::string_view address);

// The tagged form of `address`, signed with the ring's signing key, valid
// through day `today + valid_days`; nullopt when the address cannot carry
// a tag (no '@', an empty or quoted local part, already tagged, or longer
// than kMaxAddressBytes once tagged).
std::optional<std::string> sign(const KeyRing& ring, std::string_view address, std::int64_t today, int valid_days);

enum class Status { valid, untagged, malformed, unknown_key, bad_signature, expired };
const char* to_string(Status s);

struct Verified {
    Status status = Status::untagged;
    std::string address; // the original address when the tag is well formed, else the address as given
};

// Reads and checks the tag of `address` on day `today`.
Verified verify(const KeyRing& ring, std::string_view address, std::int64_t today, int valid_days);

} // namespace rampart::batv
