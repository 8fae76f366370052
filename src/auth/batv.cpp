#include "auth/batv.hpp"

#include "util/text.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace rampart::batv {
namespace {

constexpr std::string_view kPrefix = "prvs=";
constexpr std::size_t kSignatureBytes = 3;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The first kSignatureBytes of HMAC-SHA1(secret, "KDDD" + lowercase(address)).
std::array<unsigned char, kSignatureBytes> signature(const Key& key, std::string_view kddd, std::string_view address)
{
    const std::string data = std::string(kddd) + lowercase(address);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (HMAC(EVP_sha1(), key.secret.data(), static_cast<int>(key.secret.size()),
             reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len) == nullptr ||
        len < kSignatureBytes)
        throw std::runtime_error("batv: HMAC-SHA1 failed in libcrypto");
    std::array<unsigned char, kSignatureBytes> out{};
    std::memcpy(out.data(), mac, out.size());
    return out;
}

// "prvs=KDDDSSSSSS=" split from the rest, checked for form only.
struct Parsed {
    int key = 0;
    int day = 0; // DDD
    std::array<unsigned char, kSignatureBytes> sig{};
    std::string_view kddd, address;
};

std::optional<Parsed> parse_tag(std::string_view a)
{
    if (a.size() > kMaxAddressBytes || a.size() < kTagBytes + 3 || a[kTagBytes - 1] != '=')
        return std::nullopt;
    const auto tag = a.substr(kPrefix.size(), 10);
    Parsed p;
    for (std::size_t i = 0; i < 4; ++i)
        if (!is_digit(tag[i]))
            return std::nullopt;
    p.key = tag[0] - '0';
    p.day = (tag[1] - '0') * 100 + (tag[2] - '0') * 10 + (tag[3] - '0');
    for (std::size_t i = 0; i < kSignatureBytes; ++i) {
        const int hi = hex_value(tag[4 + 2 * i]), lo = hex_value(tag[5 + 2 * i]);
        if (hi < 0 || lo < 0)
            return std::nullopt;
        p.sig[i] = static_cast<unsigned char>(hi * 16 + lo);
    }
    p.kddd = tag.substr(0, 4);
    p.address = a.substr(kTagBytes);
    const auto at = p.address.rfind('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == p.address.size())
        return std::nullopt;
    return p;
}

} // namespace

Result<KeyRing> KeyRing::parse(std::string_view text, std::string_view name)
{
    KeyRing ring;
    int lineno = 0;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        ++lineno;
        line = trim(line);
        if (line.empty() || line.front() == '#')
            continue;
        const auto fail = [&](std::string_view why) { return Error{fmt::format("{}:{}: {}", name, lineno, why)}; };
        if (line.size() < 2 || !is_digit(line[0]) || (line[1] != ' ' && line[1] != '\t'))
            return fail("want \"K SECRET\": a key number 0 to 9, white space, the secret");
        const int number = line[0] - '0';
        const auto secret = trim(line.substr(2));
        if (secret.size() < kMinSecretBytes)
            return fail(fmt::format("the secret of key {} is shorter than {} bytes", number, kMinSecretBytes));
        if (secret.size() > kMaxSecretBytes)
            return fail(fmt::format("the secret of key {} is longer than {} bytes", number, kMaxSecretBytes));
        if (ring.find(number) != nullptr)
            return fail(fmt::format("key {} is given twice", number));
        ring.d_keys.push_back({number, std::string(secret)});
    }
    if (ring.d_keys.empty())
        return Error{fmt::format("{}: no key: want lines \"K SECRET\", the signing key first", name)};
    return ring;
}

Result<KeyRing> KeyRing::load(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return Error{fmt::format("{}: cannot open: {}", path, std::strerror(errno))};
    std::string text(kMaxKeyFileBytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    if (in.bad())
        return Error{fmt::format("{}: cannot read: {}", path, std::strerror(errno))};
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxKeyFileBytes)
        return Error{fmt::format("{}: larger than {} bytes: not a key file", path, kMaxKeyFileBytes)};
    return parse(text, path);
}

const Key* KeyRing::find(int number) const
{
    for (const auto& k : d_keys)
        if (k.number == number)
            return &k;
    return nullptr;
}

bool looks_tagged(std::string_view address)
{
    return address.size() >= kPrefix.size() && iequals(address.substr(0, kPrefix.size()), kPrefix);
}

std::optional<std::string> sign(const KeyRing& ring, std::string_view address, std::int64_t today, int valid_days)
{
    const auto at = address.rfind('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == address.size() || address.front() == '"' ||
        looks_tagged(address) || address.size() + kTagBytes > kMaxAddressBytes)
        return std::nullopt;
    const Key& key = ring.signing();
    const auto day = (today + valid_days) % 1000;
    const std::string kddd = fmt::format("{}{:03}", key.number, day < 0 ? day + 1000 : day);
    const auto sig = signature(key, kddd, address);
    return fmt::format("prvs={}{:02x}{:02x}{:02x}={}", kddd, sig[0], sig[1], sig[2], address);
}

const char* to_string(Status s)
{
    switch (s) {
    case Status::valid: return "valid";
    case Status::untagged: return "untagged";
    case Status::malformed: return "malformed tag";
    case Status::unknown_key: return "unknown key";
    case Status::bad_signature: return "bad signature";
    case Status::expired: return "expired";
    }
    return "untagged";
}

Verified verify(const KeyRing& ring, std::string_view address, std::int64_t today, int valid_days)
{
    if (!looks_tagged(address))
        return {Status::untagged, std::string(address)};
    const auto p = parse_tag(address);
    if (!p)
        return {Status::malformed, std::string(address)};
    Verified v{Status::valid, std::string(p->address)};
    const Key* key = ring.find(p->key);
    if (key == nullptr) {
        v.status = Status::unknown_key;
        return v;
    }
    // Days from today to the tag's expiry, modulo 1000: a tag that expired
    // yesterday is 999 days ahead.
    const auto ahead = ((p->day - today % 1000) % 1000 + 1000) % 1000;
    const auto sig = signature(*key, p->kddd, p->address);
    if (CRYPTO_memcmp(sig.data(), p->sig.data(), sig.size()) != 0)
        v.status = Status::bad_signature;
    else if (ahead > valid_days)
        v.status = Status::expired;
    return v;
}

} // namespace rampart::batv
