#include "engine/runtime.hpp"

#include "ruleset/ruleset.hpp"
#include "stats/recorder.hpp"
#include "store/dns_cache.hpp"
#include "util/log.hpp"
#include "util/text.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include <filesystem>

#ifndef RULES_DIR
#define RULES_DIR "/usr/share/rampart/rules"
#endif

namespace rampart {

std::shared_ptr<const Runtime> Runtime::make(std::shared_ptr<const Config> cfg, const Runtime* previous,
                                             std::shared_ptr<const rules::Ruleset> rules)
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
    auto rt = std::make_shared<Runtime>(Runtime{.config = std::move(cfg),
                                                .store = std::move(store),
                                                .lists = std::move(lists),
                                                .keys = std::move(keys),
                                                .limits = std::move(limits),
                                                .rules = std::move(rules)});
    add_services(*rt, previous);
    add_stats(*rt, previous);
    return rt;
}

void add_stats(Runtime& rt, const Runtime* previous)
{
    const Config& cfg = *rt.config;
    rt.node = cfg.stats_node.empty() ? host_name() : cfg.stats_node;
    // The endpoint is opened at start only (metrics.listen needs a
    // restart): whether steps and checks are timed is decided then too.
    const bool timing = previous ? previous->stats && previous->stats->timing() : !cfg.metrics_listen.empty();
    if (!cfg.stats_enabled && !timing)
        return;
    // The counters only grow, whatever the reloads (Prometheus counters).
    rt.stats = previous && previous->stats ? previous->stats : std::make_shared<stats::Recorder>();
    rt.stats->set_timing(timing);
    if (previous)
        rt.stats->reloaded();
}

void add_services(Runtime& rt, const Runtime* previous)
{
    add_host_facts(rt);
    add_dns_services(rt, previous);
    const Config& cfg = *rt.config;
    if (cfg.batv_enabled) {
        rt.batv_keys = load_batv_keys(cfg);
        for (const auto& n : cfg.batv_sign_networks)
            if (auto c = Cidr::parse(n)) // the configuration checked them
                rt.batv_sign_networks.push_back(*c);
    }
    if (cfg.flood_enabled && (cfg.flood_ip_concurrency > 0 || cfg.flood_net_concurrency > 0)) {
        const std::chrono::milliseconds length(cfg.flood_lease_s * 1000);
        // The same leases in the same Redis: the open connections keep theirs.
        rt.leases = previous && previous->leases && previous->store == rt.store &&
                            previous->config->redis_prefix == cfg.redis_prefix && previous->leases->length() == length
                        ? previous->leases
                        : std::make_shared<LeaseTable>(rt.store, length);
    }
    if (cfg.account_notify_command.empty() && cfg.account_notify_url.empty())
        return;
    rt.notifier = previous && previous->notifier &&
                          previous->notifier->same_settings(cfg.account_notify_command, cfg.account_notify_url)
                      ? previous->notifier
                      : std::make_shared<Notifier>(cfg.account_notify_command, cfg.account_notify_url);
}

void add_dns_services(Runtime& rt, const Runtime* previous)
{
    const Config& cfg = *rt.config;
    if (dns_needed(cfg)) {
        // The fleet's cache is the store's, under the prefix: a new store or prefix needs a new resolver.
        const auto* fleet = previous && previous->resolver
                                ? dynamic_cast<const RedisDnsCache*>(previous->resolver->fleet().get())
                                : nullptr;
        const bool same_fleet = !cfg.dns_fleet_cache || (fleet && fleet->store() == rt.store &&
                                                         previous->config->redis_prefix == cfg.redis_prefix);
        if (previous && previous->resolver && previous->resolver->same_settings(cfg) && same_fleet)
            rt.resolver = previous->resolver;
        else
            rt.resolver = std::make_shared<dns::Resolver>(
                cfg, cfg.dns_fleet_cache ? std::make_shared<RedisDnsCache>(rt.store, rt.keys) : nullptr);
    }
    for (const auto& spec : cfg.dnsbl_zones)
        if (auto bl = dns::parse_blocklist(spec)) // the configuration checked them
            rt.blocklists.push_back(std::move(*bl));
    rt.url_blocklists = url_blocklists(cfg);
    if (cfg.dkim_enabled) {
        rt.dkim = previous && previous->dkim ? previous->dkim : std::make_shared<auth::DkimLibrary>();
        rt.dkim_keys = load_dkim_keys(cfg);
    }
    if (cfg.dmarc_enabled)
        rt.dmarc = previous && previous->dmarc && previous->dmarc->list() == cfg.dmarc_public_suffix_list
                       ? previous->dmarc
                       : std::make_shared<auth::DmarcLibrary>(cfg.dmarc_public_suffix_list);
}

void add_host_facts(Runtime& rt)
{
    for (const auto& n : rt.config->network_internal)
        if (auto c = Cidr::parse(n)) // the configuration checked them
            rt.internal.push_back(*c);
    const std::string host = host_name();
    rt.own_names = rt.config->helo_own_names;
    if (rt.own_names.empty())
        rt.own_names.push_back(host);
    rt.authserv_id = rt.config->auth_authserv_id.empty() ? host : rt.config->auth_authserv_id;
}

std::string host_name()
{
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0')
        std::strcpy(host, "localhost");
    return lowercase(host);
}

std::vector<dns::BlockList> url_blocklists(const Config& cfg)
{
    std::vector<dns::BlockList> out;
    for (const auto& spec : cfg.dnsbl_url_zones)
        if (auto bl = dns::parse_blocklist(spec)) { // the configuration checked them
            // RAMPART_RBL_NAME / RAMPART_RWL_NAME (12 characters before NAME) become URI ones.
            bl->symbol = (bl->weight < 0 ? "RAMPART_URIWL_" : "RAMPART_URIBL_") + bl->symbol.substr(12);
            out.push_back(std::move(*bl));
        }
    return out;
}

std::vector<auth::DkimKey> load_dkim_keys(const Config& cfg)
{
    std::vector<auth::DkimKey> keys;
    for (const auto& spec : cfg.dkim_keys) {
        auto k = auth::load_dkim_key(spec);
        if (!k)
            throw std::runtime_error(fmt::format("dkim.keys \"{}\": {}", spec, k.error().message));
        keys.push_back(std::move(*k));
    }
    return keys;
}

std::shared_ptr<const batv::KeyRing> load_batv_keys(const Config& cfg)
{
    auto ring = batv::KeyRing::load(cfg.batv_key_file);
    if (!ring)
        throw std::runtime_error(fmt::format("batv.key_file {}", ring.error().message));
    return std::make_shared<const batv::KeyRing>(std::move(*ring));
}

bool Runtime::is_internal(const IpAddress& ip) const
{
    return std::any_of(internal.begin(), internal.end(), [&](const Cidr& c) { return c.contains(ip); });
}

bool dns_needed(const Config& cfg)
{
    return (cfg.dnsbl_enabled && (!cfg.dnsbl_zones.empty() || !cfg.dnsbl_url_zones.empty())) || cfg.zombie_enabled ||
           cfg.spf_enabled || cfg.dkim_enabled || cfg.dmarc_enabled;
}

std::vector<std::string> rule_paths(const Config& cfg)
{
    std::vector<std::string> paths;
    if (!cfg.rules_shipped.empty())
        paths.push_back(cfg.rules_shipped);
    else if (std::error_code ec; std::filesystem::is_directory(RULES_DIR, ec))
        paths.emplace_back(RULES_DIR);
    else // a build run from its tree, or a package that left them out: said, not fatal
        log::warning("rules: {} does not exist; only rules.files are read", RULES_DIR);
    paths.insert(paths.end(), cfg.rules_files.begin(), cfg.rules_files.end());
    return paths;
}

rules::Loaded load_rules(const Config& cfg)
{
    if (!cfg.rules_enabled)
        return {};
    return rules::Ruleset::load(rule_paths(cfg));
}

} // namespace rampart
