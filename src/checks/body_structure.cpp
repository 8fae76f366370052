// NAME
//   body_structure.cpp - how the body is built: HTML without text, hidden
//   or tiny text, pictures and PDFs instead of words, alternatives that
//   disagree
// SUMMARY
//   Mail clients send HTML with a text/plain alternative; bulk tools often
//   send HTML alone. Text the reader cannot see (display:none, same colour
//   as the background, zero size) or can barely see is there for filters,
//   to dilute what the reader is shown. A message whose words are in an
//   image or a PDF gives a text filter nothing to read. The text/plain and
//   text/html halves of one multipart/alternative should say the same
//   thing; when their words barely overlap, one half is for the filter and
//   the other for the reader.
//
//   "Text" below is the larger of the message's text/plain and visible
//   HTML character counts (the halves of an alternative say it twice).
//   Alternatives are compared by the Jaccard similarity of their sets of
//   words of kMinWordLetters or more letters, taken from each part's text
//   sample, when both halves have at least kMinCompareWords such words.
// PHASES
//   eom. No Redis.
// SYMBOLS
//   RAMPART_HTML_ONLY (1.0)             an HTML body part and no text/plain one
//   RAMPART_HTML_INVISIBLE_TEXT (2.0)   >= kMinOddChars hidden characters, >= kOddPercent% of the visible
//   RAMPART_HTML_TINY_TEXT (1.0)        as much text in a font too small to read
//   RAMPART_HTML_IMAGE_ONLY (1.5)       HTML with images and < kFewChars visible characters
//   RAMPART_ALTERNATIVE_MISMATCH (2.0)  the halves of an alternative share < kMinSimilarity of their words
//   RAMPART_IMAGE_ONLY (1.5)            an image part and < kFewChars of text
//   RAMPART_PDF_ONLY (1.5)              a PDF part and < kFewChars of text
// SETTINGS
//   content.enabled
// LIMITS
//   At most kMaxAlternativeComparisons alternatives are compared, each
//   once (its first text/plain and first text/html part), so a message of
//   many parts costs linear work; a text sample is at most
//   mime::kTextSampleBytes.
#include "checks/check.hpp"
#include "config/config.hpp"
#include "mime/content.hpp"
#include "mime/magic.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <unordered_set>

namespace rampart {
namespace {

constexpr std::size_t kMinOddChars = 20;
constexpr std::size_t kOddPercent = 10;
constexpr std::size_t kFewChars = 200;
constexpr std::size_t kMinWordLetters = 3;
constexpr std::size_t kMinCompareWords = 20;
constexpr double kMinSimilarity = 0.3;
constexpr std::size_t kMaxAlternativeComparisons = 8;

bool body_part(const mime::Part& p, std::string_view type) { return p.content_type == type && !p.is_attachment(); }

// What the first bytes say wins over what the part declares: a program
// named "invoice.pdf" is no PDF.
bool is_image(const mime::Part& p)
{
    if (!p.detected_type.empty())
        return p.detected_type.starts_with("image/");
    return p.content_type.starts_with("image/");
}

bool is_pdf(const mime::Part& p)
{
    if (!p.detected_type.empty())
        return p.detected_type == "application/pdf";
    return p.content_type == "application/pdf" || mime::type_of_extension(p.filename) == "application/pdf";
}

// A count of odd characters large in itself and beside the visible text.
bool noticeable(std::size_t odd, std::size_t visible)
{
    return odd >= kMinOddChars && odd * 100 >= visible * kOddPercent;
}

struct Words {
    std::string lower; // owns what `set` views
    std::unordered_set<std::string_view> set;
    std::size_t count = 0;
};

// Words of kMinWordLetters+ letters (ASCII letters; a non-ASCII character counts as one letter).
void words_of(std::string_view text, Words& w)
{
    w.lower.assign(text);
    for (char& c : w.lower)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    const std::string_view s = w.lower;
    std::size_t i = 0;
    while (i < s.size()) {
        const auto letter = [&](std::size_t k) {
            const auto u = static_cast<unsigned char>(s[k]);
            return (u >= 'a' && u <= 'z') || u >= 0x80;
        };
        if (!letter(i)) {
            ++i;
            continue;
        }
        std::size_t j = i, letters = 0;
        for (; j < s.size() && letter(j); ++j)
            letters += (static_cast<unsigned char>(s[j]) & 0xC0) != 0x80; // not a continuation byte
        if (letters >= kMinWordLetters) {
            w.set.insert(s.substr(i, j - i));
            ++w.count;
        }
        i = j;
    }
}

// The Jaccard similarity of the words of two texts; < 0 when either has too few to judge.
double similarity(std::string_view a, std::string_view b)
{
    Words wa, wb;
    words_of(a, wa);
    words_of(b, wb);
    if (wa.count < kMinCompareWords || wb.count < kMinCompareWords)
        return -1;
    std::size_t common = 0;
    for (const std::string_view w : wa.set)
        common += wb.set.count(w);
    const std::size_t all = wa.set.size() + wb.set.size() - common;
    return static_cast<double>(common) / static_cast<double>(all);
}

struct Alternative {
    int index = -1;
    const mime::Part* plain = nullptr;
    const mime::Part* html = nullptr;
};

// The first kMaxAlternativeComparisons alternatives' first text/plain and text/html parts.
std::vector<Alternative> alternatives(const mime::Content& c)
{
    std::vector<Alternative> out;
    for (const mime::Part& p : c.parts) {
        if (p.alternative < 0 || !p.is_text() || p.is_attachment())
            continue;
        auto it = std::find_if(out.begin(), out.end(), [&](const Alternative& a) { return a.index == p.alternative; });
        if (it == out.end()) {
            if (out.size() == kMaxAlternativeComparisons)
                continue;
            it = out.insert(out.end(), Alternative{p.alternative});
        }
        const mime::Part*& slot = p.content_type == "text/plain" ? it->plain : it->html;
        if (slot == nullptr)
            slot = &p;
    }
    return out;
}

class BodyStructureCheck final : public ContentHeuristic {
  public:
    std::string_view name() const override { return "body_structure"; }

    void decide(Phase, Context& ctx, std::span<const Reply>) const override
    {
        const mime::Content* c = content_of(ctx.tx);
        if (c == nullptr)
            return;
        Scorecard& card = ctx.tx.card;
        const bool html = std::any_of(c->parts.begin(), c->parts.end(),
                                      [](const mime::Part& p) { return body_part(p, "text/html"); });
        const bool plain = std::any_of(c->parts.begin(), c->parts.end(),
                                       [](const mime::Part& p) { return body_part(p, "text/plain"); });
        if (html && !plain)
            card.add("RAMPART_HTML_ONLY", 1.0, "text/html without text/plain");
        const std::size_t visible = c->html_visible_chars;
        if (noticeable(c->html_hidden_chars, visible))
            card.add("RAMPART_HTML_INVISIBLE_TEXT", 2.0,
                     fmt::format("{} hidden, {} visible", c->html_hidden_chars, visible));
        if (noticeable(c->html_tiny_chars, visible))
            card.add("RAMPART_HTML_TINY_TEXT", 1.0, fmt::format("{} tiny, {} visible", c->html_tiny_chars, visible));
        if (html && c->html_images > 0 && visible < kFewChars)
            card.add("RAMPART_HTML_IMAGE_ONLY", 1.5, fmt::format("{} images, {} visible", c->html_images, visible));
        compare_alternatives(*c, card);
        const std::size_t text = std::max(c->plain_chars, visible);
        if (text < kFewChars && std::any_of(c->parts.begin(), c->parts.end(), is_image))
            card.add("RAMPART_IMAGE_ONLY", 1.5, fmt::format("image part, {} text characters", text));
        if (text < kFewChars && std::any_of(c->parts.begin(), c->parts.end(), is_pdf))
            card.add("RAMPART_PDF_ONLY", 1.5, fmt::format("PDF part, {} text characters", text));
    }

  private:
    static void compare_alternatives(const mime::Content& c, Scorecard& card)
    {
        for (const Alternative& a : alternatives(c)) {
            if (a.plain == nullptr || a.html == nullptr)
                continue;
            const double s = similarity(a.plain->text_sample, a.html->text_sample);
            if (s >= 0 && s < kMinSimilarity) {
                card.add("RAMPART_ALTERNATIVE_MISMATCH", 2.0, fmt::format("word similarity {:.2f}", s));
                return;
            }
        }
    }
};

} // namespace

const Check& body_structure_check()
{
    static const BodyStructureCheck check;
    return check;
}

} // namespace rampart
