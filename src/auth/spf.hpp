// NAME
//   spf.hpp - Sender Policy Framework (RFC 7208) with libspf2 over rampart's resolver
// DESCRIPTION
//   evaluate_spf() asks whether `ip` may send mail for the MAIL FROM
//   domain (or, for the null sender, for the HELO name, as postmaster@HELO
//   per RFC 7208 section 2.4). libspf2 parses the record and walks its
//   mechanisms; every DNS question it asks goes to dns::Resolver, so that
//   the answers are cached with the other checks' and each waits no longer
//   than `deadline`. A question not answered by then is a temporary error,
//   and the result temperror (RFC 7208 section 2.6.6). RFC 7208's limits
//   (10 DNS mechanisms, 10 MX and 10 PTR names) are libspf2's defaults.
// SECURITY
//   The record and its explanation come from the sender's DNS: the
//   explanation is made printable and cut to kMaxExplanation before it is
//   used in a reply or a log line.
#pragma once

#include "dns/resolver.hpp"
#include "net/address.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace rampart::auth {

enum class SpfResult { none, neutral, pass, fail, softfail, temperror, permerror };

inline constexpr std::size_t kMaxExplanation = 200;

struct Spf {
    SpfResult result = SpfResult::none;
    bool helo_identity = false; // the null sender: the HELO name was checked
    std::string domain;         // the domain checked
    std::string explanation;    // for fail: the domain's exp= text, or ours; printable
};

std::string_view to_string(SpfResult r);

Spf evaluate_spf(dns::Resolver& resolver, std::chrono::steady_clock::time_point deadline, const IpAddress& ip,
                 std::string_view helo, std::string_view sender);

} // namespace rampart::auth
