// NAME
//   message_id.cpp - the Message-ID field: present, once, "<left@right>"
// SUMMARY
//   Every mail client and submission server writes one Message-ID of the
//   form "<id-left@id-right>" (RFC 5322 3.6.4); bulk tools that build
//   messages by hand leave it out, repeat it, or write it wrong (no angle
//   brackets, no "@", spaces). The check reads the first field; comments
//   around the brackets are allowed, as the obsolete syntax does. Within the
//   brackets the left side may hold any printable ASCII but white space and
//   brackets (generators use many characters dot-atom does not allow), the
//   right side must be a dot-atom or a [literal].
// PHASES
//   eom. No Redis.
// SYMBOLS
//   RAMPART_MSGID_MISSING (1.0)   no Message-ID field
//   RAMPART_MSGID_INVALID (1.0)   a value that is not "<left@right>"
//   RAMPART_MSGID_MULTIPLE (1.0)  more than one Message-ID field
// SETTINGS
//   content.enabled
// LIMITS
//   A value longer than kMaxMessageIdBytes is not valid.
#include "checks/address_field.hpp"
#include "checks/check.hpp"
#include "config/config.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <cstring>

namespace rampart {
namespace {

constexpr std::size_t kMaxMessageIdBytes = 998; // RFC 5322's line length
constexpr std::size_t kDetailBytes = 80;

// Drops leading white space and comments ("(...)", not nested).
std::string_view skip_cfws(std::string_view s)
{
    for (;;) {
        s = trim(s);
        if (s.empty() || s.front() != '(')
            return s;
        const auto close = s.find(')');
        if (close == std::string_view::npos)
            return s;
        s.remove_prefix(close + 1);
    }
}

std::string_view skip_trailing_cfws(std::string_view s)
{
    for (;;) {
        s = trim(s);
        if (s.empty() || s.back() != ')')
            return s;
        const auto open = s.rfind('(');
        if (open == std::string_view::npos)
            return s;
        s = s.substr(0, open);
    }
}

bool printable_id_char(char c) { return c > ' ' && c < 0x7F && c != '<' && c != '>'; }

bool dot_atom_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::strchr("!#$%&'*+-/=?^_`{|}~.", c) != nullptr;
}

bool valid_message_id(std::string_view v)
{
    if (v.size() > kMaxMessageIdBytes)
        return false;
    v = skip_trailing_cfws(skip_cfws(v));
    if (v.size() < 5 || v.front() != '<' || v.back() != '>')
        return false;
    v = v.substr(1, v.size() - 2);
    const auto at = v.rfind('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == v.size())
        return false;
    const std::string_view left = v.substr(0, at), right = v.substr(at + 1);
    if (!std::all_of(left.begin(), left.end(), printable_id_char))
        return false;
    if (right.front() == '[')
        return right.back() == ']' && std::all_of(right.begin(), right.end(), printable_id_char);
    return right.front() != '.' && right.back() != '.' && std::all_of(right.begin(), right.end(), dot_atom_char);
}

class MessageIdCheck final : public ContentHeuristic {
  public:
    std::string_view name() const override { return "message_id"; }

    void decide(Phase, Context& ctx, std::span<const Reply>) const override
    {
        Transaction& tx = ctx.tx;
        const std::string* value = find_header(tx, "Message-ID");
        if (value == nullptr) {
            if (kept_all_headers(tx))
                tx.card.add("RAMPART_MSGID_MISSING", 1.0, "no Message-ID field");
            return;
        }
        if (const std::size_t n = count_headers(tx, "Message-ID"); n > 1)
            tx.card.add("RAMPART_MSGID_MULTIPLE", 1.0, std::to_string(n) + " Message-ID fields");
        if (!valid_message_id(*value))
            tx.card.add("RAMPART_MSGID_INVALID", 1.0, printable(*value, kDetailBytes));
    }
};

} // namespace

const Check& message_id_check()
{
    static const MessageIdCheck check;
    return check;
}

} // namespace rampart
