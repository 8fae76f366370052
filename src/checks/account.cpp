// NAME
//   account.cpp - compromised accounts: the outbound mail of authenticated senders
// SUMMARY
//   A customer's hijacked account sends spam until the provider is on every
//   block list. Per authenticated login (the MTA's {auth_authen}), fleet-wide
//   in Redis, over windows of account.window_s: messages, recipients,
//   distinct recipient domains and distinct client addresses (HyperLogLog),
//   each against its limit or, when higher, account.baseline_factor times
//   the account's own baseline (a decayed average of its past active
//   windows); and the decayed share of spam verdicts on its mail. A normal
//   heavy sender's baseline lets it through; a quiet account that suddenly
//   sends a thousand messages is stopped at the limit.
//
//   An account over a limit is a suspect, and gets account.action: notify
//   (the log line and account.notify_* only), throttle (its mail is
//   tempfailed until the window ends), hold (its mail is quarantined until
//   the window ends) or lock (every message tempfailed until `rampartctl
//   account unlock`). Every action logs, once per block:
//     QID: account LOGIN: suspect: REASON; action=ACTION client=IP
//   and hands the event to account.notify_command and account.notify_url.
//   A block is noted in the node's memory for up to 10 s, so that the
//   account's next MAIL FROM is refused without waiting for Redis.
// PHASES
//   mail (HMGET of the block, in the MAIL FROM pipeline sent without
//   waiting; a block in memory answers at once), eom (one EVALSHA in the
//   end-of-message pipeline: count and judge), record (the verdict and the
//   login's last-seen time, sent in the background).
// REDIS KEYS
//   PREFIX{acct:USER}:stat, PREFIX{acct:USER}:dom:WINDOW,
//   PREFIX{acct:USER}:ip:WINDOW, PREFIX{acct:USER}:block, PREFIX account:seen,
//   PREFIX account:locked
// SYMBOLS
//   RAMPART_ACCOUNT_MESSAGES, RAMPART_ACCOUNT_RECIPIENTS,
//   RAMPART_ACCOUNT_DOMAINS, RAMPART_ACCOUNT_ADDRESSES, RAMPART_ACCOUNT_SPAM
//   (0: the account is a suspect), RAMPART_ACCOUNT_LOCKED,
//   RAMPART_ACCOUNT_THROTTLED, RAMPART_ACCOUNT_HELD (0: its block applies)
// SETTINGS
//   account.*, reply.account_locked, reply.account_throttled
#include "checks/check.hpp"
#include "checks/limit_cache.hpp"
#include "config/config.hpp"
#include "engine/runtime.hpp"
#include "util/log.hpp"
#include "util/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace rampart {
namespace {

constexpr std::size_t kMaxDomains = 1000; // distinct recipient domains of one message sent to the HyperLogLog
constexpr std::int64_t kMemoryMs = std::chrono::duration_cast<std::chrono::milliseconds>(LimitCache::kMaxHold).count();

const char* const kSuspectSymbols[] = {"RAMPART_ACCOUNT_MESSAGES", "RAMPART_ACCOUNT_RECIPIENTS",
                                       "RAMPART_ACCOUNT_DOMAINS", "RAMPART_ACCOUNT_ADDRESSES", "RAMPART_ACCOUNT_SPAM"};

std::int64_t epoch_seconds(std::chrono::system_clock::time_point t)
{
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

class AccountCheck final : public Check {
  public:
    std::string_view name() const override { return "account"; }

    bool runs_in(Phase p, const Config& cfg) const override
    {
        return cfg.account_enabled && (p == Phase::mail || p == Phase::eom);
    }
    bool answers_in(Phase p, const Runtime& rt) const override { return p == Phase::mail && runs_in(p, *rt.config); }
    bool uses_redis(Phase p, const Config& cfg) const override { return runs_in(p, cfg); }

    void request(Phase p, Context& ctx, Batch& batch) const override
    {
        if (!judged(ctx))
            return;
        const std::string& user = ctx.tx.auth_user;
        if (p == Phase::mail) {
            const auto key = ctx.rt.keys.account_block(user);
            for (const char* kind : {"lock", "throttle"}) // known here: refused without waiting for Redis
                if (ctx.rt.limits->full_for_ms(memory_key(key, kind)) > 0) {
                    apply(ctx, kind, "noted by this node");
                    return;
                }
            batch.add({"HMGET", key, "kind", "reason"});
            return;
        }
        const Config& cfg = ctx.cfg;
        const auto now = epoch_seconds(ctx.tx.arrival);
        const auto window = now / cfg.account_window_s;
        std::vector<std::string> domains;
        for (const auto& r : ctx.tx.recipients)
            if (const auto d = domain_of(r); !d.empty())
                domains.push_back(lowercase(d));
        std::sort(domains.begin(), domains.end());
        domains.erase(std::unique(domains.begin(), domains.end()), domains.end());
        if (domains.size() > kMaxDomains)
            domains.resize(kMaxDomains);
        const double alpha = 2.0 / (static_cast<double>(cfg.account_baseline_windows) + 1);
        std::vector<std::string> argv = {std::to_string(now),
                                         std::to_string(cfg.account_window_s),
                                         std::to_string(ctx.tx.recipients.size()),
                                         ctx.client.ip ? ctx.client.ip->to_string() : "",
                                         std::to_string(cfg.account_ttl_s),
                                         std::to_string(cfg.account_messages),
                                         std::to_string(cfg.account_recipients),
                                         std::to_string(cfg.account_domains),
                                         std::to_string(cfg.account_ips),
                                         fmt::format("{}", cfg.account_baseline_factor),
                                         fmt::format("{}", alpha),
                                         fmt::format("{}", cfg.account_spam_share),
                                         std::to_string(cfg.account_spam_min_messages),
                                         std::to_string(cfg.account_spam_half_life_s),
                                         cfg.account_action};
        argv.insert(argv.end(), domains.begin(), domains.end());
        const Keys& k = ctx.rt.keys;
        batch.eval(
            Script::account_count,
            {k.account_stat(user), k.account_domains(user, window), k.account_ips(user, window), k.account_block(user)},
            std::move(argv));
    }

    void decide(Phase p, Context& ctx, std::span<const Reply> replies) const override
    {
        if (replies.empty() || replies[0].type != Reply::Type::array)
            return;
        const auto& e = replies[0].elements;
        if (p == Phase::mail) {
            if (e.size() == 2 && e[0].type == Reply::Type::string)
                apply(ctx, e[0].str, e[1].str);
            return;
        }
        if (e.size() != 9)
            return;
        const auto suspect = e[0].as_integer(0);
        if (suspect < 1 || suspect > 5)
            return;
        const std::string& reason = e[8].str;
        ctx.tx.card.add(kSuspectSymbols[suspect - 1], 0, reason);
        const std::string& action = ctx.cfg.account_action;
        if (action != "notify")
            apply(ctx, action, reason);
        if (e[3].as_integer(0) != 1)
            return; // blocked, or notified, before
        const std::string qid = ctx.tx.queue_id.empty() ? "NOQUEUE" : ctx.tx.queue_id;
        const std::string client = ctx.client.ip ? ctx.client.ip->to_string() : "unknown";
        log::warning("{}: account {}: suspect: {}; action={} client={}", qid, printable(ctx.tx.auth_user),
                     printable(reason), action, client);
        if (action == "lock") {
            Batch b;
            b.add({"SADD", ctx.rt.keys.account_locked(), ctx.tx.auth_user});
            ctx.rt.store->post(std::move(b));
        }
        if (ctx.rt.notifier)
            ctx.rt.notifier->notify({ctx.tx.auth_user, action, reason, qid, client, epoch_seconds(ctx.tx.arrival)});
    }

    void record(Category c, const Context& ctx, Batch& batch) const override
    {
        if (!ctx.cfg.account_enabled || !judged(ctx))
            return;
        const auto now = epoch_seconds(ctx.tx.arrival);
        const Keys& k = ctx.rt.keys;
        batch.eval(Script::account_verdict, {k.account_stat(ctx.tx.auth_user)},
                   {std::to_string(now), std::to_string(ctx.cfg.account_spam_half_life_s),
                    c == Category::clean ? "clean" : "spam", std::to_string(ctx.cfg.account_ttl_s)});
        batch.add({"ZADD", k.account_seen(), std::to_string(now), ctx.tx.auth_user});
        batch.add({"ZREMRANGEBYSCORE", k.account_seen(), "-inf", std::to_string(now - ctx.cfg.account_ttl_s)});
    }

  private:
    static bool judged(const Context& ctx)
    {
        const auto& user = ctx.tx.auth_user;
        return !user.empty() && std::none_of(ctx.cfg.account_exempt.begin(), ctx.cfg.account_exempt.end(),
                                             [&](const std::string& x) { return iequals(x, user); });
    }

    static std::string memory_key(const std::string& block_key, std::string_view kind)
    {
        return fmt::format("{}|{}", block_key, kind);
    }

    // The account's block applies to the message under way.
    static void apply(Context& ctx, std::string_view kind, std::string_view reason)
    {
        const auto key = ctx.rt.keys.account_block(ctx.tx.auth_user);
        if (kind == "lock" || kind == "throttle") {
            ctx.rt.limits->note_full(memory_key(key, kind), kMemoryMs);
            if (ctx.tx.answer.settles())
                return;
            const bool lock = kind == "lock";
            ctx.tx.answer = Answer::tempfail(lock ? ctx.cfg.reply_account_locked : ctx.cfg.reply_account_throttled);
            ctx.tx.card.add(lock ? "RAMPART_ACCOUNT_LOCKED" : "RAMPART_ACCOUNT_THROTTLED", 0, printable(reason));
        } else if (kind == "hold" && ctx.tx.hold.empty()) {
            ctx.tx.hold = fmt::format("rampart: account {} held: {}", printable(ctx.tx.auth_user), printable(reason));
            ctx.tx.card.add("RAMPART_ACCOUNT_HELD", 0, printable(reason));
        }
    }
};

} // namespace

const Check& account_check()
{
    static const AccountCheck check;
    return check;
}

} // namespace rampart
