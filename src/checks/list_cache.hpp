// NAME
//   list_cache.hpp - the allow and block lists, held in memory, refreshed from Redis
// DESCRIPTION
//   The lists live in Redis sets (store/keys.hpp) so that every node of a
//   fleet shares them, and rampartctl edits them. Looking them up in Redis
//   for each message would cost round trips, so each process keeps a copy:
//   a thread polls PREFIX list:version every lists.refresh_ms and reloads all
//   the sets, in one pipeline, when it changed. Lookups never touch Redis.
//   If Redis cannot be reached the last copy stays in use.
//
//   IP entries are addresses or CIDR networks (v4 and v6). Name entries
//   (helo, from, rcpt) are lowercase; an address matches itself, its domain
//   and every parent domain ("example.com" matches "a@mx.example.com").
#pragma once

#include "net/address.hpp"
#include "store/keys.hpp"

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

namespace rampart {

class Store;

class IpSet {
  public:
    void insert(const Cidr& c);
    // The matching entry, if any (most specific first).
    std::optional<Cidr> find(const IpAddress& a) const;
    std::size_t size() const { return d_size; }

  private:
    struct Bucket {
        int prefix;
        bool v4;
        std::unordered_set<IpAddress, IpAddressHash> bases;
    };
    std::vector<Bucket> d_buckets; // sorted by prefix, longest first
    std::size_t d_size = 0;
};

class NameSet {
  public:
    void insert(std::string_view entry); // lowercased; a leading '@' is dropped
    // The matching entry for an address or host name, if any.
    std::optional<std::string> find(std::string_view value) const;
    std::size_t size() const { return d_names.size(); }

  private:
    std::unordered_set<std::string> d_names;
};

struct ListMatch {
    bool allow = false;
    bool block = false;
    std::string entry;
};

class ListCache {
  public:
    ListCache(std::shared_ptr<Store> store, Keys keys, std::chrono::milliseconds refresh);
    ~ListCache();
    ListCache(const ListCache&) = delete;
    ListCache& operator=(const ListCache&) = delete;

    void adopt(const ListCache& other); // takes the lists of other as its starting copy
    void start();                       // polls in a thread of its own until destroyed
    bool refresh();                     // one poll; true when the lists are current
    bool loaded() const;

    ListMatch ip(const IpAddress& a) const;
    bool has_block(ListKind kind) const;
    ListMatch name(ListKind kind, std::string_view value) const;

  private:
    struct Lists {
        long long version = -1;
        IpSet ip[2];         // [0] allow, [1] block
        NameSet names[2][3]; // [allow/block][helo, from, rcpt]
    };
    std::shared_ptr<const Lists> current() const;

    std::shared_ptr<Store> d_store;
    Keys d_keys;
    std::chrono::milliseconds d_refresh;
    std::atomic<std::shared_ptr<const Lists>> d_lists;
    std::atomic<bool> d_failing{false}; // refresh() may run on the poller and on a caller at once
    std::mutex d_stop_mutex;
    std::condition_variable d_stop_cv;
    bool d_stop = false;
    std::thread d_thread;
};

} // namespace rampart
