// NAME
//   settings.hpp - the table of every configuration key
// DESCRIPTION
//   One row per key: dotted name, kind, default (as TOML text), range or
//   choices, whether a SIGHUP reload applies it, and one line of help. The
//   parser, `rampart-milter --dump-config`, the shipped rampart.conf and the
//   rampart.conf(5) man page are all checked against this table by tests.
#pragma once

#include "config/config.hpp"

#include <span>
#include <string_view>
#include <variant>

namespace rampart {

enum class SettingKind { boolean, integer, real, string, list, choice, rate };

using SettingMember = std::variant<bool Config::*, std::int64_t Config::*, double Config::*, std::string Config::*,
                                   std::vector<std::string> Config::*, Rate Config::*>;

struct Setting {
    std::string_view key;
    SettingKind kind;
    std::string_view def; // TOML literal
    double min = 0;       // integer/real: range; list: minimum items
    double max = 0;
    std::string_view choices; // choice: "a|b|c"
    bool reloadable = true;
    std::string_view help;
    SettingMember member;
    // Extra validation of a string value; returns an error text or nullptr.
    const char* (*validate)(std::string_view) = nullptr;
};

std::span<const Setting> settings();
const Setting* find_setting(std::string_view key);

// The defaults as a TOML document, one "key = default  # help" line per setting.
std::string dump_defaults();

} // namespace rampart
