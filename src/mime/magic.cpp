// NAME
//   magic.cpp - a part's type from its first bytes, and what a file name claims
// DESCRIPTION
//   detect() tests fixed signatures at offset 0 first, then the two formats
//   that readers accept after leading bytes: PDF ("%PDF-" anywhere in the
//   first 1024 bytes, as PDF readers allow) and HTML (after white space and
//   a byte order mark). A DOS "MZ" stub is an executable only when its
//   e_lfanew points, inside `head`, at a "PE\0\0" header: "MZ" alone is two
//   letters that many text files begin with. RTF is recognised from "{\rt",
//   because Word opens such files as RTF and malicious documents drop the
//   rest of "{\rtf1" to slip past filters that look for it.
//
//   is_executable_name() reads a name the way Windows does before running
//   it: the last path component, cut at a NUL (the C string APIs of mail
//   clients and extractors stop there), trailing dots and spaces dropped,
//   then the last extension compared without case. Besides the programs
//   and scripts that run when opened, it names the disk images (.iso, .img,
//   .vhd, .vhdx) that Windows mounts on a double click: they carry
//   executables past the "downloaded from the internet" mark, so filters
//   treat them as risky.
// LIMITS
//   Only `head` is looked at (kMagicBytes suffice): a PE header placed past
//   it is not seen, and such an "MZ" file is not reported as PE.
#include "mime/magic.hpp"

#include "util/text.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>

namespace rampart::mime {
namespace {

constexpr std::size_t kPdfWindow = 1024;
constexpr std::uint32_t kMaxFatArches = 30; // more is a Java class file's version, which shares 0xCAFEBABE

bool starts(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

std::uint32_t le32(std::string_view s, std::size_t at)
{
    std::uint32_t v = 0;
    for (std::size_t i = 4; i-- > 0;)
        v = (v << 8) | static_cast<unsigned char>(s[at + i]);
    return v;
}

std::uint32_t be32(std::string_view s, std::size_t at)
{
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i)
        v = (v << 8) | static_cast<unsigned char>(s[at + i]);
    return v;
}

bool is_pe(std::string_view head)
{
    constexpr std::size_t kLfanewAt = 0x3C;
    if (!starts(head, "MZ") || head.size() < kLfanewAt + 4)
        return false;
    const std::uint64_t pe = le32(head, kLfanewAt);
    // Compared as 64-bit against size - 4, so an offset near 2^32 cannot wrap.
    if (pe > head.size() - 4)
        return false;
    return head.substr(static_cast<std::size_t>(pe), 4) == std::string_view("PE\0\0", 4);
}

bool is_mach_o(std::string_view head)
{
    if (head.size() < 8)
        return false;
    switch (be32(head, 0)) {
    case 0xFEEDFACE:
    case 0xFEEDFACF:
    case 0xCEFAEDFE:
    case 0xCFFAEDFE: return true;
    case 0xCAFEBABE:
    case 0xCAFEBABF: {
        const std::uint32_t arches = be32(head, 4);
        return arches > 0 && arches <= kMaxFatArches;
    }
    default: return false;
    }
}

// A BMP's file header is followed by a DIB header whose size names its version.
bool is_bmp(std::string_view head)
{
    if (!starts(head, "BM") || head.size() < 18)
        return false;
    constexpr std::array<std::uint32_t, 7> kDibSizes = {12, 40, 52, 56, 64, 108, 124};
    const std::uint32_t dib = le32(head, 14);
    return std::find(kDibSizes.begin(), kDibSizes.end(), dib) != kDibSizes.end();
}

bool is_html(std::string_view head)
{
    if (starts(head, "\xEF\xBB\xBF"))
        head.remove_prefix(3);
    const auto first = head.find_first_not_of(" \t\r\n\f");
    if (first == std::string_view::npos)
        return false;
    head.remove_prefix(first);
    for (std::string_view tag : {std::string_view("<html"), std::string_view("<!doctype html")}) {
        if (head.size() < tag.size() || !iequals(head.substr(0, tag.size()), tag))
            continue;
        if (head.size() == tag.size())
            return true;
        const char next = head[tag.size()];
        if (next == '>' || next == ' ' || next == '\t' || next == '\r' || next == '\n' || next == '\f')
            return true;
    }
    return false;
}

struct Signature {
    std::string_view bytes;
    std::string_view type;
};

constexpr std::string_view operator""_b(const char* s, std::size_t n) { return {s, n}; }

// Fixed bytes at offset 0. Order matters only where one is a prefix of another.
constexpr Signature kSignatures[] = {
    {"\x7F"
     "ELF"_b,
     "application/x-executable"},
    {"#!"_b, "text/x-shellscript"},
    {"PK\x03\x04"_b, "application/zip"},
    {"PK\x05\x06"_b, "application/zip"},           // an empty archive: only its end record
    {"PK\x07\x08PK\x03\x04"_b, "application/zip"}, // split archive marker
    {"Rar!\x1A\x07\x00"_b, "application/vnd.rar"},
    {"Rar!\x1A\x07\x01\x00"_b, "application/vnd.rar"},
    {"7z\xBC\xAF\x27\x1C"_b, "application/x-7z-compressed"},
    {"\x1F\x8B\x08"_b, "application/gzip"},
    {"MSCF\0\0\0\0"_b, "application/vnd.ms-cab-compressed"},
    {"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"_b, "application/x-ole-storage"},
    {"{\\rt"_b, "application/rtf"},
    {"\x89PNG\r\n\x1A\n"_b, "image/png"},
    {"\xFF\xD8\xFF"_b, "image/jpeg"},
    {"GIF87a"_b, "image/gif"},
    {"GIF89a"_b, "image/gif"},
    {"II*\0"_b, "image/tiff"},
    {"MM\0*"_b, "image/tiff"},
};

struct Extension {
    std::string_view ext;
    std::string_view type;
};

// What each extension claims, in detect()'s terms: OOXML, OpenDocument and
// Java archives are zips, legacy Office files and MSI are OLE2.
constexpr Extension kExtensionTypes[] = {
    {"pdf", "application/pdf"},
    {"zip", "application/zip"},
    {"docx", "application/zip"},
    {"xlsx", "application/zip"},
    {"pptx", "application/zip"},
    {"docm", "application/zip"},
    {"xlsm", "application/zip"},
    {"odt", "application/zip"},
    {"ods", "application/zip"},
    {"jar", "application/zip"},
    {"doc", "application/x-ole-storage"},
    {"xls", "application/x-ole-storage"},
    {"ppt", "application/x-ole-storage"},
    {"msi", "application/x-ole-storage"},
    {"rtf", "application/rtf"},
    {"rar", "application/vnd.rar"},
    {"7z", "application/x-7z-compressed"},
    {"gz", "application/gzip"},
    {"tgz", "application/gzip"},
    {"cab", "application/vnd.ms-cab-compressed"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"bmp", "image/bmp"},
    {"webp", "image/webp"},
    {"tif", "image/tiff"},
    {"tiff", "image/tiff"},
    {"exe", "application/x-dosexec"},
    {"dll", "application/x-dosexec"},
    {"scr", "application/x-dosexec"},
    {"html", "text/html"},
    {"htm", "text/html"},
};

constexpr std::string_view kExecutableExtensions[] = {
    "exe", "scr", "com",         "pif",    "bat", "cmd",  "js",  "jse", "vbs", "vbe",  "vb",        "ws",  "wsf", "wsc",
    "wsh", "hta", "jar",         "lnk",    "ps1", "psm1", "msi", "msp", "mst", "cpl",  "reg",       "dll", "scf", "sct",
    "chm", "msc", "application", "gadget", "inf", "url",  "iso", "img", "vhd", "vhdx", "appref-ms", "xll",
};

constexpr std::string_view kExecutableTypes[] = {
    "application/x-dosexec",
    "application/x-msdownload",
    "application/x-msdos-program",
    "application/x-ms-dos-executable",
    "application/vnd.microsoft.portable-executable",
    "application/x-executable",
    "application/x-elf",
    "application/x-mach-binary",
    "text/x-shellscript",
    "application/x-sh",
    "application/x-shellscript",
};

// The last extension of a file name as Windows reads it, "" when it has none.
std::string_view extension_of(std::string_view name)
{
    name = name.substr(0, name.find('\0'));
    const auto slash = name.find_last_of("/\\");
    if (slash != std::string_view::npos)
        name.remove_prefix(slash + 1);
    const auto end = name.find_last_not_of(". ");
    if (end == std::string_view::npos)
        return {};
    name = name.substr(0, end + 1);
    const auto dot = name.rfind('.');
    return dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
}

} // namespace

std::string_view detect(std::string_view head)
{
    if (is_pe(head))
        return "application/x-dosexec";
    if (is_mach_o(head))
        return "application/x-mach-binary";
    for (const auto& sig : kSignatures)
        if (starts(head, sig.bytes))
            return sig.type;
    if (head.size() >= 12 && starts(head, "RIFF") && head.substr(8, 4) == "WEBP")
        return "image/webp";
    if (is_bmp(head))
        return "image/bmp";
    if (head.substr(0, kPdfWindow).find("%PDF-") != std::string_view::npos)
        return "application/pdf";
    if (is_html(head))
        return "text/html";
    return {};
}

bool is_executable_type(std::string_view type)
{
    return std::any_of(std::begin(kExecutableTypes), std::end(kExecutableTypes),
                       [&](std::string_view t) { return iequals(t, type); });
}

bool is_executable_name(std::string_view filename)
{
    const auto ext = extension_of(filename);
    return !ext.empty() && std::any_of(std::begin(kExecutableExtensions), std::end(kExecutableExtensions),
                                       [&](std::string_view e) { return iequals(e, ext); });
}

std::string_view type_of_extension(std::string_view filename)
{
    const auto ext = extension_of(filename);
    for (const auto& e : kExtensionTypes)
        if (!ext.empty() && iequals(e.ext, ext))
            return e.type;
    return {};
}

} // namespace rampart::mime
