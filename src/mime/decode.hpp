// NAME
//   decode.hpp - streaming transfer decoders and charset conversion of MIME parts
// SYNOPSIS
//   Base64Decoder b; b.feed(line, out); ... b.finish();   // b.bad()
//   QpDecoder q; bool soft = q.line(line, out);          // q.bad()
//   TextConverter t; t.open("koi8-r"); t.feed(bytes, utf8); ... t.finish(utf8);
// DESCRIPTION
//   The parser hands these decoders a part's content as it arrives, line by
//   line or in pieces of any size; none of them holds more than a few bytes
//   between calls.
//
//   Base64Decoder skips white space, skips (and flags) characters outside
//   the alphabet and goes on after padding, as mail clients do, so that a
//   damaged part still yields the bytes a reader would see.
//
//   QpDecoder decodes one line at a time: trailing white space is dropped
//   (transport padding), a final "=" is a soft line break, =XX (either case)
//   is a byte, and an "=" that starts no escape is kept as it is and flagged.
//
//   TextConverter turns text in a declared charset into UTF-8. UTF-8,
//   US-ASCII and undeclared text is validated; other charsets go through one
//   iconv descriptor per part, and a multibyte sequence cut by a piece
//   boundary is carried to the next piece. Invalid bytes become U+FFFD and
//   are flagged. A charset iconv does not know (or a name that cannot be a
//   charset) leaves the bytes as valid UTF-8, unflagged: open() says so.
// LIMITS
//   A charset name longer than kMaxCharsetName, or holding characters no
//   charset name has ("/" would pass options to iconv), is unknown. At most
//   kMaxCarry bytes of an incomplete sequence are carried.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iconv.h>
#include <string>
#include <string_view>

namespace rampart::mime {

inline constexpr std::size_t kMaxCharsetName = 40;

// Scans a word at a time: they run over every byte of a text part.
bool all_ascii(std::string_view s);
std::size_t utf8_chars(std::string_view s); // bytes that are not UTF-8 continuation bytes

class Base64Decoder {
  public:
    void feed(std::string_view text, std::string& out);
    // The input ended; a lone character left in a quantum is flagged.
    void finish();
    bool bad() const { return d_bad; }

  private:
    std::uint32_t d_bits = 0;
    int d_nbits = 0;
    bool d_bad = false;
};

class QpDecoder {
  public:
    // Decodes one line given without its line break; true when the line
    // ends in a soft line break (the break is no part of the content).
    bool line(std::string_view text, std::string& out);
    bool bad() const { return d_bad; }

  private:
    bool d_bad = false;
};

// The charset name iconv is asked for ("" for UTF-8 and its subsets),
// lower case, with the aliases mail clients apply; false when `declared`
// cannot be a charset name.
bool charset_for_iconv(std::string_view declared, std::string& name);

class TextConverter {
  public:
    static constexpr std::size_t kMaxCarry = 16;

    TextConverter() = default;
    ~TextConverter();
    TextConverter(const TextConverter&) = delete;
    TextConverter& operator=(const TextConverter&) = delete;

    // Starts a new text in `charset` (as declared; "" when none). False when
    // the charset is unknown: its bytes are then made valid UTF-8.
    bool open(std::string_view charset);
    void feed(std::string_view bytes, std::string& out);
    // Flushes a carried incomplete sequence (as U+FFFD) and iconv's state.
    void finish(std::string& out);
    bool bad() const { return d_bad; }

  private:
    enum class Mode { utf8, lenient, iconv };
    void close();
    void feed_utf8(std::string_view bytes, std::string& out);
    void feed_iconv(std::string_view bytes, std::string& out);
    void append_checked(std::string_view bytes, std::string& out);

    Mode d_mode = Mode::utf8;
    iconv_t d_cd = reinterpret_cast<iconv_t>(-1);
    std::string d_carry;  // an incomplete sequence from the previous piece
    std::string d_joined; // the carry joined to the next piece
    std::string d_name;
    bool d_ascii_safe = false; // ASCII stands for itself outside multibyte sequences
    bool d_bad = false;
};

} // namespace rampart::mime
