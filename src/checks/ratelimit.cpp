// NAME
//   ratelimit.cpp - connection and message rate limits per client IP, network and sender
// SUMMARY
//   Counts connections per client IP and per client network, and messages
//   per client IP, per network and per envelope sender, with the GCRA script
//   (store/scripts/gcra.lua): a steady rate plus a burst, atomic in Redis,
//   shared by the whole fleet. Over a limit, MAIL FROM gets a 451 4.7.1
//   tempfail (reply.ratelimit); a legitimate sender retries later, a bot's
//   burst is cut. A connection over its limit is refused every MAIL FROM.
//
//   Connect costs no Redis round trip: a connection is counted in the
//   pipeline of its first MAIL FROM, where its answer is given anyway, or,
//   if it never sends one, when it closes (in the background).
// PHASES
//   mail: two EVALSHA in the phase's single pipeline: the client's counters
//   (its connection counters on the first MAIL only, and its message
//   counters; all or none: a refused MAIL FROM advances none of them), and
//   the sender's; close: the connection counters of a connection without MAIL.
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
    bool connection = false; // a connection counter: its refusal holds for the whole connection
};

// Counters that one script call checks together, all or none (they share a hash tag).
struct Group {
    std::vector<Counter> counters;
};

class RateLimitCheck final : public Check {
  public:
    std::string_view name() const override { return "ratelimit"; }

    bool runs_in(Phase p, const Config& cfg) const override { return cfg.ratelimit_enabled && p == Phase::mail; }
    bool uses_redis(Phase p, const Config& cfg) const override { return runs_in(p, cfg); }

    void request(Phase, const Context& ctx, Batch& batch) const override
    {
        for (const auto& g : groups(ctx, true))
            add_call(g, batch);
    }

    void decide(Phase, Context& ctx, std::span<const Reply> replies) const override
    {
        const auto gs = groups(ctx, false); // the same groups, without building their keys again
        for (std::size_t i = 0; i < gs.size() && i < replies.size(); ++i) {
            const Reply& r = replies[i];
            const bool has_connection = !gs[i].counters.empty() && gs[i].counters.front().connection;
            if (r.type != Reply::Type::array || r.elements.size() != 2) { // 0: every counter had room
                if (has_connection)
                    ctx.client.connection_counted = true;
                continue;
            }
            const auto idx = r.elements[0].as_integer(0) - 1;
            if (idx < 0 || static_cast<std::size_t>(idx) >= gs[i].counters.size())
                continue;
            const Counter& over = gs[i].counters[static_cast<std::size_t>(idx)];
            const auto detail = fmt::format("retry in {} ms", r.elements[1].as_integer(0));
            ctx.tx.answer = Answer::tempfail(ctx.cfg.reply_ratelimit);
            if (over.connection) { // every later MAIL of this connection is refused too
                ctx.client.connection_counted = true;
                ctx.client.pending_answer = ctx.tx.answer;
                ctx.client.card.add(over.symbol, 0, detail);
            } else { // nothing was charged: the connection is counted at a later MAIL or at close
                ctx.tx.card.add(over.symbol, 0, detail);
            }
        }
    }

    void close(const Context& ctx, Batch& batch) const override
    {
        if (!ctx.cfg.ratelimit_enabled || ctx.client.connection_counted || !ctx.client.ip || ctx.client.allowed)
            return;
        add_call(connection_group(ctx), batch);
    }

  private:
    static void add_call(const Group& g, Batch& batch)
    {
        if (g.counters.empty())
            return;
        std::vector<std::string> keys, argv;
        for (const auto& c : g.counters) {
            keys.push_back(c.key);
            argv.push_back(std::to_string(c.rate->interval_us()));
            argv.push_back(std::to_string(c.burst));
        }
        batch.eval(Script::gcra, std::move(keys), std::move(argv));
    }

    // Adds a counter when its rate is on; its key is built only when asked for.
    template <typename KeyFn>
    static void add(Group& g, bool with_key, const char* sym, KeyFn&& key, const Rate& rate, std::int64_t burst,
                    bool connection = false)
    {
        if (rate.enabled())
            g.counters.push_back({sym, with_key ? key() : std::string(), &rate, burst, connection});
    }

    static void add_connection_counters(const Context& ctx, Group& g, bool with_keys)
    {
        const Config& cfg = ctx.cfg;
        const Keys& keys = ctx.rt.keys;
        const auto& ip = *ctx.client.ip;
        const auto& net = ctx.client.net;
        add(
            g, with_keys, "RAMPART_RATE_IP_CONN", [&] { return keys.conn_rate_ip(ip, net); },
            cfg.ratelimit_ip_connections, cfg.ratelimit_ip_connections_burst, true);
        add(
            g, with_keys, "RAMPART_RATE_NET_CONN", [&] { return keys.conn_rate_net(net); },
            cfg.ratelimit_net_connections, cfg.ratelimit_net_connections_burst, true);
    }

    static Group connection_group(const Context& ctx)
    {
        Group g;
        add_connection_counters(ctx, g, true);
        return g;
    }

    // The script calls of a MAIL FROM, in the order they are sent; only
    // groups with counters, so that requests and replies line up. The
    // client's counters (connection, on the first MAIL; messages) are one
    // call: a MAIL FROM refused by one of them advances none.
    static std::vector<Group> groups(const Context& ctx, bool with_keys)
    {
        std::vector<Group> out;
        if (!ctx.client.ip)
            return out;
        const Config& cfg = ctx.cfg;
        const Keys& keys = ctx.rt.keys;
        const IpAddress& ip = *ctx.client.ip;
        const Cidr& net = ctx.client.net;
        Group client;
        if (!ctx.client.connection_counted)
            add_connection_counters(ctx, client, with_keys);
        add(
            client, with_keys, "RAMPART_RATE_IP_MSG", [&] { return keys.msg_rate_ip(ip, net); },
            cfg.ratelimit_ip_messages, cfg.ratelimit_ip_messages_burst);
        add(
            client, with_keys, "RAMPART_RATE_NET_MSG", [&] { return keys.msg_rate_net(net); },
            cfg.ratelimit_net_messages, cfg.ratelimit_net_messages_burst);
        out.push_back(std::move(client));
        Group sender;
        if (!ctx.tx.sender.empty())
            add(
                sender, with_keys, "RAMPART_RATE_SENDER", [&] { return keys.msg_rate_sender(ctx.tx.sender); },
                cfg.ratelimit_sender_messages, cfg.ratelimit_sender_messages_burst);
        out.push_back(std::move(sender));
        std::erase_if(out, [](const Group& g) { return g.counters.empty(); });
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
