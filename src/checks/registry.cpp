// NAME
//   registry.cpp - the list of checks, in the order they run within a phase
// DESCRIPTION
//   Lists come first: an allow or block entry settles the message before
//   any counter is spent on it.
#include "checks/check.hpp"

#include "engine/runtime.hpp"

namespace rampart {

const Check& lists_check();
const Check& ratelimit_check();
const Check& reputation_check();
const Check& gtube_check();

bool Check::answers_in(Phase p, const Runtime& rt) const { return runs_in(p, *rt.config); }

std::span<const Check* const> all_checks()
{
    static const Check* const checks[] = {&lists_check(), &ratelimit_check(), &reputation_check(), &gtube_check()};
    return checks;
}

} // namespace rampart
