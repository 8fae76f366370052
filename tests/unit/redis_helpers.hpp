// Helpers of the tests against a real redis-server, started by
// tests/integration/redis-tests.sh, which passes its port in REDIS_PORT.
#pragma once

#include "helpers.hpp"
#include "store/redis.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <vector>

namespace rampart::test {

inline std::string redis_port()
{
    const char* p = std::getenv("REDIS_PORT");
    if (p == nullptr)
        FAIL("REDIS_PORT is not set; run these tests through tests/integration/redis-tests.sh");
    return p;
}

// A [redis] section on the test Redis with a key prefix no other test
// shares ("STEMn:"). Unless `redis_extra` sets its own, the timeout is
// generous: a sanitizer build on a busy machine can take longer than the
// default 250 ms, and a timed-out write would change what the test sees.
inline std::string redis_section(const std::string& stem, std::string redis_extra = "")
{
    static std::atomic<int> n{0};
    if (redis_extra.find("timeout_ms") == std::string::npos)
        redis_extra += "timeout_ms = 3000\nconnect_timeout_ms = 3000\n";
    return "[redis]\nservers = [\"127.0.0.1:" + redis_port() + "\"]\nprefix = \"" + stem + std::to_string(++n) +
           ":\"\n" + redis_extra;
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

} // namespace rampart::test
