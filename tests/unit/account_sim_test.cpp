// The compromised-account simulation (tests/integration/account-sim.sh
// runs it against a real redis-server): a population of normal accounts
// sends realistic mail for three days while account.action = notify
// teaches rampart their baselines, as a new deployment starts, then a
// fourth day under action = lock during which two of the quiet accounts
// are hijacked. Two nodes share the Redis and take the messages in turn.
//
// Asserted: each hijacked account is locked within account.messages (50)
// messages, and no normal account is locked. The figures (messages sent
// before each lock, notifications while learning, false locks) are
// printed for the closing note of a change.
#include "engine/session.hpp"
#include "redis_helpers.hpp"

#include <fmt/format.h>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <set>

using namespace rampart;
using namespace rampart::test;
using Clock = std::chrono::system_clock;

namespace {

const Clock::time_point kStart = Clock::time_point(std::chrono::seconds(1796601600)); // 2026-12-07 00:00 UTC
constexpr int kAccounts = 400;
constexpr int kLearningDays = 3;

// Recipient domains, most common first: a consumer's contacts are mostly
// at the big providers.
std::vector<std::string> contact_domains()
{
    std::vector<std::string> d = {"gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com",
                                  "aol.com",   "gmx.net",   "web.de",      "orange.fr",   "example.net"};
    for (int i = 0; i < 30; ++i)
        d.push_back("company" + std::to_string(i) + ".example");
    return d;
}

struct Profile {
    std::string login;
    double per_day = 0; // messages on an average day
    int first_hour = 7, last_hour = 23;
    std::vector<std::string> contacts; // addresses
    std::vector<std::string> ips;      // home, phone (a carrier's pool), office
};

struct Event {
    Clock::time_point at;
    int account = 0; // index, or -1 and -2 for the hijackers
    std::vector<std::string> rcpts;
    std::string ip;
};

struct Population {
    std::vector<Profile> accounts;
    std::mt19937 rng{20261207};

    Population()
    {
        const auto domains = contact_domains();
        std::lognormal_distribution<double> volume(std::log(6.0), 1.0);
        std::uniform_real_distribution<double> u(0, 1);
        for (int a = 0; a < kAccounts; ++a) {
            Profile p;
            p.login = "user" + std::to_string(a) + "@isp.example";
            const bool business = a % 33 == 0; // a small business: hundreds a day, office hours
            p.per_day = business ? 200 + 400 * u(rng) : std::min(150.0, volume(rng));
            if (business) {
                p.first_hour = 8;
                p.last_hour = 18;
            }
            const int contacts = 10 + static_cast<int>(u(rng) * (business ? 400 : 80));
            for (int c = 0; c < contacts; ++c) {
                // Zipf-like: the low indexes (big providers) are picked most.
                const auto d = static_cast<std::size_t>(std::pow(u(rng), 2.5) * static_cast<double>(domains.size()));
                p.contacts.push_back("c" + std::to_string(c) + "." + std::to_string(a) + "@" + domains[d]);
            }
            p.ips.push_back("10." + std::to_string(a / 250) + "." + std::to_string(a % 250) + ".1");
            if (u(rng) < 0.7) // a phone on a carrier's pool: a handful of addresses
                for (int k = 0; k < 4; ++k)
                    p.ips.push_back("100.64." + std::to_string(static_cast<int>(u(rng) * 250)) + "." +
                                    std::to_string(1 + k));
            if (business)
                p.ips.push_back("192.0.2." + std::to_string(a % 250));
            accounts.push_back(std::move(p));
        }
    }

    // One day of normal mail: sessions of a few messages at random times of the account's hours.
    std::vector<Event> day(int d)
    {
        std::vector<Event> out;
        std::uniform_real_distribution<double> u(0, 1);
        for (int a = 0; a < kAccounts; ++a) {
            const Profile& p = accounts[static_cast<std::size_t>(a)];
            std::poisson_distribution<int> count(p.per_day);
            int left = count(rng);
            while (left > 0) {
                const int burst = std::min(left, 1 + static_cast<int>(u(rng) * 5));
                left -= burst;
                const double hour = p.first_hour + u(rng) * (p.last_hour - p.first_hour);
                auto at =
                    kStart + std::chrono::hours(24 * d) + std::chrono::seconds(static_cast<std::int64_t>(hour * 3600));
                const std::string& ip = p.ips[static_cast<std::size_t>(u(rng) * static_cast<double>(p.ips.size()))];
                for (int m = 0; m < burst; ++m) {
                    Event e{at, a, {}, ip};
                    const double r = u(rng);
                    const int rcpts = r < 0.7    ? 1
                                      : r < 0.95 ? 2 + static_cast<int>(u(rng) * 4)
                                                 : 6 + static_cast<int>(u(rng) * 35);
                    for (int k = 0; k < rcpts; ++k)
                        e.rcpts.push_back(
                            p.contacts[static_cast<std::size_t>(u(rng) * static_cast<double>(p.contacts.size()))]);
                    out.push_back(std::move(e));
                    at += std::chrono::seconds(30 + static_cast<int>(u(rng) * 120));
                }
            }
        }
        return out;
    }
};

struct Tally {
    int sent = 0, refused = 0;
    std::set<std::string> suspects; // logins with a RAMPART_ACCOUNT_* symbol other than LOCKED
};

// Plays `events` in time order through two nodes in turn.
void play(std::vector<Event>& events, const std::vector<std::shared_ptr<const Runtime>>& nodes, const Population& pop,
          const std::map<int, std::string>& hijackers, std::map<std::string, Tally>& tally)
{
    std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) { return a.at < b.at; });
    std::size_t n = 0;
    for (const auto& e : events) {
        const std::string login =
            e.account >= 0 ? pop.accounts[static_cast<std::size_t>(e.account)].login : hijackers.at(e.account);
        Session s(nodes[n++ % nodes.size()]);
        s.connect(IpAddress::parse(e.ip), "client.example");
        s.helo("client.example");
        Tally& t = tally[e.account >= 0 ? login : "hijacker:" + login]; // the owner's mail apart
        bool refused = s.mail("<" + login + ">", "", login).settles();
        if (!refused) {
            s.set_arrival(e.at);
            for (const auto& r : e.rcpts)
                refused |= s.rcpt("<" + r + ">").settles();
            s.header("Subject", "hello");
            s.body("a note\r\n");
            const auto out = s.eom("Q");
            refused |= out.answer.kind != Answer::Kind::accept;
            for (const auto& edit : out.edits)
                if (edit.name == "X-Rampart-Symbols" && edit.value.find("RAMPART_ACCOUNT_") != std::string::npos)
                    t.suspects.insert(login);
        }
        s.close();
        ++(refused ? t.refused : t.sent);
    }
}

} // namespace

TEST_CASE("account simulation: hijacked accounts are locked within account.messages; no normal account is")
{
    const std::string base = "[rules]\nenabled = false\n[content]\nenabled = false\n[lists]\nenabled = false\n"
                             "[ratelimit]\nenabled = false\n[reputation]\nenabled = false\n[action]\n"
                             "clean = \"tag\"\n" +
                             redis_section("sim");
    auto learning = config(base + "[account]\naction = \"notify\"\n");
    auto enforcing = config(base + "[account]\naction = \"lock\"\n");
    Population pop;
    std::map<std::string, Tally> tally;
    const std::map<int, std::string> hijackers = {{-1, pop.accounts[1].login}, {-2, pop.accounts[2].login}};

    const auto t0 = std::chrono::steady_clock::now();
    std::size_t messages = 0;
    for (int d = 0; d < kLearningDays; ++d) {
        auto events = pop.day(d);
        messages += events.size();
        play(events, {runtime(learning), runtime(learning)}, pop, hijackers, tally);
    }
    std::set<std::string> notified;
    for (const auto& [login, t] : tally)
        if (!t.suspects.empty())
            notified.insert(login);
    const auto learning_notified = notified.size();
    for (auto& [login, t] : tally)
        t = Tally{};

    // The simulated day: normal mail, and from 14:00 two hijacked quiet accounts.
    auto events = pop.day(kLearningDays);
    const auto attack = kStart + std::chrono::hours(24 * kLearningDays + 14);
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> octet(1, 254);
    for (int i = 0; i < 2000; ++i) {
        // A botnet: 20 harvested recipients a message at random domains, from a new address each time.
        Event blast{attack + std::chrono::seconds(2 * i), -1, {}, ""};
        blast.ip = fmt::format("{}.{}.{}.{}", octet(rng), octet(rng), octet(rng), octet(rng));
        for (int k = 0; k < 20; ++k)
            blast.rcpts.push_back(fmt::format("victim{}@d{}.example", octet(rng), octet(rng)));
        events.push_back(std::move(blast));
        // A careful spammer: one recipient at gmail.com a message, from the owner's own home address.
        Event slow{
            attack + std::chrono::seconds(30 * i), -2, {fmt::format("victim{}@gmail.com", i)}, pop.accounts[2].ips[0]};
        events.push_back(std::move(slow));
    }
    messages += events.size();
    play(events, {runtime(enforcing), runtime(enforcing)}, pop, hijackers, tally);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    Store store(*enforcing);
    Keys keys(enforcing->redis_prefix);
    int false_locks = 0;
    for (const auto& p : pop.accounts) {
        if (p.login == pop.accounts[1].login || p.login == pop.accounts[2].login)
            continue;
        Batch b;
        b.add({"EXISTS", keys.account_block(p.login)});
        false_locks += static_cast<int>(run(store, b).at(0).as_integer());
    }
    Batch locked;
    locked.add({"HGET", keys.account_block(pop.accounts[1].login), "reason"});
    locked.add({"HGET", keys.account_block(pop.accounts[2].login), "reason"});
    const auto reasons = run(store, locked);
    const int botnet_sent = tally["hijacker:" + pop.accounts[1].login].sent;
    const int careful_sent = tally["hijacker:" + pop.accounts[2].login].sent;
    std::printf("account simulation: %d accounts, %d learning days under notify (%zu accounts notified), "
                "1 day under lock; %zu messages in %.1f s\n",
                kAccounts, kLearningDays, learning_notified, messages, seconds);
    std::printf("  botnet hijack (20 rcpts, new address each): %d messages out before the lock: %s\n", botnet_sent,
                reasons[0].str.c_str());
    std::printf("  careful hijack (1 rcpt, the owner's address): %d messages out before the lock: %s\n", careful_sent,
                reasons[1].str.c_str());
    std::printf("  normal accounts locked: %d of %d\n", false_locks, kAccounts - 2);
    CHECK(false_locks == 0);
    CHECK(reasons[0].type == Reply::Type::string);
    CHECK(reasons[1].type == Reply::Type::string);
    CHECK(botnet_sent <= 50);
    CHECK(careful_sent <= 50);
    CHECK(botnet_sent + tally["hijacker:" + pop.accounts[1].login].refused == 2000);
    CHECK(careful_sent + tally["hijacker:" + pop.accounts[2].login].refused == 2000);
}
