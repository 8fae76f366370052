// NAME
//   params.cpp - MIME field values: token, parameters, RFC 2231 and file names
// DESCRIPTION
//   See params.hpp. Parsing is forgiving in the ways mail clients are
//   (bare values up to ";", unterminated quotes and comments run to the end)
//   and never fails: what cannot be read is skipped.
#include "mime/params.hpp"
#include "util/text.hpp"

#include "mime/content.hpp"
#include "mime/decode.hpp"
#include "mime/encoded_words.hpp"

#include <algorithm>

namespace rampart::mime {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// Skips white space and comments; comments nest and may hold quoted pairs.
std::size_t skip_cfws(std::string_view s, std::size_t i)
{
    while (i < s.size()) {
        if (is_space(s[i])) {
            ++i;
            continue;
        }
        if (s[i] != '(')
            break;
        std::size_t depth = 0;
        while (i < s.size()) {
            const char c = s[i++];
            if (c == '\\')
                ++i;
            else if (c == '(')
                ++depth;
            else if (c == ')' && --depth == 0)
                break;
        }
    }
    return std::min(i, s.size());
}

std::string percent_decode(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        const int hi = s[i] == '%' && i + 2 < s.size() ? hex_value(s[i + 1]) : -1;
        const int lo = hi >= 0 ? hex_value(s[i + 2]) : -1;
        if (hi >= 0 && lo >= 0) {
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

// One name*N[*]=value piece of an RFC 2231 parameter.
struct Section {
    std::string name;
    int index = 0; // -1 for name*=value (a single extended value)
    bool encoded = false;
    std::string value;
};

// Splits "name*N*" into its parts; false when it is no RFC 2231 name.
bool parse_section_name(std::string_view name, Section& s)
{
    const auto star = name.find('*');
    s.name.assign(name.substr(0, star));
    std::string_view rest = name.substr(star + 1);
    if (rest.empty()) {
        s.index = -1;
        s.encoded = true;
        return !s.name.empty();
    }
    int n = 0;
    std::size_t digits = 0;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9' && digits < 3)
        n = n * 10 + (rest[digits++] - '0');
    if (digits == 0 || n >= static_cast<int>(kMaxSections))
        return false;
    rest.remove_prefix(digits);
    s.index = n;
    s.encoded = rest == "*";
    return !s.name.empty() && (rest.empty() || s.encoded);
}

std::string to_utf8_named(std::string_view charset, std::string_view bytes)
{
    std::string name;
    if (!charset_for_iconv(charset, name) || name.empty())
        return valid_utf8(bytes);
    std::string out;
    bool bad = false;
    to_utf8(name, bytes, out, bad);
    return out;
}

// Joins the sections of one parameter in index order (the first of an index wins).
Param join_sections(std::vector<Section>& all, std::string_view name)
{
    std::vector<const Section*> mine;
    for (const auto& s : all)
        if (s.name == name)
            mine.push_back(&s);
    std::stable_sort(mine.begin(), mine.end(), [](const Section* a, const Section* b) { return a->index < b->index; });
    std::string bytes, charset;
    int last = -2;
    for (const Section* s : mine) {
        if (s->index == last)
            continue;
        const bool first = last == -2;
        last = s->index;
        std::string_view v = s->value;
        if (s->encoded && first) { // charset'language'value
            const auto q1 = v.find('\'');
            const auto q2 = q1 == std::string_view::npos ? q1 : v.find('\'', q1 + 1);
            if (q2 != std::string_view::npos) {
                charset.assign(v.substr(0, q1));
                v = v.substr(q2 + 1);
            }
        }
        bytes += s->encoded ? percent_decode(v) : std::string(v);
    }
    return Param{std::string(name), charset.empty() ? bytes : to_utf8_named(charset, bytes), true};
}

// The value at s[i] (after "="): a quoted string or bare text up to ";".
std::string read_value(std::string_view s, std::size_t& i)
{
    std::string v;
    if (i < s.size() && s[i] == '"') {
        for (++i; i < s.size() && s[i] != '"'; ++i) {
            if (s[i] == '\\' && i + 1 < s.size())
                ++i;
            v.push_back(s[i]);
        }
    } else {
        const auto end = std::min(s.find(';', i), s.size());
        const auto text = s.substr(i, end - i);
        v.assign(text);
        while (!v.empty() && is_space(v.back()))
            v.pop_back();
    }
    i = std::min(s.find(';', i), s.size());
    return v;
}

std::string cut_token(std::string_view s)
{
    std::string out;
    for (char c : s.substr(0, kMaxTokenBytes))
        out.push_back(lower(c));
    return out;
}

} // namespace

const Param* FieldValue::find(std::string_view name) const
{
    const Param* plain = nullptr;
    for (const auto& p : params) {
        if (p.name != name)
            continue;
        if (p.extended)
            return &p;
        if (!plain)
            plain = &p;
    }
    return plain;
}

FieldValue parse_field_value(std::string_view raw)
{
    FieldValue f;
    std::size_t i = skip_cfws(raw, 0);
    while (i < raw.size() && raw[i] != ';') {
        if (raw[i] == '(') {
            i = skip_cfws(raw, i);
            continue;
        }
        if (!is_space(raw[i]) && f.token.size() < kMaxTokenBytes)
            f.token.push_back(lower(raw[i]));
        ++i;
    }
    std::vector<Section> sections;
    std::vector<std::string> extended_names;
    for (std::size_t n = 0; i < raw.size() && n < kMaxParams; ++n) {
        i = skip_cfws(raw, i + 1); // past ";"
        const std::size_t start = i;
        while (i < raw.size() && raw[i] != '=' && raw[i] != ';' && raw[i] != '(' && !is_space(raw[i]))
            ++i;
        const std::string name = cut_token(raw.substr(start, i - start));
        i = skip_cfws(raw, i);
        if (name.empty() || i >= raw.size() || raw[i] != '=') {
            i = std::min(raw.find(';', i), raw.size());
            continue;
        }
        i = skip_cfws(raw, i + 1);
        std::string value = read_value(raw, i);
        if (name.find('*') == std::string::npos) {
            f.params.push_back(Param{name, std::move(value), false});
            continue;
        }
        Section s;
        if (!parse_section_name(name, s))
            continue;
        s.value = std::move(value);
        if (std::find(extended_names.begin(), extended_names.end(), s.name) == extended_names.end())
            extended_names.push_back(s.name);
        sections.push_back(std::move(s));
    }
    for (const auto& name : extended_names)
        f.params.push_back(join_sections(sections, name));
    return f;
}

std::string file_name(const Param& p)
{
    // Decoded words can still leave raw 8-bit bytes outside them: UTF-8 either way.
    std::string name = valid_utf8(p.extended ? std::string_view(p.value) : decode_header_value(p.value).text);
    if (name.size() > kMaxFilenameBytes) {
        std::size_t cut = kMaxFilenameBytes;
        while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80)
            --cut;
        name.resize(cut);
    }
    return name;
}

ContentType parse_content_type(std::string_view raw)
{
    const FieldValue f = parse_field_value(raw);
    ContentType t;
    const auto slash = f.token.find('/');
    if (slash != std::string::npos && slash > 0 && slash + 1 < f.token.size() &&
        f.token.find('/', slash + 1) == std::string::npos)
        t.type = f.token;
    if (const Param* p = f.find("charset"))
        t.charset = cut_token(p->value);
    if (const Param* p = f.find("boundary"))
        t.boundary = p->value;
    if (const Param* p = f.find("name"))
        t.name = file_name(*p);
    return t;
}

Disposition parse_disposition(std::string_view raw)
{
    const FieldValue f = parse_field_value(raw);
    Disposition d;
    if (f.token == "inline" || f.token == "attachment")
        d.kind = f.token;
    else if (!f.token.empty())
        d.kind = "attachment";
    if (const Param* p = f.find("filename"))
        d.filename = file_name(*p);
    return d;
}

std::string parse_transfer_encoding(std::string_view raw) { return parse_field_value(raw).token; }

} // namespace rampart::mime
