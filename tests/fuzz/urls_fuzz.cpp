// NAME
//   urls_fuzz.cpp - libFuzzer target for the URL finder and host normaliser
// DESCRIPTION
//   The input is used as prose for find_urls(), as one URL for parse_url()
//   and as a raw host for normalize_host(); each host found goes to
//   registered_domain(). Checked: the ceilings of urls.hpp (kMaxUrlBytes,
//   253-byte hosts, the `max` of find_urls), that a registered domain is a
//   tail of its host, and that an IP host is its own registered domain.
#include "fuzz.hpp"
#include "mime/urls.hpp"

#include <string>
#include <vector>

using namespace rampart::mime;

namespace {

constexpr std::size_t kMaxHostBytes = 253;
constexpr std::size_t kFindMax = 50;

void check_host(const std::string& host, bool ip)
{
    CONTRACT(host.size() <= kMaxHostBytes);
    const std::string_view reg = registered_domain(host);
    CONTRACT(reg.size() <= host.size());
    CONTRACT(std::string_view(host).substr(host.size() - reg.size()) == reg);
    if (ip)
        CONTRACT(reg == host);
}

void check_url(const Url& u)
{
    CONTRACT(u.text.size() <= kMaxUrlBytes);
    CONTRACT(!u.host.empty());
    check_host(u.host, u.ip);
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    rampart::fuzz::quiet_logs();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view in = rampart::fuzz::as_view(data, size);

    std::vector<Url> found;
    find_urls(in, found, kFindMax);
    CONTRACT(found.size() <= kFindMax);
    for (const auto& u : found)
        check_url(u);

    // A list that is already full gets nothing more.
    std::vector<Url> full(found);
    find_urls(in, full, found.size());
    CONTRACT(full.size() == found.size());

    if (const auto u = parse_url(in))
        check_url(*u);

    bool obfuscated = false, ip = false;
    const std::string host = normalize_host(in, obfuscated, ip);
    if (!host.empty())
        check_host(host, ip);
    (void)registered_domain(in); // promised only for normalised hosts, but must not crash on others
    return 0;
}
