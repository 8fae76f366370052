// NAME
//   write_queue.hpp - Redis writes that nobody waits for
// DESCRIPTION
//   Recording a verdict (reputation) does not change the verdict, so the
//   MTA must not wait for it. Such batches are queued and one thread sends
//   whatever has gathered as one pipeline: under load, many messages'
//   writes share one round trip. The queue is bounded (kMaxQueued
//   batches); when Redis is slower than the mail, new writes are dropped,
//   counted, and logged once per burst. flush() sends what is queued (at
//   shutdown); the destructor flushes too.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace rampart {

class Batch;
class Store;

class WriteQueue {
  public:
    static constexpr std::size_t kMaxQueued = 10000;
    static constexpr std::size_t kMaxCommandsPerPipeline = 4096;
    // After waking, the sender waits this long for more writes to share the
    // round trip: under load, one pipeline per this interval, not per message.
    static constexpr std::chrono::milliseconds kGather{2};

    explicit WriteQueue(Store& store);
    ~WriteQueue();
    WriteQueue(const WriteQueue&) = delete;
    WriteQueue& operator=(const WriteQueue&) = delete;

    void post(Batch batch);
    // Waits until everything queued before the call has been sent (or failed).
    void flush();
    std::uint64_t dropped() const;

  private:
    void run();
    void send_some(std::unique_lock<std::mutex>& lock);

    Store& d_store;
    mutable std::mutex d_mutex;
    std::condition_variable d_wake;
    std::condition_variable d_idle;
    std::deque<Batch> d_queue;
    bool d_sending = false;
    bool d_flushing = false;
    bool d_stop = false;
    bool d_dropping = false;
    std::uint64_t d_dropped = 0;
    std::thread d_thread;
};

} // namespace rampart
