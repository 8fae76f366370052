// NAME
//   parser.cpp - streaming MIME parser: lines, part headers, structure, contents
// DESCRIPTION
//   See parser.hpp for the contract. The body is cut into lines as it
//   arrives; a line is looked at in place when the chunk holds all of it and
//   copied into one bounded buffer only when it spans chunks, so the result
//   does not depend on how the MTA cuts the body.
//
//   Structure is a stack of frames: one per open multipart (with its
//   boundary) and one per message/rfc822 being read as a message. A line
//   that starts with "--" is matched against the boundaries from the
//   innermost out; a match closes every frame inside the one it belongs to.
//   Between boundaries the parser is in one of three modes: reading an
//   entity's header fields, reading a leaf part's content, or skipping
//   (preamble, epilogue, parts past the limit).
//
//   A leaf's content goes through its transfer decoder into a buffer that is
//   looked at every kFlushBytes and at the part's end: the first bytes give
//   its detected type, zip archives are read for member names, and text
//   parts are converted to UTF-8, HTML to its visible text, and the visible
//   text scanned for URLs and passed on.
// LIMITS
//   Those of Limits (content.hpp). A boundary longer than kMaxBoundaryBytes
//   or than a line may be, or one in a Content-Type field cut at line_bytes,
//   is read as no boundary: the body is then read as text rather than left
//   unread as a preamble that never ends.
#include "mime/parser.hpp"

#include "mime/decode.hpp"
#include "mime/encoded_words.hpp"
#include "mime/magic.hpp"
#include "mime/params.hpp"
#include "mime/zip.hpp"
#include "util/text.hpp"

#include <xxhash.h>

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

namespace rampart::mime {
namespace {

constexpr std::size_t kFlushBytes = 16 * 1024;           // decoded bytes gathered before they are looked at
constexpr std::size_t kUrlCarryBytes = 4 * kMaxUrlBytes; // visible text held back for a URL cut by a piece
constexpr std::size_t kMaxBoundaryBytes = 996;           // "--" boundary "--" fits an SMTP line
constexpr std::size_t npos = std::string::npos;

enum class Mode { headers, content, skip };
enum class Encoding { identity, base64, qp };
enum class TextKind { none, plain, html };
enum class Field { none, content_type, disposition, encoding };

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

bool only_space(std::string_view s)
{
    for (char c : s)
        if (c != ' ' && c != '\t')
            return false;
    return true;
}

// Appends up to `cap` bytes in all, cut on a character boundary; once cut,
// nothing more is appended (so that the kept text stays contiguous).
void append_capped(std::string& dst, std::string_view src, std::size_t cap, bool& full)
{
    if (full)
        return;
    if (dst.size() + src.size() <= cap) {
        dst.append(src);
        return;
    }
    std::size_t cut = cap - dst.size();
    while (cut > 0 && is_continuation(src[cut]))
        --cut;
    dst.append(src.substr(0, cut));
    full = true;
}

bool valid_field_name(std::string_view name)
{
    if (name.empty())
        return false;
    for (char c : name)
        if (c <= ' ' || c > '~')
            return false;
    return true;
}

Encoding encoding_of(std::string_view cte)
{
    if (cte == "base64")
        return Encoding::base64;
    if (cte == "quoted-printable")
        return Encoding::qp;
    return Encoding::identity; // 7bit, 8bit, binary and what is not known
}

bool is_zip_type(std::string_view t)
{
    return t == "application/zip" || t == "application/x-zip-compressed" || t == "application/x-zip";
}

// The header fields of the entity being read that the parser needs.
struct Fields {
    std::string content_type, disposition, encoding;
    bool have_type = false, have_disposition = false, have_encoding = false;
    bool type_cut = false;       // Content-Type was longer than a line: its boundary may be cut
    Field current = Field::none; // the field a continuation line extends
    std::size_t count = 0;
    bool in_body = false; // read from the body (not given by the MTA)
};

Fields body_fields()
{
    Fields f;
    f.in_body = true;
    return f;
}

// Where the entity being read sits.
struct Place {
    std::size_t depth = 0;
    int alternative = -1;
    bool digest_child = false; // default type message/rfc822 (RFC 2046 5.1.5)
};

struct Frame {
    std::string boundary;  // "" for a message being read as a message
    std::size_t depth = 0; // of the container itself
    int alternative = -1;  // what its leaves get
    bool digest = false;
    std::size_t part = npos; // a message's own Part
    std::size_t start = 0;   // body offset where its content began
};

struct XxhFree {
    void operator()(XXH3_state_t* s) const { XXH3_freeState(s); }
};

struct Leaf {
    std::size_t part = 0;
    Encoding encoding = Encoding::identity;
    TextKind text = TextKind::none;
    std::string_view pending; // the previous line's break, written once another line follows
    std::size_t scanned = 0;  // decoded bytes looked at
    bool detected = false, started_text = false, sample_full = false;
    std::string head; // first decoded bytes, for detect()
    Base64Decoder b64;
    QpDecoder qp;
    std::optional<ZipReader> zip;
    std::optional<HtmlToText> html;
    std::unique_ptr<XXH3_state_t, XxhFree> digest; // parts other than text
};

} // namespace

struct Parser::State {
    explicit State(const Limits& l) : limits(l) {}

    Limits limits;
    Content content;
    std::function<void(std::string_view)> sink;
    bool hits[kLimitKinds] = {};
    bool started = false, finished = false;
    bool full = false; // exactly message_scan_bytes read: more would be cut

    std::string carry;     // a line that spans chunks, at most line_bytes
    bool overlong = false; // the carried line was cut
    std::size_t next_line = 0, line_begin = 0, line_end = 0, content_start = 0;

    Mode mode = Mode::headers;
    Fields fields;
    Place place;
    std::vector<Frame> frames;
    int next_alternative = 0;

    Leaf leaf;
    TextConverter conv;
    std::string dec, utf8, visible, url_carry; // amortised buffers
    std::vector<Url> found;
    std::unordered_set<std::string> url_seen;
    bool any_text = false, text_full = false;

    void hit(Limit l)
    {
        auto& h = hits[static_cast<std::size_t>(l)];
        if (!h)
            content.limits_hit.push_back(l);
        h = true;
    }
    Part& part() { return content.parts[leaf.part]; }

    void feed(std::string_view s, std::size_t base);
    void buffer(std::string_view piece);
    void complete(std::string_view raw, bool cut);
    void on_line(std::string_view line, bool crlf);
    void dispatch(std::string_view line, bool crlf);
    bool boundary_line(std::string_view line);
    void boundary(std::size_t frame, bool close);
    void pop_frame(bool closed);
    void close_current();

    void header_line(std::string_view line, bool crlf);
    void field(std::string_view name, std::string_view value);
    void continue_field(std::string_view line);
    void begin();
    void start_entity();
    bool add_part(const ContentType& ct, const std::string& cte);
    void start_leaf(const std::string& cte);

    void content_line(std::string_view line, bool crlf);
    void flush();
    void inspect(std::string_view bytes);
    void detect_now();
    void text_out(std::string& utf8_text);
    void emit(std::string_view visible_text);
    void put(std::string_view s);
    void scan_urls(std::string_view s);
    void find_in(std::string_view s);
    void add_url(Url u);
    void end_html();
    void end_leaf();
    void finish();
};

// ---- lines --------------------------------------------------------------

void Parser::State::feed(std::string_view s, std::size_t base)
{
    std::size_t at = 0;
    while (at < s.size()) {
        const void* p = std::memchr(s.data() + at, '\n', s.size() - at);
        if (!p) {
            buffer(s.substr(at));
            return;
        }
        const std::size_t nl = static_cast<std::size_t>(static_cast<const char*>(p) - s.data());
        line_begin = next_line;
        line_end = base + nl + 1;
        if (carry.empty() && !overlong) {
            complete(s.substr(at, nl - at), false);
        } else {
            buffer(s.substr(at, nl - at));
            complete(carry, overlong);
            carry.clear();
            overlong = false;
        }
        next_line = line_end;
        at = nl + 1;
    }
}

void Parser::State::buffer(std::string_view piece)
{
    const std::size_t room = limits.line_bytes - carry.size();
    if (piece.size() > room) {
        carry.append(piece.substr(0, room));
        overlong = true;
    } else {
        carry.append(piece);
    }
}

// A whole line without its "\n"; `cut` when it was longer than line_bytes.
void Parser::State::complete(std::string_view raw, bool cut)
{
    if (raw.size() > limits.line_bytes) {
        raw = raw.substr(0, limits.line_bytes);
        cut = true;
    }
    if (cut)
        hit(Limit::line_bytes);
    bool crlf = false;
    if (!cut && !raw.empty() && raw.back() == '\r') {
        raw.remove_suffix(1);
        crlf = true;
    }
    on_line(raw, crlf);
}

void Parser::State::on_line(std::string_view line, bool crlf)
{
    if (!frames.empty() && line.size() >= 2 && line[0] == '-' && line[1] == '-' && boundary_line(line))
        return;
    dispatch(line, crlf);
}

void Parser::State::dispatch(std::string_view line, bool crlf)
{
    switch (mode) {
    case Mode::headers: header_line(line, crlf); break;
    case Mode::content: content_line(line, crlf); break;
    case Mode::skip: break;
    }
}

// ---- structure ----------------------------------------------------------

// "--boundary" or "--boundary--", then only white space (RFC 2046 5.1.1).
bool Parser::State::boundary_line(std::string_view line)
{
    const std::string_view rest = line.substr(2);
    for (std::size_t i = frames.size(); i-- > 0;) {
        const std::string& b = frames[i].boundary;
        if (b.empty() || !rest.starts_with(b))
            continue;
        std::string_view tail = rest.substr(b.size());
        const bool close = tail.starts_with("--");
        if (close)
            tail.remove_prefix(2);
        if (!only_space(tail))
            continue;
        boundary(i, close);
        return true;
    }
    return false;
}

void Parser::State::boundary(std::size_t frame, bool close)
{
    close_current();
    while (frames.size() > frame + 1) // an outer boundary closes what is open inside
        pop_frame(false);
    if (close) {
        pop_frame(true);
        mode = Mode::skip; // the epilogue
        return;
    }
    const Frame& f = frames[frame];
    place = Place{f.depth + 1, f.alternative, f.digest};
    fields = body_fields();
    mode = Mode::headers;
}

void Parser::State::pop_frame(bool closed)
{
    const Frame& f = frames.back();
    if (f.boundary.empty()) {
        if (f.part < content.parts.size())
            content.parts[f.part].decoded_bytes = line_begin - f.start;
    } else if (!closed && !content.truncated) {
        content.defects.unterminated_multipart = true;
    }
    frames.pop_back();
}

void Parser::State::close_current()
{
    if (mode == Mode::headers) // a part that ended in its header has an empty body
        start_entity();
    if (mode == Mode::content)
        end_leaf();
    mode = Mode::skip;
}

// ---- header fields ------------------------------------------------------

void Parser::State::header_line(std::string_view line, bool crlf)
{
    if (fields.in_body && !all_ascii(line))
        content.defects.eight_bit_headers = true;
    if (line.empty()) {
        content_start = line_end;
        start_entity();
        return;
    }
    if (line[0] == ' ' || line[0] == '\t') {
        continue_field(line);
        return;
    }
    const auto colon = line.find(':');
    std::string_view name = line.substr(0, colon);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t'))
        name.remove_suffix(1);
    if (colon == npos || !valid_field_name(name)) {
        // Not a header field: the content starts here, as clients read it.
        content_start = line_begin;
        start_entity();
        dispatch(line, crlf);
        return;
    }
    field(name, line.substr(colon + 1));
}

void Parser::State::field(std::string_view name, std::string_view value)
{
    fields.current = Field::none;
    if (++fields.count > limits.part_headers) {
        hit(Limit::part_headers);
        return;
    }
    std::string* dst = nullptr;
    bool* have = nullptr;
    Field which = Field::none;
    if (iequals(name, "content-type"))
        dst = &fields.content_type, have = &fields.have_type, which = Field::content_type;
    else if (iequals(name, "content-disposition"))
        dst = &fields.disposition, have = &fields.have_disposition, which = Field::disposition;
    else if (iequals(name, "content-transfer-encoding"))
        dst = &fields.encoding, have = &fields.have_encoding, which = Field::encoding;
    if (!dst || *have) // the first of a field counts, as most clients read it
        return;
    if (value.size() > limits.line_bytes) {
        hit(Limit::line_bytes);
        value = value.substr(0, limits.line_bytes);
        fields.type_cut = which == Field::content_type;
    }
    dst->assign(value);
    *have = true;
    fields.current = which;
}

void Parser::State::continue_field(std::string_view line)
{
    std::string* dst = fields.current == Field::content_type  ? &fields.content_type
                       : fields.current == Field::disposition ? &fields.disposition
                       : fields.current == Field::encoding    ? &fields.encoding
                                                              : nullptr;
    if (!dst)
        return;
    if (dst->size() + line.size() > limits.line_bytes) {
        hit(Limit::line_bytes);
        dst->append(line.substr(0, limits.line_bytes - dst->size()));
        fields.type_cut = fields.type_cut || fields.current == Field::content_type;
        fields.current = Field::none;
        return;
    }
    dst->append(line);
}

void Parser::State::begin()
{
    if (started)
        return;
    started = true;
    place = Place{};
    content_start = 0;
    start_entity();
}

// The header of an entity ended: what it is decides how its content is read.
void Parser::State::start_entity()
{
    ContentType ct = fields.have_type ? parse_content_type(fields.content_type) : ContentType{};
    if (ct.type.empty()) // absent or malformed (RFC 2045 5.2)
        ct.type = place.digest_child ? "message/rfc822" : "text/plain";
    const std::string cte = fields.have_encoding ? parse_transfer_encoding(fields.encoding) : std::string();
    const bool nests = place.depth + 1 <= limits.depth;
    if (ct.type.starts_with("multipart/")) {
        if (ct.boundary.empty() || fields.type_cut || ct.boundary.size() > kMaxBoundaryBytes ||
            ct.boundary.size() + 2 > limits.line_bytes) {
            content.defects.missing_boundary = true;
            ct.type = "text/plain";
        } else if (!nests) {
            hit(Limit::depth);
        } else {
            Frame f;
            f.boundary = std::move(ct.boundary);
            f.depth = place.depth;
            f.alternative = ct.type == "multipart/alternative" ? next_alternative++ : place.alternative;
            f.digest = ct.type == "multipart/digest";
            f.start = content_start;
            frames.push_back(std::move(f));
            mode = Mode::skip; // the preamble
            return;
        }
    } else if ((ct.type == "message/rfc822" || ct.type == "message/global") && encoding_of(cte) == Encoding::identity) {
        if (!nests) {
            hit(Limit::depth);
        } else {
            if (!add_part(ct, cte))
                return;
            Frame f;
            f.depth = place.depth;
            f.part = content.parts.size() - 1;
            f.start = content_start;
            frames.push_back(std::move(f));
            place = Place{place.depth + 1, -1, false};
            fields = body_fields();
            mode = Mode::headers; // the enclosed message's own header
            return;
        }
    }
    if (add_part(ct, cte))
        start_leaf(cte);
}

// Lists a part; false (and the part is skipped) past the parts limit.
bool Parser::State::add_part(const ContentType& ct, const std::string& cte)
{
    if (content.parts.size() >= limits.parts) {
        hit(Limit::parts);
        mode = Mode::skip;
        return false;
    }
    const Disposition disp = fields.have_disposition ? parse_disposition(fields.disposition) : Disposition{};
    Part p;
    p.content_type = ct.type;
    p.charset = ct.charset;
    p.transfer_encoding = cte;
    p.disposition = disp.kind;
    p.filename = disp.filename.empty() ? ct.name : disp.filename;
    p.depth = place.depth;
    p.alternative = place.alternative;
    content.parts.push_back(std::move(p));
    return true;
}

void Parser::State::start_leaf(const std::string& cte)
{
    leaf = Leaf{};
    leaf.part = content.parts.size() - 1;
    leaf.encoding = encoding_of(cte);
    const Part& p = part();
    if (p.content_type == "text/plain")
        leaf.text = TextKind::plain;
    else if (p.content_type == "text/html")
        leaf.text = TextKind::html;
    if (leaf.text == TextKind::none) {
        leaf.digest.reset(XXH3_createState());
        if (leaf.digest)
            XXH3_64bits_reset(leaf.digest.get());
    } else {
        if (!conv.open(p.charset))
            content.defects.unknown_charset = true;
        if (leaf.text == TextKind::html)
            leaf.html.emplace();
    }
    mode = Mode::content;
}

// ---- content ------------------------------------------------------------

void Parser::State::content_line(std::string_view line, bool crlf)
{
    // Text gets "\n" line breaks; other parts keep CRLF (canonical for QP)
    // or whatever an unencoded part had.
    const bool text = leaf.text != TextKind::none;
    switch (leaf.encoding) {
    case Encoding::base64: leaf.b64.feed(line, dec); break;
    case Encoding::qp:
        dec.append(leaf.pending);
        leaf.pending = leaf.qp.line(line, dec) ? "" : text ? "\n" : "\r\n";
        break;
    case Encoding::identity:
        dec.append(leaf.pending);
        dec.append(line);
        leaf.pending = !text && crlf ? "\r\n" : "\n";
        break;
    }
    if (dec.size() >= kFlushBytes)
        flush();
}

void Parser::State::flush()
{
    if (dec.empty())
        return;
    part().decoded_bytes += dec.size();
    std::string_view look = dec;
    if (leaf.scanned + look.size() > limits.part_scan_bytes) {
        look = look.substr(0, limits.part_scan_bytes - leaf.scanned);
        hit(Limit::part_scan_bytes);
    }
    leaf.scanned += look.size();
    if (!look.empty())
        inspect(look);
    dec.clear();
}

void Parser::State::inspect(std::string_view bytes)
{
    std::string_view rest = bytes;
    if (!leaf.detected) {
        const std::size_t take = std::min(kMagicBytes - leaf.head.size(), rest.size());
        leaf.head.append(rest.substr(0, take));
        rest.remove_prefix(take);
        if (leaf.head.size() >= kMagicBytes)
            detect_now();
    }
    if (leaf.zip && !rest.empty())
        leaf.zip->feed(rest);
    if (leaf.digest)
        XXH3_64bits_update(leaf.digest.get(), bytes.data(), bytes.size());
    if (leaf.text != TextKind::none) {
        utf8.clear();
        conv.feed(bytes, utf8);
        text_out(utf8);
    }
}

void Parser::State::detect_now()
{
    leaf.detected = true;
    Part& p = part();
    p.detected_type = std::string(detect(leaf.head));
    if (is_zip_type(p.content_type) || p.detected_type == "application/zip") {
        leaf.zip.emplace();
        leaf.zip->feed(leaf.head);
    }
}

void Parser::State::text_out(std::string& s)
{
    const bool nul = std::memchr(s.data(), '\0', s.size()) != nullptr;
    if (nul)
        content.defects.nul_bytes = true;
    if (nul || std::memchr(s.data(), '\r', s.size()))
        std::erase_if(s, [](char c) { return c == '\0' || c == '\r'; });
    if (leaf.text == TextKind::plain) {
        emit(s);
        return;
    }
    visible.clear();
    leaf.html->feed(s, visible);
    emit(visible);
}

void Parser::State::emit(std::string_view s)
{
    if (s.empty())
        return;
    if (!leaf.started_text) {
        leaf.started_text = true;
        if (any_text)
            put("\n");
        any_text = true;
    }
    put(s);
    Part& p = part();
    const std::size_t n = utf8_chars(s);
    p.text_chars += n;
    if (leaf.text == TextKind::plain)
        content.plain_chars += n;
    append_capped(p.text_sample, s, kTextSampleBytes, leaf.sample_full);
    scan_urls(s);
}

void Parser::State::put(std::string_view s)
{
    if (sink)
        sink(s);
    append_capped(content.text, s, kKeptTextBytes, text_full);
}

// URLs end at white space: text after the last of it waits for the next
// piece, unless there is more of it than a URL can be.
void Parser::State::scan_urls(std::string_view s)
{
    if (content.urls.size() >= kMaxUrls)
        return;
    const bool carried = !url_carry.empty();
    if (carried) {
        url_carry.append(s);
        s = url_carry;
    }
    std::size_t cut = s.find_last_of(" \t\n");
    cut = cut == npos ? 0 : cut + 1;
    if (cut == 0 && s.size() > kUrlCarryBytes)
        cut = s.size();
    if (cut > 0)
        find_in(s.substr(0, cut));
    if (carried)
        url_carry.erase(0, cut);
    else
        url_carry.assign(s.substr(cut));
}

void Parser::State::find_in(std::string_view s)
{
    found.clear();
    find_urls(s, found, kMaxUrls);
    for (auto& u : found)
        add_url(std::move(u));
}

// Each URL once, so that repeats cannot crowd out the rest.
void Parser::State::add_url(Url u)
{
    if (content.urls.size() >= kMaxUrls || !url_seen.insert(u.text).second)
        return;
    content.urls.push_back(std::move(u));
}

void Parser::State::end_html()
{
    visible.clear();
    leaf.html->finish(visible);
    emit(visible);
    if (!url_carry.empty()) {
        find_in(url_carry);
        url_carry.clear();
    }
    const HtmlToText& h = *leaf.html;
    content.html_visible_chars += h.visible_chars();
    content.html_hidden_chars += h.hidden_chars();
    content.html_tiny_chars += h.tiny_chars();
    content.html_images += h.images();
    for (const auto& link : h.links()) {
        if (content.links.size() < kMaxLinks)
            content.links.push_back(link);
        if (auto u = parse_url(link.href))
            add_url(std::move(*u));
    }
    leaf.html.reset();
}

void Parser::State::end_leaf()
{
    flush(); // the last line's break belongs to the boundary: it stays out
    leaf.b64.finish();
    if (leaf.b64.bad())
        content.defects.bad_base64 = true;
    if (leaf.qp.bad())
        content.defects.bad_qp = true;
    if (leaf.text != TextKind::none) {
        utf8.clear();
        conv.finish(utf8);
        text_out(utf8);
        if (conv.bad())
            content.defects.bad_charset_bytes = true;
        if (leaf.html)
            end_html();
        if (!url_carry.empty()) {
            find_in(url_carry);
            url_carry.clear();
        }
    }
    if (!leaf.detected && !leaf.head.empty())
        detect_now();
    if (leaf.digest)
        part().digest = XXH3_64bits_digest(leaf.digest.get());
    if (leaf.zip) {
        Part& p = part();
        const auto& m = leaf.zip->members();
        p.zip_members.assign(m.begin(), m.begin() + static_cast<std::ptrdiff_t>(std::min(m.size(), kMaxZipMembers)));
        p.zip_encrypted = leaf.zip->encrypted();
        leaf.zip.reset();
    }
    mode = Mode::skip;
}

void Parser::State::finish()
{
    if (finished)
        return;
    begin();
    if (!carry.empty() || overlong) { // a last line without its "\n"
        line_begin = next_line;
        line_end = content.body_bytes;
        complete(carry, overlong);
        carry.clear();
    }
    line_begin = content.body_bytes;
    close_current();
    while (!frames.empty())
        pop_frame(false);
    finished = true;
}

// ---- Parser -------------------------------------------------------------

Parser::Parser(const Limits& limits) : d(std::make_unique<State>(limits)) {}

Parser::~Parser() = default;

void Parser::on_text(std::function<void(std::string_view)> sink) { d->sink = std::move(sink); }

void Parser::header(std::string_view name, std::string_view value)
{
    if (!d->started)
        d->field(name, value);
}

void Parser::body(std::string_view chunk)
{
    if (d->finished || d->content.truncated || chunk.empty())
        return;
    // The limit counts as reached only when something is cut: a body of
    // exactly message_scan_bytes is read whole.
    const auto cut = [&] {
        d->hit(Limit::message_scan_bytes);
        d->content.truncated = true;
    };
    if (d->full)
        return cut();
    d->begin();
    const std::size_t room = d->limits.message_scan_bytes - d->content.body_bytes;
    const std::string_view take = chunk.substr(0, std::min(room, chunk.size()));
    const std::size_t base = d->content.body_bytes;
    d->content.body_bytes += take.size();
    d->feed(take, base);
    if (take.size() < chunk.size())
        cut();
    else if (d->content.body_bytes == d->limits.message_scan_bytes)
        d->full = true;
}

void Parser::finish() { d->finish(); }

bool Parser::wants_more() const { return !d->content.truncated && !d->full; }

const Content& Parser::content() const { return d->content; }

} // namespace rampart::mime
