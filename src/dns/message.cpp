#include "dns/message.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace rampart::dns {
namespace {

constexpr std::size_t kHeader = 12;

class Reader {
  public:
    explicit Reader(std::span<const std::uint8_t> m) : d_m(m) {}

    bool ok() const { return d_ok; }
    std::size_t pos() const { return d_pos; }
    void seek(std::size_t p) { d_pos = p; }

    std::uint16_t u16()
    {
        if (!need(2))
            return 0;
        const auto v = static_cast<std::uint16_t>(d_m[d_pos] << 8 | d_m[d_pos + 1]);
        d_pos += 2;
        return v;
    }
    std::uint32_t u32()
    {
        const std::uint32_t hi = u16();
        return hi << 16 | u16();
    }
    bool skip(std::size_t n)
    {
        if (!need(n))
            return false;
        d_pos += n;
        return true;
    }
    // A name at the current position, compression pointers followed, lower
    // case, without the trailing dot ("" for the root).
    std::string name()
    {
        std::string out;
        std::size_t p = d_pos, wire = 0, pointers = 0;
        bool jumped = false;
        while (true) {
            if (p >= d_m.size())
                return fail();
            const std::uint8_t len = d_m[p];
            if ((len & 0xc0) == 0xc0) {
                if (p + 1 >= d_m.size() || ++pointers > kMaxPointers)
                    return fail();
                if (!jumped)
                    d_pos = p + 2;
                jumped = true;
                p = static_cast<std::size_t>(len & 0x3f) << 8 | d_m[p + 1];
                continue;
            }
            if (len & 0xc0) // the extended label types of RFC 6891 are not names
                return fail();
            wire += len + 1;
            if (wire > kMaxName || p + 1 + len > d_m.size())
                return fail();
            if (len == 0)
                break;
            if (!out.empty())
                out += '.';
            for (std::size_t i = 0; i < len; ++i) {
                const char c = static_cast<char>(d_m[p + 1 + i]);
                out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
            }
            p += 1 + len;
        }
        if (!jumped)
            d_pos = p + 1;
        return out;
    }
    std::span<const std::uint8_t> bytes(std::size_t n)
    {
        if (!need(n))
            return {};
        const auto s = d_m.subspan(d_pos, n);
        d_pos += n;
        return s;
    }

  private:
    bool need(std::size_t n)
    {
        if (!d_ok || d_pos > d_m.size() || d_m.size() - d_pos < n)
            d_ok = false;
        return d_ok;
    }
    std::string fail()
    {
        d_ok = false;
        return {};
    }

    std::span<const std::uint8_t> d_m;
    std::size_t d_pos = 0;
    bool d_ok = true;
};

struct RawRecord {
    std::string owner;
    std::uint16_t type = 0;
    std::uint32_t ttl = 0;
    std::size_t rdata = 0; // offset in the message
    std::uint16_t rdlength = 0;
};

// The data of a record as text (see message.hpp); empty when malformed.
std::optional<std::string> record_text(Reader& r, const RawRecord& rr)
{
    r.seek(rr.rdata);
    switch (static_cast<Type>(rr.type)) {
    case Type::a: {
        const auto b = r.bytes(4);
        if (rr.rdlength != 4 || b.empty())
            return std::nullopt;
        return fmt::format("{}.{}.{}.{}", b[0], b[1], b[2], b[3]);
    }
    case Type::aaaa: {
        const auto b = r.bytes(16);
        if (rr.rdlength != 16 || b.empty())
            return std::nullopt;
        std::string text;
        for (std::size_t i = 0; i < 16; i += 2)
            text += fmt::format("{}{:x}", i ? ":" : "", b[i] << 8 | b[i + 1]);
        const auto parsed = IpAddress::parse(text); // prints in the canonical short form
        return parsed ? parsed->to_string() : text;
    }
    case Type::ptr:
    case Type::cname:
    case Type::ns: {
        std::string n = r.name();
        if (!r.ok() || r.pos() > rr.rdata + rr.rdlength)
            return std::nullopt;
        return n;
    }
    case Type::mx: {
        const auto pref = r.u16();
        std::string n = r.name();
        if (!r.ok() || r.pos() > rr.rdata + rr.rdlength)
            return std::nullopt;
        return fmt::format("{} {}", pref, n);
    }
    case Type::txt: {
        std::string text;
        const std::size_t end = rr.rdata + rr.rdlength;
        while (r.pos() < end) {
            const auto len = r.bytes(1);
            if (len.empty() || r.pos() + len[0] > end)
                return std::nullopt;
            const auto s = r.bytes(len[0]);
            text.append(reinterpret_cast<const char*>(s.data()), s.size());
        }
        return text;
    }
    case Type::soa: return std::string();
    }
    return std::nullopt;
}

} // namespace

std::string_view to_string(Status s)
{
    switch (s) {
    case Status::ok: return "ok";
    case Status::nxdomain: return "nxdomain";
    case Status::nodata: return "nodata";
    case Status::servfail: return "servfail";
    case Status::refused: return "refused";
    case Status::timeout: return "timeout";
    case Status::error: break;
    }
    return "error";
}

std::string_view to_string(Type t)
{
    switch (t) {
    case Type::a: return "A";
    case Type::ns: return "NS";
    case Type::cname: return "CNAME";
    case Type::soa: return "SOA";
    case Type::ptr: return "PTR";
    case Type::mx: return "MX";
    case Type::txt: return "TXT";
    case Type::aaaa: break;
    }
    return "AAAA";
}

Answer parse_response(std::span<const std::uint8_t> response, Type type)
{
    Answer out;
    Reader r(response);
    if (response.size() < kHeader)
        return out;
    r.skip(2);
    const std::uint16_t flags = r.u16();
    const std::size_t qd = r.u16(), an = r.u16(), ns = r.u16();
    r.u16(); // additional: not read
    if (!(flags & 0x8000) || qd != 1 || an > kMaxRecords || ns > kMaxRecords)
        return out;
    std::string qname = r.name();
    r.skip(4);
    if (!r.ok())
        return out;

    std::vector<RawRecord> answers, authority;
    for (std::size_t i = 0; i < an + ns; ++i) {
        RawRecord rr;
        rr.owner = r.name();
        rr.type = r.u16();
        r.u16(); // class
        rr.ttl = std::min(r.u32(), kMaxTtl);
        rr.rdlength = r.u16();
        rr.rdata = r.pos();
        if (!r.skip(rr.rdlength) || !r.ok())
            return out;
        (i < an ? answers : authority).push_back(std::move(rr));
    }

    switch (flags & 0x000f) {
    case 0: break;
    case 2: out.status = Status::servfail; return out;
    case 3: out.status = Status::nxdomain; break;
    case 5: out.status = Status::refused; return out;
    default: return out; // FORMERR, NOTIMP and the rest: the server could not answer
    }

    // Follow the CNAME chain from the question's name (at most as long as
    // the records), keeping the records of the type asked of its last name.
    std::string owner = qname;
    std::uint32_t ttl = kMaxTtl;
    for (std::size_t hops = 0; hops <= answers.size(); ++hops) {
        bool moved = false;
        for (const auto& rr : answers) {
            if (rr.owner != owner)
                continue;
            if (rr.type == static_cast<std::uint16_t>(type)) {
                auto text = record_text(r, rr);
                if (!text)
                    return Answer{};
                out.records.push_back({type, rr.ttl, std::move(*text)});
                ttl = std::min(ttl, rr.ttl);
            } else if (rr.type == static_cast<std::uint16_t>(Type::cname) && type != Type::cname && !moved) {
                auto target = record_text(r, rr);
                if (!target)
                    return Answer{};
                ttl = std::min(ttl, rr.ttl);
                owner = std::move(*target);
                moved = true;
            }
        }
        if (!out.records.empty() || !moved)
            break;
    }
    if (!out.records.empty()) {
        out.status = Status::ok;
        out.ttl = ttl;
        return out;
    }
    if (out.status != Status::nxdomain)
        out.status = Status::nodata;
    out.ttl = kNoSoaTtl;
    for (const auto& rr : authority)
        if (rr.type == static_cast<std::uint16_t>(Type::soa)) {
            r.seek(rr.rdata);
            r.name();
            r.name();
            r.skip(16);
            const std::uint32_t minimum = r.u32();
            if (r.ok() && r.pos() <= rr.rdata + rr.rdlength)
                out.ttl = std::min({rr.ttl, minimum, kMaxTtl});
            break;
        }
    return out;
}

std::string reverse_labels(const IpAddress& address)
{
    const auto& b = address.bytes();
    if (address.is_v4())
        return fmt::format("{}.{}.{}.{}", b[15], b[14], b[13], b[12]);
    std::string out;
    out.reserve(63);
    static constexpr char hex[] = "0123456789abcdef";
    for (std::size_t i = 16; i-- > 0;) {
        if (!out.empty())
            out += '.';
        out += hex[b[i] & 0xf];
        out += '.';
        out += hex[b[i] >> 4];
    }
    return out;
}

std::string reverse_name(const IpAddress& address)
{
    return reverse_labels(address) + (address.is_v4() ? ".in-addr.arpa" : ".ip6.arpa");
}

std::string encode_answer(const Answer& a, std::int64_t expires)
{
    std::string out = fmt::format("r1 {} {} {}", expires, static_cast<int>(a.status), a.records.size());
    for (const auto& r : a.records)
        out += fmt::format(" {} {}:{}", static_cast<unsigned>(r.type), r.data.size(), r.data);
    return out;
}

namespace {

// Reads a decimal number of at most 18 digits, without leading zeros, as encode_answer writes them.
std::optional<std::int64_t> read_number(std::string_view& in)
{
    if (in.size() > 1 && in[0] == '0' && in[1] >= '0' && in[1] <= '9')
        return std::nullopt;
    std::int64_t n = 0;
    std::size_t i = 0;
    for (; i < in.size() && in[i] >= '0' && in[i] <= '9'; ++i) {
        if (i == 18)
            return std::nullopt;
        n = n * 10 + (in[i] - '0');
    }
    if (i == 0)
        return std::nullopt;
    in.remove_prefix(i);
    return n;
}

bool read_char(std::string_view& in, char c)
{
    if (in.empty() || in.front() != c)
        return false;
    in.remove_prefix(1);
    return true;
}

} // namespace

std::optional<Answer> decode_answer(std::string_view in, Type type, std::int64_t now)
{
    if (!in.starts_with("r1 "))
        return std::nullopt;
    in.remove_prefix(3);
    const auto expires = read_number(in);
    if (!expires || !read_char(in, ' '))
        return std::nullopt;
    const auto status = read_number(in);
    if (!status || !read_char(in, ' '))
        return std::nullopt;
    const auto count = read_number(in);
    if (!count || *count > static_cast<std::int64_t>(kMaxRecords))
        return std::nullopt;
    const auto left = *expires - now;
    if (left <= 0 || left > kMaxTtl)
        return std::nullopt;
    Answer a;
    a.ttl = static_cast<std::uint32_t>(left);
    a.cached = true;
    switch (static_cast<Status>(*status)) {
    case Status::ok:
    case Status::nxdomain:
    case Status::nodata: a.status = static_cast<Status>(*status); break;
    default: return std::nullopt; // only definite answers are shared
    }
    if ((a.status == Status::ok) != (*count > 0))
        return std::nullopt;
    for (std::int64_t i = 0; i < *count; ++i) {
        if (!read_char(in, ' '))
            return std::nullopt;
        const auto t = read_number(in);
        if (!t || *t != static_cast<std::int64_t>(type) || !read_char(in, ' '))
            return std::nullopt;
        const auto len = read_number(in);
        if (!len || !read_char(in, ':') || static_cast<std::uint64_t>(*len) > in.size())
            return std::nullopt;
        std::string data(in.substr(0, static_cast<std::size_t>(*len)));
        in.remove_prefix(static_cast<std::size_t>(*len));
        if ((type == Type::a || type == Type::aaaa) && !IpAddress::parse(data))
            return std::nullopt;
        a.records.push_back({type, a.ttl, std::move(data)});
    }
    if (!in.empty())
        return std::nullopt;
    return a;
}

} // namespace rampart::dns
