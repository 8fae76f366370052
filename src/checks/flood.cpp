// NAME
//   flood.cpp - connection floods: concurrent connections, recipients per message and per connection
// SUMMARY
//   A flood opens connections faster than they close, or piles recipients
//   into messages and connections. Concurrent connections are counted per
//   client address and per client network across the fleet, as leases in
//   Redis that expire unless the node renews them (checks/leases.hpp), so
//   that a node that dies leaks nothing for longer than flood.lease_s. A
//   client at flood.ip_concurrency (or its network at
//   flood.net_concurrency) has every MAIL FROM of the new connection
//   tempfailed with reply.flood (and the message under way, when the
//   refusal comes after its MAIL FROM). Recipients are counted by the node, per
//   message and per connection: past flood.rcpts_per_message or
//   flood.rcpts_per_connection each further RCPT TO gets 452 with
//   reply.too_many_rcpts. Clients of network.internal and allow-listed
//   clients are not counted. (Connection rates are ratelimit's.)
// PHASES
//   connect (one EVALSHA in the connect pipeline, sent without waiting; a
//   refusal is given at MAIL FROM), rcpt (the node's own counts), close
//   (the lease given back, in the background).
// REDIS KEYS
//   PREFIX{NET}:conc:ip:IP, PREFIX{NET}:conc:net - sorted sets of leases
//   scored by their expiry; they expire two leases after their last change.
// SYMBOLS
//   RAMPART_FLOOD_IP, RAMPART_FLOOD_NET, RAMPART_FLOOD_RCPTS (0; tempfailed)
// SETTINGS
//   flood.*, reply.flood, reply.too_many_rcpts
#include "checks/check.hpp"
#include "checks/leases.hpp"
#include "config/config.hpp"
#include "engine/runtime.hpp"

#include <fmt/format.h>

namespace rampart {
namespace {

class FloodCheck final : public Check {
  public:
    std::string_view name() const override { return "flood"; }

    bool runs_in(Phase p, const Config& cfg) const override
    {
        return cfg.flood_enabled &&
               ((p == Phase::connect && concurrency(cfg)) ||
                (p == Phase::rcpt && (cfg.flood_rcpts_per_message > 0 || cfg.flood_rcpts_per_connection > 0)));
    }
    // A connection over its limit is refused at MAIL FROM; recipients at RCPT TO.
    bool answers_in(Phase p, const Runtime& rt) const override
    {
        return (p == Phase::mail && runs_in(Phase::connect, *rt.config)) ||
               (p == Phase::rcpt && runs_in(p, *rt.config));
    }
    bool uses_redis(Phase p, const Config& cfg) const override { return p == Phase::connect && runs_in(p, cfg); }
    bool verdict_waits(Phase) const override { return false; }

    void request(Phase, Context& ctx, Batch& batch) const override
    {
        if (!counted(ctx) || !ctx.rt.leases)
            return;
        ctx.client.lease = ctx.rt.leases->next_name();
        const Keys& k = ctx.rt.keys;
        batch.eval(Script::conc_acquire, {k.conc_ip(*ctx.client.ip, ctx.client.net), k.conc_net(ctx.client.net)},
                   {ctx.client.lease, std::to_string(ctx.rt.leases->length().count()),
                    std::to_string(ctx.cfg.flood_ip_concurrency), std::to_string(ctx.cfg.flood_net_concurrency)});
    }

    void decide(Phase p, Context& ctx, std::span<const Reply> replies) const override
    {
        if (p == Phase::rcpt) {
            judge_recipients(ctx);
            return;
        }
        if (replies.empty() || replies[0].type != Reply::Type::array || replies[0].elements.size() != 3 ||
            ctx.client.lease.empty())
            return;
        const auto& e = replies[0].elements;
        const auto refused = e[0].as_integer(0);
        if (refused == 0) {
            const Keys& k = ctx.rt.keys;
            ctx.rt.leases->hold(ctx.client.lease, k.conc_ip(*ctx.client.ip, ctx.client.net),
                                k.conc_net(ctx.client.net));
            return;
        }
        ctx.client.lease.clear(); // not taken
        const bool ip = refused == 1;
        ctx.client.pending_answer = Answer::tempfail(ctx.cfg.reply_flood);
        // The reply may come after a fast client's MAIL FROM: that message is refused too.
        if (!ctx.tx.answer.settles())
            ctx.tx.answer = ctx.client.pending_answer;
        ctx.client.card.add(ip ? "RAMPART_FLOOD_IP" : "RAMPART_FLOOD_NET", 0,
                            fmt::format("{} connections open, limit {}", e[ip ? 1 : 2].as_integer(0),
                                        ip ? ctx.cfg.flood_ip_concurrency : ctx.cfg.flood_net_concurrency));
    }

    void close(const Context& ctx, Batch&) const override
    {
        if (!ctx.client.lease.empty() && ctx.rt.leases)
            ctx.rt.leases->release(ctx.client.lease);
    }

  private:
    static bool concurrency(const Config& cfg) { return cfg.flood_ip_concurrency > 0 || cfg.flood_net_concurrency > 0; }

    static bool counted(const Context& ctx)
    {
        return ctx.client.ip && !ctx.client.allowed && !ctx.rt.is_internal(*ctx.client.ip);
    }

    static void judge_recipients(Context& ctx)
    {
        if (!counted(ctx))
            return;
        const Config& cfg = ctx.cfg;
        const auto message = ctx.tx.recipients.size(), connection = ctx.client.rcpts;
        const bool over_message =
            cfg.flood_rcpts_per_message > 0 && message >= static_cast<std::size_t>(cfg.flood_rcpts_per_message);
        const bool over_connection = cfg.flood_rcpts_per_connection > 0 &&
                                     connection >= static_cast<std::size_t>(cfg.flood_rcpts_per_connection);
        if (!over_message && !over_connection) {
            ++ctx.client.rcpts;
            return;
        }
        Answer a = Answer::tempfail(cfg.reply_too_many_rcpts);
        a.code = "452"; // RFC 5321 section 4.5.3.1.10: too many recipients
        ctx.tx.answer = a;
        ctx.tx.card.add("RAMPART_FLOOD_RCPTS", 0,
                        over_message ? fmt::format("{} recipients in the message", message)
                                     : fmt::format("{} recipients on the connection", connection));
    }
};

} // namespace

const Check& flood_check()
{
    static const FloodCheck check;
    return check;
}

} // namespace rampart
