// NAME
//   telemetry.cpp - the stats flusher and the metrics endpoint of rampart-milter
// DESCRIPTION
//   open_metrics opens the Prometheus endpoint's socket when
//   metrics.listen is set (before the daemon detaches, so that a port in
//   use fails the starting command). start_telemetry starts the
//   endpoint's thread (metrics_server.hpp) and a thread that, every
//   stats.flush_s seconds (as the current configuration says), sends what
//   this node's counters gained to Redis (stats/flush.hpp) as one
//   pipeline on a pooled connection, unless the Redis breaker is open.
//   stop_telemetry flushes a last time and stops both.
// CONFIGURATION PARAMETERS
//   stats.enabled, stats.flush_s, stats.node, metrics.listen.
#include "milter/glue.hpp"
#include "milter/metrics_server.hpp"
#include "stats/exposition.hpp"
#include "stats/flush.hpp"
#include "util/log.hpp"
#include "util/text.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace rampart::milter {
namespace {

std::mutex g_mutex; // guards g_stopping and g_recorder
std::condition_variable g_wake;
bool g_stopping = false;
std::thread g_flusher;
std::unique_ptr<MetricsServer> g_metrics;
// The Recorder the endpoint shows: the current Runtime's, or the last one
// there was (a reload that turned stats off keeps its counts on show).
std::shared_ptr<stats::Recorder> g_recorder;

std::int64_t unix_now()
{
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void flush(stats::Flusher& flusher, const Runtime& rt)
{
    // An open breaker would fail the flush at once, and count that as an
    // error of its own: the gains wait for the next round instead.
    if (!rt.stats || !rt.config->stats_enabled || rt.store->breaker_open())
        return;
    const auto store = rt.store->counters();
    stats::ErrorTotals errors{rt.store.get(), store.failures, store.failed_fast, nullptr, 0};
    if (rt.resolver) {
        errors.resolver = rt.resolver.get();
        errors.dns = rt.resolver->counters().failures;
    }
    const stats::NodeState state{rt.node, rt.store->breaker_open(), rt.config->stats_flush_s};
    const Batch batch = flusher.take(rt.stats->counts(), errors, state, rt.keys, unix_now());
    const auto replies = rt.store->execute_alone(batch);
    if (!replies) {
        log::debug("stats: flushing the counters failed: {}; they go with the next flush", replies.error().message);
        return;
    }
    flusher.delivered();
    for (const auto& r : *replies)
        if (r.is_error()) { // a key of another type where a bucket should be: said, never retried
            log::warning("stats: Redis refused a counter update: {}", printable(r.str));
            break;
        }
}

void run_flusher()
{
    stats::Flusher flusher;
    std::unique_lock lock(g_mutex);
    while (!g_stopping) {
        const auto every = std::chrono::seconds(current_runtime()->config->stats_flush_s);
        g_wake.wait_for(lock, every, [] { return g_stopping; });
        lock.unlock();
        try {
            flush(flusher, *current_runtime());
        } catch (const std::exception& e) {
            log::error("stats: flushing the counters failed: {}", e.what());
        }
        lock.lock();
    }
}

std::string metrics_page()
{
    const auto rt = current_runtime();
    std::shared_ptr<stats::Recorder> recorder;
    {
        std::lock_guard lock(g_mutex);
        if (rt->stats)
            g_recorder = rt->stats;
        recorder = g_recorder;
    }
    const auto store = rt->store->counters();
    stats::ProcessFacts f{.redis_round_trips = store.round_trips,
                          .redis_commands = store.commands,
                          .redis_errors = store.failures,
                          .redis_failed_fast = store.failed_fast,
                          .redis_writes_dropped = store.writes_dropped,
                          .breaker_open = rt->store->breaker_open(),
                          .version = PACKAGE_VERSION,
                          .node = rt->node};
    if (rt->resolver) {
        const auto dns = rt->resolver->counters();
        f.dns_queries = dns.queries;
        f.dns_errors = dns.failures;
        f.dns_timeouts = dns.timeouts;
    }
    static const stats::Recorder none; // stats and metrics both off since start: nothing counted
    return stats::exposition(recorder ? *recorder : none, f);
}

} // namespace

bool open_metrics(const Config& cfg)
{
    if (cfg.metrics_listen.empty())
        return true;
    auto server = MetricsServer::open(cfg.metrics_listen, metrics_page);
    if (!server) {
        log::error("{}", server.error().message);
        return false;
    }
    g_metrics = std::move(*server);
    return true;
}

void start_telemetry()
{
    const auto rt = current_runtime();
    g_recorder = rt->stats;
    if (g_metrics) {
        g_metrics->start();
        log::info("metrics: serving GET /metrics on {}", rt->config->metrics_listen);
    }
    g_flusher = std::thread(run_flusher);
}

void stop_telemetry()
{
    {
        std::lock_guard lock(g_mutex);
        g_stopping = true;
    }
    g_wake.notify_all();
    if (g_flusher.joinable())
        g_flusher.join(); // its last round flushes what is left
    g_metrics.reset();
}

} // namespace rampart::milter
