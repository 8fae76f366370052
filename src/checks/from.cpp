// NAME
//   from.cpp - the From field: present, once, readable, and not naming
//   someone else in its display name
// SUMMARY
//   Every message has exactly one From field (RFC 5322 3.6). Most clients
//   show its display name and hide the address, so phishing puts a trusted
//   address or domain in the name: "support@bank.example"
//   <x@evil.example>. The display name is read after RFC 2047 decoding, as
//   a client shows it; an address in it counts when its registered domain
//   differs from the From address's, a bare domain name likewise. Brands
//   name themselves by their domain ("Example.com" <news@example.com>), and
//   some by another one they own, so the bare domain weighs less.
//
//   This file also holds the address-field parser the header checks share
//   (address_field.hpp).
// PHASES
//   eom. No Redis.
// SYMBOLS
//   RAMPART_FROM_MISSING (1.5)      no From field
//   RAMPART_FROM_MULTIPLE (2.0)     more than one From field
//   RAMPART_FROM_INVALID (1.5)      the field does not parse as a mailbox list with an address
//   RAMPART_FROM_NAME_SPOOF (3.0)   the display name holds an address of another registered domain
//   RAMPART_FROM_NAME_DOMAIN (1.0)  the display name holds a domain name of another registered domain
// SETTINGS
//   content.enabled
// LIMITS
//   Those of parse_address_field; at most kMaxNameWords words of a display
//   name and kMaxNameAts of its "@" are looked at.
#include "checks/address_field.hpp"
#include "checks/check.hpp"
#include "config/config.hpp"
#include "mime/encoded_words.hpp"
#include "mime/urls.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace rampart {
namespace {

constexpr std::size_t kMaxNameWords = 64;
constexpr std::size_t kMaxNameAts = 16;
constexpr std::size_t kMaxLocalBytes = 64;
constexpr std::size_t kMaxDomainBytes = 253;
constexpr std::size_t kDetailBytes = 80;

// ---- lexing: RFC 5322 3.2 tokens; '.' is read as part of atoms ----

enum class Tok { atom, quoted, literal, comment, special };

struct Token {
    Tok kind;
    std::string text;
    bool space_before = false;
    char special = 0;
};

bool ascii_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool ascii_alnum(char c) { return ascii_alpha(c) || (c >= '0' && c <= '9'); }

bool is_atext(unsigned char c)
{
    return ascii_alnum(static_cast<char>(c)) || c >= 0x80 ||
           (c != 0 && std::strchr("!#$%&'*+-/=?^_`{|}~.", c) != nullptr);
}

bool is_wsp(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

void fault(AddressField& f, const char* what)
{
    if (f.valid) {
        f.valid = false;
        f.error = what;
    }
}

// Reads a quoted string or domain literal from v[i] (the opening
// character) to its closing `close`, quoted pairs unescaped; i ends past it.
std::string delimited(std::string_view v, std::size_t& i, char close, AddressField& f)
{
    std::string out;
    for (++i; i < v.size() && v[i] != close; ++i) {
        if (v[i] == '\\' && i + 1 < v.size())
            ++i;
        out.push_back(v[i]);
    }
    if (i < v.size())
        ++i;
    else
        fault(f, close == '"' ? "unterminated quoted string" : "unterminated domain literal");
    return out;
}

// Reads a comment from v[i] == '(' with its nested comments; i ends past it.
std::string comment(std::string_view v, std::size_t& i, AddressField& f)
{
    std::string out;
    std::size_t depth = 0;
    for (; i < v.size(); ++i) {
        const char c = v[i];
        if (c == '\\' && i + 1 < v.size()) {
            out.push_back(v[++i]);
            continue;
        }
        if (c == '(') {
            if (++depth > kMaxCommentDepth)
                fault(f, "comments nested too deep");
            if (depth == 1)
                continue;
        } else if (c == ')' && --depth == 0) {
            ++i;
            return std::string(trim(out));
        }
        out.push_back(c);
    }
    fault(f, "unterminated comment");
    return std::string(trim(out));
}

std::vector<Token> lex(std::string_view v, AddressField& f)
{
    std::vector<Token> out;
    bool space = false;
    std::size_t i = 0;
    while (i < v.size()) {
        const char c = v[i];
        if (is_wsp(c)) {
            space = true;
            ++i;
            continue;
        }
        Token t{Tok::special, {}, space};
        space = false;
        if (c == '"') {
            t.kind = Tok::quoted;
            t.text = delimited(v, i, '"', f);
        } else if (c == '[') {
            t.kind = Tok::literal;
            t.text = delimited(v, i, ']', f);
        } else if (c == '(') {
            t.kind = Tok::comment;
            t.text = comment(v, i, f);
            space = true;
        } else if (is_atext(static_cast<unsigned char>(c))) {
            t.kind = Tok::atom;
            while (i < v.size() && is_atext(static_cast<unsigned char>(v[i])))
                t.text.push_back(v[i++]);
        } else {
            if (std::strchr("<>@,;:", c) == nullptr || c == 0)
                fault(f, "stray character");
            t.special = c;
            t.text.assign(1, c);
            ++i;
        }
        out.push_back(std::move(t));
    }
    return out;
}

// ---- parsing: RFC 5322 3.4 over the tokens ----

bool is(const Token& t, char special) { return t.kind == Tok::special && t.special == special; }

bool valid_dot_atom(std::string_view s)
{
    return !s.empty() && s.front() != '.' && s.back() != '.' && s.find("..") == std::string_view::npos;
}

bool valid_domain(std::string_view d)
{
    if (!valid_dot_atom(d) || d.size() > kMaxDomainBytes)
        return false;
    return std::all_of(d.begin(), d.end(), [](char c) {
        return ascii_alnum(c) || static_cast<unsigned char>(c) >= 0x80 || c == '-' || c == '.' || c == '_';
    });
}

using Tokens = std::vector<Token>;

// An addr-spec from the tokens [from, to), comments skipped.
void addr_spec(const Tokens& t, std::size_t from, std::size_t to, Mailbox& m, AddressField& f)
{
    std::size_t at = to;
    for (std::size_t i = from; i < to; ++i)
        if (is(t[i], '@'))
            at = i; // the last: a local part cannot hold an unquoted '@'
    if (at == to) {
        fault(f, "address without @");
        return;
    }
    bool local_ok = true, quoted = false;
    for (std::size_t i = from; i < at; ++i) {
        if (t[i].kind == Tok::comment)
            continue;
        local_ok = local_ok && (t[i].kind == Tok::atom || t[i].kind == Tok::quoted);
        quoted = quoted || t[i].kind == Tok::quoted;
        m.local += t[i].text;
    }
    std::string domain;
    bool literal = false;
    for (std::size_t i = at + 1; i < to; ++i) {
        if (t[i].kind == Tok::comment)
            continue;
        local_ok = local_ok && (t[i].kind == Tok::atom || (t[i].kind == Tok::literal && domain.empty()));
        literal = t[i].kind == Tok::literal;
        domain += t[i].text;
    }
    if (!local_ok || m.local.empty() || m.local.size() > kMaxLocalBytes || (!quoted && !valid_dot_atom(m.local)))
        fault(f, "bad local part");
    if (!literal && !valid_domain(domain)) {
        fault(f, "bad domain");
        return;
    }
    m.domain = lowercase(domain);
}

// The display name from the tokens [from, to): words joined as written.
std::string phrase(const Tokens& t, std::size_t from, std::size_t to, AddressField& f)
{
    std::string out;
    for (std::size_t i = from; i < to; ++i) {
        if (t[i].kind == Tok::comment)
            continue;
        if (t[i].kind == Tok::special || t[i].kind == Tok::literal)
            fault(f, "special character in display name");
        if (t[i].space_before && !out.empty())
            out.push_back(' ');
        out += t[i].text;
    }
    return out;
}

void keep(AddressField& f, Mailbox m)
{
    if (f.mailboxes.size() < kMaxMailboxes)
        f.mailboxes.push_back(std::move(m));
}

// A name-addr whose '<' is t[open]; returns the index of the ',' or ';'
// (or end) that follows it.
std::size_t name_addr(const Tokens& t, std::size_t from, std::size_t open, AddressField& f)
{
    Mailbox m;
    m.display_name = phrase(t, from, open, f);
    std::size_t i = open + 1;
    if (i < t.size() && is(t[i], '@')) { // obsolete route: "@a,@b:"
        while (i < t.size() && !is(t[i], ':') && !is(t[i], '>'))
            ++i;
        if (i < t.size() && is(t[i], ':'))
            ++i;
    }
    std::size_t close = i;
    while (close < t.size() && !is(t[close], '>') && !is(t[close], '<'))
        ++close;
    if (close == t.size() || !is(t[close], '>'))
        fault(f, "unclosed <");
    if (close == i)
        fault(f, "empty <>");
    else
        addr_spec(t, i, close, m, f);
    keep(f, std::move(m));
    std::size_t end = close < t.size() ? close + 1 : close;
    for (; end < t.size() && !is(t[end], ',') && !is(t[end], ';'); ++end)
        if (t[end].kind != Tok::comment)
            fault(f, "text after >");
    return end;
}

bool has_words(const Tokens& t, std::size_t from, std::size_t to)
{
    return std::any_of(t.begin() + static_cast<std::ptrdiff_t>(from), t.begin() + static_cast<std::ptrdiff_t>(to),
                       [](const Token& k) { return k.kind != Tok::comment; });
}

void bare_addr_spec(const Tokens& t, std::size_t from, std::size_t to, AddressField& f)
{
    Mailbox m;
    addr_spec(t, from, to, m, f);
    for (std::size_t i = from; i < to; ++i)
        if (t[i].kind == Tok::comment && !t[i].text.empty())
            m.display_name = t[i].text;
    keep(f, std::move(m));
}

} // namespace

AddressField parse_address_field(std::string_view value)
{
    AddressField f;
    if (value.size() > kMaxAddressFieldBytes) {
        fault(f, "field too long");
        value = value.substr(0, kMaxAddressFieldBytes);
    }
    const Tokens t = lex(value, f);
    bool in_group = false, any = false;
    std::size_t i = 0;
    while (i < t.size()) {
        std::size_t j = i;
        while (j < t.size() && !is(t[j], '<') && !is(t[j], ':') && !is(t[j], ',') && !is(t[j], ';'))
            ++j;
        if (j < t.size() && is(t[j], ':')) {
            if (in_group || !has_words(t, i, j))
                fault(f, in_group ? "group inside a group" : "group without a name");
            phrase(t, i, j, f);
            in_group = any = true;
            i = j + 1;
            continue;
        }
        if (j < t.size() && is(t[j], '<'))
            j = name_addr(t, i, j, f);
        else if (has_words(t, i, j))
            bare_addr_spec(t, i, j, f);
        any = any || has_words(t, i, j);
        if (j < t.size() && is(t[j], ';')) {
            if (!in_group)
                fault(f, "';' outside a group");
            in_group = false;
        }
        i = j + 1;
    }
    if (in_group)
        fault(f, "unterminated group");
    if (!any)
        fault(f, "no address");
    return f;
}

bool looks_like_domain(std::string_view word)
{
    // Top-level domains common enough in names that a reader takes the word for a domain.
    static constexpr std::array<std::string_view, 64> kTlds = {
        "com",  "net",    "org",  "info", "biz", "io",  "co",  "us",   "uk",    "de",   "fr",  "ru",   "cn",
        "jp",   "br",     "it",   "nl",   "eu",  "es",  "pl",  "ca",   "au",    "in",   "ch",  "se",   "no",
        "be",   "at",     "dk",   "fi",   "cz",  "pt",  "gr",  "ie",   "nz",    "mx",   "ar",  "kr",   "tw",
        "hk",   "sg",     "za",   "tr",   "ua",  "me",  "tv",  "cc",   "ws",    "top",  "xyz", "app",  "dev",
        "shop", "online", "site", "club", "gov", "edu", "mil", "bank", "store", "tech", "ai",  "email"};
    if (word.empty() || word.size() > kMaxDomainBytes || word.front() == '.' || word.back() == '.')
        return false;
    const auto dot = word.rfind('.');
    if (dot == std::string_view::npos)
        return false;
    std::size_t label = 0;
    for (const char c : word) {
        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
        } else if (ascii_alnum(c) || c == '-') {
            ++label;
        } else {
            return false;
        }
    }
    const std::string tld = lowercase(word.substr(dot + 1));
    return std::find(kTlds.begin(), kTlds.end(), tld) != kTlds.end();
}

std::string registered_domain_of(std::string_view domain)
{
    bool obfuscated = false, ip = false;
    const std::string host = mime::normalize_host(domain, obfuscated, ip);
    return std::string(mime::registered_domain(host.empty() ? lowercase(domain) : host));
}

namespace {

// Fullwidth and small "@" look like one in a client's display.
std::string unify_at(std::string_view name)
{
    std::string out(name);
    for (const std::string_view lookalike : {"\xEF\xBC\xA0", "\xEF\xB9\xAB"})
        for (auto p = out.find(lookalike); p != std::string::npos; p = out.find(lookalike, p + 1))
            out.replace(p, lookalike.size(), "@");
    return out;
}

bool domain_char(char c) { return ascii_alnum(c) || c == '-' || c == '.'; }

// An address in `name` whose registered domain is not `own`; "" when none.
std::string foreign_address(std::string_view name, std::string_view own)
{
    std::size_t ats = 0;
    for (auto p = name.find('@'); p != std::string_view::npos && ats < kMaxNameAts; p = name.find('@', p + 1), ++ats) {
        std::size_t left = p;
        while (left > 0 && p - left < kMaxLocalBytes && is_atext(static_cast<unsigned char>(name[left - 1])) &&
               name[left - 1] != '@')
            --left;
        std::size_t right = p + 1;
        while (right < name.size() && right - p <= kMaxDomainBytes && domain_char(name[right]))
            ++right;
        std::string_view domain = name.substr(p + 1, right - p - 1);
        while (!domain.empty() && domain.back() == '.')
            domain.remove_suffix(1);
        const auto dot = domain.rfind('.');
        if (left == p || dot == std::string_view::npos || domain.size() - dot < 3 || !ascii_alpha(domain.back()))
            continue;
        if (registered_domain_of(domain) != own)
            return std::string(name.substr(left, right - left));
    }
    return {};
}

// A bare domain name in `name` whose registered domain is not `own`; "" when none.
std::string foreign_domain(std::string_view name, std::string_view own)
{
    constexpr std::string_view kBreaks = " \t\"'()<>[]{},;:!?|/*";
    std::size_t words = 0, i = 0;
    while (i < name.size() && words < kMaxNameWords) {
        i = name.find_first_not_of(kBreaks, i);
        if (i == std::string_view::npos)
            break;
        const std::size_t end = std::min(name.find_first_of(kBreaks, i), name.size());
        std::string_view word = name.substr(i, end - i);
        i = end;
        ++words;
        while (!word.empty() && word.back() == '.')
            word.remove_suffix(1);
        if (word.find('@') == std::string_view::npos && looks_like_domain(word) && registered_domain_of(word) != own)
            return std::string(word);
    }
    return {};
}

class FromCheck final : public ContentHeuristic {
  public:
    std::string_view name() const override { return "from"; }

    void decide(Phase, Context& ctx, std::span<const Reply>) const override
    {
        Transaction& tx = ctx.tx;
        const std::string* value = find_header(tx, "From");
        if (value == nullptr) {
            if (kept_all_headers(tx))
                tx.card.add("RAMPART_FROM_MISSING", 1.5, "no From field");
            return;
        }
        if (const std::size_t n = count_headers(tx, "From"); n > 1)
            tx.card.add("RAMPART_FROM_MULTIPLE", 2.0, std::to_string(n) + " From fields");
        const AddressField f = parse_address_field(*value);
        const bool addressed =
            std::any_of(f.mailboxes.begin(), f.mailboxes.end(), [](const Mailbox& m) { return !m.domain.empty(); });
        if (!f.valid || !addressed)
            tx.card.add("RAMPART_FROM_INVALID", 1.5,
                        f.error.empty() ? "no address" : f.error + ": " + printable(*value, kDetailBytes / 2));
        for (const Mailbox& m : f.mailboxes)
            if (!m.domain.empty() && !m.display_name.empty())
                judge_name(tx, m);
    }

  private:
    static void judge_name(Transaction& tx, const Mailbox& m)
    {
        const std::string name = unify_at(decode_header_value(m.display_name).text);
        const std::string own = registered_domain_of(m.domain);
        if (const std::string a = foreign_address(name, own); !a.empty())
            tx.card.add("RAMPART_FROM_NAME_SPOOF", 3.0, printable(a + " <..@" + m.domain + ">", kDetailBytes));
        if (const std::string d = foreign_domain(name, own); !d.empty())
            tx.card.add("RAMPART_FROM_NAME_DOMAIN", 1.0, printable(d + " <..@" + m.domain + ">", kDetailBytes));
    }
};

} // namespace

const Check& from_check()
{
    static const FromCheck check;
    return check;
}

} // namespace rampart
