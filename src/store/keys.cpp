#include "store/keys.hpp"

#include "util/text.hpp"

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

std::string Keys::rep_ip(const IpAddress& ip, const Cidr& net) const
{
    return tagged(net.to_string(), "rep:ip:" + ip.to_string());
}

std::string Keys::rep_net(const Cidr& net) const { return tagged(net.to_string(), "rep:net"); }

} // namespace rampart
