// NAME
//   blocklist.hpp - one DNS block or allow list as the admin writes it
// DESCRIPTION
//   The syntax is Postfix's postscreen_dnsbl_sites, which mail admins know,
//   with a name and a mask added:
//
//       [NAME:]ZONE[=FILTER][&MASK][*WEIGHT]
//
//   ZONE is queried as the client's reversed address in front of it
//   (2.0.0.127.ZONE); a key some lists want in the query (Spamhaus DQS)
//   is simply part of ZONE. FILTER is an IPv4 address whose octets may
//   each be a number, a range [N..M] or a set [N;M;...]: an answer counts
//   only if it matches. MASK (a number, decimal or 0x hex) counts an
//   answer only if it has one of the mask's bits set (lists that encode
//   several sub-lists in one answer). WEIGHT (default 1; negative for an
//   allow list) is the score of a hit. NAME gives the symbol its name
//   (RAMPART_RBL_NAME, or RAMPART_RWL_NAME for a negative weight); without
//   it the zone's name is used, upper case, dots and dashes as "_".
//
//   Whatever the filter, an answer outside 127.0.0.0/8 never counts (a
//   resolver that rewrites NXDOMAIN), and one in 127.255.255.0/24 is the
//   list refusing the query (Spamhaus' codes for a public resolver or an
//   over-used key): it is logged, never a hit.
#pragma once

#include "util/error.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::dns {

struct BlockList {
    std::string zone;
    std::string symbol;
    double weight = 1;
    bool has_filter = false;
    std::array<std::vector<std::uint8_t>, 4> filter; // per octet: the values that match
    std::uint32_t mask = 0;                          // 0: no mask

    // How an A record of an answer counts.
    enum class Hit { no, yes, refused };
    Hit match(std::string_view a_record) const;
};

Result<BlockList> parse_blocklist(std::string_view spec);

} // namespace rampart::dns
