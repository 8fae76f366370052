// NAME
//   header_fuzz.cpp - libFuzzer target for header values: RFC 2047 encoded
//   words and the parameters of Content-Type and Content-Disposition
// DESCRIPTION
//   The input is one header field value, given to decode_header_value()
//   and to each parser of params.hpp; every parameter of the generic parse
//   also goes through file_name(). Checked: the ceilings of both headers
//   (decoded bytes, parameter count, token and file name lengths), that
//   file names are valid UTF-8, and that a content type is "" or
//   "type/subtype".
#include "fuzz.hpp"
#include "mime/content.hpp"
#include "mime/encoded_words.hpp"
#include "mime/params.hpp"

#include <string>

using namespace rampart;
using namespace rampart::mime;

namespace {

bool is_utf8(const std::string& s) { return valid_utf8(s) == s; }

void check_file_name(const std::string& name)
{
    CONTRACT(name.size() <= kMaxFilenameBytes);
    CONTRACT(is_utf8(name));
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    fuzz::quiet_logs();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view in = fuzz::as_view(data, size);

    const DecodedHeader d = decode_header_value(in);
    CONTRACT(d.text.size() <= kMaxDecodedBytes);
    CONTRACT(d.encoded_words <= kMaxEncodedWords);

    const FieldValue f = parse_field_value(in);
    CONTRACT(f.params.size() <= kMaxParams);
    for (const auto& p : f.params) {
        check_file_name(file_name(p));
        CONTRACT(f.find(p.name) != nullptr);
    }

    const ContentType t = parse_content_type(in);
    CONTRACT(t.type.empty() || t.type.find('/') != std::string::npos);
    CONTRACT(t.type.size() <= kMaxTokenBytes);
    CONTRACT(t.charset.size() <= kMaxTokenBytes);
    check_file_name(t.name);

    const Disposition disp = parse_disposition(in);
    CONTRACT(disp.kind.empty() || disp.kind == "inline" || disp.kind == "attachment");
    check_file_name(disp.filename);

    CONTRACT(parse_transfer_encoding(in).size() <= kMaxTokenBytes);
    return 0;
}
