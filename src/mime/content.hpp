// NAME
//   content.hpp - what the MIME parser learned of one message
// DESCRIPTION
//   The streaming parser (parser.hpp) fills a Content as the body goes by;
//   checks read it at end of message. Nothing here holds the body: text is
//   kept up to the scan limits, lists are bounded, and every limit reached
//   is recorded in `limits_hit` (each becomes a RAMPART_MIME_* symbol).
#pragma once

#include "mime/html.hpp"
#include "mime/urls.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace rampart::mime {

// Named ceilings of the parser ([limits] in rampart.conf(5)).
struct Limits {
    std::size_t depth = 20;                            // multipart nesting
    std::size_t parts = 1000;                          // MIME parts of one message
    std::size_t part_headers = 500;                    // header fields of one part
    std::size_t line_bytes = 64 * 1024;                // longer lines are cut there
    std::size_t part_scan_bytes = 1024 * 1024;         // decoded bytes of one part looked at
    std::size_t message_scan_bytes = 10 * 1024 * 1024; // body bytes parsed
};

enum class Limit { depth, parts, part_headers, line_bytes, part_scan_bytes, message_scan_bytes };
inline constexpr std::size_t kLimitKinds = 6;
const char* to_string(Limit l); // "depth", "parts", ...

inline constexpr std::size_t kMaxZipMembers = 64;     // names kept per archive
inline constexpr std::size_t kMaxUrls = 1000;         // URLs kept per message
inline constexpr std::size_t kMaxLinks = 500;         // HTML anchors kept per message
inline constexpr std::size_t kTextSampleBytes = 4096; // of each text part, for comparing alternatives
inline constexpr std::size_t kMaxFilenameBytes = 512;
inline constexpr std::size_t kKeptTextBytes = 64 * 1024; // of the message's visible text, in Content::text

// One leaf part (multipart containers are not listed; message/rfc822
// bodies are parsed as messages, their parts listed after it).
struct Part {
    std::string content_type = "text/plain"; // lower case type/subtype, as declared
    std::string charset;                     // lower case, "" when none declared
    std::string transfer_encoding;           // lower case, "" when none declared
    std::string disposition;                 // lower case: "attachment", "inline" or ""
    std::string filename;                    // UTF-8 (RFC 2231 / 2047 decoded), at most kMaxFilenameBytes
    std::string detected_type;               // from the first bytes (magic.hpp), "" when not known
    std::size_t decoded_bytes = 0;           // all of it, also past part_scan_bytes
    std::uint64_t digest = 0;                // XXH3 of the decoded bytes looked at (parts other than text)
    std::size_t depth = 0;                   // 0 for the message body itself
    int alternative = -1;                    // index of its multipart/alternative, -1 when in none
    std::size_t text_chars = 0;              // visible text characters (text parts only)
    std::string text_sample;                 // first kTextSampleBytes of its visible text (text parts)
    std::vector<std::string> zip_members;    // names inside a zip archive, at most kMaxZipMembers
    bool zip_encrypted = false;              // a member of the archive is encrypted
    bool is_text() const { return content_type == "text/plain" || content_type == "text/html"; }
    bool is_attachment() const { return disposition == "attachment" || !filename.empty(); }
};

// Broken or unusual input, each a RAMPART_MIME_* symbol.
struct Defects {
    bool unterminated_multipart = false; // a multipart without its closing boundary
    bool missing_boundary = false;       // multipart declared without a boundary parameter
    bool bad_base64 = false;
    bool bad_qp = false;
    bool unknown_charset = false;   // a charset iconv does not know
    bool bad_charset_bytes = false; // bytes invalid in their declared charset
    bool nul_bytes = false;         // NUL in a text part
    bool eight_bit_headers = false; // raw 8-bit bytes in a part's header fields
};

struct Content {
    std::vector<Part> parts;
    std::string text;            // visible text of the text parts, UTF-8, parts joined by "\n"; first kKeptTextBytes
    std::vector<Url> urls;       // from text and HTML, at most kMaxUrls, in order of appearance
    std::vector<HtmlLink> links; // HTML anchors, at most kMaxLinks
    std::size_t html_visible_chars = 0;
    std::size_t html_hidden_chars = 0; // text a reader does not see (display:none, same colour, zero size)
    std::size_t html_tiny_chars = 0;   // shown, but in a font too small to read
    std::size_t html_images = 0;       // <img> tags
    std::size_t plain_chars = 0;       // visible characters of text/plain parts
    std::size_t body_bytes = 0;        // raw body bytes parsed
    Defects defects;
    std::vector<Limit> limits_hit; // each limit at most once, in the order reached
    bool truncated = false;        // parsing stopped at message_scan_bytes
};

} // namespace rampart::mime
