// NAME
//   batv.cpp - backscatter: BATV tags on outbound senders, checked on bounces
// SUMMARY
//   Spam sent in a customer's name bounces back to the customer by the
//   thousand (backscatter). With BATV (auth/batv.hpp) the envelope sender
//   of the domain's real mail carries a keyed, expiring tag, so a bounce
//   to an address without a valid tag is not about mail the domain sent.
//
//   Outbound: a message whose envelope sender's domain is in batv.domains,
//   from an authenticated sender or a client of batv.sign_networks, gets
//   its envelope sender replaced by the tagged form
//   (prvs=KDDDSSSSSS=local@domain) if it is delivered. The null sender and
//   a sender already tagged are left alone.
//
//   Inbound, at each RCPT TO whose recipient's domain is in batv.domains:
//   - a bounce (null sender) to a recipient with a valid tag gets
//     RAMPART_BATV_VALID, and the tag is stripped from the recipient (the
//     checks after this one, and the MTA once the message is delivered,
//     see the plain address);
//   - a bounce without a valid tag (untagged, malformed, unknown key, bad
//     signature, expired) is refused for that recipient with reply.batv
//     when its domain is in batv.enforce (or batv.enforce has "*"), and
//     gets RAMPART_BATV_BAD otherwise;
//   - other mail to a recipient with a valid tag (a reply to the envelope
//     sender) has the tag stripped; with any other tag it is left to the
//     MTA.
//   Bounces from authenticated senders and from batv.sign_networks (a
//   user's read receipt, a local daemon's report), and from a client (or
//   sender) the lists allow (a backup MX), are not judged, only stripped
//   of a valid tag: the check runs for messages the lists settled clean.
//   Domains are compared without regard to case, exactly (not their
//   subdomains).
// PHASES
//   mail (the tagged sender), rcpt (the recipient's tag). No Redis, no
//   DNS: a tag is checked from the key ring in memory.
// SYMBOLS
//   RAMPART_BATV_VALID (-1.0), RAMPART_BATV_BAD (3.0; 550 at RCPT TO in an
//   enforced domain)
// SETTINGS
//   batv.*, reply.batv
#include "checks/check.hpp"
#include "config/config.hpp"
#include "engine/runtime.hpp"
#include "util/text.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace rampart {
namespace {

constexpr double kValidScore = -1.0;
constexpr double kBadScore = 3.0;

bool listed(const std::vector<std::string>& domains, std::string_view domain)
{
    return std::any_of(domains.begin(), domains.end(), [&](const std::string& d) { return iequals(d, domain); });
}

std::int64_t today(const Transaction& tx)
{
    return batv::day_of(std::chrono::duration_cast<std::chrono::seconds>(tx.arrival.time_since_epoch()).count());
}

class BatvCheck final : public Check {
  public:
    std::string_view name() const override { return "batv"; }

    bool runs_in(Phase p, const Config& cfg) const override
    {
        return cfg.batv_enabled && (p == Phase::mail || p == Phase::rcpt);
    }
    bool answers_in(Phase p, const Runtime& rt) const override
    {
        return p == Phase::rcpt && runs_in(p, *rt.config) && !rt.config->batv_enforce.empty();
    }

    // An allow-listed client's mail is tagged and stripped like any other,
    // and its bounces are not judged.
    bool runs_when_clean() const override { return true; }

    void decide(Phase p, Context& ctx, std::span<const Reply>) const override
    {
        if (!ctx.rt.batv_keys)
            return;
        if (p == Phase::mail)
            tag_sender(ctx);
        else
            check_recipient(ctx);
    }

  private:
    // Mail from our own users and networks: tagged when it leaves, not judged when it bounces.
    static bool ours(const Context& ctx)
    {
        if (!ctx.tx.auth_user.empty())
            return true;
        const auto& nets = ctx.rt.batv_sign_networks;
        return ctx.client.ip &&
               std::any_of(nets.begin(), nets.end(), [&](const Cidr& c) { return c.contains(*ctx.client.ip); });
    }

    // Bounces that are not judged: our own, and those of a client or sender the lists allow.
    static bool trusted(const Context& ctx)
    {
        return ours(ctx) || ctx.client.allowed || ctx.tx.forced == Category::clean;
    }

    static void tag_sender(Context& ctx)
    {
        const std::string& sender = ctx.tx.sender;
        if (sender.empty() || !listed(ctx.cfg.batv_domains, domain_of(sender)) || !ours(ctx))
            return;
        if (auto tagged =
                batv::sign(*ctx.rt.batv_keys, sender, today(ctx.tx), static_cast<int>(ctx.cfg.batv_valid_days)))
            ctx.tx.new_sender = std::move(*tagged);
    }

    static void check_recipient(Context& ctx)
    {
        Transaction& tx = ctx.tx;
        const bool bounce = tx.sender.empty();
        if (!bounce && !batv::looks_tagged(tx.current_rcpt))
            return; // ordinary mail to an ordinary address
        const auto v =
            batv::verify(*ctx.rt.batv_keys, tx.current_rcpt, today(tx), static_cast<int>(ctx.cfg.batv_valid_days));
        const auto domain = domain_of(v.address);
        if (!listed(ctx.cfg.batv_domains, domain))
            return;
        if (v.status == batv::Status::valid) {
            if (bounce && !trusted(ctx))
                tx.card.add("RAMPART_BATV_VALID", kValidScore, printable(v.address));
            tx.recipient_changes.push_back({tx.current_rcpt, v.address});
            tx.current_rcpt = v.address;
            return;
        }
        if (!bounce || trusted(ctx))
            return;
        const auto detail = fmt::format("{}: {}", printable(tx.current_rcpt), batv::to_string(v.status));
        tx.card.add("RAMPART_BATV_BAD", kBadScore, detail);
        const auto& enforce = ctx.cfg.batv_enforce;
        if ((listed(enforce, domain) || listed(enforce, "*")) && !tx.answer.settles())
            tx.answer = Answer::reject(ctx.cfg.reply_batv); // this recipient only (Session::rcpt)
    }
};

} // namespace

const Check& batv_check()
{
    static const BatvCheck check;
    return check;
}

} // namespace rampart
