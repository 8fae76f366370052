// Test helpers: configurations and runtimes without a daemon.
#pragma once

#include "config/config.hpp"
#include "engine/runtime.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <string>

namespace rampart::test {

inline std::shared_ptr<const Config> config(const std::string& text)
{
    auto c = parse_config(text, "test.conf");
    if (!c.errors.empty())
        FAIL("bad test config: ", c.errors.front().to_string());
    return c.config;
}

// The checks that need Redis (lists, accounts, rate limits, mail bombs, greylisting, floods, reputation) off, and the
// rules; every other test configuration adds what it tests. `content` off
// too in kNoRedisChecks; kNoRedisChecksContent leaves it on.
inline constexpr const char* kNoRedisChecksContent = R"(
[rules]
enabled = false
[lists]
enabled = false
[ratelimit]
enabled = false
[reputation]
enabled = false
[account]
enabled = false
[mailbomb]
enabled = false
[greylist]
enabled = false
[flood]
enabled = false
[outbreak]
enabled = false
)";
inline const std::string kNoRedisChecks = std::string(kNoRedisChecksContent) + "[content]\nenabled = false\n";

// A Runtime whose list cache is not polling: tests refresh it themselves.
inline std::shared_ptr<const Runtime> runtime(std::shared_ptr<const Config> cfg)
{
    auto store = std::make_shared<Store>(*cfg);
    auto lists = std::make_shared<ListCache>(store, Keys(cfg->redis_prefix), std::chrono::milliseconds(1000));
    auto rt = std::make_shared<Runtime>(Runtime{.config = cfg,
                                                .store = store,
                                                .lists = lists,
                                                .keys = Keys(cfg->redis_prefix),
                                                .limits = std::make_shared<LimitCache>()});
    add_services(*rt, nullptr);
    return rt;
}

inline const HeaderEdit* find_edit(const Outcome& o, HeaderEdit::Op op, const std::string& name)
{
    for (const auto& e : o.edits)
        if (e.op == op && e.name == name)
            return &e;
    return nullptr;
}

inline constexpr const char* kGtube = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

} // namespace rampart::test
