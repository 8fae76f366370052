#include "auth/dmarc.hpp"

#include "mime/urls.hpp"
#include "util/text.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
extern "C" {
#include <opendmarc/dmarc.h>
}

#include <cstring>
#include <memory>
#include <stdexcept>

namespace rampart::auth {
namespace {

u_char* bytes(std::string& s) { return reinterpret_cast<u_char*>(s.data()); }

struct PolicyFree {
    void operator()(DMARC_POLICY_T* p) const { opendmarc_policy_connect_shutdown(p); }
};

enum class Lookup { found, absent, several, failed };

// The DMARC record of `domain`: the one TXT record that begins "v=DMARC1".
Lookup dmarc_record(dns::Resolver& resolver, std::chrono::steady_clock::time_point deadline, const std::string& domain,
                    std::string& record)
{
    const auto l = resolver.lookup("_dmarc." + domain, dns::Type::txt);
    if (!l->wait_until(deadline) || l->answer().temporary())
        return Lookup::failed;
    int n = 0;
    for (const auto& r : l->answer().records)
        if (iequals(trim(r.data).substr(0, 8), "v=DMARC1")) {
            record = r.data;
            ++n;
        }
    return n == 1 ? Lookup::found : n == 0 ? Lookup::absent : Lookup::several;
}

} // namespace

std::string_view to_string(DmarcResult r)
{
    switch (r) {
    case DmarcResult::none: return "none";
    case DmarcResult::pass: return "pass";
    case DmarcResult::fail: return "fail";
    case DmarcResult::temperror: return "temperror";
    case DmarcResult::permerror: break;
    }
    return "permerror";
}

std::string_view to_string(DmarcPolicy p)
{
    switch (p) {
    case DmarcPolicy::none: return "none";
    case DmarcPolicy::quarantine: return "quarantine";
    case DmarcPolicy::reject: break;
    }
    return "reject";
}

DmarcLibrary::DmarcLibrary(const std::string& public_suffix_list) : d_list(public_suffix_list)
{
    OPENDMARC_LIB_T lib{};
    lib.tld_type = d_list.empty() ? OPENDMARC_TLD_TYPE_NONE : OPENDMARC_TLD_TYPE_MOZILLA;
    if (d_list.size() >= sizeof lib.tld_source_file)
        throw std::runtime_error("dmarc: the public suffix list's path is too long");
    std::memcpy(lib.tld_source_file, d_list.c_str(), d_list.size() + 1);
    if (opendmarc_policy_library_init(&lib) != DMARC_PARSE_OKAY)
        throw std::runtime_error("dmarc: cannot read the public suffix list " + d_list);
}

// libopendmarc keeps the list in globals that every policy context reads:
// shutting it down under a Runtime still in use would pull it away from
// under the sessions, so it stays loaded for the life of the process.
DmarcLibrary::~DmarcLibrary() = default;

Dmarc evaluate_dmarc(const DmarcLibrary&, dns::Resolver& resolver, std::chrono::steady_clock::time_point deadline,
                     const IpAddress& ip, std::string_view from_domain, const std::optional<Spf>& spf,
                     const std::vector<DkimSignature>& dkim, int draw)
{
    Dmarc out;
    out.domain = lowercase(from_domain);
    if (out.domain.empty())
        return out;
    std::string record;
    std::string org(mime::registered_domain(out.domain));
    bool fallback = false;
    switch (dmarc_record(resolver, deadline, out.domain, record)) {
    case Lookup::failed: out.result = DmarcResult::temperror; return out;
    case Lookup::several: return out; // no policy applies (RFC 7489 section 6.6.3), nor the parent's
    case Lookup::found: break;
    case Lookup::absent:
        if (org.empty() || org == out.domain)
            return out;
        fallback = true;
        switch (dmarc_record(resolver, deadline, org, record)) {
        case Lookup::failed: out.result = DmarcResult::temperror; return out;
        case Lookup::absent:
        case Lookup::several: return out;
        case Lookup::found: break;
        }
    }

    std::string address = ip.to_string();
    std::unique_ptr<DMARC_POLICY_T, PolicyFree> p(
        opendmarc_policy_connect_init(bytes(address), ip.is_v4() ? DMARC_POLICY_IP_TYPE_IPV4 : DMARC_POLICY_IP_TYPE_IPV6));
    if (!p)
        return out;
    std::string from = out.domain;
    if (opendmarc_policy_store_from_domain(p.get(), bytes(from)) != DMARC_PARSE_OKAY)
        return out;
    // The From domain itself; the organizational domain only where its
    // record was used, so that libopendmarc applies sp= there and p= here.
    std::string record_of = out.domain;
    if (opendmarc_policy_store_dmarc(p.get(), bytes(record), bytes(record_of), fallback ? bytes(org) : nullptr) !=
        DMARC_PARSE_OKAY) {
        out.result = DmarcResult::permerror;
        return out;
    }
    if (spf && !spf->domain.empty()) {
        std::string d = spf->domain, human(to_string(spf->result));
        const int outcome = spf->result == SpfResult::pass        ? DMARC_POLICY_SPF_OUTCOME_PASS
                            : spf->result == SpfResult::temperror ? DMARC_POLICY_SPF_OUTCOME_TMPFAIL
                            : spf->result == SpfResult::none      ? DMARC_POLICY_SPF_OUTCOME_NONE
                                                                  : DMARC_POLICY_SPF_OUTCOME_FAIL;
        opendmarc_policy_store_spf(p.get(), bytes(d), outcome,
                                   spf->helo_identity ? DMARC_POLICY_SPF_ORIGIN_HELO : DMARC_POLICY_SPF_ORIGIN_MAILFROM,
                                   bytes(human));
    }
    for (const auto& s : dkim) {
        std::string d = s.domain, sel = s.selector, human(to_string(s.result));
        const int outcome = s.result == DkimResult::pass        ? DMARC_POLICY_DKIM_OUTCOME_PASS
                            : s.result == DkimResult::temperror ? DMARC_POLICY_DKIM_OUTCOME_TMPFAIL
                                                                : DMARC_POLICY_DKIM_OUTCOME_FAIL;
        opendmarc_policy_store_dkim(p.get(), bytes(d), bytes(sel), outcome, bytes(human));
    }
    const auto verdict = opendmarc_get_policy_to_enforce(p.get());
    switch (verdict) {
    case DMARC_POLICY_PASS: out.result = DmarcResult::pass; return out;
    case DMARC_POLICY_NONE:
        out.result = DmarcResult::fail;
        out.policy = DmarcPolicy::none;
        break;
    case DMARC_POLICY_QUARANTINE:
        out.result = DmarcResult::fail;
        out.policy = DmarcPolicy::quarantine;
        break;
    case DMARC_POLICY_REJECT:
        out.result = DmarcResult::fail;
        out.policy = DmarcPolicy::reject;
        break;
    default: return out; // absent
    }
    int pct = 100;
    if (opendmarc_policy_fetch_pct(p.get(), &pct) == DMARC_PARSE_OKAY && draw >= pct &&
        out.policy != DmarcPolicy::none) {
        out.policy = out.policy == DmarcPolicy::reject ? DmarcPolicy::quarantine : DmarcPolicy::none;
        out.sampled_out = true;
    }
    return out;
}

} // namespace rampart::auth
