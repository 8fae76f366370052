#include "checks/leases.hpp"

#include "store/scripts.hpp"
#include "util/log.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include <random>

namespace rampart {

LeaseTable::LeaseTable(std::shared_ptr<Store> store, std::chrono::milliseconds length)
    : d_store(std::move(store)), d_length(length)
{
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0')
        std::snprintf(host, sizeof host, "localhost");
    // The random part tells apart two processes that had the same pid.
    d_node = fmt::format("{}:{}:{:x}", host, getpid(), std::random_device{}());
    d_thread = std::thread([this] { run(); });
}

LeaseTable::~LeaseTable()
{
    {
        std::lock_guard lock(d_mutex);
        d_stopping = true;
    }
    d_wake.notify_all();
    d_thread.join();
}

std::string LeaseTable::next_name()
{
    std::lock_guard lock(d_mutex);
    return fmt::format("{}:{}", d_node, ++d_counter);
}

void LeaseTable::hold(const std::string& name, std::string ip_key, std::string net_key)
{
    std::lock_guard lock(d_mutex);
    d_held[name] = {std::move(ip_key), std::move(net_key)};
}

void LeaseTable::release(const std::string& name)
{
    std::pair<std::string, std::string> keys;
    {
        std::lock_guard lock(d_mutex);
        const auto it = d_held.find(name);
        if (it == d_held.end())
            return;
        keys = std::move(it->second);
        d_held.erase(it);
    }
    Batch b;
    b.add({"ZREM", keys.first, name});
    b.add({"ZREM", keys.second, name});
    d_store->post(std::move(b));
}

std::size_t LeaseTable::size() const
{
    std::lock_guard lock(d_mutex);
    return d_held.size();
}

void LeaseTable::renew()
{
    Batch b;
    {
        std::lock_guard lock(d_mutex);
        for (const auto& [name, keys] : d_held)
            b.eval(Script::conc_renew, {keys.first, keys.second}, {name, std::to_string(d_length.count())});
    }
    if (b.empty())
        return;
    if (auto r = d_store->execute(b); !r) // the leases run out, and the counts with them: logged, not fatal
        log::warning("flood: renewing {} connection leases: {}", b.size(), r.error().message);
}

void LeaseTable::run()
{
    std::unique_lock lock(d_mutex);
    while (!d_stopping) {
        d_wake.wait_for(lock, d_length / 3, [&] { return d_stopping; });
        if (d_stopping)
            return;
        lock.unlock();
        renew();
        lock.lock();
    }
}

} // namespace rampart
