// The settings table, the shipped rampart.conf and rampart.conf(5) must
// agree: an undocumented key or symbol fails the build's tests.
#include "config/config.hpp"
#include "config/settings.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

using namespace rampart;

namespace {

std::string source_path(const std::string& rel) { return std::string(RAMPART_SRCDIR) + "/" + rel; }

std::string read(const std::string& rel)
{
    std::ifstream in(source_path(rel), std::ios::binary);
    REQUIRE_MESSAGE(in, "cannot read ", rel);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The ".TP" / ".B name" entries of one ".SH" section of a man page.
std::set<std::string> man_entries(const std::string& page, const std::string& section)
{
    std::set<std::string> out;
    std::istringstream in(page);
    std::string line, prev;
    bool inside = false;
    while (std::getline(in, line)) {
        if (line.starts_with(".SH")) {
            std::string name = line.substr(3);
            name.erase(std::remove(name.begin(), name.end(), '"'), name.end());
            while (!name.empty() && name.front() == ' ')
                name.erase(0, 1);
            inside = name == section;
        } else if (inside && prev.starts_with(".TP") && line.starts_with(".B ")) {
            std::string key = line.substr(3);
            key.erase(std::remove(key.begin(), key.end(), '\\'), key.end());
            while (!key.empty() && (key.back() == ' ' || key.back() == '\r'))
                key.pop_back();
            out.insert(key);
        }
        prev = line;
    }
    return out;
}

std::set<std::string> table_keys()
{
    std::set<std::string> out;
    for (const auto& s : settings())
        out.insert(std::string(s.key));
    return out;
}

} // namespace

TEST_CASE("rampart.conf(5) documents exactly the keys of the settings table")
{
    const auto documented = man_entries(read("man/rampart.conf.5"), "SETTINGS");
    const auto keys = table_keys();
    for (const auto& k : keys)
        CHECK_MESSAGE(documented.count(k), "setting ", k, " is missing from rampart.conf(5)");
    for (const auto& d : documented)
        CHECK_MESSAGE(keys.count(d), "rampart.conf(5) documents ", d, ", which is not a setting");
}

TEST_CASE("the shipped rampart.conf loads and sets every key at its default")
{
    auto loaded = load_config(source_path("etc/rampart.conf"));
    for (const auto& e : loaded.errors)
        FAIL_CHECK(e.to_string());
    const std::string text = read("etc/rampart.conf");
    std::istringstream in(text);
    std::string line, section;
    std::set<std::string> seen;
    const std::regex kv(R"(^([a-z0-9_]+) = (.*)$)");
    while (std::getline(in, line)) {
        std::smatch m;
        if (line.starts_with("[") && line.ends_with("]")) {
            section = line.substr(1, line.size() - 2);
        } else if (std::regex_match(line, m, kv)) {
            const std::string key = section + "." + m[1].str();
            const Setting* s = find_setting(key);
            CHECK_MESSAGE(s != nullptr, "etc/rampart.conf sets unknown key ", key);
            if (s) {
                CHECK_MESSAGE(m[2].str() == s->def, key, ": got ", m[2].str(), ", want the default ", s->def);
                seen.insert(key);
            }
        }
    }
    for (const auto& k : table_keys())
        CHECK_MESSAGE(seen.count(k), "etc/rampart.conf does not show ", k, " at its default");
}

TEST_CASE("every symbol the checks emit is in rampart.conf(5)")
{
    const auto documented = man_entries(read("man/rampart.conf.5"), "SYMBOLS");
    std::set<std::string> emitted;
    const std::regex sym(R"(RAMPART_[A-Z0-9_]+)");
    for (const char* dir : {"src/checks", "src/engine"}) {
        for (const auto& f : std::filesystem::directory_iterator(source_path(dir))) {
            // Only sources: a build in the source tree leaves objects beside them.
            if (f.path().extension() != ".cpp" && f.path().extension() != ".hpp")
                continue;
            std::ifstream in(f.path());
            std::stringstream ss;
            ss << in.rdbuf();
            const std::string text = ss.str();
            for (std::sregex_iterator it(text.begin(), text.end(), sym), end; it != end; ++it)
                emitted.insert(it->str());
        }
    }
    // Symbols built from parts ("RAMPART_REP_{}_SPAM") appear in full in the header blocks.
    std::erase_if(emitted, [](const std::string& s) { return s.ends_with("_"); });
    REQUIRE(emitted.size() >= 10);
    for (const auto& s : emitted)
        CHECK_MESSAGE(documented.count(s), "symbol ", s, " is missing from the SYMBOLS section of rampart.conf(5)");
}
