// NAME
//   magic.hpp - a part's type from its first bytes
// DESCRIPTION
//   Declared types and file names lie; the first bytes seldom do. detect()
//   names the type of the formats that matter to a filter: executables
//   (Windows PE, checked through its PE header, ELF, Mach-O, shell scripts
//   with "#!"), archives (zip and the formats built on it, rar, 7z, gzip,
//   cab), documents (PDF, OLE2 Office, RTF), images (PNG, JPEG, GIF, BMP,
//   WebP, TIFF) and HTML.
#pragma once

#include <cstddef>
#include <string_view>

namespace rampart::mime {

// Bytes detect() needs at most.
inline constexpr std::size_t kMagicBytes = 1024;

// A MIME type ("application/x-dosexec", "application/zip", "application/pdf",
// "image/png", ...) or "" when the bytes match no known format. `head` is the
// first bytes of the decoded part (fewer when the part is shorter).
std::string_view detect(std::string_view head);

// True for types that run when opened: PE, ELF, Mach-O, scripts.
bool is_executable_type(std::string_view type);

// True for a file name whose last extension runs when opened on Windows
// (.exe, .scr, .js, .vbs, .bat, .cmd, .com, .pif, .hta, .jar, .lnk, .ps1, ...).
bool is_executable_name(std::string_view filename);

// The types a file name's extension claims ("invoice.pdf" -> "application/pdf"),
// "" when the extension is not one detect() knows.
std::string_view type_of_extension(std::string_view filename);

} // namespace rampart::mime
