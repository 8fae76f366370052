// NAME
//   keys.hpp - every Redis key name rampart uses, built in one place
// DESCRIPTION
//   All keys start with redis.prefix. Keys that one script touches together
//   share a hash tag ({...}) so that the scripts run unchanged on Redis
//   Cluster. Key families, types and TTLs (documented in rampart.conf(5)):
//
//   PREFIX list:{allow,block}:{ip,helo,from,rcpt}   set     no TTL (admin lists)
//   PREFIX list:version                             string  no TTL, INCR on every list change
//   PREFIX {NET}:rate:conn:ip:IP                    string  GCRA time, expires when idle
//   PREFIX {NET}:rate:conn:net                      string  GCRA time, expires when idle
//   PREFIX {NET}:rate:msg:ip:IP                     string  GCRA time, expires when idle
//   PREFIX {NET}:rate:msg:net                       string  GCRA time, expires when idle
//   PREFIX {SENDER}:rate:msg:from                   string  GCRA time, expires when idle
//   PREFIX {NET}:conc:ip:IP                         zset    connection leases -> expiry (ms); 2 leases
//   PREFIX {NET}:conc:net                           zset    the same for the network
//   PREFIX {NET}:rep:ip:IP                          hash    c:L:E, s:L:E (store/reputation.hpp); reputation.ttl_s
//   PREFIX {NET}:rep:net                            hash    the same; reputation.ttl_s
//   PREFIX {bayes:SHARD}:tok:BUCKET                 hash    token -> "SPAM:HAM:DAY"; bayes.ttl_s
//   PREFIX {bayes:SHARD}:meta                       hash    spam, ham, buckets; bayes.ttl_s
//   PREFIX {bayes:SHARD}:seen:DIGEST                string  "spam"/"ham"; bayes.seen_ttl_s
//   PREFIX {bayes:DOMAIN:SHARD}:...                 the same, per recipient domain
//   PREFIX {acct:USER}:stat                         hash    window counters, baselines, verdicts; account.ttl_s
//   PREFIX {acct:USER}:dom:WINDOW                   HLL     recipient domains of a window; 2 windows
//   PREFIX {acct:USER}:ip:WINDOW                    HLL     client addresses of a window; 2 windows
//   PREFIX {acct:USER}:block                        hash    kind, reason, since; no TTL when locked,
//                                                           the window's end when throttled or held
//   PREFIX {rcpt:RCPT}:rate                         string  GCRA time, expires when idle
//   PREFIX {rcpt:RCPT}:from:WINDOW                  HLL     envelope senders of a window; the window
//   PREFIX {rcpt:RCPT}:probe                        HLL     scratch of mailbomb.lua, deleted at once
//   PREFIX {grey:NET}:t:SENDER:RCPT                 string  first seen (s); greylist.retry_window_s
//   PREFIX {grey:NET}:ok:DOMAIN                     string  retried correctly; greylist.remember_s
//   PREFIX {ob:FP}:n:WINDOW                         string  copies of a fingerprint; 2 windows
//   PREFIX {ob:FP}:net:WINDOW                       HLL     its client networks; 2 windows
//   PREFIX {ob:FP}:from:WINDOW                      HLL     its envelope sender domains; 2 windows
//   PREFIX {ob:FP}:first                            string  first seen (s); 2 windows (outbreak.delay_s)
//   PREFIX {ob:FP}:hit                              hash    an outbreak: kind, since, messages, networks,
//                                                           domains, listed; outbreak.ttl_s
//   PREFIX {ob:FP}:clear                            string  cleared by hand; outbreak.ttl_s
//   PREFIX outbreak:list                            zset    outbreak fingerprints -> since (s)
//   PREFIX account:seen                             zset    login -> last message (s); trimmed to account.ttl_s
//   PREFIX account:locked                           set     locked logins (admin state, no TTL)
//   PREFIX dns:TYPE/NAME                            string  a DNS answer (dns::encode_answer); its TTL
//   PREFIX {stats:NODE}:m:MINUTE                    hash    a node's counts of one minute; 2 hours
//   PREFIX {stats:NODE}:h:HOUR                      hash    the same of one hour; 2 days
//   PREFIX {stats:NODE}:d:DAY                       hash    the same of one day; 35 days
//   PREFIX {stats}:m:MINUTE, :h:HOUR, :d:DAY        hash    the fleet's counts, the same TTLs
//   PREFIX {stats:NODE}:state                       hash    breaker, flushed, flush_s, version; 35 days
//   PREFIX {stats}:nodes                            zset    node -> last flush (s); trimmed to 35 days
//
//   NET is the client's network in CIDR form (network.ipv4_prefix /
//   ipv6_prefix), IP the client address, SENDER the lowercased envelope
//   sender with braces replaced by '_'. SHARD is 0 .. bayes.shards - 1,
//   BUCKET 0 .. bayes.buckets - 1 (see bayes/token_store.hpp), DIGEST the
//   learned message's digest, DOMAIN a lowercased recipient domain. TYPE is
//   a DNS type's number, NAME the lowercased name asked (dns.fleet_cache).
//   USER is an authenticated login as the MTA gave it, braces replaced by
//   '_'; WINDOW the window's number (seconds since 1970 / account.window_s,
//   or / mailbomb.window_s, or / outbreak.window_s). FP a fingerprint
//   (checks/fingerprint.hpp: "text:HEX", "urls:HEX", "near2:HEX"). RCPT is a lowercased recipient address.
//   NODE is stats.node (or the host name); MINUTE, HOUR and DAY are minutes,
//   hours and days since 1970 (stats/flush.hpp names the fields).
#pragma once

#include "net/address.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace rampart {

enum class ListKind { ip, helo, from, rcpt };
inline constexpr ListKind kListKinds[] = {ListKind::ip, ListKind::helo, ListKind::from, ListKind::rcpt};
const char* to_string(ListKind k);

class Keys {
  public:
    explicit Keys(std::string prefix) : d_prefix(std::move(prefix)) {}

    std::string list(ListKind kind, bool block) const;
    std::string list_version() const;

    std::string conn_rate_ip(const IpAddress& ip, const Cidr& net) const;
    std::string conn_rate_net(const Cidr& net) const;
    std::string msg_rate_ip(const IpAddress& ip, const Cidr& net) const;
    std::string msg_rate_net(const Cidr& net) const;
    std::string msg_rate_sender(std::string_view sender) const;

    std::string conc_ip(const IpAddress& ip, const Cidr& net) const;
    std::string conc_net(const Cidr& net) const;

    std::string rep_ip(const IpAddress& ip, const Cidr& net) const;
    std::string rep_net(const Cidr& net) const;

    // `scope` is "" for the global statistics, else a recipient domain.
    std::string bayes_bucket(std::string_view scope, std::int64_t shard, std::int64_t bucket) const;
    std::string bayes_meta(std::string_view scope, std::int64_t shard) const;
    std::string bayes_seen(std::string_view scope, std::int64_t shard, std::string_view digest) const;

    std::string account_stat(std::string_view user) const;
    std::string account_domains(std::string_view user, std::int64_t window) const;
    std::string account_ips(std::string_view user, std::int64_t window) const;
    std::string account_block(std::string_view user) const;
    std::string account_seen() const;
    std::string rcpt_rate(std::string_view rcpt) const;
    std::string rcpt_senders(std::string_view rcpt, std::int64_t window) const;
    std::string rcpt_probe(std::string_view rcpt) const;
    // `sender` and `rcpt` lowercased addresses ("<>" for the null sender), `domain` the sender's.
    std::string grey_triplet(const Cidr& net, std::string_view sender, std::string_view rcpt) const;
    std::string grey_known(const Cidr& net, std::string_view domain) const;
    std::string account_locked() const;
    // `fp` a fingerprint id, `rest` "n:WINDOW", "hit", ...
    std::string outbreak(std::string_view fp, std::string_view rest) const;
    std::string outbreak_list() const;

    // `question` is the resolver's "TYPE/NAME".
    std::string dns(std::string_view question) const;

    // The counters of rampartctl stats: `node` empty for the fleet's;
    // `unit` 'm', 'h' or 'd'; `bucket` the minute, hour or day since 1970.
    std::string stats_bucket(std::string_view node, char unit, std::int64_t bucket) const;
    std::string stats_state(std::string_view node) const;
    std::string stats_nodes() const;

  private:
    std::string bayes_tag(std::string_view scope, std::int64_t shard) const;
    std::string tagged(std::string_view tag, std::string_view rest) const;
    std::string d_prefix;
};

} // namespace rampart
