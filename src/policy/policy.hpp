// NAME
//   policy.hpp - scorecard to category, category to action, action to outcome
// DESCRIPTION
//   The category is the one a check forced (allow list: clean; GTUBE:
//   confirmed spam) or else the score against category.spam_score and
//   category.confirmed_spam_score. The action is action.<category>. The
//   outcome carries the reply and the header edits: incoming copies of the
//   headers rampart writes are removed, every delivered message gets
//   X-Spam-Status, and the tag action adds X-Spam-Score, X-Rampart-Category,
//   X-Rampart-Symbols and the optional subject prefix.
#pragma once

#include "config/config.hpp"
#include "engine/answer.hpp"
#include "engine/facts.hpp"

namespace rampart {

Category categorize(const Config& cfg, const Scorecard& card, std::optional<Category> forced);

// True for the headers rampart writes, which are never trusted from outside.
bool is_rampart_header(std::string_view name);
// True for the verdict headers rampart adds itself (X-Spam-Status, X-Spam-Score,
// X-Rampart-Category, X-Rampart-Symbols): removed from every message, whatever else it holds.
bool is_verdict_header(std::string_view name);

Outcome decide_outcome(const Config& cfg, const Transaction& tx, Category category, Action action);

} // namespace rampart
