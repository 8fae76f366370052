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
//   PREFIX {NET}:rep:ip:IP                          hash    c, s, t; reputation.ttl_s
//   PREFIX {NET}:rep:net                            hash    c, s, t; reputation.ttl_s
//
//   NET is the client's network in CIDR form (network.ipv4_prefix /
//   ipv6_prefix), IP the client address, SENDER the lowercased envelope
//   sender with braces replaced by '_'.
#pragma once

#include "net/address.hpp"

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

    std::string rep_ip(const IpAddress& ip, const Cidr& net) const;
    std::string rep_net(const Cidr& net) const;

  private:
    std::string tagged(std::string_view tag, std::string_view rest) const;
    std::string d_prefix;
};

} // namespace rampart
