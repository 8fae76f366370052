// NAME
//   scripts.hpp - the Lua scripts rampart runs in Redis
// DESCRIPTION
//   The sources live in store/scripts/*.lua, each opening with its contract
//   (KEYS, ARGV, keys touched, return value); the build embeds them.
#pragma once

#include <string_view>

namespace rampart {

enum class Script {
    gcra,
    rate_peek,
    bayes_learn,
    bayes_read,
    bayes_expire,
    account_count,
    account_verdict,
    mailbomb,
    greylist,
    conc_acquire,
    conc_renew,
    outbreak
};
inline constexpr int kScriptCount = 12;

std::string_view script_source(Script s);
std::string_view script_name(Script s);

} // namespace rampart
