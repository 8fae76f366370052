// NAME
//   html_style.cpp - inline CSS and presentational attributes, as far as they hide text
// DESCRIPTION
//   Text is hidden by display:none, opacity below 0.1, a zero height or
//   width with overflow hidden or clip (the element's box shows nothing), a
//   transparent colour or one with alpha below 0.1, visibility:hidden (a
//   child may set visible again), a computed font size of 0, and a text
//   colour equal to the background colour in effect (background-color, or
//   the colour in the background shorthand). A background image or
//   gradient makes the colour under the text unknown, so such text is not
//   hidden by colour. The last declaration of a property wins; comments and
//   !important are ignored.
//
//   Font sizes: px, pt, pc, in, cm, mm, q, rem against 16px; em, %, ex and
//   ch against the parent; keywords xx-small to xxx-large, smaller, larger;
//   "font: 0/0 a" shorthand. A unitless size is px in font-size (most mail
//   is rendered in quirks mode) and only 0 in the font shorthand (where
//   700 is a weight). Viewport units are only sure when zero.
//   Unknown colour names, hsl() and var() change nothing.
#include "mime/html_style.hpp"

#include "util/text.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>

namespace rampart::mime::css {
namespace {

constexpr double kInvisibleAlpha = 0.1; // opacity or colour alpha below this shows nothing

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

struct NamedColor {
    std::string_view name;
    std::uint32_t rgb;
};
// clang-format off
constexpr NamedColor kColors[] = {
    {"black", 0x000000}, {"white", 0xFFFFFF}, {"red", 0xFF0000}, {"green", 0x008000}, {"blue", 0x0000FF},
    {"yellow", 0xFFFF00}, {"aqua", 0x00FFFF}, {"cyan", 0x00FFFF}, {"fuchsia", 0xFF00FF}, {"magenta", 0xFF00FF},
    {"gray", 0x808080}, {"grey", 0x808080}, {"silver", 0xC0C0C0}, {"maroon", 0x800000}, {"olive", 0x808000},
    {"lime", 0x00FF00}, {"teal", 0x008080}, {"navy", 0x000080}, {"purple", 0x800080}, {"orange", 0xFFA500},
    {"pink", 0xFFC0CB}, {"brown", 0xA52A2A}, {"gold", 0xFFD700}, {"snow", 0xFFFAFA}, {"ivory", 0xFFFFF0},
    {"ghostwhite", 0xF8F8FF}, {"whitesmoke", 0xF5F5F5}, {"floralwhite", 0xFFFAF0}, {"mintcream", 0xF5FFFA},
    {"azure", 0xF0FFFF}, {"aliceblue", 0xF0F8FF}, {"seashell", 0xFFF5EE}, {"linen", 0xFAF0E6}, {"oldlace", 0xFDF5E6},
    {"honeydew", 0xF0FFF0}, {"lavenderblush", 0xFFF0F5}, {"lightgray", 0xD3D3D3}, {"lightgrey", 0xD3D3D3},
    {"darkgray", 0xA9A9A9}, {"darkgrey", 0xA9A9A9}, {"dimgray", 0x696969}, {"dimgrey", 0x696969},
    {"gainsboro", 0xDCDCDC}, {"beige", 0xF5F5DC}, {"lightyellow", 0xFFFFE0}, {"lightcyan", 0xE0FFFF},
    {"darkblue", 0x00008B}, {"darkred", 0x8B0000}, {"darkgreen", 0x006400}, {"lightblue", 0xADD8E6},
    {"lightgreen", 0x90EE90}, {"skyblue", 0x87CEEB}, {"orangered", 0xFF4500}, {"crimson", 0xDC143C},
    {"indigo", 0x4B0082}, {"violet", 0xEE82EE}, {"tomato", 0xFF6347}, {"coral", 0xFF7F50}, {"salmon", 0xFA8072},
    {"khaki", 0xF0E68C}, {"tan", 0xD2B48C}, {"wheat", 0xF5DEB3}, {"chocolate", 0xD2691E}, {"royalblue", 0x4169E1},
    {"steelblue", 0x4682B4}, {"slategray", 0x708090}, {"midnightblue", 0x191970}, {"forestgreen", 0x228B22},
    {"seagreen", 0x2E8B57}, {"darkorange", 0xFF8C00}, {"firebrick", 0xB22222}, {"lavender", 0xE6E6FA},
    {"cornsilk", 0xFFF8DC}, {"lemonchiffon", 0xFFFACD}, {"papayawhip", 0xFFEFD5}, {"antiquewhite", 0xFAEBD7},
    {"mistyrose", 0xFFE4E1}, {"blanchedalmond", 0xFFEBCD}, {"navajowhite", 0xFFDEAD},
};
// clang-format on

// Reads a number at the start of `s` and removes it; false when there is none.
bool take_number(std::string_view& s, double& v)
{
    if (!s.empty() && s.front() == '+')
        s.remove_prefix(1);
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc{} || !std::isfinite(v))
        return false;
    s.remove_prefix(static_cast<std::size_t>(r.ptr - s.data()));
    return true;
}

bool parse_hex_color(std::string_view h, Color& c)
{
    std::uint32_t v = 0;
    for (char ch : h) {
        const int d = hex_value(ch);
        if (d < 0)
            return false;
        v = v * 16 + static_cast<std::uint32_t>(d);
    }
    const auto expand = [](std::uint32_t x) { // 0xRGB -> 0xRRGGBB
        return ((x >> 8) & 0xF) * 0x110000 + ((x >> 4) & 0xF) * 0x1100 + (x & 0xF) * 0x11;
    };
    switch (h.size()) {
    case 3: c = {expand(v), false}; return true;
    case 4: c = {expand(v >> 4), (v & 0xF) < 0xF * kInvisibleAlpha}; return true;
    case 6: c = {v, false}; return true;
    case 8: c = {v >> 8, (v & 0xFF) < 0xFF * kInvisibleAlpha}; return true;
    default: return false;
    }
}

// "r, g, b[, a]" or "r g b [/ a]", numbers or percentages.
bool parse_rgb(std::string_view s, Color& c)
{
    double part[4] = {0, 0, 0, 1};
    int n = 0;
    while (n < 4) {
        while (!s.empty() && (is_space(s.front()) || s.front() == ',' || s.front() == '/'))
            s.remove_prefix(1);
        if (s.empty() || s.front() == ')' || !take_number(s, part[n]))
            break;
        const bool percent = !s.empty() && s.front() == '%';
        if (percent)
            s.remove_prefix(1);
        if (percent)
            part[n] = n < 3 ? part[n] * 2.55 : part[n] / 100;
        ++n;
    }
    if (n < 3)
        return false;
    std::uint32_t rgb = 0;
    for (int i = 0; i < 3; ++i)
        rgb = rgb * 256 + static_cast<std::uint32_t>(std::lround(std::clamp(part[i], 0.0, 255.0)));
    c = {rgb, part[3] < kInvisibleAlpha};
    return true;
}

} // namespace

bool parse_color(std::string_view v, bool legacy, Color& c)
{
    v = trim(v);
    if (v.empty())
        return false;
    if (iequals(v, "transparent")) {
        c = {0, true};
        return true;
    }
    if (v.front() == '#')
        return parse_hex_color(v.substr(1), c);
    for (std::string_view fn : {"rgba(", "rgb("})
        if (v.size() > fn.size() && iequals(v.substr(0, fn.size()), fn))
            return parse_rgb(v.substr(fn.size()), c);
    for (const auto& nc : kColors)
        if (iequals(v, nc.name)) {
            c = {nc.rgb, false};
            return true;
        }
    return legacy && (v.size() == 3 || v.size() == 6) && parse_hex_color(v, c);
}

namespace {

// The font size in px that `v` gives inside a parent of `parent` px.
// Unitless numbers are px (quirks mode, as most mail is) when allowed.
bool parse_font_size(std::string_view v, float parent, bool unitless, float& px)
{
    static constexpr std::pair<std::string_view, float> kKeywords[] = {
        {"xx-small", 9}, {"x-small", 10}, {"small", 13},    {"medium", 16},
        {"large", 18},   {"x-large", 24}, {"xx-large", 32}, {"xxx-large", 48}};
    for (const auto& [name, size] : kKeywords)
        if (v == name) {
            px = size;
            return true;
        }
    if (v == "smaller" || v == "larger") {
        px = v == "smaller" ? parent / 1.2f : parent * 1.2f;
        return true;
    }
    double n = 0;
    if (!take_number(v, n) || n < 0)
        return false;
    static constexpr std::pair<std::string_view, double> kUnits[] = {
        {"px", 1},  {"pt", 4.0 / 3},   {"pc", 16},        {"rem", 16},
        {"in", 96}, {"cm", 96 / 2.54}, {"mm", 96 / 25.4}, {"q", 96 / 101.6}};
    double out = -1;
    if (v.empty())
        out = unitless || n == 0 ? n : -1;
    else if (v == "em" || v == "%" || v == "ex" || v == "ch")
        out = n * parent / (v == "em" ? 1 : v == "%" ? 100 : 2);
    else if (v == "vw" || v == "vh" || v == "vmin" || v == "vmax")
        out = n == 0 ? 0 : parent; // the viewport is not known: only zero is sure
    for (const auto& [unit, scale] : kUnits)
        if (v == unit)
            out = n * scale;
    if (out < 0)
        return false;
    px = static_cast<float>(out);
    return true;
}

// The whitespace-separated words of a CSS value, parentheses kept whole.
template <typename F> void for_each_token(std::string_view v, F&& f)
{
    std::size_t i = 0;
    while (i < v.size()) {
        while (i < v.size() && is_space(v[i]))
            ++i;
        const std::size_t start = i;
        int depth = 0;
        for (; i < v.size() && (depth > 0 || !is_space(v[i])); ++i)
            depth += v[i] == '(' ? 1 : v[i] == ')' ? -1 : 0;
        if (i > start && f(v.substr(start, i - start)))
            return;
    }
}

bool is_zero_length(std::string_view v)
{
    double n = 1;
    return take_number(v, n) && n == 0;
}

// What one declaration of an inline style does; `box` collects the
// declarations that hide only together.
struct BoxHiding {
    bool display_none = false, transparent = false, zero_box = false, clipped = false;
};

void apply_declaration(Style& s, std::string_view prop, std::string_view val, float parent_px, BoxHiding& box)
{
    Color c;
    if (prop == "display")
        box.display_none = val == "none";
    else if (prop == "visibility")
        s.invisible = val == "hidden" || val == "collapse" ? true : val == "visible" ? false : s.invisible;
    else if (prop == "opacity") {
        double n = 1;
        if (std::string_view v = val; take_number(v, n))
            box.transparent = (v == "%" ? n / 100 : n) < kInvisibleAlpha;
    } else if (prop == "font-size")
        parse_font_size(val, parent_px, true, s.font_px);
    else if (prop == "font") // "font: 0/0 a": the size is the word before an optional "/line-height"
        for_each_token(val, [&](std::string_view t) {
            return parse_font_size(t.substr(0, t.find('/')), parent_px, false, s.font_px);
        });
    else if (prop == "color" && parse_color(val, false, c)) {
        s.color = c.rgb;
        s.clear_text = c.clear;
    } else if (prop == "background-color" && parse_color(val, false, c) && !c.clear) {
        s.background = c.rgb;
        s.bg_unknown = false;
    } else if (prop == "background") {
        if (val.find("url(") != std::string_view::npos || val.find("gradient(") != std::string_view::npos)
            s.bg_unknown = true;
        else
            for_each_token(val, [&](std::string_view t) {
                if (!parse_color(t, false, c))
                    return false;
                if (!c.clear)
                    s.background = c.rgb, s.bg_unknown = false;
                return true;
            });
    } else if (prop == "background-image")
        s.bg_unknown = s.bg_unknown || val != "none";
    else if (prop == "height" || prop == "max-height" || prop == "width" || prop == "max-width")
        box.zero_box = box.zero_box || is_zero_length(val);
    else if (prop == "overflow")
        box.clipped = val == "hidden" || val == "clip";
}

} // namespace

bool legacy_font_size(std::string_view v, float& px)
{
    static constexpr float kSizes[] = {5, 13, 16, 18, 24, 32, 48};
    v = trim(v);
    int sign = 0;
    if (!v.empty() && (v.front() == '+' || v.front() == '-')) {
        sign = v.front() == '+' ? 1 : -1;
        v.remove_prefix(1);
    }
    int n = 0;
    std::size_t digits = 0;
    for (; digits < v.size() && is_digit(v[digits]) && digits < 3; ++digits)
        n = n * 10 + (v[digits] - '0');
    if (digits == 0)
        return false;
    n = sign == 0 ? n : 3 + sign * n;
    px = kSizes[std::clamp(n, 1, 7) - 1];
    return true;
}

void apply_inline_style(Style& s, std::string_view css, float parent_px, std::string& scratch)
{
    scratch.clear();
    for (std::size_t i = 0; i < css.size(); ++i) {
        if (css[i] == '/' && i + 1 < css.size() && css[i + 1] == '*') {
            const auto close = css.find("*/", i + 2);
            if (close == std::string_view::npos)
                break;
            i = close + 1;
            continue;
        }
        scratch.push_back(lower(css[i]));
    }
    BoxHiding box;
    std::string_view rest = scratch;
    while (!rest.empty()) {
        const auto semi = std::min(rest.find(';'), rest.size());
        const std::string_view decl = rest.substr(0, semi);
        rest.remove_prefix(std::min(semi + 1, rest.size()));
        const auto colon = decl.find(':');
        if (colon == std::string_view::npos)
            continue;
        std::string_view val = decl.substr(colon + 1);
        val = trim(val.substr(0, val.find('!'))); // "!important" changes nothing inline
        apply_declaration(s, trim(decl.substr(0, colon)), val, parent_px, box);
    }
    if (box.display_none || box.transparent || (box.zero_box && box.clipped))
        s.gone = true;
}

} // namespace rampart::mime::css
