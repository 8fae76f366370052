#include "config/settings.hpp"

#include "dns/blocklist.hpp"

#include "net/address.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <limits>

namespace rampart {
namespace {

constexpr double kNoMax = std::numeric_limits<double>::max();

bool is_enhanced_status(std::string_view s, char klass)
{
    // "X.Y.Z" with X the class digit, Y 1..3 digits, Z 1..3 digits.
    if (s.size() < 5 || s[0] != klass || s[1] != '.')
        return false;
    std::size_t i = 2, digits = 0;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i)
        ++digits;
    if (digits == 0 || digits > 3 || i >= s.size() || s[i] != '.')
        return false;
    digits = 0;
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i)
        ++digits;
    return digits >= 1 && digits <= 3 && i == s.size();
}

const char* reply_with_class(std::string_view v, char klass)
{
    const auto space = v.find(' ');
    if (space == std::string_view::npos || space + 1 >= v.size())
        return klass == '5' ? "must be \"5.X.Y text\"" : "must be \"4.X.Y text\"";
    if (!is_enhanced_status(v.substr(0, space), klass))
        return klass == '5' ? "must start with a 5.X.Y enhanced status code"
                            : "must start with a 4.X.Y enhanced status code";
    for (char c : v)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '%')
            return "must be printable text without '%'";
    return nullptr;
}

const char* permanent_reply(std::string_view v) { return reply_with_class(v, '5'); }

// Empty, or http://HOST[:PORT][/PATH] with a host of letters, digits, '.', '-', ':' or brackets.
const char* http_url(std::string_view v)
{
    if (v.empty())
        return nullptr;
    if (!v.starts_with("http://"))
        return "must be an http:// URL (for https, use account.notify_command with a client of your choice)";
    const auto rest = v.substr(7);
    const auto host = rest.substr(0, rest.find('/'));
    if (host.empty() || host.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") !=
                            std::string_view::npos)
        return "must name a host: http://HOST[:PORT][/PATH]";
    if (rest.find_first_of(" \t\r\n") != std::string_view::npos)
        return "must not contain white space";
    return nullptr;
}
const char* temporary_reply(std::string_view v) { return reply_with_class(v, '4'); }

const char* milter_socket(std::string_view v)
{
    if (v.starts_with("unix:") || v.starts_with("local:"))
        return v.find(':') + 1 < v.size() ? nullptr : "unix socket needs a path";
    if (v.starts_with("inet:") || v.starts_with("inet6:")) {
        const auto at = v.find('@');
        const auto port =
            v.substr(v.find(':') + 1, at == std::string_view::npos ? std::string_view::npos : at - v.find(':') - 1);
        int n = 0;
        const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
        if (ec != std::errc{} || end != port.data() + port.size() || n < 1 || n > 65535)
            return "must be inet:PORT@HOST, inet6:PORT@HOST or unix:PATH with PORT in 1..65535";
        return nullptr;
    }
    return "must be inet:PORT@HOST, inet6:PORT@HOST or unix:PATH";
}

const char* redis_server(std::string_view v)
{
    if (v.starts_with("/"))
        return nullptr; // unix socket path
    const auto colon = v.rfind(':');
    if (colon == std::string_view::npos || colon == 0)
        return "must be HOST:PORT or an absolute unix socket path";
    const auto port = v.substr(colon + 1);
    int n = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
    if (ec != std::errc{} || end != port.data() + port.size() || n < 1 || n > 65535)
        return "port must be in 1..65535";
    return nullptr;
}

const char* key_prefix(std::string_view v)
{
    for (char c : v)
        if (static_cast<unsigned char>(c) <= 0x20 || c == '{' || c == '}' || c == 0x7f)
            return "must not contain spaces, control characters or braces";
    return nullptr;
}

const char* subject_prefix(std::string_view v)
{
    for (char c : v)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            return "must not contain control characters";
    return nullptr;
}

const char* domain_name(std::string_view v)
{
    if (v.empty() || v.size() > 253)
        return "must be a domain name";
    for (char c : v)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
            return "must be a lower-case domain name";
    return nullptr;
}

const char* dns_server(std::string_view v)
{
    // IPv4[:PORT] or [IPv6]:PORT, or a bare IPv6 address: what c-ares takes.
    std::string_view host = v, port;
    if (v.starts_with('[')) {
        const auto close = v.find(']');
        if (close == std::string_view::npos)
            return "must be ADDRESS, ADDRESS:PORT or [IPv6]:PORT";
        host = v.substr(1, close - 1);
        if (close + 1 < v.size()) {
            if (v[close + 1] != ':')
                return "must be ADDRESS, ADDRESS:PORT or [IPv6]:PORT";
            port = v.substr(close + 2);
        }
    } else if (std::count(v.begin(), v.end(), ':') == 1) {
        host = v.substr(0, v.find(':'));
        port = v.substr(v.find(':') + 1);
    }
    if (!IpAddress::parse(host))
        return "must be an IP address, with :PORT if not 53 ([IPv6]:PORT)";
    if (!port.empty() || v.ends_with(':')) {
        int n = 0;
        const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
        if (ec != std::errc{} || end != port.data() + port.size() || n < 1 || n > 65535)
            return "port must be in 1..65535";
    }
    return nullptr;
}

const char* blocklist(std::string_view v)
{
    static thread_local std::string why;
    const auto bl = dns::parse_blocklist(v);
    if (bl)
        return nullptr;
    why = bl.error().message;
    return why.c_str();
}

const char* zombie_reason(std::string_view v)
{
    return v == "no_ptr" || v == "mismatch" || v == "dynamic" ? nullptr : "must be no_ptr, mismatch or dynamic";
}

const char* helo_reason(std::string_view v)
{
    return v == "syntax" || v == "bare" || v == "ip_mismatch" || v == "ours"
               ? nullptr
               : "must be syntax, bare, ip_mismatch or ours";
}

const char* authserv_id(std::string_view v)
{
    if (v.empty())
        return nullptr;
    for (char c : v)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == ';' || c == '(' || c == ')' || c == '"')
            return "must be a token: no spaces, control characters, ';', quotes or parentheses";
    return nullptr;
}

const char* dkim_key(std::string_view v)
{
    const auto a = v.find(':');
    const auto b = a == std::string_view::npos ? a : v.find(':', a + 1);
    if (a == 0 || b == std::string_view::npos || b == a + 1 || b + 1 >= v.size())
        return "must be DOMAIN:SELECTOR:KEYFILE";
    if (domain_name(v.substr(0, a)) != nullptr)
        return "DOMAIN must be a lower-case domain name";
    if (v[b + 1] != '/')
        return "KEYFILE must be an absolute path";
    return nullptr;
}

const char* domain_or_star(std::string_view v) { return v == "*" ? nullptr : domain_name(v); }

const char* absolute_path(std::string_view v)
{
    return v.empty() || v.front() == '/' ? nullptr : "must be an absolute path";
}

const char* network(std::string_view v) { return Cidr::parse(v) ? nullptr : "must be ADDRESS/PREFIX or an address"; }

const char* host_name_or_literal(std::string_view v)
{
    if (v.size() > 2 && v.front() == '[' && v.back() == ']')
        return nullptr;
    if (IpAddress::parse(v))
        return nullptr;
    return domain_name(v);
}

// A node name: printable, without spaces or braces (it goes into key names).
const char* node_name(std::string_view v)
{
    if (v.size() > 64)
        return "must be at most 64 characters";
    for (char c : v)
        if (static_cast<unsigned char>(c) <= 0x20 || c == '{' || c == '}' || c == 0x7f)
            return "must not contain spaces, control characters or braces";
    return nullptr;
}

// Empty, or ADDRESS:PORT with an IPv4 address or a bracketed IPv6 one.
const char* listen_address(std::string_view v)
{
    if (v.empty())
        return nullptr;
    const auto colon = v.rfind(':');
    if (colon == std::string_view::npos || colon == 0)
        return "must be ADDRESS:PORT, e.g. 127.0.0.1:9925 or [::1]:9925";
    auto host = v.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    if (!IpAddress::parse(host))
        return "must be ADDRESS:PORT with an IP address, e.g. 127.0.0.1:9925 or [::1]:9925";
    const auto port = v.substr(colon + 1);
    int n = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
    if (ec != std::errc{} || end != port.data() + port.size() || n < 1 || n > 65535)
        return "port must be in 1..65535";
    return nullptr;
}

using K = SettingKind;

// clang-format off
const Setting kSettings[] = {
    {"milter.socket", K::string, R"("inet:7357@127.0.0.1")", 0, 0, {}, false,
     "where to listen for the MTA: inet:PORT@HOST, inet6:PORT@HOST or unix:PATH",
     &Config::milter_socket, milter_socket},
    {"milter.timeout_s", K::integer, "30", 1, 3600, {}, false,
     "seconds to wait for the MTA on a milter connection before giving up on it",
     &Config::milter_timeout_s},
    {"milter.shutdown_timeout_ms", K::integer, "10000", 0, 600000, {}, true,
     "on SIGTERM, how long transactions in flight may take to finish",
     &Config::milter_shutdown_timeout_ms},

    {"log.level", K::choice, R"("info")", 0, 0, "error|warning|info|debug", true,
     "least important level logged; info logs one line per message",
     &Config::log_level},
    {"log.facility", K::choice, R"("mail")", 0, 0,
     "mail|daemon|user|local0|local1|local2|local3|local4|local5|local6|local7", false,
     "syslog facility", &Config::log_facility},
    {"log.syslog", K::boolean, "true", 0, 0, {}, true,
     "send log lines to syslog; false leaves only stderr, which needs -f (containers, supervisors)",
     &Config::log_syslog},

    {"redis.servers", K::list, R"(["127.0.0.1:6379"])", 1, 16, {}, true,
     "Redis servers as HOST:PORT or /unix/path, tried in order",
     &Config::redis_servers, redis_server},
    {"redis.prefix", K::string, R"("rampart:")", 0, 0, {}, true,
     "prefix of every key rampart writes, so that several deployments share one Redis",
     &Config::redis_prefix, key_prefix},
    {"redis.password", K::string, R"("")", 0, 0, {}, true,
     "password sent with AUTH after connecting; empty sends none",
     &Config::redis_password},
    {"redis.database", K::integer, "0", 0, 15, {}, true,
     "database number selected after connecting",
     &Config::redis_database},
    {"redis.timeout_ms", K::integer, "250", 1, 60000, {}, true,
     "longest wait for one Redis round trip before it counts as a failure",
     &Config::redis_timeout_ms},
    {"redis.connect_timeout_ms", K::integer, "250", 1, 60000, {}, true,
     "longest wait to open a Redis connection",
     &Config::redis_connect_timeout_ms},
    {"redis.on_failure", K::choice, R"("tempfail")", 0, 0, "tempfail|accept", true,
     "when Redis cannot answer: tempfail the message (it is retried) or accept it tagged",
     &Config::redis_on_failure},
    {"redis.breaker_failures", K::integer, "3", 1, 1000, {}, true,
     "consecutive failures that open the circuit breaker",
     &Config::redis_breaker_failures},
    {"redis.breaker_cooldown_ms", K::integer, "2000", 10, 600000, {}, true,
     "how long an open breaker fails calls at once before one call probes Redis again",
     &Config::redis_breaker_cooldown_ms},
    {"redis.pool_size", K::integer, "64", 1, 4096, {}, true,
     "idle Redis connections kept open for reuse",
     &Config::redis_pool_size},

    {"stats.enabled", K::boolean, "true", 0, 0, {}, true,
     "count messages, symbols and errors in memory and add them to the fleet's counters in Redis (rampartctl stats)",
     &Config::stats_enabled},
    {"stats.flush_s", K::integer, "10", 1, 300, {}, true,
     "seconds between two sends of this node's counts to Redis, each one pipeline in the background",
     &Config::stats_flush_s},
    {"stats.node", K::string, R"("")", 0, 0, {}, true,
     "this node's name in the counters; empty uses the host name",
     &Config::stats_node, node_name},
    {"metrics.listen", K::string, R"("")", 0, 0, {}, false,
     "ADDRESS:PORT of the Prometheus endpoint (GET /metrics), e.g. 127.0.0.1:9925; empty serves none",
     &Config::metrics_listen, listen_address},

    {"dns.servers", K::list, "[]", 0, 16, {}, true,
     "DNS servers as ADDRESS, ADDRESS:PORT or [IPv6]:PORT, asked in order; empty uses /etc/resolv.conf's",
     &Config::dns_servers, dns_server},
    {"dns.timeout_ms", K::integer, "1000", 10, 30000, {}, true,
     "how long the first try of a lookup waits for a server; each further round of tries waits twice as long",
     &Config::dns_timeout_ms},
    {"dns.tries", K::integer, "2", 1, 10, {}, true,
     "tries of one lookup in all, across the servers, before it is a timeout",
     &Config::dns_tries},
    {"dns.budget_ms", K::integer, "3000", 10, 60000, {}, true,
     "most time one message waits for DNS in all; what is not answered by then is a temporary error",
     &Config::dns_budget_ms},
    {"dns.cache_entries", K::integer, "100000", 0, 10000000, {}, true,
     "answers kept in the process's cache; 0 keeps none",
     &Config::dns_cache_entries},
    {"dns.max_ttl_s", K::integer, "86400", 0, 604800, {}, true,
     "longest time an answer is cached, whatever its TTL",
     &Config::dns_max_ttl_s},
    {"dns.failure_ttl_s", K::integer, "10", 0, 3600, {}, true,
     "how long a temporary failure (timeout, SERVFAIL) is remembered, so that a dead server costs one wait per name",
     &Config::dns_failure_ttl_s},
    {"dns.fleet_cache", K::boolean, "false", 0, 0, {}, true,
     "share definite answers with the fleet through Redis: a node asks Redis before a DNS server",
     &Config::dns_fleet_cache},
    {"dns.on_temperror", K::choice, R"("accept")", 0, 0, "accept|tempfail", true,
     "a DNS check left without its answer: accept (its symbol says so) or tempfail the message",
     &Config::dns_on_temperror},

    {"dnsbl.enabled", K::boolean, "true", 0, 0, {}, true,
     "look the client's address up in the DNS block and allow lists of dnsbl.zones",
     &Config::dnsbl_enabled},
    {"dnsbl.zones", K::list, "[]", 0, 64, {}, true,
     "lists as [NAME:]ZONE[=FILTER][&MASK][*WEIGHT], Postfix's postscreen_dnsbl_sites syntax",
     &Config::dnsbl_zones, blocklist},
    {"dnsbl.url_zones", K::list, "[]", 0, 64, {}, true,
     "lists for the hosts of the message's URLs, in dnsbl.zones' syntax (RAMPART_URIBL_NAME)",
     &Config::dnsbl_url_zones, blocklist},
    {"dnsbl.url_max_lookups", K::integer, "20", 1, 1000, {}, true,
     "distinct URL hosts of one message looked up in dnsbl.url_zones, in order of appearance",
     &Config::dnsbl_url_max_lookups},
    {"dnsbl.reject_score", K::real, "0", 0, 1000, {}, true,
     "a client whose list weights add up to this or more is refused before DATA with reply.dnsbl; 0 never",
     &Config::dnsbl_reject_score},
    {"dnsbl.allow_score", K::real, "0", 0, 1000, {}, true,
     "a client whose list weights add up to minus this or less skips the zombie and HELO checks; 0 never",
     &Config::dnsbl_allow_score},

    {"auth.authserv_id", K::string, R"("")", 0, 0, {}, true,
     "the authserv-id of the Authentication-Results field rampart adds; empty uses the host name",
     &Config::auth_authserv_id, authserv_id},
    {"dkim.enabled", K::boolean, "true", 0, 0, {}, true,
     "verify every DKIM signature of incoming mail, keys looked up through rampart's resolver",
     &Config::dkim_enabled},
    {"dkim.keys", K::list, "[]", 0, 10000, {}, true,
     "signing keys as DOMAIN:SELECTOR:KEYFILE: mail of authenticated senders From DOMAIN (or below) is signed",
     &Config::dkim_keys, dkim_key},
    {"dmarc.enabled", K::boolean, "true", 0, 0, {}, true,
     "judge the From domain's DMARC policy from the SPF and DKIM results",
     &Config::dmarc_enabled},
    {"dmarc.reject", K::boolean, "false", 0, 0, {}, true,
     "refuse a DMARC failure under p=reject at end of DATA with reply.dmarc_reject; off makes it at least spam",
     &Config::dmarc_reject},
    {"dmarc.public_suffix_list", K::string, R"("/usr/share/publicsuffix/public_suffix_list.dat")", 0, 0, {}, true,
     "the public suffix list that organizational domains are read from (Debian: publicsuffix)",
     &Config::dmarc_public_suffix_list},
    {"spf.enabled", K::boolean, "true", 0, 0, {}, true,
     "check the client against the SPF record of the MAIL FROM domain (of the HELO name for bounces)",
     &Config::spf_enabled},
    {"spf.reject_fail", K::boolean, "false", 0, 0, {}, true,
     "refuse each recipient of a message whose SPF result is fail, with reply.spf_fail and the domain's explanation",
     &Config::spf_reject_fail},

    {"zombie.enabled", K::boolean, "true", 0, 0, {}, true,
     "look up the client's reverse DNS (PTR, forward-confirmed) and judge names that look dynamic",
     &Config::zombie_enabled},
    {"zombie.reject", K::list, "[]", 0, 3, {}, true,
     "findings that refuse the client at MAIL FROM: no_ptr, mismatch, dynamic; empty only scores",
     &Config::zombie_reject, zombie_reason},

    {"helo.enabled", K::boolean, "true", 0, 0, {}, true,
     "judge the HELO name: syntax, bare names, address literals not the client's, our own name",
     &Config::helo_enabled},
    {"helo.reject", K::list, "[]", 0, 4, {}, true,
     "findings that refuse the message at MAIL FROM: syntax, bare, ip_mismatch, ours; empty only scores",
     &Config::helo_reject, helo_reason},
    {"helo.own_names", K::list, "[]", 0, 64, {}, true,
     "this host's names and address literals, which strangers must not claim; empty uses the host name",
     &Config::helo_own_names, host_name_or_literal},

    {"network.ipv4_prefix", K::integer, "24", 8, 32, {}, true,
     "prefix length of the IPv4 network that network rates and reputation aggregate over",
     &Config::network_ipv4_prefix},
    {"network.ipv6_prefix", K::integer, "64", 16, 128, {}, true,
     "prefix length of the IPv6 network that network rates and reputation aggregate over",
     &Config::network_ipv6_prefix},
    {"network.internal", K::list,
     R"(["127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16", )"
     R"("192.0.2.0/24", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "::1/128", "fc00::/7", )"
     R"("fe80::/10", "2001:db8::/32"])",
     0, 1000, {}, true,
     "networks without public reverse DNS (internal, special use): the zombie and HELO checks skip them",
     &Config::network_internal, network},

    {"lists.enabled", K::boolean, "true", 0, 0, {}, true,
     "check the allow and block lists kept in Redis",
     &Config::lists_enabled},
    {"lists.refresh_ms", K::integer, "2000", 100, 3600000, {}, true,
     "how often the lists' version is polled; a change reaches every node within this time",
     &Config::lists_refresh_ms},

    {"ratelimit.enabled", K::boolean, "true", 0, 0, {}, true,
     "enforce the rate limits below",
     &Config::ratelimit_enabled},
    {"ratelimit.ip_connections", K::rate, R"("60/1m")", 0, 0, {}, true,
     "connections per client IP address",
     &Config::ratelimit_ip_connections},
    {"ratelimit.ip_connections_burst", K::integer, "30", 1, 1000000, {}, true,
     "connections per client IP allowed at once from idle",
     &Config::ratelimit_ip_connections_burst},
    {"ratelimit.net_connections", K::rate, R"("600/1m")", 0, 0, {}, true,
     "connections per client network (network.ipv4_prefix / ipv6_prefix)",
     &Config::ratelimit_net_connections},
    {"ratelimit.net_connections_burst", K::integer, "200", 1, 1000000, {}, true,
     "connections per client network allowed at once from idle",
     &Config::ratelimit_net_connections_burst},
    {"ratelimit.ip_messages", K::rate, R"("120/1m")", 0, 0, {}, true,
     "messages (MAIL FROM commands) per client IP address",
     &Config::ratelimit_ip_messages},
    {"ratelimit.ip_messages_burst", K::integer, "60", 1, 1000000, {}, true,
     "messages per client IP allowed at once from idle",
     &Config::ratelimit_ip_messages_burst},
    {"ratelimit.net_messages", K::rate, R"("1200/1m")", 0, 0, {}, true,
     "messages per client network",
     &Config::ratelimit_net_messages},
    {"ratelimit.net_messages_burst", K::integer, "400", 1, 1000000, {}, true,
     "messages per client network allowed at once from idle",
     &Config::ratelimit_net_messages_burst},
    {"ratelimit.sender_messages", K::rate, R"("60/1m")", 0, 0, {}, true,
     "messages per envelope sender address (the null sender is not limited)",
     &Config::ratelimit_sender_messages},
    {"ratelimit.sender_messages_burst", K::integer, "30", 1, 1000000, {}, true,
     "messages per envelope sender allowed at once from idle",
     &Config::ratelimit_sender_messages_burst},

    {"reputation.enabled", K::boolean, "true", 0, 0, {}, true,
     "score clients by the decayed history of verdicts on their IP and network",
     &Config::reputation_enabled},
    {"reputation.half_life_s", K::integer, "259200", 60, 31536000, {}, true,
     "seconds after which a past verdict counts half; a change starts every reputation over",
     &Config::reputation_half_life_s},
    {"reputation.min_messages", K::integer, "10", 1, 1000000, {}, true,
     "decayed verdicts needed before a reputation is scored",
     &Config::reputation_min_messages},
    {"reputation.ttl_s", K::integer, "2592000", 3600, 315360000, {}, true,
     "seconds a reputation record lives without new verdicts",
     &Config::reputation_ttl_s},
    {"reputation.ip_weight", K::real, "3.0", 0, 100, {}, true,
     "score of an IP whose verdicts are all spam (scaled down as the spam share falls)",
     &Config::reputation_ip_weight},
    {"reputation.net_weight", K::real, "1.5", 0, 100, {}, true,
     "score of a network whose verdicts are all spam",
     &Config::reputation_net_weight},

    {"mailbomb.enabled", K::boolean, "true", 0, 0, {}, true,
     "guard each recipient against mail bombing: its message rate and its distinct senders, fleet-wide",
     &Config::mailbomb_enabled},
    {"mailbomb.rcpt_messages", K::rate, R"("300/1h")", 0, 0, {}, true,
     "messages per recipient address, or \"off\"",
     &Config::mailbomb_rcpt_messages},
    {"mailbomb.rcpt_messages_burst", K::integer, "100", 1, 1000000, {}, true,
     "messages one recipient may get at once from idle",
     &Config::mailbomb_rcpt_messages_burst},
    {"mailbomb.senders", K::integer, "100", 0, 100000000, {}, true,
     "distinct envelope senders one recipient may get mail from in a window; 0: not counted",
     &Config::mailbomb_senders},
    {"mailbomb.window_s", K::integer, "3600", 60, 86400, {}, true,
     "length of the window mailbomb.senders covers",
     &Config::mailbomb_window_s},

    {"outbreak.enabled", K::boolean, "true", 0, 0, {}, true,
     "count every message's fingerprints across the fleet and score the copies of an outbreak",
     &Config::outbreak_enabled},
    {"outbreak.window_s", K::integer, "3600", 300, 86400, {}, true,
     "length of the sliding window over which a fingerprint's copies, networks and senders are counted",
     &Config::outbreak_window_s},
    {"outbreak.messages", K::integer, "100", 2, 100000000, {}, true,
     "copies of one fingerprint in the window that may make an outbreak",
     &Config::outbreak_messages},
    {"outbreak.networks", K::integer, "20", 1, 100000000, {}, true,
     "distinct client networks those copies must come from",
     &Config::outbreak_networks},
    {"outbreak.domains", K::integer, "10", 1, 100000000, {}, true,
     "distinct envelope sender domains those copies must come from",
     &Config::outbreak_domains},
    {"outbreak.ttl_s", K::integer, "21600", 300, 2592000, {}, true,
     "seconds an outbreak, or its clearing by hand, is remembered",
     &Config::outbreak_ttl_s},
    {"outbreak.score", K::real, "6.0", 0, 1000, {}, true,
     "score of RAMPART_OUTBREAK, given to every copy of an outbreak",
     &Config::outbreak_score},
    {"outbreak.near", K::boolean, "true", 0, 0, {}, true,
     "count near-duplicate fingerprints of the text too (four more counters per message)",
     &Config::outbreak_near},
    {"outbreak.delay_s", K::integer, "0", 0, 3600, {}, true,
     "tempfail a message of poor-reputation client whose fingerprint the fleet first saw less than this ago; "
     "0: never",
     &Config::outbreak_delay_s},

    {"flood.enabled", K::boolean, "true", 0, 0, {}, true,
     "count concurrent connections per client address and network across the fleet, and recipients",
     &Config::flood_enabled},
    {"flood.ip_concurrency", K::integer, "20", 0, 1000000, {}, true,
     "connections one client address may have open at once across the fleet; 0: not counted",
     &Config::flood_ip_concurrency},
    {"flood.net_concurrency", K::integer, "200", 0, 10000000, {}, true,
     "connections one client network may have open at once across the fleet; 0: not counted",
     &Config::flood_net_concurrency},
    {"flood.lease_s", K::integer, "60", 5, 3600, {}, true,
     "life of a connection's lease unless its node renews it (every third of it): what a dead node can leak",
     &Config::flood_lease_s},
    {"flood.rcpts_per_message", K::integer, "1000", 0, 1000000, {}, true,
     "recipients one message may have; 0: not counted",
     &Config::flood_rcpts_per_message},
    {"flood.rcpts_per_connection", K::integer, "10000", 0, 100000000, {}, true,
     "recipients one connection may have in all its messages; 0: not counted",
     &Config::flood_rcpts_per_connection},

    {"greylist.enabled", K::boolean, "true", 0, 0, {}, true,
     "greylist the clean messages that score at least greylist.min_score, from strangers",
     &Config::greylist_enabled},
    {"greylist.min_score", K::real, "4.0", -1000, 1000, {}, true,
     "score from which a clean message is greylisted (the band ends where the spam category starts)",
     &Config::greylist_min_score},
    {"greylist.delay_s", K::integer, "300", 0, 86400, {}, true,
     "seconds a new triplet (client network, sender, recipient) waits before a retry passes",
     &Config::greylist_delay_s},
    {"greylist.retry_window_s", K::integer, "86400", 60, 2592000, {}, true,
     "seconds a triplet waits for its retry before it is forgotten",
     &Config::greylist_retry_window_s},
    {"greylist.remember_s", K::integer, "2592000", 60, 315360000, {}, true,
     "seconds a client network and sender domain that retried correctly pass without waiting",
     &Config::greylist_remember_s},

    {"account.enabled", K::boolean, "true", 0, 0, {}, true,
     "watch the mail of authenticated senders for the signs of a compromised account",
     &Config::account_enabled},
    {"account.window_s", K::integer, "3600", 60, 86400, {}, true,
     "length of the window the account counters cover",
     &Config::account_window_s},
    {"account.messages", K::integer, "50", 0, 100000000, {}, true,
     "messages of one account in a window that make it a suspect, unless its baseline allows more; 0: not counted",
     &Config::account_messages},
    {"account.recipients", K::integer, "500", 0, 100000000, {}, true,
     "recipients of one account in a window that make it a suspect, unless its baseline allows more; 0: not counted",
     &Config::account_recipients},
    {"account.domains", K::integer, "50", 0, 100000000, {}, true,
     "distinct recipient domains of one account in a window that make it a suspect; 0: not counted",
     &Config::account_domains},
    {"account.ips", K::integer, "10", 0, 100000000, {}, true,
     "distinct client addresses of one account in a window that make it a suspect; 0: not counted",
     &Config::account_ips},
    {"account.baseline_factor", K::real, "4.0", 1, 1000, {}, true,
     "an account is a suspect past this many times its own baseline (when that is above the limits)",
     &Config::account_baseline_factor},
    {"account.baseline_windows", K::integer, "48", 1, 100000, {}, true,
     "span of the baseline, a decayed average over the account's past active windows",
     &Config::account_baseline_windows},
    {"account.spam_share", K::real, "0.8", 0, 1, {}, true,
     "share of spam verdicts on an account's recent mail that makes it a suspect; 0: not judged",
     &Config::account_spam_share},
    {"account.spam_min_messages", K::integer, "20", 1, 1000000, {}, true,
     "decayed verdicts an account needs before account.spam_share applies",
     &Config::account_spam_min_messages},
    {"account.spam_half_life_s", K::integer, "86400", 60, 31536000, {}, true,
     "seconds after which an account's past verdict counts half",
     &Config::account_spam_half_life_s},
    {"account.action", K::choice, R"("lock")", 0, 0, "notify|throttle|hold|lock", true,
     "what a suspect account gets: notify only, throttle or hold its mail for the window, or lock it",
     &Config::account_action},
    {"account.exempt", K::list, "[]", 0, 100000, {}, true,
     "authenticated login names that are never judged (a known bulk sender)",
     &Config::account_exempt},
    {"account.notify_command", K::list, "[]", 0, 64, {}, true,
     "program and arguments run for each new suspect, with the login, the action and the reason appended",
     &Config::account_notify_command},
    {"account.notify_url", K::string, R"("")", 0, 0, {}, true,
     "http:// URL that gets a JSON POST for each new suspect",
     &Config::account_notify_url, http_url},
    {"account.ttl_s", K::integer, "2592000", 3600, 315360000, {}, true,
     "seconds an account's counters and baseline live without mail",
     &Config::account_ttl_s},

    {"batv.enabled", K::boolean, "false", 0, 0, {}, true,
     "tag the envelope sender of outbound mail of batv.domains (prvs=) and check the tag of bounces to them",
     &Config::batv_enabled},
    {"batv.key_file", K::string, R"("")", 0, 0, {}, true,
     "file of \"K SECRET\" lines: the first key signs, all of them verify; read at start and at each reload",
     &Config::batv_key_file, absolute_path},
    {"batv.domains", K::list, "[]", 0, 10000, {}, true,
     "sender domains whose outbound mail is tagged and whose bounces are checked",
     &Config::batv_domains, domain_name},
    {"batv.enforce", K::list, "[]", 0, 10000, {}, true,
     "of batv.domains (or \"*\" for all), those whose bounces without a valid tag are refused at RCPT TO; the others only score",
     &Config::batv_enforce, domain_or_star},
    {"batv.valid_days", K::integer, "7", 1, 365, {}, true,
     "days a tag stays valid: the longest a bounce may take to come back",
     &Config::batv_valid_days},
    {"batv.sign_networks", K::list, "[]", 0, 1000, {}, true,
     "client networks whose unauthenticated mail is tagged too; authenticated senders' mail always is",
     &Config::batv_sign_networks, network},

    {"gtube.enabled", K::boolean, "true", 0, 0, {}, true,
     "treat the GTUBE test string in a body as confirmed spam",
     &Config::gtube_enabled},

    {"content.enabled", K::boolean, "true", 0, 0, {}, true,
     "parse the body (MIME, HTML, URLs, attachments) and run the header and content heuristics",
     &Config::content_enabled},
    {"content.freemail_domains", K::list, "[]", 0, 10000, {}, true,
     "domains whose mailboxes anyone can open, for RAMPART_REPLYTO_FREEMAIL; empty uses the built-in list",
     &Config::content_freemail_domains, domain_name},
    {"content.date_future_s", K::integer, "86400", 60, 315360000, {}, true,
     "a Date header further ahead of arrival than this is RAMPART_DATE_FUTURE",
     &Config::content_date_future_s},
    {"content.date_past_s", K::integer, "31536000", 3600, 3153600000, {}, true,
     "a Date header further before arrival than this is RAMPART_DATE_PAST",
     &Config::content_date_past_s},

    {"limits.max_message_size", K::integer, "52428800", 0, 1099511627776, {}, true,
     "bytes; a MAIL FROM whose SIZE= is larger gets reply.too_big before any data is sent; 0 never refuses",
     &Config::limits_max_message_size},
    {"limits.skip_body", K::boolean, "false", 0, 0, {}, true,
     "once message_scan_bytes were read, tell the MTA to send no more of the body (the message is still decided)",
     &Config::limits_skip_body},
    {"limits.mime_depth", K::integer, "20", 1, 1000, {}, true,
     "deepest multipart nesting parsed; deeper parts are read as the body of the part they are in",
     &Config::limits_mime_depth},
    {"limits.mime_parts", K::integer, "1000", 1, 1000000, {}, true,
     "MIME parts of one message inventoried; more are counted, not looked at",
     &Config::limits_mime_parts},
    {"limits.part_headers", K::integer, "500", 1, 1000000, {}, true,
     "header fields of one MIME part read; more are skipped",
     &Config::limits_part_headers},
    {"limits.line_bytes", K::integer, "65536", 1000, 16777216, {}, true,
     "longest body line looked at whole; longer lines are cut there",
     &Config::limits_line_bytes},
    {"limits.part_scan_bytes", K::integer, "1048576", 1024, 1073741824, {}, true,
     "decoded bytes of one MIME part looked at; the rest is counted only",
     &Config::limits_part_scan_bytes},
    {"limits.message_scan_bytes", K::integer, "10485760", 1024, 1099511627776, {}, true,
     "body bytes of one message parsed and scanned; the rest is not read",
     &Config::limits_message_scan_bytes},

    {"rules.enabled", K::boolean, "true", 0, 0, {}, true,
     "score messages with the rules of rampart-rules(5)",
     &Config::rules_enabled},
    {"rules.shipped", K::string, R"("")", 0, 0, {}, true,
     "directory of the rules shipped with rampart; empty is the directory the package installed",
     &Config::rules_shipped},
    {"rules.files", K::list, "[]", 0, 1000, {}, true,
     "the admin's rule files or directories, read after the shipped ones in this order; a later rule of a name replaces an earlier",
     &Config::rules_files},

    {"bayes.enabled", K::boolean, "false", 0, 0, {}, true,
     "classify messages with the Bayesian token statistics learned in Redis (one round trip at end of message)",
     &Config::bayes_enabled},
    {"bayes.buckets", K::integer, "16384", 1, 16777216, {}, false,
     "hashes the token statistics are spread over; about tokens / 100, see rampart.conf(5); changing it starts from empty statistics",
     &Config::bayes_buckets},
    {"bayes.shards", K::integer, "1", 1, 1024, {}, false,
     "hash tags the buckets are spread over, for Redis Cluster; changing it starts from empty statistics",
     &Config::bayes_shards},
    {"bayes.min_spam", K::integer, "200", 1, 100000000, {}, true,
     "spam messages that must have been learned before messages are classified",
     &Config::bayes_min_spam},
    {"bayes.min_ham", K::integer, "200", 1, 100000000, {}, true,
     "ham messages that must have been learned before messages are classified",
     &Config::bayes_min_ham},
    {"bayes.message_tokens", K::integer, "1000", 10, 100000, {}, true,
     "distinct tokens of one message learned and looked up, the first found",
     &Config::bayes_message_tokens},
    {"bayes.bigrams", K::boolean, "true", 0, 0, {}, false,
     "count pairs of neighbouring words as tokens too; changing it makes learned pairs useless",
     &Config::bayes_bigrams},
    {"bayes.strength", K::real, "0.3", 0.01, 100, {}, true,
     "weight of the prior probability for rarely seen tokens (Robinson's s)",
     &Config::bayes_strength},
    {"bayes.prior", K::real, "0.5", 0.01, 0.99, {}, true,
     "spam probability of a token seen in no learned message (Robinson's x)",
     &Config::bayes_prior},
    {"bayes.min_token_strength", K::real, "0.1", 0, 0.49, {}, true,
     "tokens whose spam probability is closer than this to 0.5 are left out",
     &Config::bayes_min_token_strength},
    {"bayes.max_tokens", K::integer, "100", 1, 10000, {}, true,
     "tokens combined per message, those farthest from 0.5",
     &Config::bayes_max_tokens},
    {"bayes.spam_threshold", K::real, "0.5", 0.01, 0.999, {}, true,
     "spam probability above which RAMPART_BAYES_SPAM is given",
     &Config::bayes_spam_threshold},
    {"bayes.spam_full", K::real, "0.8", 0.02, 1, {}, true,
     "spam probability from which RAMPART_BAYES_SPAM scores all of spam_score; above spam_threshold",
     &Config::bayes_spam_full},
    {"bayes.spam_score", K::real, "8.0", 0, 1000, {}, true,
     "score of RAMPART_BAYES_SPAM at spam_full, rising linearly from 0 at spam_threshold",
     &Config::bayes_spam_score},
    {"bayes.nines_score", K::real, "4.0", 0, 1000, {}, true,
     "score RAMPART_BAYES_SPAM adds above spam_full, growing with the nines of the probability up to nines_full",
     &Config::bayes_nines_score},
    {"bayes.nines_full", K::real, "8.0", 0.5, 300, {}, true,
     "nines of the spam probability (8: p = 0.99999999) at which nines_score is all given; above spam_full's",
     &Config::bayes_nines_full},
    {"bayes.ham_threshold", K::real, "0.3", 0, 0.5, {}, true,
     "spam probability below which RAMPART_BAYES_HAM is given; not above spam_threshold",
     &Config::bayes_ham_threshold},
    {"bayes.ham_score", K::real, "6.0", 0, 1000, {}, true,
     "score taken off by RAMPART_BAYES_HAM at probability 0, falling linearly to 0 at ham_threshold",
     &Config::bayes_ham_score},
    {"bayes.ttl_s", K::integer, "31536000", 86400, 3153600000, {}, true,
     "seconds a bucket of token statistics lives after the last message learned into it",
     &Config::bayes_ttl_s},
    {"bayes.seen_ttl_s", K::integer, "7776000", 3600, 3153600000, {}, true,
     "seconds the class a message was learned as is remembered, so that relearning it moves it",
     &Config::bayes_seen_ttl_s},
    {"bayes.expire_days", K::integer, "60", 1, 36500, {}, true,
     "a rare token not learned for this many days is deleted",
     &Config::bayes_expire_days},
    {"bayes.expire_max_count", K::integer, "1", 0, 1000000, {}, true,
     "a token is rare while it was learned at most this many times",
     &Config::bayes_expire_max_count},
    {"bayes.expire_buckets", K::integer, "2", 0, 1000, {}, true,
     "buckets, chosen at random, swept for rare stale tokens with each message learned; 0 sweeps only by rampartctl bayes expire",
     &Config::bayes_expire_buckets},
    {"bayes.autolearn", K::boolean, "false", 0, 0, {}, true,
     "learn messages scored at or above autolearn_spam_score as spam and at or below autolearn_ham_score as ham",
     &Config::bayes_autolearn},
    {"bayes.autolearn_spam_score", K::real, "12.0", -1000, 1000, {}, true,
     "score (without the Bayes symbol) at or above which a message is learned as spam",
     &Config::bayes_autolearn_spam_score},
    {"bayes.autolearn_ham_score", K::real, "0.1", -1000, 1000, {}, true,
     "score (without the Bayes symbol) at or below which a message is learned as ham",
     &Config::bayes_autolearn_ham_score},
    {"bayes.per_domain", K::boolean, "false", 0, 0, {}, true,
     "also keep statistics per recipient domain, added to the global ones when classifying that domain's mail",
     &Config::bayes_per_domain},

    {"category.spam_score", K::real, "6.0", -1000, 1000, {}, true,
     "score at or above which a message is spam",
     &Config::category_spam_score},
    {"category.confirmed_spam_score", K::real, "15.0", -1000, 1000, {}, true,
     "score at or above which a message is confirmed spam",
     &Config::category_confirmed_spam_score},

    {"action.clean", K::choice, R"("accept")", 0, 0, "accept|tag|reject|tempfail|discard|quarantine", true,
     "what to do with clean messages", &Config::action_clean},
    {"action.spam", K::choice, R"("tag")", 0, 0, "accept|tag|reject|tempfail|discard|quarantine", true,
     "what to do with spam", &Config::action_spam},
    {"action.confirmed_spam", K::choice, R"("reject")", 0, 0, "accept|tag|reject|tempfail|discard|quarantine", true,
     "what to do with confirmed spam", &Config::action_confirmed_spam},
    {"action.suspected_virus", K::choice, R"("quarantine")", 0, 0, "accept|tag|reject|tempfail|discard|quarantine", true,
     "what to do with a suspected virus", &Config::action_suspected_virus},
    {"action.confirmed_virus", K::choice, R"("reject")", 0, 0, "accept|tag|reject|tempfail|discard|quarantine", true,
     "what to do with a confirmed virus", &Config::action_confirmed_virus},

    {"reply.reject", K::string, R"("5.7.1 Message rejected as spam")", 0, 0, {}, true,
     "text of the 550 reply for the reject action", &Config::reply_reject, permanent_reply},
    {"reply.tempfail", K::string, R"("4.7.1 Message deferred, try again later")", 0, 0, {}, true,
     "text of the 451 reply for the tempfail action", &Config::reply_tempfail, temporary_reply},
    {"reply.blocked", K::string, R"("5.7.1 Access denied by local policy")", 0, 0, {}, true,
     "text of the 550 reply for block-listed clients, senders and recipients",
     &Config::reply_blocked, permanent_reply},
    {"reply.ratelimit", K::string, R"("4.7.1 Rate limit exceeded, slow down and try again later")", 0, 0, {}, true,
     "text of the 451 reply when a rate limit is exceeded", &Config::reply_ratelimit, temporary_reply},
    {"reply.redis_failure", K::string, R"("4.7.1 Service temporarily unavailable, try again later")", 0, 0, {}, true,
     "text of the 451 reply when Redis fails and redis.on_failure is tempfail",
     &Config::reply_redis_failure, temporary_reply},
    {"reply.too_big", K::string, R"("5.3.4 Message too big for this system")", 0, 0, {}, true,
     "text of the 552 reply to a MAIL FROM whose SIZE= is over limits.max_message_size",
     &Config::reply_too_big, permanent_reply},

    {"reply.dnsbl", K::string, R"("5.7.1 Service unavailable; client listed by DNS block lists")", 0, 0, {}, true,
     "text of the 550 reply to a client whose DNS list weights reach dnsbl.reject_score",
     &Config::reply_dnsbl, permanent_reply},
    {"reply.dns_failure", K::string, R"("4.7.1 DNS lookups failed, try again later")", 0, 0, {}, true,
     "text of the 451 reply when a DNS check has no answer and dns.on_temperror is tempfail",
     &Config::reply_dns_failure, temporary_reply},

    {"reply.rdns", K::string, R"("5.7.25 Client host rejected: no valid reverse DNS for your address")", 0, 0, {},
     true, "text of the 550 reply when zombie.reject refuses a client for its reverse DNS (no_ptr, mismatch)",
     &Config::reply_rdns, permanent_reply},
    {"reply.dynamic", K::string,
     R"("5.7.1 Client host rejected: dynamic address, send through your provider's mail server")", 0, 0, {}, true,
     "text of the 550 reply when zombie.reject refuses a client whose name looks dynamic",
     &Config::reply_dynamic, permanent_reply},
    {"reply.helo", K::string, R"("5.7.1 Helo command rejected: invalid or forged HELO name")", 0, 0, {}, true,
     "text of the 550 reply when helo.reject refuses a HELO name",
     &Config::reply_helo, permanent_reply},

    {"reply.spf_fail", K::string, R"("5.7.23 SPF validation failed")", 0, 0, {}, true,
     "text of the 550 reply when spf.reject_fail refuses a recipient; the domain's explanation follows",
     &Config::reply_spf_fail, permanent_reply},

    {"reply.flood", K::string, R"("4.7.1 Too many connections from your network; try again later")", 0, 0, {},
     true, "text of the 451 reply to the mail of a connection over flood.ip_concurrency or net_concurrency",
     &Config::reply_flood, temporary_reply},
    {"reply.too_many_rcpts", K::string, R"("4.5.3 Too many recipients")", 0, 0, {}, true,
     "text of the 452 reply to a recipient past flood.rcpts_per_message or rcpts_per_connection",
     &Config::reply_too_many_rcpts, temporary_reply},
    {"reply.greylist", K::string, R"("4.7.1 Greylisted: please try again later")", 0, 0, {}, true,
     "text of the 451 reply to a greylisted message", &Config::reply_greylist, temporary_reply},
    {"reply.outbreak_delay", K::string,
     R"("4.7.1 New bulk mail from a sender with a poor reputation is delayed; try again later")", 0, 0, {}, true,
     "text of the 451 reply to a message held back by outbreak.delay_s", &Config::reply_outbreak_delay,
     temporary_reply},
    {"reply.mailbomb", K::string, R"("4.7.1 Too much mail for this recipient right now; try again later")", 0, 0,
     {}, true, "text of the 451 reply to mail for a recipient over its mailbomb limits", &Config::reply_mailbomb,
     temporary_reply},
    {"reply.account_locked", K::string,
     R"("4.7.1 Your account is locked: it sent mail like a compromised account; contact your provider")", 0, 0, {},
     true, "text of the 451 reply to every message of a locked account", &Config::reply_account_locked,
     temporary_reply},
    {"reply.account_throttled", K::string, R"("4.7.1 Your account sent too much mail; try again later")", 0, 0, {},
     true, "text of the 451 reply to a throttled account's mail", &Config::reply_account_throttled,
     temporary_reply},
    {"reply.dmarc_reject", K::string, R"("5.7.1 Rejected by the DMARC policy of the From domain")", 0, 0, {}, true,
     "text of the 550 reply when dmarc.reject refuses a message whose From domain asks for p=reject",
     &Config::reply_dmarc_reject, permanent_reply},
    {"reply.batv", K::string, R"("5.7.1 Bounce to an address that sent no mail")", 0, 0, {}, true,
     "text of the 550 reply to a bounce without a valid tag for a recipient of batv.enforce",
     &Config::reply_batv, permanent_reply},

    {"tag.subject_prefix", K::string, R"("")", 0, 0, {}, true,
     "text put before the Subject of messages tagged as spam, e.g. \"[SPAM] \"; empty leaves it",
     &Config::tag_subject_prefix, subject_prefix},
};
// clang-format on

} // namespace

std::span<const Setting> settings() { return kSettings; }

const Setting* find_setting(std::string_view key)
{
    for (const auto& s : kSettings)
        if (s.key == key)
            return &s;
    return nullptr;
}

std::string dump_defaults()
{
    std::string out;
    std::string_view section;
    for (const auto& s : kSettings) {
        const auto dot = s.key.find('.');
        const auto sec = s.key.substr(0, dot);
        if (sec != section) {
            out += fmt::format("{}[{}]\n", out.empty() ? "" : "\n", sec);
            section = sec;
        }
        out += fmt::format("{} = {}  # {}\n", s.key.substr(dot + 1), s.def, s.help);
    }
    return out;
}

} // namespace rampart
