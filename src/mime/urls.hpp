// NAME
//   urls.hpp - URLs in text and links, with hosts as a browser reads them
// DESCRIPTION
//   Spammers write hosts so that a filter does not recognise them and a
//   browser still goes there. normalize_host() reads a host the way a
//   browser does: lower case, %-escapes decoded, trailing dot dropped,
//   user-info ("paypal.com@evil.example") and port stripped, backslashes
//   read as slashes, IDN labels to their xn-- (punycode) form, and IPv4
//   written in decimal ("3232235777"), octal ("0300.0250.0.1"), hex
//   ("0xC0A80001") or with fewer dots read to a dotted quad. Each hiding
//   form sets `obfuscated`.
// LIMITS
//   A URL longer than kMaxUrlBytes is cut there; a host longer than 253
//   bytes is not a host.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::mime {

inline constexpr std::size_t kMaxUrlBytes = 2048;

struct Url {
    std::string text;        // as written, at most kMaxUrlBytes
    std::string host;        // normalised
    bool ip = false;         // the host is an IPv4 or IPv6 address
    bool obfuscated = false; // written in a hiding form (see above)
};

// Reads one URL ("http://...", "https://...", "//host/...", "www.host...");
// nullopt when it has no host. Schemes other than http, https and ftp
// (mailto:, javascript:, cid:, ...) give nullopt.
std::optional<Url> parse_url(std::string_view s);

// Appends to `out` the URLs found in plain text: scheme URLs and bare
// "www." hosts, until `out` holds `max`.
void find_urls(std::string_view text, std::vector<Url>& out, std::size_t max);

// The registered domain of a normalised host: its last two labels, or
// three under a short second level ("example.co.uk"); an IP is itself.
std::string_view registered_domain(std::string_view host);

// A host as a browser reads it; "" when `raw` is no host.
std::string normalize_host(std::string_view raw, bool& obfuscated, bool& ip);

} // namespace rampart::mime
