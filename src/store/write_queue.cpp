#include "store/write_queue.hpp"

#include "store/redis.hpp"
#include "util/log.hpp"
#include "util/text.hpp"

namespace rampart {

WriteQueue::WriteQueue(Store& store) : d_store(store) {}

WriteQueue::~WriteQueue()
{
    {
        std::lock_guard lock(d_mutex);
        d_stop = true;
    }
    d_wake.notify_all();
    if (d_thread.joinable())
        d_thread.join();
}

void WriteQueue::post(Batch batch)
{
    if (batch.empty())
        return;
    {
        std::lock_guard lock(d_mutex);
        if (d_queue.size() >= kMaxQueued) {
            ++d_dropped;
            if (!d_dropping)
                log::warning("redis: write queue full ({} batches); dropping background writes until it drains",
                             kMaxQueued);
            d_dropping = true;
            return;
        }
        const bool was_empty = d_queue.empty();
        d_queue.push_back(std::move(batch));
        if (!d_thread.joinable()) // started on first use: rampartctl and tests need no thread
            d_thread = std::thread([this] { run(); });
        if (!was_empty)
            return; // the sender is already awake or about to be
    }
    d_wake.notify_one();
}

void WriteQueue::flush()
{
    std::unique_lock lock(d_mutex);
    d_flushing = true;
    d_wake.notify_one(); // cut the gathering wait short
    d_idle.wait(lock, [this] { return (d_queue.empty() && !d_sending) || !d_thread.joinable(); });
    d_flushing = false;
}

std::uint64_t WriteQueue::dropped() const
{
    std::lock_guard lock(d_mutex);
    return d_dropped;
}

void WriteQueue::run()
{
    std::unique_lock lock(d_mutex);
    for (;;) {
        d_wake.wait(lock, [this] { return d_stop || !d_queue.empty(); });
        if (d_queue.empty()) // stopping, and nothing left
            return;
        d_wake.wait_for(lock, kGather, [this] { return d_stop || d_flushing; });
        send_some(lock);
    }
}

// Sends what is queued (up to a pipeline's worth) with the lock released.
void WriteQueue::send_some(std::unique_lock<std::mutex>& lock)
{
    Batch merged;
    while (!d_queue.empty() && merged.size() < kMaxCommandsPerPipeline) {
        merged.append(std::move(d_queue.front()));
        d_queue.pop_front();
    }
    if (d_queue.empty() && d_dropping) {
        log::warning("redis: write queue drained; {} background writes were dropped so far", d_dropped);
        d_dropping = false;
    }
    d_sending = true;
    lock.unlock();
    auto r = d_store.execute_alone(merged); // never in the way of a message's pipeline
    if (!r) {
        log::debug("redis: recording verdicts failed: {}", r.error().message);
    } else {
        for (const auto& reply : *r)
            if (reply.is_error()) {
                log::warning("redis: recording a verdict failed: {}", printable(reply.str));
                break;
            }
    }
    lock.lock();
    d_sending = false;
    d_idle.notify_all();
}

} // namespace rampart
