// NAME
//   registry.cpp - the list of checks, in the order they run within a phase
// DESCRIPTION
//   BATV comes first: it spends nothing, and a recipient whose tag it
//   strips is seen plain by the lists and counters after it. Then the
//   lists: an allow or block entry settles the message before any counter
//   is spent on it; then a locked account, before the rate
//   counters are charged for its mail. The content check comes before the
//   heuristics and rules that read what its parse found.
#include "checks/check.hpp"

#include "config/config.hpp"
#include "engine/runtime.hpp"

namespace rampart {

const Check& batv_check();
const Check& lists_check();
const Check& account_check();
const Check& mailbomb_check();
const Check& greylist_check();
const Check& outbreak_check();
const Check& flood_check();
const Check& ratelimit_check();
const Check& reputation_check();
const Check& dnsbl_check();
const Check& rdns_check();
const Check& helo_check();
const Check& spf_check();
const Check& dkim_check();
const Check& dmarc_check();
const Check& uribl_check();
const Check& gtube_check();
const Check& size_check();
const Check& content_check();
const Check& date_check();
const Check& message_id_check();
const Check& from_check();
const Check& reply_to_check();
const Check& subject_check();
const Check& body_structure_check();
const Check& attachments_check();
const Check& links_check();
const Check& rules_check();
const Check& bayes_check();

bool Check::answers_in(Phase p, const Runtime& rt) const { return runs_in(p, *rt.config); }

bool ContentHeuristic::runs_in(Phase p, const Config& cfg) const { return p == Phase::eom && cfg.content_enabled; }

std::span<const Check* const> all_checks()
{
    // The content check finishes the parse at end of message, so it comes
    // before the checks that read what the parse found.
    static const Check* const checks[] = {
        &batv_check(),           &lists_check(),       &account_check(),    &ratelimit_check(),
        &flood_check(),          &mailbomb_check(),    &reputation_check(), &dnsbl_check(),
        &rdns_check(),           &helo_check(),        &spf_check(),        &dkim_check(),
        &gtube_check(),          &size_check(),        &content_check(),    &date_check(),
        &message_id_check(),     &from_check(),        &reply_to_check(),   &subject_check(),
        &body_structure_check(), &attachments_check(), &links_check(),      &rules_check(),
        &bayes_check(),          &dmarc_check(),       &uribl_check(),      &outbreak_check(),
        &greylist_check()};
    return checks;
}

} // namespace rampart
