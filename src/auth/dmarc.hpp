// NAME
//   dmarc.hpp - DMARC (RFC 7489) with libopendmarc over rampart's resolver
// DESCRIPTION
//   evaluate_dmarc() looks up the DMARC record of the From domain
//   (_dmarc.DOMAIN, TXT), or, where it has none, of its organizational
//   domain, through dns::Resolver within the deadline, and hands it with
//   the SPF and DKIM results to libopendmarc, which decides alignment
//   (relaxed or strict, as the record says) against the public suffix
//   list and which policy applies. The record's pct= samples: a message
//   outside the sample gets the next policy down (reject -> quarantine ->
//   none), as RFC 7489 section 6.6.4 says.
//
//   A DmarcLibrary loads the public suffix list into libopendmarc, which
//   keeps it for the life of the process; a second one (a reload naming
//   another list) loads that one in its place.
#pragma once

#include "auth/dkim.hpp"
#include "auth/spf.hpp"
#include "dns/resolver.hpp"
#include "net/address.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::auth {

enum class DmarcResult { none, pass, fail, temperror, permerror };
enum class DmarcPolicy { none, quarantine, reject };
std::string_view to_string(DmarcResult r);
std::string_view to_string(DmarcPolicy p);

struct Dmarc {
    DmarcResult result = DmarcResult::none;
    DmarcPolicy policy = DmarcPolicy::none; // what the domain asks for a failure (after sampling)
    bool sampled_out = false;               // pct= took the policy one step down
    std::string domain;                     // the From domain
};

class DmarcLibrary {
  public:
    // Throws std::runtime_error when the list cannot be read.
    explicit DmarcLibrary(const std::string& public_suffix_list);
    ~DmarcLibrary();
    DmarcLibrary(const DmarcLibrary&) = delete;
    DmarcLibrary& operator=(const DmarcLibrary&) = delete;
    const std::string& list() const { return d_list; }

  private:
    std::string d_list;
};

// `from_domain` is the domain of the message's one From address.
// `draw` (0..99) decides pct= sampling: the policy applies when draw < pct.
Dmarc evaluate_dmarc(const DmarcLibrary& lib, dns::Resolver& resolver, std::chrono::steady_clock::time_point deadline,
                     const IpAddress& ip, std::string_view from_domain, const std::optional<Spf>& spf,
                     const std::vector<DkimSignature>& dkim, int draw);

} // namespace rampart::auth
