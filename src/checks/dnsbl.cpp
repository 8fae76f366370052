// NAME
//   dnsbl.cpp - the client's address in DNS block and allow lists
// SUMMARY
//   At connect, the client's reversed address is looked up in front of
//   every zone of dnsbl.zones (dns/blocklist.hpp for the syntax), all at
//   once, without the MTA waiting. A list whose answer matches its filter
//   and mask adds its symbol with its weight; the weights of all lists hit
//   add up to the client's DNS list score:
//     - at or above dnsbl.reject_score (when not 0) the client is refused
//       at MAIL FROM with reply.dnsbl (the session waits there for the
//       answers, within dns.budget_ms), as Postfix's postscreen does;
//     - at or below minus dnsbl.allow_score (when not 0) the client is
//       "DNS allow-listed": the zombie and HELO checks skip it.
//   Otherwise the symbols count towards every message of the connection.
//   A list that cannot be asked (timeout, SERVFAIL) adds
//   RAMPART_DNSBL_TEMPERROR and, with dns.on_temperror = tempfail, every
//   MAIL FROM of the connection is tempfailed with reply.dns_failure. A
//   list that answers 127.255.255.x refuses the query (a public resolver, a
//   key over its limit): logged as a warning, never a hit.
//   Allow-listed clients (lists.*) and connections without an address are
//   not looked up.
// PHASES
//   connect (ask), answers concluded at the first later step that finds
//   them in; MAIL FROM waits for them when dnsbl.reject_score is set or
//   dns.on_temperror is tempfail; end of message waits for them otherwise.
// DNS
//   A records of REVERSED-ADDRESS.ZONE, one per zone, cached per dns.*.
// SYMBOLS
//   RAMPART_RBL_NAME (the list's weight), RAMPART_RWL_NAME (its negative
//   weight), RAMPART_DNSBL_TEMPERROR (0; detail: the lists that failed)
// SETTINGS
//   dnsbl.enabled, dnsbl.zones, dnsbl.reject_score, dnsbl.allow_score,
//   dns.on_temperror, reply.dnsbl, reply.dns_failure
#include "checks/check.hpp"
#include "config/config.hpp"
#include "engine/runtime.hpp"
#include "util/log.hpp"

#include <fmt/format.h>

namespace rampart {
namespace {

class DnsblCheck final : public Check {
  public:
    std::string_view name() const override { return "dnsbl"; }
    bool runs_in(Phase p, const Config& cfg) const override
    {
        return p == Phase::connect && cfg.dnsbl_enabled && !cfg.dnsbl_zones.empty();
    }
    bool answers_in(Phase p, const Runtime& rt) const override
    {
        const Config& cfg = *rt.config;
        return p == Phase::mail && runs_in(Phase::connect, cfg) &&
               (cfg.dnsbl_reject_score > 0 || cfg.dns_on_failure == FailurePolicy::tempfail);
    }
    bool uses_dns(Phase p, const Config& cfg) const override { return runs_in(p, cfg); }
    void decide(Phase, Context&, std::span<const Reply>) const override {}

    void ask(Phase, Context& ctx, std::vector<dns::Question>& questions) const override
    {
        if (!ctx.client.ip || ctx.client.allowed)
            return;
        const std::string reversed = dns::reverse_labels(*ctx.client.ip);
        for (const auto& bl : ctx.rt.blocklists)
            questions.push_back({reversed + "." + bl.zone, dns::Type::a});
    }

    void conclude(Phase, Context& ctx, int, std::span<const dns::Answer> answers,
                  std::vector<dns::Question>&) const override
    {
        const Config& cfg = ctx.cfg;
        Client& client = ctx.client;
        double sum = 0;
        std::string failed;
        for (std::size_t i = 0; i < answers.size() && i < ctx.rt.blocklists.size(); ++i) {
            const auto& bl = ctx.rt.blocklists[i];
            const auto& a = answers[i];
            if (a.temporary()) {
                failed += fmt::format("{}{}:{}", failed.empty() ? "" : ",", bl.zone, dns::to_string(a.status));
                continue;
            }
            for (const auto& r : a.records) {
                const auto hit = bl.match(r.data);
                if (hit == dns::BlockList::Hit::refused) {
                    log::warning("dnsbl: {} refused the query for {} with {}: see the list's terms of use", bl.zone,
                                 client.ip->to_string(), r.data);
                    break;
                }
                if (hit == dns::BlockList::Hit::yes) {
                    client.card.add(bl.symbol, bl.weight, fmt::format("{}={}", bl.zone, r.data));
                    sum += bl.weight;
                    break;
                }
            }
        }
        if (!failed.empty()) {
            client.card.add("RAMPART_DNSBL_TEMPERROR", 0, failed);
            if (cfg.dns_on_failure == FailurePolicy::tempfail && !client.pending_answer.settles())
                client.pending_answer = Answer::tempfail(cfg.reply_dns_failure);
        }
        if (cfg.dnsbl_reject_score > 0 && sum >= cfg.dnsbl_reject_score && !client.answer.settles())
            client.answer = Answer::reject(cfg.reply_dnsbl);
        if (cfg.dnsbl_allow_score > 0 && sum <= -cfg.dnsbl_allow_score)
            client.dns_allowed = true;
    }
};

} // namespace

const Check& dnsbl_check()
{
    static const DnsblCheck c;
    return c;
}

} // namespace rampart
