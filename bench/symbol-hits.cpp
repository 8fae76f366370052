// NAME
//   symbol-hits - how often each symbol fires on spam and on ham of a corpus split
// SYNOPSIS
//   rampart-symbol-hits [--each] SPLIT.tsv CORPUS_DIR [RULES_DIR]
// DESCRIPTION
//   Plays every message of a split (lines "GROUP<TAB>CLASS<TAB>PATH", as in
//   the project's train/test split of the SpamAssassin corpus) through a
//   Session with the content checks and the shipped rules, without Redis,
//   and prints, per symbol, the share of spam and of ham messages it fired
//   on, then the categories each class got and the engine's time per
//   message. CORPUS_DIR is what bench/corpus made (its eml/ham and eml/spam
//   files are named GROUP-NAME.eml). Dates are judged as of each message's
//   top Received field. With --each, also one line per message: its path,
//   category and symbols. This measures; it changes nothing.
#include "engine/replay.hpp"
#include "util/log.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

using namespace rampart;

namespace {

struct Counts {
    std::size_t messages = 0;
    std::map<std::string, std::size_t> symbols;
    std::map<std::string, std::size_t> categories;
};

} // namespace

int main(int argc, char** argv)
{
    log::set_level(log::Level::warning); // not a decision line per message
    const bool each = argc > 1 && std::string_view(argv[1]) == "--each";
    if (each) {
        --argc;
        ++argv;
    }
    if (argc < 3) {
        std::fprintf(stderr, "usage: rampart-symbol-hits [--each] SPLIT.tsv CORPUS_DIR [RULES_DIR]\n");
        return 2;
    }
    const std::string rules_dir = argc > 3 ? argv[3] : "rules";
    std::vector<std::string> errors;
    const auto rt =
        replay_runtime(fmt::format("{}[rules]\nshipped = \"{}\"\n", kReplayConfig, rules_dir), "symbol-hits", errors);
    for (const auto& e : errors)
        std::fprintf(stderr, "%s\n", e.c_str());
    if (!rt)
        return 1;

    std::map<std::string, Counts> by_class;
    std::ifstream split(argv[1]);
    std::string line;
    std::chrono::steady_clock::duration spent{};
    std::size_t played = 0, missing = 0;
    while (std::getline(split, line)) {
        std::istringstream f(line);
        std::string group, klass, path;
        if (!std::getline(f, group, '\t') || !std::getline(f, klass, '\t') || !std::getline(f, path))
            continue;
        const auto base = std::filesystem::path(path).stem().string();
        const auto file = std::filesystem::path(argv[2]) / "eml" / klass / (group + "-" + base + ".eml");
        if (!std::filesystem::exists(file)) {
            ++missing;
            continue;
        }
        const StoredMessage m = split_message(read_stored(file));
        Session s(rt);
        const auto start = std::chrono::steady_clock::now();
        const auto out = play(s, m, 65536);
        spent += std::chrono::steady_clock::now() - start;
        ++played;
        Counts& c = by_class[klass];
        ++c.messages;
        if (!out)
            continue;
        std::string category, symbols;
        for (const auto& e : out->edits) {
            if (e.name == "X-Rampart-Category")
                category = e.value;
            else if (e.name == "X-Rampart-Symbols")
                symbols = e.value;
        }
        ++c.categories[category];
        if (each)
            fmt::print("{} {} {}\n", file.string(), category, symbols);
        std::set<std::string> seen;
        std::istringstream items(symbols);
        for (std::string item; std::getline(items, item, ',');)
            seen.insert(item.substr(0, item.find('(')));
        for (const auto& name : seen)
            if (name != "none")
                ++c.symbols[name];
    }
    Counts& spam = by_class["spam"];
    Counts& ham = by_class["ham"];
    std::set<std::string> names;
    for (const auto* c : {&spam, &ham})
        for (const auto& [n, _] : c->symbols)
            names.insert(n);
    const auto pct = [](std::size_t n, std::size_t of) { return of ? 100.0 * static_cast<double>(n) / of : 0.0; };
    std::vector<std::tuple<double, double, std::string>> rows;
    for (const auto& n : names)
        rows.emplace_back(pct(spam.symbols[n], spam.messages), pct(ham.symbols[n], ham.messages), n);
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return std::get<0>(a) > std::get<0>(b); });
    fmt::print("{} spam, {} ham messages ({} not found)\n\n{:<36} {:>7} {:>7}\n", spam.messages, ham.messages, missing,
               "symbol", "spam%", "ham%");
    for (const auto& [s, h, n] : rows)
        fmt::print("{:<36} {:>7.1f} {:>7.1f}\n", n, s, h);
    fmt::print("\ncategories:\n");
    for (const auto& [klass, c] : by_class)
        for (const auto& [cat, n] : c.categories)
            fmt::print("  {:<5} {:<16} {:>6} ({:.1f}%)\n", klass, cat, n, pct(n, c.messages));
    fmt::print("\nengine time per message: {:.3f} ms (single thread, parse, checks and rules)\n",
               played ? std::chrono::duration<double, std::milli>(spent).count() / static_cast<double>(played) : 0.0);
    return 0;
}
