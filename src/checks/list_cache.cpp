#include "checks/list_cache.hpp"

#include "store/redis.hpp"
#include "util/log.hpp"
#include "util/text.hpp"

#include <algorithm>

namespace rampart {

void IpSet::insert(const Cidr& c)
{
    const bool v4 = c.base.is_v4();
    auto it = std::find_if(d_buckets.begin(), d_buckets.end(),
                           [&](const Bucket& b) { return b.prefix == c.prefix && b.v4 == v4; });
    if (it == d_buckets.end()) {
        d_buckets.push_back({c.prefix, v4, {}});
        std::sort(d_buckets.begin(), d_buckets.end(),
                  [](const Bucket& a, const Bucket& b) { return a.prefix > b.prefix; });
        it = std::find_if(d_buckets.begin(), d_buckets.end(),
                          [&](const Bucket& b) { return b.prefix == c.prefix && b.v4 == v4; });
    }
    if (it->bases.insert(c.base).second)
        ++d_size;
}

std::optional<Cidr> IpSet::find(const IpAddress& a) const
{
    const bool v4 = a.is_v4();
    for (const auto& b : d_buckets) {
        if (b.v4 != v4)
            continue;
        const auto base = a.masked(b.prefix);
        if (b.bases.count(base))
            return Cidr{base, b.prefix};
    }
    return std::nullopt;
}

void NameSet::insert(std::string_view entry)
{
    entry = trim(entry);
    if (entry.starts_with('@'))
        entry.remove_prefix(1);
    if (!entry.empty())
        d_names.insert(lowercase(entry));
}

std::optional<std::string> NameSet::find(std::string_view value) const
{
    if (d_names.empty() || value.empty())
        return std::nullopt;
    const std::string v = lowercase(value);
    if (d_names.count(v))
        return v;
    std::string_view host = v;
    if (const auto at = host.rfind('@'); at != std::string_view::npos)
        host.remove_prefix(at + 1);
    while (!host.empty()) {
        if (auto it = d_names.find(std::string(host)); it != d_names.end())
            return *it;
        const auto dot = host.find('.');
        if (dot == std::string_view::npos)
            break;
        host.remove_prefix(dot + 1);
    }
    return std::nullopt;
}

ListCache::ListCache(std::shared_ptr<Store> store, Keys keys, std::chrono::milliseconds refresh)
    : d_store(std::move(store)), d_keys(std::move(keys)), d_refresh(refresh), d_lists(std::make_shared<const Lists>())
{
}

ListCache::~ListCache()
{
    {
        std::lock_guard lock(d_stop_mutex);
        d_stop = true;
    }
    d_stop_cv.notify_all();
    if (d_thread.joinable())
        d_thread.join();
}

void ListCache::adopt(const ListCache& other) { d_lists.store(other.current()); }

void ListCache::start()
{
    d_thread = std::thread([this] {
        std::unique_lock lock(d_stop_mutex);
        while (!d_stop) {
            lock.unlock();
            refresh();
            lock.lock();
            d_stop_cv.wait_for(lock, d_refresh, [this] { return d_stop; });
        }
    });
}

std::shared_ptr<const ListCache::Lists> ListCache::current() const { return d_lists.load(); }

bool ListCache::loaded() const { return current()->version >= 0; }

bool ListCache::refresh()
{
    const auto have = current()->version;
    Batch probe;
    probe.add({"GET", d_keys.list_version()});
    auto r = d_store->execute_alone(probe);
    if (!r) {
        if (!d_failing)
            log::warning("lists: cannot read the list version from Redis ({}); keeping the lists in memory",
                         r.error().message);
        d_failing = true;
        return false;
    }
    const long long version = (*r)[0].as_integer(0);
    if (version == have)
        return true;

    Batch batch;
    for (int block = 0; block < 2; ++block)
        for (auto kind : kListKinds)
            batch.add({"SMEMBERS", d_keys.list(kind, block == 1)});
    auto sets = d_store->execute_alone(batch);
    if (!sets) {
        if (!d_failing)
            log::warning("lists: cannot load the lists from Redis ({}); keeping the lists in memory",
                         sets.error().message);
        d_failing = true;
        return false;
    }
    auto next = std::make_shared<Lists>();
    next->version = version;
    std::size_t i = 0, entries = 0, bad = 0;
    for (int block = 0; block < 2; ++block) {
        for (auto kind : kListKinds) {
            for (const auto& member : (*sets)[i].elements) {
                ++entries;
                if (kind == ListKind::ip) {
                    if (auto c = Cidr::parse(member.str))
                        next->ip[block].insert(*c);
                    else if (++bad <= 3)
                        log::warning("lists: ignoring bad IP entry \"{}\" in {}", printable(member.str),
                                     d_keys.list(kind, block == 1));
                } else {
                    next->names[block][static_cast<int>(kind) - 1].insert(member.str);
                }
            }
            ++i;
        }
    }
    d_lists.store(std::move(next));
    if (d_failing)
        log::warning("lists: Redis answers again");
    d_failing = false;
    log::info("lists: loaded version {} ({} entries)", version, entries);
    return true;
}

bool ListCache::has_block(ListKind kind) const
{
    const auto lists = current();
    if (kind == ListKind::ip)
        return lists->ip[1].size() > 0;
    return lists->names[1][static_cast<int>(kind) - 1].size() > 0;
}

ListMatch ListCache::ip(const IpAddress& a) const
{
    const auto lists = current();
    ListMatch m;
    if (auto c = lists->ip[0].find(a)) {
        m.allow = true;
        m.entry = c->to_string();
    } else if (auto b = lists->ip[1].find(a)) {
        m.block = true;
        m.entry = b->to_string();
    }
    return m;
}

ListMatch ListCache::name(ListKind kind, std::string_view value) const
{
    const auto lists = current();
    const int k = static_cast<int>(kind) - 1;
    ListMatch m;
    if (k < 0)
        return m;
    if (auto e = lists->names[0][k].find(value)) {
        m.allow = true;
        m.entry = *e;
    } else if (auto b = lists->names[1][k].find(value)) {
        m.block = true;
        m.entry = *b;
    }
    return m;
}

} // namespace rampart
