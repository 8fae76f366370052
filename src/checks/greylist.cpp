// NAME
//   greylist.cpp - adaptive greylisting of the messages in a band of scores
// SUMMARY
//   Greylisting makes a sender retry: a real MTA does, a spam cannon often
//   does not. Applied to everything it delays all mail; applied here only
//   to clean messages that score at least greylist.min_score (the doubtful
//   ones, just below the spam category), and never to authenticated
//   senders, allow-listed clients, clients a DNS allow list vouches for,
//   clients of network.internal or clients whose address has a clean
//   reputation (RAMPART_REP_IP_CLEAN).
//
//   A triplet is the client's network (network.ipv4_prefix/ipv6_prefix, so
//   that a retry from another address of the same pool counts), the
//   envelope sender and one recipient. A message passes once every
//   triplet of it was first seen at least greylist.delay_s ago (and at most
//   greylist.retry_window_s); then its network and sender domain are
//   remembered for greylist.remember_s and pass at once. Otherwise it is
//   tempfailed with reply.greylist.
// PHASES
//   eom, after the verdict (request_final): one EVALSHA, a round trip the
//   MTA waits for, only for the messages in the band. When Redis fails,
//   the message is judged without it.
// REDIS KEYS
//   PREFIX{grey:NET}:t:SENDER:RCPT, PREFIX{grey:NET}:ok:DOMAIN
// SYMBOLS
//   RAMPART_GREYLIST (0; the message is tempfailed), RAMPART_GREYLIST_PASSED (0)
// SETTINGS
//   greylist.*, reply.greylist
#include "checks/check.hpp"
#include "config/config.hpp"
#include "engine/runtime.hpp"
#include "util/text.hpp"

#include <fmt/format.h>

namespace rampart {
namespace {

constexpr std::size_t kMaxTriplets = 100; // recipients of one message greylisted; the rest go with them

class GreylistCheck final : public Check {
  public:
    std::string_view name() const override { return "greylist"; }

    // It acts only after the verdict.
    bool runs_in(Phase, const Config&) const override { return false; }
    void decide(Phase, Context&, std::span<const Reply>) const override {}

    bool wants_final(Category category, double score, const Context& ctx) const override
    {
        const Config& cfg = ctx.cfg;
        if (!cfg.greylist_enabled || category != Category::clean || score < cfg.greylist_min_score)
            return false;
        if (!ctx.client.ip || !ctx.tx.auth_user.empty() || ctx.client.allowed || ctx.tx.forced ||
            ctx.client.dns_allowed || ctx.tx.recipients.empty() || ctx.rt.is_internal(*ctx.client.ip))
            return false;
        return !ctx.tx.card.has("RAMPART_REP_IP_CLEAN");
    }

    void request_final(Context& ctx, Batch& batch) const override
    {
        const Keys& k = ctx.rt.keys;
        const std::string sender = ctx.tx.sender.empty() ? "<>" : lowercase(ctx.tx.sender);
        const auto domain = ctx.tx.sender.empty() ? std::string_view("<>") : domain_of(ctx.tx.sender);
        std::vector<std::string> keys = {k.grey_known(ctx.client.net, domain)};
        for (std::size_t i = 0; i < ctx.tx.recipients.size() && i < kMaxTriplets; ++i)
            keys.push_back(k.grey_triplet(ctx.client.net, sender, ctx.tx.recipients[i]));
        const Config& cfg = ctx.cfg;
        const auto now = std::chrono::duration_cast<std::chrono::seconds>(ctx.tx.arrival.time_since_epoch()).count();
        batch.eval(Script::greylist, std::move(keys),
                   {std::to_string(now), std::to_string(cfg.greylist_delay_s),
                    std::to_string(cfg.greylist_retry_window_s), std::to_string(cfg.greylist_remember_s)});
    }

    void decide_final(Context& ctx, std::span<const Reply> replies) const override
    {
        if (replies.empty() || replies[0].type != Reply::Type::array || replies[0].elements.size() != 2)
            return;
        const auto& e = replies[0].elements;
        if (e[0].as_integer(0) == 1) {
            if (ctx.tx.answer.settles())
                return;
            ctx.tx.answer = Answer::tempfail(ctx.cfg.reply_greylist);
            ctx.tx.card.add("RAMPART_GREYLIST", 0, fmt::format("retry in {} s", e[1].as_integer(0)));
        } else if (e[1].str == "passed") {
            ctx.tx.card.add("RAMPART_GREYLIST_PASSED", 0, "retried in time");
        }
    }
};

} // namespace

const Check& greylist_check()
{
    static const GreylistCheck check;
    return check;
}

} // namespace rampart
