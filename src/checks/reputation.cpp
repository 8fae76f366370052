// NAME
//   reputation.cpp - IP and network reputation from past verdicts
// SUMMARY
//   Every message's verdict is added to decayed clean/spam counts of its
//   client IP and client network (half-life reputation.half_life_s). The
//   counts are read back once per connection, sent when it connects without
//   the MTA waiting, and apply to every message of the connection; once an IP (or network) has at least
//   reputation.min_messages decayed verdicts, its spam share s scores
//     RAMPART_REP_IP_SPAM   = ip_weight  * (2s - 1)  when s > 0.5
//     RAMPART_REP_IP_CLEAN  = -ip_weight * (1 - 2s)  when s < 0.5
//   and likewise RAMPART_REP_NET_SPAM / RAMPART_REP_NET_CLEAN with net_weight.
//   Messages whose category a check forced are not counted: an allow list
//   must not launder a network's record, and a GTUBE test message says
//   nothing about its sender. Neither are tempfailed ones. The default
//   weights together stay below category.spam_score, so that reputation
//   alone never makes a message spam and then feeds on its own verdict.
// PHASES
//   connect (read, one EVALSHA in the connection's pipeline, sent without
//   waiting; its replies are needed at end of message), eom
//   (record, one EVALSHA sent in the background after the verdict; its
//   failure is logged, never fatal).
// REDIS KEYS
//   PREFIX{NET}:rep:ip:IP, PREFIX{NET}:rep:net - hashes c, s, t; TTL reputation.ttl_s
// SYMBOLS
//   RAMPART_REP_IP_SPAM (up to +ip_weight), RAMPART_REP_IP_CLEAN (down to -ip_weight),
//   RAMPART_REP_NET_SPAM (up to +net_weight), RAMPART_REP_NET_CLEAN (down to -net_weight)
// SETTINGS
//   reputation.enabled, reputation.half_life_s, reputation.min_messages,
//   reputation.ttl_s, reputation.ip_weight, reputation.net_weight
#include "checks/check.hpp"
#include "config/config.hpp"
#include "engine/runtime.hpp"

#include <fmt/format.h>

namespace rampart {
namespace {

class ReputationCheck final : public Check {
  public:
    std::string_view name() const override { return "reputation"; }

    bool runs_in(Phase p, const Config& cfg) const override { return cfg.reputation_enabled && p == Phase::connect; }
    bool answers_in(Phase, const Runtime&) const override { return false; }
    bool uses_redis(Phase p, const Config& cfg) const override { return runs_in(p, cfg); }

    void request(Phase, Context& ctx, Batch& batch) const override
    {
        if (!ctx.client.ip)
            return;
        batch.eval(Script::reputation_read, keys(ctx), {std::to_string(ctx.cfg.reputation_half_life_s)});
    }

    void decide(Phase, Context& ctx, std::span<const Reply> replies) const override
    {
        if (replies.empty() || replies[0].elements.size() != 4)
            return;
        const auto& e = replies[0].elements;
        score(ctx, e[0].as_integer() / 1000.0, e[1].as_integer() / 1000.0, ctx.cfg.reputation_ip_weight, "IP");
        score(ctx, e[2].as_integer() / 1000.0, e[3].as_integer() / 1000.0, ctx.cfg.reputation_net_weight, "NET");
    }

    void record(Category c, const Context& ctx, Batch& batch) const override
    {
        if (!ctx.cfg.reputation_enabled || !ctx.client.ip || ctx.client.allowed || ctx.tx.forced)
            return;
        const bool spam = c != Category::clean;
        batch.eval(Script::reputation_update, keys(ctx),
                   {std::to_string(ctx.cfg.reputation_half_life_s), spam ? "spam" : "clean",
                    std::to_string(ctx.cfg.reputation_ttl_s)});
    }

  private:
    static std::vector<std::string> keys(const Context& ctx)
    {
        return {ctx.rt.keys.rep_ip(*ctx.client.ip, ctx.client.net), ctx.rt.keys.rep_net(ctx.client.net)};
    }

    static void score(Context& ctx, double clean, double spam, double weight, std::string_view what)
    {
        const double total = clean + spam;
        if (total < static_cast<double>(ctx.cfg.reputation_min_messages) || weight <= 0)
            return;
        const double share = spam / total;
        const auto detail = fmt::format("spam {:.1f} of {:.1f}", spam, total);
        if (share > 0.5)
            ctx.client.card.add(fmt::format("RAMPART_REP_{}_SPAM", what), weight * (2 * share - 1), detail);
        else if (share < 0.5)
            ctx.client.card.add(fmt::format("RAMPART_REP_{}_CLEAN", what), -weight * (1 - 2 * share), detail);
    }
};

} // namespace

const Check& reputation_check()
{
    static const ReputationCheck check;
    return check;
}

} // namespace rampart
