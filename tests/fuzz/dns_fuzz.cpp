// NAME
//   dns_fuzz.cpp - libFuzzer target for the DNS response reader and the block list syntax
// DESCRIPTION
//   The input is read as a DNS response for every type the checks ask
//   (parse_response), and as a dnsbl.zones entry (parse_blocklist) that,
//   if it parses, matches the input's first line as an answer. Checked:
//   the ceilings of message.hpp (kMaxRecords, kMaxTtl, names of at most
//   kMaxName octets), that a positive answer has records and a negative or
//   failed one none, that A and AAAA data are addresses, and that a parsed
//   list has a zone and a symbol and a weight in -100..100, not 0. The
//   input is also read as a fleet cache value (decode_answer): what reads
//   is definite, within kMaxTtl, and encodes back to itself.
#include "dns/blocklist.hpp"
#include "dns/message.hpp"
#include "fuzz.hpp"

#include <string>

using namespace rampart;

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    rampart::fuzz::quiet_logs();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using dns::Type;
    for (Type t : {Type::a, Type::aaaa, Type::txt, Type::ptr, Type::mx, Type::cname, Type::ns, Type::soa}) {
        const dns::Answer a = dns::parse_response({data, size}, t);
        CONTRACT(a.records.size() <= dns::kMaxRecords);
        CONTRACT(a.ttl <= dns::kMaxTtl);
        CONTRACT((a.status == dns::Status::ok) == !a.records.empty());
        for (const auto& r : a.records) {
            CONTRACT(r.type == t);
            CONTRACT(r.ttl <= dns::kMaxTtl);
            if (t == Type::a || t == Type::aaaa)
                CONTRACT(IpAddress::parse(r.data).has_value());
            if (t == Type::ptr || t == Type::cname || t == Type::ns)
                CONTRACT(r.data.size() < dns::kMaxName);
        }
    }

    const std::string_view in = rampart::fuzz::as_view(data, size);
    for (Type t : {Type::a, Type::txt}) {
        if (const auto a = dns::decode_answer(in, t, 1000)) {
            CONTRACT(!a->temporary());
            CONTRACT(a->ttl > 0 && a->ttl <= dns::kMaxTtl);
            CONTRACT((a->status == dns::Status::ok) == !a->records.empty());
            CONTRACT(dns::encode_answer(*a, 1000 + a->ttl) == in);
        }
    }
    const auto nl = in.find('\n');
    if (const auto bl = dns::parse_blocklist(in.substr(0, nl))) {
        CONTRACT(!bl->zone.empty());
        CONTRACT(bl->symbol.starts_with("RAMPART_RBL_") || bl->symbol.starts_with("RAMPART_RWL_"));
        CONTRACT(bl->weight != 0 && bl->weight >= -100 && bl->weight <= 100);
        if (nl != std::string_view::npos)
            (void)bl->match(in.substr(nl + 1));
    }
    return 0;
}
