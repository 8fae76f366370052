// NAME
//   bayes.cpp - Bayesian classification with statistics shared in Redis
// SUMMARY
//   At end of message the message's tokens (bayes/tokens.hpp) are looked up
//   in the fleet's statistics (bayes/token_store.hpp) and combined
//   (bayes/classifier.hpp) into a spam probability p. Once at least
//   bayes.min_spam spam and bayes.min_ham ham messages were learned:
//     RAMPART_BAYES_SPAM = spam_score * min(1, (p - spam_threshold) / (spam_full - spam_threshold))
//                        + nines_score * clamp((nines(p) - nines(spam_full)) / (nines_full - nines(spam_full)), 0, 1)
//                                                                                 when p > spam_threshold
//   where nines(p) = -log10(1 - p) (classifier.hpp): the first term decides
//   spam or not, the second ranks the messages that are spam for sure, so
//   that a sweep of the threshold (and confirmed spam) finds no ties at the
//   top.
//     RAMPART_BAYES_HAM  = -ham_score * (ham_threshold - p) / ham_threshold          when p < ham_threshold
//   With bayes.per_domain, a message whose recipients all share one domain
//   is classified with that domain's statistics added to the global ones.
//
//   With bayes.autolearn, a decided message whose score without the Bayes
//   symbol reaches autolearn_spam_score is learned as spam, one at or
//   below autolearn_ham_score as ham (in the background, like the other
//   records). Messages a check forced (allow lists, GTUBE) and tempfailed
//   ones are never learned. Each learn sweeps bayes.expire_buckets random
//   buckets for rare stale tokens.
// PHASES
//   eom (read: one pipeline the verdict waits for; record: autolearn).
// REDIS KEYS
//   PREFIX{bayes:SHARD}:tok:BUCKET, :meta, :seen:DIGEST (store/keys.hpp)
// SYMBOLS
//   RAMPART_BAYES_SPAM (0 .. bayes.spam_score + bayes.nines_score), RAMPART_BAYES_HAM (-bayes.ham_score .. 0)
// SETTINGS
//   bayes.* (rampart.conf(5))
#include "checks/bayes.hpp"
#include "bayes/classifier.hpp"
#include "bayes/token_store.hpp"
#include "bayes/tokens.hpp"
#include "checks/check.hpp"
#include "config/config.hpp"
#include "engine/runtime.hpp"
#include "util/log.hpp"
#include "util/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>

namespace rampart {
namespace {

constexpr std::string_view kSpamSymbol = "RAMPART_BAYES_SPAM";
constexpr std::string_view kHamSymbol = "RAMPART_BAYES_HAM";

// The domain all recipients share; "" when they are in more than one.
std::string common_domain(const std::vector<std::string>& rcpts)
{
    std::string domain;
    for (const auto& r : rcpts) {
        const std::string d = lowercase(domain_of(r));
        if (d.empty() || (!domain.empty() && d != domain))
            return {};
        domain = d;
    }
    return domain;
}

} // namespace

double bayes_score(const Config& cfg, double p, double nines)
{
    if (p < cfg.bayes_ham_threshold)
        return -cfg.bayes_ham_score * (cfg.bayes_ham_threshold - p) / cfg.bayes_ham_threshold;
    if (p <= cfg.bayes_spam_threshold)
        return 0;
    const double span = cfg.bayes_spam_full - cfg.bayes_spam_threshold;
    double score = cfg.bayes_spam_score * (span > 0 ? std::min(1.0, (p - cfg.bayes_spam_threshold) / span) : 1.0);
    if (cfg.bayes_spam_full < 1) {
        const double full_nines = bayes::nines_of(cfg.bayes_spam_full);
        const double nines_span = cfg.bayes_nines_full - full_nines;
        if (nines_span > 0)
            score += cfg.bayes_nines_score * std::clamp((nines - full_nines) / nines_span, 0.0, 1.0);
    }
    return score;
}

namespace {

class BayesCheck final : public Check {
  public:
    std::string_view name() const override { return "bayes"; }
    bool runs_in(Phase p, const Config& cfg) const override { return cfg.bayes_enabled && p == Phase::eom; }
    bool answers_in(Phase, const Runtime&) const override { return false; }
    bool uses_redis(Phase p, const Config& cfg) const override { return runs_in(p, cfg); }

    void request(Phase, Context& ctx, Batch& batch) const override
    {
        const Config& cfg = ctx.cfg;
        ctx.tx.bayes_tokens =
            bayes::message_tokens(ctx.tx.headers, content_of(ctx.tx),
                                  {static_cast<std::size_t>(cfg.bayes_message_tokens), cfg.bayes_bigrams});
        if (cfg.bayes_per_domain)
            ctx.tx.bayes_scope = common_domain(ctx.tx.recipients);
        if (ctx.tx.bayes_tokens.empty())
            return;
        bayes::add_read(ctx.rt.keys, bayes::layout_of(cfg), ctx.tx.bayes_tokens, batch);
        if (!ctx.tx.bayes_scope.empty())
            bayes::add_read(ctx.rt.keys, bayes::layout_of(cfg, ctx.tx.bayes_scope), ctx.tx.bayes_tokens, batch);
    }

    void decide(Phase, Context& ctx, std::span<const Reply> replies) const override
    {
        const Config& cfg = ctx.cfg;
        const auto& tokens = ctx.tx.bayes_tokens;
        if (tokens.empty())
            return;
        const auto global_layout = bayes::layout_of(cfg);
        const std::size_t n = bayes::read_commands(global_layout, tokens);
        auto st = bayes::parse_read(replies.first(std::min(n, replies.size())), global_layout, tokens);
        if (!st)
            return;
        if (st->buckets != 0 && st->buckets != cfg.bayes_buckets) {
            static std::atomic<bool> warned{false};
            if (!warned.exchange(true))
                log::warning("bayes: the statistics were learned with bayes.buckets = {}, the configuration says {}; "
                             "messages are not classified",
                             st->buckets, cfg.bayes_buckets);
            return;
        }
        if (!ctx.tx.bayes_scope.empty() && replies.size() > n)
            if (const auto d =
                    bayes::parse_read(replies.subspan(n), bayes::layout_of(cfg, ctx.tx.bayes_scope), tokens)) {
                st->spam += d->spam;
                st->ham += d->ham;
                for (std::size_t i = 0; i < tokens.size(); ++i) {
                    st->counts[i].spam += d->counts[i].spam;
                    st->counts[i].ham += d->counts[i].ham;
                }
            }
        if (st->spam < static_cast<std::uint64_t>(cfg.bayes_min_spam) ||
            st->ham < static_cast<std::uint64_t>(cfg.bayes_min_ham))
            return;
        const bayes::ClassifierSettings s{cfg.bayes_strength, cfg.bayes_prior, cfg.bayes_min_token_strength,
                                          static_cast<std::size_t>(cfg.bayes_max_tokens)};
        const auto c = bayes::classify(st->counts, st->spam, st->ham, s);
        if (!c)
            return;
        const double p = c->probability;
        const auto detail = fmt::format("p={:.4f} nines={:.1f} tokens={}", p, c->nines, c->tokens);
        if (p > cfg.bayes_spam_threshold)
            ctx.tx.card.add(std::string(kSpamSymbol), bayes_score(cfg, p, c->nines), detail);
        else if (p < cfg.bayes_ham_threshold)
            ctx.tx.card.add(std::string(kHamSymbol), bayes_score(cfg, p, c->nines), detail);
    }

    void record(Category, const Context& ctx, Batch& batch) const override
    {
        const Config& cfg = ctx.cfg;
        if (!cfg.bayes_enabled || !cfg.bayes_autolearn || ctx.tx.forced || ctx.client.allowed ||
            ctx.tx.bayes_tokens.empty())
            return;
        double score = ctx.tx.card.total();
        for (const auto& sym : ctx.tx.card.symbols())
            if (sym.name == kSpamSymbol || sym.name == kHamSymbol)
                score -= sym.score;
        bayes::LearnClass c;
        if (score >= cfg.bayes_autolearn_spam_score)
            c = bayes::LearnClass::spam;
        else if (score <= cfg.bayes_autolearn_ham_score)
            c = bayes::LearnClass::ham;
        else
            return;
        bayes::add_message_learn(cfg, ctx.rt.keys, ctx.tx.headers, ctx.tx.bayes_tokens, c, ctx.tx.bayes_scope, batch);
    }
};

} // namespace

const Check& bayes_check()
{
    static const BayesCheck check;
    return check;
}

} // namespace rampart
