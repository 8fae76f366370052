// NAME
//   text.hpp - small text helpers for untrusted input
// DESCRIPTION
//   printable() makes wire text safe to log: bytes outside printable ASCII
//   become '?', and the result is cut at a ceiling with "..." appended.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace rampart {

inline constexpr std::size_t kLogFieldMax = 256;

std::string printable(std::string_view s, std::size_t max = kLogFieldMax);
// ASCII case folding, whatever the locale; other bytes are left as they are.
constexpr char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
std::string lowercase(std::string_view s);
std::string_view trim(std::string_view s);
bool iequals(std::string_view a, std::string_view b);

// The value of a hexadecimal digit, or -1.
constexpr int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// UTF-8: the length of the character at s[i], 1 to 4; 0 when the bytes
// there are not one (overlong forms and surrogates included); -1 when s ends
// inside what may still become one.
int utf8_char_length(std::string_view s, std::size_t i);
// How many bytes from the start of `s` are whole valid UTF-8 characters.
std::size_t utf8_valid_prefix(std::string_view s);

// Strips one pair of angle brackets from an envelope address: "<a@b>" -> "a@b".
std::string_view strip_brackets(std::string_view addr);

// The domain part of an address (after the last '@'), or "" when there is none.
std::string_view domain_of(std::string_view addr);

} // namespace rampart
