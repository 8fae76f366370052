// NAME
//   links.cpp - links that lie about where they go
// SUMMARY
//   A phishing link shows one address and goes to another:
//   <a href="http://evil.example/">https://www.bank.example/login</a>.
//   An anchor whose shown text is itself a URL or a host name ("www.x",
//   "http://x/...", "bank.example") is compared with its href by registered
//   domain, so that a newsletter's "www.shop.example" leading to
//   "click.shop.example" is fine. Text that names no host ("Click here")
//   says nothing about where the link goes and is not compared.
//
//   A URL whose host is an IP address avoids the domain reputation that
//   names carry; one written in a hiding form (a decimal or octal IP,
//   "user@" before the host, %-escaped host bytes: see urls.hpp) is made
//   so that a filter does not recognise it while a browser still goes
//   there. Both are taken from every URL of the message (mime::Content::urls,
//   from its text and HTML) and from every anchor's href.
// PHASES
//   eom. No Redis.
// SYMBOLS
//   RAMPART_URL_TEXT_MISMATCH (2.0)  an anchor showing a host of another registered domain than its href's
//   RAMPART_URL_IP_HOST (1.5)        a URL whose host is an IP address
//   RAMPART_URL_OBFUSCATED (2.0)     a URL written in a form that hides its host
// SETTINGS
//   content.enabled
// LIMITS
//   The parser's: at most mime::kMaxUrls URLs and mime::kMaxLinks anchors,
//   each href and text at most mime::HtmlToText::kMaxLinkBytes.
#include "checks/address_field.hpp"
#include "checks/check.hpp"
#include "config/config.hpp"
#include "mime/content.hpp"
#include "mime/urls.hpp"
#include "util/text.hpp"

#include <optional>

namespace rampart {
namespace {

constexpr std::size_t kDetailBytes = 80;

// The host an anchor's text shows, "" when it shows none.
std::string shown_host(std::string_view text)
{
    text = trim(text);
    if (const auto url = mime::parse_url(text))
        return url->host;
    // A bare host, perhaps with a path: "bank.example/login".
    std::string_view host = text.substr(0, text.find('/'));
    while (!host.empty() && host.back() == '.')
        host.remove_suffix(1);
    if (!looks_like_domain(host))
        return {};
    bool obfuscated = false, ip = false;
    return mime::normalize_host(host, obfuscated, ip);
}

void judge_url(const mime::Url& u, Scorecard& card)
{
    if (u.ip)
        card.add("RAMPART_URL_IP_HOST", 1.5, printable(u.host, kDetailBytes));
    if (u.obfuscated)
        card.add("RAMPART_URL_OBFUSCATED", 2.0, printable(u.text, kDetailBytes));
}

class LinksCheck final : public ContentHeuristic {
  public:
    std::string_view name() const override { return "links"; }

    void decide(Phase, Context& ctx, std::span<const Reply>) const override
    {
        const mime::Content* c = content_of(ctx.tx);
        if (c == nullptr)
            return;
        Scorecard& card = ctx.tx.card;
        for (const mime::Url& u : c->urls)
            judge_url(u, card);
        for (const mime::HtmlLink& link : c->links) {
            const std::optional<mime::Url> href = mime::parse_url(trim(link.href));
            if (!href)
                continue;
            judge_url(*href, card);
            if (card.has("RAMPART_URL_TEXT_MISMATCH"))
                continue;
            const std::string shown = shown_host(link.text);
            if (!shown.empty() && mime::registered_domain(shown) != mime::registered_domain(href->host))
                card.add("RAMPART_URL_TEXT_MISMATCH", 2.0, printable(shown + " -> " + href->host, kDetailBytes));
        }
    }
};

} // namespace

const Check& links_check()
{
    static const LinksCheck check;
    return check;
}

} // namespace rampart
