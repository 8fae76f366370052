#include "bayes/classifier.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace rampart::bayes {

double log_chi2_survival(double x2, std::size_t dof)
{
    // Q = exp(-m) * sum_{i < dof/2} m^i / i!, summed in logarithms so that a
    // large m does not underflow before the terms grow.
    if (x2 <= 0)
        return 0.0;
    const double m = x2 / 2;
    double log_term = -m, log_sum = -m;
    for (std::size_t i = 1; i < dof / 2; ++i) {
        log_term += std::log(m / static_cast<double>(i));
        const double hi = std::max(log_sum, log_term), lo = std::min(log_sum, log_term);
        log_sum = hi + std::log1p(std::exp(lo - hi));
    }
    return std::min(0.0, log_sum);
}

double chi2_survival(double x2, std::size_t dof) { return std::exp(log_chi2_survival(x2, dof)); }

namespace {

// ln(1 - Q) given ln Q, which the caller has already: where m >= n the
// survival is at most about one half and 1 - Q loses nothing.
double log_chi2_cdf(double x2, std::size_t dof, double ln_q)
{
    if (x2 <= 0)
        return -std::numeric_limits<double>::infinity();
    const double m = x2 / 2;
    const std::size_t n = dof / 2;
    if (m >= static_cast<double>(n))
        return std::log1p(-std::exp(ln_q));
    // Else 1 - Q = exp(-m) * sum_{i >= n} m^i / i!, the series' tail summed
    // from its largest term down, in logarithms.
    double log_term = static_cast<double>(n) * std::log(m) - std::lgamma(static_cast<double>(n) + 1);
    double log_sum = log_term;
    for (std::size_t i = n + 1; log_term > log_sum - 40; ++i) {
        log_term += std::log(m / static_cast<double>(i));
        log_sum += std::log1p(std::exp(log_term - log_sum));
    }
    return std::min(0.0, -m + log_sum);
}

} // namespace

double log_chi2_cdf(double x2, std::size_t dof) { return log_chi2_cdf(x2, dof, log_chi2_survival(x2, dof)); }

std::optional<Classification> classify(std::span<const TokenCounts> tokens, std::uint64_t learned_spam,
                                       std::uint64_t learned_ham, const ClassifierSettings& s)
{
    if (learned_spam == 0 || learned_ham == 0)
        return std::nullopt;
    const double nspam = static_cast<double>(learned_spam), nham = static_cast<double>(learned_ham);
    std::vector<double> f;
    f.reserve(tokens.size());
    for (const auto& t : tokens) {
        if (t.spam == 0 && t.ham == 0)
            continue;
        // A count above the class's messages (a relearn in flight) is read as all of them.
        const double rs = std::min(1.0, t.spam / nspam), rh = std::min(1.0, t.ham / nham);
        const double p = rs / (rs + rh);
        const double n = static_cast<double>(t.spam) + t.ham;
        const double fw = (s.strength * s.prior + n * p) / (s.strength + n);
        if (std::abs(fw - 0.5) >= s.min_strength)
            f.push_back(std::clamp(fw, 1e-6, 1 - 1e-6));
    }
    if (f.empty())
        return Classification{};
    if (f.size() > s.max_tokens) {
        const auto far = [](double a, double b) { return std::abs(a - 0.5) > std::abs(b - 0.5); };
        std::nth_element(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(s.max_tokens), f.end(), far);
        f.resize(s.max_tokens);
    }
    double ln_f = 0, ln_1f = 0;
    for (double x : f) {
        ln_f += std::log(x);
        ln_1f += std::log1p(-x);
    }
    const double ln_h = log_chi2_survival(-2 * ln_f, 2 * f.size());
    const double ln_s = log_chi2_survival(-2 * ln_1f, 2 * f.size());
    // 1 - p = ((1 - H) + S) / 2, with ln(1 - H) from the distribution
    // function itself, so that it keeps its digits where p rounds to 1.
    const double ln_1h = log_chi2_cdf(-2 * ln_f, 2 * f.size(), ln_h);
    const double hi = std::max(ln_1h, ln_s), lo = std::min(ln_1h, ln_s);
    const double ln_1p = hi + std::log1p(std::exp(lo - hi)) - std::log(2.0);
    const double nines = std::isfinite(ln_1p) ? std::clamp(-ln_1p / std::log(10.0), 0.0, kMaxNines) : kMaxNines;
    return Classification{(1 + std::exp(ln_h) - std::exp(ln_s)) / 2, f.size(), nines};
}

} // namespace rampart::bayes
