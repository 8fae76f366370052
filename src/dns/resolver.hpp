// NAME
//   resolver.hpp - asynchronous DNS lookups with a bounded cache
// DESCRIPTION
//   A Resolver sends questions with c-ares from a thread of its own and
//   hands each caller a Lookup at once: ready() to look, wait_until() to
//   block until the answer is in or a deadline passes. Lookups asked one
//   after the other without waiting are in flight together, so that a
//   phase's questions cost one round trip's time, not one per question.
//
//   Answers are cached in the process for their TTL (never past
//   dns.max_ttl_s), negative answers for their SOA's negative TTL, and
//   temporary failures (SERVFAIL, REFUSED, a timeout, no server reachable)
//   for dns.failure_ttl_s, so that a dead server or a broken zone costs one
//   timeout per name in that time, not one per message. A question already
//   in flight is not sent again: later callers share it. The cache holds at
//   most dns.cache_entries names; past that the least recently used go.
//
//   With a SharedCache (dns.fleet_cache: Redis, store/dns_cache.hpp), a
//   question the process has no answer for is first asked of the fleet:
//   the questions that gathered meanwhile go out together on a thread of
//   their own, and only those the fleet does not know are sent to a DNS
//   server. Definite answers from a server (records, NXDOMAIN, no data)
//   are given to the fleet for their TTL; temporary failures are not, as
//   one node's broken network is not the fleet's. When the shared cache
//   cannot answer, the questions go to DNS as if it were not there.
//
//   Each try waits dns.timeout_ms for the server (c-ares doubles it for
//   each further round of tries), dns.tries tries in all across the
//   servers. The checks bound what a message waits in all with
//   dns.budget_ms (engine/session.hpp).
// SECURITY
//   Names are checked (length, labels) before they are sent; responses are
//   read by parse_response (message.hpp), which trusts no length.
// CONFIGURATION PARAMETERS
//   dns.servers, dns.timeout_ms, dns.tries, dns.cache_entries, dns.max_ttl_s,
//   dns.failure_ttl_s, dns.fleet_cache
#pragma once

#include "config/config.hpp"
#include "dns/message.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace rampart::dns {

// One question, and later its answer.
class Lookup {
  public:
    Lookup(std::string name, Type type) : d_name(std::move(name)), d_type(type) {}

    const std::string& name() const { return d_name; }
    Type type() const { return d_type; }
    // True once the answer is in; never blocks.
    bool ready() const { return d_done.load(std::memory_order_acquire); }
    // Blocks until the answer is in or `deadline` passes; true when it is in.
    bool wait_until(std::chrono::steady_clock::time_point deadline) const;
    // The answer: call only once ready().
    const Answer& answer() const { return d_answer; }

  private:
    friend class Resolver;
    void settle(Answer a);

    std::string d_name;
    Type d_type;
    Answer d_answer;
    std::atomic<bool> d_done{false};
    mutable std::mutex d_mutex;
    mutable std::condition_variable d_wake;
};

struct ResolverCounters {
    std::uint64_t queries = 0;    // sent to a server
    std::uint64_t cache_hits = 0; // answered from the cache, or shared with one in flight
    std::uint64_t failures = 0;   // temporary failures, timeouts included
    std::uint64_t timeouts = 0;
    std::uint64_t fleet_hits = 0; // answered from the SharedCache
};

// Answers shared by the nodes of a fleet. `key` is "TYPE/NAME" (the type's
// number, the lower-case name); values are encode_answer()'s text.
class SharedCache {
  public:
    virtual ~SharedCache() = default;
    // The values of `keys`, in order, nullopt for a miss; all misses when the
    // cache cannot answer. May block, for at most the cache's own timeout.
    virtual std::vector<std::optional<std::string>> get(const std::vector<std::string>& keys) = 0;
    // Stores `value` for `ttl_s` seconds; never blocks.
    virtual void put(const std::string& key, std::string value, std::uint32_t ttl_s) = 0;
};

class Resolver {
  public:
    // Throws std::runtime_error when c-ares cannot start (at start-up only).
    // `fleet`, when given, is asked before a DNS server.
    explicit Resolver(const Config& cfg, std::shared_ptr<SharedCache> fleet = nullptr);
    ~Resolver();
    Resolver(const Resolver&) = delete;
    Resolver& operator=(const Resolver&) = delete;

    // Starts (or finds in the cache) the lookup of `name` (without a
    // trailing dot; case does not matter). A name that cannot be sent
    // (empty, too long, an empty or over-long label) is answered at once
    // with Status::nxdomain: no such name can exist.
    std::shared_ptr<const Lookup> lookup(std::string_view name, Type type);

    ResolverCounters counters() const;
    // True when this resolver was built from the same DNS settings.
    bool same_settings(const Config& cfg) const;
    const std::shared_ptr<SharedCache>& fleet() const { return d_fleet; }

  private:
    struct Cached {
        std::shared_ptr<Lookup> lookup;
        std::chrono::steady_clock::time_point expires; // max() while in flight
        std::list<std::string>::iterator age;
    };
    void run();
    void run_fleet();
    void send(std::vector<std::shared_ptr<Lookup>> lookups);
    void settle(const std::shared_ptr<Lookup>& l, Answer a, bool from_fleet = false);
    static void on_answer(void* arg, int status, int timeouts, unsigned char* abuf, int alen);

    std::vector<std::string> d_servers;
    std::int64_t d_timeout_ms, d_tries, d_max_ttl_s, d_failure_ttl_s;
    std::size_t d_cache_entries;
    std::shared_ptr<SharedCache> d_fleet;

    struct Channel;
    std::unique_ptr<Channel> d_channel; // c-ares: used by d_thread only, once started
    int d_wake[2] = {-1, -1};           // a byte written to [1] wakes d_thread

    std::mutex d_mutex; // guards d_cache, d_ages, d_queue and d_fleet_queue
    std::unordered_map<std::string, Cached> d_cache;
    std::list<std::string> d_ages;                      // most recently used first
    std::vector<std::shared_ptr<Lookup>> d_queue;       // for d_thread to send
    std::vector<std::shared_ptr<Lookup>> d_fleet_queue; // for d_fleet_thread to ask the fleet
    std::condition_variable d_fleet_wake;
    std::atomic<bool> d_stopping{false};
    std::atomic<std::uint64_t> d_queries{0}, d_hits{0}, d_failures{0}, d_timeouts{0}, d_fleet_hits{0};
    std::thread d_thread;       // these two last: they start when the rest is ready
    std::thread d_fleet_thread; // only with d_fleet
};

} // namespace rampart::dns
