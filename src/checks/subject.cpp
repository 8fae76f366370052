// NAME
//   subject.cpp - the Subject as a mail client shows it
// SUMMARY
//   The Subject is read after RFC 2047 decoding, since that is what the
//   reader sees and what the sender chose. Shouting ("FINAL NOTICE YOUR
//   ACCOUNT") is a bulk-mail habit. Characters a client does not show
//   (zero-width spaces and joiners, bidi controls, soft hyphens, C0 and C1
//   controls) split words so that a filter's patterns miss them; a
//   zero-width joiner after a non-ASCII character is left alone, since it
//   builds emoji. An encoded word that does not decode, or names a charset
//   no converter knows, is broken on purpose or by a careless tool; a
//   subject that is plain ASCII once decoded had no need of encoding, and
//   is so written to hide words from filters that read the raw field
//   (though some servers encode every subject, hence the low score).
// PHASES
//   eom. No Redis.
// SYMBOLS
//   RAMPART_SUBJECT_MISSING (0.5)            no Subject field
//   RAMPART_SUBJECT_SHOUTING (1.0)           at least kMinShoutLetters letters, kShoutPercent% upper case
//   RAMPART_SUBJECT_HIDDEN_CHARS (1.5)       invisible or control characters in the decoded subject
//   RAMPART_SUBJECT_BAD_ENCODING (1.0)       an encoded word with broken base64/QP, bad bytes or an unknown charset
//   RAMPART_SUBJECT_NEEDLESS_ENCODING (0.5)  encoded words in a subject that is printable ASCII once decoded
// SETTINGS
//   content.enabled
// LIMITS
//   Those of decode_header_value (encoded_words.hpp); a subject longer than
//   kMaxSubjectBytes was not kept by the session and is judged only on
//   presence.
#include "checks/address_field.hpp"
#include "checks/check.hpp"
#include "config/config.hpp"
#include "mime/encoded_words.hpp"
#include "util/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

namespace rampart {
namespace {

constexpr std::size_t kMinShoutLetters = 10;
constexpr std::size_t kShoutPercent = 80;
constexpr std::size_t kDetailBytes = 80;

// The code point at s[i] (valid UTF-8, as decode_header_value gives) and its length.
char32_t code_point(std::string_view s, std::size_t i, std::size_t& len)
{
    const auto c = static_cast<unsigned char>(s[i]);
    len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (i + len > s.size()) {
        len = 1;
        return 0xFFFD;
    }
    char32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (std::size_t k = 1; k < len; ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    return cp;
}

bool is_hidden(char32_t cp)
{
    return (cp < 0x20 && cp != '\t') || (cp >= 0x7F && cp <= 0x9F) || cp == 0xAD || cp == 0x34F || cp == 0x61C ||
           cp == 0x180E || (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2060 && cp <= 0x2064) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xFEFF;
}

// The first hidden character of `s`, 0 when there is none.
char32_t first_hidden(std::string_view s)
{
    char32_t previous = 0;
    for (std::size_t i = 0, len = 1; i < s.size(); i += len) {
        const char32_t cp = code_point(s, i, len);
        const bool emoji_joiner = cp == 0x200D && previous >= 0x80;
        if (is_hidden(cp) && !emoji_joiner)
            return cp;
        previous = cp;
    }
    return 0;
}

bool shouting(std::string_view s)
{
    std::size_t letters = 0, upper = 0;
    for (const char c : s) {
        const bool up = c >= 'A' && c <= 'Z';
        letters += up || (c >= 'a' && c <= 'z');
        upper += up;
    }
    return letters >= kMinShoutLetters && upper * 100 >= letters * kShoutPercent;
}

bool printable_ascii(std::string_view s)
{
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7F; });
}

class SubjectCheck final : public ContentHeuristic {
  public:
    std::string_view name() const override { return "subject"; }

    void decide(Phase, Context& ctx, std::span<const Reply>) const override
    {
        Transaction& tx = ctx.tx;
        const std::string* raw = find_header(tx, "Subject");
        if (raw == nullptr && tx.has_subject && !tx.subject_too_long)
            raw = &tx.subject; // dropped from tx.headers past their ceiling, kept by the session
        if (raw == nullptr) {
            if (!tx.has_subject && kept_all_headers(tx))
                tx.card.add("RAMPART_SUBJECT_MISSING", 0.5, "no Subject field");
            return;
        }
        const DecodedHeader d = decode_header_value(*raw);
        const std::string detail = printable(d.text, kDetailBytes);
        if (shouting(d.text))
            tx.card.add("RAMPART_SUBJECT_SHOUTING", 1.0, detail);
        if (const char32_t cp = first_hidden(d.text); cp != 0)
            tx.card.add(
                "RAMPART_SUBJECT_HIDDEN_CHARS", 1.5,
                printable(fmt::format("U+{:04X} in: {}", static_cast<std::uint32_t>(cp), d.text), kDetailBytes));
        if (d.bad_encoding || d.unknown_charset)
            tx.card.add("RAMPART_SUBJECT_BAD_ENCODING", 1.0, printable(*raw, kDetailBytes));
        else if (d.encoded_words > 0 && printable_ascii(d.text))
            tx.card.add("RAMPART_SUBJECT_NEEDLESS_ENCODING", 0.5, printable(*raw, kDetailBytes));
    }
};

} // namespace

const Check& subject_check()
{
    static const SubjectCheck check;
    return check;
}

} // namespace rampart
