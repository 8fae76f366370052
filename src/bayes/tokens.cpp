#include "bayes/tokens.hpp"

#include "checks/address_field.hpp"
#include "mime/content.hpp"
#include "mime/encoded_words.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <array>
#include <xxhash.h>

namespace rampart::bayes {
namespace {

bool word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80 || c == '$' ||
           c == '\'' || c == '-';
}

// The largest prefix of `s` of at most `n` bytes that does not cut a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view s, std::size_t n)
{
    if (s.size() <= n)
        return s;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80)
        --n;
    return s.substr(0, n);
}

// Splits `text` into words (lower case), calling `each(word)` for those worth counting.
template <typename F> void words(std::string_view text, F&& each)
{
    std::string w;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && !word_byte(static_cast<unsigned char>(text[i])))
            ++i;
        const std::size_t start = i;
        while (i < text.size() && word_byte(static_cast<unsigned char>(text[i])))
            ++i;
        std::string_view raw = text.substr(start, i - start);
        while (!raw.empty() && (raw.front() == '-' || raw.front() == '\''))
            raw.remove_prefix(1);
        while (!raw.empty() && (raw.back() == '-' || raw.back() == '\''))
            raw.remove_suffix(1);
        if (raw.size() < kMinWordBytes)
            continue;
        w.assign(raw);
        for (char& c : w)
            c = ascii_lower(c);
        each(std::string_view(w));
    }
}

// The token of one text word: long words and numbers are folded, so that
// a random string or an order number does not each make a token of its own.
std::string_view word_token(std::string_view w, std::string& buf)
{
    if (std::all_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        buf = "n:" + std::to_string(std::min<std::size_t>(w.size(), 12));
        return buf;
    }
    if (w.size() > kMaxWordBytes) {
        buf = "sk:";
        buf += utf8_prefix(w, kSkipPrefixBytes);
        return buf;
    }
    return w;
}

// The last two labels of a host name: "www.shop.example.com" -> "example.com".
std::string_view last_two_labels(std::string_view host)
{
    const auto last = host.rfind('.');
    if (last == std::string_view::npos || last == 0)
        return host;
    const auto second = host.rfind('.', last - 1);
    return second == std::string_view::npos ? host : host.substr(second + 1);
}

void prefixed_words(std::string_view prefix, std::string_view text, const std::function<void(std::string_view)>& each)
{
    std::string t;
    words(text, [&](std::string_view w) {
        t.assign(prefix);
        t += utf8_prefix(w, kMaxWordBytes);
        each(t);
    });
}

std::string decoded(std::string_view raw) { return decode_header_value(raw).text; }

// Header fields whose words are tokens of their own ("hv:NAME:word"): how a
// message declares its format, priority and list, which bulk tools and
// clients each write their own way.
constexpr std::array<std::string_view, 8> kValueFields = {
    "Content-Type", "Content-Transfer-Encoding", "Precedence", "Importance",
    "X-Priority",   "X-MSMail-Priority",         "List-Id",    "Organization"};
constexpr std::size_t kMaxValueBytes = 256;

void header_tokens(const HeaderFields& headers, const std::function<void(std::string_view)>& each)
{
    std::string t;
    const auto emit = [&](std::string_view prefix, std::string_view value) {
        t.assign(prefix);
        t += value;
        each(t);
    };
    bool subject = false, from = false, reply_to = false, mid = false;
    for (const auto& [name, value] : headers) {
        if (iequals(name, "Received"))
            continue;
        emit("h:", lowercase(name.substr(0, 64)));
        if (!subject && iequals(name, "Subject")) {
            subject = true;
            prefixed_words("s:", decoded(value), each);
        } else if (!from && iequals(name, "From")) {
            from = true;
            const AddressField f = parse_address_field(value);
            if (!f.mailboxes.empty()) {
                if (!f.mailboxes[0].domain.empty())
                    emit("f:", f.mailboxes[0].domain);
                prefixed_words("fn:", decoded(f.mailboxes[0].display_name), each);
            }
        } else if (!reply_to && iequals(name, "Reply-To")) {
            reply_to = true;
            const AddressField f = parse_address_field(value);
            if (!f.mailboxes.empty() && !f.mailboxes[0].domain.empty())
                emit("r:", f.mailboxes[0].domain);
        } else if (!mid && iequals(name, "Message-ID")) {
            mid = true;
            const std::string_view v = trim(value);
            if (const auto at = v.rfind('@'); at != std::string_view::npos) {
                std::string_view right = v.substr(at + 1);
                if (const auto gt = right.find('>'); gt != std::string_view::npos)
                    right = right.substr(0, gt);
                emit("mid:", lowercase(right.substr(0, 128)));
            }
        } else if (iequals(name, "X-Mailer") || iequals(name, "User-Agent")) {
            prefixed_words("m:", value, each);
        } else if (const auto* field = std::find_if(kValueFields.begin(), kValueFields.end(),
                                                    [&](std::string_view f) { return iequals(name, f); });
                   field != kValueFields.end()) {
            std::string prefix = "hv:";
            prefix += lowercase(*field);
            prefix += ':';
            prefixed_words(prefix, value.substr(0, kMaxValueBytes), each);
        }
    }
}

// The number's bucket on a scale of powers of four: 0, 1-3, 4-15, 16-63, ...
std::size_t quartic_bucket(std::size_t n)
{
    std::size_t b = 0;
    for (; n != 0; n /= 4)
        ++b;
    return b;
}

// How the message is built, in coarse buckets: how much plain and HTML
// text, hidden and tiny text, images, URLs and parts it has.
void shape_tokens(const mime::Content& c, const std::function<void(std::string_view)>& each)
{
    const std::pair<std::string_view, std::size_t> shapes[] = {
        {"x:plain", quartic_bucket(c.plain_chars)},
        {"x:html", quartic_bucket(c.html_visible_chars)},
        {"x:hidden", quartic_bucket(c.html_hidden_chars)},
        {"x:tiny", quartic_bucket(c.html_tiny_chars)},
        {"x:img", quartic_bucket(c.html_images)},
        {"x:urls", quartic_bucket(c.urls.size())},
        {"x:parts", std::min<std::size_t>(c.parts.size(), 16)},
    };
    std::string t;
    for (const auto& [name, bucket] : shapes) {
        t.assign(name);
        t += ':';
        t += std::to_string(bucket);
        each(t);
    }
}

void content_tokens(const mime::Content& c, bool bigrams, const std::function<void(std::string_view)>& each)
{
    std::string t, buf, prev;
    words(c.text, [&](std::string_view w) {
        const std::string_view tok = word_token(w, buf);
        each(tok);
        if (bigrams) {
            if (!prev.empty()) {
                t.assign("b:");
                t += prev;
                t += ' ';
                t += tok;
                each(t);
            }
            prev.assign(tok);
        }
    });
    for (const auto& u : c.urls) {
        if (u.host.empty())
            continue;
        t.assign("u:");
        t += u.host;
        each(t);
        if (!u.ip) {
            t.assign("ud:");
            t += last_two_labels(u.host);
            each(t);
        }
    }
    for (const auto& p : c.parts) {
        t.assign("p:");
        t += p.content_type;
        each(t);
        if (!p.charset.empty()) {
            t.assign("cs:");
            t += p.charset;
            each(t);
        }
        if (!p.is_attachment())
            continue;
        t.assign("a:");
        t += p.detected_type.empty() ? "unknown" : p.detected_type;
        each(t);
        if (const auto dot = p.filename.rfind('.'); dot != std::string::npos && p.filename.size() - dot <= 8) {
            t.assign("ax:");
            t += lowercase(p.filename.substr(dot + 1));
            each(t);
        }
    }
}

} // namespace

Token hash_token(std::string_view s) { return XXH3_64bits(s.data(), s.size()); }

void for_each_token(const HeaderFields& headers, const mime::Content* content, bool bigrams,
                    const std::function<void(std::string_view)>& each)
{
    header_tokens(headers, each);
    if (content) {
        shape_tokens(*content, each);
        content_tokens(*content, bigrams, each);
    }
}

std::vector<Token> message_tokens(const HeaderFields& headers, const mime::Content* content, const TokenOptions& opt)
{
    // (hash, order found): sorted by hash to drop repeats, then back in order.
    std::vector<std::pair<Token, std::uint32_t>> found;
    for_each_token(headers, content, opt.bigrams, [&](std::string_view s) {
        found.emplace_back(hash_token(s), static_cast<std::uint32_t>(found.size()));
    });
    std::sort(found.begin(), found.end());
    found.erase(
        std::unique(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first == b.first; }),
        found.end());
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
    if (found.size() > opt.max_tokens)
        found.resize(opt.max_tokens);
    std::vector<Token> out;
    out.reserve(found.size());
    for (const auto& f : found)
        out.push_back(f.first);
    return out;
}

} // namespace rampart::bayes
