// NAME
//   zip_fuzz.cpp - libFuzzer target for type detection and zip member names
// DESCRIPTION
//   Input: 3 bytes of chunk plan (fuzz.hpp), then a part's decoded bytes.
//   detect() gets the first kMagicBytes; the name checks get the bytes up
//   to the first NUL as a file name; ZipReader reads the bytes whole and in
//   the planned pieces, which zip.hpp promises give the same result.
//   Checked also: at most kMaxZipMembers names of at most 255 valid UTF-8
//   bytes, and that every executable type detect() gives is one
//   is_executable_type() knows.
#include "fuzz.hpp"
#include "mime/content.hpp"
#include "mime/encoded_words.hpp"
#include "mime/magic.hpp"
#include "mime/zip.hpp"

using namespace rampart::mime;

namespace {

constexpr std::size_t kMaxNameBytes = 255;

ZipReader read(std::string_view plan, std::string_view bytes)
{
    ZipReader z;
    rampart::fuzz::Chunks chunks(plan, bytes);
    for (auto piece = chunks.next(); !piece.empty(); piece = chunks.next())
        z.feed(piece);
    return z;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    rampart::fuzz::quiet_logs();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view in = rampart::fuzz::as_view(data, size);
    const std::string_view plan = rampart::fuzz::take(in, 3);

    const std::string_view type = detect(in.substr(0, kMagicBytes));
    CONTRACT(detect(in) == type); // bytes past kMagicBytes do not matter
    const std::string_view name = in.substr(0, in.find('\0'));
    (void)is_executable_name(name);
    const std::string_view claimed = type_of_extension(name);
    CONTRACT(claimed.empty() || claimed.find('/') != std::string_view::npos);
    if (type == "application/x-dosexec" || type == "application/x-executable" || type == "application/x-mach-binary" ||
        type == "text/x-shellscript")
        CONTRACT(is_executable_type(type));

    const ZipReader whole = read({}, in);
    const ZipReader pieces = read(plan, in);
    CONTRACT(whole.members() == pieces.members());
    CONTRACT(whole.encrypted() == pieces.encrypted());
    CONTRACT(whole.broken() == pieces.broken());
    CONTRACT(whole.members().size() <= kMaxZipMembers);
    for (const auto& m : whole.members()) {
        CONTRACT(m.size() <= kMaxNameBytes);
        CONTRACT(rampart::valid_utf8(m) == m);
    }
    return 0;
}
