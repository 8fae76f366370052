// NAME
//   reputation.cpp - IP and network reputation from past verdicts
// SUMMARY
//   Every message's verdict is added to decayed clean/spam counts of its
//   client IP and client network (half-life reputation.half_life_s). The
//   counts are read back once per connection, asked for at connect and sent
//   with the first MAIL FROM's pipeline without the MTA waiting, and apply
//   to every message of the connection; once an IP (or network) has at least
//   reputation.min_messages decayed verdicts, its spam share s scores
//     RAMPART_REP_IP_SPAM   = ip_weight  * (2s - 1)  when s > 0.5
//     RAMPART_REP_IP_CLEAN  = -ip_weight * (1 - 2s)  when s < 0.5
//   and likewise RAMPART_REP_NET_SPAM / RAMPART_REP_NET_CLEAN with net_weight.
//   Messages whose category a check forced are not counted: an allow list
//   must not launder a network's record, and a GTUBE test message says
//   nothing about its sender. Neither are tempfailed ones. The default
//   weights together stay below category.spam_score, so that reputation
//   alone never makes a message spam and then feeds on its own verdict.
//   The counts are kept in forward-decay form (store/reputation.hpp), so
//   that both the read and the record are plain commands, no script.
// PHASES
//   connect (read, two HMGET held for the first MAIL FROM's pipeline, not
//   waited for; their replies are needed at end of message), eom (record,
//   HINCRBYFLOAT, HDEL and EXPIRE per key, sent in the background after the
//   verdict; a failure is logged, never fatal).
// REDIS KEYS
//   PREFIX{NET}:rep:ip:IP, PREFIX{NET}:rep:net - hashes c:L:E, s:L:E (see
//   store/reputation.hpp); TTL reputation.ttl_s
// SYMBOLS
//   RAMPART_REP_IP_SPAM (up to +ip_weight), RAMPART_REP_IP_CLEAN (down to -ip_weight),
//   RAMPART_REP_NET_SPAM (up to +net_weight), RAMPART_REP_NET_CLEAN (down to -net_weight)
// SETTINGS
//   reputation.enabled, reputation.half_life_s, reputation.min_messages,
//   reputation.ttl_s, reputation.ip_weight, reputation.net_weight
#include "store/reputation.hpp"
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
    // Needed at end of message only: the read can travel with MAIL FROM's pipeline.
    bool waits_for_mail() const override { return true; }

    void request(Phase, Context& ctx, Batch& batch) const override
    {
        if (!ctx.client.ip)
            return;
        for (const auto& key : keys(ctx))
            reputation::read(batch, key, ctx.client.connected, ctx.cfg.reputation_half_life_s);
    }

    void decide(Phase, Context& ctx, std::span<const Reply> replies) const override
    {
        if (replies.size() != 2)
            return;
        const auto h = ctx.cfg.reputation_half_life_s;
        score(ctx, reputation::counts(replies[0], ctx.client.connected, h), ctx.cfg.reputation_ip_weight, "IP");
        score(ctx, reputation::counts(replies[1], ctx.client.connected, h), ctx.cfg.reputation_net_weight, "NET");
    }

    void record(Category c, const Context& ctx, Batch& batch) const override
    {
        if (!ctx.cfg.reputation_enabled || !ctx.client.ip || ctx.client.allowed || ctx.tx.forced)
            return;
        const bool spam = c != Category::clean;
        const auto now = std::chrono::system_clock::now();
        for (const auto& key : keys(ctx))
            reputation::add(batch, key, spam, now, ctx.cfg.reputation_half_life_s, ctx.cfg.reputation_ttl_s);
    }

  private:
    static std::vector<std::string> keys(const Context& ctx)
    {
        return {ctx.rt.keys.rep_ip(*ctx.client.ip, ctx.client.net), ctx.rt.keys.rep_net(ctx.client.net)};
    }

    static void score(Context& ctx, reputation::Counts n, double weight, std::string_view what)
    {
        const double clean = n.clean, spam = n.spam, total = clean + spam;
        // A thousandth of a verdict of slack: N verdicts of a second ago are N, not N - 0.00001.
        if (total + 0.001 < static_cast<double>(ctx.cfg.reputation_min_messages) || weight <= 0)
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
