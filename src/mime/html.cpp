// NAME
//   html.cpp - HTML to the text a reader sees, hidden and tiny text, anchors
// DESCRIPTION
//   A tokenizer whose every state survives the end of a chunk: a tag, a
//   comment, a character reference or a UTF-8 sequence cut by a chunk
//   boundary is finished by the next feed, so the output does not depend
//   on how the input was cut.
//
//   Open elements are kept on a stack of computed styles (html_style.hpp),
//   so that a child inherits what hides its parent; the hidden attribute
//   and <template> hide too. Links are blue unless styled; bgcolor counts
//   on body, table, tr, td and th, <font color> and <body text> set the
//   text colour. Zero-width characters (U+200B to U+200D, U+2060 to
//   U+2064, U+FEFF) and the soft hyphen are removed and counted hidden.
//   hidden_chars and tiny_chars count characters other than white space.
//
//   As browsers do: text after </body> still shows; a new <p>, <li>, <td>,
//   <tr>, <dd>, <option> or <a> closes the open one it implies; an end tag
//   closes the nearest matching open element (not across a table cell) and
//   is ignored when there is none. No-break and other Unicode spaces are
//   spaces. Block elements give a line break, <br> one more (at most one
//   blank line), table cells a space; no line starts or ends with a space.
// LIMITS
//   See html.hpp. A tag longer than kMaxTagBytes is dropped whole (but
//   <script> and <style> still hide their content); an element beyond
//   kMaxDepth inherits its parent's style and its own is not read. Style
//   sheets (<style> rules, classes) are not applied; offscreen positioning
//   and text-indent are not seen.
#include "mime/html.hpp"

#include "mime/html_style.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

namespace rampart::mime {
namespace {

constexpr std::size_t kMaxReferenceBytes = 32; // "&" and a longer name is plain text
constexpr std::size_t kMaxNameBytes = 15;      // element names are compared on this many bytes

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

// Character classes of the text scanner.
enum : std::uint8_t { kPlain, kSpace, kLess, kAmp, kControl, kHigh };
constexpr std::array<std::uint8_t, 256> kClass = [] {
    std::array<std::uint8_t, 256> t{};
    for (int c = 0; c < 256; ++c)
        t[c] = c >= 0x80 ? kHigh : (c < 0x20 || c == 0x7F) ? kControl : kPlain;
    for (char c : {' ', '\t', '\n', '\r', '\f'})
        t[static_cast<unsigned char>(c)] = kSpace;
    t['<'] = kLess;
    t['&'] = kAmp;
    return t;
}();

bool is_zero_width(char32_t cp)
{
    return (cp >= 0x200B && cp <= 0x200D) || (cp >= 0x2060 && cp <= 0x2064) || cp == 0xFEFF || cp == 0xAD;
}

bool is_unicode_space(char32_t cp)
{
    return cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
           cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

// The longest prefix of `s` at most `max` bytes that does not cut a UTF-8 sequence.
std::string_view cap_utf8(std::string_view s, std::size_t max)
{
    if (s.size() <= max)
        return s;
    while (max > 0 && (static_cast<unsigned char>(s[max]) & 0xC0) == 0x80)
        --max;
    return s.substr(0, max);
}

// ---- elements ----

// clang-format off
enum class Kind : std::uint8_t {
    other, a, area, body, br, caption, cell, dd, dl, dt, font, html, img, li, list, option, p, select, table,
    template_, tr, tsection
};
// clang-format on
constexpr std::uint32_t bit(Kind k) { return 1u << static_cast<unsigned>(k); }

enum : std::uint8_t { kVoid = 1, kBlock = 2, kClosesP = 4, kRaw = 8 };

struct Element {
    std::string_view name;
    Kind kind;
    std::uint8_t flags;
};

constexpr std::uint8_t kPara = kBlock | kClosesP;
// clang-format off
constexpr Element kElements[] = {
    {"a", Kind::a, 0}, {"address", Kind::other, kPara}, {"area", Kind::area, kVoid}, {"article", Kind::other, kPara},
    {"aside", Kind::other, kPara}, {"base", Kind::other, kVoid}, {"basefont", Kind::other, kVoid},
    {"bgsound", Kind::other, kVoid}, {"blockquote", Kind::other, kPara}, {"body", Kind::body, kBlock},
    {"br", Kind::br, kVoid}, {"caption", Kind::caption, kBlock}, {"center", Kind::other, kPara},
    {"col", Kind::other, kVoid}, {"dd", Kind::dd, kPara}, {"details", Kind::other, kPara},
    {"dialog", Kind::other, kPara}, {"dir", Kind::other, kPara}, {"div", Kind::other, kPara}, {"dl", Kind::dl, kPara},
    {"dt", Kind::dt, kPara}, {"embed", Kind::other, kVoid}, {"fieldset", Kind::other, kPara},
    {"figcaption", Kind::other, kPara}, {"figure", Kind::other, kPara}, {"font", Kind::font, 0},
    {"footer", Kind::other, kPara}, {"form", Kind::other, kPara}, {"frame", Kind::other, kVoid},
    {"h1", Kind::other, kPara}, {"h2", Kind::other, kPara}, {"h3", Kind::other, kPara}, {"h4", Kind::other, kPara},
    {"h5", Kind::other, kPara}, {"h6", Kind::other, kPara}, {"header", Kind::other, kPara},
    {"hgroup", Kind::other, kPara}, {"hr", Kind::other, kVoid | kPara}, {"html", Kind::html, kBlock},
    {"iframe", Kind::other, kRaw}, {"image", Kind::img, kVoid}, {"img", Kind::img, kVoid},
    {"input", Kind::other, kVoid}, {"keygen", Kind::other, kVoid}, {"legend", Kind::other, kBlock},
    {"li", Kind::li, kPara}, {"link", Kind::other, kVoid}, {"main", Kind::other, kPara}, {"menu", Kind::other, kPara},
    {"meta", Kind::other, kVoid}, {"nav", Kind::other, kPara}, {"noembed", Kind::other, kRaw},
    {"noframes", Kind::other, kRaw}, {"ol", Kind::list, kPara}, {"option", Kind::option, kBlock},
    {"p", Kind::p, kPara}, {"param", Kind::other, kVoid}, {"pre", Kind::other, kPara}, {"script", Kind::other, kRaw},
    {"section", Kind::other, kPara}, {"select", Kind::select, 0}, {"source", Kind::other, kVoid},
    {"style", Kind::other, kRaw}, {"summary", Kind::other, kPara}, {"table", Kind::table, kPara},
    {"tbody", Kind::tsection, 0}, {"td", Kind::cell, 0}, {"template", Kind::template_, 0},
    {"tfoot", Kind::tsection, 0}, {"th", Kind::cell, 0}, {"thead", Kind::tsection, 0}, {"title", Kind::other, kRaw},
    {"tr", Kind::tr, kBlock}, {"track", Kind::other, kVoid}, {"ul", Kind::list, kPara}, {"wbr", Kind::other, kVoid},
};
// clang-format on
static_assert(std::is_sorted(std::begin(kElements), std::end(kElements),
                             [](const Element& a, const Element& b) { return a.name < b.name; }));

// An element name packed big-endian into two words: comparing keys is
// comparing names, without a call to memcmp per tag.
struct NameKey {
    std::uint64_t hi = 0, lo = 0;
    auto operator<=>(const NameKey&) const = default;
};

constexpr NameKey key_of(std::string_view lname)
{
    NameKey k;
    for (std::size_t i = 0; i < lname.size() && i < 16; ++i) {
        const std::uint64_t b = static_cast<unsigned char>(lname[i]);
        (i < 8 ? k.hi : k.lo) |= b << (56 - 8 * (i % 8));
    }
    return k;
}

constexpr auto kElementKeys = [] {
    std::array<NameKey, std::size(kElements)> keys{};
    for (std::size_t i = 0; i < keys.size(); ++i)
        keys[i] = key_of(kElements[i].name);
    return keys;
}();

const Element* find_element(NameKey key)
{
    const auto it = std::lower_bound(kElementKeys.begin(), kElementKeys.end(), key);
    return it != kElementKeys.end() && *it == key ? &kElements[it - kElementKeys.begin()] : nullptr;
}

struct Frame {
    NameKey name;
    Kind kind = Kind::other;
    std::uint8_t flags = 0;
    bool hidden = false;
    bool tiny = false;
    css::Style style;
};

// The attributes HtmlToText reads; the first of each name counts.
enum Attr { kHref, kStyle, kColor, kBgcolor, kSize, kText, kBackground, kHidden, kAttrs };
constexpr std::string_view kAttrNames[kAttrs] = {"href", "style", "color",      "bgcolor",
                                                 "size", "text",  "background", "hidden"};

} // namespace

struct HtmlToText::State {
    // clang-format off
    enum class Mode : std::uint8_t {
        text, reference, tag_open, end_tag_open, tag, markup, comment, cdata, bogus, raw, raw_end, raw_end_delim
    };
    // clang-format on
    enum class Quote : std::uint8_t { none, after_equals, single, twin, bare };

    Mode mode = Mode::text;
    std::string tag; // the tag being read, without '<' and '>'
    Quote quote = Quote::none;
    bool tag_too_long = false;
    std::array<char, kMaxReferenceBytes> ref{}; // after '&'
    std::size_t ref_len = 0;
    std::array<unsigned char, 4> seq{}; // a UTF-8 sequence cut by the end of a chunk
    std::size_t seq_len = 0, seq_need = 0;
    std::array<char, 7> decl{}; // after "<!", until it says comment, CDATA or declaration
    std::size_t decl_len = 0;
    int dashes = 0; // '-' closing a comment, ']' closing CDATA
    bool bang = false;
    std::array<char, kMaxNameBytes> raw_name{}; // the element whose end closes raw text
    std::size_t raw_len = 0, raw_matched = 0;

    int pending_breaks = 0;
    bool pending_space = false;
    std::size_t visible = 0, hidden = 0, tiny = 0, images = 0;

    std::array<Frame, kMaxDepth> stack;
    std::size_t depth = 0, excess = 0; // excess: open elements past kMaxDepth
    css::Style root;
    bool cur_hidden = false, cur_tiny = false;

    std::vector<HtmlLink> links;
    bool link_open = false;
    std::size_t link_depth = 0; // 1 + the stack index of the open anchor, 0 when not on the stack
    std::string link_href, link_text;

    std::array<std::string, kAttrs> attr;
    std::array<bool, kAttrs> has{};
    std::string css_scratch;

    State() { tag.reserve(256); }

    // ---- visible text ----

    void flush_pending(std::string& out)
    {
        if (visible > 0 && (pending_breaks > 0 || pending_space)) {
            const std::size_t n = pending_breaks > 0 ? static_cast<std::size_t>(pending_breaks) : 1;
            out.append(n, pending_breaks > 0 ? '\n' : ' ');
            visible += n;
            if (link_open && !link_text.empty() && link_text.back() != ' ' && link_text.size() < kMaxLinkBytes)
                link_text.push_back(' ');
        }
        pending_breaks = 0;
        pending_space = false;
    }

    // Appends visible text (`blanks` of its `chars` are spaces); counts it hidden when it is.
    void emit(const char* s, std::size_t bytes, std::size_t chars, std::size_t blanks, std::string& out)
    {
        if (cur_hidden) {
            hidden += chars - blanks;
            return;
        }
        flush_pending(out);
        out.append(s, bytes);
        visible += chars;
        tiny += cur_tiny ? chars - blanks : 0;
        if (link_open && link_text.size() < kMaxLinkBytes)
            link_text.append(cap_utf8({s, bytes}, kMaxLinkBytes - link_text.size()));
    }

    void emit_ascii(const char* s, std::size_t n, std::string& out) { emit(s, n, n, 0, out); }

    void space()
    {
        if (!cur_hidden)
            pending_space = true;
    }

    void request_break(bool line_break)
    {
        if (cur_hidden)
            return;
        pending_breaks = line_break ? std::min(pending_breaks + 1, 2) : std::max(pending_breaks, 1);
    }

    void emit_cp(char32_t cp, std::string& out)
    {
        if (cp < 0x80) {
            const char c = static_cast<char>(cp);
            if (is_space(c))
                space();
            else if (kClass[static_cast<unsigned char>(c)] != kControl)
                emit_ascii(&c, 1, out);
        } else if (is_zero_width(cp)) {
            ++hidden;
        } else if (is_unicode_space(cp)) {
            space();
        } else if (cp >= 0xA0) { // C1 controls show nothing
            char b[4];
            emit(b, encode_utf8(cp, b), 1, 0, out);
        }
    }

    // ---- text and UTF-8 ----

    const char* continue_sequence(const char* p, const char* end, std::string& out)
    {
        while (seq_len < seq_need && p < end) {
            const auto c = static_cast<unsigned char>(*p);
            if ((c & 0xC0) != 0x80) { // cut short: the byte starts something else
                seq_need = 0;
                emit_cp(0xFFFD, out);
                return p;
            }
            seq[seq_len++] = c;
            ++p;
        }
        if (seq_len < seq_need)
            return p;
        char32_t cp = seq[0] & (0x7F >> seq_need);
        for (std::size_t i = 1; i < seq_need; ++i)
            cp = (cp << 6) | (seq[i] & 0x3F);
        static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
        const bool ok = cp >= kMin[seq_need] && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
        seq_need = 0;
        emit_cp(ok ? cp : 0xFFFD, out);
        return p;
    }

    const char* start_sequence(const char* p, const char* end, std::string& out)
    {
        const auto c = static_cast<unsigned char>(*p);
        seq_need = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        if (seq_need == 0) {
            emit_cp(0xFFFD, out);
            return p + 1;
        }
        seq[0] = c;
        seq_len = 1;
        return continue_sequence(p + 1, end, out);
    }

    const char* on_text(const char* p, const char* end, std::string& out)
    {
        if (seq_need > 0)
            p = continue_sequence(p, end, out);
        while (p < end) {
            const char* run = p;
            std::size_t spaces = 0;
            for (;;) {
                while (p < end && kClass[static_cast<unsigned char>(*p)] == kPlain)
                    ++p;
                // One ' ' between words is what the output has anyway: keep the run whole.
                if (p == run || p + 1 >= end || *p != ' ' || kClass[static_cast<unsigned char>(p[1])] != kPlain)
                    break;
                ++p, ++spaces;
            }
            if (p != run)
                emit(run, static_cast<std::size_t>(p - run), static_cast<std::size_t>(p - run), spaces, out);
            if (p == end)
                break;
            switch (kClass[static_cast<unsigned char>(*p)]) {
            case kSpace: space(), ++p; break;
            case kLess: mode = Mode::tag_open; return p + 1;
            case kAmp: mode = Mode::reference, ref_len = 0; return p + 1;
            case kControl: ++p; break;
            default: p = start_sequence(p, end, out); break;
            }
        }
        return p;
    }

    // ---- character references ----

    void resolve_reference(bool semicolon, std::string& out)
    {
        std::array<char, kMaxReferenceBytes + 1> buf;
        std::copy_n(ref.begin(), ref_len, buf.begin());
        std::size_t n = ref_len;
        if (semicolon)
            buf[n++] = ';';
        const std::string_view s(buf.data(), n);
        char32_t cp = 0;
        const std::size_t used = match_reference(s, false, cp);
        if (used == 0)
            emit_ascii("&", 1, out);
        else
            emit_cp(cp, out);
        if (used < n)
            emit_ascii(s.data() + used, n - used, out);
    }

    const char* on_reference(const char* p, const char* end, std::string& out)
    {
        for (; p < end; ++p) {
            const char c = *p;
            const bool numeric = ref_len > 0 && ref[0] == '#';
            bool take = false;
            if (ref_len == 0)
                take = c == '#' || is_alnum(c);
            else if (numeric && ref_len == 1)
                take = c == 'x' || c == 'X' || is_digit(c);
            else if (numeric)
                take = ref[1] == 'x' || ref[1] == 'X' ? hex_value(c) >= 0 : is_digit(c);
            else
                take = is_alnum(c);
            if (take && ref_len < ref.size()) {
                ref[ref_len++] = c;
                continue;
            }
            const bool semicolon = !take && c == ';';
            resolve_reference(semicolon, out);
            mode = Mode::text;
            return semicolon ? p + 1 : p;
        }
        return p;
    }

    // ---- markup other than tags ----

    const char* on_markup(const char* p)
    {
        decl[decl_len++] = *p;
        const std::string_view d(decl.data(), decl_len);
        if (d == "--") {
            mode = Mode::comment;
            dashes = 2; // "<!-->" is a whole (empty) comment
            bang = false;
            return p + 1;
        }
        if (d == "-")
            return p + 1;
        if (iequals(d, std::string_view("[CDATA[").substr(0, decl_len))) {
            if (decl_len == 7)
                mode = Mode::cdata, dashes = 0;
            return p + 1;
        }
        mode = Mode::bogus; // <!DOCTYPE ...> or another declaration: dropped to '>'
        return p;
    }

    const char* on_comment(const char* p, const char* end)
    {
        while (p < end) {
            const char c = *p++;
            if (c == '-') {
                dashes = std::min(dashes + 1, 2);
                bang = false;
            } else if (c == '>' && dashes >= 2) {
                mode = Mode::text;
                return p;
            } else if (c == '!' && dashes >= 2 && !bang) {
                bang = true; // "--!>" also ends a comment
            } else {
                dashes = 0;
                bang = false;
            }
        }
        return p;
    }

    const char* on_cdata(const char* p, const char* end)
    {
        while (p < end) {
            const char c = *p++;
            if (c == '>' && dashes >= 2) {
                mode = Mode::text;
                return p;
            }
            dashes = c == ']' ? std::min(dashes + 1, 2) : 0;
        }
        return p;
    }

    const char* on_bogus(const char* p, const char* end)
    {
        const auto* gt = static_cast<const char*>(std::memchr(p, '>', static_cast<std::size_t>(end - p)));
        if (gt == nullptr)
            return end;
        mode = Mode::text;
        return gt + 1;
    }

    void enter_raw(std::string_view lname)
    {
        std::copy(lname.begin(), lname.end(), raw_name.begin());
        raw_len = lname.size();
        mode = Mode::raw;
    }

    const char* on_raw(const char* p, const char* end)
    {
        const auto* lt = static_cast<const char*>(std::memchr(p, '<', static_cast<std::size_t>(end - p)));
        if (lt == nullptr)
            return end;
        mode = Mode::raw_end;
        raw_matched = 0;
        return lt + 1;
    }

    const char* on_raw_end(const char* p)
    {
        const char want = raw_matched == 0 ? '/' : raw_name[raw_matched - 1];
        if (lower(*p) != want) {
            mode = Mode::raw;
            return p;
        }
        if (++raw_matched == raw_len + 1)
            mode = Mode::raw_end_delim;
        return p + 1;
    }

    const char* on_raw_end_delim(const char* p)
    {
        if (*p == '>') {
            mode = Mode::text;
            return p + 1;
        }
        mode = is_space(*p) || *p == '/' ? Mode::bogus : Mode::raw;
        return mode == Mode::bogus ? p + 1 : p;
    }

    // ---- tags ----

    const char* on_tag_open(const char* p, std::string& out)
    {
        const char c = *p;
        if (is_alpha(c) || c == '/') {
            mode = c == '/' ? Mode::end_tag_open : Mode::tag;
            tag.assign(1, c);
            quote = Quote::none;
            tag_too_long = false;
            return p + 1;
        }
        if (c == '!' || c == '?') {
            mode = c == '!' ? Mode::markup : Mode::bogus;
            decl_len = 0;
            return p + 1;
        }
        emit_ascii("<", 1, out); // "a < b": text
        mode = Mode::text;
        return p;
    }

    const char* on_end_tag_open(const char* p)
    {
        if (is_alpha(*p)) {
            mode = Mode::tag;
            return p;
        }
        mode = Mode::bogus; // "</>" and "</ x>" show nothing
        return p;
    }

    const char* on_tag(const char* p, const char* end)
    {
        while (p < end) {
            if (quote == Quote::twin || quote == Quote::single) { // a quoted value, '>' and all
                const char mark = quote == Quote::twin ? '"' : '\'';
                const auto* q = static_cast<const char*>(std::memchr(p, mark, static_cast<std::size_t>(end - p)));
                keep_tag_bytes(p, q == nullptr ? end : q + 1);
                if (q == nullptr)
                    return end;
                quote = Quote::none;
                p = q + 1;
            } else if (quote == Quote::after_equals) {
                const char c = *p;
                if (c == '>')
                    return close_tag(p + 1);
                quote = c == '"' ? Quote::twin : c == '\'' ? Quote::single : is_space(c) ? quote : Quote::bare;
                keep_tag_bytes(p, p + 1);
                ++p;
            } else { // between attributes up to '=' or '>', in a bare value up to white space or '>'
                const char* q = p;
                if (quote == Quote::none)
                    while (q < end && *q != '>' && *q != '=')
                        ++q;
                else
                    while (q < end && *q != '>' && !is_space(*q))
                        ++q;
                keep_tag_bytes(p, q);
                if (q == end)
                    return end;
                if (*q == '>')
                    return close_tag(q + 1);
                quote = quote == Quote::none ? Quote::after_equals : Quote::none;
                keep_tag_bytes(q, q + 1);
                p = q + 1;
            }
        }
        return p;
    }

    const char* close_tag(const char* next)
    {
        mode = Mode::text;
        end_of_tag();
        return next;
    }

    void keep_tag_bytes(const char* from, const char* to)
    {
        const std::size_t n = static_cast<std::size_t>(to - from);
        if (tag.size() + n > kMaxTagBytes)
            tag_too_long = true;
        else
            tag.append(from, n);
    }

    void end_of_tag()
    {
        std::string_view t = tag;
        const bool closing = t.front() == '/';
        t.remove_prefix(closing ? 1 : 0);
        std::size_t n = 0;
        while (n < t.size() && !is_space(t[n]) && t[n] != '/')
            ++n;
        std::array<char, kMaxNameBytes> buf;
        const std::size_t len = std::min(n, kMaxNameBytes);
        std::transform(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(len), buf.begin(), lower);
        const std::string_view lname(buf.data(), len);
        const NameKey key = key_of(lname);
        const Element* e = n <= kMaxNameBytes ? find_element(key) : nullptr;
        if (tag_too_long) {
            if (!closing && e != nullptr && (e->flags & kRaw) != 0)
                enter_raw(lname);
        } else if (closing) {
            end_element(e, key);
        } else {
            start_element(e, lname, t.substr(n));
        }
        tag.clear();
    }

    void read_attributes(std::string_view s)
    {
        has.fill(false);
        std::size_t i = 0;
        while (i < s.size()) {
            while (i < s.size() && (is_space(s[i]) || s[i] == '/'))
                ++i;
            if (i == s.size())
                break;
            const std::size_t name_start = i++; // a name may begin with '='
            while (i < s.size() && !is_space(s[i]) && s[i] != '/' && s[i] != '=')
                ++i;
            const std::string_view name = s.substr(name_start, i - name_start);
            std::string_view value;
            std::size_t j = i;
            while (j < s.size() && is_space(s[j]))
                ++j;
            if (j < s.size() && s[j] == '=') {
                for (i = j + 1; i < s.size() && is_space(s[i]);)
                    ++i;
                const char q = i < s.size() && (s[i] == '"' || s[i] == '\'') ? s[i] : 0;
                const std::size_t start = i + (q != 0 ? 1 : 0);
                i = start;
                while (i < s.size() && (q != 0 ? s[i] != q : !is_space(s[i])))
                    ++i;
                value = s.substr(start, i - start);
                i += q != 0 && i < s.size() ? 1 : 0;
            }
            for (int a = 0; a < kAttrs; ++a)
                if (!has[a] && iequals(name, kAttrNames[a])) {
                    has[a] = true;
                    decode_attribute(value, attr[a]);
                }
        }
    }

    const css::Style& top_style() const { return depth > 0 ? stack[depth - 1].style : root; }

    void refresh_top()
    {
        cur_hidden = depth > 0 ? stack[depth - 1].hidden : root.hidden();
        cur_tiny = depth > 0 ? stack[depth - 1].tiny : root.tiny();
    }

    css::Style style_for(Kind kind)
    {
        css::Style s = top_style();
        const float parent_px = s.font_px;
        css::Color c;
        if (kind == Kind::a && has[kHref])
            s.color = css::kLinkBlue, s.clear_text = false;
        if (has[kColor] && kind == Kind::font && css::parse_color(attr[kColor], true, c))
            s.color = c.rgb, s.clear_text = c.clear;
        if (has[kText] && kind == Kind::body && css::parse_color(attr[kText], true, c))
            s.color = c.rgb, s.clear_text = c.clear;
        const bool painted = kind == Kind::body || kind == Kind::table || kind == Kind::tr || kind == Kind::cell;
        if (painted && has[kBgcolor] && css::parse_color(attr[kBgcolor], true, c) && !c.clear)
            s.background = c.rgb, s.bg_unknown = false;
        if (painted && has[kBackground] && !trim(attr[kBackground]).empty())
            s.bg_unknown = true;
        if (has[kSize] && kind == Kind::font)
            css::legacy_font_size(attr[kSize], s.font_px);
        if (has[kHidden] || kind == Kind::template_)
            s.gone = true;
        if (has[kStyle])
            css::apply_inline_style(s, attr[kStyle], parent_px, css_scratch);
        return s;
    }

    void pop_to(std::size_t i)
    {
        if (link_open && link_depth > i)
            close_link();
        depth = i;
        excess = 0;
        refresh_top();
    }

    // Closes the nearest open element of a kind in `match`, unless one in
    // `stop` comes first.
    void close_open(std::uint32_t match, std::uint32_t stop)
    {
        for (std::size_t j = depth; j-- > 0;) {
            const std::uint32_t k = bit(stack[j].kind);
            if ((k & match) != 0)
                return pop_to(j);
            if ((k & stop) != 0)
                return;
        }
    }

    void close_implied(Kind kind, std::uint8_t flags)
    {
        constexpr std::uint32_t scope = bit(Kind::cell) | bit(Kind::table) | bit(Kind::caption);
        if ((flags & kClosesP) != 0)
            close_open(bit(Kind::p), scope);
        switch (kind) {
        case Kind::li: close_open(bit(Kind::li), bit(Kind::list) | scope); break;
        case Kind::dd:
        case Kind::dt: close_open(bit(Kind::dd) | bit(Kind::dt), bit(Kind::dl) | scope); break;
        case Kind::cell: close_open(bit(Kind::cell), bit(Kind::tr) | bit(Kind::table)); break;
        case Kind::tr: close_open(bit(Kind::tr), bit(Kind::tsection) | bit(Kind::table)); break;
        case Kind::tsection: close_open(bit(Kind::tsection), bit(Kind::table)); break;
        case Kind::option: close_open(bit(Kind::option), bit(Kind::select) | scope); break;
        case Kind::a: close_open(bit(Kind::a), scope); break;
        default: break;
        }
    }

    void start_element(const Element* e, std::string_view lname, std::string_view rest)
    {
        const Kind kind = e != nullptr ? e->kind : Kind::other;
        const std::uint8_t flags = e != nullptr ? e->flags : 0;
        if ((flags & kRaw) != 0)
            return enter_raw(lname);
        read_attributes(rest);
        images += kind == Kind::img ? 1 : 0;
        if (kind == Kind::br)
            return request_break(true);
        close_implied(kind, flags);
        if (kind == Kind::area && has[kHref])
            add_link(attr[kHref], {});
        if ((flags & kVoid) != 0)
            return (flags & kBlock) != 0 ? request_break(false) : void();
        if (kind == Kind::a)
            close_link(); // one the stack could not hold
        const bool anchor = kind == Kind::a && has[kHref] && !trim(attr[kHref]).empty();
        if (depth == kMaxDepth) {
            ++excess;
            if (anchor)
                open_link(attr[kHref], 0);
            return;
        }
        Frame& f = stack[depth];
        f.name = key_of(lname);
        f.kind = kind;
        f.flags = flags;
        f.style = style_for(kind);
        f.hidden = f.style.hidden();
        f.tiny = f.style.tiny();
        ++depth;
        refresh_top();
        if ((flags & kBlock) != 0)
            request_break(false);
        else if (kind == Kind::cell)
            space();
        if (anchor)
            open_link(attr[kHref], depth);
    }

    void end_element(const Element* e, NameKey key)
    {
        const Kind kind = e != nullptr ? e->kind : Kind::other;
        if (kind == Kind::html || kind == Kind::body) // what follows still shows
            return;
        if (kind == Kind::br) // "</br>" is read as <br>
            return request_break(true);
        if (excess > 0) {
            --excess;
            return kind == Kind::a ? close_link() : void();
        }
        std::uint32_t stop = bit(Kind::cell) | bit(Kind::table) | bit(Kind::caption);
        if (kind == Kind::table)
            stop = 0;
        else if (kind == Kind::cell || kind == Kind::tr || kind == Kind::tsection || kind == Kind::caption)
            stop = bit(Kind::table);
        for (std::size_t j = depth; j-- > 0;) {
            const Frame& f = stack[j];
            if (f.name == key) {
                const bool block = (f.flags & kBlock) != 0 && !f.hidden;
                pop_to(j);
                if (block)
                    request_break(false);
                break;
            }
            if ((bit(f.kind) & stop) != 0)
                break;
        }
        if (kind == Kind::p) // a stray </p> still breaks the line
            request_break(false);
        if (kind == Kind::a)
            close_link();
    }

    // ---- anchors ----

    void open_link(std::string_view href, std::size_t owner)
    {
        if (links.size() >= kMaxLinks)
            return;
        link_open = true;
        link_depth = owner;
        link_href.assign(cap_utf8(trim(href), kMaxLinkBytes));
        link_text.clear();
    }

    void close_link()
    {
        if (!link_open)
            return;
        link_open = false;
        link_depth = 0;
        add_link(link_href, link_text);
    }

    void add_link(std::string_view href, std::string_view text)
    {
        href = trim(href);
        if (href.empty() || links.size() >= kMaxLinks)
            return;
        links.push_back({std::string(cap_utf8(href, kMaxLinkBytes)), std::string(cap_utf8(trim(text), kMaxLinkBytes))});
    }

    // ---- driver ----

    void feed(std::string_view in, std::string& out)
    {
        const char* p = in.data();
        const char* const end = p + in.size();
        while (p < end) {
            switch (mode) {
            case Mode::text: p = on_text(p, end, out); break;
            case Mode::reference: p = on_reference(p, end, out); break;
            case Mode::tag_open: p = on_tag_open(p, out); break;
            case Mode::end_tag_open: p = on_end_tag_open(p); break;
            case Mode::tag: p = on_tag(p, end); break;
            case Mode::markup: p = on_markup(p); break;
            case Mode::comment: p = on_comment(p, end); break;
            case Mode::cdata: p = on_cdata(p, end); break;
            case Mode::bogus: p = on_bogus(p, end); break;
            case Mode::raw: p = on_raw(p, end); break;
            case Mode::raw_end: p = on_raw_end(p); break;
            case Mode::raw_end_delim: p = on_raw_end_delim(p); break;
            }
        }
    }

    void finish(std::string& out)
    {
        if (mode == Mode::reference)
            resolve_reference(false, out);
        if (mode == Mode::text && seq_need > 0) {
            seq_need = 0;
            emit_cp(0xFFFD, out);
        }
        close_link();
        mode = Mode::text;
        tag.clear();
        pending_breaks = 0;
        pending_space = false;
    }
};

HtmlToText::HtmlToText() : d(std::make_unique<State>()) {}
HtmlToText::~HtmlToText() = default;
HtmlToText::HtmlToText(HtmlToText&&) noexcept = default;
HtmlToText& HtmlToText::operator=(HtmlToText&&) noexcept = default;

void HtmlToText::feed(std::string_view html, std::string& out) { d->feed(html, out); }
void HtmlToText::finish(std::string& out) { d->finish(out); }
std::size_t HtmlToText::visible_chars() const { return d->visible; }
std::size_t HtmlToText::hidden_chars() const { return d->hidden; }
std::size_t HtmlToText::tiny_chars() const { return d->tiny; }
std::size_t HtmlToText::images() const { return d->images; }
const std::vector<HtmlLink>& HtmlToText::links() const { return d->links; }

} // namespace rampart::mime
