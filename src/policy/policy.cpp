#include "policy/policy.hpp"

#include "util/text.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace rampart {

Answer Answer::reject(const std::string& reply)
{
    const auto space = reply.find(' ');
    return {Kind::reject, "550", reply.substr(0, space), space == std::string::npos ? "" : reply.substr(space + 1)};
}

Answer Answer::tempfail(const std::string& reply)
{
    const auto space = reply.find(' ');
    return {Kind::tempfail, "451", reply.substr(0, space), space == std::string::npos ? "" : reply.substr(space + 1)};
}

Category categorize(const Config& cfg, const Scorecard& card, std::optional<Category> forced)
{
    if (forced)
        return *forced;
    const double score = card.total();
    if (score >= cfg.category_confirmed_spam_score)
        return Category::confirmed_spam;
    if (score >= cfg.category_spam_score)
        return Category::spam;
    return Category::clean;
}

bool is_rampart_header(std::string_view name)
{
    return iequals(name, "X-Spam-Status") || iequals(name, "X-Spam-Score") ||
           (name.size() >= 10 && iequals(name.substr(0, 10), "X-Rampart-"));
}

bool is_verdict_header(std::string_view name)
{
    return iequals(name, "X-Spam-Status") || iequals(name, "X-Spam-Score") || iequals(name, "X-Rampart-Category") ||
           iequals(name, "X-Rampart-Symbols");
}

Outcome decide_outcome(const Config& cfg, const Transaction& tx, Category category, Action action)
{
    Outcome out;
    switch (action) {
    case Action::reject: out.answer = Answer::reject(cfg.reply_reject); return out;
    case Action::tempfail: out.answer = Answer::tempfail(cfg.reply_tempfail); return out;
    case Action::discard: out.answer.kind = Answer::Kind::discard; return out;
    case Action::quarantine:
        out.quarantine_reason = fmt::format("rampart: category={} score={:.2f}", to_string(category), tx.card.total());
        break;
    case Action::accept:
    case Action::tag: break;
    }
    out.answer.kind = Answer::Kind::accept;

    // Highest occurrence first, so that removing one does not renumber the next.
    for (const auto& [name, count] : tx.forged_headers)
        for (int index = count; index >= 1; --index)
            out.edits.push_back({HeaderEdit::Op::remove, name, index, {}});

    const bool is_spam = category != Category::clean;
    const double score = tx.card.total();
    out.edits.push_back(
        {HeaderEdit::Op::add, "X-Spam-Status", 0, fmt::format("{}, score={:.2f}", is_spam ? "Yes" : "No", score)});
    if (action != Action::tag)
        return out;
    out.edits.push_back({HeaderEdit::Op::add, "X-Spam-Score", 0, fmt::format("{:.2f}", score)});
    out.edits.push_back({HeaderEdit::Op::add, "X-Rampart-Category", 0, to_string(category)});
    const auto symbols = tx.card.summary();
    out.edits.push_back({HeaderEdit::Op::add, "X-Rampart-Symbols", 0, symbols.empty() ? "none" : symbols});
    const auto& prefix = cfg.tag_subject_prefix;
    // A message rampart signs keeps its Subject: the signature covers it.
    if (is_spam && !prefix.empty() && !tx.subject_too_long && tx.dkim_signature.empty()) {
        if (!tx.has_subject)
            out.edits.push_back({HeaderEdit::Op::add, "Subject", 0, prefix});
        else if (!tx.subject.starts_with(prefix))
            out.edits.push_back({HeaderEdit::Op::change, "Subject", 1, prefix + tx.subject});
    }
    return out;
}

} // namespace rampart
