// Golden messages: each tests/messages/*.eml played through a Session with
// the shipped rules, in small and in large body chunks; tests/messages/EXPECTED
// says the category each must get and the symbols it must (NAME) and must
// not (-NAME) carry. Every .eml there must have a line.
#include "engine/replay.hpp"
#include "helpers.hpp"
#include "ruleset/ruleset.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

using namespace rampart;
using namespace rampart::test;

namespace {

struct Expectation {
    std::string category;
    std::vector<std::string> present, absent;
};

std::map<std::string, Expectation> read_expected(const std::filesystem::path& dir)
{
    std::map<std::string, Expectation> out;
    std::istringstream in(read_stored(dir / "EXPECTED"));
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line.front() == '#')
            continue;
        std::istringstream words(line);
        std::string file;
        Expectation e;
        words >> file >> e.category;
        for (std::string w; words >> w;)
            (w.front() == '-' ? e.absent : e.present).push_back(w.front() == '-' ? w.substr(1) : w);
        out[file] = e;
    }
    return out;
}

// "A(1.00),B(2.50)" -> {A, B}
std::set<std::string> symbol_names(const std::string& summary)
{
    std::set<std::string> out;
    std::istringstream in(summary);
    for (std::string item; std::getline(in, item, ',');)
        out.insert(item.substr(0, item.find('(')));
    return out;
}

std::string golden_config()
{
    return std::string(kReplayConfig) + "[rules]\nshipped = \"" + RAMPART_SRCDIR + "/rules\"\n";
}

} // namespace

TEST_CASE("golden messages get their expected category and symbols, however the body is chunked")
{
    const std::filesystem::path dir = std::filesystem::path(RAMPART_SRCDIR) / "tests/messages";
    const auto expected = read_expected(dir);
    REQUIRE(expected.size() >= 10);
    auto cfg = config(golden_config());
    auto loaded = load_rules(*cfg);
    for (const auto& e : loaded.errors)
        FAIL(e.to_string());
    auto base = runtime(cfg);
    auto rt = std::make_shared<Runtime>(*base);
    rt->rules = loaded.ruleset;
    std::size_t played = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() != ".eml")
            continue;
        const std::string file = entry.path().filename().string();
        CAPTURE(file);
        const auto it = expected.find(file);
        REQUIRE_MESSAGE(it != expected.end(), file, " has no line in EXPECTED");
        const StoredMessage m = split_message(read_stored(entry.path()));
        for (std::size_t chunk : {std::size_t{5}, std::size_t{65536}}) {
            CAPTURE(chunk);
            Session s(rt);
            const auto out = play(s, m, chunk);
            REQUIRE(out.has_value());
            const auto* cat = find_edit(*out, HeaderEdit::Op::add, "X-Rampart-Category");
            const auto* syms = find_edit(*out, HeaderEdit::Op::add, "X-Rampart-Symbols");
            REQUIRE(cat);
            REQUIRE(syms);
            CAPTURE(syms->value);
            CHECK_MESSAGE(cat->value == it->second.category, "got ", cat->value, ", want ", it->second.category);
            const auto names = symbol_names(syms->value);
            for (const auto& want : it->second.present)
                CHECK_MESSAGE(names.count(want), "missing ", want);
            for (const auto& not_want : it->second.absent)
                CHECK_MESSAGE(!names.count(not_want), "unexpected ", not_want);
        }
        ++played;
    }
    CHECK(played == expected.size());
}
