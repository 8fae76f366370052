// NAME
//   html.hpp - HTML to the text a reader sees, streamed
// DESCRIPTION
//   Fed decoded (UTF-8) HTML in chunks of any size; tags, comments and
//   entities may cross chunk boundaries. Appends the visible text to the
//   caller's string: tags dropped, block tags become line breaks, runs of
//   white space one space, entities (named and numeric) decoded, script,
//   style, head/title and comments dropped. Counts text the reader cannot
//   see (display:none, visibility:hidden, zero font size, text colour equal
//   to the background, zero-width characters) apart from what is shown,
//   and text shown in a font too small to read (font-size < 6px or
//   <font size=1>) as tiny. Collects anchors (href and shown text) and
//   counts <img> tags.
// LIMITS
//   A tag longer than kMaxTagBytes is dropped whole; at most kMaxLinks
//   anchors are kept, each href and text at most kMaxLinkBytes; style
//   nesting is tracked kMaxDepth deep (deeper elements inherit).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::mime {

struct HtmlLink {
    std::string href; // as written, entities decoded
    std::string text; // visible text inside the anchor, trimmed
};

class HtmlToText {
  public:
    static constexpr std::size_t kMaxTagBytes = 16 * 1024;
    static constexpr std::size_t kMaxLinks = 500;
    static constexpr std::size_t kMaxLinkBytes = 2048;
    static constexpr std::size_t kMaxDepth = 256;

    HtmlToText();
    ~HtmlToText();
    HtmlToText(HtmlToText&&) noexcept;
    HtmlToText& operator=(HtmlToText&&) noexcept;

    // Converts `html`; the visible text goes to the end of `out`.
    void feed(std::string_view html, std::string& out);
    // Flushes what is pending (an unterminated tag is dropped).
    void finish(std::string& out);

    std::size_t visible_chars() const; // characters (not bytes) appended as visible
    std::size_t hidden_chars() const;
    std::size_t tiny_chars() const;
    std::size_t images() const;
    const std::vector<HtmlLink>& links() const;

  private:
    struct State;
    std::unique_ptr<State> d;

    // Character references (html_entities.cpp). match_reference reads the
    // one at the start of `s`, just after '&': the bytes it takes, 0 when
    // there is none.
    static std::size_t match_reference(std::string_view s, bool in_attribute, char32_t& cp);
    static void decode_attribute(std::string_view in, std::string& out);
    static std::size_t encode_utf8(char32_t cp, char* out); // at most 4 bytes
};

} // namespace rampart::mime
