// NAME
//   redis.hpp - the only code that speaks to Redis
// DESCRIPTION
//   A Batch collects the commands of one phase; Store::execute sends them as
//   one pipeline, one round trip (shared with the batches of other sessions
//   that arrive meanwhile), and returns one Reply per command in order. Scripts go out as EVALSHA; a NOSCRIPT reply
//   (a restarted or failed-over Redis) loads them again and resends once.
//
//   Store::submit sends a batch without waiting: the caller writes it to a
//   connection kept for that and goes on; a reader thread of the Store reads
//   the replies in order and hands them to the Pending the caller was given
//   (ready() to look, wait() to block). Many batches are in flight on that
//   connection at once. The SMTP steps before DATA use it, so that the MTA
//   never waits for Redis while the client talks.
//
//   Every call has a timeout (redis.timeout_ms). Failures feed the circuit
//   breaker; while it is open, execute() and submit() fail at once.
// SECURITY
//   Replies are bounded by hiredis' own limits; nothing from Redis is trusted
//   as a length or an index without a check.
// CONFIGURATION PARAMETERS
//   redis.servers, redis.password, redis.database, redis.timeout_ms,
//   redis.connect_timeout_ms, redis.breaker_failures, redis.breaker_cooldown_ms,
//   redis.pool_size
#pragma once

#include "config/config.hpp"
#include "store/breaker.hpp"
#include "store/reply.hpp"
#include "store/scripts.hpp"
#include "store/write_queue.hpp"
#include "util/error.hpp"

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace rampart {

class Batch {
  public:
    struct Command {
        std::vector<std::string> args;
        int script = -1; // >= 0: EVALSHA of that script; args are KEYS then ARGV
        int nkeys = 0;
    };

    std::size_t add(std::vector<std::string> args);
    std::size_t eval(Script s, std::vector<std::string> keys, std::vector<std::string> argv);
    void append(Batch&& other);
    bool empty() const { return d_commands.empty(); }
    std::size_t size() const { return d_commands.size(); }
    const std::vector<Command>& commands() const { return d_commands; }

  private:
    std::vector<Command> d_commands;
};

class Connection;

// A one-shot signal whose waiter sleeps in the kernel at once. std::atomic's
// wait and the standard semaphores spin, with sched_yield, before they
// sleep: under load, with more sessions than cores, that costs more CPU than
// the wake-up it saves.
class Signal {
  public:
    void set()
    {
        {
            std::lock_guard lock(d_mutex);
            d_set = true;
        }
        d_cv.notify_all();
    }
    void wait()
    {
        std::unique_lock lock(d_mutex);
        d_cv.wait(lock, [this] { return d_set; });
    }

  private:
    std::mutex d_mutex;
    std::condition_variable d_cv;
    bool d_set = false;
};

// A batch submitted to the Store, and later its replies.
class Pending {
  public:
    // True once the replies (or the failure) are in; never blocks.
    bool ready() const { return d_done.load(std::memory_order_acquire); }
    // Blocks until ready(); at most about redis.timeout_ms after the batch went out.
    const Result<std::vector<Reply>>& wait() const;
    const Batch& batch() const { return d_batch; }

  private:
    friend class Store;
    Batch d_batch;
    Result<std::vector<Reply>> d_result{Error{"not sent"}};
    std::atomic<bool> d_done{false};
    mutable Signal d_settled;
};

struct StoreCounters {
    std::uint64_t round_trips = 0;
    std::uint64_t commands = 0;
    std::uint64_t failures = 0;
    std::uint64_t failed_fast = 0;
    std::uint64_t writes_dropped = 0;
};

class Store {
  public:
    explicit Store(const Config& cfg);
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    // One round trip (two when scripts must be reloaded). An Error means no
    // reply can be trusted: I/O failure, timeout, or a server that cannot
    // serve (READONLY, OOM, LOADING, ...). Other error replies (a wrong
    // command or key type) are returned as such, for the caller to judge.
    //
    // Concurrent callers share round trips: batches that arrive while one
    // pipeline is in flight go out together in the next.
    Result<std::vector<Reply>> execute(const Batch& batch);
    // The same on a connection of its own, sharing with nobody: for large,
    // rare reads (the lists) that must not hold up the messages' pipelines.
    Result<std::vector<Reply>> execute_alone(const Batch& batch);

    // Writes `batch` as one pipeline to the connection kept for submitted
    // batches and returns at once; the replies arrive in the Pending. An
    // empty batch or an open breaker gives a ready Pending.
    std::shared_ptr<const Pending> submit(Batch batch);

    // Queues writes that nobody waits for (see write_queue.hpp).
    void post(Batch batch) { d_writes.post(std::move(batch)); }
    void flush_writes() { d_writes.flush(); }

    bool available() { return d_breaker.allow(); }
    bool breaker_open() const { return d_breaker.is_open(); }
    StoreCounters counters() const;

    // True when this store was built from the same Redis settings.
    bool same_settings(const Config& cfg) const;

  private:
    std::unique_ptr<Connection> acquire(std::string& why);
    void release(std::unique_ptr<Connection> c);
    Result<std::vector<Reply>> round_trip(std::span<const Batch* const> batches);
    Result<std::vector<Reply>> send(Connection& c, std::span<const Batch* const> batches);
    std::string format_pipeline(std::span<const Batch* const> batches) const;
    // Writes a formatted pipeline of `commands` commands; counts it.
    Result<std::size_t> write_pipeline(Connection& c, std::string_view wire, std::size_t commands);
    Result<std::vector<Reply>> read_pipeline(Connection& c, std::size_t count);
    Result<std::vector<Reply>> checked(const Pending& p, Result<std::vector<Reply>> replies,
                                       const std::shared_ptr<Connection>& conn);

    struct Waiter {
        explicit Waiter(const Batch* b) : batch(b) {}
        const Batch* batch;
        Result<std::vector<Reply>> result{Error{"not sent"}};
        bool done = false; // written before `wake` is set
        Signal wake;
    };
    bool load_scripts(Connection& c, std::string& why);
    void read_replies();
    void settle(Pending& p, Result<std::vector<Reply>> r);

    std::vector<std::string> d_servers;
    std::string d_password;
    std::int64_t d_database;
    std::int64_t d_timeout_ms;
    std::int64_t d_connect_timeout_ms;
    std::size_t d_pool_size;
    std::int64_t d_breaker_failures;
    std::int64_t d_breaker_cooldown_ms;

    Breaker d_breaker;
    std::mutex d_mutex; // guards d_idle, and d_sha until d_have_sha
    std::vector<std::unique_ptr<Connection>> d_idle;
    // A script's SHA1 depends only on its source: once known, it never changes,
    // even when a restarted Redis must be sent the scripts again.
    std::array<std::string, kScriptCount> d_sha;
    std::atomic<bool> d_have_sha{false};
    std::atomic<std::uint64_t> d_round_trips{0};
    std::atomic<std::uint64_t> d_commands{0};
    std::mutex d_group_mutex; // guards d_waiting and d_leading
    std::vector<Waiter*> d_waiting;
    bool d_leading = false;
    // Submitted batches: written to d_async by their callers, in flight in
    // d_outstanding (oldest first) until d_reader (started on first use)
    // reads their replies.
    struct Outstanding {
        std::shared_ptr<Pending> pending;
        std::shared_ptr<Connection> conn;
    };
    std::mutex d_async_mutex; // guards d_async, d_outstanding, d_stopping and the reader's start
    std::condition_variable d_async_wake;
    std::shared_ptr<Connection> d_async;
    std::deque<Outstanding> d_outstanding;
    bool d_stopping = false;
    std::thread d_reader;
    WriteQueue d_writes{*this}; // last: its thread stops before the rest goes
};

} // namespace rampart
