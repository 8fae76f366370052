// NAME
//   dmarc.cpp - DMARC of the From domain (RFC 7489)
// SUMMARY
//   At end of message, once SPF and DKIM have their results, the From
//   domain's DMARC record is looked up and judged (auth/dmarc.hpp): pass
//   when SPF or a DKIM signature passes for an aligned domain, fail
//   otherwise, with the policy the domain asks for (after pct=). The
//   result goes into Authentication-Results as
//     dmarc=RESULT (p=POLICY) header.from=DOMAIN
//   A fail under p=reject refuses the message at end of DATA with
//   reply.dmarc_reject when dmarc.reject is on, else it is at least spam;
//   under p=quarantine it is at least spam; under p=none it only scores.
//   A message with several From addresses, or one that does not parse,
//   cannot be judged: dmarc=permerror; one without a From field is not
//   judged at all. Authenticated senders, allow-listed clients and
//   clients of network.internal are not judged.
// PHASES
//   body (its first chunk: the records are asked for, so that the answers
//   come while the body does), eom (after the SPF and DKIM checks, whose
//   results it reads).
// DNS
//   TXT of _dmarc.DOMAIN, and of _dmarc.ORGANIZATIONAL-DOMAIN when the
//   first has no record.
// SYMBOLS
//   RAMPART_DMARC_PASS (-0.5), RAMPART_DMARC_REJECT (4.0, at least spam),
//   RAMPART_DMARC_QUARANTINE (3.0, at least spam), RAMPART_DMARC_FAIL (1.0,
//   under p=none), RAMPART_DMARC_TEMPERROR (0), RAMPART_DMARC_PERMERROR (0)
// SETTINGS
//   dmarc.enabled, dmarc.reject, dmarc.public_suffix_list,
//   reply.dmarc_reject, dns.budget_ms
#include "auth/dmarc.hpp"
#include "checks/address_field.hpp"
#include "checks/check.hpp"
#include "config/config.hpp"
#include "engine/runtime.hpp"
#include "mime/urls.hpp"

#include <fmt/format.h>

#include <random>

namespace rampart {
namespace {

constexpr double kPassScore = -0.5, kRejectScore = 4.0, kQuarantineScore = 3.0, kFailScore = 1.0;

int draw()
{
    thread_local std::mt19937 rng{std::random_device{}()};
    return std::uniform_int_distribution<int>(0, 99)(rng);
}

class DmarcCheck final : public Check {
  public:
    std::string_view name() const override { return "dmarc"; }
    bool runs_in(Phase p, const Config& cfg) const override
    {
        return cfg.dmarc_enabled && (p == Phase::body || p == Phase::eom);
    }
    bool answers_in(Phase, const Runtime&) const override { return false; }

    void decide(Phase p, Context& ctx, std::span<const Reply>) const override
    {
        Transaction& tx = ctx.tx;
        const Client& client = ctx.client;
        if (!ctx.rt.dmarc || !ctx.rt.resolver || !client.ip || !tx.auth_user.empty() || client.allowed ||
            ctx.rt.is_internal(*client.ip))
            return;
        if (p == Phase::body) { // the header is in: ask for the records now, read them at the end
            if (!tx.dmarc_prefetched) {
                tx.dmarc_prefetched = true;
                if (const auto domain = from_domain_of(tx); !domain.empty()) {
                    tx.prefetched.push_back(ctx.rt.resolver->lookup("_dmarc." + domain, dns::Type::txt));
                    const std::string org(mime::registered_domain(domain));
                    if (!org.empty() && org != domain)
                        tx.prefetched.push_back(ctx.rt.resolver->lookup("_dmarc." + org, dns::Type::txt));
                }
            }
            return;
        }
        if (count_headers(tx, "From") == 0)
            return; // nothing claims an author: nothing to judge (the header checks see to it)
        const std::string from_domain = from_domain_of(tx);
        if (from_domain.empty()) {
            tx.card.add("RAMPART_DMARC_PERMERROR", 0, "not one From address");
            tx.auth_results.push_back("dmarc=permerror (not one From address)");
            return;
        }
        const auto d = [&] {
            const DnsBudgetWait budget(ctx.cfg.dns_budget_ms, tx);
            return auth::evaluate_dmarc(*ctx.rt.dmarc, *ctx.rt.resolver, budget.deadline(), *client.ip, from_domain,
                                        tx.spf, tx.dkim_results, draw());
        }();
        const std::string detail = d.domain + (d.sampled_out ? " (pct)" : "");
        switch (d.result) {
        case auth::DmarcResult::none: break;
        case auth::DmarcResult::pass: tx.card.add("RAMPART_DMARC_PASS", kPassScore, detail); break;
        case auth::DmarcResult::temperror: tx.card.add("RAMPART_DMARC_TEMPERROR", 0, detail); break;
        case auth::DmarcResult::permerror: tx.card.add("RAMPART_DMARC_PERMERROR", 0, detail); break;
        case auth::DmarcResult::fail:
            switch (d.policy) {
            case auth::DmarcPolicy::reject:
                tx.card.add("RAMPART_DMARC_REJECT", kRejectScore, detail);
                raise_to_spam(tx);
                if (ctx.cfg.dmarc_reject)
                    tx.answer = Answer::reject(ctx.cfg.reply_dmarc_reject);
                break;
            case auth::DmarcPolicy::quarantine:
                tx.card.add("RAMPART_DMARC_QUARANTINE", kQuarantineScore, detail);
                raise_to_spam(tx);
                break;
            case auth::DmarcPolicy::none: tx.card.add("RAMPART_DMARC_FAIL", kFailScore, detail); break;
            }
            break;
        }
        std::string r = fmt::format("dmarc={}", auth::to_string(d.result));
        if (d.result == auth::DmarcResult::fail)
            r += fmt::format(" (p={})", auth::to_string(d.policy));
        tx.auth_results.push_back(r + " header.from=" + d.domain);
    }

  private:
    // The domain of the message's one From address; "" when there is not exactly one.
    static std::string from_domain_of(const Transaction& tx)
    {
        if (count_headers(tx, "From") != 1)
            return {};
        const auto f = parse_address_field(*find_header(tx, "From"));
        return f.mailboxes.size() == 1 ? f.mailboxes.front().domain : std::string();
    }

    static void raise_to_spam(Transaction& tx)
    {
        if (!tx.at_least || *tx.at_least < Category::spam)
            tx.at_least = Category::spam;
    }
};

} // namespace

const Check& dmarc_check()
{
    static const DmarcCheck c;
    return c;
}

} // namespace rampart
