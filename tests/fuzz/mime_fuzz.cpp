// NAME
//   mime_fuzz.cpp - libFuzzer target for the streaming MIME parser
// DESCRIPTION
//   Input: 1 byte of options, 3 bytes of chunk plan (fuzz.hpp), then a
//   message. Its header section (up to the first empty line) is unfolded
//   and handed over field by field, as the MTA does; the body goes in
//   pieces of the planned sizes. Option bit 0 picks small limits, so that
//   each ceiling of content.hpp is reached. The message is parsed twice,
//   its body once whole and once in pieces: parser.hpp promises chunks of
//   any size, so both must learn the same (when the message is read to its
//   end). The ceilings of content.hpp are
//   checked on the result.
#include "fuzz.hpp"
#include "mime/parser.hpp"

#include <string>
#include <vector>

using namespace rampart::mime;

namespace {

struct Field {
    std::string name, value;
};

// Unfolds the header section; a line without a colon becomes a field with
// no value, so that the parser sees nonsense too.
std::vector<Field> header_fields(std::string_view& msg)
{
    std::vector<Field> fields;
    while (!msg.empty()) {
        const auto eol = msg.find('\n');
        std::string_view line = msg.substr(0, eol);
        msg.remove_prefix(eol == std::string_view::npos ? msg.size() : eol + 1);
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (line.empty())
            break;
        if ((line.front() == ' ' || line.front() == '\t') && !fields.empty()) {
            fields.back().value += line;
            continue;
        }
        const auto colon = line.find(':');
        Field f{std::string(line.substr(0, colon)), ""};
        if (colon != std::string_view::npos) {
            std::string_view value = line.substr(colon + 1);
            if (!value.empty() && value.front() == ' ')
                value.remove_prefix(1);
            f.value = value;
        }
        fields.push_back(std::move(f));
    }
    return fields;
}

Limits limits_for(unsigned char options)
{
    Limits l;
    if (options & 1) {
        l.depth = 3;
        l.parts = 8;
        l.part_headers = 6;
        l.line_bytes = 200;
        l.part_scan_bytes = 2048;
        l.message_scan_bytes = 16 * 1024;
    }
    return l;
}

// What the parser learned, as one string to compare.
std::string summary(const Content& c, const std::string& streamed)
{
    std::string s = c.text + "\n--streamed\n" + streamed.substr(0, kKeptTextBytes) + "\n--parts\n";
    for (const auto& p : c.parts) {
        s += p.content_type + "|" + p.charset + "|" + p.transfer_encoding + "|" + p.disposition + "|" + p.filename +
             "|" + p.detected_type + "|" + std::to_string(p.decoded_bytes) + "|" + std::to_string(p.depth) + "|" +
             std::to_string(p.alternative) + "|" + std::to_string(p.text_chars) + "|" + p.text_sample + "|" +
             (p.zip_encrypted ? "E" : "-");
        for (const auto& m : p.zip_members)
            s += "|" + m;
        s += "\n";
    }
    s += "--urls\n";
    for (const auto& u : c.urls)
        s += u.text + " " + u.host + (u.ip ? " ip" : "") + (u.obfuscated ? " obf" : "") + "\n";
    for (const auto& l : c.links)
        s += l.href + " " + l.text + "\n";
    const Defects& d = c.defects;
    for (bool b : {d.unterminated_multipart, d.missing_boundary, d.bad_base64, d.bad_qp, d.unknown_charset,
                   d.bad_charset_bytes, d.nul_bytes, d.eight_bit_headers, c.truncated})
        s += b ? '1' : '0';
    for (Limit l : c.limits_hit)
        s += std::string(" ") + to_string(l);
    for (std::size_t n :
         {c.html_visible_chars, c.html_hidden_chars, c.html_tiny_chars, c.html_images, c.plain_chars, c.body_bytes})
        s += " " + std::to_string(n);
    return s;
}

void check_ceilings(const Content& c, const Limits& limits)
{
    CONTRACT(c.parts.size() <= limits.parts);
    CONTRACT(c.text.size() <= kKeptTextBytes);
    CONTRACT(c.urls.size() <= kMaxUrls);
    CONTRACT(c.links.size() <= kMaxLinks);
    CONTRACT(c.body_bytes <= limits.message_scan_bytes || c.truncated);
    for (const auto& p : c.parts) {
        CONTRACT(p.filename.size() <= kMaxFilenameBytes);
        CONTRACT(p.text_sample.size() <= kTextSampleBytes);
        CONTRACT(p.zip_members.size() <= kMaxZipMembers);
    }
    for (const auto& u : c.urls)
        CONTRACT(u.text.size() <= kMaxUrlBytes);
    std::vector<bool> seen(kLimitKinds, false);
    for (Limit l : c.limits_hit) {
        const auto i = static_cast<std::size_t>(l);
        CONTRACT(i < kLimitKinds && !seen[i]);
        seen[i] = true;
    }
}

struct Parsed {
    std::string summary;
    bool truncated;
};

Parsed parse(const Limits& limits, const std::vector<Field>& fields, std::string_view plan, std::string_view body)
{
    Parser p(limits);
    std::string streamed;
    p.on_text([&](std::string_view t) {
        if (streamed.size() < kKeptTextBytes)
            streamed.append(t.substr(0, kKeptTextBytes - streamed.size()));
    });
    for (const auto& f : fields)
        p.header(f.name, f.value);
    rampart::fuzz::Chunks chunks(plan, body);
    for (auto piece = chunks.next(); !piece.empty() && p.wants_more(); piece = chunks.next())
        p.body(piece);
    p.finish();
    check_ceilings(p.content(), limits);
    CONTRACT(p.content().text == streamed.substr(0, p.content().text.size()));
    return {summary(p.content(), streamed), p.content().truncated};
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
    const std::string_view options = rampart::fuzz::take(in, 1);
    const std::string_view plan = rampart::fuzz::take(in, 3);
    const Limits limits = limits_for(options.empty() ? 0 : static_cast<unsigned char>(options[0]));
    const std::vector<Field> fields = header_fields(in);
    const Parsed whole = parse(limits, fields, {}, in);
    const Parsed pieces = parse(limits, fields, plan, in);
    // Where a piece straddles message_scan_bytes is not specified, so only
    // messages read to their end are compared.
    if (!whole.truncated && !pieces.truncated)
        CONTRACT(whole.summary == pieces.summary);
    return 0;
}
