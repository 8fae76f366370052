// NAME
//   zip.hpp - member names of a zip archive, read as its bytes stream by
// DESCRIPTION
//   A zip attachment hides what it carries; its local file headers name
//   each member and say whether it is encrypted. ZipReader is fed the
//   decoded bytes of a part in chunks of any size and reads the local
//   headers in order, skipping each member's data by its declared size
//   (members written with a data descriptor, whose size is not known
//   ahead, are searched for the next local header signature instead).
//   It stops at the central directory or at anything it cannot read.
// LIMITS
//   At most kMaxZipMembers (content.hpp) names, each at most 255 bytes; a
//   name is held whole only while its header arrives (at most 64 KiB).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::mime {

class ZipReader {
  public:
    void feed(std::string_view bytes);
    const std::vector<std::string>& members() const { return d_members; }
    bool encrypted() const { return d_encrypted; }
    bool broken() const { return d_broken; } // what followed could not be read as zip

  private:
    enum class Step { header, name, extra, skip, search, done };
    std::size_t read_header(std::string_view in);
    std::size_t read_name(std::string_view in);
    std::size_t read_extra(std::string_view in);
    std::size_t search(std::string_view in);
    void start_member();
    void end_extra_field();
    void end_member();

    Step d_step = Step::header;
    std::string d_buf;           // the fixed header as it arrives, then the name
    std::uint16_t d_flags = 0;   // general purpose bits of the current member
    std::uint32_t d_size32 = 0;  // compressed size as the fixed header gives it
    std::uint32_t d_usize32 = 0; // uncompressed size, the same
    std::uint64_t d_size = 0;    // compressed size, after ZIP64
    std::uint64_t d_skip = 0;    // data bytes of the current member still to skip
    std::size_t d_name_len = 0;  // name bytes still to come
    std::size_t d_extra_len = 0; // extra field bytes still to come
    std::string d_field;         // one extra field: 4 bytes of id and size, then up to 16 of ZIP64 sizes
    std::size_t d_field_len = 0; // bytes of that field's data still to come
    std::uint32_t d_window = 0;  // the last four bytes seen while searching for a signature
    bool d_started = false;      // a signature was read
    std::vector<std::string> d_members;
    bool d_encrypted = false;
    bool d_broken = false;
};

} // namespace rampart::mime
