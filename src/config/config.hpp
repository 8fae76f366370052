// NAME
//   config.hpp - one immutable, validated configuration snapshot
// DESCRIPTION
//   Config is filled from the TOML file by the settings table
//   (settings.cpp): every key has a type, default, range and help there, and
//   nowhere else. A loaded Config is never changed; a reload builds a new one
//   and sessions keep the snapshot they started with.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace rampart {

// "COUNT/PERIOD" (e.g. "60/1m"); "off" disables the limit.
struct Rate {
    std::int64_t count = 0;
    std::int64_t period_ms = 0;
    bool enabled() const { return count > 0; }
    // Microseconds between two events at the steady rate (GCRA's emission interval).
    std::int64_t interval_us() const { return count > 0 ? std::max<std::int64_t>(1, period_ms * 1000 / count) : 0; }
    friend bool operator==(const Rate&, const Rate&) = default;
};

enum class Category { clean, spam, confirmed_spam, suspected_virus, confirmed_virus };
enum class Action { accept, tag, reject, tempfail, discard, quarantine };
enum class FailurePolicy { tempfail, accept };

struct Config {
    std::string source; // the file it was read from

    std::string milter_socket;
    std::int64_t milter_shutdown_timeout_ms = 0;
    std::int64_t milter_timeout_s = 0;

    std::string log_level;
    std::string log_facility;
    bool log_syslog = true;

    std::vector<std::string> redis_servers;
    std::string redis_prefix;
    std::string redis_password;
    std::int64_t redis_database = 0;
    std::int64_t redis_timeout_ms = 0;
    std::int64_t redis_connect_timeout_ms = 0;
    std::string redis_on_failure;
    std::int64_t redis_breaker_failures = 0;
    std::int64_t redis_breaker_cooldown_ms = 0;
    std::int64_t redis_pool_size = 0;

    bool stats_enabled = true;
    std::int64_t stats_flush_s = 0;
    std::string stats_node;
    std::string metrics_listen;

    std::vector<std::string> dns_servers;
    std::int64_t dns_timeout_ms = 0;
    std::int64_t dns_tries = 0;
    std::int64_t dns_budget_ms = 0;
    std::int64_t dns_cache_entries = 0;
    std::int64_t dns_max_ttl_s = 0;
    std::int64_t dns_failure_ttl_s = 0;
    bool dns_fleet_cache = false;
    std::string dns_on_temperror;

    bool dnsbl_enabled = false;
    std::vector<std::string> dnsbl_zones;
    double dnsbl_reject_score = 0;
    double dnsbl_allow_score = 0;
    std::vector<std::string> dnsbl_url_zones;
    std::int64_t dnsbl_url_max_lookups = 0;

    bool dkim_enabled = false;
    std::vector<std::string> dkim_keys;
    bool dmarc_enabled = false;
    bool dmarc_reject = false;
    std::string dmarc_public_suffix_list;
    bool spf_enabled = false;
    bool spf_reject_fail = false;
    std::string auth_authserv_id;

    bool zombie_enabled = false;
    std::vector<std::string> zombie_reject;
    bool helo_enabled = false;
    std::vector<std::string> helo_reject;
    std::vector<std::string> helo_own_names;

    std::int64_t network_ipv4_prefix = 0;
    std::int64_t network_ipv6_prefix = 0;
    std::vector<std::string> network_internal;

    bool lists_enabled = false;
    std::int64_t lists_refresh_ms = 0;

    bool ratelimit_enabled = false;
    Rate ratelimit_ip_connections;
    std::int64_t ratelimit_ip_connections_burst = 0;
    Rate ratelimit_net_connections;
    std::int64_t ratelimit_net_connections_burst = 0;
    Rate ratelimit_ip_messages;
    std::int64_t ratelimit_ip_messages_burst = 0;
    Rate ratelimit_net_messages;
    std::int64_t ratelimit_net_messages_burst = 0;
    Rate ratelimit_sender_messages;
    std::int64_t ratelimit_sender_messages_burst = 0;

    bool reputation_enabled = false;
    std::int64_t reputation_half_life_s = 0;
    std::int64_t reputation_min_messages = 0;
    std::int64_t reputation_ttl_s = 0;
    double reputation_ip_weight = 0;
    double reputation_net_weight = 0;

    bool mailbomb_enabled = false;
    Rate mailbomb_rcpt_messages;
    std::int64_t mailbomb_rcpt_messages_burst = 0;
    std::int64_t mailbomb_senders = 0;
    std::int64_t mailbomb_window_s = 0;

    bool outbreak_enabled = false;
    std::int64_t outbreak_window_s = 0;
    std::int64_t outbreak_messages = 0;
    std::int64_t outbreak_networks = 0;
    std::int64_t outbreak_domains = 0;
    std::int64_t outbreak_ttl_s = 0;
    double outbreak_score = 0;
    bool outbreak_near = false;
    std::int64_t outbreak_delay_s = 0;

    bool flood_enabled = false;
    std::int64_t flood_ip_concurrency = 0;
    std::int64_t flood_net_concurrency = 0;
    std::int64_t flood_lease_s = 0;
    std::int64_t flood_rcpts_per_message = 0;
    std::int64_t flood_rcpts_per_connection = 0;

    bool greylist_enabled = false;
    double greylist_min_score = 0;
    std::int64_t greylist_delay_s = 0;
    std::int64_t greylist_retry_window_s = 0;
    std::int64_t greylist_remember_s = 0;

    bool account_enabled = false;
    std::int64_t account_window_s = 0;
    std::int64_t account_messages = 0;
    std::int64_t account_recipients = 0;
    std::int64_t account_domains = 0;
    std::int64_t account_ips = 0;
    double account_baseline_factor = 0;
    std::int64_t account_baseline_windows = 0;
    double account_spam_share = 0;
    std::int64_t account_spam_min_messages = 0;
    std::int64_t account_spam_half_life_s = 0;
    std::string account_action;
    std::vector<std::string> account_exempt;
    std::vector<std::string> account_notify_command;
    std::string account_notify_url;
    std::int64_t account_ttl_s = 0;

    bool batv_enabled = false;
    std::string batv_key_file;
    std::vector<std::string> batv_domains;
    std::vector<std::string> batv_enforce;
    std::int64_t batv_valid_days = 0;
    std::vector<std::string> batv_sign_networks;

    bool gtube_enabled = false;

    bool content_enabled = false;
    std::vector<std::string> content_freemail_domains;
    std::int64_t content_date_future_s = 0;
    std::int64_t content_date_past_s = 0;

    std::int64_t limits_max_message_size = 0;
    bool limits_skip_body = false;
    std::int64_t limits_mime_depth = 0;
    std::int64_t limits_mime_parts = 0;
    std::int64_t limits_part_headers = 0;
    std::int64_t limits_line_bytes = 0;
    std::int64_t limits_part_scan_bytes = 0;
    std::int64_t limits_message_scan_bytes = 0;

    bool rules_enabled = false;
    std::string rules_shipped;
    std::vector<std::string> rules_files;

    bool bayes_enabled = false;
    std::int64_t bayes_buckets = 0;
    std::int64_t bayes_shards = 0;
    std::int64_t bayes_min_spam = 0;
    std::int64_t bayes_min_ham = 0;
    std::int64_t bayes_message_tokens = 0;
    bool bayes_bigrams = false;
    double bayes_strength = 0;
    double bayes_prior = 0;
    double bayes_min_token_strength = 0;
    std::int64_t bayes_max_tokens = 0;
    double bayes_spam_threshold = 0;
    double bayes_spam_full = 0;
    double bayes_spam_score = 0;
    double bayes_nines_score = 0;
    double bayes_nines_full = 0;
    double bayes_ham_threshold = 0;
    double bayes_ham_score = 0;
    std::int64_t bayes_ttl_s = 0;
    std::int64_t bayes_seen_ttl_s = 0;
    std::int64_t bayes_expire_days = 0;
    std::int64_t bayes_expire_max_count = 0;
    std::int64_t bayes_expire_buckets = 0;
    bool bayes_autolearn = false;
    double bayes_autolearn_spam_score = 0;
    double bayes_autolearn_ham_score = 0;
    bool bayes_per_domain = false;

    double category_spam_score = 0;
    double category_confirmed_spam_score = 0;

    std::string action_clean;
    std::string action_spam;
    std::string action_confirmed_spam;
    std::string action_suspected_virus;
    std::string action_confirmed_virus;

    std::string reply_reject;
    std::string reply_tempfail;
    std::string reply_blocked;
    std::string reply_ratelimit;
    std::string reply_redis_failure;
    std::string reply_too_big;
    std::string reply_dnsbl;
    std::string reply_dns_failure;
    std::string reply_rdns;
    std::string reply_dynamic;
    std::string reply_helo;
    std::string reply_spf_fail;
    std::string reply_dmarc_reject;
    std::string reply_mailbomb;
    std::string reply_outbreak_delay;
    std::string reply_greylist;
    std::string reply_flood;
    std::string reply_too_many_rcpts;
    std::string reply_account_locked;
    std::string reply_account_throttled;
    std::string reply_batv;

    std::string tag_subject_prefix;

    // Typed views of the choice settings, filled after validation.
    FailurePolicy on_failure = FailurePolicy::tempfail;
    FailurePolicy dns_on_failure = FailurePolicy::accept; // dns.on_temperror
    Action action_for(Category c) const { return d_actions[static_cast<int>(c)]; }

    Action d_actions[5] = {};
};

struct ConfigError {
    std::string file;
    int line = 0; // 0 when no line applies
    std::string message;
    std::string to_string() const;
};

struct LoadedConfig {
    std::shared_ptr<const Config> config; // null when errors is not empty
    std::vector<ConfigError> errors;
};

LoadedConfig load_config(const std::string& path);
// Parses TOML text; `name` is used in error messages (tests, stdin).
LoadedConfig parse_config(const std::string& text, const std::string& name);

const char* to_string(Category c);
const char* to_string(Action a);

} // namespace rampart
