#include "engine/scorecard.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace rampart {

void Scorecard::add(std::string_view name, double score, std::string_view detail)
{
    if (!has(name))
        d_symbols.push_back({std::string(name), score, std::string(detail)});
}

bool Scorecard::has(std::string_view name) const
{
    return std::any_of(d_symbols.begin(), d_symbols.end(), [&](const Symbol& s) { return s.name == name; });
}

double Scorecard::total() const
{
    double t = 0;
    for (const auto& s : d_symbols)
        t += s.score;
    return t;
}

std::string Scorecard::summary() const
{
    std::vector<const Symbol*> sorted;
    for (const auto& s : d_symbols)
        sorted.push_back(&s);
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const Symbol* a, const Symbol* b) { return a->score > b->score; });
    std::string out;
    for (const Symbol* s : sorted) {
        if (!out.empty())
            out += ',';
        out += fmt::format("{}({:.2f})", s->name, s->score);
    }
    return out;
}

void Scorecard::rescore(std::string_view name, double score)
{
    for (auto& s : d_symbols)
        if (s.name == name)
            s.score = score;
}

} // namespace rampart
