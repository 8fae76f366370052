// NAME
//   dkim.cpp - DKIM signatures of incoming mail (RFC 6376)
// SUMMARY
//   Every DKIM-Signature of the message is verified (auth/dkim.hpp): the
//   header fields and the body are fed to libopendkim as they arrive, and
//   at end of message each signature's key is looked up through the
//   shared resolver, within what is left of the message's dns.budget_ms.
//   Each signature's result goes into Authentication-Results:
//     dkim=RESULT header.d=DOMAIN header.s=SELECTOR header.a=ALGORITHM (BITS-bit key)
//   (dkim=none when there is none), and each kind of result scores once,
//   its detail the domains. A signed message is read to its end even
//   where limits.skip_body would skip the rest: the body hash needs it.
//   Authenticated senders (outbound mail) and allow-listed clients are
//   not verified. Mail of authenticated senders is signed instead where
//   dkim.keys has a key for the From domain (or a parent of it): the
//   DKIM-Signature (relaxed/relaxed, rsa-sha256, d= the key's domain, s=
//   its selector) is put at the top of the header.
// PHASES
//   body (feeding), eom (keys, results).
// DNS
//   TXT of SELECTOR._domainkey.DOMAIN for each signature.
// SYMBOLS
//   RAMPART_DKIM_PASS (-0.2), RAMPART_DKIM_FAIL (1.0), RAMPART_DKIM_NEUTRAL
//   (0), RAMPART_DKIM_POLICY (0.3), RAMPART_DKIM_TEMPERROR (0),
//   RAMPART_DKIM_PERMERROR (0.3)
// SETTINGS
//   dkim.enabled, dkim.keys, dns.budget_ms, dns.on_temperror, auth.authserv_id
#include "auth/dkim.hpp"
#include "checks/address_field.hpp"
#include "checks/check.hpp"
#include "config/config.hpp"
#include "engine/runtime.hpp"
#include "util/text.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace rampart {
namespace {

struct SymbolOf {
    auth::DkimResult result;
    const char* name;
    double score;
};

constexpr SymbolOf kSymbols[] = {
    {auth::DkimResult::pass, "RAMPART_DKIM_PASS", -0.2},
    {auth::DkimResult::fail, "RAMPART_DKIM_FAIL", 1.0},
    {auth::DkimResult::neutral, "RAMPART_DKIM_NEUTRAL", 0},
    {auth::DkimResult::policy, "RAMPART_DKIM_POLICY", 0.3},
    {auth::DkimResult::temperror, "RAMPART_DKIM_TEMPERROR", 0},
    {auth::DkimResult::permerror, "RAMPART_DKIM_PERMERROR", 0.3},
};

class DkimCheck final : public Check {
  public:
    std::string_view name() const override { return "dkim"; }
    bool runs_in(Phase p, const Config& cfg) const override
    {
        return cfg.dkim_enabled && (p == Phase::body || p == Phase::eom);
    }
    bool answers_in(Phase, const Runtime&) const override { return false; }

    void decide(Phase p, Context& ctx, std::span<const Reply>) const override
    {
        Transaction& tx = ctx.tx;
        if (!ctx.rt.dkim)
            return;
        if (!tx.auth_user.empty()) {
            sign(p, ctx);
            return;
        }
        if (!ctx.rt.resolver || ctx.client.allowed)
            return;
        if (!tx.dkim) {
            prefetch_keys(ctx);
            tx.dkim = std::make_shared<auth::DkimVerifier>(*ctx.rt.dkim, tx.queue_id);
            for (const auto& [name, value] : tx.headers)
                tx.dkim->header(name, value);
            tx.dkim->end_of_header();
        }
        if (p == Phase::body) {
            tx.dkim->body(tx.chunk);
            return;
        }
        const auto sigs = [&] {
            const DnsBudgetWait budget(ctx.cfg.dns_budget_ms, tx);
            return tx.dkim->finish(*ctx.rt.resolver, budget.deadline());
        }();
        tx.dkim.reset();
        if (sigs.empty()) {
            tx.auth_results.push_back("dkim=none");
            return;
        }
        for (const auto& sym : kSymbols) {
            std::string domains;
            for (const auto& s : sigs)
                if (s.result == sym.result)
                    domains += (domains.empty() ? "" : ",") + s.domain;
            if (!domains.empty())
                tx.card.add(sym.name, sym.score, domains);
        }
        for (const auto& s : sigs) {
            std::string r = fmt::format("dkim={} header.d={} header.s={} header.a={}", auth::to_string(s.result),
                                        s.domain, s.selector, s.algorithm);
            if (s.key_bits)
                r += fmt::format(" ({}-bit key)", s.key_bits);
            if (!s.error.empty())
                r += fmt::format(" ({})", s.error);
            tx.auth_results.push_back(std::move(r));
        }
        if (ctx.cfg.dns_on_failure == FailurePolicy::tempfail && !tx.answer.settles() &&
            std::any_of(sigs.begin(), sigs.end(),
                        [](const auto& s) { return s.result == auth::DkimResult::temperror; }))
            tx.answer = Answer::tempfail(ctx.cfg.reply_dns_failure);
        tx.dkim_results = sigs;
    }

  private:
    // The keys of the message's first signatures, asked as soon as the
    // header is in (d= and s= read roughly here; libopendkim parses them
    // properly at the end, and finds the answers in the cache).
    static void prefetch_keys(Context& ctx)
    {
        std::size_t n = 0;
        for (const auto& [name, value] : ctx.tx.headers) {
            if (!iequals(name, "DKIM-Signature") || n++ >= auth::kMaxSignatures)
                continue;
            std::string d, s;
            std::string_view rest = value;
            while (!rest.empty()) {
                const auto semi = rest.find(';');
                const auto tag = trim(rest.substr(0, semi));
                rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
                if (tag.starts_with("d="))
                    d = std::string(trim(tag.substr(2)));
                else if (tag.starts_with("s="))
                    s = std::string(trim(tag.substr(2)));
            }
            if (!d.empty() && !s.empty())
                ctx.tx.prefetched.push_back(ctx.rt.resolver->lookup(s + "._domainkey." + d, dns::Type::txt));
        }
    }

    // Mail of an authenticated sender is signed where dkim.keys has a key
    // for its From domain.
    static void sign(Phase p, Context& ctx)
    {
        Transaction& tx = ctx.tx;
        if (!tx.dkim_signer) {
            if (ctx.rt.dkim_keys.empty() || count_headers(tx, "From") != 1)
                return;
            const auto from = parse_address_field(*find_header(tx, "From"));
            const auto* key =
                from.mailboxes.size() == 1 ? auth::key_for(ctx.rt.dkim_keys, from.mailboxes.front().domain) : nullptr;
            if (!key)
                return;
            tx.dkim_signer = std::make_shared<auth::DkimSigner>(*ctx.rt.dkim, *key, tx.queue_id);
            for (const auto& [name, value] : tx.headers)
                tx.dkim_signer->header(name, value);
            tx.dkim_signer->end_of_header();
        }
        if (p == Phase::body) {
            tx.dkim_signer->body(tx.chunk);
            return;
        }
        tx.dkim_signature = tx.dkim_signer->finish();
        tx.dkim_signer.reset();
    }
};

} // namespace

const Check& dkim_check()
{
    static const DkimCheck c;
    return c;
}

} // namespace rampart
