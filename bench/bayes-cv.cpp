// NAME
//   bayes-cv - k-fold cross-validation of the Bayes classifier inside a corpus split
// SYNOPSIS
//   rampart-bayes-cv [-k FOLDS] [--seed S] [--set KEY=VALUE]... SPLIT.tsv CORPUS_DIR [RULES_DIR]
// DESCRIPTION
//   For choosing Bayes settings and scores with the training half alone
//   (bench/accuracy/fit). Every message of SPLIT (lines
//   "GROUP<TAB>CLASS<TAB>PATH") is read from CORPUS_DIR (as bench/corpus
//   made it: eml/CLASS/GROUP-NAME.eml), tokenized as rampartctl learn
//   tokenizes it, and played through a Session with the content checks and
//   the rules of RULES_DIR (default "rules"), without Redis, for the
//   symbols the other checks give it. The messages are dealt into FOLDS
//   folds (default 5) by a hash of their name and S; each fold is then
//   classified with token counts learned from the other folds, in memory,
//   as the Bayes check would classify it with the same counts in Redis.
//
//   Prints one line per message:
//     GROUP CLASS PATH P NINES TOKENS BAYES_SCORE SYMBOLS
//   tab-separated: the spam probability, its nines (-log10(1 - P)), the
//   tokens combined, the score RAMPART_BAYES_SPAM or RAMPART_BAYES_HAM would
//   have (0 for neither), and the other symbols as X-Rampart-Symbols lists
//   them ("none" for none).
//
//   --set KEY=VALUE sets a bayes.* or content.* setting, as in
//   rampart.conf(5) (bayes.enabled is ignored: the counts are in memory).
//   This measures; it changes nothing.
#include "bayes/classifier.hpp"
#include "bayes/stored.hpp"
#include "checks/address_field.hpp"
#include "checks/bayes.hpp"
#include "engine/replay.hpp"
#include "util/log.hpp"
#include "util/text.hpp"

#include <fmt/format.h>
#include <xxhash.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <unordered_map>

using namespace rampart;

namespace {

struct Message {
    std::string group, klass, path, symbols;
    std::vector<bayes::Token> tokens;
    std::size_t fold = 0;
    bool spam() const { return klass == "spam"; }
};

// The From address in lower case; the message's name when it has none.
std::string sender_of(const bayes::HeaderFields& headers, const std::string& name)
{
    for (const auto& [field, value] : headers) {
        if (!iequals(field, "From"))
            continue;
        const AddressField f = parse_address_field(value);
        if (!f.mailboxes.empty() && !f.mailboxes[0].domain.empty())
            return lowercase(f.mailboxes[0].local + "@" + f.mailboxes[0].domain);
        break;
    }
    return name;
}

int usage()
{
    std::fprintf(stderr, "usage: rampart-bayes-cv [-k FOLDS] [--seed S] [--by-sender] [--set KEY=VALUE]... SPLIT.tsv "
                         "CORPUS_DIR [RULES_DIR]\n");
    return 2;
}

// The replay configuration with `sets` added to its tables (and Bayes on for
// the settings, though no Redis is used), as TOML.
std::string configuration(const std::vector<std::string>& sets, const std::string& rules_dir)
{
    std::map<std::string, std::string> tables;
    for (const auto& s : sets) {
        const auto dot = s.find('.'), eq = s.find('=');
        if (dot == std::string::npos || eq == std::string::npos || dot > eq)
            return {};
        const std::string key = s.substr(dot + 1, eq - dot - 1);
        if (s.substr(0, dot) == "bayes" && key == "enabled")
            continue;
        tables[s.substr(0, dot)] += fmt::format("{} = {}\n", key, s.substr(eq + 1));
    }
    std::string conf(kReplayConfig);
    for (const auto& [table, lines] : tables) {
        const std::string head = "[" + table + "]\n";
        if (const auto at = conf.find(head); at != std::string::npos)
            conf.insert(at + head.size(), lines);
        else
            conf += head + lines;
    }
    return conf + fmt::format("[rules]\nshipped = \"{}\"\n", rules_dir);
}

} // namespace

int main(int argc, char** argv)
{
    log::set_level(log::Level::warning);
    std::size_t k = 5;
    std::string seed;
    bool by_sender = false;
    std::vector<std::string> sets, args;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if ((a == "-k" || a == "--seed" || a == "--set") && i + 1 < argc) {
            const std::string v = argv[++i];
            if (a == "-k")
                k = static_cast<std::size_t>(std::max(2, std::atoi(v.c_str())));
            else if (a == "--seed")
                seed = v;
            else
                sets.push_back(v);
        } else if (a == "--by-sender") {
            by_sender = true;
        } else if (!a.empty() && a[0] == '-') {
            return usage();
        } else {
            args.emplace_back(a);
        }
    }
    if (args.size() < 2 || args.size() > 3)
        return usage();
    const std::string conf = configuration(sets, args.size() > 2 ? args[2] : "rules");
    if (conf.empty())
        return usage();
    std::vector<std::string> errors;
    const auto rt = replay_runtime(conf, "bayes-cv", errors);
    for (const auto& e : errors)
        std::fprintf(stderr, "%s\n", e.c_str());
    if (!rt)
        return 1;
    const auto& cfg = rt->config;

    std::vector<Message> messages;
    std::ifstream split(args[0]);
    if (!split) {
        std::fprintf(stderr, "rampart-bayes-cv: cannot read %s\n", args[0].c_str());
        return 1;
    }
    std::size_t missing = 0;
    for (std::string line; std::getline(split, line);) {
        std::istringstream f(line);
        Message m;
        if (!std::getline(f, m.group, '\t') || !std::getline(f, m.klass, '\t') || !std::getline(f, m.path))
            continue;
        const auto base = std::filesystem::path(m.path).stem().string();
        const auto file = std::filesystem::path(args[1]) / "eml" / m.klass / (m.group + "-" + base + ".eml");
        if (!std::filesystem::exists(file)) {
            ++missing;
            continue;
        }
        const std::string raw = read_stored(file);
        Session s(rt);
        if (const auto out = play(s, split_message(raw), 65536))
            for (const auto& e : out->edits)
                if (e.name == "X-Rampart-Symbols")
                    m.symbols = e.value;
        const auto stored = bayes::stored_tokens(*cfg, raw);
        m.tokens = stored.tokens;
        const std::string key = seed + (by_sender ? sender_of(stored.headers, base) : base);
        m.fold = XXH3_64bits(key.data(), key.size()) % k;
        messages.push_back(std::move(m));
    }
    if (missing)
        std::fprintf(stderr, "rampart-bayes-cv: %zu messages of the split not found under %s\n", missing,
                     args[1].c_str());

    const bayes::ClassifierSettings settings{cfg->bayes_strength, cfg->bayes_prior, cfg->bayes_min_token_strength,
                                             static_cast<std::size_t>(cfg->bayes_max_tokens)};
    for (std::size_t fold = 0; fold < k; ++fold) {
        std::unordered_map<bayes::Token, bayes::TokenCounts> counts;
        std::uint64_t spam = 0, ham = 0;
        for (const auto& m : messages) {
            if (m.fold == fold)
                continue;
            ++(m.spam() ? spam : ham);
            for (const auto t : m.tokens)
                ++(m.spam() ? counts[t].spam : counts[t].ham);
        }
        std::vector<bayes::TokenCounts> tc;
        for (const auto& m : messages) {
            if (m.fold != fold)
                continue;
            tc.clear();
            for (const auto t : m.tokens) {
                const auto it = counts.find(t);
                tc.push_back(it == counts.end() ? bayes::TokenCounts{} : it->second);
            }
            const auto c = bayes::classify(tc, spam, ham, settings).value_or(bayes::Classification{});
            const double score = bayes_score(*cfg, c.probability, c.nines);
            fmt::print("{}\t{}\t{}\t{:.6f}\t{:.3f}\t{}\t{:.3f}\t{}\n", m.group, m.klass, m.path, c.probability, c.nines,
                       c.tokens, score, m.symbols.empty() ? "none" : m.symbols);
        }
    }
    return 0;
}
