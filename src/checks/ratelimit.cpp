// NAME
//   ratelimit.cpp - connection and message rate limits per client IP, network and sender
// SUMMARY
//   Counts connections per client IP and per client network, and messages
//   per client IP, per network and per envelope sender, with the GCRA script
//   (store/scripts/gcra.lua): a steady rate plus a burst, atomic in Redis,
//   shared by the whole fleet. Over a limit, the message gets a 451 4.7.1
//   tempfail (reply.ratelimit); a legitimate sender retries later, a bot's
//   burst is cut. A connection over its limit is refused every MAIL FROM.
//
//   The MTA never waits for these counters. A connection is charged with
//   its first MAIL FROM's pipeline (Check::waits_for_mail; alone if it
//   ends before one) and a message at MAIL FROM, in a pipeline sent in the
//   background. Each reply says how long every counter stays full; the
//   node notes the full ones (checks/limit_cache.hpp), so that the next
//   connection or MAIL FROM charged to a full counter is refused at once,
//   from memory, and costs Redis nothing. A message whose own charge Redis
//   refused (the limit was reached by another node, or in the round trip
//   while it was sent) is refused at the next step that has a reply when the
//   refusal is in by then; a message decided before it arrives is not held
//   back. Limits are exact to within the messages in flight during one
//   Redis round trip.
// PHASES
//   connect: one EVALSHA (the connection counters), held for the first
//   MAIL FROM's pipeline;
//   mail: two EVALSHA (the client's message counters; the sender's), sent
//   without waiting; a MAIL FROM refused from memory sends nothing, and a
//   refused charge advances none of the counters of its call.
// REDIS KEYS
//   PREFIX{NET}:rate:conn:ip:IP, PREFIX{NET}:rate:conn:net,
//   PREFIX{NET}:rate:msg:ip:IP, PREFIX{NET}:rate:msg:net,
//   PREFIX{SENDER}:rate:msg:from - strings holding the GCRA time in
//   microseconds; each expires when its counter is idle again.
// SYMBOLS
//   RAMPART_RATE_IP_CONN, RAMPART_RATE_NET_CONN, RAMPART_RATE_IP_MSG,
//   RAMPART_RATE_NET_MSG, RAMPART_RATE_SENDER (0; the message is tempfailed)
// SETTINGS
//   ratelimit.enabled, ratelimit.{ip,net}_connections[_burst],
//   ratelimit.{ip,net,sender}_messages[_burst], network.ipv4_prefix,
//   network.ipv6_prefix, reply.ratelimit
#include "checks/check.hpp"
#include "config/config.hpp"
#include "engine/runtime.hpp"

#include <fmt/format.h>

namespace rampart {
namespace {

struct Counter {
    const char* symbol;
    std::string key;
    const Rate* rate;
    std::int64_t burst;
};

// Counters that one script call charges together, all or none (they share a hash tag).
using Group = std::vector<Counter>;

class RateLimitCheck final : public Check {
  public:
    std::string_view name() const override { return "ratelimit"; }

    bool runs_in(Phase p, const Config& cfg) const override
    {
        return cfg.ratelimit_enabled && (p == Phase::connect || p == Phase::mail);
    }
    // A connection over its limit is refused at MAIL FROM, where the MTA asks anyway.
    bool answers_in(Phase p, const Runtime& rt) const override { return p == Phase::mail && runs_in(p, *rt.config); }
    bool uses_redis(Phase p, const Config& cfg) const override { return runs_in(p, cfg); }
    // Counters charged in passing: the end of the message does not wait for them.
    bool verdict_waits(Phase) const override { return false; }
    // A connection over its limit is refused at MAIL FROM at the earliest:
    // its charge can travel with that pipeline.
    bool waits_for_mail() const override { return true; }

    void request(Phase p, Context& ctx, Batch& batch) const override
    {
        if (!ctx.client.ip || ctx.client.allowed)
            return;
        const auto gs = groups(p, ctx);
        // A counter this node knows to be full refuses at once, and nothing is charged.
        for (const auto& g : gs)
            for (const auto& c : g)
                if (const auto ms = ctx.rt.limits->full_for_ms(c.key); ms > 0) {
                    refuse(p, ctx, c, ms);
                    return;
                }
        for (const auto& g : gs) {
            std::vector<std::string> keys, argv;
            for (const auto& c : g) {
                keys.push_back(c.key);
                argv.push_back(std::to_string(c.rate->interval_us()));
                argv.push_back(std::to_string(c.burst));
            }
            batch.eval(Script::gcra, std::move(keys), std::move(argv));
        }
    }

    void decide(Phase p, Context& ctx, std::span<const Reply> replies) const override
    {
        if (replies.empty())
            return; // refused from memory, or nothing to count
        const auto gs = groups(p, ctx);
        for (std::size_t i = 0; i < gs.size() && i < replies.size(); ++i) {
            const Group& g = gs[i];
            const Reply& r = replies[i];
            if (r.type != Reply::Type::array || r.elements.size() != g.size() + 1)
                continue;
            for (std::size_t k = 0; k < g.size(); ++k)
                ctx.rt.limits->note_full(g[k].key, r.elements[k + 1].as_integer(0));
            const auto refused = r.elements[0].as_integer(0);
            if (refused >= 1 && static_cast<std::size_t>(refused) <= g.size()) {
                const auto at = static_cast<std::size_t>(refused - 1);
                refuse(p, ctx, g[at], r.elements[static_cast<std::size_t>(refused)].as_integer(0));
            }
        }
    }

  private:
    static void refuse(Phase p, Context& ctx, const Counter& c, std::int64_t ms)
    {
        const auto detail = fmt::format("retry in {} ms", ms);
        if (p == Phase::connect) { // every MAIL of this connection is refused
            ctx.client.pending_answer = Answer::tempfail(ctx.cfg.reply_ratelimit);
            ctx.client.card.add(c.symbol, 0, detail);
        } else if (!ctx.tx.answer.settles()) {
            ctx.tx.answer = Answer::tempfail(ctx.cfg.reply_ratelimit);
            ctx.tx.card.add(c.symbol, 0, detail);
        }
    }

    // Adds a counter when its rate is on.
    template <typename KeyFn>
    static void add(Group& g, const char* sym, KeyFn&& key, const Rate& rate, std::int64_t burst)
    {
        if (rate.enabled())
            g.push_back({sym, key(), &rate, burst});
    }

    // The script calls of a phase, in the order they are sent; only groups
    // with counters, so that requests and replies line up. At connect, the
    // connection counters; at MAIL FROM, the client's message counters (one
    // call), then the sender's.
    static std::vector<Group> groups(Phase p, const Context& ctx)
    {
        std::vector<Group> out;
        const Config& cfg = ctx.cfg;
        const Keys& keys = ctx.rt.keys;
        const IpAddress& ip = *ctx.client.ip;
        const Cidr& net = ctx.client.net;
        Group client;
        if (p == Phase::connect) {
            add(
                client, "RAMPART_RATE_IP_CONN", [&] { return keys.conn_rate_ip(ip, net); },
                cfg.ratelimit_ip_connections, cfg.ratelimit_ip_connections_burst);
            add(
                client, "RAMPART_RATE_NET_CONN", [&] { return keys.conn_rate_net(net); }, cfg.ratelimit_net_connections,
                cfg.ratelimit_net_connections_burst);
            out.push_back(std::move(client));
        } else {
            add(
                client, "RAMPART_RATE_IP_MSG", [&] { return keys.msg_rate_ip(ip, net); }, cfg.ratelimit_ip_messages,
                cfg.ratelimit_ip_messages_burst);
            add(
                client, "RAMPART_RATE_NET_MSG", [&] { return keys.msg_rate_net(net); }, cfg.ratelimit_net_messages,
                cfg.ratelimit_net_messages_burst);
            out.push_back(std::move(client));
            Group sender;
            if (!ctx.tx.sender.empty())
                add(
                    sender, "RAMPART_RATE_SENDER", [&] { return keys.msg_rate_sender(ctx.tx.sender); },
                    cfg.ratelimit_sender_messages, cfg.ratelimit_sender_messages_burst);
            out.push_back(std::move(sender));
        }
        std::erase_if(out, [](const Group& g) { return g.empty(); });
        return out;
    }
};

} // namespace

const Check& ratelimit_check()
{
    static const RateLimitCheck check;
    return check;
}

} // namespace rampart
