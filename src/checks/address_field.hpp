// NAME
//   address_field.hpp - what the header heuristics share: mailboxes of an
//   address field, domains in names, whether every field was kept
// SYNOPSIS
//   AddressField f = parse_address_field("\"Doe, J.\" <j@Example.COM>, k@example.org");
//   f.mailboxes[0].display_name == "Doe, J."; f.mailboxes[0].domain == "example.com"
// DESCRIPTION
//   parse_address_field() reads From, Reply-To and the like the way RFC 5322
//   writes them, obsolete forms included: address lists of name-addr
//   ("Name <a@b>") and bare addr-spec, groups ("team: a@x, b@y;"), quoted
//   strings with quoted pairs, nested comments, routes ("<@relay:a@b>") and
//   white space around dots and "@". Comments are dropped, except that the
//   last comment of a bare addr-spec is its display name, as old clients
//   wrote "jdoe@example.com (John Doe)".
//
//   It never gives up: input that breaks the grammar clears `valid` and
//   names the first fault in `error`, and what can still be read is kept,
//   so that a spoofed display name is found even in a broken field (an
//   unquoted "support@bank.example <x@evil.example>" is such a field).
// LIMITS
//   The first kMaxAddressFieldBytes of a value are read (a longer value is
//   not valid); at most kMaxMailboxes mailboxes are kept; comments nest at
//   most kMaxCommentDepth deep.
#pragma once

#include "engine/facts.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace rampart {

inline constexpr std::size_t kMaxAddressFieldBytes = 8 * 1024;
inline constexpr std::size_t kMaxMailboxes = 64;
inline constexpr std::size_t kMaxCommentDepth = 16;

struct Mailbox {
    std::string display_name; // quoted strings unquoted, comments dropped, RFC 2047 words still encoded
    std::string local;        // the local part, a quoted one unquoted
    std::string domain;       // lower case (ASCII); "" when the mailbox has no readable address
};

struct AddressField {
    std::vector<Mailbox> mailboxes;
    bool valid = true;
    std::string error; // the first fault found, "" when valid
};

AddressField parse_address_field(std::string_view value);

// True for a word written as a domain name a reader recognises: two or more
// labels of letters, digits and '-', the last a common top-level domain
// ("News.com", "paypal.co.uk"; not "J.R.R", "v1.2" or "St.Louis").
bool looks_like_domain(std::string_view word);

// The registered domain (mime/urls.hpp) of an address's domain, read as a
// browser reads a host (IDN labels to their xn-- form), lower case.
std::string registered_domain_of(std::string_view domain);

// True when every header field of the message was kept in tx.headers (past
// kMaxKeptHeaderBytes the session drops them): only then is a field that is
// not there really missing.
inline bool kept_all_headers(const Transaction& tx) { return tx.headers.size() >= tx.header_count; }

} // namespace rampart
