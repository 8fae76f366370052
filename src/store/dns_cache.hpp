// NAME
//   dns_cache.hpp - the fleet's DNS answers in Redis (dns.fleet_cache)
// DESCRIPTION
//   A dns::SharedCache on the Store: the questions a resolver gathered are
//   read as one pipeline of GETs (one round trip, shared with the messages'
//   batches), and answers are written behind with SET ... EX TTL on the
//   write queue, so that nobody waits for them. Keys are
//   PREFIX dns:TYPE/NAME (store/keys.hpp). When Redis fails or the breaker
//   is open, every question is a miss and goes to DNS.
// SECURITY
//   Values are read by dns::decode_answer, which trusts nothing in them.
// CONFIGURATION PARAMETERS
//   dns.fleet_cache, redis.timeout_ms
#pragma once

#include "dns/resolver.hpp"
#include "store/keys.hpp"
#include "store/redis.hpp"

#include <memory>

namespace rampart {

class RedisDnsCache final : public dns::SharedCache {
  public:
    RedisDnsCache(std::shared_ptr<Store> store, Keys keys) : d_store(std::move(store)), d_keys(std::move(keys)) {}

    std::vector<std::optional<std::string>> get(const std::vector<std::string>& keys) override;
    void put(const std::string& key, std::string value, std::uint32_t ttl_s) override;

    const std::shared_ptr<Store>& store() const { return d_store; }
    const Keys& keys() const { return d_keys; }

  private:
    std::shared_ptr<Store> d_store;
    Keys d_keys;
};

} // namespace rampart
