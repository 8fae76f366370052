#include "auth/spf.hpp"

#include "util/text.hpp"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
extern "C" {
#include <spf2/spf.h>
#include <spf2/spf_dns.h>
}

#include <cstring>
#include <memory>

namespace rampart::auth {
namespace {

// What one evaluation's DNS layer needs: libspf2 hands it back in `hook`.
struct Hook {
    dns::Resolver& resolver;
    std::chrono::steady_clock::time_point deadline;
    bool temporary = false; // a question got no answer: the result cannot be permerror
};

std::optional<dns::Type> type_of(ns_type t)
{
    switch (t) {
    case ns_t_a: return dns::Type::a;
    case ns_t_aaaa: return dns::Type::aaaa;
    case ns_t_txt: return dns::Type::txt;
    case ns_t_mx: return dns::Type::mx;
    case ns_t_ptr: return dns::Type::ptr;
    default: return std::nullopt; // type 99 (SPF) and the rest: not asked
    }
}

// libspf2's lookup: the answer of `domain`/`t` as an SPF_dns_rr_t it frees.
SPF_dns_rr_t* lookup(SPF_dns_server_t* server, const char* domain, ns_type t, int)
{
    Hook& hook = *static_cast<Hook*>(server->hook);
    const auto type = type_of(t);
    if (!type)
        return SPF_dns_rr_new_init(server, domain, t, 0, NO_DATA);
    if (std::chrono::steady_clock::now() >= hook.deadline) { // the budget is spent: ask nothing more
        hook.temporary = true;
        return SPF_dns_rr_new_init(server, domain, t, 0, TRY_AGAIN);
    }
    const auto l = hook.resolver.lookup(domain, *type);
    if (!l->wait_until(hook.deadline) || l->answer().temporary()) {
        hook.temporary = true;
        return SPF_dns_rr_new_init(server, domain, t, 0, TRY_AGAIN);
    }
    const dns::Answer& a = l->answer();
    switch (a.status) {
    case dns::Status::ok: break;
    case dns::Status::nxdomain: return SPF_dns_rr_new_init(server, domain, t, static_cast<int>(a.ttl), HOST_NOT_FOUND);
    default: return SPF_dns_rr_new_init(server, domain, t, static_cast<int>(a.ttl), NO_DATA);
    }
    SPF_dns_rr_t* rr = SPF_dns_rr_new_init(server, domain, t, static_cast<int>(a.ttl), NETDB_SUCCESS);
    if (!rr)
        return nullptr;
    int n = 0;
    for (const auto& r : a.records) {
        std::string_view data = r.data;
        if (*type == dns::Type::mx) // "PREF NAME": libspf2 wants the name
            data = data.substr(std::min(data.size(), data.find(' ') + 1));
        const bool address = *type == dns::Type::a || *type == dns::Type::aaaa;
        if (SPF_dns_rr_buf_realloc(rr, n, address ? sizeof(SPF_dns_rr_data_t) : data.size() + 1) != SPF_E_SUCCESS)
            break;
        if (*type == dns::Type::a) {
            if (inet_pton(AF_INET, std::string(data).c_str(), &rr->rr[n]->a) != 1)
                continue;
        } else if (*type == dns::Type::aaaa) {
            if (inet_pton(AF_INET6, std::string(data).c_str(), &rr->rr[n]->aaaa) != 1)
                continue;
        } else {
            std::memcpy(rr->rr[n]->txt, data.data(), data.size());
            rr->rr[n]->txt[data.size()] = '\0';
        }
        rr->num_rr = ++n;
    }
    return rr;
}

// libspf2 answers "invalid" where it gave up with an error: a record that
// does not compile (permerror), or a question without an answer (temperror).
SpfResult result_of(SPF_result_t r, bool temporary)
{
    switch (r) {
    case SPF_RESULT_INVALID: return temporary ? SpfResult::temperror : SpfResult::permerror;
    case SPF_RESULT_PASS: return SpfResult::pass;
    case SPF_RESULT_FAIL: return SpfResult::fail;
    case SPF_RESULT_SOFTFAIL: return SpfResult::softfail;
    case SPF_RESULT_NEUTRAL: return SpfResult::neutral;
    case SPF_RESULT_TEMPERROR: return SpfResult::temperror;
    case SPF_RESULT_PERMERROR: return SpfResult::permerror;
    default: return SpfResult::none;
    }
}

struct ServerFree {
    void operator()(SPF_server_t* s) const { SPF_server_free(s); }
};
struct RequestFree {
    void operator()(SPF_request_t* r) const { SPF_request_free(r); }
};
struct ResponseFree {
    void operator()(SPF_response_t* r) const { SPF_response_free(r); }
};

// A domain name SPF can be asked about: a dot, and nothing but what names hold.
bool checkable(std::string_view d)
{
    if (d.empty() || d.size() > 253 || d.find('.') == std::string_view::npos)
        return false;
    for (char c : d)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
              c == '_'))
            return false;
    return true;
}

} // namespace

std::string_view to_string(SpfResult r)
{
    switch (r) {
    case SpfResult::none: return "none";
    case SpfResult::neutral: return "neutral";
    case SpfResult::pass: return "pass";
    case SpfResult::fail: return "fail";
    case SpfResult::softfail: return "softfail";
    case SpfResult::temperror: return "temperror";
    case SpfResult::permerror: break;
    }
    return "permerror";
}

Spf evaluate_spf(dns::Resolver& resolver, std::chrono::steady_clock::time_point deadline, const IpAddress& ip,
                 std::string_view helo, std::string_view sender)
{
    Spf out;
    out.helo_identity = sender.empty();
    std::string from(sender);
    if (out.helo_identity)
        from = "postmaster@" + std::string(helo);
    const auto at = from.rfind('@');
    out.domain = lowercase(at == std::string::npos ? from : from.substr(at + 1));
    if (!checkable(out.domain)) {
        out.domain = printable(out.domain, 64);
        return out; // none: no domain to ask (RFC 7208 section 4.3)
    }

    Hook hook{resolver, deadline};
    SPF_dns_server_t layer{};
    layer.lookup = lookup;
    layer.name = "rampart";
    layer.hook = &hook; // destroy stays null: the layer is ours
    std::unique_ptr<SPF_server_t, ServerFree> server(SPF_server_new_dns(&layer, 0));
    if (!server)
        return out;
    std::unique_ptr<SPF_request_t, RequestFree> request(SPF_request_new(server.get()));
    if (!request)
        return out;
    const std::string address = ip.to_string();
    const auto set_ip = ip.is_v4() ? SPF_request_set_ipv4_str(request.get(), address.c_str())
                                   : SPF_request_set_ipv6_str(request.get(), address.c_str());
    if (set_ip != SPF_E_SUCCESS)
        return out;
    if (!helo.empty())
        SPF_request_set_helo_dom(request.get(), std::string(helo).c_str());
    if (SPF_request_set_env_from(request.get(), from.c_str()) != 0)
        return out;
    SPF_response_t* raw = nullptr;
    SPF_request_query_mailfrom(request.get(), &raw);
    std::unique_ptr<SPF_response_t, ResponseFree> response(raw);
    if (!response)
        return out;
    out.result = result_of(SPF_response_result(response.get()), hook.temporary);
    if (out.result == SpfResult::fail) {
        // libspf2 1.2.10 leaves some explanations half expanded ('%' for
        // spaces, macros left as they were): those give way to ours.
        const char* e = SPF_response_get_explanation(response.get());
        const std::string_view exp = e ? e : "";
        out.explanation = !exp.empty() && exp.find_first_of("%{}") == std::string_view::npos
                              ? printable(exp, kMaxExplanation)
                              : fmt::format("{} does not designate {} as permitted sender", out.domain, address);
    }
    return out;
}

} // namespace rampart::auth
