// NAME
//   dnsbl.cpp - the client's address in DNS block and allow lists
// SUMMARY
//   At connect, the client's reversed address is looked up in front of
//   every zone of dnsbl.zones (dns/blocklist.hpp for the syntax), all at
//   once, without the MTA waiting. A list whose answer matches its filter
//   and mask is a hit with its weight; the weights of all hits add up to
//   the client's DNS list score:
//     - at or above dnsbl.reject_score (when not 0) every MAIL FROM of the
//       connection is refused with reply.dnsbl (MAIL FROM waits for the
//       answers, within dns.budget_ms), as Postfix's postscreen does;
//     - at or below minus dnsbl.allow_score (when not 0) the client is
//       vouched for: the zombie and HELO checks do not judge it.
//   Otherwise each hit's symbol, with its weight, counts towards every
//   message of the connection. A list that cannot be asked (timeout,
//   SERVFAIL) adds RAMPART_DNSBL_TEMPERROR and, with dns.on_temperror =
//   tempfail, MAIL FROM is tempfailed with reply.dns_failure. A list that
//   answers 127.255.255.x refuses the query (a public resolver, a key over
//   its limit): logged as a warning, never a hit.
//   Allow-listed clients (lists.*) and connections without an address are
//   not looked up; mail of authenticated senders (the MTA's SASL login) is
//   not judged by the lists.
// PHASES
//   connect (the lookups), mail (refusal), eom (symbols).
// DNS
//   A records of REVERSED-ADDRESS.ZONE, one per zone, cached per dns.*.
// SYMBOLS
//   RAMPART_RBL_NAME (the list's weight), RAMPART_RWL_NAME (its negative
//   weight), RAMPART_DNSBL_TEMPERROR (0; detail: the lists that failed)
// SETTINGS
//   dnsbl.enabled, dnsbl.zones, dnsbl.reject_score, dnsbl.allow_score,
//   dns.on_temperror, reply.dnsbl, reply.dns_failure
// LOG
//   warning: "dnsbl: ZONE refused the query for IP with ANSWER: see the
//   list's terms of use"
#include "checks/check.hpp"
#include "config/config.hpp"
#include "engine/runtime.hpp"
#include "util/log.hpp"
#include "util/text.hpp"

#include <fmt/format.h>

namespace rampart {
namespace {

class DnsblCheck final : public Check {
  public:
    std::string_view name() const override { return "dnsbl"; }
    bool runs_in(Phase p, const Config& cfg) const override
    {
        return (p == Phase::connect || p == Phase::mail || p == Phase::eom) && cfg.dnsbl_enabled &&
               !cfg.dnsbl_zones.empty();
    }
    // MAIL FROM waits for the lists where it may refuse, or where the zombie
    // and HELO checks need to know whether the allow lists vouch.
    bool answers_in(Phase p, const Runtime& rt) const override
    {
        const Config& cfg = *rt.config;
        return p == Phase::mail && runs_in(p, cfg) &&
               (cfg.dnsbl_reject_score > 0 || cfg.dnsbl_allow_score > 0 ||
                cfg.dns_on_failure == FailurePolicy::tempfail);
    }
    bool uses_dns(Phase p, const Config& cfg) const override { return p == Phase::connect && runs_in(p, cfg); }

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
        ClientDns& facts = ctx.client.dns;
        for (std::size_t i = 0; i < answers.size() && i < ctx.rt.blocklists.size(); ++i) {
            const auto& bl = ctx.rt.blocklists[i];
            const auto& a = answers[i];
            if (a.temporary()) {
                facts.list_failures +=
                    fmt::format("{}{}:{}", facts.list_failures.empty() ? "" : ",", bl.zone, dns::to_string(a.status));
                continue;
            }
            for (const auto& r : a.records) {
                const auto hit = bl.match(r.data);
                if (hit == dns::BlockList::Hit::refused) {
                    log::warning("dnsbl: {} refused the query for {} with {}: see the list's terms of use", bl.zone,
                                 ctx.client.ip->to_string(), printable(r.data));
                    break;
                }
                if (hit == dns::BlockList::Hit::yes) {
                    facts.list_symbols.push_back({bl.symbol, bl.weight, fmt::format("{}={}", bl.zone, r.data)});
                    facts.list_score += bl.weight;
                    break;
                }
            }
        }
        const Config& cfg = ctx.cfg;
        if (cfg.dnsbl_allow_score > 0 && facts.list_score <= -cfg.dnsbl_allow_score)
            ctx.client.dns_allowed = true;
    }

    void decide(Phase p, Context& ctx, std::span<const Reply>) const override
    {
        const Config& cfg = ctx.cfg;
        const ClientDns& facts = ctx.client.dns;
        if (!ctx.tx.auth_user.empty() || ctx.client.allowed)
            return;
        if (p == Phase::mail) {
            if (cfg.dnsbl_reject_score > 0 && facts.list_score >= cfg.dnsbl_reject_score)
                ctx.tx.answer = Answer::reject(cfg.reply_dnsbl);
            else if (!facts.list_failures.empty() && cfg.dns_on_failure == FailurePolicy::tempfail &&
                     !ctx.tx.answer.settles())
                ctx.tx.answer = Answer::tempfail(cfg.reply_dns_failure);
            if (ctx.tx.answer.settles())
                add_symbols(ctx); // for the refusal's log line
        } else if (p == Phase::eom) {
            if (!facts.list_failures.empty() && cfg.dns_on_failure == FailurePolicy::tempfail &&
                !ctx.tx.answer.settles())
                ctx.tx.answer = Answer::tempfail(cfg.reply_dns_failure);
            add_symbols(ctx);
        }
    }

  private:
    static void add_symbols(Context& ctx)
    {
        const ClientDns& facts = ctx.client.dns;
        for (const auto& s : facts.list_symbols)
            ctx.tx.card.add(s.name, s.score, s.detail);
        if (!facts.list_failures.empty())
            ctx.tx.card.add("RAMPART_DNSBL_TEMPERROR", 0, facts.list_failures);
    }
};

} // namespace

const Check& dnsbl_check()
{
    static const DnsblCheck c;
    return c;
}

} // namespace rampart
