#include "store/keys.hpp"

#include "util/text.hpp"

#include <fmt/format.h>

namespace rampart {

const char* to_string(ListKind k)
{
    switch (k) {
    case ListKind::ip: return "ip";
    case ListKind::helo: return "helo";
    case ListKind::from: return "from";
    case ListKind::rcpt: return "rcpt";
    }
    return "ip";
}

std::string Keys::tagged(std::string_view tag, std::string_view rest) const
{
    std::string k;
    k.reserve(d_prefix.size() + tag.size() + rest.size() + 3);
    k += d_prefix;
    k += '{';
    for (char c : tag)
        k += (c == '{' || c == '}') ? '_' : c;
    k += "}:";
    k += rest;
    return k;
}

std::string Keys::list(ListKind kind, bool block) const
{
    return d_prefix + (block ? "list:block:" : "list:allow:") + to_string(kind);
}

std::string Keys::list_version() const { return d_prefix + "list:version"; }

std::string Keys::conn_rate_ip(const IpAddress& ip, const Cidr& net) const
{
    return tagged(net.to_string(), "rate:conn:ip:" + ip.to_string());
}

std::string Keys::conn_rate_net(const Cidr& net) const { return tagged(net.to_string(), "rate:conn:net"); }

std::string Keys::msg_rate_ip(const IpAddress& ip, const Cidr& net) const
{
    return tagged(net.to_string(), "rate:msg:ip:" + ip.to_string());
}

std::string Keys::msg_rate_net(const Cidr& net) const { return tagged(net.to_string(), "rate:msg:net"); }

std::string Keys::msg_rate_sender(std::string_view sender) const { return tagged(lowercase(sender), "rate:msg:from"); }

std::string Keys::conc_ip(const IpAddress& ip, const Cidr& net) const
{
    return tagged(net.to_string(), "conc:ip:" + ip.to_string());
}

std::string Keys::conc_net(const Cidr& net) const { return tagged(net.to_string(), "conc:net"); }

std::string Keys::rep_ip(const IpAddress& ip, const Cidr& net) const
{
    return tagged(net.to_string(), "rep:ip:" + ip.to_string());
}

std::string Keys::rep_net(const Cidr& net) const { return tagged(net.to_string(), "rep:net"); }

std::string Keys::bayes_tag(std::string_view scope, std::int64_t shard) const
{
    std::string tag = "bayes:";
    if (!scope.empty()) {
        tag += lowercase(scope);
        tag += ':';
    }
    tag += std::to_string(shard);
    return tag;
}

std::string Keys::bayes_bucket(std::string_view scope, std::int64_t shard, std::int64_t bucket) const
{
    return tagged(bayes_tag(scope, shard), "tok:" + std::to_string(bucket));
}

std::string Keys::bayes_meta(std::string_view scope, std::int64_t shard) const
{
    return tagged(bayes_tag(scope, shard), "meta");
}

std::string Keys::bayes_seen(std::string_view scope, std::int64_t shard, std::string_view digest) const
{
    return tagged(bayes_tag(scope, shard), "seen:" + std::string(digest));
}

std::string Keys::account_stat(std::string_view user) const { return tagged(fmt::format("acct:{}", user), "stat"); }

std::string Keys::account_domains(std::string_view user, std::int64_t window) const
{
    return tagged(fmt::format("acct:{}", user), fmt::format("dom:{}", window));
}

std::string Keys::account_ips(std::string_view user, std::int64_t window) const
{
    return tagged(fmt::format("acct:{}", user), fmt::format("ip:{}", window));
}

std::string Keys::account_block(std::string_view user) const { return tagged(fmt::format("acct:{}", user), "block"); }

std::string Keys::rcpt_rate(std::string_view rcpt) const
{
    return tagged(fmt::format("rcpt:{}", lowercase(rcpt)), "rate");
}

std::string Keys::rcpt_senders(std::string_view rcpt, std::int64_t window) const
{
    return tagged(fmt::format("rcpt:{}", lowercase(rcpt)), fmt::format("from:{}", window));
}

std::string Keys::rcpt_probe(std::string_view rcpt) const
{
    return tagged(fmt::format("rcpt:{}", lowercase(rcpt)), "probe");
}

std::string Keys::grey_triplet(const Cidr& net, std::string_view sender, std::string_view rcpt) const
{
    return tagged(fmt::format("grey:{}", net.to_string()), fmt::format("t:{}:{}", lowercase(sender), lowercase(rcpt)));
}

std::string Keys::grey_known(const Cidr& net, std::string_view domain) const
{
    return tagged(fmt::format("grey:{}", net.to_string()), fmt::format("ok:{}", lowercase(domain)));
}

std::string Keys::account_seen() const { return d_prefix + "account:seen"; }

std::string Keys::outbreak(std::string_view fp, std::string_view rest) const
{
    return tagged(fmt::format("ob:{}", fp), rest);
}

std::string Keys::outbreak_list() const { return d_prefix + "outbreak:list"; }

std::string Keys::account_locked() const { return d_prefix + "account:locked"; }

std::string Keys::dns(std::string_view question) const
{
    std::string k = d_prefix;
    k += "dns:";
    k += question;
    return k;
}

std::string Keys::stats_bucket(std::string_view node, char unit, std::int64_t bucket) const
{
    return tagged(node.empty() ? std::string("stats") : fmt::format("stats:{}", node),
                  fmt::format("{}:{}", unit, bucket));
}

std::string Keys::stats_state(std::string_view node) const { return tagged(fmt::format("stats:{}", node), "state"); }

std::string Keys::stats_nodes() const { return tagged("stats", "nodes"); }

} // namespace rampart
