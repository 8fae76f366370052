// NAME
//   uribl.cpp - the hosts of the message's URLs in DNS block lists
// SUMMARY
//   At end of message, once the body is parsed, the registered domain of
//   each host the message's URLs point at (and each IPv4 address host,
//   reversed) is looked up in front of every zone of dnsbl.url_zones, all
//   at once: at most dnsbl.url_max_lookups distinct hosts, in order of
//   appearance. The zones take dnsbl.zones' syntax (dns/blocklist.hpp); a
//   hit adds RAMPART_URIBL_NAME with the list's weight (RAMPART_URIWL_NAME
//   for a negative one), once per list, its detail the first listed host.
//   A list that cannot be asked adds RAMPART_URIBL_TEMPERROR (0).
//   Allow-listed clients are not looked up.
// PHASES
//   eom (content.enabled must be on: the URLs come from its parse).
// DNS
//   A records of DOMAIN.ZONE (REVERSED-IPV4.ZONE) per host and zone.
// SYMBOLS
//   RAMPART_URIBL_NAME, RAMPART_URIWL_NAME (the list's weight),
//   RAMPART_URIBL_TEMPERROR (0)
// SETTINGS
//   dnsbl.enabled, dnsbl.url_zones, dnsbl.url_max_lookups, content.enabled
#include "checks/check.hpp"
#include "config/config.hpp"
#include "engine/runtime.hpp"
#include "mime/content.hpp"
#include "util/log.hpp"
#include "util/text.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace rampart {
namespace {

// What each host is asked as: "evil.example" or "4.3.2.1" (an IPv4 host).
std::vector<std::string> hosts_of(const Context& ctx)
{
    std::vector<std::string> out;
    const mime::Content* content = content_of(ctx.tx);
    if (!content)
        return out;
    const auto max = static_cast<std::size_t>(ctx.cfg.dnsbl_url_max_lookups);
    for (const auto& u : content->urls) {
        if (out.size() >= max)
            break;
        std::string name;
        if (u.ip) {
            const auto ip = IpAddress::parse(u.host);
            if (!ip || !ip->is_v4())
                continue;
            name = dns::reverse_labels(*ip);
        } else {
            name = lowercase(mime::registered_domain(u.host));
        }
        if (!name.empty() && std::find(out.begin(), out.end(), name) == out.end())
            out.push_back(std::move(name));
    }
    return out;
}

class UriblCheck final : public Check {
  public:
    std::string_view name() const override { return "uribl"; }
    bool runs_in(Phase p, const Config& cfg) const override
    {
        return p == Phase::eom && cfg.dnsbl_enabled && !cfg.dnsbl_url_zones.empty() && cfg.content_enabled;
    }
    bool answers_in(Phase, const Runtime&) const override { return false; }
    bool uses_dns(Phase p, const Config& cfg) const override { return runs_in(p, cfg); }
    void decide(Phase, Context&, std::span<const Reply>) const override {}

    void ask(Phase, Context& ctx, std::vector<dns::Question>& questions) const override
    {
        if (ctx.client.allowed)
            return;
        for (const auto& host : hosts_of(ctx))
            for (const auto& bl : ctx.rt.url_blocklists)
                questions.push_back({host + "." + bl.zone, dns::Type::a});
    }

    void conclude(Phase, Context& ctx, int, std::span<const dns::Answer> answers,
                  std::vector<dns::Question>&) const override
    {
        const auto hosts = hosts_of(ctx);
        const auto& lists = ctx.rt.url_blocklists;
        std::string failed;
        for (std::size_t h = 0; h < hosts.size(); ++h)
            for (std::size_t z = 0; z < lists.size(); ++z) {
                const std::size_t i = h * lists.size() + z;
                if (i >= answers.size())
                    return;
                const auto& a = answers[i];
                const auto& bl = lists[z];
                if (a.temporary()) {
                    if (failed.find(bl.zone) == std::string::npos)
                        failed += (failed.empty() ? "" : ",") + bl.zone + ":" + std::string(dns::to_string(a.status));
                    continue;
                }
                for (const auto& r : a.records) {
                    const auto hit = bl.match(r.data);
                    if (hit == dns::BlockList::Hit::refused) {
                        log::warning("uribl: {} refused the query for {} with {}: see the list's terms of use", bl.zone,
                                     printable(hosts[h]), printable(r.data));
                        break;
                    }
                    if (hit == dns::BlockList::Hit::yes) {
                        ctx.tx.card.add(bl.symbol, bl.weight, fmt::format("{}={}", printable(hosts[h]), r.data));
                        break;
                    }
                }
            }
        if (!failed.empty())
            ctx.tx.card.add("RAMPART_URIBL_TEMPERROR", 0, failed);
    }
};

} // namespace

const Check& uribl_check()
{
    static const UriblCheck c;
    return c;
}

} // namespace rampart
