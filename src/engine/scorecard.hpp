// NAME
//   scorecard.hpp - the symbols a message collected, and their sum
// DESCRIPTION
//   A symbol is a name (RAMPART_...), a score and a short detail. A symbol
//   added twice keeps its first entry: a check that fires once per recipient
//   counts once.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rampart {

struct Symbol {
    std::string name;
    double score = 0;
    std::string detail;
};

class Scorecard {
  public:
    void add(std::string_view name, double score, std::string_view detail = {});
    bool has(std::string_view name) const;
    // Gives the symbol `name`, if present, another score (an admin's override).
    void rescore(std::string_view name, double score);
    double total() const;
    const std::vector<Symbol>& symbols() const { return d_symbols; }
    // Drops the symbols added after the first `count` (a step undone).
    void truncate(std::size_t count)
    {
        if (count < d_symbols.size())
            d_symbols.resize(count);
    }
    // "NAME(1.50),OTHER(0.00)" sorted by score, highest first.
    std::string summary() const;

  private:
    std::vector<Symbol> d_symbols;
};

} // namespace rampart
