#include "engine/runtime.hpp"

namespace rampart {

std::shared_ptr<const Runtime> Runtime::make(std::shared_ptr<const Config> cfg, const Runtime* previous)
{
    std::shared_ptr<Store> store;
    std::shared_ptr<ListCache> lists;
    const bool same_redis =
        previous && previous->store->same_settings(*cfg) && previous->config->redis_prefix == cfg->redis_prefix;
    if (same_redis) {
        store = previous->store;
        lists = previous->lists;
    } else {
        store = std::make_shared<Store>(*cfg);
        lists = std::make_shared<ListCache>(store, Keys(cfg->redis_prefix),
                                            std::chrono::milliseconds(cfg->lists_refresh_ms));
        lists->start();
    }
    Keys keys(cfg->redis_prefix);
    return std::make_shared<const Runtime>(
        Runtime{std::move(cfg), std::move(store), std::move(lists), std::move(keys)});
}

} // namespace rampart
