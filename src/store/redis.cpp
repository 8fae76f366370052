#include "store/redis.hpp"

#include "util/log.hpp"

#include <fmt/format.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>

#include <sys/socket.h>

namespace rampart {

long long Reply::as_integer(long long fallback) const
{
    if (type == Type::integer)
        return integer;
    if (type == Type::string || type == Type::status) {
        long long v = 0;
        const auto [end, ec] = std::from_chars(str.data(), str.data() + str.size(), v);
        if (ec == std::errc{} && end == str.data() + str.size())
            return v;
    }
    return fallback;
}

std::size_t Batch::add(std::vector<std::string> args)
{
    d_commands.push_back({std::move(args), -1, 0});
    return d_commands.size() - 1;
}

void Batch::append(Batch&& other)
{
    for (auto& c : other.d_commands)
        d_commands.push_back(std::move(c));
}

std::size_t Batch::eval(Script s, std::vector<std::string> keys, std::vector<std::string> argv)
{
    Command c;
    c.script = static_cast<int>(s);
    c.nkeys = static_cast<int>(keys.size());
    c.args = std::move(keys);
    c.args.insert(c.args.end(), std::make_move_iterator(argv.begin()), std::make_move_iterator(argv.end()));
    d_commands.push_back(std::move(c));
    return d_commands.size() - 1;
}

namespace {

constexpr std::size_t kMaxReplyDepth = 4;

Reply copy_reply(const redisReply* r, std::size_t depth = 0)
{
    Reply out;
    if (r == nullptr)
        return out;
    switch (r->type) {
    case REDIS_REPLY_INTEGER:
        out.type = Reply::Type::integer;
        out.integer = r->integer;
        break;
    case REDIS_REPLY_STRING:
        out.type = Reply::Type::string;
        out.str.assign(r->str, r->len);
        break;
    case REDIS_REPLY_STATUS:
        out.type = Reply::Type::status;
        out.str.assign(r->str, r->len);
        break;
    case REDIS_REPLY_ERROR:
        out.type = Reply::Type::error;
        out.str.assign(r->str, r->len);
        break;
    case REDIS_REPLY_ARRAY:
        out.type = Reply::Type::array;
        if (depth < kMaxReplyDepth) {
            out.elements.reserve(r->elements);
            for (std::size_t i = 0; i < r->elements; ++i)
                out.elements.push_back(copy_reply(r->element[i], depth + 1));
        }
        break;
    default: break;
    }
    return out;
}

// Error replies that mean "this server cannot serve now" rather than "this
// command was wrong": they count against the breaker like a timeout.
bool is_unavailable(const Reply& r)
{
    static constexpr std::string_view kinds[] = {"READONLY",    "OOM",      "LOADING", "MASTERDOWN", "BUSY",
                                                 "CLUSTERDOWN", "TRYAGAIN", "NOAUTH",  "MOVED",      "ASK"};
    if (!r.is_error())
        return false;
    for (auto k : kinds)
        if (r.str.starts_with(k) && (r.str.size() == k.size() || r.str[k.size()] == ' '))
            return true;
    return false;
}

// True when Redis lost its script cache (a restart or failover): the
// scripts must be loaded again and the batch resent.
bool lost_scripts(const std::vector<Reply>& replies)
{
    return std::any_of(replies.begin(), replies.end(),
                       [](const Reply& r) { return r.is_error() && r.str.starts_with("NOSCRIPT"); });
}

// The error when a reply says the server cannot serve now; such a
// connection is dropped and the failure counts against the breaker.
std::optional<Error> unavailable(const std::vector<Reply>& replies)
{
    for (const auto& r : replies)
        if (is_unavailable(r))
            return Error{"Redis answered: " + r.str};
    return std::nullopt;
}

timeval to_timeval(std::int64_t ms)
{
    return timeval{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
}

} // namespace

// One hiredis context; closed when destroyed.
class Connection {
  public:
    explicit Connection(redisContext* c) : d_ctx(c, &redisFree) {}
    redisContext* get() const { return d_ctx.get(); }
    bool broken() const { return d_ctx->err != 0 || d_failed; }
    // Set by a failed read or write; safe to ask while another thread reads.
    bool failed() const { return d_failed; }

    // Writes bytes straight to the socket (not through hiredis' buffer, so
    // that a reader thread may read replies meanwhile).
    Result<std::size_t> write_all(std::string_view data)
    {
        std::size_t done = 0;
        while (done < data.size()) {
            const auto n = ::send(d_ctx->fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                d_failed = true;
                return Error{n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? "write timed out"
                                                                                : std::strerror(errno)};
            }
            done += static_cast<std::size_t>(n);
        }
        return done;
    }

    // Sends argv and reads one reply; used for set-up commands.
    Result<Reply> call(const std::vector<std::string>& args)
    {
        append(args);
        return read();
    }

    void append(const std::vector<std::string>& args)
    {
        std::vector<const char*> argv;
        std::vector<std::size_t> lens;
        argv.reserve(args.size());
        lens.reserve(args.size());
        for (const auto& a : args) {
            argv.push_back(a.data());
            lens.push_back(a.size());
        }
        redisAppendCommandArgv(d_ctx.get(), static_cast<int>(argv.size()), argv.data(), lens.data());
    }

    Result<Reply> read()
    {
        void* raw = nullptr;
        if (redisGetReply(d_ctx.get(), &raw) != REDIS_OK || raw == nullptr) {
            d_failed = true;
            return Error{d_ctx->errstr[0] ? d_ctx->errstr : "connection lost"};
        }
        std::unique_ptr<redisReply, decltype(&freeReplyObject)> r(static_cast<redisReply*>(raw), &freeReplyObject);
        return copy_reply(r.get());
    }

  private:
    std::unique_ptr<redisContext, decltype(&redisFree)> d_ctx;
    std::atomic<bool> d_failed{false};
};

Store::Store(const Config& cfg)
    : d_servers(cfg.redis_servers), d_password(cfg.redis_password), d_database(cfg.redis_database),
      d_timeout_ms(cfg.redis_timeout_ms), d_connect_timeout_ms(cfg.redis_connect_timeout_ms),
      d_pool_size(static_cast<std::size_t>(cfg.redis_pool_size)), d_breaker_failures(cfg.redis_breaker_failures),
      d_breaker_cooldown_ms(cfg.redis_breaker_cooldown_ms),
      d_breaker(static_cast<int>(cfg.redis_breaker_failures), std::chrono::milliseconds(cfg.redis_breaker_cooldown_ms))
{
}

Store::~Store()
{
    {
        std::lock_guard lock(d_async_mutex);
        d_stopping = true;
    }
    d_async_wake.notify_all();
    if (d_reader.joinable())
        d_reader.join();
}

const Result<std::vector<Reply>>& Pending::wait() const
{
    if (!ready())
        d_settled.wait();
    return d_result;
}

void Store::settle(Pending& p, Result<std::vector<Reply>> r)
{
    p.d_result = std::move(r);
    p.d_done.store(true, std::memory_order_release);
    p.d_settled.set();
}

std::shared_ptr<const Pending> Store::submit(Batch batch)
{
    auto p = std::make_shared<Pending>();
    p->d_batch = std::move(batch);
    if (p->d_batch.empty()) {
        settle(*p, std::vector<Reply>{});
        return p;
    }
    if (!d_breaker.allow()) {
        settle(*p, Error{"circuit breaker open"});
        return p;
    }
    const Batch* one[] = {&p->d_batch};
    // Formatted before the lock, so that sessions do not queue behind each
    // other's formatting; needs the scripts' SHA1s, known after first use.
    std::string wire = d_have_sha.load(std::memory_order_acquire) ? format_pipeline(one) : std::string();
    std::unique_lock lock(d_async_mutex);
    if (!d_async || d_async->failed()) { // (its reader may be reading: ask only the atomic flag)
        std::string why = "no Redis server configured";
        auto c = acquire(why);
        if (!c) {
            lock.unlock();
            d_breaker.failure(why);
            settle(*p, Error{why});
            return p;
        }
        d_async = std::move(c);
    }
    if (wire.empty())
        wire = format_pipeline(one);
    if (auto written = write_pipeline(*d_async, wire, p->d_batch.size()); !written) {
        d_async.reset(); // the reader drops it once the batches already on it have failed
        lock.unlock();
        d_breaker.failure(written.error().message);
        settle(*p, written.error());
        return p;
    }
    const bool was_idle = d_outstanding.empty();
    d_outstanding.push_back({p, d_async});
    if (!d_reader.joinable()) // started on first use: rampartctl needs no thread
        d_reader = std::thread([this] { read_replies(); });
    lock.unlock();
    if (was_idle)
        d_async_wake.notify_one();
    return p;
}

// The reader: replies come back in the order the batches were written, so
// the oldest outstanding batch owns the next replies. A connection that
// fails (I/O error, redis.timeout_ms without a reply) fails every batch
// written to it.
void Store::read_replies()
{
    std::unique_lock lock(d_async_mutex);
    for (;;) {
        d_async_wake.wait(lock, [this] { return d_stopping || !d_outstanding.empty(); });
        if (d_outstanding.empty()) // stopping, and nothing left
            return;
        const Outstanding o = d_outstanding.front();
        lock.unlock();
        Result<std::vector<Reply>> replies = read_pipeline(*o.conn, o.pending->d_batch.size());
        if (replies) {
            lock.lock();
            d_outstanding.pop_front();
            lock.unlock();
            settle(*o.pending, checked(*o.pending, std::move(replies), o.conn));
            lock.lock();
            continue;
        }
        std::vector<std::shared_ptr<Pending>> lost;
        lock.lock();
        std::erase_if(d_outstanding, [&](const Outstanding& x) {
            if (x.conn != o.conn)
                return false;
            lost.push_back(x.pending);
            return true;
        });
        if (d_async == o.conn)
            d_async.reset();
        lock.unlock();
        d_breaker.failure(replies.error().message);
        for (const auto& p : lost)
            settle(*p, replies.error());
        lock.lock();
    }
}

bool Store::same_settings(const Config& cfg) const
{
    return d_servers == cfg.redis_servers && d_password == cfg.redis_password && d_database == cfg.redis_database &&
           d_timeout_ms == cfg.redis_timeout_ms && d_connect_timeout_ms == cfg.redis_connect_timeout_ms &&
           d_pool_size == static_cast<std::size_t>(cfg.redis_pool_size) &&
           d_breaker_failures == cfg.redis_breaker_failures && d_breaker_cooldown_ms == cfg.redis_breaker_cooldown_ms;
}

StoreCounters Store::counters() const
{
    return {d_round_trips.load(), d_commands.load(), d_breaker.failures(), d_breaker.failed_fast(), d_writes.dropped()};
}

std::unique_ptr<Connection> Store::acquire(std::string& why)
{
    {
        std::lock_guard lock(d_mutex);
        if (!d_idle.empty()) {
            auto c = std::move(d_idle.back());
            d_idle.pop_back();
            return c;
        }
    }
    for (const auto& server : d_servers) {
        redisContext* raw = nullptr;
        const auto tv = to_timeval(d_connect_timeout_ms);
        if (server.starts_with("/")) {
            raw = redisConnectUnixWithTimeout(server.c_str(), tv);
        } else {
            const auto colon = server.rfind(':');
            std::string host = server.substr(0, colon);
            if (host.size() > 2 && host.front() == '[' && host.back() == ']')
                host = host.substr(1, host.size() - 2);
            raw = redisConnectWithTimeout(host.c_str(), std::stoi(server.substr(colon + 1)), tv);
        }
        if (raw == nullptr) {
            why = "out of memory";
            continue;
        }
        auto c = std::make_unique<Connection>(raw);
        if (c->broken()) {
            why = fmt::format("{}: {}", server, raw->errstr);
            continue;
        }
        redisSetTimeout(raw, to_timeval(d_timeout_ms));
        if (!d_password.empty()) {
            auto r = c->call({"AUTH", d_password});
            if (!r || r->is_error()) {
                why = fmt::format("{}: AUTH failed: {}", server, r ? r->str : r.error().message);
                continue;
            }
        }
        if (d_database != 0) {
            auto r = c->call({"SELECT", std::to_string(d_database)});
            if (!r || r->is_error()) {
                why = fmt::format("{}: SELECT failed: {}", server, r ? r->str : r.error().message);
                continue;
            }
        }
        if (!d_have_sha.load(std::memory_order_acquire) && !load_scripts(*c, why))
            continue;
        return c;
    }
    return nullptr;
}

void Store::release(std::unique_ptr<Connection> c)
{
    if (c->broken())
        return;
    std::lock_guard lock(d_mutex);
    if (d_idle.size() < d_pool_size)
        d_idle.push_back(std::move(c));
}

bool Store::load_scripts(Connection& c, std::string& why)
{
    for (int i = 0; i < kScriptCount; ++i)
        c.append({"SCRIPT", "LOAD", std::string(script_source(static_cast<Script>(i)))});
    std::array<std::string, kScriptCount> sha;
    for (int i = 0; i < kScriptCount; ++i) {
        auto r = c.read();
        if (!r || r->type != Reply::Type::string) {
            why =
                fmt::format("SCRIPT LOAD {}: {}", script_name(static_cast<Script>(i)), r ? r->str : r.error().message);
            return false;
        }
        sha[i] = r->str;
    }
    std::lock_guard lock(d_mutex);
    if (!d_have_sha.load(std::memory_order_relaxed)) {
        d_sha = sha;
        d_have_sha.store(true, std::memory_order_release);
    }
    return true;
}

namespace {

// RESP: "*N\r\n" then "$LEN\r\nARG\r\n" per argument.
void append_count(std::string& out, char mark, std::size_t n)
{
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
    out += mark;
    out.append(digits, end);
    out += "\r\n";
}

void append_arg(std::string& out, std::string_view arg)
{
    append_count(out, '$', arg.size());
    out += arg;
    out += "\r\n";
}

} // namespace

// The batches as one buffer of Redis protocol, scripts as EVALSHA; written
// here rather than by hiredis, which allocates each command on its own.
std::string Store::format_pipeline(std::span<const Batch* const> batches) const
{
    const auto& sha = d_sha; // fixed once d_have_sha (acquire() saw to it)
    std::size_t size = 0;
    for (const Batch* batch : batches)
        for (const auto& cmd : batch->commands()) {
            size += 64;
            for (const auto& a : cmd.args)
                size += a.size() + 16;
        }
    std::string out;
    out.reserve(size);
    for (const Batch* batch : batches)
        for (const auto& cmd : batch->commands()) {
            if (cmd.script >= 0) {
                append_count(out, '*', cmd.args.size() + 3);
                append_arg(out, "EVALSHA");
                append_arg(out, sha[cmd.script]);
                char digits[24];
                const auto end = std::to_chars(digits, digits + sizeof digits, cmd.nkeys).ptr;
                append_arg(out, std::string_view(digits, static_cast<std::size_t>(end - digits)));
            } else {
                append_count(out, '*', cmd.args.size());
            }
            for (const auto& a : cmd.args)
                append_arg(out, a);
        }
    return out;
}

Result<std::size_t> Store::write_pipeline(Connection& c, std::string_view wire, std::size_t commands)
{
    auto written = c.write_all(wire);
    if (!written)
        return written.error();
    ++d_round_trips;
    d_commands += commands;
    return commands;
}

Result<std::vector<Reply>> Store::read_pipeline(Connection& c, std::size_t count)
{
    std::vector<Reply> replies;
    replies.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        auto r = c.read();
        if (!r)
            return r.error();
        replies.push_back(std::move(*r));
    }
    return replies;
}

Result<std::vector<Reply>> Store::send(Connection& c, std::span<const Batch* const> batches)
{
    std::size_t total = 0;
    for (const Batch* batch : batches)
        total += batch->size();
    auto written = write_pipeline(c, format_pipeline(batches), total);
    if (!written)
        return written.error();
    return read_pipeline(c, *written);
}

// What a pipeline's replies mean for the connection and the breaker. A
// NOSCRIPT reply (Redis lost its script cache) has the batch sent again
// through round_trip, which loads the scripts first.
Result<std::vector<Reply>> Store::checked(const Pending& p, Result<std::vector<Reply>> replies,
                                          const std::shared_ptr<Connection>& conn)
{
    if (lost_scripts(*replies)) {
        const Batch* one[] = {&p.d_batch};
        return round_trip(one);
    }
    if (auto e = unavailable(*replies)) { // a replica or a loading server: try afresh
        {
            std::lock_guard lock(d_async_mutex);
            if (d_async == conn)
                d_async.reset();
        }
        d_breaker.failure(e->message);
        return std::move(*e);
    }
    d_breaker.success();
    return replies;
}

Result<std::vector<Reply>> Store::execute_alone(const Batch& batch)
{
    const Batch* one[] = {&batch};
    return round_trip(one);
}

Result<std::vector<Reply>> Store::round_trip(std::span<const Batch* const> batches)
{
    if (!d_breaker.allow())
        return Error{"circuit breaker open"};
    std::string why = "no Redis server configured";
    auto conn = acquire(why);
    if (!conn) {
        d_breaker.failure(why);
        return Error{why};
    }
    auto replies = send(*conn, batches);
    if (replies && lost_scripts(*replies)) { // load them again and resend once
        if (!load_scripts(*conn, why)) {
            d_breaker.failure(why);
            return Error{why};
        }
        replies = send(*conn, batches);
    }
    if (replies)
        if (auto e = unavailable(*replies)) {
            conn.reset(); // a replica or a loading server: try afresh next time
            replies = std::move(*e);
        }
    if (!replies) {
        d_breaker.failure(replies.error().message);
        return replies.error();
    }
    d_breaker.success();
    release(std::move(conn));
    return replies;
}

// Leader and followers: the first caller to find no pipeline in flight
// sends its own batch and every batch queued behind it in one pipeline,
// hands each caller its replies, and wakes just those callers; if more
// arrived meanwhile, it wakes the first of them to lead the next pipeline.
// Under load many messages share one round trip; alone, a caller pays no
// hand-off; no caller is woken only to sleep again.
Result<std::vector<Reply>> Store::execute(const Batch& batch)
{
    if (batch.empty())
        return std::vector<Reply>{};
    if (!d_breaker.allow())
        return Error{"circuit breaker open"};
    Waiter me{&batch};
    std::unique_lock lock(d_group_mutex);
    d_waiting.push_back(&me);
    if (d_leading) {
        lock.unlock();
        me.wake.wait(); // done, or handed the lead
        if (me.done)
            return std::move(me.result);
        lock.lock();
    } else {
        d_leading = true;
    }
    std::vector<Waiter*> group;
    group.swap(d_waiting); // this caller's batch and all queued behind it
    lock.unlock();

    std::vector<const Batch*> batches;
    batches.reserve(group.size());
    for (const Waiter* w : group)
        batches.push_back(w->batch);
    auto replies = round_trip(batches);
    std::size_t at = 0;
    for (Waiter* w : group) {
        if (replies) {
            const auto first = replies->begin() + static_cast<std::ptrdiff_t>(at);
            at += w->batch->size();
            w->result = std::vector<Reply>(std::make_move_iterator(first),
                                           std::make_move_iterator(replies->begin() + static_cast<std::ptrdiff_t>(at)));
        } else {
            w->result = replies.error();
        }
    }

    lock.lock();
    Waiter* next = d_waiting.empty() ? nullptr : d_waiting.front();
    if (next == nullptr)
        d_leading = false;
    lock.unlock();
    for (Waiter* w : group) {
        if (w == &me)
            continue;
        w->done = true;
        w->wake.set();
    }
    if (next != nullptr)
        next->wake.set(); // it leads the next pipeline; d_leading stays set for it
    return std::move(me.result);
}

} // namespace rampart
