// NAME
//   lists.cpp - allow and block lists of clients, HELO names, senders and recipients
// SUMMARY
//   An allow-listed client, HELO name, sender or recipient settles the
//   message as clean; a block-listed one is rejected at the earliest phase
//   where it is known: the client at connect, the HELO name at HELO, the
//   sender at MAIL FROM, a recipient at its RCPT TO (that recipient only).
//   A phase is negotiated with a reply only while its block list has
//   entries; an entry added during a connection that negotiated without
//   one is answered at the next phase with a reply (for a recipient: not
//   for that connection).
// PHASES
//   connect, helo, mail, rcpt. No Redis round trip: lookups use ListCache,
//   which polls Redis in the background.
// REDIS KEYS
//   PREFIX list:{allow,block}:{ip,helo,from,rcpt} (sets, no TTL),
//   PREFIX list:version (string, no TTL); see store/keys.hpp.
// SYMBOLS
//   RAMPART_ALLOW_IP, RAMPART_ALLOW_HELO, RAMPART_ALLOW_FROM, RAMPART_ALLOW_RCPT (0, category clean)
//   RAMPART_BLOCK_IP, RAMPART_BLOCK_HELO, RAMPART_BLOCK_FROM, RAMPART_BLOCK_RCPT (0, rejected with reply.blocked)
// SETTINGS
//   lists.enabled, lists.refresh_ms, reply.blocked
#include "checks/check.hpp"
#include "config/config.hpp"
#include "engine/runtime.hpp"

namespace rampart {
namespace {

class ListsCheck final : public Check {
  public:
    std::string_view name() const override { return "lists"; }

    bool runs_in(Phase p, const Config& cfg) const override
    {
        return cfg.lists_enabled && (p == Phase::connect || p == Phase::helo || p == Phase::mail || p == Phase::rcpt);
    }

    // Only a block list with entries needs a reply (allow lists never answer early).
    bool answers_in(Phase p, const Runtime& rt) const override
    {
        if (!runs_in(p, *rt.config))
            return false;
        switch (p) {
        case Phase::connect: return rt.lists->has_block(ListKind::ip);
        case Phase::helo: return rt.lists->has_block(ListKind::helo);
        case Phase::mail: return rt.lists->has_block(ListKind::from);
        case Phase::rcpt: return rt.lists->has_block(ListKind::rcpt);
        default: return false;
        }
    }

    void decide(Phase p, Context& ctx, std::span<const Reply>) const override
    {
        const ListCache& lists = *ctx.rt.lists;
        switch (p) {
        case Phase::connect:
            if (ctx.client.ip)
                apply(ctx, lists.ip(*ctx.client.ip), "IP", true);
            return;
        case Phase::helo: apply(ctx, lists.name(ListKind::helo, ctx.client.helo), "HELO", true); return;
        case Phase::mail:
            if (!ctx.tx.sender.empty())
                apply(ctx, lists.name(ListKind::from, ctx.tx.sender), "FROM", false);
            return;
        case Phase::rcpt: apply(ctx, lists.name(ListKind::rcpt, ctx.tx.current_rcpt), "RCPT", false); return;
        default: return;
        }
    }

  private:
    // Connection-wide facts (client, HELO) go on the Client so that every
    // message of the connection carries them.
    static void apply(Context& ctx, const ListMatch& m, std::string_view what, bool connection_wide)
    {
        if (!m.allow && !m.block)
            return;
        const std::string symbol = std::string(m.allow ? "RAMPART_ALLOW_" : "RAMPART_BLOCK_") + std::string(what);
        if (m.allow) {
            if (connection_wide) {
                ctx.client.allowed = true;
                ctx.client.card.add(symbol, 0, m.entry);
            } else {
                ctx.tx.forced = Category::clean;
                ctx.tx.card.add(symbol, 0, m.entry);
            }
            return;
        }
        if (connection_wide) {
            ctx.client.card.add(symbol, 0, m.entry);
            ctx.client.answer = Answer::reject(ctx.cfg.reply_blocked);
        } else {
            ctx.tx.card.add(symbol, 0, m.entry);
            ctx.tx.answer = Answer::reject(ctx.cfg.reply_blocked);
        }
    }
};

} // namespace

const Check& lists_check()
{
    static const ListsCheck check;
    return check;
}

} // namespace rampart
