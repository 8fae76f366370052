// NAME
//   parser.hpp - streaming MIME parser
// SYNOPSIS
//   Parser p(limits);
//   p.header("Content-Type", "multipart/mixed; boundary=x"); // the message's own fields
//   p.body(chunk); ...                                        // as the MTA streams them
//   p.finish();
//   const Content& c = p.content();
// DESCRIPTION
//   The MTA hands the message's header fields one by one (unfolded) and
//   then the body in chunks of any size; the parser never holds the body.
//   It reads lines (CRLF or LF), part header fields (folded, RFC 2047 words,
//   RFC 2231 parameters with continuations and charsets), multipart nesting
//   (an outer boundary also closes the parts inside it, as mail clients do),
//   message/rfc822 as a message, and decodes base64, quoted-printable,
//   7bit, 8bit and binary. Text parts are converted to UTF-8 from their
//   charset; HTML is converted to its visible text (html.hpp); URLs are
//   taken from text and from links (urls.hpp); each part's first bytes give
//   its detected type (magic.hpp) and zip archives their member names
//   (zip.hpp).
// LIMITS
//   Those of Limits (content.hpp). Reaching one records it in
//   Content::limits_hit once and goes on safely: deeper nesting is read as
//   the body of the part it is in, parts past the limit are counted but not
//   inventoried, extra header fields are skipped, long lines are cut,
//   decoded bytes past part_scan_bytes are counted but not looked at, and
//   past message_scan_bytes body() ignores its input and wants_more() is
//   false.
#pragma once

#include "mime/content.hpp"

#include <functional>
#include <memory>
#include <string_view>

namespace rampart::mime {

class Parser {
  public:
    explicit Parser(const Limits& limits);
    ~Parser();
    Parser(const Parser&) = delete;
    Parser& operator=(const Parser&) = delete;

    // Where the visible text goes as it is produced (UTF-8; parts separated
    // by "\n"), e.g. a streaming rule scan. Content::text keeps only its
    // first kKeptTextBytes.
    void on_text(std::function<void(std::string_view)> sink);

    // One header field of the message itself, unfolded, as the MTA gives it.
    void header(std::string_view name, std::string_view value);
    // The next body chunk.
    void body(std::string_view chunk);
    // The body ended; flushes what is pending.
    void finish();
    // False once message_scan_bytes were read: the rest need not be sent.
    bool wants_more() const;

    const Content& content() const;

  private:
    struct State;
    std::unique_ptr<State> d;
};

} // namespace rampart::mime
