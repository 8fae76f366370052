// NAME
//   leases.hpp - this node's leases on the connections it has open
// DESCRIPTION
//   Concurrent connections are counted across the fleet as leases in Redis
//   (store/scripts/conc_acquire.lua) that expire unless renewed, so that a
//   node that dies leaks nothing for longer than one lease. A LeaseTable
//   holds the leases of the connections open on this node and a thread
//   renews them all every third of flood.lease_s, one pipeline per round
//   (one script call per connection); a connection that closes gives its
//   lease back (ZREM, in the background).
// THREAD SAFETY
//   Shared by every session of the node; one mutex.
#pragma once

#include "store/redis.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace rampart {

class LeaseTable {
  public:
    LeaseTable(std::shared_ptr<Store> store, std::chrono::milliseconds length);
    ~LeaseTable();
    LeaseTable(const LeaseTable&) = delete;
    LeaseTable& operator=(const LeaseTable&) = delete;

    // A new lease name, unique in the fleet: this host, this process, a counter.
    std::string next_name();
    // The lease `name` was taken on `ip_key` and `net_key`: renew it until release().
    void hold(const std::string& name, std::string ip_key, std::string net_key);
    // Gives the lease back, in the background.
    void release(const std::string& name);
    std::size_t size() const;
    std::chrono::milliseconds length() const { return d_length; }
    // Renews every lease now (tests; the thread does it every third of a lease).
    void renew();

  private:
    void run();

    std::shared_ptr<Store> d_store;
    std::chrono::milliseconds d_length;
    std::string d_node;
    std::uint64_t d_counter = 0;
    mutable std::mutex d_mutex;
    std::condition_variable d_wake;
    std::map<std::string, std::pair<std::string, std::string>> d_held; // name -> keys
    bool d_stopping = false;
    std::thread d_thread; // last: starts when the rest is ready
};

} // namespace rampart
