// Tests of content type detection (magic.hpp) and zip member names (zip.hpp).
// Zip archives are written by hand here, byte by byte, so that each test
// controls the flags, sizes and signatures the reader sees.
#include "mime/content.hpp"
#include "mime/encoded_words.hpp"
#include "mime/magic.hpp"
#include "mime/zip.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

using namespace rampart::mime;
using namespace std::string_literals;

namespace {

void put16(std::string& s, std::uint32_t v)
{
    s.push_back(static_cast<char>(v & 0xFF));
    s.push_back(static_cast<char>((v >> 8) & 0xFF));
}

void put32(std::string& s, std::uint32_t v)
{
    put16(s, v & 0xFFFF);
    put16(s, v >> 16);
}

void put64(std::string& s, std::uint64_t v)
{
    put32(s, static_cast<std::uint32_t>(v));
    put32(s, static_cast<std::uint32_t>(v >> 32));
}

// ---------------------------------------------------------------- magic

// An "MZ" stub of `size` bytes whose e_lfanew is `lfanew`, with "PE\0\0" at
// `pe_at` when that fits.
std::string dos_stub(std::size_t size, std::uint32_t lfanew, std::size_t pe_at)
{
    std::string s = "MZ" + std::string(0x3A, '\0');
    put32(s, lfanew);
    s.resize(size, '\0');
    if (pe_at + 4 <= size)
        s.replace(pe_at, 4, "PE\0\0"s);
    return s;
}

std::string bmp(std::uint32_t dib_size)
{
    std::string s = "BM";
    put32(s, 70);
    put32(s, 0);
    put32(s, 54);
    put32(s, dib_size);
    s.resize(70, '\0');
    return s;
}

TEST_CASE("magic: detect() names each known format from its first bytes")
{
    struct Case {
        const char* what;
        std::string head;
        std::string_view want;
    };
    const std::string junk_then_pdf = std::string(500, 'x') + "%PDF-1.4\n";
    const std::string pdf_too_late = std::string(1100, ' ') + "%PDF-1.4\n";
    const Case cases[] = {
        {"PE", dos_stub(256, 0x80, 0x80), "application/x-dosexec"},
        {"PE header in the last 4 bytes", dos_stub(256, 252, 252), "application/x-dosexec"},
        {"ELF",
         "\x7F"
         "ELF\x02\x01\x01"s,
         "application/x-executable"},
        {"Mach-O 32", "\xFE\xED\xFA\xCE\0\0\0\x07"s, "application/x-mach-binary"},
        {"Mach-O 64", "\xFE\xED\xFA\xCF\0\0\0\x07"s, "application/x-mach-binary"},
        {"Mach-O 32 LE", "\xCE\xFA\xED\xFE\x07\0\0\0"s, "application/x-mach-binary"},
        {"Mach-O 64 LE", "\xCF\xFA\xED\xFE\x07\0\0\x01"s, "application/x-mach-binary"},
        {"Mach-O fat, 2 arches", "\xCA\xFE\xBA\xBE\0\0\0\x02"s, "application/x-mach-binary"},
        {"Mach-O fat64", "\xCA\xFE\xBA\xBF\0\0\0\x01"s, "application/x-mach-binary"},
        {"Java class (same magic, version 52)", "\xCA\xFE\xBA\xBE\0\0\0\x34"s, ""},
        {"shell script", "#!/bin/sh\necho hi\n", "text/x-shellscript"},
        {"zip", "PK\x03\x04\x14\0\0\0"s, "application/zip"},
        {"empty zip", "PK\x05\x06"s + std::string(18, '\0'), "application/zip"},
        {"split zip", "PK\x07\x08PK\x03\x04"s, "application/zip"},
        {"rar 4", "Rar!\x1A\x07\x00\xCF"s, "application/vnd.rar"},
        {"rar 5", "Rar!\x1A\x07\x01\x00"s, "application/vnd.rar"},
        {"7z", "7z\xBC\xAF\x27\x1C\0\x04"s, "application/x-7z-compressed"},
        {"gzip", "\x1F\x8B\x08\0\0\0\0\0"s, "application/gzip"},
        {"cab", "MSCF\0\0\0\0\x10\x20"s, "application/vnd.ms-cab-compressed"},
        {"PDF", "%PDF-1.7\n", "application/pdf"},
        {"PDF after white space", "\r\n  %PDF-1.5", "application/pdf"},
        {"PDF after 500 bytes", junk_then_pdf, "application/pdf"},
        {"PDF past 1024 bytes", pdf_too_late, ""},
        {"OLE2", "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0"s, "application/x-ole-storage"},
        {"RTF", "{\\rtf1\\ansi", "application/rtf"},
        {"RTF cut short, as Word still opens it", "{\\rtx", "application/rtf"},
        {"PNG", "\x89PNG\r\n\x1A\n\0\0\0\x0DIHDR"s, "image/png"},
        {"JPEG", "\xFF\xD8\xFF\xE0\0\x10JFIF"s, "image/jpeg"},
        {"GIF87a", "GIF87a\x01\0", "image/gif"},
        {"GIF89a", "GIF89a\x01\0", "image/gif"},
        {"BMP", bmp(40), "image/bmp"},
        {"BMP v5", bmp(124), "image/bmp"},
        {"text starting with BM", "BMW sales are up this quarter, see the figures", ""},
        {"WebP", "RIFF\x24\0\0\0WEBPVP8 "s, "image/webp"},
        {"RIFF that is not WebP", "RIFF\x24\0\0\0WAVEfmt "s, ""},
        {"TIFF LE", "II*\0\x08\0\0\0"s, "image/tiff"},
        {"TIFF BE", "MM\0*\0\0\0\x08"s, "image/tiff"},
        {"HTML", "<html><body>hi</body></html>", "text/html"},
        {"HTML upper case after white space", " \r\n\t<HTML lang=\"en\">", "text/html"},
        {"HTML doctype", "<!DOCTYPE html>\n<html>", "text/html"},
        {"HTML doctype, old style", "<!doctype HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\">", "text/html"},
        {"HTML after a byte order mark", "\xEF\xBB\xBF<html>", "text/html"},
        {"not a html tag", "<htmlish>", ""},
        {"plain text", "Dear customer, your invoice is attached.", ""},
        {"empty", "", ""},
    };
    for (const auto& c : cases) {
        CAPTURE(c.what);
        CHECK(detect(c.head) == c.want);
    }
}

TEST_CASE("magic: MZ is an executable only through a PE header inside the head")
{
    struct Case {
        const char* what;
        std::string head;
    };
    const Case cases[] = {
        {"MZ alone", "MZ"},
        {"MZ text", "MZ is where the text begins, nothing more to see"},
        {"no PE signature at e_lfanew", dos_stub(256, 0x80, 0x90)},
        {"e_lfanew past the head", dos_stub(256, 0x200, 0x300)},
        {"PE header cut by the end of the head", dos_stub(256, 253, 256)},
        {"e_lfanew 0xFFFFFFFF", dos_stub(256, 0xFFFFFFFF, 0x80)},
        {"e_lfanew 0xFFFFFFFC", dos_stub(256, 0xFFFFFFFC, 0x80)},
        {"e_lfanew 2^32 - size", dos_stub(256, 0xFFFFFF00, 0x80)},
        {"e_lfanew 2^32 - 2", dos_stub(256, 0xFFFFFFFE, 0x80)},
        {"stub shorter than its e_lfanew field", dos_stub(0x3E, 0x40, 0x40)},
    };
    for (const auto& c : cases) {
        CAPTURE(c.what);
        CHECK(detect(c.head) != "application/x-dosexec");
        CHECK_FALSE(is_executable_type(detect(c.head)));
    }
}

TEST_CASE("magic: executable types are those of programs and scripts")
{
    for (std::string_view t : {"application/x-dosexec", "application/x-executable", "application/x-mach-binary",
                               "text/x-shellscript", "application/x-msdownload", "Application/X-DOSEXEC"}) {
        CAPTURE(t);
        CHECK(is_executable_type(t));
    }
    for (std::string_view t : {"application/pdf", "application/zip", "text/html", "image/png", "", "application"}) {
        CAPTURE(t);
        CHECK_FALSE(is_executable_type(t));
    }
    CHECK(is_executable_type(detect(dos_stub(128, 64, 64))));
    CHECK(is_executable_type(detect("#!/usr/bin/perl\n")));
}

TEST_CASE("magic: file names whose last extension runs on Windows")
{
    struct Case {
        std::string name;
        bool want;
    };
    const Case cases[] = {
        {"invoice.pdf.exe", true},
        {"invoice.exe.pdf", false},
        {"SETUP.EXE", true},
        {"run.exe.", true},    // Windows drops trailing dots
        {"run.exe . .", true}, // and spaces
        {"run.exe  ", true},
        {"script.js", true},
        {"script.JSE", true},
        {"a.vbs", true},
        {"a.vbe", true},
        {"a.wsf", true},
        {"a.wsh", true},
        {"a.hta", true},
        {"a.scr", true},
        {"a.com", true},
        {"a.pif", true},
        {"a.bat", true},
        {"a.cmd", true},
        {"a.jar", true},
        {"a.lnk", true},
        {"a.ps1", true},
        {"a.msi", true},
        {"a.msp", true},
        {"a.cpl", true},
        {"a.reg", true},
        {"a.dll", true},
        {"disk.iso", true}, // mounted on a double click
        {"disk.img", true},
        {"dir/evil.scr", true},
        {"C:\\Users\\x\\evil.bat", true},
        {"evil.exe\\readme.txt", false}, // the last path component counts
        {"evil.exe\0.txt"s, true},       // read up to the NUL
        {".exe", true},
        {"exe", false},
        {"noextension", false},
        {"", false},
        {"...", false},
        {"photo.jpg", false},
        {"archive.zip", false},
        {"report.docx", false},
        {"file.exe_", false},
    };
    for (const auto& c : cases) {
        CAPTURE(c.name);
        CHECK(is_executable_name(c.name) == c.want);
    }
}

TEST_CASE("magic: the type an extension claims is the one detect() gives that format")
{
    struct Case {
        const char* name;
        std::string_view want;
        std::string sample; // bytes of such a file, "" when none is needed
    };
    const Case cases[] = {
        {"invoice.pdf", "application/pdf", "%PDF-1.7"},
        {"a.zip", "application/zip", "PK\x03\x04"s},
        {"a.docx", "application/zip", "PK\x03\x04"s},
        {"a.XLSX", "application/zip", "PK\x03\x04"s},
        {"a.doc", "application/x-ole-storage", "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"s},
        {"a.xls", "application/x-ole-storage", "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"s},
        {"a.png", "image/png", "\x89PNG\r\n\x1A\n"s},
        {"a.jpg", "image/jpeg", "\xFF\xD8\xFF\xE1"s},
        {"a.JPEG", "image/jpeg", "\xFF\xD8\xFF\xDB"s},
        {"a.gif", "image/gif", "GIF89a"},
        {"a.exe", "application/x-dosexec", dos_stub(128, 64, 64)},
        {"a.html", "text/html", "<html>"},
        {"a.htm", "text/html", "<!doctype html>"},
        {"a.rtf", "application/rtf", "{\\rtf1"},
        {"a.rar", "application/vnd.rar", "Rar!\x1A\x07\x01\x00"s},
        {"a.7z", "application/x-7z-compressed", "7z\xBC\xAF\x27\x1C"s},
        {"a.gz", "application/gzip", "\x1F\x8B\x08"s},
        {"a.pdf.", "application/pdf", ""},
        {"invoice.pdf.exe", "application/x-dosexec", ""},
        {"a.txt", "", ""},
        {"noextension", "", ""},
        {"a.unknown", "", ""},
    };
    for (const auto& c : cases) {
        CAPTURE(c.name);
        CHECK(type_of_extension(c.name) == c.want);
        if (!c.sample.empty())
            CHECK(detect(c.sample) == c.want);
    }
}

// ---------------------------------------------------------------- zip

struct Member {
    std::string name;
    std::string data;
    std::uint16_t flags = 0;
    bool descriptor = false;    // sizes 0 in the header, a data descriptor after the data
    bool zip64 = false;         // sizes 0xFFFFFFFF in the header, the real ones in a ZIP64 extra field
    std::int64_t declared = -1; // compressed size written in the header, when not the real one
    std::string extra_before;   // extra fields written before the ZIP64 one

    Member(std::string n, std::string d) : name(std::move(n)), data(std::move(d)) {}
    Member& encrypted()
    {
        flags |= 0x01;
        return *this;
    }
    Member& with_descriptor()
    {
        descriptor = true;
        return *this;
    }
    Member& with_zip64()
    {
        zip64 = true;
        return *this;
    }
    Member& size(std::int64_t n)
    {
        declared = n;
        return *this;
    }
    Member& extra(std::string e)
    {
        extra_before = std::move(e);
        return *this;
    }
};

std::string local_header(const Member& m)
{
    const std::uint16_t flags = static_cast<std::uint16_t>(m.flags | (m.descriptor ? 0x08 : 0));
    std::uint32_t size = static_cast<std::uint32_t>(m.data.size());
    if (m.descriptor)
        size = 0;
    if (m.declared >= 0)
        size = static_cast<std::uint32_t>(m.declared);
    std::string extra = m.extra_before;
    if (m.zip64) {
        put16(extra, 0x0001);
        put16(extra, 16);
        put64(extra, m.data.size());
        put64(extra, m.data.size());
        size = 0xFFFFFFFF;
    }
    std::string s = "PK\x03\x04";
    put16(s, 20);    // version needed
    put16(s, flags); // general purpose bits
    put16(s, 0);     // stored
    put32(s, 0);     // time and date
    put32(s, 0);     // crc-32, not checked
    put32(s, size);
    put32(s, size);
    put16(s, static_cast<std::uint32_t>(m.name.size()));
    put16(s, static_cast<std::uint32_t>(extra.size()));
    return s + m.name + extra;
}

// Local headers and data, then (when `central`) the central directory and end record.
std::string zip_of(const std::vector<Member>& members, bool central = true)
{
    std::string out;
    std::vector<std::uint32_t> offsets;
    for (const auto& m : members) {
        offsets.push_back(static_cast<std::uint32_t>(out.size()));
        out += local_header(m) + m.data;
        if (m.descriptor) {
            out += "PK\x07\x08";
            put32(out, 0);
            put32(out, static_cast<std::uint32_t>(m.data.size()));
            put32(out, static_cast<std::uint32_t>(m.data.size()));
        }
    }
    if (!central)
        return out;
    const auto cd_at = static_cast<std::uint32_t>(out.size());
    for (std::size_t i = 0; i < members.size(); ++i) {
        out += "PK\x01\x02";
        put16(out, 20);
        put16(out, 20);
        put16(out, members[i].flags);
        put16(out, 0);
        put32(out, 0);
        put32(out, 0);
        put32(out, static_cast<std::uint32_t>(members[i].data.size()));
        put32(out, static_cast<std::uint32_t>(members[i].data.size()));
        put16(out, static_cast<std::uint32_t>(members[i].name.size()));
        put16(out, 0);
        put16(out, 0);
        put16(out, 0);
        put16(out, 0);
        put32(out, 0);
        put32(out, offsets[i]);
        out += members[i].name;
    }
    const auto cd_size = static_cast<std::uint32_t>(out.size()) - cd_at;
    out += "PK\x05\x06";
    put32(out, 0);
    put16(out, static_cast<std::uint32_t>(members.size()));
    put16(out, static_cast<std::uint32_t>(members.size()));
    put32(out, cd_size);
    put32(out, cd_at);
    put16(out, 0);
    return out;
}

struct ZipResult {
    std::vector<std::string> members;
    bool encrypted;
    bool broken;
    bool operator==(const ZipResult&) const = default;
};

ZipResult read_zip(std::string_view bytes, std::size_t chunk)
{
    ZipReader z;
    for (std::size_t at = 0; at < bytes.size(); at += chunk)
        z.feed(bytes.substr(at, chunk));
    return {z.members(), z.encrypted(), z.broken()};
}

// Reads `bytes` whole and in several chunk sizes; all must agree.
ZipResult read_every_way(std::string_view bytes)
{
    const ZipResult whole = read_zip(bytes, bytes.size() + 1);
    for (std::size_t chunk : {1, 2, 3, 4, 7, 29, 30, 31, 64, 4096}) {
        CAPTURE(chunk);
        CHECK(read_zip(bytes, chunk) == whole);
    }
    return whole;
}

using Names = std::vector<std::string>;

TEST_CASE("zip: member names, encryption and broken archives, the same in any chunking")
{
    // Stored data that holds an archive of its own: read by its size, its
    // headers are data, not members.
    const std::string inner = zip_of({{"inner.txt", "x"}});
    const std::string not_zip = "This is not an archive at all, only text.";
    const std::string two = zip_of({{"a.txt", "hello"}, {"b.exe", "MZ"}});
    struct Case {
        const char* what;
        std::string bytes;
        Names names;
        bool encrypted;
        bool broken;
    };
    const Case cases[] = {
        {"two stored members", two, {"a.txt", "b.exe"}, false, false},
        {"empty members and a directory",
         zip_of({{"dir/", ""}, {"dir/e.txt", ""}}),
         {"dir/", "dir/e.txt"},
         false,
         false},
        {"encrypted member",
         zip_of({{"a.txt", "x"}, Member("secret.exe", "zzzz").encrypted()}),
         {"a.txt", "secret.exe"},
         true,
         false},
        {"data descriptor",
         zip_of({Member("first.bin", "data without size").with_descriptor(), {"second.js", "x"}}),
         {"first.bin", "second.js"},
         false,
         false},
        {"data descriptor on the last member",
         zip_of({{"a.txt", "x"}, Member("b.txt", "yy").with_descriptor()}),
         {"a.txt", "b.txt"},
         false,
         false},
        {"descriptor with a declared size",
         zip_of({Member("outer.zip", inner).with_descriptor().size(std::int64_t(inner.size())), {"after.exe", "x"}}),
         {"outer.zip", "after.exe"},
         false,
         false},
        {"stored archive inside",
         zip_of({{"outer.zip", inner}, {"after.exe", "x"}}),
         {"outer.zip", "after.exe"},
         false,
         false},
        {"ZIP64 sizes",
         zip_of({Member("big.bin", "0123456789").with_zip64(), {"next.scr", "x"}}),
         {"big.bin", "next.scr"},
         false,
         false},
        {"ZIP64 after another extra field",
         zip_of({Member("big.bin", "0123456789").with_zip64().extra("UT\x05\0\x01\0\0\0\0"s), {"next.scr", "x"}}),
         {"big.bin", "next.scr"},
         false,
         false},
        {"extra field claiming more than there is",
         zip_of({Member("odd.bin", "abc").extra("\x55\x54\xFF\x00\x01"s), {"next.txt", "x"}}),
         {"odd.bin", "next.txt"},
         false,
         false},
        {"only an end record", zip_of({}), {}, false, false},
        {"split archive marker", "PK\x07\x08"s + two, {"a.txt", "b.exe"}, false, false},
        {"no central directory, archive cut after a member", zip_of({{"a.txt", "hi"}}, false), {"a.txt"}, false, false},
        {"cut inside a header", two.substr(0, 45), {"a.txt"}, false, false},
        {"cut inside a name", two.substr(0, 32), {}, false, false},
        {"not a zip", not_zip, {}, false, true},
        {"size one byte short", zip_of({Member("a.txt", "hello").size(4), {"b.txt", "x"}}), {"a.txt"}, false, true},
        {"size beyond the end: the rest is not read",
         zip_of({Member("a.txt", "hello").size(0x7FFFFFFF), {"b.exe", "x"}}),
         {"a.txt"},
         false,
         false},
        {"size 0xFFFFFFFF without ZIP64",
         zip_of({Member("a.txt", "hello").size(0xFFFFFFFF), {"b.exe", "x"}}),
         {"a.txt"},
         false,
         false},
        {"garbage after the members", zip_of({{"a.txt", "x"}}, false) + "garbage", {"a.txt"}, false, true},
        {"PK but another signature", "PK\x09\x09rest"s, {}, false, true},
        {"split marker only first", zip_of({{"a.txt", "x"}}, false) + "PK\x07\x08"s, {"a.txt"}, false, true},
    };
    for (const auto& c : cases) {
        CAPTURE(c.what);
        const ZipResult got = read_every_way(c.bytes);
        CHECK(got.members == c.names);
        CHECK(got.encrypted == c.encrypted);
        CHECK(got.broken == c.broken);
    }
}

TEST_CASE("zip: names are made printable UTF-8 of at most 255 bytes, keeping the extension")
{
    struct Case {
        const char* what;
        std::string name;
        std::string want;
    };
    const std::string long_name = std::string(996, 'a') + ".exe";
    const std::string long_utf8 = [] {
        std::string s;
        for (int i = 0; i < 300; ++i)
            s += "\xC3\xA9"; // é
        return s + ".js";
    }();
    const Case cases[] = {
        {"control characters", "a\tb\x1B[2J\x7F.txt", "a?b?[2J?.txt"},
        {"invalid UTF-8", "caf\xE9.exe", "caf\xEF\xBF\xBD.exe"},
        {"valid UTF-8 kept", "\xD0\xB4\xD0\xB0.pdf", "\xD0\xB4\xD0\xB0.pdf"},
        {"cut at a NUL", "evil.exe\0.txt"s, "evil.exe"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.what);
        const ZipResult got = read_every_way(zip_of({{c.name, "x"}}));
        REQUIRE(got.members.size() == 1);
        CHECK(got.members[0] == c.want);
    }
    for (const std::string& name : {long_name, long_utf8, std::string(65531, 'n') + ".scr"}) {
        const ZipResult got = read_every_way(zip_of({{name, "x"}, {"next.txt", "y"}}));
        REQUIRE(got.members.size() == 2);
        const std::string& kept = got.members[0];
        CHECK(kept.size() <= 255);
        CHECK(kept.substr(0, 10) == name.substr(0, 10));
        CHECK(kept.find("...") != std::string::npos);
        CHECK(kept.substr(kept.size() - 3) == name.substr(name.size() - 3));
        CHECK(rampart::valid_utf8(kept) == kept);
        CHECK(got.members[1] == "next.txt");
    }
}

TEST_CASE("zip: at most kMaxZipMembers names, later members still read")
{
    std::vector<Member> members;
    for (std::size_t i = 0; i < kMaxZipMembers + 6; ++i)
        members.emplace_back("m" + std::to_string(i) + ".txt", "data");
    members.back().encrypted(); // only the last, unnamed one is encrypted
    const ZipResult got = read_every_way(zip_of(members));
    REQUIRE(got.members.size() == kMaxZipMembers);
    CHECK(got.members.front() == "m0.txt");
    CHECK(got.members.back() == "m" + std::to_string(kMaxZipMembers - 1) + ".txt");
    CHECK(got.encrypted);
    CHECK_FALSE(got.broken);
}

TEST_CASE("zip: nothing more is read once done")
{
    ZipReader z;
    z.feed("not a zip");
    REQUIRE(z.broken());
    z.feed(zip_of({{"late.exe", "x"}}));
    CHECK(z.members().empty());
}

} // namespace
