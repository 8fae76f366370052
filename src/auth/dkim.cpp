#include "auth/dkim.hpp"

#include "util/text.hpp"

#include <fmt/format.h>

// dkim.h is C99 without a C++ guard: it says _Bool where C++ says bool.
extern "C" {
#define _Bool bool
#include <opendkim/dkim.h>
#undef _Bool
}

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace rampart::auth {
namespace {

// What a verification's key lookups need: libopendkim hands it back as the
// handle's user context.
struct KeyContext {
    dns::Resolver& resolver;
    std::chrono::steady_clock::time_point deadline;
    std::vector<std::string> unanswered; // key names whose lookup failed for now
};

std::string key_name(DKIM_SIGINFO* sig)
{
    const auto* selector = dkim_sig_getselector(sig);
    const auto* domain = dkim_sig_getdomain(sig);
    if (!selector || !domain)
        return {};
    return std::string(reinterpret_cast<const char*>(selector)) + "._domainkey." +
           reinterpret_cast<const char*>(domain);
}

DKIM_CBSTAT key_lookup(DKIM* dkim, DKIM_SIGINFO* sig, u_char* buf, size_t buflen)
{
    auto* ctx = static_cast<KeyContext*>(dkim_get_user_context(dkim));
    const std::string name = key_name(sig);
    if (!ctx || name.empty() || buflen == 0)
        return DKIM_CBSTAT_ERROR;
    if (std::chrono::steady_clock::now() >= ctx->deadline) { // the budget is spent: ask nothing more
        ctx->unanswered.push_back(name);
        return DKIM_CBSTAT_TRYAGAIN;
    }
    const auto l = ctx->resolver.lookup(name, dns::Type::txt);
    if (!l->wait_until(ctx->deadline) || l->answer().temporary()) {
        ctx->unanswered.push_back(name);
        return DKIM_CBSTAT_TRYAGAIN;
    }
    const dns::Answer& a = l->answer();
    if (!a.found())
        return DKIM_CBSTAT_NOTFOUND;
    const std::string& key = a.records.front().data;
    const std::size_t n = std::min(key.size(), buflen - 1);
    std::memcpy(buf, key.data(), n);
    buf[n] = '\0';
    return DKIM_CBSTAT_CONTINUE;
}

// A message may carry any number of signatures, each a key lookup and an
// RSA verification: past the first kMaxSignatures, the rest are ignored.
DKIM_CBSTAT prescreen(DKIM*, DKIM_SIGINFO** sigs, int nsigs)
{
    for (int i = static_cast<int>(kMaxSignatures); i < nsigs; ++i)
        dkim_sig_ignore(sigs[i]);
    return DKIM_CBSTAT_CONTINUE;
}

// "Name: value" as it was on the wire: the MTA may give a folded value with
// LF alone where the message had CRLF, and "simple" and "relaxed" header
// canonicalisation alike need the CRLF back.
std::string wire_field(std::string_view name, std::string_view value)
{
    std::string f;
    f.reserve(name.size() + value.size() + 8);
    f.append(name).append(": ");
    for (std::size_t i = 0; i < value.size(); ++i) {
        if (value[i] == '\n' && (i == 0 || value[i - 1] != '\r'))
            f += '\r';
        f += value[i];
    }
    return f;
}

DkimResult result_of(DKIM_SIGINFO* sig)
{
    if (DKIM_SIG_CHECK(sig))
        return DkimResult::pass;
    switch (dkim_sig_geterror(sig)) {
    case DKIM_SIGERROR_OK: // verified, but the body hash did not match
    case DKIM_SIGERROR_BADSIG:
    case DKIM_SIGERROR_MBSFAILED: return DkimResult::fail;
    case DKIM_SIGERROR_EXPIRED:
    case DKIM_SIGERROR_FUTURE: return DkimResult::neutral;
    case DKIM_SIGERROR_KEYTOOSMALL: return DkimResult::policy;
    case DKIM_SIGERROR_KEYFAIL: return DkimResult::temperror;
    default: return DkimResult::permerror;
    }
}

std::string algorithm_of(DKIM_SIGINFO* sig)
{
    dkim_alg_t alg = 0;
    if (dkim_sig_getsignalg(sig, &alg) != DKIM_STAT_OK)
        return "unknown";
    switch (alg) {
    case DKIM_SIGN_RSASHA1: return "rsa-sha1";
    case DKIM_SIGN_RSASHA256: return "rsa-sha256";
#ifdef DKIM_SIGN_ED25519SHA256
    case DKIM_SIGN_ED25519SHA256: return "ed25519-sha256";
#endif
    default: return "unknown";
    }
}

} // namespace

Result<DkimKey> load_dkim_key(std::string_view spec)
{
    const auto a = spec.find(':');
    const auto b = a == std::string_view::npos ? a : spec.find(':', a + 1);
    if (b == std::string_view::npos)
        return Error{"must be DOMAIN:SELECTOR:KEYFILE"};
    DkimKey k{lowercase(spec.substr(0, a)), std::string(spec.substr(a + 1, b - a - 1)), {}};
    const std::string path(spec.substr(b + 1));
    if (k.domain.empty() || k.selector.empty() || path.empty() || k.domain.find_first_of(" \t;") != std::string::npos ||
        k.selector.find_first_of(" \t;.") != std::string::npos)
        return Error{"must be DOMAIN:SELECTOR:KEYFILE"};
    std::ifstream in(path);
    if (!in)
        return Error{fmt::format("cannot read the key file {}", path)};
    k.pem.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (k.pem.find("PRIVATE KEY") == std::string::npos)
        return Error{fmt::format("{} holds no PEM private key", path)};
    return k;
}

const DkimKey* key_for(const std::vector<DkimKey>& keys, std::string_view from_domain)
{
    const DkimKey* best = nullptr;
    for (const auto& k : keys) {
        const bool own = iequals(k.domain, from_domain);
        const bool parent = from_domain.size() > k.domain.size() &&
                            from_domain[from_domain.size() - k.domain.size() - 1] == '.' &&
                            iequals(from_domain.substr(from_domain.size() - k.domain.size()), k.domain);
        if ((own || parent) && (!best || k.domain.size() > best->domain.size()))
            best = &k;
    }
    return best;
}

DkimSigner::DkimSigner(const DkimLibrary& lib, const DkimKey& key, std::string_view id)
{
    DKIM_STAT stat = DKIM_STAT_OK;
    const std::string job = id.empty() ? std::string("NOQUEUE") : std::string(id);
    d_dkim = dkim_sign(lib.handle(), reinterpret_cast<const u_char*>(job.c_str()), nullptr,
                       reinterpret_cast<dkim_sigkey_t>(const_cast<char*>(key.pem.c_str())),
                       reinterpret_cast<const u_char*>(key.selector.c_str()),
                       reinterpret_cast<const u_char*>(key.domain.c_str()), DKIM_CANON_RELAXED, DKIM_CANON_RELAXED,
                       DKIM_SIGN_RSASHA256, -1, &stat);
}

DkimSigner::~DkimSigner()
{
    if (d_dkim)
        dkim_free(d_dkim);
}

void DkimSigner::header(std::string_view name, std::string_view value)
{
    if (!d_dkim || d_header_done)
        return;
    std::string field = wire_field(name, value);
    dkim_header(d_dkim, reinterpret_cast<u_char*>(field.data()), field.size());
}

void DkimSigner::end_of_header()
{
    if (!d_dkim || d_header_done)
        return;
    d_header_done = true;
    if (dkim_eoh(d_dkim) != DKIM_STAT_OK) {
        dkim_free(d_dkim);
        d_dkim = nullptr;
    }
}

void DkimSigner::body(std::string_view chunk)
{
    if (!d_dkim || !d_header_done || chunk.empty())
        return;
    std::string copy(chunk);
    dkim_body(d_dkim, reinterpret_cast<u_char*>(copy.data()), copy.size());
}

std::string DkimSigner::finish()
{
    if (!d_dkim || !d_header_done || dkim_eom(d_dkim, nullptr) != DKIM_STAT_OK)
        return {};
    std::vector<u_char> buf(8192);
    if (dkim_getsighdr(d_dkim, buf.data(), buf.size(), std::strlen("DKIM-Signature: ")) != DKIM_STAT_OK)
        return {};
    return reinterpret_cast<const char*>(buf.data());
}

std::string_view to_string(DkimResult r)
{
    switch (r) {
    case DkimResult::pass: return "pass";
    case DkimResult::fail: return "fail";
    case DkimResult::neutral: return "neutral";
    case DkimResult::policy: return "policy";
    case DkimResult::temperror: return "temperror";
    case DkimResult::permerror: break;
    }
    return "permerror";
}

DkimLibrary::DkimLibrary() : d_lib(dkim_init(nullptr, nullptr))
{
    if (!d_lib)
        throw std::runtime_error("dkim: libopendkim cannot start");
    // Header values come as the MTA gives them: a folded line may end in a
    // bare LF, which the canonicalisation must read as CRLF. Keys are looked
    // up at the end of the message, not of the header: the lookups then
    // belong to finish() and its deadline. A signature field that does not
    // parse is kept and reported (permerror), not dropped.
    unsigned int flags = DKIM_LIBFLAGS_FIXCRLF | DKIM_LIBFLAGS_DELAYSIGPROC | DKIM_LIBFLAGS_BADSIGHANDLES;
    dkim_options(d_lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof flags);
    dkim_set_key_lookup(d_lib, key_lookup);
    dkim_set_prescreen(d_lib, prescreen);
}

DkimLibrary::~DkimLibrary() { dkim_close(d_lib); }

DkimVerifier::DkimVerifier(const DkimLibrary& lib, std::string_view id)
{
    DKIM_STAT stat = DKIM_STAT_OK;
    const std::string job = id.empty() ? std::string("NOQUEUE") : std::string(id);
    d_dkim = dkim_verify(lib.handle(), reinterpret_cast<const u_char*>(job.c_str()), nullptr, &stat);
}

DkimVerifier::~DkimVerifier()
{
    if (d_dkim)
        dkim_free(d_dkim);
}

void DkimVerifier::header(std::string_view name, std::string_view value)
{
    if (!d_dkim || d_header_done)
        return;
    d_signed |= iequals(name, "DKIM-Signature");
    // The MTA gives the value without the space after the colon, which
    // most signers' "simple" header canonicalisation signed.
    std::string field = wire_field(name, value);
    dkim_header(d_dkim, reinterpret_cast<u_char*>(field.data()), field.size());
}

void DkimVerifier::end_of_header()
{
    if (!d_dkim || d_header_done)
        return;
    d_header_done = true;
    if (!d_signed || dkim_eoh(d_dkim) != DKIM_STAT_OK) {
        dkim_free(d_dkim);
        d_dkim = nullptr;
    }
}

void DkimVerifier::body(std::string_view chunk)
{
    if (!d_dkim || !d_header_done || chunk.empty())
        return;
    std::string copy(chunk); // libopendkim takes a mutable buffer
    dkim_body(d_dkim, reinterpret_cast<u_char*>(copy.data()), copy.size());
}

std::vector<DkimSignature> DkimVerifier::finish(dns::Resolver& resolver, std::chrono::steady_clock::time_point deadline)
{
    std::vector<DkimSignature> out;
    if (!d_dkim || !d_header_done)
        return out;
    KeyContext ctx{resolver, deadline, {}};
    dkim_set_user_context(d_dkim, &ctx);
    dkim_eom(d_dkim, nullptr);
    DKIM_SIGINFO** sigs = nullptr;
    int n = 0;
    if (dkim_getsiglist(d_dkim, &sigs, &n) == DKIM_STAT_OK)
        for (int i = 0; i < n; ++i) {
            DKIM_SIGINFO* sig = sigs[i];
            DkimSignature s;
            s.result = result_of(sig);
            // libopendkim does not always tell "no key" from "no answer": we know.
            if (s.result != DkimResult::pass &&
                std::find(ctx.unanswered.begin(), ctx.unanswered.end(), key_name(sig)) != ctx.unanswered.end())
                s.result = DkimResult::temperror;
            const auto* d = dkim_sig_getdomain(sig);
            const auto* sel = dkim_sig_getselector(sig);
            s.domain = d ? lowercase(printable(reinterpret_cast<const char*>(d), 253)) : "";
            s.selector = sel ? printable(reinterpret_cast<const char*>(sel), 64) : "";
            s.algorithm = algorithm_of(sig);
            if (dkim_sig_getkeysize(sig, &s.key_bits) != DKIM_STAT_OK)
                s.key_bits = 0;
            if (s.result != DkimResult::pass) {
                const int e = dkim_sig_geterror(sig);
                const bool body = dkim_sig_getbh(sig) == DKIM_SIGBH_MISMATCH || e == DKIM_SIGERROR_OK;
                const char* why = s.result == DkimResult::temperror ? "key lookup failed"
                                  : body                            ? "body hash mismatch"
                                                                    : dkim_sig_geterrorstr(e);
                s.error = why ? why : "unknown error";
            }
            out.push_back(std::move(s));
        }
    dkim_set_user_context(d_dkim, nullptr);
    return out;
}

} // namespace rampart::auth
