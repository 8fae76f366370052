// NAME
//   outbreak.cpp - zero-hour outbreaks: one message sent to many, seen whole by the fleet
// SUMMARY
//   No rule knows the first hour of a new campaign, but the fleet sees its
//   copies arrive. Every message's fingerprints (checks/fingerprint.hpp:
//   its text, its URL set, its attachments and four near-duplicate bands)
//   are counted in Redis over a sliding window of outbreak.window_s, with
//   the distinct client networks and envelope sender domains of each
//   (HyperLogLog, from half of outbreak.messages copies on: most
//   fingerprints are seen once). A fingerprint with at least
//   outbreak.messages copies from
//   at least outbreak.networks networks and outbreak.domains sender domains
//   is an outbreak: that copy and every later one (until outbreak.ttl_s)
//   scores RAMPART_OUTBREAK (outbreak.score), once however many of its
//   fingerprints match. A newsletter, however big, comes from one sender
//   domain (its VERP bounce addresses are many senders, but one domain), a
//   big provider's notices from many networks but one domain; a botnet's
//   campaign from hundreds of both.
//   `rampartctl outbreak list` shows the outbreaks; `rampartctl outbreak
//   clear` forgets one, and keeps it from coming back for outbreak.ttl_s.
//
//   With outbreak.delay_s, a message from a client of poor reputation (its
//   own RAMPART_REP_IP_SPAM / RAMPART_REP_NET_SPAM, or a DNS block list)
//   that the verdict did not already call spam, and whose text, URL or
//   attachment fingerprint the fleet first saw less than delay_s ago, is
//   tempfailed with reply.outbreak_delay: by the retry the fleet knows
//   whether the mailing is an outbreak.
//
//   Authenticated senders, allow-listed clients, clients a DNS allow list
//   vouches for and clients whose address has a clean reputation
//   (RAMPART_REP_IP_CLEAN) are neither counted nor scored: what honest
//   servers send many times is not an outbreak. The check needs the parse
//   of content.enabled.
// PHASES
//   eom: one EVALSHA per fingerprint in the end-of-message pipeline (no
//   round trip of its own); after the verdict, a held-back message costs
//   nothing more. A new outbreak is added to the list in the background.
//   When Redis fails the message is judged without it.
// REDIS KEYS
//   PREFIX{ob:FP}:n:W, :net:W, :from:W, :first, :hit, :clear; PREFIX outbreak:list
// SYMBOLS
//   RAMPART_OUTBREAK (outbreak.score), RAMPART_OUTBREAK_DELAY (0; the message is tempfailed)
// LOG
//   "QID: outbreak: FP kind=KIND messages=N networks=N domains=N client=IP"
//   (warning), once per node for the copy that made it one.
// SETTINGS
//   outbreak.*, reply.outbreak_delay
#include "checks/check.hpp"
#include "checks/fingerprint.hpp"
#include "config/config.hpp"
#include "engine/runtime.hpp"
#include "util/log.hpp"
#include "util/text.hpp"

#include <fmt/format.h>

namespace rampart {
namespace {

class OutbreakCheck final : public Check {
  public:
    std::string_view name() const override { return "outbreak"; }

    bool runs_in(Phase p, const Config& cfg) const override
    {
        return p == Phase::eom && cfg.outbreak_enabled && cfg.content_enabled;
    }
    bool uses_redis(Phase p, const Config& cfg) const override { return runs_in(p, cfg); }

    void request(Phase, Context& ctx, Batch& batch) const override
    {
        const mime::Content* content = content_of(ctx.tx);
        if (content == nullptr || !counted(ctx))
            return;
        const Config& cfg = ctx.cfg;
        const Keys& k = ctx.rt.keys;
        const auto now = std::chrono::duration_cast<std::chrono::seconds>(ctx.tx.arrival.time_since_epoch()).count();
        const auto window = now / cfg.outbreak_window_s;
        // How much of the window before the sliding window still covers.
        const auto before = 1000 - (now - window * cfg.outbreak_window_s) * 1000 / cfg.outbreak_window_s;
        // Domains, not addresses: a mailing list's VERP bounce addresses are one sender.
        const std::string sender = ctx.tx.sender.empty() ? "<>" : lowercase(domain_of(ctx.tx.sender));
        const std::string net = ctx.client.net.to_string();
        for (auto& fp : fingerprint::of(*content, cfg.outbreak_near)) {
            const auto kind = fp.id.substr(0, fp.id.find(':'));
            batch.eval(
                Script::outbreak,
                {k.outbreak(fp.id, fmt::format("n:{}", window)), k.outbreak(fp.id, fmt::format("n:{}", window - 1)),
                 k.outbreak(fp.id, fmt::format("net:{}", window)), k.outbreak(fp.id, fmt::format("net:{}", window - 1)),
                 k.outbreak(fp.id, fmt::format("from:{}", window)),
                 k.outbreak(fp.id, fmt::format("from:{}", window - 1)), k.outbreak(fp.id, "first"),
                 k.outbreak(fp.id, "hit"), k.outbreak(fp.id, "clear")},
                {std::to_string(now), std::to_string(cfg.outbreak_window_s), std::to_string(before), net, sender,
                 std::to_string(cfg.outbreak_messages), std::to_string(cfg.outbreak_networks),
                 std::to_string(cfg.outbreak_domains), std::to_string(cfg.outbreak_ttl_s),
                 std::string(fingerprint::to_string(fp.kind)),
                 cfg.outbreak_delay_s > 0 && fp.kind != fingerprint::Kind::near ? "1" : "0"});
            ctx.tx.fingerprints.push_back(std::move(fp.id));
        }
    }

    void decide(Phase, Context& ctx, std::span<const Reply> replies) const override
    {
        std::string matched;
        std::int64_t youngest = -1; // age of the youngest text, URL or attachment fingerprint
        for (std::size_t i = 0; i < replies.size() && i < ctx.tx.fingerprints.size(); ++i) {
            const Reply& r = replies[i];
            if (r.type != Reply::Type::array || r.elements.size() != 5)
                continue;
            const auto& e = r.elements;
            const auto state = e[0].as_integer(0), age = e[1].as_integer(0);
            const std::string& fp = ctx.tx.fingerprints[i];
            if (state == 2) {
                ctx.tx.new_outbreaks.push_back(fp);
                log::warning("{}: outbreak: {} kind={} messages={} networks={} domains={} client={}",
                             ctx.tx.queue_id.empty() ? "NOQUEUE" : ctx.tx.queue_id, fp, fp.substr(0, fp.find(':')),
                             e[2].as_integer(0), e[3].as_integer(0), e[4].as_integer(0),
                             ctx.client.ip ? ctx.client.ip->to_string() : "local");
            }
            if (state != 0) {
                if (matched.size() < 200)
                    matched += matched.empty() ? fp : "," + fp;
            } else if (!fp.starts_with("near") && (youngest < 0 || age < youngest)) {
                youngest = age;
            }
        }
        if (!matched.empty()) {
            ctx.tx.card.add("RAMPART_OUTBREAK", ctx.cfg.outbreak_score, matched);
            return;
        }
        if (ctx.cfg.outbreak_delay_s > 0 && youngest >= 0 && youngest < ctx.cfg.outbreak_delay_s && poor(ctx))
            ctx.tx.outbreak_delay_s = ctx.cfg.outbreak_delay_s - youngest;
    }

    // The delay needs the verdict: a message already called spam is refused as such.
    bool wants_final(Category category, double, const Context& ctx) const override
    {
        return ctx.tx.outbreak_delay_s > 0 && category == Category::clean && !ctx.tx.forced;
    }

    void decide_final(Context& ctx, std::span<const Reply>) const override
    {
        if (ctx.tx.answer.settles())
            return;
        ctx.tx.answer = Answer::tempfail(ctx.cfg.reply_outbreak_delay);
        ctx.tx.card.add("RAMPART_OUTBREAK_DELAY", 0,
                        fmt::format("new bulk content, {} s before the fleet knows it", ctx.tx.outbreak_delay_s));
    }

    void record(Category, const Context& ctx, Batch& batch) const override
    {
        if (ctx.tx.new_outbreaks.empty())
            return;
        const auto now = std::chrono::duration_cast<std::chrono::seconds>(ctx.tx.arrival.time_since_epoch()).count();
        const std::string list = ctx.rt.keys.outbreak_list();
        for (const auto& fp : ctx.tx.new_outbreaks)
            batch.add({"ZADD", list, std::to_string(now), fp});
        // Outbreaks past their time leave the list as new ones come.
        batch.add({"ZREMRANGEBYSCORE", list, "-inf", fmt::format("({}", now - ctx.cfg.outbreak_ttl_s)});
    }

  private:
    static bool counted(const Context& ctx)
    {
        return ctx.client.ip && ctx.tx.auth_user.empty() && !ctx.client.allowed && !ctx.client.dns_allowed &&
               !ctx.client.card.has("RAMPART_REP_IP_CLEAN");
    }

    static bool poor(const Context& ctx)
    {
        return ctx.client.dns.list_score > 0 || ctx.client.card.has("RAMPART_REP_IP_SPAM") ||
               ctx.client.card.has("RAMPART_REP_NET_SPAM");
    }
};

} // namespace

const Check& outbreak_check()
{
    static const OutbreakCheck check;
    return check;
}

} // namespace rampart
