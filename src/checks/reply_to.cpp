// NAME
//   reply_to.cpp - answers that go to a free mailbox rather than the sender
// SUMMARY
//   Advance-fee and impersonation mail comes from an address the sender
//   does not own (or a hijacked one) and asks for answers at a free
//   mailbox the sender does own. A Reply-To at a freemail domain whose
//   registered domain is not the From's is such a detour; a person on
//   gmail.com replying to gmail.com is not.
//
//   Freemail domains are content.freemail_domains, or when that is empty a
//   built-in list of common providers. An entry matches the domain itself
//   and its subdomains; a built-in entry "name.*" matches that provider
//   under any top-level domain (yahoo.co.uk, gmx.de).
// PHASES
//   eom. No Redis.
// SYMBOLS
//   RAMPART_REPLYTO_FREEMAIL (2.0)  Reply-To at a freemail domain other than the From's
// SETTINGS
//   content.enabled, content.freemail_domains
// LIMITS
//   Those of parse_address_field (address_field.hpp).
#include "checks/address_field.hpp"
#include "checks/check.hpp"
#include "config/config.hpp"
#include "mime/urls.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <array>

namespace rampart {
namespace {

constexpr std::size_t kDetailBytes = 80;

constexpr std::array<std::string_view, 40> kBuiltinFreemail = {
    "gmail.com",  "googlemail.com", "yahoo.*",   "ymail.com",   "rocketmail.com", "hotmail.*", "outlook.*",
    "live.*",     "msn.com",        "aol.com",   "aim.com",     "mail.ru",        "inbox.ru",  "list.ru",
    "bk.ru",      "yandex.*",       "ya.ru",     "rambler.ru",  "gmx.*",          "web.de",    "t-online.de",
    "icloud.com", "me.com",         "mac.com",   "proton.me",   "protonmail.com", "pm.me",     "zoho.com",
    "qq.com",     "163.com",        "126.com",   "sina.com",    "naver.com",      "mail.com",  "tutanota.com",
    "tuta.io",    "fastmail.com",   "libero.it", "laposte.net", "rediffmail.com"};

// True when `domain` is `entry` or one of its subdomains.
bool under(std::string_view domain, std::string_view entry)
{
    return domain == entry ||
           (domain.size() > entry.size() && domain.ends_with(entry) && domain[domain.size() - entry.size() - 1] == '.');
}

bool is_freemail(std::string_view domain, const Config& cfg)
{
    if (!cfg.content_freemail_domains.empty())
        return std::any_of(cfg.content_freemail_domains.begin(), cfg.content_freemail_domains.end(),
                           [&](const std::string& e) { return under(domain, lowercase(e)); });
    const std::string_view reg = mime::registered_domain(domain);
    return std::any_of(kBuiltinFreemail.begin(), kBuiltinFreemail.end(), [&](std::string_view e) {
        if (e.ends_with(".*")) // the provider's name as the registered domain's first label
            return reg.starts_with(e.substr(0, e.size() - 1));
        return under(domain, e);
    });
}

class ReplyToCheck final : public ContentHeuristic {
  public:
    std::string_view name() const override { return "reply_to"; }

    void decide(Phase, Context& ctx, std::span<const Reply>) const override
    {
        Transaction& tx = ctx.tx;
        const std::string* reply_to = find_header(tx, "Reply-To");
        if (reply_to == nullptr)
            return;
        std::string from_domain;
        if (const std::string* from = find_header(tx, "From"))
            for (const Mailbox& m : parse_address_field(*from).mailboxes)
                if (!m.domain.empty()) {
                    from_domain = registered_domain_of(m.domain);
                    break;
                }
        for (const Mailbox& m : parse_address_field(*reply_to).mailboxes) {
            if (m.domain.empty() || !is_freemail(m.domain, ctx.cfg) || registered_domain_of(m.domain) == from_domain)
                continue;
            tx.card.add("RAMPART_REPLYTO_FREEMAIL", 2.0,
                        printable(m.domain + " (From " + (from_domain.empty() ? "unreadable" : from_domain) + ")",
                                  kDetailBytes));
            return;
        }
    }
};

} // namespace

const Check& reply_to_check()
{
    static const ReplyToCheck check;
    return check;
}

} // namespace rampart
