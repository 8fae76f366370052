// NAME
//   mailbomb.cpp - mail bombing: too much mail, or mail from too many senders, for one recipient
// SUMMARY
//   A mail bomb buries one mailbox: thousands of messages, often from as
//   many different senders (a victim's address signed up to every
//   newsletter on the Internet). Per recipient address, across the fleet:
//   a message rate (GCRA, mailbomb.rcpt_messages with its burst) and the
//   distinct envelope senders of a window (HyperLogLog, mailbomb.senders
//   per mailbomb.window_s). Over either, the recipient's mail is
//   tempfailed with reply.mailbomb: legitimate senders retry later, and a
//   sender the recipient already heard from in the window still passes.
//   Authenticated senders (outbound mail: see account.cpp) and
//   allow-listed clients are not counted.
//
//   The recipients are charged at the end of the message, in the pipeline
//   that step sends anyway (no round trip of their own); a message with a
//   recipient over its limits is tempfailed there. The node notes the
//   recipients found full (checks/limit_cache.hpp), so that for up to 10 s
//   every RCPT TO for one of them is refused at once, for that recipient
//   only, from memory, and costs Redis nothing.
// PHASES
//   rcpt (from the node's memory only), eom (one EVALSHA per recipient in
//   the end-of-message pipeline).
// REDIS KEYS
//   PREFIX{rcpt:RCPT}:rate, PREFIX{rcpt:RCPT}:from:WINDOW, PREFIX{rcpt:RCPT}:probe
// SYMBOLS
//   RAMPART_MAILBOMB_RATE, RAMPART_MAILBOMB_SENDERS (0; the recipient's mail is tempfailed)
// SETTINGS
//   mailbomb.enabled, mailbomb.rcpt_messages[_burst], mailbomb.senders,
//   mailbomb.window_s, reply.mailbomb
#include "checks/check.hpp"
#include "checks/limit_cache.hpp"
#include "config/config.hpp"
#include "engine/runtime.hpp"
#include "util/text.hpp"

#include <fmt/format.h>

namespace rampart {
namespace {

class MailbombCheck final : public Check {
  public:
    std::string_view name() const override { return "mailbomb"; }

    bool runs_in(Phase p, const Config& cfg) const override
    {
        return cfg.mailbomb_enabled && (p == Phase::rcpt || p == Phase::eom) &&
               (cfg.mailbomb_rcpt_messages.enabled() || cfg.mailbomb_senders > 0);
    }
    // At RCPT TO only from the node's memory; the charge goes with the end of the message's pipeline.
    bool uses_redis(Phase p, const Config& cfg) const override { return p == Phase::eom && runs_in(p, cfg); }
    bool answers_in(Phase p, const Runtime& rt) const override { return p == Phase::rcpt && runs_in(p, *rt.config); }

    void request(Phase, Context& ctx, Batch& batch) const override
    {
        if (!counted(ctx))
            return;
        const Config& cfg = ctx.cfg;
        const Keys& k = ctx.rt.keys;
        const auto now = std::chrono::duration_cast<std::chrono::seconds>(ctx.tx.arrival.time_since_epoch()).count();
        const auto window = now / cfg.mailbomb_window_s;
        const auto left = (window + 1) * cfg.mailbomb_window_s - now;
        const std::string sender = ctx.tx.sender.empty() ? "<>" : lowercase(ctx.tx.sender);
        for (const auto& rcpt : ctx.tx.recipients) // one call each: their keys hash apart
            batch.eval(Script::mailbomb, {k.rcpt_rate(rcpt), k.rcpt_senders(rcpt, window), k.rcpt_probe(rcpt)},
                       {std::to_string(cfg.mailbomb_rcpt_messages.interval_us()),
                        std::to_string(cfg.mailbomb_rcpt_messages_burst), sender, std::to_string(cfg.mailbomb_senders),
                        std::to_string(left)});
    }

    void decide(Phase p, Context& ctx, std::span<const Reply> replies) const override
    {
        if (p == Phase::rcpt) { // a recipient this node found full: refused at once, for itself only
            if (!counted(ctx))
                return;
            const auto key = ctx.rt.keys.rcpt_rate(ctx.tx.current_rcpt);
            for (const char* what : {"rate", "senders"})
                if (const auto ms = ctx.rt.limits->full_for_ms(memory_key(key, what)); ms > 0) {
                    refuse(ctx, what, ctx.tx.current_rcpt, fmt::format("noted by this node for {} ms more", ms));
                    return;
                }
            return;
        }
        for (const auto& r : replies) {
            if (r.type != Reply::Type::array || r.elements.size() != 4)
                continue;
            const auto& e = r.elements;
            const auto refused = e[0].as_integer(0), wait_ms = e[1].as_integer(0);
            const std::string& key = e[3].str;
            if (refused == 0) {
                ctx.rt.limits->note_full(memory_key(key, "rate"), wait_ms); // full after this one, or not
                continue;
            }
            const char* what = refused == 1 ? "rate" : "senders";
            ctx.rt.limits->note_full(memory_key(key, what), wait_ms); // kept at most LimitCache::kMaxHold
            refuse(ctx, what, recipient_of(key),
                   refused == 1 ? fmt::format("retry in {} ms", wait_ms)
                                : fmt::format("{} senders in the window", e[2].as_integer(0)));
        }
    }

  private:
    static bool counted(const Context& ctx) { return ctx.tx.auth_user.empty() && !ctx.client.allowed; }

    static std::string memory_key(const std::string& rate_key, std::string_view what)
    {
        return fmt::format("{}|{}", rate_key, what);
    }

    // The recipient in PREFIX{rcpt:RCPT}:rate.
    static std::string_view recipient_of(std::string_view rate_key)
    {
        const auto from = rate_key.find("{rcpt:"), to = rate_key.rfind("}:rate");
        return from == std::string_view::npos || to == std::string_view::npos || to < from + 6
                   ? std::string_view()
                   : rate_key.substr(from + 6, to - from - 6);
    }

    static void refuse(Context& ctx, std::string_view what, std::string_view rcpt, const std::string& detail)
    {
        if (ctx.tx.answer.settles())
            return;
        ctx.tx.answer = Answer::tempfail(ctx.cfg.reply_mailbomb);
        ctx.tx.card.add(what == "rate" ? "RAMPART_MAILBOMB_RATE" : "RAMPART_MAILBOMB_SENDERS", 0,
                        fmt::format("{}: {}", printable(rcpt), detail));
    }
};

} // namespace

const Check& mailbomb_check()
{
    static const MailbombCheck check;
    return check;
}

} // namespace rampart
