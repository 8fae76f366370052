// NAME
//   rules.cpp - the rules of rampart-rules(5) on one message
// SUMMARY
//   The message's scan (rules::RuleScan) is begun by the content check at
//   the first body chunk, which streams the raw body, the whole message and
//   the decoded text into it. At end of message this check scans each
//   header field (RFC 2047 words decoded) and each URL the parser found,
//   evaluates the meta rules, and adds every rule that hit with its score
//   and description. Rule symbols are the rules' own names, not RAMPART_.
// PHASES
//   eom. No Redis.
// SYMBOLS
//   the names of the rules that hit, with their scores (rampart-rules(5))
// SETTINGS
//   rules.enabled, rules.shipped, rules.files
#include "checks/check.hpp"
#include "config/config.hpp"
#include "engine/runtime.hpp"
#include "mime/content.hpp"
#include "mime/encoded_words.hpp"
#include "ruleset/ruleset.hpp"

namespace rampart {
namespace {

class RulesCheck final : public Check {
  public:
    std::string_view name() const override { return "rules"; }

    bool runs_in(Phase p, const Config& cfg) const override { return p == Phase::eom && cfg.rules_enabled; }
    bool answers_in(Phase, const Runtime&) const override { return false; }

    void decide(Phase, Context& ctx, std::span<const Reply>) const override
    {
        Transaction& tx = ctx.tx;
        if (!tx.rules)
            return; // no rules loaded
        for (const auto& [name, value] : tx.headers) {
            if (!tx.rules->wants_header(name))
                continue;
            if (value.find("=?") == std::string::npos)
                tx.rules->header(name, value); // nothing to decode; the scan repairs bad UTF-8 itself
            else
                tx.rules->header(name, decode_header_value(value).text);
        }
        if (const mime::Content* c = content_of(tx))
            for (const auto& url : c->urls)
                tx.rules->uri(url.text);
        tx.rules->finish(tx.card);
    }
};

} // namespace

const Check& rules_check()
{
    static const RulesCheck check;
    return check;
}

} // namespace rampart
