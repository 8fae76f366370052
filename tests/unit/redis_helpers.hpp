// Helpers of the tests against a real redis-server, started by
// tests/integration/redis-tests.sh, which passes its port in REDIS_PORT.
#pragma once

#include "engine/runtime.hpp"
#include "helpers.hpp"
#include "store/redis.hpp"

#include <doctest/doctest.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <string>
#include <vector>

namespace rampart::test {

inline std::string redis_port()
{
    const char* p = std::getenv("REDIS_PORT");
    if (p == nullptr)
        FAIL("REDIS_PORT is not set; run these tests through their script in tests/integration");
    return p;
}

// A [redis] section on the test Redis (or on `port`) with a key prefix no
// other test shares ("STEMn:"). Unless `redis_extra` sets its own, the
// timeout is generous: a sanitizer build on a busy machine can take longer
// than the default 250 ms, and a timed-out write would change what the
// test sees.
inline std::string redis_section(const std::string& stem, std::string redis_extra = "",
                                 const std::string& port = redis_port())
{
    static std::atomic<int> n{0};
    if (redis_extra.find("timeout_ms") == std::string::npos)
        redis_extra += "timeout_ms = 3000\nconnect_timeout_ms = 3000\n";
    return "[redis]\nservers = [\"127.0.0.1:" + port + "\"]\nprefix = \"" + stem + std::to_string(++n) + ":\"\n" +
           redis_extra;
}

// Runs `b`, which must succeed, every command of it.
inline std::vector<Reply> run(Store& store, const Batch& b)
{
    auto r = store.execute(b);
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    for (const auto& reply : *r)
        REQUIRE_MESSAGE(!reply.is_error(), reply.str);
    return *r;
}

// A configuration on the test Redis (prefix STEMn:) in which, of the rules,
// the content checks and the checks that use Redis, only those whose
// sections are named in `on` run. `settings` follows: the sections of `on`,
// and any other but [redis].
inline std::shared_ptr<const Config> redis_config(const std::string& stem, const std::vector<std::string>& on,
                                                  const std::string& settings)
{
    std::string toml;
    for (const char* section : {"rules", "content", "lists", "ratelimit", "reputation", "account", "mailbomb",
                                "greylist", "flood", "outbreak"})
        if (std::find(on.begin(), on.end(), section) == on.end())
            toml += fmt::format("[{}]\nenabled = false\n", section);
    return config(toml + redis_section(stem) + settings);
}

// One command, which must succeed.
inline Reply redis(Store& store, std::vector<std::string> command)
{
    Batch b;
    b.add(std::move(command));
    return run(store, b).at(0);
}
inline Reply redis(const Runtime& rt, std::vector<std::string> command) { return redis(*rt.store, std::move(command)); }

} // namespace rampart::test
