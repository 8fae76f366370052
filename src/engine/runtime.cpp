#include "engine/runtime.hpp"

namespace rampart {

std::shared_ptr<const Runtime> Runtime::make(std::shared_ptr<const Config> cfg, const Runtime* previous)
{
    const bool same_store = previous && previous->store->same_settings(*cfg);
    const bool same_prefix = previous && previous->config->redis_prefix == cfg->redis_prefix;
    auto store = same_store ? previous->store : std::make_shared<Store>(*cfg);
    std::shared_ptr<ListCache> lists;
    if (same_store && same_prefix && previous->config->lists_refresh_ms == cfg->lists_refresh_ms) {
        lists = previous->lists;
    } else {
        lists = std::make_shared<ListCache>(store, Keys(cfg->redis_prefix),
                                            std::chrono::milliseconds(cfg->lists_refresh_ms));
        // Same lists in Redis: start from the copy in memory, so that a
        // reload while Redis is down does not empty them.
        if (same_prefix)
            lists->adopt(*previous->lists);
        lists->start();
    }
    // The same counters in Redis: what this node knows of them still holds.
    auto limits = same_store && same_prefix ? previous->limits : std::make_shared<LimitCache>();
    Keys keys(cfg->redis_prefix);
    return std::make_shared<const Runtime>(
        Runtime{std::move(cfg), std::move(store), std::move(lists), std::move(keys), std::move(limits)});
}

} // namespace rampart
