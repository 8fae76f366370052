// NAME
//   attachments.cpp - attachments that run, hide what they are, or hide
//   from scanners
// SUMMARY
//   Malware arrives as a program, script or disk image attached by name
//   (magic.hpp's is_executable_name) or by content (a PE, ELF or Mach-O
//   file, a "#!" script), often dressed as a document: a double extension
//   ("invoice.pdf.exe"), spaces that push the real extension out of view
//   ("invoice.pdf          .exe"), or a right-to-left override that makes
//   "doc\u202Efdp.exe" show as "docexe.pdf". Zips carry the same inside,
//   and encrypted zips (password in the body) get past every scanner.
//
//   A type mismatch is a detected type (magic.hpp) that contradicts the
//   declared Content-Type or what the file name's extension claims, as a
//   PE named ".pdf". Confusions that harmless software makes are ignored:
//   unknown or generic declared types (application/octet-stream), one
//   image format for another, zip-based, OLE2 and RTF office documents for
//   each other, and text types (HTML detected in a text part) unless the
//   content is an executable.
//
//   Contents are judged only in parts that are attachments or not text, so
//   that a text body beginning with "#!" is not a program.
// PHASES
//   eom. No Redis.
// SYMBOLS
//   RAMPART_EXE_ATTACHMENT (3.0)           an executable part, by name or content
//   RAMPART_DOUBLE_EXTENSION (2.0)         a file name that disguises an executable extension
//   RAMPART_EXE_IN_ZIP (2.5)               a zip archive with an executable member
//   RAMPART_ENCRYPTED_ZIP (1.5)            a zip archive with an encrypted member
//   RAMPART_ATTACHMENT_TYPE_MISMATCH (1.5) a detected type that contradicts the declared type or extension
// SETTINGS
//   content.enabled
// LIMITS
//   The parser's: at most limits.mime_parts parts, each with at most
//   mime::kMaxZipMembers member names of mime::kMaxFilenameBytes.
#include "checks/check.hpp"
#include "config/config.hpp"
#include "mime/content.hpp"
#include "mime/magic.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <array>

namespace rampart {
namespace {

constexpr std::size_t kPaddingRun = 5; // spaces or underscores before an extension that hide it
constexpr std::size_t kDetailBytes = 80;

// Extensions a disguised executable pretends to have, besides those type_of_extension knows.
constexpr std::array<std::string_view, 16> kDecoyExtensions = {
    "txt", "csv", "doc", "docx", "xls", "xlsx", "pdf", "mp3", "mp4", "avi", "mov", "wav", "htm", "html", "odt", "ppt"};

// A bidi control (U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069) in UTF-8.
bool has_bidi_control(std::string_view name)
{
    for (std::size_t i = 0; i + 1 < name.size(); ++i) {
        const auto a = static_cast<unsigned char>(name[i]), b = static_cast<unsigned char>(name[i + 1]);
        if (a == 0xD8 && b == 0x9C)
            return true;
        if (a != 0xE2 || i + 2 >= name.size())
            continue;
        const auto c = static_cast<unsigned char>(name[i + 2]);
        if ((b == 0x80 && (c == 0x8E || c == 0x8F || (c >= 0xAA && c <= 0xAE))) ||
            (b == 0x81 && c >= 0xA6 && c <= 0xA9))
            return true;
    }
    return false;
}

// The name as Windows reads it: its last path component, cut at a NUL,
// trailing dots and spaces dropped.
std::string_view windows_name(std::string_view name)
{
    name = name.substr(0, name.find('\0'));
    if (const auto slash = name.find_last_of("/\\"); slash != std::string_view::npos)
        name.remove_prefix(slash + 1);
    while (!name.empty() && (name.back() == '.' || name.back() == ' '))
        name.remove_suffix(1);
    return name;
}

bool decoy_extension(std::string_view stem)
{
    const auto dot = stem.rfind('.');
    if (dot == std::string_view::npos)
        return false;
    const std::string ext = lowercase(stem.substr(dot + 1));
    return !mime::type_of_extension(stem).empty() ||
           std::find(kDecoyExtensions.begin(), kDecoyExtensions.end(), ext) != kDecoyExtensions.end();
}

// Why a file name disguises an executable, or nullptr.
const char* disguise(std::string_view raw)
{
    if (has_bidi_control(raw))
        return "bidi control in name";
    const std::string_view name = windows_name(raw);
    const auto dot = name.rfind('.');
    if (dot == std::string_view::npos || !mime::is_executable_name(name))
        return nullptr;
    std::string_view stem = name.substr(0, dot);
    std::size_t padding = 0;
    while (!stem.empty() && (stem.back() == ' ' || stem.back() == '_')) {
        stem.remove_suffix(1);
        ++padding;
    }
    if (padding >= kPaddingRun)
        return "padded extension";
    return decoy_extension(stem) ? "double extension" : nullptr;
}

// A type reduced to what it is, so that harmless aliases compare equal;
// "" for types the check does not judge.
std::string_view family(std::string_view type)
{
    if (type.empty() || type == "application/octet-stream")
        return "";
    if (mime::is_executable_type(type))
        return "executable";
    if (type.starts_with("text/"))
        return "text";
    if (type.starts_with("image/"))
        return "image";
    if (type == "application/pdf" || type == "application/x-pdf")
        return "pdf";
    constexpr std::string_view kOffice[] = {"application/zip",
                                            "application/x-zip-compressed",
                                            "application/x-zip",
                                            "application/x-ole-storage",
                                            "application/msword",
                                            "application/vnd.ms-excel",
                                            "application/vnd.ms-powerpoint",
                                            "application/rtf",
                                            "application/java-archive"};
    if (std::find(std::begin(kOffice), std::end(kOffice), type) != std::end(kOffice) ||
        type.starts_with("application/vnd.openxmlformats-") || type.starts_with("application/vnd.oasis.opendocument."))
        return "office";
    if (type == "application/vnd.rar" || type == "application/x-rar-compressed" || type == "application/x-rar")
        return "rar";
    if (type == "application/x-7z-compressed")
        return "7z";
    if (type == "application/gzip" || type == "application/x-gzip")
        return "gzip";
    if (type == "application/vnd.ms-cab-compressed")
        return "cab";
    return "";
}

bool contradicts(std::string_view detected, std::string_view claimed)
{
    const std::string_view d = family(detected), c = family(claimed);
    if (d.empty() || c.empty() || d == c || d == "text")
        return false;
    return c != "text" || d == "executable";
}

class AttachmentsCheck final : public ContentHeuristic {
  public:
    std::string_view name() const override { return "attachments"; }

    void decide(Phase, Context& ctx, std::span<const Reply>) const override
    {
        const mime::Content* c = content_of(ctx.tx);
        if (c == nullptr)
            return;
        for (const mime::Part& p : c->parts)
            judge(p, ctx.tx.card);
    }

  private:
    static void judge(const mime::Part& p, Scorecard& card)
    {
        const std::string name = printable(p.filename, kDetailBytes);
        const bool may_run = p.is_attachment() || !p.is_text();
        if (mime::is_executable_name(p.filename) || (may_run && mime::is_executable_type(p.detected_type)))
            card.add("RAMPART_EXE_ATTACHMENT", 3.0, name.empty() ? p.detected_type : name);
        if (const char* why = disguise(p.filename))
            card.add("RAMPART_DOUBLE_EXTENSION", 2.0, printable(std::string(why) + ": " + p.filename, kDetailBytes));
        for (const std::string& member : p.zip_members) {
            if (mime::is_executable_name(member))
                card.add("RAMPART_EXE_IN_ZIP", 2.5, printable(member, kDetailBytes));
            if (const char* why = disguise(member))
                card.add("RAMPART_DOUBLE_EXTENSION", 2.0, printable(std::string(why) + ": " + member, kDetailBytes));
        }
        if (p.zip_encrypted)
            card.add("RAMPART_ENCRYPTED_ZIP", 1.5, name);
        const std::string_view by_name = mime::type_of_extension(p.filename);
        if (may_run && (contradicts(p.detected_type, p.content_type) || contradicts(p.detected_type, by_name)))
            card.add("RAMPART_ATTACHMENT_TYPE_MISMATCH", 1.5,
                     printable(p.content_type + " " + p.filename + " is " + p.detected_type, kDetailBytes));
    }
};

} // namespace

const Check& attachments_check()
{
    static const AttachmentsCheck check;
    return check;
}

} // namespace rampart
