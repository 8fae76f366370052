// NAME
//   params.hpp - Content-Type, Content-Disposition and Content-Transfer-Encoding values
// SYNOPSIS
//   ContentType t = parse_content_type("multipart/mixed; boundary=\"b1\"");
//   Disposition d = parse_disposition("attachment; filename*=utf-8''%E2%82%AC.pdf");
//   std::string e = parse_transfer_encoding(" Base64 (comment)");   // "base64"
// DESCRIPTION
//   A field value is a token followed by ";"-separated name=value
//   parameters. Comments in parentheses between the parts are dropped,
//   values may be quoted strings (backslash quotes the next character) or
//   bare text up to the next ";" (bare file names such as "a(1).pdf" are
//   common, so parentheses inside a bare value are kept). Parameter names
//   are case-insensitive. RFC 2231 parameters are understood:
//   name*=charset'lang'%XX..., and continuations name*0, name*1*, ...
//   joined in index order; an extended value wins over a plain one of the
//   same name. File names also get RFC 2047 encoded words decoded (mail
//   clients accept them inside quoted names), are made valid UTF-8 and are
//   taken from the disposition's filename, else from the type's name.
//
//   A type that is not "type/subtype" gives an empty `type` (the caller
//   applies its default, as RFC 2045 says). A disposition other than
//   inline or attachment is read as attachment (RFC 2183).
// LIMITS
//   At most kMaxParams parameters per field and kMaxSections sections per
//   parameter; tokens (type, charset, encoding) longer than kMaxTokenBytes
//   are cut; a file name is cut at kMaxFilenameBytes on a character
//   boundary.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::mime {

inline constexpr std::size_t kMaxParams = 64;
inline constexpr std::size_t kMaxSections = 64;
inline constexpr std::size_t kMaxTokenBytes = 128;

struct Param {
    std::string name;      // lower case, without RFC 2231 "*" or section
    std::string value;     // plain: as written; extended: %-decoded, to UTF-8 when a charset is named
    bool extended = false; // came from RFC 2231 syntax
};

struct FieldValue {
    std::string token; // before the parameters, lower case, comments and white space dropped
    std::vector<Param> params;
    // The extended parameter of that name if there is one, else the first plain one.
    const Param* find(std::string_view name) const;
};

FieldValue parse_field_value(std::string_view raw);

struct ContentType {
    std::string type;     // "type/subtype" lower case; "" when malformed or absent
    std::string charset;  // lower case
    std::string boundary; // as written
    std::string name;     // the name= file name, decoded (see file_name)
};

struct Disposition {
    std::string kind;     // "inline", "attachment" or "" when absent
    std::string filename; // decoded (see file_name)
};

ContentType parse_content_type(std::string_view raw);
Disposition parse_disposition(std::string_view raw);
// Lower case token ("base64", "quoted-printable", ...), "" when absent.
std::string parse_transfer_encoding(std::string_view raw);

// A file name parameter as a client shows it: RFC 2047 words in a plain
// value decoded, valid UTF-8, at most kMaxFilenameBytes.
std::string file_name(const Param& p);

} // namespace rampart::mime
