// NAME
//   html_style.hpp - what an element's style does to the text in it
// DESCRIPTION
//   Internal to HtmlToText (html.cpp): the part of CSS and of the old
//   presentational attributes that decides whether a reader can see text
//   and how large it is. Each element's Style starts as its parent's; only
//   the properties that hide or shrink text are read (html_style.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rampart::mime::css {

inline constexpr float kDefaultFontPx = 16.0f;
inline constexpr float kTinyFontPx = 6.0f; // below this (4.5pt) a reader has to strain
inline constexpr std::uint32_t kBlack = 0x000000, kWhite = 0xFFFFFF, kLinkBlue = 0x0000EE;

struct Color {
    std::uint32_t rgb = 0;
    bool clear = false; // transparent: shows nothing
};

struct Style {
    float font_px = kDefaultFontPx;
    std::uint32_t color = kBlack;
    std::uint32_t background = kWhite;
    bool gone = false;       // display:none and the like: nothing inside can show
    bool invisible = false;  // visibility:hidden; a child may set visible again
    bool clear_text = false; // the text colour is transparent
    bool bg_unknown = false; // a background image: the colour under the text is not known

    bool hidden() const
    {
        return gone || invisible || clear_text || font_px <= 0.0f || (!bg_unknown && color == background);
    }
    bool tiny() const { return font_px < kTinyFontPx; }
};

// A CSS colour (#rgb[a], #rrggbb[aa], rgb()/rgba(), a name, transparent);
// with `legacy` also an attribute's bare hex ("ffffff").
bool parse_color(std::string_view v, bool legacy, Color& c);

// <font size=N>: 1 to 7, or +N/-N from 3. Size 1 is taken as tiny.
bool legacy_font_size(std::string_view v, float& px);

// Applies an inline style attribute; `parent_px` is the parent's font size
// (for em and %), `scratch` memory reused between calls.
void apply_inline_style(Style& s, std::string_view css, float parent_px, std::string& scratch);

} // namespace rampart::mime::css
