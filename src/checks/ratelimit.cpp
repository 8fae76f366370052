// NAME
//   ratelimit.cpp - connection and message rate limits per client IP, network and sender
// SUMMARY
//   Counts connections per client IP and per client network at connect, and
//   messages per client IP, per network and per envelope sender at MAIL
//   FROM, with the GCRA script (store/scripts/gcra.lua): a steady rate plus a
//   burst, atomic in Redis, shared by the whole fleet. Over a limit, MAIL
//   FROM gets a 451 4.7.1 tempfail (reply.ratelimit); a legitimate sender
//   retries later, a bot's burst is cut.
// PHASES
//   connect (connection counters; the answer waits for MAIL FROM), mail.
//   One EVALSHA per counter family, sent in the phase's single pipeline.
// REDIS KEYS
//   PREFIX{NET}:rate:conn:ip:IP, PREFIX{NET}:rate:conn:net,
//   PREFIX{NET}:rate:msg:ip:IP, PREFIX{NET}:rate:msg:net,
//   PREFIX{SENDER}:rate:msg:from - strings holding the GCRA time in ms;
//   each expires when its counter is idle again.
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

class RateLimitCheck final : public Check {
  public:
    std::string_view name() const override { return "ratelimit"; }

    bool runs_in(Phase p, const Config& cfg) const override
    {
        return cfg.ratelimit_enabled && (p == Phase::connect || p == Phase::mail);
    }
    bool answers_in(Phase p, const Config& cfg) const override { return cfg.ratelimit_enabled && p == Phase::mail; }
    bool uses_redis(Phase p, const Config& cfg) const override { return runs_in(p, cfg); }

    void request(Phase p, const Context& ctx, Batch& batch) const override
    {
        for (const auto& group : groups(p, ctx)) {
            std::vector<std::string> keys, argv;
            for (const auto& c : group) {
                keys.push_back(c.key);
                argv.push_back(std::to_string(c.rate->interval_us()));
                argv.push_back(std::to_string(c.burst));
            }
            if (!keys.empty())
                batch.eval(Script::gcra, std::move(keys), std::move(argv));
        }
    }

    void decide(Phase p, Context& ctx, std::span<const Reply> replies) const override
    {
        std::size_t i = 0;
        for (const auto& group : groups(p, ctx)) {
            if (group.empty())
                continue;
            if (i >= replies.size())
                return;
            const Reply& r = replies[i++];
            if (r.type != Reply::Type::array || r.elements.size() != 2)
                continue; // 0: every counter had room
            const auto idx = r.elements[0].as_integer(0) - 1;
            if (idx < 0 || static_cast<std::size_t>(idx) >= group.size())
                continue;
            const Counter& over = group[static_cast<std::size_t>(idx)];
            const auto detail = fmt::format("retry in {} ms", r.elements[1].as_integer(0));
            if (p == Phase::connect) {
                ctx.client.card.add(over.symbol, 0, detail);
                ctx.client.pending_answer = Answer::tempfail(ctx.cfg.reply_ratelimit);
            } else {
                ctx.tx.card.add(over.symbol, 0, detail);
                ctx.tx.answer = Answer::tempfail(ctx.cfg.reply_ratelimit);
            }
        }
    }

  private:
    // The counters of a phase, grouped by hash tag: each group is one script call.
    static std::vector<std::vector<Counter>> groups(Phase p, const Context& ctx)
    {
        std::vector<std::vector<Counter>> out;
        if (!ctx.client.ip)
            return out;
        const Config& cfg = ctx.cfg;
        const Keys& keys = ctx.rt.keys;
        const IpAddress& ip = *ctx.client.ip;
        const Cidr& net = ctx.client.net;
        std::vector<Counter> by_net;
        const auto add = [](std::vector<Counter>& g, const char* sym, std::string key, const Rate& rate,
                            std::int64_t burst) {
            if (rate.enabled())
                g.push_back({sym, std::move(key), &rate, burst});
        };
        if (p == Phase::connect) {
            add(by_net, "RAMPART_RATE_IP_CONN", keys.conn_rate_ip(ip, net), cfg.ratelimit_ip_connections,
                cfg.ratelimit_ip_connections_burst);
            add(by_net, "RAMPART_RATE_NET_CONN", keys.conn_rate_net(net), cfg.ratelimit_net_connections,
                cfg.ratelimit_net_connections_burst);
            out.push_back(std::move(by_net));
            return out;
        }
        if (ctx.client.pending_answer.settles())
            return out; // already over the connection limit: the answer is known
        add(by_net, "RAMPART_RATE_IP_MSG", keys.msg_rate_ip(ip, net), cfg.ratelimit_ip_messages,
            cfg.ratelimit_ip_messages_burst);
        add(by_net, "RAMPART_RATE_NET_MSG", keys.msg_rate_net(net), cfg.ratelimit_net_messages,
            cfg.ratelimit_net_messages_burst);
        out.push_back(std::move(by_net));
        std::vector<Counter> by_sender;
        if (!ctx.tx.sender.empty())
            add(by_sender, "RAMPART_RATE_SENDER", keys.msg_rate_sender(ctx.tx.sender), cfg.ratelimit_sender_messages,
                cfg.ratelimit_sender_messages_burst);
        out.push_back(std::move(by_sender));
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
