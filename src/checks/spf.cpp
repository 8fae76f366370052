// NAME
//   spf.cpp - SPF of the MAIL FROM domain (RFC 7208)
// SUMMARY
//   At MAIL FROM the client's address is checked against the SPF record
//   of the sender's domain, or, for the null sender (bounces), of its HELO
//   name (auth/spf.hpp). The lookups go through the shared resolver and
//   its cache, within what is left of the message's dns.budget_ms; the MTA
//   waits for them there, as SPF's include chains must be walked in turn.
//   The result scores at end of message and goes into the
//   Authentication-Results field rampart adds (RFC 8601):
//     spf=RESULT smtp.mailfrom=DOMAIN   (or smtp.helo=NAME for bounces)
//   With spf.reject_fail, a fail refuses every recipient at RCPT TO with
//   reply.spf_fail and the domain's explanation (RFC 7208 section 8.4).
//   A temperror never refuses, unless dns.on_temperror = tempfail.
//   Authenticated senders, allow-listed clients and clients of
//   network.internal (relays of one's own, which forward others' mail)
//   are not checked.
// PHASES
//   mail (evaluation), rcpt (refusal of a fail), eom (symbol, header).
// DNS
//   TXT of the domain, then what its record's mechanisms ask (A, AAAA,
//   MX, PTR, TXT of includes and redirects), at most RFC 7208's limits.
// SYMBOLS
//   RAMPART_SPF_PASS (-0.2), RAMPART_SPF_FAIL (2.0), RAMPART_SPF_SOFTFAIL
//   (0.7), RAMPART_SPF_NEUTRAL (0), RAMPART_SPF_NONE (0),
//   RAMPART_SPF_TEMPERROR (0), RAMPART_SPF_PERMERROR (0.3)
// SETTINGS
//   spf.enabled, spf.reject_fail, reply.spf_fail, auth.authserv_id,
//   dns.budget_ms, dns.on_temperror
#include "auth/spf.hpp"
#include "checks/check.hpp"
#include "config/config.hpp"
#include "engine/runtime.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace rampart {
namespace {

struct SymbolOf {
    auth::SpfResult result;
    const char* name;
    double score;
};

constexpr SymbolOf kSymbols[] = {
    {auth::SpfResult::pass, "RAMPART_SPF_PASS", -0.2},
    {auth::SpfResult::fail, "RAMPART_SPF_FAIL", 2.0},
    {auth::SpfResult::softfail, "RAMPART_SPF_SOFTFAIL", 0.7},
    {auth::SpfResult::neutral, "RAMPART_SPF_NEUTRAL", 0},
    {auth::SpfResult::none, "RAMPART_SPF_NONE", 0},
    {auth::SpfResult::temperror, "RAMPART_SPF_TEMPERROR", 0},
    {auth::SpfResult::permerror, "RAMPART_SPF_PERMERROR", 0.3},
};

class SpfCheck final : public Check {
  public:
    std::string_view name() const override { return "spf"; }
    bool runs_in(Phase p, const Config& cfg) const override
    {
        return cfg.spf_enabled && (p == Phase::mail || p == Phase::rcpt || p == Phase::eom);
    }
    bool answers_in(Phase p, const Runtime& rt) const override
    {
        const Config& cfg = *rt.config;
        return runs_in(p, cfg) && ((p == Phase::rcpt && cfg.spf_reject_fail) ||
                                   (p == Phase::mail && cfg.dns_on_failure == FailurePolicy::tempfail));
    }

    void decide(Phase p, Context& ctx, std::span<const Reply>) const override
    {
        Transaction& tx = ctx.tx;
        const Config& cfg = ctx.cfg;
        if (p == Phase::mail) {
            if (tx.answer.settles() || ctx.client.answer.settles())
                return; // refused already: no lookup is worth its time, and a 4xx must not replace a 5xx
            evaluate(ctx);
            if (tx.spf && tx.spf->result == auth::SpfResult::temperror && cfg.dns_on_failure == FailurePolicy::tempfail)
                tx.answer = Answer::tempfail(cfg.reply_dns_failure);
            return;
        }
        if (!tx.spf)
            return;
        if (p == Phase::rcpt) {
            if (cfg.spf_reject_fail && tx.spf->result == auth::SpfResult::fail) {
                // '%' would be a format character to libmilter.
                std::string why = tx.spf->explanation;
                std::erase(why, '%');
                tx.answer = Answer::reject(why.empty() ? cfg.reply_spf_fail : cfg.reply_spf_fail + ": " + why);
                add_symbol(ctx); // for the refusal's log line
            }
            return;
        }
        add_symbol(ctx);
        tx.auth_results.push_back(fmt::format("spf={} smtp.{}={}", auth::to_string(tx.spf->result),
                                              tx.spf->helo_identity ? "helo" : "mailfrom", tx.spf->domain));
    }

  private:
    static void evaluate(Context& ctx)
    {
        const Client& client = ctx.client;
        Transaction& tx = ctx.tx;
        if (!ctx.rt.resolver || !client.ip || client.allowed || !tx.auth_user.empty() || ctx.rt.is_internal(*client.ip))
            return;
        const DnsBudgetWait budget(ctx.cfg.dns_budget_ms, tx);
        tx.spf = auth::evaluate_spf(*ctx.rt.resolver, budget.deadline(), *client.ip, client.helo, tx.sender);
    }

    static void add_symbol(Context& ctx)
    {
        const auto& spf = *ctx.tx.spf;
        const auto it = std::find_if(std::begin(kSymbols), std::end(kSymbols),
                                     [&](const SymbolOf& s) { return s.result == spf.result; });
        ctx.tx.card.add(it->name, it->score, spf.domain);
    }
};

} // namespace

const Check& spf_check()
{
    static const SpfCheck c;
    return c;
}

} // namespace rampart
