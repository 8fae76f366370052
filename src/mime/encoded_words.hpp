// NAME
//   encoded_words.hpp - RFC 2047 encoded words in header values, to UTF-8
// SYNOPSIS
//   DecodedHeader d = decode_header_value("=?iso-8859-1?q?caf=E9?= ok");
//   d.text == "café ok"
// DESCRIPTION
//   Header values arrive from the MTA unfolded but raw: encoded words
//   (=?charset?B|Q?text?=) hide what a mail client shows. This decodes them
//   the way clients do: B (base64) and Q (quoted-printable with "_" for
//   space), charsets converted to UTF-8 with iconv, RFC 2231 language tags
//   (charset*lang) ignored, and whitespace between two adjacent encoded
//   words dropped. What is not a well-formed encoded word stays as it is.
//
//   Spammers use encoded words to hide words from filters; the flags say
//   what the value did: an unknown charset (its bytes are kept, invalid
//   UTF-8 replaced), broken base64 or QP, bytes that are not valid in the
//   charset, control characters in the decoded text.
// LIMITS
//   The output is at most kMaxDecodedBytes; longer values are cut, and
//   `truncated` is set. At most kMaxEncodedWords words are decoded; the
//   rest stay raw.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace rampart {

inline constexpr std::size_t kMaxDecodedBytes = 64 * 1024;
inline constexpr std::size_t kMaxEncodedWords = 1000;

struct DecodedHeader {
    std::string text;              // UTF-8
    std::size_t encoded_words = 0; // how many were decoded
    bool unknown_charset = false;  // a charset iconv does not know
    bool bad_encoding = false;     // broken base64 or QP, or bytes invalid in their charset
    bool control_chars = false;    // C0 controls (other than tab) or DEL in the decoded text
    bool truncated = false;        // the output reached kMaxDecodedBytes
};

DecodedHeader decode_header_value(std::string_view raw);

// Converts `bytes` in `charset` to UTF-8; false when the charset is unknown
// (then `out` gets the bytes with invalid UTF-8 replaced by U+FFFD).
// `bad` is set when some bytes were invalid in the charset.
bool to_utf8(std::string_view charset, std::string_view bytes, std::string& out, bool& bad);

// Replaces each invalid UTF-8 sequence in `s` with U+FFFD.
std::string valid_utf8(std::string_view s);

} // namespace rampart
