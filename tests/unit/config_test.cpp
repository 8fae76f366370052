// Unit tests: the strict configuration loader and the settings table.
#include "config/config.hpp"
#include "config/settings.hpp"

#include <doctest/doctest.h>

#include <set>

using namespace rampart;

TEST_CASE("an empty file gives every default")
{
    auto c = parse_config("", "empty.conf");
    REQUIRE(c.errors.empty());
    CHECK(c.config->redis_servers == std::vector<std::string>{"127.0.0.1:6379"});
    CHECK(c.config->redis_timeout_ms == 250);
    CHECK(c.config->on_failure == FailurePolicy::tempfail);
    CHECK(c.config->action_for(Category::confirmed_spam) == Action::reject);
    CHECK(c.config->action_for(Category::spam) == Action::tag);
    CHECK(c.config->action_for(Category::clean) == Action::accept);
    CHECK(c.config->ratelimit_ip_messages.count == 120);
    CHECK(c.config->ratelimit_ip_messages.period_ms == 60000);
}

TEST_CASE("values are read and typed")
{
    auto c = parse_config(R"(
[redis]
servers = ["10.0.0.1:6380", "/run/redis/redis.sock"]
on_failure = "accept"
[ratelimit]
sender_messages = "10/s"
ip_messages = "off"
net_messages = "1000/2h"
[category]
spam_score = 5
[action]
spam = "quarantine"
)",
                          "t.conf");
    REQUIRE(c.errors.empty());
    CHECK(c.config->redis_servers.size() == 2);
    CHECK(c.config->on_failure == FailurePolicy::accept);
    CHECK(c.config->ratelimit_sender_messages.interval_us() == 100000);
    CHECK_FALSE(c.config->ratelimit_ip_messages.enabled());
    CHECK(c.config->ratelimit_net_messages.period_ms == 2 * 3600 * 1000);
    CHECK(c.config->category_spam_score == 5.0);
    CHECK(c.config->action_for(Category::spam) == Action::quarantine);
}

TEST_CASE("bad input gives file:line errors and no config")
{
    struct Case {
        const char* text;
        int line;
        const char* want; // a fragment of the message
    };
    const Case cases[] = {
        {"[redis]\ntimeout_ms = \"x\"\n", 2, "must be an integer"},
        {"[redis]\ntimeout_ms = 0\n", 2, "out of range"},
        {"[redis]\nbogus = 1\n", 2, "unknown key \"redis.bogus\""},
        {"[nosuch]\nx = 1\n", 1, "unknown section"},
        {"\n\n[action]\nspam = \"nuke\"\n", 4, "is not one of"},
        {"[ratelimit]\nip_messages = \"5/q\"\n", 2, "is not a rate"},
        {"[ratelimit]\nip_messages = \"0/1m\"\n", 2, "is not a rate"},
        {"[redis]\nservers = []\n", 2, "1 to 16 entries"},
        {"[redis]\nservers = [\"localhost\"]\n", 2, "HOST:PORT"},
        {"[redis]\nprefix = \"a b\"\n", 2, "must not contain"},
        {"[reply]\nreject = \"4.7.1 nope\"\n", 2, "5.X.Y"},
        {"[reply]\ntempfail = \"no code\"\n", 2, "4.X.Y"},
        {"[reply]\nreject = \"5.7.1 100% sure\"\n", 2, "without '%'"},
        {"[milter]\nsocket = \"tcp:25\"\n", 2, "inet:PORT@HOST"},
        {"[milter]\nsocket = \"inet:99999@127.0.0.1\"\n", 2, "1..65535"},
        {"[redis\ntimeout_ms = 1\n", 1, ""},
        {"[redis]\ntimeout_ms = 1\ntimeout_ms = 2\n", 3, ""},
        {"junk", 1, ""},
        {"[category]\nspam_score = 20\n", 0, "must be above"},
    };
    for (const auto& tc : cases) {
        CAPTURE(tc.text);
        auto c = parse_config(tc.text, "bad.conf");
        CHECK(c.config == nullptr);
        REQUIRE(c.errors.size() >= 1);
        INFO("got: ", c.errors.front().to_string());
        CHECK(c.errors.front().line == tc.line);
        CHECK(c.errors.front().to_string().find(tc.want) != std::string::npos);
        CHECK(c.errors.front().to_string().starts_with(tc.line ? "bad.conf:" + std::to_string(tc.line) + ": "
                                                               : std::string("bad.conf: ")));
    }
}

TEST_CASE("every error in a file is reported, in line order")
{
    auto c = parse_config("[redis]\nbogus = 1\ntimeout_ms = -1\n[action]\nspam = \"x\"\n", "f");
    REQUIRE(c.errors.size() == 3);
    CHECK(c.errors[0].line == 2);
    CHECK(c.errors[1].line == 3);
    CHECK(c.errors[2].line == 5);
}

TEST_CASE("a missing file is an error naming it")
{
    auto c = load_config("/nonexistent/rampart.conf");
    REQUIRE(c.errors.size() == 1);
    CHECK(c.errors[0].to_string().find("/nonexistent/rampart.conf: cannot open") == 0);
}

TEST_CASE("the settings table is well formed")
{
    std::set<std::string_view> keys;
    for (const auto& s : settings()) {
        CAPTURE(s.key);
        CHECK(keys.insert(s.key).second);
        CHECK(s.key.find('.') != std::string_view::npos);
        CHECK_FALSE(s.help.empty());
    }
    // The dump is itself a valid configuration holding every default.
    auto c = parse_config(dump_defaults(), "dump");
    INFO((c.errors.empty() ? "" : c.errors.front().to_string()));
    CHECK(c.errors.empty());
}
