// NAME
//   runtime.hpp - one configuration snapshot with the services built from it
// DESCRIPTION
//   A Runtime pins a Config and the Store, key builder, list cache and
//   cache of full rate counters made for it, the compiled rules, and the
//   DNS resolver with its cache (reused by a reload that keeps dns.*). Each SMTP connection holds the Runtime that was
//   current when it connected; a reload builds a new one (reusing the Store and lists when the Redis settings did not
//   change) and swaps it in atomically.
#pragma once

#include "auth/batv.hpp"
#include "auth/dkim.hpp"
#include "auth/dmarc.hpp"
#include "checks/leases.hpp"
#include "checks/limit_cache.hpp"
#include "checks/list_cache.hpp"
#include "config/config.hpp"
#include "dns/blocklist.hpp"
#include "dns/resolver.hpp"
#include "engine/notify.hpp"
#include "store/keys.hpp"
#include "store/redis.hpp"

#include <memory>
#include <string>
#include <vector>

namespace rampart::stats {
class Recorder;
} // namespace rampart::stats

namespace rampart::rules {
class Ruleset;
struct Loaded;
} // namespace rampart::rules

namespace rampart {

struct Runtime {
    std::shared_ptr<const Config> config{};
    std::shared_ptr<Store> store{};
    std::shared_ptr<ListCache> lists{};
    Keys keys;
    std::shared_ptr<LimitCache> limits{};
    std::shared_ptr<const rules::Ruleset> rules{};    // null when rules are off
    std::shared_ptr<dns::Resolver> resolver{};        // null when no check uses DNS
    std::vector<dns::BlockList> blocklists{};         // dnsbl.zones, parsed
    std::vector<dns::BlockList> url_blocklists{};     // dnsbl.url_zones, parsed (RAMPART_URIBL_* symbols)
    std::vector<Cidr> internal{};                     // network.internal, parsed
    std::vector<std::string> own_names{};             // helo.own_names, or this host's name
    std::string authserv_id{};                        // auth.authserv_id, or this host's name
    std::shared_ptr<auth::DkimLibrary> dkim{};        // null when dkim.enabled is off
    std::shared_ptr<auth::DmarcLibrary> dmarc{};      // null when dmarc.enabled is off
    std::vector<auth::DkimKey> dkim_keys{};           // dkim.keys, their files read
    std::shared_ptr<Notifier> notifier{};             // null unless account.notify_command or _url is set
    std::shared_ptr<LeaseTable> leases{};             // null unless flood counts concurrent connections
    std::shared_ptr<const batv::KeyRing> batv_keys{}; // batv.key_file, read; null when batv.enabled is off
    std::vector<Cidr> batv_sign_networks{};           // batv.sign_networks, parsed
    // This process's counters (kept across reloads); null when stats.enabled
    // is off and metrics.listen is empty, so that nothing is counted.
    std::shared_ptr<stats::Recorder> stats{};
    std::string node{}; // stats.node, or this host's name

    // True when `ip` is in network.internal.
    bool is_internal(const IpAddress& ip) const;

    // Builds services for `cfg`, reusing those of `previous` where the
    // settings they depend on are unchanged; `rules` as load_rules gave them.
    static std::shared_ptr<const Runtime> make(std::shared_ptr<const Config> cfg, const Runtime* previous = nullptr,
                                               std::shared_ptr<const rules::Ruleset> rules = nullptr);
};

// Fills in everything a Runtime holds beyond its Store, lists and rules:
// add_host_facts, add_dns_services and the Notifier, reusing those of
// `previous` where their settings are unchanged.
void add_services(Runtime& rt, const Runtime* previous);

// Fills the Runtime's node name and, when stats.enabled is on or
// metrics.listen is set, its Recorder: `previous`'s, so that the counts
// survive a reload (which counts as one more configuration generation).
void add_stats(Runtime& rt, const Runtime* previous);

// This host's name, lowercased ("localhost" when it has none).
std::string host_name();

// Fills the Runtime's facts of this host and its networks from its
// configuration (network.internal, helo.own_names or the host name).
void add_host_facts(Runtime& rt);

// dnsbl.url_zones, parsed, their symbols named RAMPART_URIBL_* / RAMPART_URIWL_*.
std::vector<dns::BlockList> url_blocklists(const Config& cfg);

// Fills the Runtime's DNS services from its configuration: the resolver,
// the parsed block lists, the DKIM library and keys, the DMARC library;
// those of `previous` are reused where their settings are unchanged.
// Throws std::runtime_error where one cannot start (an unreadable key).
void add_dns_services(Runtime& rt, const Runtime* previous);

// The signing keys of dkim.keys, their files read (at start and at each
// reload, so that a rotated key is picked up); throws std::runtime_error
// naming a key that cannot be read.
std::vector<auth::DkimKey> load_dkim_keys(const Config& cfg);

// The keys of batv.key_file (at start and at each reload, so that a
// rotated key is picked up); throws std::runtime_error saying what is
// wrong with the file.
std::shared_ptr<const batv::KeyRing> load_batv_keys(const Config& cfg);

// True when an enabled check looks names up in DNS.
bool dns_needed(const Config& cfg);

// The rule files the configuration names: rules.shipped (or the installed
// directory when it is empty), then rules.files, in order.
std::vector<std::string> rule_paths(const Config& cfg);
// Reads and compiles them; an empty, error-free result when rules are off.
rules::Loaded load_rules(const Config& cfg);

} // namespace rampart
