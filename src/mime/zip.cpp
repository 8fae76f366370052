// NAME
//   zip.cpp - member names of a zip archive, read as its bytes stream by
// DESCRIPTION
//   A small state machine over the local file headers (APPNOTE 4.3.7):
//   the 30-byte fixed header, the name, the extra field (read field by
//   field, keeping only the ZIP64 sizes, so that an extra field is never
//   held), then the member's data, skipped by its compressed size. A member
//   with a data descriptor (flag bit 3) has its declared size skipped (most
//   writers declare 0) and then the bytes are searched for the next
//   signature, passing over the descriptor. A split-archive marker before
//   the first header is passed over. The central directory or the end
//   record ends the reading; any other bytes where a header belongs set
//   broken(). A size larger than what arrives only means that the rest is
//   never reached.
//
//   Names are cut at a NUL (the C string APIs of extractors stop there),
//   invalid UTF-8 is replaced, control characters become '?', and a name
//   longer than kMaxNameBytes keeps its start and its end, joined by
//   "...", so that its extension is still seen. Members past
//   kMaxZipMembers are read (an encrypted one still counts) but not named.
// LIMITS
//   At most the fixed header and one name (65535 bytes) are held, plus 20
//   bytes of an extra field; state is the same whatever the chunking.
#include "mime/zip.hpp"

#include "mime/content.hpp"
#include "mime/encoded_words.hpp"

#include <algorithm>

namespace rampart::mime {
namespace {

constexpr std::size_t kFixedHeader = 30;
constexpr std::size_t kSignatureBytes = 4;
constexpr std::size_t kMaxNameBytes = 255;
constexpr std::size_t kNameHeadBytes = 200;      // of a long name; its tail fills the rest after "..."
constexpr std::size_t kZip64FieldBytes = 4 + 16; // id, size, uncompressed and compressed sizes
constexpr std::uint16_t kZip64Id = 0x0001;
constexpr std::uint16_t kFlagEncrypted = 1 << 0;
constexpr std::uint16_t kFlagDescriptor = 1 << 3;
constexpr std::uint32_t kSizeInZip64 = 0xFFFFFFFF;

constexpr std::uint32_t kLocalHeader = 0x504B0304; // "PK\3\4" as the bytes arrive
constexpr std::uint32_t kCentralHeader = 0x504B0102;
constexpr std::uint32_t kEndRecord = 0x504B0506;
constexpr std::uint32_t kZip64EndRecord = 0x504B0606;
constexpr std::uint32_t kZip64EndLocator = 0x504B0607;
constexpr std::uint32_t kSplitMarker = 0x504B0708;
constexpr std::uint32_t kSpannedOnceMarker = 0x504B3030; // "PK00"

std::uint64_t le(std::string_view s, std::size_t at, std::size_t bytes)
{
    std::uint64_t v = 0;
    for (std::size_t i = bytes; i-- > 0;)
        v = (v << 8) | static_cast<unsigned char>(s[at + i]);
    return v;
}

std::uint32_t be32(std::string_view s)
{
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < kSignatureBytes; ++i)
        v = (v << 8) | static_cast<unsigned char>(s[i]);
    return v;
}

bool continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

std::string clean_name(std::string_view raw)
{
    std::string name = valid_utf8(raw.substr(0, raw.find('\0')));
    for (char& c : name) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F)
            c = '?';
    }
    if (name.size() <= kMaxNameBytes)
        return name;
    std::size_t head = kNameHeadBytes;
    while (head > 0 && continuation(name[head]))
        --head;
    std::size_t tail = name.size() - (kMaxNameBytes - kNameHeadBytes - 3);
    while (tail < name.size() && continuation(name[tail]))
        ++tail;
    return name.substr(0, head) + "..." + name.substr(tail);
}

} // namespace

void ZipReader::feed(std::string_view bytes)
{
    while (!bytes.empty() && d_step != Step::done) {
        std::size_t used = 0;
        switch (d_step) {
        case Step::header: used = read_header(bytes); break;
        case Step::name: used = read_name(bytes); break;
        case Step::extra: used = read_extra(bytes); break;
        case Step::skip:
            used = static_cast<std::size_t>(std::min<std::uint64_t>(d_skip, bytes.size()));
            d_skip -= used;
            if (d_skip == 0) {
                d_window = 0;
                d_step = (d_flags & kFlagDescriptor) ? Step::search : Step::header;
            }
            break;
        case Step::search: used = search(bytes); break;
        case Step::done: break;
        }
        bytes.remove_prefix(used);
    }
}

std::size_t ZipReader::read_header(std::string_view in)
{
    const std::size_t want = d_buf.size() < kSignatureBytes ? kSignatureBytes : kFixedHeader;
    const std::size_t take = std::min(want - d_buf.size(), in.size());
    d_buf.append(in.substr(0, take));
    if (d_buf.size() == kSignatureBytes) {
        const std::uint32_t sig = be32(d_buf);
        const bool first = !d_started;
        d_started = true;
        if (sig == kLocalHeader)
            return take;
        d_buf.clear();
        if (first && (sig == kSplitMarker || sig == kSpannedOnceMarker))
            return take;
        if (sig != kCentralHeader && sig != kEndRecord && sig != kZip64EndRecord && sig != kZip64EndLocator)
            d_broken = true;
        d_step = Step::done;
        return take;
    }
    if (d_buf.size() == kFixedHeader)
        start_member();
    return take;
}

void ZipReader::start_member()
{
    d_flags = static_cast<std::uint16_t>(le(d_buf, 6, 2));
    d_size32 = static_cast<std::uint32_t>(le(d_buf, 18, 4));
    d_usize32 = static_cast<std::uint32_t>(le(d_buf, 22, 4));
    d_size = d_size32;
    d_name_len = static_cast<std::size_t>(le(d_buf, 26, 2));
    d_extra_len = static_cast<std::size_t>(le(d_buf, 28, 2));
    if (d_flags & kFlagEncrypted)
        d_encrypted = true;
    d_buf.clear();
    d_step = Step::name;
    if (d_name_len == 0)
        read_name({});
}

std::size_t ZipReader::read_name(std::string_view in)
{
    const std::size_t take = std::min(d_name_len, in.size());
    d_buf.append(in.substr(0, take));
    d_name_len -= take;
    if (d_name_len > 0)
        return take;
    if (d_members.size() < kMaxZipMembers)
        d_members.push_back(clean_name(d_buf));
    d_buf.clear();
    d_field.clear();
    d_step = Step::extra;
    if (d_extra_len == 0)
        end_member();
    return take;
}

// The extra field is a list of (id, size, data); only ZIP64's data is kept.
std::size_t ZipReader::read_extra(std::string_view in)
{
    std::size_t used = 0;
    while (used < in.size() && d_extra_len > 0) {
        const std::size_t avail = std::min(in.size() - used, d_extra_len);
        if (d_field.size() < 4) {
            const std::size_t take = std::min(4 - d_field.size(), avail);
            d_field.append(in.substr(used, take));
            used += take;
            d_extra_len -= take;
            if (d_field.size() == 4) {
                // A field claiming more than the extra field holds ends with it.
                d_field_len = std::min(static_cast<std::size_t>(le(d_field, 2, 2)), d_extra_len);
                if (d_field_len == 0)
                    end_extra_field();
            }
            continue;
        }
        const std::size_t take = std::min(d_field_len, avail);
        if (le(d_field, 0, 2) == kZip64Id)
            d_field.append(
                in.substr(used, std::min(take, kZip64FieldBytes - std::min(d_field.size(), kZip64FieldBytes))));
        used += take;
        d_extra_len -= take;
        d_field_len -= take;
        if (d_field_len == 0)
            end_extra_field();
    }
    if (d_extra_len == 0)
        end_member();
    return used;
}

// ZIP64 sizes come in a fixed order, uncompressed first; a local header
// should carry both, but some writers put only those that overflowed.
void ZipReader::end_extra_field()
{
    if (d_field.size() >= 4 && le(d_field, 0, 2) == kZip64Id && d_size32 == kSizeInZip64) {
        const std::string_view data = std::string_view(d_field).substr(4);
        if (data.size() >= 16)
            d_size = le(data, 8, 8);
        else if (data.size() >= 8 && d_usize32 != kSizeInZip64)
            d_size = le(data, 0, 8);
    }
    d_field.clear();
}

void ZipReader::end_member()
{
    d_field.clear();
    d_skip = d_size;
    d_window = 0;
    if (d_skip > 0)
        d_step = Step::skip;
    else
        d_step = (d_flags & kFlagDescriptor) ? Step::search : Step::header;
}

std::size_t ZipReader::search(std::string_view in)
{
    for (std::size_t i = 0; i < in.size(); ++i) {
        d_window = (d_window << 8) | static_cast<unsigned char>(in[i]);
        if (d_window == kLocalHeader) {
            d_buf.assign("PK\x03\x04");
            d_step = Step::header;
            return i + 1;
        }
        if (d_window == kCentralHeader || d_window == kEndRecord) {
            d_step = Step::done;
            return i + 1;
        }
    }
    return in.size();
}

} // namespace rampart::mime
