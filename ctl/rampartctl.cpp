// NAME
//   rampartctl - the admin's command line for rampart's shared state
// SYNOPSIS
//   rampartctl [-c FILE] list add|del allow|block ip|helo|from|rcpt VALUE...
//   rampartctl [-c FILE] list show [allow|block] [ip|helo|from|rcpt]
//   rampartctl [-c FILE] reputation show IP
//   rampartctl [-c FILE] rate show|reset IP|NETWORK|SENDER
//   rampartctl [-c FILE] account show|unlock LOGIN
//   rampartctl [-c FILE] account lock LOGIN [REASON...]
//   rampartctl [-c FILE] account list [--locked]
//   rampartctl [-c FILE] outbreak list
//   rampartctl [-c FILE] outbreak show|clear FINGERPRINT
//   rampartctl [-c FILE] learn --spam|--ham [--domain DOMAIN] PATH...
//   rampartctl [-c FILE] forget [--domain DOMAIN] PATH...
//   rampartctl [-c FILE] bayes stats|expire [--domain DOMAIN]
//   rampartctl [-c FILE] bayes classify [--domain DOMAIN] PATH...
//   rampartctl [-c FILE] stats [--node NODE] [--json]
// DESCRIPTION
//   Reads the same configuration file as rampart-milter to find Redis and
//   the key prefix, so that what it shows and changes is what the fleet
//   uses. List changes bump PREFIX list:version; every rampart-milter picks
//   them up within lists.refresh_ms.
// EXIT STATUS
//   0 done, 1 failed (configuration or Redis), 2 bad usage.
#include "bayes/stored.hpp"
#include "bayes/token_store.hpp"
#include "config/config.hpp"
#include "ctl/stats.hpp"
#include "net/address.hpp"
#include "store/keys.hpp"
#include "store/redis.hpp"
#include "store/reputation.hpp"
#include "util/log.hpp"
#include "util/mailbox.hpp"
#include "util/text.hpp"
#include "util/utc.hpp"

#include <fmt/format.h>
#include <getopt.h>
#include <syslog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace rampart;

constexpr int kOk = 0, kFailed = 1, kUsage = 2;

void usage(FILE* out)
{
    std::fputs("usage: rampartctl [-c FILE] COMMAND\n"
               "\n"
               "  list add|del allow|block ip|helo|from|rcpt VALUE...\n"
               "      add or remove list entries; ip takes addresses and CIDR networks,\n"
               "      from and rcpt take user@domain or a domain (which covers its subdomains)\n"
               "  list show [allow|block] [ip|helo|from|rcpt]\n"
               "  reputation show IP\n"
               "      decayed clean/spam verdicts of an address and of its network\n"
               "  rate show IP|NETWORK|SENDER\n"
               "  rate reset IP|NETWORK|SENDER\n"
               "      the rate counters of a client address, a client network (CIDR as in\n"
               "      network.ipv4_prefix/ipv6_prefix) or an envelope sender\n"
               "  account show LOGIN\n"
               "      an authenticated account's block, window counts, baselines and verdicts\n"
               "  account lock LOGIN [REASON...]\n"
               "  account unlock LOGIN\n"
               "      lock an account (every message tempfailed) or lift its block; unlocking\n"
               "      clears the window's counts and the account's verdicts\n"
               "  account list [--locked]\n"
               "      the accounts seen within account.ttl_s, newest first, or the locked ones\n"
               "  outbreak list\n"
               "      the fingerprints that are outbreaks now, newest first\n"
               "  outbreak show FINGERPRINT\n"
               "      a fingerprint's copies, networks and senders in the sliding window\n"
               "  outbreak clear FINGERPRINT\n"
               "      forget an outbreak, and keep it from coming back for outbreak.ttl_s\n"
               "  learn --spam|--ham [--domain DOMAIN] PATH...\n"
               "      learn the messages in files, directories, mbox files and Maildirs;\n"
               "      a message learned as the other class before is moved\n"
               "  forget [--domain DOMAIN] PATH...\n"
               "      take back what these messages were learned as\n"
               "  bayes stats [--domain DOMAIN]\n"
               "      messages learned, tokens, bytes per token, bucket encodings\n"
               "  bayes expire [--domain DOMAIN]\n"
               "      delete rare stale tokens in every bucket now\n"
               "  bayes classify [--domain DOMAIN] PATH...\n"
               "      print each message's spam probability, tokens combined and name\n"
               "  stats [--node NODE] [--json]\n"
               "      messages by category and action, symbol hits, Redis and DNS errors over\n"
               "      the last minute, hour, day and 30 days: the fleet's and each node's state,\n"
               "      or one node's\n"
               "\n"
               "  -c, --config FILE   configuration file (default /etc/rampart/rampart.conf)\n"
               "  -h, --help          this help;  --version  the version\n"
               "\n"
               "Exit status: 0 done, 1 failed (configuration or Redis), 2 bad usage.\n"
               "See rampartctl(8).\n",
               out);
}

int fail_usage(const std::string& why)
{
    std::fprintf(stderr, "rampartctl: %s\n", why.c_str());
    std::fprintf(stderr, "Try 'rampartctl --help'.\n");
    return kUsage;
}

std::optional<ListKind> list_kind(std::string_view s)
{
    for (auto k : kListKinds)
        if (s == to_string(k))
            return k;
    return std::nullopt;
}

// KIND:HEX as checks/fingerprint.hpp makes them.
bool is_fingerprint(std::string_view s)
{
    const auto colon = s.find(':');
    if (colon == std::string_view::npos || s.size() - colon - 1 != 16)
        return false;
    const auto kind = s.substr(0, colon);
    if (kind != "text" && kind != "urls" && kind != "attachment" &&
        !(kind.size() == 5 && kind.starts_with("near") && kind[4] >= '0' && kind[4] <= '9'))
        return false;
    return std::all_of(s.begin() + static_cast<std::ptrdiff_t>(colon) + 1, s.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Normalizes a list value, or explains why it is not one.
std::optional<std::string> normalize(ListKind kind, std::string_view v, std::string& why)
{
    if (kind == ListKind::ip) {
        auto c = Cidr::parse(v);
        if (!c) {
            why = fmt::format("\"{}\" is not an IP address or CIDR network", printable(v));
            return std::nullopt;
        }
        return c->prefix == (c->base.is_v4() ? 32 : 128) ? c->base.to_string() : c->to_string();
    }
    std::string s = lowercase(strip_brackets(v));
    if (s.starts_with('@'))
        s.erase(0, 1);
    const bool bad_char = std::any_of(s.begin(), s.end(), [](char c) {
        return static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f;
    });
    if (s.empty() || s.size() > 320 || bad_char || (kind == ListKind::helo && s.find('@') != std::string::npos)) {
        why = fmt::format("\"{}\" is not a valid {} entry", printable(v), to_string(kind));
        return std::nullopt;
    }
    return s;
}

std::int64_t now()
{
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

class Ctl {
  public:
    explicit Ctl(const Config& cfg) : d_cfg(cfg), d_store(cfg), d_keys(cfg.redis_prefix) {}

    std::optional<std::vector<Reply>> run(const Batch& b)
    {
        auto r = d_store.execute(b);
        if (!r) {
            std::fprintf(stderr, "rampartctl: Redis (%s): %s\n", d_cfg.redis_servers.front().c_str(),
                         r.error().message.c_str());
            return std::nullopt;
        }
        for (const auto& reply : *r)
            if (reply.is_error()) {
                std::fprintf(stderr, "rampartctl: Redis: %s\n", reply.str.c_str());
                return std::nullopt;
            }
        return std::move(*r);
    }

    int list_change(bool add, bool block, ListKind kind, const std::vector<std::string>& values)
    {
        Batch b;
        std::vector<std::string> args = {add ? "SADD" : "SREM", d_keys.list(kind, block)};
        for (const auto& v : values) {
            std::string why;
            auto n = normalize(kind, v, why);
            if (!n)
                return fail_usage(why);
            args.push_back(*n);
        }
        b.add(args);
        b.add({"INCR", d_keys.list_version()});
        auto r = run(b);
        if (!r)
            return kFailed;
        std::printf("%s %lld of %zu %s %s entr%s\n", add ? "added" : "removed", (*r)[0].as_integer(), values.size(),
                    block ? "block" : "allow", to_string(kind), values.size() == 1 ? "y" : "ies");
        return kOk;
    }

    int list_show(std::optional<bool> block, std::optional<ListKind> kind)
    {
        Batch b;
        std::vector<std::pair<bool, ListKind>> shown;
        for (int bl = 0; bl < 2; ++bl)
            for (auto k : kListKinds)
                if ((!block || *block == (bl == 1)) && (!kind || *kind == k)) {
                    b.add({"SMEMBERS", d_keys.list(k, bl == 1)});
                    shown.emplace_back(bl == 1, k);
                }
        auto r = run(b);
        if (!r)
            return kFailed;
        for (std::size_t i = 0; i < shown.size(); ++i) {
            std::vector<std::string> members;
            for (const auto& m : (*r)[i].elements)
                members.push_back(m.str);
            std::sort(members.begin(), members.end());
            for (const auto& m : members)
                std::printf("%s %s %s\n", shown[i].first ? "block" : "allow", to_string(shown[i].second),
                            printable(m).c_str());
        }
        return kOk;
    }

    int reputation_show(std::string_view ip_text)
    {
        auto ip = IpAddress::parse(ip_text);
        if (!ip)
            return fail_usage(fmt::format("\"{}\" is not an IP address", printable(ip_text)));
        const Cidr net =
            network_of(*ip, static_cast<int>(d_cfg.network_ipv4_prefix), static_cast<int>(d_cfg.network_ipv6_prefix));
        const auto now = std::chrono::system_clock::now();
        const auto h = d_cfg.reputation_half_life_s;
        Batch b;
        reputation::read(b, d_keys.rep_ip(*ip, net), now, h);
        reputation::read(b, d_keys.rep_net(net), now, h);
        auto r = run(b);
        if (!r)
            return kFailed;
        if (r->size() != 2 || (*r)[0].type != Reply::Type::array || (*r)[1].type != Reply::Type::array) {
            std::fprintf(stderr, "rampartctl: unexpected reply from Redis\n");
            return kFailed;
        }
        const auto line = [&](const std::string& what, const Reply& reply) {
            const auto n = reputation::counts(reply, now, h);
            const double total = n.clean + n.spam;
            std::printf("%s clean=%.2f spam=%.2f spam_share=%s\n", what.c_str(), n.clean, n.spam,
                        total > 0 ? fmt::format("{:.0f}%", 100 * n.spam / total).c_str() : "-");
        };
        line("ip " + ip->to_string(), (*r)[0]);
        line("net " + net.to_string(), (*r)[1]);
        return kOk;
    }

    int account_show(const std::string& login)
    {
        Batch b;
        b.add({"HGETALL", d_keys.account_stat(login)});
        b.add({"HMGET", d_keys.account_block(login), "kind", "reason", "since"});
        b.add({"TTL", d_keys.account_block(login)});
        b.add({"ZSCORE", d_keys.account_seen(), login});
        auto r = run(b);
        if (!r)
            return kFailed;
        std::map<std::string, std::string> stat;
        const auto& fields = (*r)[0].elements;
        for (std::size_t i = 0; i + 1 < fields.size(); i += 2)
            stat[fields[i].str] = fields[i + 1].str;
        const auto field = [&](const char* name) {
            const auto it = stat.find(name);
            return it == stat.end() ? 0.0 : std::strtod(it->second.c_str(), nullptr);
        };
        const auto& block = (*r)[1].elements;
        std::printf("account %s\n", printable(login).c_str());
        if (block.size() == 3 && block[0].type == Reply::Type::string) {
            const auto ttl = (*r)[2].as_integer(-1);
            const std::string& kind = block[0].str;
            const std::string state = kind == "lock"       ? "locked"
                                      : kind == "throttle" ? "throttled"
                                      : kind == "hold"     ? "held"
                                                           : printable(kind);
            std::printf("state: %s since %s%s: %s\n", state.c_str(), utc_time(block[2].as_integer()).c_str(),
                        ttl > 0 ? fmt::format(", for {} s more", ttl).c_str() : "", printable(block[1].str).c_str());
        } else {
            std::printf("state: active\n");
        }
        if (stat.empty()) {
            std::printf("no mail counted within account.ttl_s\n");
            return kOk;
        }
        const auto window = static_cast<std::int64_t>(field("w"));
        std::printf("window: %s (%lld s) messages=%.0f recipients=%.0f domains=%.0f addresses=%.0f\n",
                    utc_time(window * d_cfg.account_window_s).c_str(), static_cast<long long>(d_cfg.account_window_s),
                    field("m"), field("r"), field("d"), field("i"));
        if (stat.contains("bm"))
            std::printf("baseline: messages=%.2f recipients=%.2f domains=%.2f addresses=%.2f\n", field("bm"),
                        field("br"), field("bd"), field("bi"));
        else
            std::printf("baseline: none yet (no window of it has ended)\n");
        const double age = std::max(0.0, static_cast<double>(now()) - field("st"));
        const double decay =
            stat.contains("st") ? std::pow(0.5, age / static_cast<double>(d_cfg.account_spam_half_life_s)) : 0;
        const double clean = field("sc") * decay, spam = field("ss") * decay, total = clean + spam;
        std::printf("verdicts: clean=%.2f spam=%.2f spam_share=%s\n", clean, spam,
                    total > 0 ? fmt::format("{:.0f}%", 100 * spam / total).c_str() : "-");
        if ((*r)[3].type == Reply::Type::string)
            std::printf("last message: %s\n", utc_time((*r)[3].as_integer()).c_str());
        return kOk;
    }

    int account_lock(const std::string& login, const std::string& reason)
    {
        Batch b;
        b.add({"HSET", d_keys.account_block(login), "kind", "lock", "reason",
               reason.empty() ? "locked by hand" : "locked by hand: " + reason, "since", std::to_string(now())});
        b.add({"PERSIST", d_keys.account_block(login)});
        b.add({"SADD", d_keys.account_locked(), login});
        if (!run(b))
            return kFailed;
        std::printf("account %s: locked\n", printable(login).c_str());
        return kOk;
    }

    int account_unlock(const std::string& login)
    {
        Batch read;
        read.add({"HGET", d_keys.account_stat(login), "w"});
        auto r = run(read);
        if (!r)
            return kFailed;
        Batch b;
        b.add({"DEL", d_keys.account_block(login)});
        b.add({"SREM", d_keys.account_locked(), login});
        if ((*r)[0].type == Reply::Type::string) { // a fresh start under the owner's new password
            const auto w = (*r)[0].as_integer();
            b.add({"DEL", d_keys.account_domains(login, w), d_keys.account_ips(login, w)});
            b.add({"HSET", d_keys.account_stat(login), "m", "0", "r", "0", "d", "0", "i", "0", "sc", "0", "ss", "0"});
        }
        auto done = run(b);
        if (!done)
            return kFailed;
        std::printf("account %s: %s\n", printable(login).c_str(),
                    (*done)[0].as_integer() ? "unlocked" : "had no block; its counts are cleared");
        return kOk;
    }

    int account_list(bool locked)
    {
        Batch b;
        if (locked)
            b.add({"SMEMBERS", d_keys.account_locked()});
        else
            b.add({"ZREVRANGE", d_keys.account_seen(), "0", "-1", "WITHSCORES"});
        auto r = run(b);
        if (!r)
            return kFailed;
        const auto& e = (*r)[0].elements;
        std::vector<std::pair<std::string, std::int64_t>> logins; // with the last message, when listed so
        for (std::size_t i = 0; i < e.size(); i += locked ? 1 : 2)
            logins.emplace_back(e[i].str, locked || i + 1 >= e.size() ? 0 : e[i + 1].as_integer());
        if (locked)
            std::sort(logins.begin(), logins.end());
        constexpr std::size_t kChunk = 1000; // logins whose blocks are read in one pipeline
        for (std::size_t from = 0; from < logins.size(); from += kChunk) {
            const auto to = std::min(logins.size(), from + kChunk);
            Batch blocks;
            for (std::size_t i = from; i < to; ++i)
                blocks.add({"HMGET", d_keys.account_block(logins[i].first), "kind", "reason"});
            auto got = run(blocks);
            if (!got)
                return kFailed;
            for (std::size_t i = from; i < to; ++i) {
                const auto& kb = (*got)[i - from].elements;
                const bool blocked = kb.size() == 2 && kb[0].type == Reply::Type::string;
                if (locked && (!blocked || kb[0].str != "lock"))
                    continue; // unlocked by its key's removal
                std::string line = printable(logins[i].first);
                if (!locked)
                    line += " last=" + utc_time(logins[i].second);
                line += " state=" + (blocked ? printable(kb[0].str) : std::string("active"));
                if (blocked)
                    line += " reason=\"" + printable(kb[1].str) + "\"";
                std::printf("%s\n", line.c_str());
            }
        }
        return kOk;
    }

    int outbreak_list()
    {
        Batch b;
        b.add({"ZREVRANGE", d_keys.outbreak_list(), "0", "-1"});
        auto r = run(b);
        if (!r)
            return kFailed;
        std::vector<std::string> fps;
        for (const auto& e : (*r)[0].elements)
            fps.push_back(e.str);
        constexpr std::size_t kChunk = 500; // fingerprints read in one pipeline
        for (std::size_t from = 0; from < fps.size(); from += kChunk) {
            const auto to = std::min(fps.size(), from + kChunk);
            Batch hits;
            for (std::size_t i = from; i < to; ++i) {
                hits.add({"HMGET", d_keys.outbreak(fps[i], "hit"), "since", "messages", "networks", "domains"});
                hits.add({"TTL", d_keys.outbreak(fps[i], "hit")});
            }
            auto got = run(hits);
            if (!got)
                return kFailed;
            Batch gone;
            for (std::size_t i = from; i < to; ++i) {
                const auto& h = (*got)[2 * (i - from)].elements;
                if (h.size() != 4 || h[0].type != Reply::Type::string) { // expired or cleared
                    gone.add({"ZREM", d_keys.outbreak_list(), fps[i]});
                    continue;
                }
                std::printf("%s since=%s messages=%s networks=%s domains=%s expires_in=%llds\n",
                            printable(fps[i]).c_str(), utc_time(h[0].as_integer()).c_str(), printable(h[1].str).c_str(),
                            printable(h[2].str).c_str(), printable(h[3].str).c_str(),
                            static_cast<long long>((*got)[2 * (i - from) + 1].as_integer(0)));
            }
            if (!gone.empty() && !run(gone))
                return kFailed;
        }
        return kOk;
    }

    int outbreak_show(const std::string& fp)
    {
        const auto w = now() / d_cfg.outbreak_window_s;
        const auto key = [&](const std::string& rest) { return d_keys.outbreak(fp, rest); };
        Batch b;
        b.add({"GET", key(fmt::format("n:{}", w))});
        b.add({"GET", key(fmt::format("n:{}", w - 1))});
        b.add({"PFCOUNT", key(fmt::format("net:{}", w)), key(fmt::format("net:{}", w - 1))});
        b.add({"PFCOUNT", key(fmt::format("from:{}", w)), key(fmt::format("from:{}", w - 1))});
        b.add({"GET", key("first")});
        b.add({"HMGET", key("hit"), "since", "messages", "networks", "domains"});
        b.add({"TTL", key("hit")});
        b.add({"TTL", key("clear")});
        auto r = run(b);
        if (!r)
            return kFailed;
        const auto& e = *r;
        std::printf("fingerprint %s\n", fp.c_str());
        const auto& h = e[5].elements;
        const bool hit = h.size() == 4 && h[0].type == Reply::Type::string;
        if (e[0].type != Reply::Type::string && e[1].type != Reply::Type::string && !hit) {
            std::printf("not seen within two windows of outbreak.window_s (%lld s)\n",
                        static_cast<long long>(d_cfg.outbreak_window_s));
            return kOk;
        }
        if (e[4].type == Reply::Type::string) // kept with outbreak.delay_s only
            std::printf("first seen: %s\n", utc_time(e[4].as_integer()).c_str());
        std::printf("copies: %lld in this window, %lld in the one before; networks=%lld sender domains=%lld\n",
                    static_cast<long long>(e[0].as_integer(0)), static_cast<long long>(e[1].as_integer(0)),
                    static_cast<long long>(e[2].as_integer(0)), static_cast<long long>(e[3].as_integer(0)));
        if (hit)
            std::printf("state: outbreak since %s (messages=%s networks=%s domains=%s), for %lld s more\n",
                        utc_time(h[0].as_integer()).c_str(), printable(h[1].str).c_str(), printable(h[2].str).c_str(),
                        printable(h[3].str).c_str(), static_cast<long long>(e[6].as_integer(0)));
        else if (e[7].as_integer(-2) > 0)
            std::printf("state: cleared by hand, for %lld s more\n", static_cast<long long>(e[7].as_integer(0)));
        else
            std::printf("state: no outbreak\n");
        return kOk;
    }

    int outbreak_clear(const std::string& fp)
    {
        Batch b;
        b.add({"DEL", d_keys.outbreak(fp, "hit")});
        b.add({"SET", d_keys.outbreak(fp, "clear"), std::to_string(now()), "EX", std::to_string(d_cfg.outbreak_ttl_s)});
        b.add({"ZREM", d_keys.outbreak_list(), fp});
        auto r = run(b);
        if (!r)
            return kFailed;
        std::printf("outbreak %s: %s; not an outbreak again for %lld s\n", fp.c_str(),
                    (*r)[0].as_integer(0) ? "cleared" : "was none", static_cast<long long>(d_cfg.outbreak_ttl_s));
        return kOk;
    }

    int rate(bool reset, std::string_view target)
    {
        struct Counter {
            std::string label, key;
            const Rate* rate;
            std::int64_t burst;
        };
        std::vector<Counter> counters;
        const int v4 = static_cast<int>(d_cfg.network_ipv4_prefix), v6 = static_cast<int>(d_cfg.network_ipv6_prefix);
        if (target.find('/') != std::string_view::npos) {
            auto c = Cidr::parse(target);
            if (!c || c->prefix != (c->base.is_v4() ? v4 : v6))
                return fail_usage(fmt::format("\"{}\" is not a network of the configured size (/{} or /{})",
                                              printable(target), v4, v6));
            counters.push_back({"connections per network", d_keys.conn_rate_net(*c), &d_cfg.ratelimit_net_connections,
                                d_cfg.ratelimit_net_connections_burst});
            counters.push_back({"messages per network", d_keys.msg_rate_net(*c), &d_cfg.ratelimit_net_messages,
                                d_cfg.ratelimit_net_messages_burst});
        } else if (auto ip = IpAddress::parse(target)) {
            const Cidr net = network_of(*ip, v4, v6);
            counters.push_back({"connections per IP", d_keys.conn_rate_ip(*ip, net), &d_cfg.ratelimit_ip_connections,
                                d_cfg.ratelimit_ip_connections_burst});
            counters.push_back({"messages per IP", d_keys.msg_rate_ip(*ip, net), &d_cfg.ratelimit_ip_messages,
                                d_cfg.ratelimit_ip_messages_burst});
        } else if (target.find('@') != std::string_view::npos) {
            counters.push_back({"messages per sender", d_keys.msg_rate_sender(strip_brackets(target)),
                                &d_cfg.ratelimit_sender_messages, d_cfg.ratelimit_sender_messages_burst});
        } else {
            return fail_usage(
                fmt::format("\"{}\" is not an IP address, a network or a sender address", printable(target)));
        }
        Batch b;
        for (const auto& c : counters) {
            if (reset)
                b.add({"DEL", c.key});
            else
                b.eval(Script::rate_peek, {c.key},
                       {std::to_string(std::max<std::int64_t>(1, c.rate->interval_us())), std::to_string(c.burst)});
        }
        auto r = run(b);
        if (!r)
            return kFailed;
        for (std::size_t i = 0; i < counters.size(); ++i) {
            const auto& c = counters[i];
            if (reset) {
                std::printf("%s %s: %s\n", c.label.c_str(), printable(target).c_str(),
                            (*r)[i].as_integer() ? "reset" : "was idle");
                continue;
            }
            const auto& e = (*r)[i].elements;
            const std::string limit =
                c.rate->enabled() ? fmt::format("{}/{}s burst {}", c.rate->count, c.rate->period_ms / 1000, c.burst)
                                  : std::string("off");
            std::printf("%s %s: room=%lld backlog_ms=%lld limit=%s\n", c.label.c_str(), printable(target).c_str(),
                        e.size() == 2 ? e[0].as_integer() : 0LL, e.size() == 2 ? e[1].as_integer() : 0LL,
                        limit.c_str());
        }
        return kOk;
    }

    // learn (spam or ham) and forget: every message under `paths`.
    int learn(bayes::LearnClass c, const std::string& domain, const std::vector<std::string>& paths)
    {
        std::size_t added = 0, moved = 0, unchanged = 0, empty = 0;
        bool redis_failed = false;
        std::vector<MailboxError> errors;
        for (const auto& path : paths) {
            read_mailbox(
                path,
                [&](const std::string& source, std::string_view raw) {
                    const auto t = bayes::stored_tokens(d_cfg, raw);
                    if (t.tokens.empty()) {
                        std::fprintf(stderr, "rampartctl: %s: no tokens, skipped\n", printable(source).c_str());
                        ++empty;
                        return true;
                    }
                    Batch b;
                    bayes::add_message_learn(d_cfg, d_keys, t.headers, t.tokens, c, domain, b);
                    const auto r = run(b);
                    if (!r) {
                        redis_failed = true;
                        return false;
                    }
                    const auto res = bayes::parse_learn(*r);
                    if (!res) {
                        std::fprintf(stderr, "rampartctl: unexpected reply from Redis\n");
                        redis_failed = true;
                        return false;
                    }
                    if (!res->changed)
                        ++unchanged;
                    else if (res->previous.empty() || c == bayes::LearnClass::forget)
                        ++added;
                    else
                        ++moved;
                    return true;
                },
                errors);
            if (redis_failed)
                break;
        }
        for (const auto& e : errors)
            std::fprintf(stderr, "rampartctl: %s: %s\n", printable(e.path).c_str(), e.message.c_str());
        const std::string scope = domain.empty() ? std::string() : " for " + domain;
        if (c == bayes::LearnClass::forget)
            std::printf("forgot %zu message%s%s; %zu not learned before\n", added, added == 1 ? "" : "s", scope.c_str(),
                        unchanged);
        else
            std::printf("learned %zu message%s as %s%s: %zu new, %zu moved from %s, %zu already learned\n",
                        added + moved, added + moved == 1 ? "" : "s", bayes::to_string(c), scope.c_str(), added, moved,
                        c == bayes::LearnClass::spam ? "ham" : "spam", unchanged);
        if (empty)
            std::printf("%zu message%s without tokens skipped\n", empty, empty == 1 ? "" : "s");
        return redis_failed || !errors.empty() ? kFailed : kOk;
    }

    int bayes_stats(const std::string& domain)
    {
        const auto l = bayes::layout_of(d_cfg, domain);
        Batch meta;
        meta.add({"HMGET", d_keys.bayes_meta(l.scope, 0), "spam", "ham", "buckets"});
        meta.add({"INFO", "memory"});
        meta.add({"CONFIG", "GET", "hash-max-listpack-entries"});
        auto m = run(meta);
        if (!m)
            return kFailed;
        const auto& counts = (*m)[0].elements;
        if (counts.size() != 3) {
            std::fprintf(stderr, "rampartctl: unexpected reply from Redis\n");
            return kFailed;
        }
        // Token counts of every bucket, and memory and encoding of the first
        // kSample that hold any.
        constexpr std::int64_t kSlice = 1024;
        constexpr std::size_t kSample = 256;
        std::uint64_t tokens = 0, filled = 0, largest = 0;
        std::vector<std::pair<std::string, long long>> sample;
        for (std::int64_t first = 0; first < l.buckets; first += kSlice) {
            Batch b;
            const std::int64_t last = std::min(l.buckets, first + kSlice);
            for (std::int64_t i = first; i < last; ++i)
                b.add({"HLEN", d_keys.bayes_bucket(l.scope, i % l.shards, i)});
            auto r = run(b);
            if (!r)
                return kFailed;
            for (std::int64_t i = first; i < last; ++i) {
                const long long n = (*r)[static_cast<std::size_t>(i - first)].as_integer();
                if (n <= 0)
                    continue;
                tokens += static_cast<std::uint64_t>(n);
                largest = std::max<std::uint64_t>(largest, static_cast<std::uint64_t>(n));
                ++filled;
                if (sample.size() < kSample)
                    sample.emplace_back(d_keys.bayes_bucket(l.scope, i % l.shards, i), n);
            }
        }
        std::uint64_t sampled_bytes = 0, sampled_tokens = 0, not_compact = 0;
        if (!sample.empty()) {
            Batch b;
            for (const auto& [key, n] : sample) {
                b.add({"MEMORY", "USAGE", key, "SAMPLES", "0"});
                b.add({"OBJECT", "ENCODING", key});
            }
            auto r = run(b);
            if (!r)
                return kFailed;
            for (std::size_t i = 0; i < sample.size(); ++i) {
                sampled_bytes += static_cast<std::uint64_t>(std::max(0LL, (*r)[2 * i].as_integer()));
                sampled_tokens += static_cast<std::uint64_t>(sample[i].second);
                const std::string& enc = (*r)[2 * i + 1].str;
                if (enc != "listpack" && enc != "ziplist")
                    ++not_compact;
            }
        }
        long long used_memory = -1;
        const std::string& info = (*m)[1].str;
        if (const auto at = info.find("used_memory:"); at != std::string::npos)
            used_memory = std::atoll(info.c_str() + at + 12);
        long long listpack_entries = -1;
        if ((*m)[2].elements.size() == 2)
            listpack_entries = std::atoll((*m)[2].elements[1].str.c_str());

        std::printf("scope: %s\n", domain.empty() ? "global" : domain.c_str());
        std::printf("messages learned: spam=%lld ham=%lld\n", counts[0].as_integer(), counts[1].as_integer());
        std::printf("buckets: %lld configured, %lld learned with, %llu in use, largest %llu tokens\n",
                    static_cast<long long>(l.buckets), counts[2].as_integer(), static_cast<unsigned long long>(filled),
                    static_cast<unsigned long long>(largest));
        std::printf("tokens: %llu\n", static_cast<unsigned long long>(tokens));
        if (sampled_tokens)
            std::printf("bytes per token: %.1f (MEMORY USAGE of %zu buckets)\n",
                        static_cast<double>(sampled_bytes) / static_cast<double>(sampled_tokens), sample.size());
        if (used_memory >= 0 && tokens)
            std::printf("Redis used_memory: %lld bytes, %.1f per token (everything in this Redis)\n", used_memory,
                        static_cast<double>(used_memory) / static_cast<double>(tokens));
        if (counts[2].as_integer() != 0 && counts[2].as_integer() != l.buckets)
            std::printf("warning: learned with bayes.buckets = %lld; with %lld nothing is classified\n",
                        counts[2].as_integer(), static_cast<long long>(l.buckets));
        if (not_compact)
            std::printf("warning: %llu of %zu sampled buckets are not listpacks (hash-max-listpack-entries = %lld): "
                        "tokens cost several times more; raise bayes.buckets for a new store, or "
                        "hash-max-listpack-entries\n",
                        static_cast<unsigned long long>(not_compact), sample.size(), listpack_entries);
        return kOk;
    }

    // The spam probability of every message under `paths`, one line each.
    int bayes_classify(const std::string& domain, const std::vector<std::string>& paths)
    {
        const auto global = bayes::layout_of(d_cfg);
        const bayes::ClassifierSettings cs{d_cfg.bayes_strength, d_cfg.bayes_prior, d_cfg.bayes_min_token_strength,
                                           static_cast<std::size_t>(d_cfg.bayes_max_tokens)};
        bool redis_failed = false, warned = false;
        std::vector<MailboxError> errors;
        for (const auto& path : paths) {
            read_mailbox(
                path,
                [&](const std::string& source, std::string_view raw) {
                    const auto t = bayes::stored_tokens(d_cfg, raw);
                    Batch b;
                    bayes::add_read(d_keys, global, t.tokens, b);
                    if (!domain.empty())
                        bayes::add_read(d_keys, bayes::layout_of(d_cfg, domain), t.tokens, b);
                    const auto r = run(b);
                    if (!r) {
                        redis_failed = true;
                        return false;
                    }
                    const std::size_t n = bayes::read_commands(global, t.tokens);
                    auto st =
                        bayes::parse_read(std::span<const Reply>(*r).first(std::min(n, r->size())), global, t.tokens);
                    if (st && !domain.empty())
                        if (const auto d = bayes::parse_read(std::span<const Reply>(*r).subspan(n),
                                                             bayes::layout_of(d_cfg, domain), t.tokens)) {
                            st->spam += d->spam;
                            st->ham += d->ham;
                            for (std::size_t i = 0; i < t.tokens.size(); ++i) {
                                st->counts[i].spam += d->counts[i].spam;
                                st->counts[i].ham += d->counts[i].ham;
                            }
                        }
                    if (!st) {
                        std::fprintf(stderr, "rampartctl: unexpected reply from Redis\n");
                        redis_failed = true;
                        return false;
                    }
                    if (!warned && (st->spam < static_cast<std::uint64_t>(d_cfg.bayes_min_spam) ||
                                    st->ham < static_cast<std::uint64_t>(d_cfg.bayes_min_ham))) {
                        std::fprintf(
                            stderr,
                            "rampartctl: only %llu spam and %llu ham learned (bayes.min_spam %lld, "
                            "bayes.min_ham %lld): the milter classifies nothing yet\n",
                            static_cast<unsigned long long>(st->spam), static_cast<unsigned long long>(st->ham),
                            static_cast<long long>(d_cfg.bayes_min_spam), static_cast<long long>(d_cfg.bayes_min_ham));
                        warned = true;
                    }
                    const auto c = bayes::classify(st->counts, st->spam, st->ham, cs);
                    std::printf("%.9f %zu %s\n", c ? c->probability : 0.5, c ? c->tokens : 0,
                                printable(source).c_str());
                    return true;
                },
                errors);
            if (redis_failed)
                break;
        }
        for (const auto& e : errors)
            std::fprintf(stderr, "rampartctl: %s: %s\n", printable(e.path).c_str(), e.message.c_str());
        return redis_failed || !errors.empty() ? kFailed : kOk;
    }

    int bayes_expire(const std::string& domain)
    {
        const auto l = bayes::layout_of(d_cfg, domain);
        constexpr std::int64_t kSlice = 64;
        long long deleted = 0, kept = 0;
        for (std::int64_t first = 0; first < l.buckets; first += kSlice) {
            std::vector<std::int64_t> buckets;
            for (std::int64_t i = first; i < std::min(l.buckets, first + kSlice); ++i)
                buckets.push_back(i);
            Batch b;
            bayes::add_expire(d_keys, l, buckets, bayes::today(), d_cfg.bayes_expire_days, d_cfg.bayes_expire_max_count,
                              b);
            auto r = run(b);
            if (!r)
                return kFailed;
            for (const auto& reply : *r)
                if (reply.elements.size() == 2) {
                    deleted += reply.elements[0].as_integer();
                    kept += reply.elements[1].as_integer();
                }
        }
        std::printf("expired %lld tokens (last learned %lld or more days ago, counted at most %lld times); %lld kept\n",
                    deleted, static_cast<long long>(d_cfg.bayes_expire_days),
                    static_cast<long long>(d_cfg.bayes_expire_max_count), kept);
        return kOk;
    }

  private:
    const Config& d_cfg;
    Store d_store;
    Keys d_keys;
};

// "--domain D" anywhere in `a` from `from` on, taken out; "" when absent.
std::optional<std::string> take_domain(std::vector<std::string>& a, std::size_t from)
{
    std::string domain;
    for (std::size_t i = from; i < a.size();) {
        if (a[i] != "--domain") {
            ++i;
            continue;
        }
        if (i + 1 >= a.size())
            return std::nullopt;
        domain = lowercase(a[i + 1]);
        if (domain.starts_with('@'))
            domain.erase(0, 1);
        a.erase(a.begin() + static_cast<std::ptrdiff_t>(i), a.begin() + static_cast<std::ptrdiff_t>(i) + 2);
        if (domain.empty() || domain.find_first_of("{}@ \t") != std::string::npos)
            return std::nullopt;
    }
    return domain;
}

int dispatch(const Config& cfg, std::vector<std::string> a)
{
    Ctl ctl(cfg);
    if (!a.empty() && (a[0] == "learn" || a[0] == "forget" || a[0] == "bayes")) {
        const auto domain = take_domain(a, 1);
        if (!domain)
            return fail_usage("--domain needs a domain name");
        if (a[0] == "bayes") {
            if (a.size() == 2 && a[1] == "stats")
                return ctl.bayes_stats(*domain);
            if (a.size() == 2 && a[1] == "expire")
                return ctl.bayes_expire(*domain);
            if (a.size() >= 3 && a[1] == "classify")
                return ctl.bayes_classify(*domain, {a.begin() + 2, a.end()});
            return fail_usage("bayes: expected stats, expire or classify PATH...");
        }
        bayes::LearnClass c = bayes::LearnClass::forget;
        std::size_t paths = 1;
        if (a[0] == "learn") {
            if (a.size() < 2 || (a[1] != "--spam" && a[1] != "--ham"))
                return fail_usage("learn needs --spam or --ham first");
            c = a[1] == "--spam" ? bayes::LearnClass::spam : bayes::LearnClass::ham;
            paths = 2;
        }
        if (a.size() <= paths)
            return fail_usage(a[0] + " needs at least one file, directory, mbox or Maildir");
        return ctl.learn(c, *domain, {a.begin() + static_cast<std::ptrdiff_t>(paths), a.end()});
    }
    const auto n = a.size();
    if (n >= 1 && a[0] == "stats")
        return rampart::ctl::stats_command(cfg, {a.begin() + 1, a.end()});
    if (n >= 1 && a[0] == "list") {
        if (n >= 2 && (a[1] == "add" || a[1] == "del")) {
            if (n < 5)
                return fail_usage("list " + a[1] + " needs allow|block, a kind and at least one value");
            if (a[2] != "allow" && a[2] != "block")
                return fail_usage("\"" + printable(a[2]) + "\": expected allow or block");
            const auto kind = list_kind(a[3]);
            if (!kind)
                return fail_usage("\"" + printable(a[3]) + "\": expected ip, helo, from or rcpt");
            return ctl.list_change(a[1] == "add", a[2] == "block", *kind, {a.begin() + 4, a.end()});
        }
        if (n >= 2 && a[1] == "show") {
            std::optional<bool> block;
            std::optional<ListKind> kind;
            for (std::size_t i = 2; i < n; ++i) {
                if (a[i] == "allow" || a[i] == "block")
                    block = a[i] == "block";
                else if (auto k = list_kind(a[i]))
                    kind = k;
                else
                    return fail_usage("\"" + printable(a[i]) + "\": expected allow, block or a list kind");
            }
            return ctl.list_show(block, kind);
        }
        return fail_usage("list: expected add, del or show");
    }
    if (n == 3 && a[0] == "reputation" && a[1] == "show")
        return ctl.reputation_show(a[2]);
    if (n == 3 && a[0] == "rate" && (a[1] == "show" || a[1] == "reset"))
        return ctl.rate(a[1] == "reset", a[2]);
    if (n >= 1 && a[0] == "account") {
        if (n == 3 && a[1] == "show")
            return ctl.account_show(a[2]);
        if (n == 3 && a[1] == "unlock")
            return ctl.account_unlock(a[2]);
        if (n >= 3 && a[1] == "lock") {
            std::string reason;
            for (std::size_t i = 3; i < n; ++i)
                reason += (i > 3 ? " " : "") + a[i];
            return ctl.account_lock(a[2], reason);
        }
        if (n >= 2 && a[1] == "list" && (n == 2 || (n == 3 && a[2] == "--locked")))
            return ctl.account_list(n == 3);
        return fail_usage("account: expected show LOGIN, lock LOGIN [REASON], unlock LOGIN or list [--locked]");
    }
    if (n >= 1 && a[0] == "outbreak") {
        if (n == 2 && a[1] == "list")
            return ctl.outbreak_list();
        if (n == 3 && (a[1] == "show" || a[1] == "clear")) {
            if (!is_fingerprint(a[2]))
                return fail_usage("\"" + printable(a[2]) +
                                  "\": not a fingerprint (KIND:HEX, as outbreak list and the log show them)");
            return a[1] == "show" ? ctl.outbreak_show(a[2]) : ctl.outbreak_clear(a[2]);
        }
        return fail_usage("outbreak: expected list, show FINGERPRINT or clear FINGERPRINT");
    }
    return fail_usage(n == 0 ? "no command given" : "unknown command \"" + printable(a[0]) + "\"");
}

} // namespace

int main(int argc, char** argv)
{
    std::string config = "/etc/rampart/rampart.conf";
    enum { kVersion = 256 };
    static const option longopts[] = {{"config", required_argument, nullptr, 'c'},
                                      {"help", no_argument, nullptr, 'h'},
                                      {"version", no_argument, nullptr, kVersion},
                                      {nullptr, 0, nullptr, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "+c:h", longopts, nullptr)) != -1) {
        switch (ch) {
        case 'c': config = optarg; break;
        case 'h': usage(stdout); return kOk;
        case kVersion: std::printf("rampartctl %s\n", PACKAGE_VERSION); return kOk;
        default: usage(stderr); return kUsage;
        }
    }
    auto loaded = load_config(config);
    if (!loaded.config) {
        for (const auto& e : loaded.errors)
            std::fprintf(stderr, "%s\n", e.to_string().c_str());
        return kFailed;
    }
    rampart::log::open("rampartctl", LOG_USER, false);
    rampart::log::set_level(rampart::log::Level::error);
    return dispatch(*loaded.config, {argv + optind, argv + argc});
}
