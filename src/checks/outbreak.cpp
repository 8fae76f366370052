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
//   is an outbreak: every later copy (until outbreak.ttl_s), on every node,
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
//   eom: four plain commands per fingerprint in the end-of-message pipeline
//   (six with outbreak.delay_s; no round trip of its own, and no script:
//   most fingerprints are seen once); after the verdict, a held-back
//   message costs nothing more. In the background, after the message: for
//   a fingerprint with half of outbreak.messages copies or more, one
//   EVALSHA (outbreak.lua) that counts its networks and domains and makes
//   it an outbreak; the copy that makes it one is judged before it is one.
//   When Redis fails the message is judged without it.
// REDIS KEYS
//   PREFIX{ob:FP}:n:W, :net:W, :from:W, :first, :hit, :clear; PREFIX outbreak:list
// SYMBOLS
//   RAMPART_OUTBREAK (outbreak.score), RAMPART_OUTBREAK_DELAY (0; the message is tempfailed)
// LOG
//   "QID: outbreak: FP kind=KIND messages=N networks=N domains=N client=IP"
//   (warning), by the first node to see a copy of it once it is one (two,
//   when they see one at the same moment).
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

// The sliding window a message falls in.
struct Window {
    std::int64_t now;    // the message's arrival, seconds since 1970
    std::int64_t number; // its window: now / outbreak.window_s
    std::int64_t before; // thousandths of the window before still inside the sliding window

    Window(const Transaction& tx, const Config& cfg)
        : now(std::chrono::duration_cast<std::chrono::seconds>(tx.arrival.time_since_epoch()).count()),
          number(now / cfg.outbreak_window_s),
          before(1000 - (now - number * cfg.outbreak_window_s) * 1000 / cfg.outbreak_window_s)
    {
    }
};

// Whether the fleet's first sight of a fingerprint is kept and read (for outbreak.delay_s).
bool keeps_first(const Config& cfg, std::string_view fp) { return cfg.outbreak_delay_s > 0 && !fp.starts_with("near"); }

// The commands request adds per fingerprint; decide reads them in this order.
enum Command : std::size_t { kIncr, kExpire, kBefore, kHit, kSetFirst, kGetFirst };
std::size_t commands_for(const Config& cfg, std::string_view fp) { return keeps_first(cfg, fp) ? 6 : 4; }

class OutbreakCheck final : public Check {
  public:
    std::string_view name() const override { return "outbreak"; }

    bool runs_in(Phase p, const Config& cfg) const override
    {
        return p == Phase::eom && cfg.outbreak_enabled && cfg.content_enabled;
    }
    bool uses_redis(Phase p, const Config& cfg) const override { return runs_in(p, cfg); }

    // Plain commands, no script: most fingerprints are seen once, and a
    // script's call costs Redis several times what these four do.
    void request(Phase, Context& ctx, Batch& batch) const override
    {
        const mime::Content* content = content_of(ctx.tx);
        if (content == nullptr || !counted(ctx))
            return;
        const Config& cfg = ctx.cfg;
        const Keys& k = ctx.rt.keys;
        const Window w(ctx.tx, cfg);
        const std::string ttl = std::to_string(2 * cfg.outbreak_window_s);
        for (auto& fp : fingerprint::of(*content, cfg.outbreak_near)) {
            std::string copies = k.outbreak(fp.id, fmt::format("n:{}", w.number));
            batch.add({"INCR", copies});
            batch.add({"EXPIRE", std::move(copies), ttl});
            batch.add({"GET", k.outbreak(fp.id, fmt::format("n:{}", w.number - 1))});
            batch.add({"HMGET", k.outbreak(fp.id, "hit"), "messages", "networks", "domains", "listed"});
            if (keeps_first(cfg, fp.id)) {
                std::string first = k.outbreak(fp.id, "first");
                batch.add({"SET", first, std::to_string(w.now), "NX", "EX", ttl});
                batch.add({"GET", std::move(first)});
            }
            ctx.tx.fingerprints.push_back(std::move(fp.id));
        }
    }

    void decide(Phase, Context& ctx, std::span<const Reply> replies) const override
    {
        const Config& cfg = ctx.cfg;
        const Window w(ctx.tx, cfg);
        const std::int64_t gate = (cfg.outbreak_messages + 1) / 2;
        std::string matched;
        std::int64_t youngest = -1; // age of the youngest text, URL or attachment fingerprint
        std::size_t at = 0;
        for (const std::string& fp : ctx.tx.fingerprints) {
            const std::size_t count = commands_for(cfg, fp);
            if (at + count > replies.size())
                break;
            const auto r = replies.subspan(at, count);
            at += count;
            const Reply& hit = r[kHit];
            if (hit.type == Reply::Type::array && hit.elements.size() == 4 && !hit.elements[0].is_nil()) {
                if (hit.elements[3].is_nil())
                    announce(ctx, fp, hit.elements);
                if (matched.size() < 200)
                    matched += matched.empty() ? fp : "," + fp;
                continue;
            }
            const std::int64_t messages = r[kIncr].as_integer(0) + r[kBefore].as_integer(0) * w.before / 1000;
            if (messages >= gate)
                ctx.tx.outbreak_spread.emplace_back(fp, messages);
            if (keeps_first(cfg, fp) && r[kIncr].type == Reply::Type::integer) {
                const std::int64_t age = w.now - r[kGetFirst].as_integer(w.now);
                if (youngest < 0 || age < youngest)
                    youngest = age;
            }
        }
        if (!matched.empty()) {
            ctx.tx.card.add("RAMPART_OUTBREAK", cfg.outbreak_score, matched);
            return;
        }
        if (cfg.outbreak_delay_s > 0 && youngest >= 0 && youngest < cfg.outbreak_delay_s && poor(ctx))
            ctx.tx.outbreak_delay_s = cfg.outbreak_delay_s - youngest;
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
        const Config& cfg = ctx.cfg;
        const Keys& k = ctx.rt.keys;
        const Window w(ctx.tx, cfg);
        if (!ctx.tx.outbreak_spread.empty()) {
            const std::string sender = ctx.tx.sender.empty() ? "<>" : lowercase(domain_of(ctx.tx.sender));
            const std::string net = ctx.client.net.to_string();
            for (const auto& [fp, messages] : ctx.tx.outbreak_spread)
                batch.eval(Script::outbreak,
                           {k.outbreak(fp, fmt::format("net:{}", w.number)),
                            k.outbreak(fp, fmt::format("net:{}", w.number - 1)),
                            k.outbreak(fp, fmt::format("from:{}", w.number)),
                            k.outbreak(fp, fmt::format("from:{}", w.number - 1)), k.outbreak(fp, "hit"),
                            k.outbreak(fp, "clear")},
                           {std::to_string(w.now), std::to_string(2 * cfg.outbreak_window_s), net, sender,
                            std::to_string(messages), std::to_string(cfg.outbreak_messages),
                            std::to_string(cfg.outbreak_networks), std::to_string(cfg.outbreak_domains),
                            std::to_string(cfg.outbreak_ttl_s), fp.substr(0, fp.find(':'))});
        }
        if (ctx.tx.new_outbreaks.empty())
            return;
        const std::string list = k.outbreak_list();
        for (const auto& fp : ctx.tx.new_outbreaks) {
            batch.add({"ZADD", list, std::to_string(w.now), fp});
            batch.add({"HSET", k.outbreak(fp, "hit"), "listed", std::to_string(w.now)});
        }
        // Outbreaks past their time leave the list as new ones come.
        batch.add({"ZREMRANGEBYSCORE", list, "-inf", fmt::format("({}", w.now - cfg.outbreak_ttl_s)});
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

    // The first copy a node sees of an outbreak not yet on the list: the
    // node logs it and lists it (record), once for the fleet but for a race.
    static void announce(Context& ctx, const std::string& fp, const std::vector<Reply>& hit)
    {
        ctx.tx.new_outbreaks.push_back(fp);
        log::warning("{}: outbreak: {} kind={} messages={} networks={} domains={} client={}",
                     ctx.tx.queue_id.empty() ? "NOQUEUE" : ctx.tx.queue_id, fp, fp.substr(0, fp.find(':')),
                     hit[0].as_integer(0), hit[1].as_integer(0), hit[2].as_integer(0),
                     ctx.client.ip ? ctx.client.ip->to_string() : "local");
    }
};

} // namespace

const Check& outbreak_check()
{
    static const OutbreakCheck check;
    return check;
}

} // namespace rampart
