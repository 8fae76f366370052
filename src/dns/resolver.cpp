#include "dns/resolver.hpp"

#include "util/log.hpp"

#include <ares.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <stdexcept>

namespace rampart::dns {

using Clock = std::chrono::steady_clock;

bool Lookup::wait_until(Clock::time_point deadline) const
{
    if (ready())
        return true;
    std::unique_lock lock(d_mutex);
    return d_wake.wait_until(lock, deadline, [&] { return ready(); });
}

void Lookup::settle(Answer a)
{
    {
        std::lock_guard lock(d_mutex);
        d_answer = std::move(a);
        d_done.store(true, std::memory_order_release);
    }
    d_wake.notify_all();
}

struct Resolver::Channel {
    ares_channel channel = nullptr;
    ~Channel()
    {
        if (channel)
            ares_destroy(channel); // calls back every query in flight with ARES_EDESTRUCTION
    }
};

namespace {

// A name c-ares may send: 1..253 octets, labels of 1..63.
bool sendable(std::string_view name)
{
    if (name.empty() || name.size() > 253)
        return false;
    std::size_t label = 0;
    for (char c : name) {
        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
        } else if (++label > 63 || static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
            return false;
        }
    }
    return label > 0;
}

Status status_of(int ares_status)
{
    switch (ares_status) {
    case ARES_ENOTFOUND: return Status::nxdomain;
    case ARES_ENODATA: return Status::nodata;
    case ARES_ESERVFAIL: return Status::servfail;
    case ARES_EREFUSED: return Status::refused;
    case ARES_ETIMEOUT: return Status::timeout;
    default: // no server reachable, a bad response, the channel going away
        return Status::error;
    }
}

// The cache's key of a question, also the SharedCache's.
std::string cache_key(Type type, std::string_view name)
{
    return fmt::format("{}/{}", static_cast<unsigned>(type), name);
}

std::int64_t epoch_seconds()
{
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

struct Holder {
    Resolver* resolver;
    std::shared_ptr<Lookup> lookup;
};

std::once_flag g_ares_init;

} // namespace

Resolver::Resolver(const Config& cfg, std::shared_ptr<SharedCache> fleet)
    : d_servers(cfg.dns_servers), d_timeout_ms(cfg.dns_timeout_ms), d_tries(cfg.dns_tries),
      d_max_ttl_s(cfg.dns_max_ttl_s), d_failure_ttl_s(cfg.dns_failure_ttl_s),
      d_cache_entries(static_cast<std::size_t>(cfg.dns_cache_entries)), d_fleet(std::move(fleet)),
      d_channel(std::make_unique<Channel>())
{
    std::call_once(g_ares_init, [] { ares_library_init(ARES_LIB_INIT_ALL); });
    ares_options opts{};
    opts.timeout = static_cast<int>(d_timeout_ms);
    opts.tries = static_cast<int>(d_tries);
    // NOCHECKRESP: a SERVFAIL or REFUSED comes back as it is, for
    // parse_response to tell apart, rather than as "no server reachable".
    opts.flags = ARES_FLAG_EDNS | ARES_FLAG_NOCHECKRESP;
    opts.ednspsz = 1232; // the DNS flag day 2020 size: no fragments, few TCP retries
    const int mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS | ARES_OPT_EDNSPSZ;
    if (const int rc = ares_init_options(&d_channel->channel, &opts, mask); rc != ARES_SUCCESS)
        throw std::runtime_error(fmt::format("dns: cannot start the resolver: {}", ares_strerror(rc)));
    if (!d_servers.empty()) {
        std::string csv;
        for (const auto& s : d_servers)
            csv += (csv.empty() ? "" : ",") + s;
        if (const int rc = ares_set_servers_ports_csv(d_channel->channel, csv.c_str()); rc != ARES_SUCCESS)
            throw std::runtime_error(fmt::format("dns: bad dns.servers \"{}\": {}", csv, ares_strerror(rc)));
    }
    if (pipe2(d_wake, O_NONBLOCK | O_CLOEXEC) != 0)
        throw std::runtime_error("dns: cannot make the resolver's wake-up pipe");
    d_thread = std::thread([this] { run(); });
    if (d_fleet)
        d_fleet_thread = std::thread([this] { run_fleet(); });
}

Resolver::~Resolver()
{
    {
        std::lock_guard lock(d_mutex);
        d_stopping.store(true);
    }
    d_fleet_wake.notify_all();
    if (d_fleet_thread.joinable())
        d_fleet_thread.join();
    if (d_wake[1] >= 0) [[maybe_unused]]
        auto n = write(d_wake[1], "x", 1);
    if (d_thread.joinable())
        d_thread.join();
    d_channel.reset();
    {
        std::lock_guard lock(d_mutex);
        for (auto* queue : {&d_queue, &d_fleet_queue}) {
            for (auto& l : *queue) // never sent: their waiters must not wait for ever
                l->settle(Answer{});
            queue->clear();
        }
    }
    for (int fd : d_wake)
        if (fd >= 0)
            close(fd);
}

bool Resolver::same_settings(const Config& cfg) const
{
    return d_servers == cfg.dns_servers && d_timeout_ms == cfg.dns_timeout_ms && d_tries == cfg.dns_tries &&
           d_max_ttl_s == cfg.dns_max_ttl_s && d_failure_ttl_s == cfg.dns_failure_ttl_s &&
           d_cache_entries == static_cast<std::size_t>(cfg.dns_cache_entries) &&
           (d_fleet != nullptr) == cfg.dns_fleet_cache;
}

ResolverCounters Resolver::counters() const
{
    return {d_queries.load(), d_hits.load(), d_failures.load(), d_timeouts.load(), d_fleet_hits.load()};
}

std::shared_ptr<const Lookup> Resolver::lookup(std::string_view name, Type type)
{
    while (name.ends_with('.'))
        name.remove_suffix(1);
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; });
    if (!sendable(lower)) {
        // No such name can exist: a definite answer, not a temporary one
        // that dns.on_temperror could turn into a tempfail for ever.
        auto l = std::make_shared<Lookup>(std::move(lower), type);
        l->settle(Answer{Status::nxdomain, {}, 0, false});
        return l;
    }
    std::string key = cache_key(type, lower);
    const auto now = Clock::now();
    std::shared_ptr<Lookup> fresh;
    {
        std::lock_guard lock(d_mutex);
        if (auto it = d_cache.find(key); it != d_cache.end()) {
            Cached& c = it->second;
            if (!c.lookup->ready() || now < c.expires) {
                d_ages.splice(d_ages.begin(), d_ages, c.age);
                ++d_hits;
                if (!c.lookup->ready())
                    return c.lookup; // in flight: share it
                auto hit = std::make_shared<Lookup>(c.lookup->name(), type);
                Answer a = c.lookup->answer();
                a.cached = true;
                a.ttl = static_cast<std::uint32_t>(
                    std::chrono::duration_cast<std::chrono::seconds>(c.expires - now).count());
                hit->settle(std::move(a));
                return hit;
            }
            d_ages.erase(c.age);
            d_cache.erase(it);
        }
        while (d_cache.size() >= d_cache_entries && !d_ages.empty()) {
            d_cache.erase(d_ages.back());
            d_ages.pop_back();
        }
        fresh = std::make_shared<Lookup>(lower, type);
        if (d_cache_entries > 0) {
            d_ages.push_front(key);
            d_cache.emplace(std::move(key), Cached{fresh, Clock::time_point::max(), d_ages.begin()});
        }
        if (!d_fleet)
            d_queue.push_back(fresh);
        else
            d_fleet_queue.push_back(fresh);
    }
    if (d_fleet) {
        d_fleet_wake.notify_one();
    } else {
        [[maybe_unused]] auto n = write(d_wake[1], "x", 1);
    }
    return fresh;
}

void Resolver::send(std::vector<std::shared_ptr<Lookup>> lookups)
{
    if (lookups.empty())
        return;
    {
        std::lock_guard lock(d_mutex);
        d_queue.insert(d_queue.end(), std::make_move_iterator(lookups.begin()), std::make_move_iterator(lookups.end()));
    }
    [[maybe_unused]] auto n = write(d_wake[1], "x", 1);
}

void Resolver::run_fleet()
{
    std::vector<std::shared_ptr<Lookup>> batch;
    std::vector<std::string> keys;
    for (;;) {
        {
            std::unique_lock lock(d_mutex);
            d_fleet_wake.wait(lock, [&] { return d_stopping.load() || !d_fleet_queue.empty(); });
            if (d_stopping.load())
                return; // the destructor settles what is left
            batch.swap(d_fleet_queue);
        }
        keys.clear();
        for (const auto& l : batch)
            keys.push_back(cache_key(l->type(), l->name()));
        const auto values = d_fleet->get(keys);
        const auto now = epoch_seconds();
        std::vector<std::shared_ptr<Lookup>> misses;
        for (std::size_t i = 0; i < batch.size(); ++i) {
            std::optional<Answer> a;
            if (i < values.size() && values[i])
                a = decode_answer(*values[i], batch[i]->type(), now);
            if (a) {
                ++d_fleet_hits;
                settle(batch[i], std::move(*a), true);
            } else {
                misses.push_back(std::move(batch[i]));
            }
        }
        batch.clear();
        send(std::move(misses));
    }
}

void Resolver::settle(const std::shared_ptr<Lookup>& l, Answer a, bool from_fleet)
{
    if (a.temporary())
        ++d_failures;
    if (a.status == Status::timeout)
        ++d_timeouts;
    const auto seconds = a.temporary() ? d_failure_ttl_s : std::min<std::int64_t>(a.ttl, d_max_ttl_s);
    const std::string key = cache_key(l->type(), l->name());
    if (d_fleet && !from_fleet && !a.temporary() && seconds > 0)
        d_fleet->put(key, encode_answer(a, epoch_seconds() + seconds), static_cast<std::uint32_t>(seconds));
    {
        std::lock_guard lock(d_mutex);
        if (auto it = d_cache.find(key); it != d_cache.end() && it->second.lookup == l) {
            if (seconds <= 0) {
                d_ages.erase(it->second.age);
                d_cache.erase(it);
            } else {
                it->second.expires = Clock::now() + std::chrono::seconds(seconds);
            }
        }
    }
    l->settle(std::move(a));
}

void Resolver::on_answer(void* arg, int status, int, unsigned char* abuf, int alen)
{
    std::unique_ptr<Holder> h(static_cast<Holder*>(arg));
    Answer a;
    if (abuf && alen > 0 && status != ARES_EDESTRUCTION)
        a = parse_response({abuf, static_cast<std::size_t>(alen)}, h->lookup->type());
    else
        a.status = status_of(status);
    h->resolver->settle(h->lookup, std::move(a));
}

void Resolver::run()
{
    ares_channel channel = d_channel->channel;
    std::vector<std::shared_ptr<Lookup>> batch;
    while (!d_stopping.load()) {
        {
            std::lock_guard lock(d_mutex);
            batch.swap(d_queue);
        }
        for (auto& l : batch) {
            ++d_queries;
            const std::string name = l->name();
            const int type = static_cast<int>(l->type());
            ares_query(channel, name.c_str(), 1 /* IN */, type, on_answer, new Holder{this, std::move(l)});
        }
        batch.clear();

        std::array<ares_socket_t, ARES_GETSOCK_MAXNUM> socks{};
        const int bits = ares_getsock(channel, socks.data(), ARES_GETSOCK_MAXNUM);
        std::vector<pollfd> fds{{d_wake[0], POLLIN, 0}};
        for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
            short events = 0;
            if (ARES_GETSOCK_READABLE(bits, i))
                events |= POLLIN;
            if (ARES_GETSOCK_WRITABLE(bits, i))
                events |= POLLOUT;
            if (events)
                fds.push_back({socks[static_cast<std::size_t>(i)], events, 0});
        }
        timeval max{1, 0}, tv{};
        const timeval* t = ares_timeout(channel, &max, &tv);
        const int ms = static_cast<int>(t->tv_sec * 1000 + (t->tv_usec + 999) / 1000);
        const int n = poll(fds.data(), fds.size(), ms);
        if (n < 0)
            continue; // EINTR
        if (fds[0].revents & POLLIN) {
            char buf[64];
            while (read(d_wake[0], buf, sizeof buf) > 0) {
            }
        }
        bool any = false;
        for (std::size_t i = 1; i < fds.size(); ++i)
            if (fds[i].revents) {
                any = true;
                const bool in = fds[i].revents & (POLLIN | POLLERR | POLLHUP);
                const bool out = fds[i].revents & POLLOUT;
                ares_process_fd(channel, in ? fds[i].fd : ARES_SOCKET_BAD, out ? fds[i].fd : ARES_SOCKET_BAD);
            }
        if (!any)
            ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD); // timeouts
    }
}

} // namespace rampart::dns
