#include "store/dns_cache.hpp"

namespace rampart {

std::vector<std::optional<std::string>> RedisDnsCache::get(const std::vector<std::string>& keys)
{
    std::vector<std::optional<std::string>> values(keys.size());
    if (keys.empty())
        return values;
    Batch b;
    for (const auto& k : keys)
        b.add({"GET", d_keys.dns(k)});
    auto replies = d_store->execute(b);
    if (!replies) // counted and logged by the Store; DNS answers instead
        return values;
    for (std::size_t i = 0; i < keys.size() && i < replies->size(); ++i)
        if ((*replies)[i].type == Reply::Type::string)
            values[i] = std::move((*replies)[i].str);
    return values;
}

void RedisDnsCache::put(const std::string& key, std::string value, std::uint32_t ttl_s)
{
    Batch b;
    b.add({"SET", d_keys.dns(key), std::move(value), "EX", std::to_string(ttl_s)});
    d_store->post(std::move(b));
}

} // namespace rampart
