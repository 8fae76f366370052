#include "checks/fingerprint.hpp"

#include <xxhash.h>

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace rampart::fingerprint {
namespace {

std::string hex_id(std::string_view prefix, std::uint64_t h) { return fmt::format("{}:{:016x}", prefix, h); }

std::uint64_t hash(std::string_view s) { return XXH3_64bits(s.data(), s.size()); }

// splitmix64's finaliser: one hash becomes kBands * kRows independent ones.
std::uint64_t mix(std::uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

bool word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

} // namespace

const char* to_string(Kind k)
{
    switch (k) {
    case Kind::text: return "text";
    case Kind::urls: return "urls";
    case Kind::attachment: return "attachment";
    case Kind::near: return "near";
    }
    return "?";
}

// Calls `word` with each normalised word of the text, in a buffer it reuses.
template <typename F> void each_word(std::string_view text, F word)
{
    std::string w;
    for (std::size_t i = 0; i <= text.size(); ++i) {
        const auto c = i < text.size() ? static_cast<unsigned char>(text[i]) : ' ';
        if (word_byte(c)) {
            w += c >= 'A' && c <= 'Z'   ? static_cast<char>(c - 'A' + 'a')
                 : c >= '0' && c <= '9' ? '#'
                                        : static_cast<char>(c);
        } else if (!w.empty()) {
            word(std::string_view(w));
            w.clear();
        }
    }
}

std::vector<std::string> words(std::string_view text)
{
    std::vector<std::string> out;
    each_word(text, [&](std::string_view w) { out.emplace_back(w); });
    return out;
}

std::vector<std::uint64_t> word_hashes(std::string_view text)
{
    std::vector<std::uint64_t> out;
    each_word(text, [&](std::string_view w) { out.push_back(hash(w)); });
    return out;
}

std::vector<std::uint64_t> near_bands(const std::vector<std::uint64_t>& ws)
{
    if (ws.size() < kMinWords)
        return {};
    // One-permutation MinHash: each shingle's hash falls in one of the
    // kBands * kRows bins, which keeps its smallest; one hash per shingle
    // rather than one per bin.
    constexpr std::size_t kBins = kBands * kRows;
    constexpr auto kEmpty = std::numeric_limits<std::uint64_t>::max();
    std::array<std::uint64_t, kBins> mins;
    mins.fill(kEmpty);
    const std::size_t shingles = std::min(ws.size() - kShingleWords + 1, kMaxShingles);
    for (std::size_t i = 0; i < shingles; ++i) {
        const std::uint64_t h = XXH3_64bits(&ws[i], kShingleWords * sizeof(std::uint64_t));
        const auto bin = static_cast<std::size_t>(((h >> 32) * kBins) >> 32);
        mins[bin] = std::min(mins[bin], h);
    }
    // A bin no shingle fell in borrows from the next one that has one
    // (densification), told apart by the distance.
    const auto found = mins;
    for (std::size_t b = 0; b < kBins; ++b)
        if (found[b] == kEmpty)
            for (std::size_t step = 1; step < kBins; ++step)
                if (const auto v = found[(b + step) % kBins]; v != kEmpty) {
                    mins[b] = mix(v + step);
                    break;
                }
    std::vector<std::uint64_t> bands;
    for (std::size_t b = 0; b < kBands; ++b) {
        std::array<std::uint64_t, kRows + 1> rows;
        rows[0] = b; // the same rows in another band are another band
        std::copy_n(mins.begin() + static_cast<std::ptrdiff_t>(b * kRows), kRows, rows.begin() + 1);
        bands.push_back(XXH3_64bits(rows.data(), sizeof rows));
    }
    return bands;
}

std::string url_key(const mime::Url& url)
{
    std::string_view t = url.text;
    if (const auto scheme = t.find("://"); scheme != std::string_view::npos)
        t.remove_prefix(scheme + 3);
    else if (t.starts_with("//"))
        t.remove_prefix(2);
    const auto slash = t.find_first_of("/?#");
    if (slash == std::string_view::npos || t[slash] != '/')
        return {};
    t.remove_prefix(slash);
    t = t.substr(0, t.find_first_of("?#"));
    if (t.size() <= 1)
        return {};
    return url.host + std::string(t);
}

std::vector<Fingerprint> of(const mime::Content& content, bool near)
{
    std::vector<Fingerprint> out;
    const auto ws = word_hashes(content.text);
    if (ws.size() >= kMinWords)
        out.push_back({Kind::text, hex_id("text", XXH3_64bits(ws.data(), ws.size() * sizeof(std::uint64_t)))});

    std::vector<std::string> urls;
    for (const auto& u : content.urls)
        if (auto k = url_key(u); !k.empty())
            urls.push_back(std::move(k));
    if (!urls.empty()) {
        std::sort(urls.begin(), urls.end());
        urls.erase(std::unique(urls.begin(), urls.end()), urls.end());
        std::string joined;
        for (const auto& u : urls) {
            joined += u;
            joined += '\n';
        }
        out.push_back({Kind::urls, hex_id("urls", hash(joined))});
    }

    std::size_t attachments = 0;
    for (const auto& p : content.parts) {
        if (attachments == kMaxAttachments)
            break;
        if (!p.is_attachment() || p.is_text() || p.decoded_bytes < kMinAttachmentBytes ||
            p.content_type.starts_with("image/") || p.detected_type.starts_with("image/"))
            continue;
        const std::array<std::uint64_t, 2> what = {p.digest, p.decoded_bytes};
        const auto id = hex_id("attachment", XXH3_64bits(what.data(), sizeof what));
        if (std::none_of(out.begin(), out.end(), [&](const Fingerprint& f) { return f.id == id; })) {
            out.push_back({Kind::attachment, id});
            ++attachments;
        }
    }

    if (near) {
        const auto bands = near_bands(ws);
        for (std::size_t b = 0; b < bands.size(); ++b)
            out.push_back({Kind::near, hex_id(fmt::format("near{}", b), bands[b])});
    }
    return out;
}

} // namespace rampart::fingerprint
