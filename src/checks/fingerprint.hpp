// NAME
//   fingerprint.hpp - what makes two copies of a mailing the same message
// DESCRIPTION
//   An outbreak is one message sent to many: the same text, the same links
//   or the same attachment, from many networks and senders. A message gives
//   up to four kinds of fingerprint, each a kind and a 64-bit hash in hex:
//
//   text        the visible text, as words: ASCII letters lowercased, every
//               digit read as '#', anything else but UTF-8 a separator.
//               Only for a text of at least kMinWords words.
//   urls        the set of its URLs as host and path (no query, no
//               fragment), sorted; URLs with an empty path are left out (a
//               bare domain is in too much honest mail), and so is a
//               message without any other.
//   attachment  the decoded content of an attachment that is neither text
//               nor an image (mime::Part::digest, with its size); at most
//               kMaxAttachments.
//   nearN       a near-duplicate: MinHash over the text's kShingleWords-word
//               shingles (one permutation, kBands * kRows bins), in kBands
//               bands of kRows bins each; two texts whose shingle sets
//               overlap by 90% share a band 19 times in 20
//               (1 - (1 - 0.9^6)^4), by 80% 7 in 10, by 50% 1 in 16. N is the
//               band's number. Changing a name, a number or a few words
//               leaves most bands alone.
#pragma once

#include "mime/content.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::fingerprint {

inline constexpr std::size_t kMinWords = 20;
inline constexpr std::size_t kShingleWords = 4;
inline constexpr std::size_t kBands = 4;
inline constexpr std::size_t kRows = 6;
inline constexpr std::size_t kMaxShingles = 4096; // of a text's first shingles
inline constexpr std::size_t kMaxAttachments = 4;
inline constexpr std::size_t kMinAttachmentBytes = 256;

enum class Kind { text, urls, attachment, near };
const char* to_string(Kind k); // "text", "urls", "attachment", "near"

struct Fingerprint {
    Kind kind;
    std::string id; // "text:1f3a...", "near2:..."; at most 32 bytes
};

// The text's words, normalised as above, and the hash of each.
std::vector<std::string> words(std::string_view text);
std::vector<std::uint64_t> word_hashes(std::string_view text);
// The band hashes of the word hashes of a text with at least kMinWords words; empty otherwise.
std::vector<std::uint64_t> near_bands(const std::vector<std::uint64_t>& word_hashes);
// A URL's host and path ("example.com/a/b"), "" when its path is empty or "/".
std::string url_key(const mime::Url& url);

// Every fingerprint of a parsed message, text first; near-duplicates only when `near`.
std::vector<Fingerprint> of(const mime::Content& content, bool near);

} // namespace rampart::fingerprint
