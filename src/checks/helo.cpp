// NAME
//   helo.cpp - what the client calls itself in HELO/EHLO
// SUMMARY
//   RFC 5321 section 4.1.1.1 asks for the client's fully qualified domain
//   name, or an address literal where it has none. Spam software and
//   zombies get it wrong in telling ways:
//     RAMPART_HELO_SYNTAX (2.0)      not a domain name nor an address
//                                    literal (bad characters, empty or
//                                    over-long labels, a bare IP address
//                                    without brackets)
//     RAMPART_HELO_BARE (1.0)        a name without a dot ("PC-4711"), or
//                                    localhost / *.localdomain
//     RAMPART_HELO_IP_MISMATCH (2.0) an address literal (or bare address)
//                                    that is not the client's address
//     RAMPART_HELO_OURS (3.0)        the name of this host (helo.own_names)
//                                    or an address literal of it, claimed
//                                    by a client from outside
//   Clients in network.internal, allow-listed ones, those the DNS allow
//   lists vouch for and authenticated senders are not judged: a laptop
//   submitting mail calls itself what it likes. Which findings refuse the
//   message at MAIL FROM, before any data, is helo.reject (reply.helo);
//   the others only score.
// PHASES
//   mail (refusal; the HELO name and the login are known by then), eom
//   (symbols).
// SYMBOLS
//   RAMPART_HELO_SYNTAX, RAMPART_HELO_BARE, RAMPART_HELO_IP_MISMATCH,
//   RAMPART_HELO_OURS (scores above)
// SETTINGS
//   helo.enabled, helo.reject, helo.own_names, network.internal, reply.helo
#include "checks/check.hpp"
#include "config/config.hpp"
#include "engine/runtime.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <optional>

namespace rampart {
namespace {

constexpr double kSyntaxScore = 2.0, kBareScore = 1.0, kMismatchScore = 2.0, kOursScore = 3.0;

struct Findings {
    bool syntax = false, bare = false, mismatch = false, ours = false;
    bool any() const { return syntax || bare || mismatch || ours; }
};

bool valid_name(std::string_view n)
{
    if (n.ends_with('.'))
        n.remove_suffix(1);
    if (n.empty() || n.size() > 253)
        return false;
    std::size_t label = 0;
    char prev = '.';
    for (char c : n) {
        if (c == '.') {
            if (label == 0 || prev == '-')
                return false;
            label = 0;
        } else {
            const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
            if (!ok || ++label > 63 || (label == 1 && c == '-'))
                return false;
        }
        prev = c;
    }
    return label > 0 && prev != '-';
}

// The address of "[192.0.2.1]" or "[IPv6:2001:db8::1]" (RFC 5321 4.1.3).
std::optional<IpAddress> address_literal(std::string_view h)
{
    if (h.size() < 3 || h.front() != '[' || h.back() != ']')
        return std::nullopt;
    h = h.substr(1, h.size() - 2);
    if (h.size() > 5 && iequals(h.substr(0, 5), "IPv6:"))
        return IpAddress::parse(h.substr(5));
    if (h.find(':') != std::string_view::npos)
        return std::nullopt;
    return IpAddress::parse(h);
}

Findings judge(const Runtime& rt, const Client& client)
{
    Findings f;
    const std::string_view helo = client.helo;
    std::optional<IpAddress> claimed = address_literal(helo);
    if (!claimed) {
        if (const auto bare_ip = IpAddress::parse(helo)) {
            f.syntax = true; // an address must be bracketed
            claimed = bare_ip;
        }
    }
    if (claimed) {
        f.mismatch = client.ip && *claimed != *client.ip;
        f.ours = std::any_of(rt.own_names.begin(), rt.own_names.end(), [&](const std::string& n) {
            const auto own = address_literal(n) ? address_literal(n) : IpAddress::parse(n);
            return own && *own == *claimed;
        });
        return f;
    }
    if (!valid_name(helo)) {
        f.syntax = true;
        return f;
    }
    const std::string name = lowercase(helo.ends_with('.') ? helo.substr(0, helo.size() - 1) : helo);
    f.bare = name.find('.') == std::string::npos || name.ends_with(".localdomain");
    f.ours =
        std::any_of(rt.own_names.begin(), rt.own_names.end(), [&](const std::string& n) { return iequals(n, name); });
    return f;
}

bool has(const std::vector<std::string>& list, std::string_view v)
{
    return std::find(list.begin(), list.end(), v) != list.end();
}

class HeloCheck final : public Check {
  public:
    std::string_view name() const override { return "helo"; }
    bool runs_in(Phase p, const Config& cfg) const override
    {
        return cfg.helo_enabled && (p == Phase::mail || p == Phase::eom);
    }
    bool answers_in(Phase p, const Runtime& rt) const override
    {
        return p == Phase::mail && runs_in(p, *rt.config) && !rt.config->helo_reject.empty();
    }

    void decide(Phase p, Context& ctx, std::span<const Reply>) const override
    {
        const Client& client = ctx.client;
        if (client.helo.empty() || !ctx.tx.auth_user.empty() || client.allowed || client.dns_allowed ||
            (client.ip && ctx.rt.is_internal(*client.ip)))
            return;
        const Findings f = judge(ctx.rt, client);
        if (!f.any())
            return;
        const auto& reject = ctx.cfg.helo_reject;
        if (p == Phase::mail) {
            if ((f.syntax && has(reject, "syntax")) || (f.bare && has(reject, "bare")) ||
                (f.mismatch && has(reject, "ip_mismatch")) || (f.ours && has(reject, "ours"))) {
                ctx.tx.answer = Answer::reject(ctx.cfg.reply_helo);
                add_symbols(ctx, f); // for the refusal's log line
            }
        } else if (p == Phase::eom) {
            add_symbols(ctx, f);
        }
    }

  private:
    static void add_symbols(Context& ctx, const Findings& f)
    {
        const std::string helo = printable(ctx.client.helo);
        if (f.syntax)
            ctx.tx.card.add("RAMPART_HELO_SYNTAX", kSyntaxScore, helo);
        if (f.bare)
            ctx.tx.card.add("RAMPART_HELO_BARE", kBareScore, helo);
        if (f.mismatch)
            ctx.tx.card.add("RAMPART_HELO_IP_MISMATCH", kMismatchScore, helo);
        if (f.ours)
            ctx.tx.card.add("RAMPART_HELO_OURS", kOursScore, helo);
    }
};

} // namespace

const Check& helo_check()
{
    static const HeloCheck c;
    return c;
}

} // namespace rampart
