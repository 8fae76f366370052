#include "config/config.hpp"

#include "config/settings.hpp"

#include <fmt/format.h>
#include <toml.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

namespace rampart {
namespace {

using Errors = std::vector<ConfigError>;

struct Loader {
    std::string file;
    Errors errors;

    void fail(const toml::value& where, std::string message)
    {
        errors.push_back({file, static_cast<int>(where.location().line()), std::move(message)});
    }
};

std::string_view kind_name(SettingKind k)
{
    switch (k) {
    case SettingKind::boolean: return "a boolean";
    case SettingKind::integer: return "an integer";
    case SettingKind::real: return "a number";
    case SettingKind::string: return "a string";
    case SettingKind::list: return "a list of strings";
    case SettingKind::choice: return "a string";
    case SettingKind::rate: return "a rate string such as \"60/1m\" or \"off\"";
    }
    return "a value";
}

// "COUNT/PERIOD": PERIOD is [N]s|m|h|d ("60/1m", "10/s", "1000/2h"), or "off".
std::optional<Rate> parse_rate(std::string_view v)
{
    if (v == "off")
        return Rate{};
    const auto slash = v.find('/');
    if (slash == std::string_view::npos)
        return std::nullopt;
    std::int64_t count = 0;
    auto c = v.substr(0, slash);
    auto [cend, cec] = std::from_chars(c.data(), c.data() + c.size(), count);
    if (cec != std::errc{} || cend != c.data() + c.size() || count < 1 || count > 1000000000)
        return std::nullopt;
    auto p = v.substr(slash + 1);
    if (p.empty())
        return std::nullopt;
    std::int64_t n = 1;
    if (p.size() > 1) {
        auto [pend, pec] = std::from_chars(p.data(), p.data() + p.size() - 1, n);
        if (pec != std::errc{} || pend != p.data() + p.size() - 1 || n < 1 || n > 1000000)
            return std::nullopt;
    }
    std::int64_t unit = 0;
    switch (p.back()) {
    case 's': unit = 1000; break;
    case 'm': unit = 60 * 1000; break;
    case 'h': unit = 3600 * 1000; break;
    case 'd': unit = 86400 * 1000; break;
    default: return std::nullopt;
    }
    return Rate{count, n * unit};
}

bool in_choices(std::string_view choices, std::string_view v)
{
    while (!choices.empty()) {
        const auto bar = choices.find('|');
        if (choices.substr(0, bar) == v)
            return true;
        if (bar == std::string_view::npos)
            break;
        choices.remove_prefix(bar + 1);
    }
    return false;
}

// Stores one value into the Config; reports type and range errors.
void apply(Loader& ld, const Setting& s, const toml::value& v, Config& cfg)
{
    const auto wrong_type = [&] { ld.fail(v, fmt::format("{} must be {}", s.key, kind_name(s.kind))); };
    const auto check_string = [&](std::string_view str) {
        if (s.validate != nullptr)
            if (const char* why = s.validate(str)) {
                ld.fail(v, fmt::format("{}: \"{}\" {}", s.key, str, why));
                return false;
            }
        return true;
    };
    switch (s.kind) {
    case SettingKind::boolean:
        if (!v.is_boolean())
            return wrong_type();
        cfg.*std::get<bool Config::*>(s.member) = v.as_boolean();
        return;
    case SettingKind::integer: {
        if (!v.is_integer())
            return wrong_type();
        const auto n = v.as_integer();
        if (n < s.min || n > s.max)
            return ld.fail(v, fmt::format("{} = {} is out of range {}..{}", s.key, n, s.min, s.max));
        cfg.*std::get<std::int64_t Config::*>(s.member) = n;
        return;
    }
    case SettingKind::real: {
        double d = 0;
        if (v.is_floating())
            d = v.as_floating();
        else if (v.is_integer())
            d = static_cast<double>(v.as_integer());
        else
            return wrong_type();
        if (d < s.min || d > s.max)
            return ld.fail(v, fmt::format("{} = {} is out of range {}..{}", s.key, d, s.min, s.max));
        cfg.*std::get<double Config::*>(s.member) = d;
        return;
    }
    case SettingKind::string:
        if (!v.is_string())
            return wrong_type();
        if (check_string(v.as_string().str))
            cfg.*std::get<std::string Config::*>(s.member) = v.as_string().str;
        return;
    case SettingKind::choice:
        if (!v.is_string())
            return wrong_type();
        if (!in_choices(s.choices, v.as_string().str))
            return ld.fail(v, fmt::format("{} = \"{}\" is not one of {}", s.key, v.as_string().str, s.choices));
        cfg.*std::get<std::string Config::*>(s.member) = v.as_string().str;
        return;
    case SettingKind::rate: {
        if (!v.is_string())
            return wrong_type();
        const auto r = parse_rate(v.as_string().str);
        if (!r)
            return ld.fail(v, fmt::format("{} = \"{}\" is not a rate such as \"60/1m\", \"10/s\" or \"off\"", s.key,
                                          v.as_string().str));
        cfg.*std::get<Rate Config::*>(s.member) = *r;
        return;
    }
    case SettingKind::list: {
        if (!v.is_array())
            return wrong_type();
        const auto& arr = v.as_array();
        if (arr.size() < s.min || arr.size() > s.max)
            return ld.fail(v, fmt::format("{} must have {} to {} entries", s.key, s.min, s.max));
        std::vector<std::string> out;
        for (const auto& item : arr) {
            if (!item.is_string())
                return wrong_type();
            if (!check_string(item.as_string().str))
                return;
            out.push_back(item.as_string().str);
        }
        cfg.*std::get<std::vector<std::string> Config::*>(s.member) = std::move(out);
        return;
    }
    }
}

bool is_section(std::string_view name)
{
    for (const auto& s : settings())
        if (s.key.substr(0, s.key.find('.')) == name)
            return true;
    return false;
}

// The defaults are TOML text in the table; they go through the same checks
// as the file, once.
const Config& defaults()
{
    static const Config cfg = [] {
        Config c;
        Loader ld{"(defaults)", {}};
        for (const auto& s : settings()) {
            std::istringstream in("x = " + std::string(s.def));
            const auto doc = toml::parse(in, std::string(s.key));
            apply(ld, s, doc.at("x"), c);
        }
        if (!ld.errors.empty()) // a broken table is a programming error
            throw std::logic_error("bad default: " + ld.errors.front().message);
        return c;
    }();
    return cfg;
}

Action action_named(std::string_view n)
{
    static constexpr std::pair<std::string_view, Action> table[] = {
        {"accept", Action::accept},     {"tag", Action::tag},         {"reject", Action::reject},
        {"tempfail", Action::tempfail}, {"discard", Action::discard}, {"quarantine", Action::quarantine},
    };
    for (const auto& [name, a] : table)
        if (name == n)
            return a;
    return Action::tempfail;
}

void derive(Config& cfg)
{
    cfg.on_failure = cfg.redis_on_failure == "accept" ? FailurePolicy::accept : FailurePolicy::tempfail;
    cfg.dns_on_failure = cfg.dns_on_temperror == "tempfail" ? FailurePolicy::tempfail : FailurePolicy::accept;
    cfg.d_actions[static_cast<int>(Category::clean)] = action_named(cfg.action_clean);
    cfg.d_actions[static_cast<int>(Category::spam)] = action_named(cfg.action_spam);
    cfg.d_actions[static_cast<int>(Category::confirmed_spam)] = action_named(cfg.action_confirmed_spam);
    cfg.d_actions[static_cast<int>(Category::suspected_virus)] = action_named(cfg.action_suspected_virus);
    cfg.d_actions[static_cast<int>(Category::confirmed_virus)] = action_named(cfg.action_confirmed_virus);
}

// What the settings of [batv] need of each other; the key file itself is
// read with the services (Runtime), at start, reload and --check-config.
void check_batv(Loader& ld, const Config& cfg)
{
    const auto fail = [&](std::string message) { ld.errors.push_back({ld.file, 0, std::move(message)}); };
    for (const auto& d : cfg.batv_enforce)
        if (d != "*" && std::find(cfg.batv_domains.begin(), cfg.batv_domains.end(), d) == cfg.batv_domains.end())
            fail(fmt::format("batv.enforce: \"{}\" is not in batv.domains", d));
    if (!cfg.batv_enabled)
        return;
    if (cfg.batv_key_file.empty())
        fail("batv.enabled needs batv.key_file");
    if (cfg.batv_domains.empty())
        fail("batv.enabled needs batv.domains");
}

LoadedConfig finish(Loader& ld, const toml::value& root)
{
    auto cfg = std::make_shared<Config>(defaults());
    cfg->source = ld.file;
    if (!root.is_table()) {
        ld.fail(root, "the configuration must be a TOML table");
    } else {
        for (const auto& [section, body] : root.as_table()) {
            if (!body.is_table() || !is_section(section)) {
                ld.fail(body, fmt::format("unknown section or key \"{}\"", section));
                continue;
            }
            for (const auto& [name, value] : body.as_table()) {
                const auto key = section + "." + name;
                if (const Setting* s = find_setting(key))
                    apply(ld, *s, value, *cfg);
                else
                    ld.fail(value, fmt::format("unknown key \"{}\"", key));
            }
        }
    }
    if (ld.errors.empty() && cfg->category_confirmed_spam_score <= cfg->category_spam_score)
        ld.errors.push_back({ld.file, 0, "category.confirmed_spam_score must be above category.spam_score"});
    if (ld.errors.empty() && cfg->bayes_spam_full <= cfg->bayes_spam_threshold)
        ld.errors.push_back({ld.file, 0, "bayes.spam_full must be above bayes.spam_threshold"});
    if (ld.errors.empty() && cfg->bayes_ham_threshold > cfg->bayes_spam_threshold)
        ld.errors.push_back({ld.file, 0, "bayes.ham_threshold must not be above bayes.spam_threshold"});
    if (const double full_nines = -std::log10(1 - cfg->bayes_spam_full);
        ld.errors.empty() && cfg->bayes_spam_full < 1 && cfg->bayes_nines_full <= full_nines)
        ld.errors.push_back(
            {ld.file, 0,
             fmt::format("bayes.nines_full must be above the nines of bayes.spam_full ({:.3g})", full_nines)});
    if (ld.errors.empty())
        check_batv(ld, *cfg);
    if (!ld.errors.empty()) {
        std::stable_sort(ld.errors.begin(), ld.errors.end(),
                         [](const ConfigError& a, const ConfigError& b) { return a.line < b.line; });
        return {nullptr, std::move(ld.errors)};
    }
    derive(*cfg);
    return {std::move(cfg), {}};
}

LoadedConfig parse_stream(std::istream& in, const std::string& name)
{
    Loader ld{name, {}};
    try {
        const auto root = toml::parse(in, name);
        return finish(ld, root);
    } catch (const toml::exception& e) {
        // toml11's text spans several lines; the first names the problem.
        std::string what = e.what();
        what = what.substr(0, what.find('\n'));
        if (what.starts_with("[error] "))
            what = what.substr(8);
        ld.errors.push_back({name, static_cast<int>(e.location().line()), what});
    } catch (const std::exception& e) {
        ld.errors.push_back({name, 0, e.what()});
    }
    return {nullptr, std::move(ld.errors)};
}

} // namespace

std::string ConfigError::to_string() const
{
    return line > 0 ? fmt::format("{}:{}: {}", file, line, message) : fmt::format("{}: {}", file, message);
}

LoadedConfig load_config(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return {nullptr, {{path, 0, fmt::format("cannot open: {}", std::strerror(errno))}}};
    return parse_stream(in, path);
}

LoadedConfig parse_config(const std::string& text, const std::string& name)
{
    std::istringstream in(text);
    return parse_stream(in, name);
}

const char* to_string(Category c)
{
    switch (c) {
    case Category::clean: return "clean";
    case Category::spam: return "spam";
    case Category::confirmed_spam: return "confirmed-spam";
    case Category::suspected_virus: return "suspected-virus";
    case Category::confirmed_virus: return "confirmed-virus";
    }
    return "clean";
}

const char* to_string(Action a)
{
    switch (a) {
    case Action::accept: return "accept";
    case Action::tag: return "tag";
    case Action::reject: return "reject";
    case Action::tempfail: return "tempfail";
    case Action::discard: return "discard";
    case Action::quarantine: return "quarantine";
    }
    return "accept";
}

} // namespace rampart
