// NAME
//   syntax.cpp - the rule file parser
// DESCRIPTION
//   Line by line: "rule NAME" opens a rule that runs until the next "rule",
//   the next top-level "score NAME VALUE" or the end of the file;
//   indentation is a convention, not syntax. Inside a rule: one kind line
//   (header, body, rawbody, uri, full, meta), at most one "score VALUE" and
//   one "describe TEXT". A rule with an error in any of its lines is
//   dropped after the error is reported, so one mistake gives one message.
// LIMITS
//   kMaxFileBytes per text (reported at the line where the limit falls),
//   kMaxLineBytes per line, kMaxRules distinct names over the whole load.
#include "ruleset/syntax.hpp"

#include "util/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <optional>

namespace rampart::rules {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t'; }

// The first whitespace-separated word of `s`, and what follows it (trimmed).
std::pair<std::string_view, std::string_view> split_word(std::string_view s)
{
    std::size_t i = 0;
    while (i < s.size() && !is_space(s[i]))
        ++i;
    return {s.substr(0, i), trim(s.substr(i))};
}

std::optional<double> parse_score(std::string_view s)
{
    std::size_t i = s.starts_with('-') ? 1 : 0;
    const std::size_t digits_from = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9')
        ++i;
    if (i == digits_from)
        return std::nullopt;
    if (i < s.size() && s[i] == '.') {
        const std::size_t frac_from = ++i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9')
            ++i;
        if (i == frac_from)
            return std::nullopt;
    }
    if (i != s.size() || s.size() > 32)
        return std::nullopt;
    double v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || v > kMaxScore || v < -kMaxScore)
        return std::nullopt;
    return v;
}

char closing_delimiter(char open)
{
    switch (open) {
    case '(': return ')';
    case '[': return ']';
    case '{': return '}';
    case '<': return '>';
    default: return open;
    }
}

bool is_delimiter(char c)
{
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f && c != '\\' && !(c >= '0' && c <= '9') && !(c >= 'A' && c <= 'Z') &&
           !(c >= 'a' && c <= 'z');
}

// "/re/flags" or "m{re}flags" into rule.pattern and rule.flags; "" or an error.
std::string parse_pattern(std::string_view s, Rule& rule)
{
    if (s.empty())
        return "missing pattern";
    std::size_t at = 0;
    if (s[0] == 'm' && s.size() > 1 && is_delimiter(s[1]))
        at = 1;
    else if (s[0] != '/')
        return fmt::format("pattern must be /.../ or m followed by a delimiter, not `{}`", printable(s, 32));
    const char open = s[at], close = closing_delimiter(open);
    int depth = 0;
    std::size_t end = std::string_view::npos;
    for (std::size_t i = at + 1; i < s.size(); ++i) {
        if (s[i] == '\\') {
            ++i;
        } else if (open != close && s[i] == open) {
            ++depth;
        } else if (s[i] == close) {
            if (depth == 0) {
                end = i;
                break;
            }
            --depth;
        }
    }
    if (end == std::string_view::npos)
        return fmt::format("pattern has no closing `{}`", close);
    rule.pattern = std::string(s.substr(at + 1, end - at - 1));
    if (rule.pattern.empty())
        return "empty pattern";
    for (const char f : s.substr(end + 1)) {
        if (f == 'i')
            rule.flags |= HS_FLAG_CASELESS;
        else if (f == 's')
            rule.flags |= HS_FLAG_DOTALL;
        else if (f == 'm')
            rule.flags |= HS_FLAG_MULTILINE;
        else
            return fmt::format("unknown pattern flag `{}` (flags are i, s and m)", printable(std::string_view(&f, 1)));
    }
    return {};
}

bool valid_field_name(std::string_view f)
{
    if (f.empty() || f.size() > kMaxFieldNameBytes)
        return false;
    for (const char c : f) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 33 || u > 126 || c == ':')
            return false;
    }
    return true;
}

// "FIELD =~ PATTERN", "FIELD !~ PATTERN" or "* =~ PATTERN".
std::string parse_header(std::string_view rest, Rule& rule)
{
    const auto [field, after_field] = split_word(rest);
    const auto [op, pattern] = split_word(after_field);
    if (field.empty() || op.empty())
        return "header wants FIELD =~ /pattern/ (or !~)";
    if (op != "=~" && op != "!~")
        return fmt::format("header wants =~ or !~ after the field, not `{}`", printable(op, 32));
    if (field == "*") {
        rule.kind = Kind::header_any;
    } else {
        if (!valid_field_name(field))
            return fmt::format("bad header field name `{}`", printable(field, 64));
        rule.kind = Kind::header;
        rule.field = lowercase(field);
    }
    rule.negated = op == "!~";
    return parse_pattern(pattern, rule);
}

std::optional<Kind> kind_of(std::string_view keyword)
{
    static constexpr std::pair<std::string_view, Kind> kKinds[] = {
        {"header", Kind::header}, {"body", Kind::body}, {"rawbody", Kind::rawbody},
        {"uri", Kind::uri},       {"full", Kind::full}, {"meta", Kind::meta},
    };
    for (const auto& [word, kind] : kKinds)
        if (word == keyword)
            return kind;
    return std::nullopt;
}

class FileParser {
  public:
    FileParser(std::string_view file, RuleText& into) : d_file(file), d_into(into) {}

    void line(int number, std::string_view text);
    void end() { close_rule(); }

  private:
    void error(int line, std::string message)
    {
        d_into.error(d_file, line, std::move(message));
        if (d_rule)
            d_broken = true;
    }
    void open_rule(int line, std::string_view rest);
    void close_rule();
    void top_level_score(int line, std::string_view name, std::string_view value);
    void kind_line(int line, Kind kind, std::string_view rest);
    void rule_line(int line, std::string_view keyword, std::string_view rest);

    std::string_view d_file;
    RuleText& d_into;
    std::optional<Rule> d_rule;
    bool d_broken = false; // the open rule had an error: it is dropped
};

void FileParser::open_rule(int line, std::string_view rest)
{
    close_rule();
    d_rule.emplace();
    d_broken = false;
    d_rule->file = std::string(d_file);
    d_rule->line = line;
    const auto [name, extra] = split_word(rest);
    if (!extra.empty())
        return error(line, fmt::format("rule wants one name, found `{}` after it", printable(extra, 32)));
    if (!valid_symbol_name(name))
        return error(line, fmt::format("bad rule name `{}` (want [A-Z][A-Z0-9_]*, at most {} characters)",
                                       printable(name, 80), kMaxNameBytes));
    if (name.starts_with(kBuiltinPrefix))
        return error(line,
                     fmt::format("rule name `{}`: names starting with {} are built-in symbols", name, kBuiltinPrefix));
    d_rule->name = std::string(name);
}

void FileParser::close_rule()
{
    if (!d_rule)
        return;
    Rule rule = std::move(*d_rule);
    d_rule.reset();
    if (d_broken)
        return;
    if (rule.kind == Kind::none)
        return d_into.error(
            d_file, rule.line,
            fmt::format("rule {} has no kind line (header, body, rawbody, uri, full or meta)", rule.name));
    if (const auto it = d_into.by_name.find(rule.name); it != d_into.by_name.end()) {
        d_into.rules[it->second] = std::move(rule);
        return;
    }
    if (d_into.rules.size() >= kMaxRules)
        return d_into.error(d_file, rule.line, fmt::format("too many rules: more than {}", kMaxRules));
    d_into.by_name.emplace(rule.name, d_into.rules.size());
    d_into.rules.push_back(std::move(rule));
}

void FileParser::top_level_score(int line, std::string_view name, std::string_view value)
{
    close_rule();
    if (!valid_symbol_name(name))
        return error(line, fmt::format("score: bad name `{}`", printable(name, 80)));
    const auto v = parse_score(value);
    if (!v)
        return error(
            line, fmt::format("bad score `{}` (a number from -{} to {})", printable(value, 32), kMaxScore, kMaxScore));
    d_into.scores.push_back({std::string(name), *v, std::string(d_file), line});
}

void FileParser::kind_line(int line, Kind kind, std::string_view rest)
{
    Rule& r = *d_rule;
    if (r.kind != Kind::none)
        return error(line, fmt::format("rule {}: a second kind line (the first is at line {})", r.name, r.kind_line));
    r.kind_line = line;
    std::string err;
    if (kind == Kind::header) {
        err = parse_header(rest, r);
    } else if (kind == Kind::meta) {
        r.kind = kind;
        err = parse_meta(rest, r.meta);
    } else {
        r.kind = kind;
        err = parse_pattern(rest, r);
    }
    if (!err.empty())
        error(line, fmt::format("rule {}: {}", r.name, err));
}

void FileParser::rule_line(int line, std::string_view keyword, std::string_view rest)
{
    Rule& r = *d_rule;
    if (keyword == "score") {
        if (r.has_score)
            return error(line, fmt::format("rule {}: a second score line", r.name));
        const auto v = parse_score(rest);
        if (!v)
            return error(line, fmt::format("bad score `{}` (a number from -{} to {})", printable(rest, 32), kMaxScore,
                                           kMaxScore));
        r.score = *v;
        r.has_score = true;
    } else if (keyword == "describe") {
        if (!r.describe.empty())
            return error(line, fmt::format("rule {}: a second describe line", r.name));
        if (rest.empty())
            return error(line, fmt::format("rule {}: describe wants text", r.name));
        r.describe = std::string(rest);
    } else if (const auto kind = kind_of(keyword)) {
        kind_line(line, *kind, rest);
    } else {
        error(line, fmt::format("unknown keyword `{}`", printable(keyword, 32)));
    }
}

void FileParser::line(int number, std::string_view text)
{
    if (text.size() > kMaxLineBytes)
        return error(number, fmt::format("line too long: {} > {} bytes", text.size(), kMaxLineBytes));
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7f)
            return error(number, "control character in line");
    }
    const std::string_view t = trim(text);
    if (t.empty() || t.front() == '#')
        return;
    const auto [keyword, rest] = split_word(t);
    if (keyword == "rule")
        return open_rule(number, rest);
    if (keyword == "score") {
        const auto [first, second] = split_word(rest);
        if (!second.empty()) {
            const auto [value, extra] = split_word(second);
            if (!extra.empty())
                return error(number, "score wants `score VALUE` in a rule or `score NAME VALUE`");
            return top_level_score(number, first, value);
        }
    }
    if (!d_rule) {
        if (keyword == "score" || keyword == "describe" || kind_of(keyword))
            return error(number, fmt::format("`{}` outside a rule", keyword));
        return error(number, fmt::format("unknown keyword `{}`", printable(keyword, 32)));
    }
    rule_line(number, keyword, rest);
}

} // namespace

std::string_view kind_name(Kind k)
{
    switch (k) {
    case Kind::header: return "header";
    case Kind::header_any: return "header *";
    case Kind::body: return "body";
    case Kind::rawbody: return "rawbody";
    case Kind::uri: return "uri";
    case Kind::full: return "full";
    case Kind::meta: return "meta";
    default: return "none";
    }
}

bool valid_symbol_name(std::string_view name)
{
    if (name.empty() || name.size() > kMaxNameBytes || !(name[0] >= 'A' && name[0] <= 'Z'))
        return false;
    for (const char c : name)
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    return true;
}

void RuleText::error(std::string_view file, int line, std::string message)
{
    if (errors.size() >= kMaxErrors) {
        ++errors_dropped;
        return;
    }
    errors.push_back({std::string(file), line, std::move(message)});
}

std::vector<LoadError> RuleText::take_errors()
{
    std::vector<LoadError> out = std::move(errors);
    if (errors_dropped > 0)
        out.push_back({"", 0, fmt::format("{} more errors not shown", errors_dropped)});
    errors.clear();
    errors_dropped = 0;
    return out;
}

void parse_text(std::string_view text, std::string_view file, RuleText& into)
{
    if (text.size() > kMaxFileBytes) {
        const auto head = text.substr(0, kMaxFileBytes);
        const int line = 1 + static_cast<int>(std::count(head.begin(), head.end(), '\n'));
        into.error(file, line, fmt::format("file too big: more than {} bytes", kMaxFileBytes));
        return;
    }
    FileParser parser(file, into);
    int number = 0;
    while (!text.empty()) {
        ++number;
        const auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        if (line.ends_with('\r'))
            line.remove_suffix(1);
        parser.line(number, line);
    }
    parser.end();
}

} // namespace rampart::rules
