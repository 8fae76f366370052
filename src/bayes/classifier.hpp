// NAME
//   classifier.hpp - Robinson-Fisher combination of token statistics
// DESCRIPTION
//   Each token seen in learned mail has spam and ham counts. Its spam
//   probability is Robinson's smoothed estimate
//
//     p(w) = (ns_w / Nspam) / (ns_w / Nspam + nh_w / Nham)
//     f(w) = (s * x + n_w * p(w)) / (s + n_w),  n_w = ns_w + nh_w
//
//   (s: strength of the prior x for rarely seen tokens). Tokens whose f(w)
//   is within min_strength of 0.5 say little and are left out; of the
//   rest, the max_tokens farthest from 0.5 are combined with Fisher's
//   method: H = C(-2 ln prod f, 2n), S = C(-2 ln prod (1 - f), 2n), where C
//   is the chi-square survival function, and the message's spam
//   probability is (1 + H - S) / 2. It is near 1 or 0 only when many tokens
//   agree, and near 0.5 when the evidence is thin or mixed. Its nines,
//   -log10(1 - p), are computed from ln H and ln S, so that two messages
//   whose p both round to 1.0 still rank by how sure the verdict is.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace rampart::bayes {

struct TokenCounts {
    std::uint32_t spam = 0;
    std::uint32_t ham = 0;
};

struct ClassifierSettings {
    double strength = 1.0;     // s
    double prior = 0.5;        // x
    double min_strength = 0.1; // |f(w) - 0.5| needed for a token to count
    std::size_t max_tokens = 150;
};

// The "nines" of a probability p, -log10(1 - p): 1 for 0.9, 3 for 0.999.
// Where p rounds to 1 in a double the nines still tell messages apart.
inline constexpr double kHalfNines = 0.30102999566398120; // of p = 0.5
inline constexpr double kMaxNines = 300;
inline double nines_of(double p) { return -std::log10(1 - p); }

struct Classification {
    double probability = 0.5;  // that the message is spam
    std::size_t tokens = 0;    // how many tokens were combined
    double nines = kHalfNines; // -log10(1 - probability), at most kMaxNines
};

// Chi-square survival function Q(x2 | dof) for an even number of degrees of freedom.
// Its natural logarithm, which stays finite where Q underflows, and that of
// the distribution function 1 - Q, exact where Q rounds to 1.
double chi2_survival(double x2, std::size_t dof);
double log_chi2_survival(double x2, std::size_t dof);
double log_chi2_cdf(double x2, std::size_t dof);

// nullopt when no class has learned messages or no token counts.
std::optional<Classification> classify(std::span<const TokenCounts> tokens, std::uint64_t learned_spam,
                                       std::uint64_t learned_ham, const ClassifierSettings& s);

} // namespace rampart::bayes
