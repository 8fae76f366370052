// NAME
//   bayes.hpp - the scores of RAMPART_BAYES_SPAM and RAMPART_BAYES_HAM
// DESCRIPTION
//   The Bayes check (bayes.cpp) turns a message's spam probability p and
//   its nines, -log10(1 - p), into a score; the
//   accuracy benchmark's fitting (bench/bayes-cv.cpp) scores with the same
//   function.
#pragma once

namespace rampart {

struct Config;

// For p above bayes.spam_threshold, the score of RAMPART_BAYES_SPAM: rises
// linearly to bayes.spam_score at bayes.spam_full, then adds up to
// bayes.nines_score as the nines grow from spam_full's to bayes.nines_full.
// For p below bayes.ham_threshold, the (negative) score of RAMPART_BAYES_HAM.
// 0 between the two.
double bayes_score(const Config& cfg, double p, double nines);

} // namespace rampart
