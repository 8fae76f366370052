// NAME
//   callbacks.cpp - libmilter callbacks to Session calls
// DESCRIPTION
//   Negotiation asks only for the steps the enabled checks need, and for
//   "no reply" (SMFIP_NR_*) on every step where rampart will not answer
//   early on this connection (e.g. HELO while the HELO block list is
//   empty), so the MTA streams them without waiting. A step granted as
//   no-reply must return SMFIS_NOREPLY whatever happens in it; an answer
//   found there is given at the next step with a reply.
//
//   Postfix and Sendmail differ in which macros come when: the queue id
//   ("i") comes at MAIL FROM from Sendmail but, by default, only from DATA
//   on with Postfix, so it is read at every step that may carry it. A
//   missing macro is logged once per process and never fatal.
// SECURITY
//   Everything the MTA passes comes from the SMTP client: lengths are
//   bounded in the engine, and text is made printable before it is logged.
//   An exception in a callback is logged and the message tempfailed; it
//   never takes the process down.
#include "engine/session.hpp"
#include "milter/glue.hpp"
#include "milter/step_timer.hpp"
#include "util/log.hpp"
#include "util/text.hpp"

#include <libmilter/mfapi.h>

#include <charconv>
#include <cstring>
#include <limits>
#include <mutex>
#include <optional>
#include <strings.h>

namespace rampart::milter {
namespace {

std::mutex g_runtime_mutex;
std::shared_ptr<const Runtime> g_runtime;

// What a connection carries between callbacks.
struct Connection {
    explicit Connection(std::shared_ptr<const Runtime> rt) : session(std::move(rt)) { ++g_active_sessions; }
    ~Connection() { --g_active_sessions; }
    Session session;
    unsigned long protocol = 0; // the SMFIP_* flags granted at negotiation
    bool failed = false;        // an internal error: tempfail the message
};

// What rampart may ask of the MTA at end of message: header edits,
// quarantine, and the envelope edits of BATV (a tagged sender, a
// recipient's tag stripped).
constexpr unsigned long kActions =
    SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_CHGFROM | SMFIF_ADDRCPT | SMFIF_DELRCPT;

Connection* conn_of(SMFICTX* ctx) { return static_cast<Connection*>(smfi_getpriv(ctx)); }

Connection* ensure_conn(SMFICTX* ctx)
{
    if (auto* c = conn_of(ctx))
        return c;
    auto* c = new Connection(current_runtime()); // owned by ctx until on_close
    if (smfi_setpriv(ctx, c) != MI_SUCCESS) {
        delete c;
        return nullptr;
    }
    return c;
}

std::atomic<bool> g_warned_qid{false}, g_warned_addr{false};

void warn_once(std::atomic<bool>& flag, const char* text)
{
    if (!flag.exchange(true))
        log::warning("{}", text);
}

std::string_view macro(SMFICTX* ctx, const char* name)
{
    const char* v = smfi_getsymval(ctx, const_cast<char*>(name));
    return v ? std::string_view(v) : std::string_view{};
}

sfsistat reply(SMFICTX* ctx, Connection* c, const Answer& a, unsigned long no_reply_flag)
{
    if (c->protocol & no_reply_flag)
        return SMFIS_NOREPLY;
    switch (a.kind) {
    case Answer::Kind::proceed: return SMFIS_CONTINUE;
    case Answer::Kind::skip_body: return (c->protocol & SMFIP_SKIP) ? SMFIS_SKIP : SMFIS_CONTINUE;
    case Answer::Kind::accept: return SMFIS_ACCEPT;
    case Answer::Kind::discard: return SMFIS_DISCARD;
    case Answer::Kind::reject:
    case Answer::Kind::tempfail:
        if (!a.text.empty())
            smfi_setreply(ctx, const_cast<char*>(a.code.c_str()), const_cast<char*>(a.xcode.c_str()),
                          const_cast<char*>(a.text.c_str()));
        return a.kind == Answer::Kind::reject ? SMFIS_REJECT : SMFIS_TEMPFAIL;
    }
    return SMFIS_CONTINUE;
}

// Runs one step; any exception becomes a logged internal error.
template <typename F> sfsistat guarded(SMFICTX* ctx, unsigned long no_reply_flag, const char* step, F&& f)
{
    Connection* c = ensure_conn(ctx);
    if (c == nullptr)
        return SMFIS_TEMPFAIL;
    const StepTimer timer(c->session.runtime(), step);
    try {
        if (c->failed)
            return (c->protocol & no_reply_flag) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
        return f(*c);
    } catch (const std::exception& e) {
        log::error("internal error at {}: {}; the message will be tempfailed", step, e.what());
    } catch (...) {
        log::error("internal error at {}; the message will be tempfailed", step);
    }
    c->failed = true;
    return (c->protocol & no_reply_flag) ? SMFIS_NOREPLY : SMFIS_TEMPFAIL;
}

sfsistat on_negotiate(SMFICTX* ctx, unsigned long f0, unsigned long f1, unsigned long, unsigned long,
                      unsigned long* pf0, unsigned long* pf1, unsigned long* pf2, unsigned long* pf3)
{
    Connection* c = ensure_conn(ctx);
    if (c == nullptr)
        return SMFIS_REJECT;
    const StepNeeds needs = step_needs(c->session.runtime());
    *pf0 = f0 & kActions;
    unsigned long want = SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_DATA | SMFIP_NR_UNKN | SMFIP_NOUNKNOWN | SMFIP_NODATA;
    if (!needs.reply_connect)
        want |= SMFIP_NR_CONN;
    if (!needs.reply_helo)
        want |= SMFIP_NR_HELO;
    if (!needs.reply_mail)
        want |= SMFIP_NR_MAIL;
    if (!needs.reply_rcpt)
        want |= SMFIP_NR_RCPT;
    // The body streams without replies, unless a chunk may be answered
    // "skip the rest" (limits.skip_body): past the scan limit, that saves
    // the MTA sending what rampart would not read.
    if (!needs.body)
        want |= SMFIP_NOBODY;
    else if (needs.body_replies && (f1 & SMFIP_SKIP)) // without SKIP, replies would buy nothing
        want |= SMFIP_SKIP;
    else
        want |= SMFIP_NR_BODY;
    c->protocol = f1 & want;
    c->session.set_rcpt_replies(!(c->protocol & SMFIP_NR_RCPT));
    *pf1 = c->protocol;
    *pf2 = 0;
    *pf3 = 0;
    return SMFIS_CONTINUE;
}

sfsistat on_connect(SMFICTX* ctx, char* hostname, _SOCK_ADDR* hostaddr)
{
    return guarded(ctx, SMFIP_NR_CONN, "connect", [&](Connection& c) {
        auto ip = IpAddress::from_sockaddr(hostaddr);
        if (!ip)
            ip = IpAddress::parse(macro(ctx, "{client_addr}"));
        if (!ip)
            warn_once(g_warned_addr, "the MTA passed no client address (a local submission?); address checks are "
                                     "skipped for such connections");
        return reply(ctx, &c, c.session.connect(ip, hostname ? hostname : ""), SMFIP_NR_CONN);
    });
}

sfsistat on_helo(SMFICTX* ctx, char* name)
{
    return guarded(ctx, SMFIP_NR_HELO, "helo",
                   [&](Connection& c) { return reply(ctx, &c, c.session.helo(name ? name : ""), SMFIP_NR_HELO); });
}

// The SIZE= parameter of MAIL FROM (RFC 1870) among the ESMTP arguments;
// a value too large for 64 bits reads as the largest.
std::optional<std::uint64_t> declared_size(char** argv)
{
    if (argv == nullptr || argv[0] == nullptr)
        return std::nullopt;
    for (char** a = argv + 1; *a != nullptr; ++a) {
        if (strncasecmp(*a, "SIZE=", 5) != 0)
            continue;
        const char* digits = *a + 5;
        std::uint64_t n = 0;
        const auto [end, ec] = std::from_chars(digits, digits + std::strlen(digits), n);
        if (ec == std::errc::result_out_of_range)
            return std::numeric_limits<std::uint64_t>::max();
        if (ec != std::errc{} || *end != '\0')
            return std::nullopt; // not a size: the MTA's own checks answer it
        return n;
    }
    return std::nullopt;
}

sfsistat on_envfrom(SMFICTX* ctx, char** argv)
{
    return guarded(ctx, SMFIP_NR_MAIL, "mail", [&](Connection& c) {
        const char* sender = argv && argv[0] ? argv[0] : "<>";
        return reply(ctx, &c, c.session.mail(sender, macro(ctx, "i"), macro(ctx, "{auth_authen}"), declared_size(argv)),
                     SMFIP_NR_MAIL);
    });
}

sfsistat on_envrcpt(SMFICTX* ctx, char** argv)
{
    return guarded(ctx, SMFIP_NR_RCPT, "rcpt", [&](Connection& c) {
        c.session.set_queue_id(macro(ctx, "i"));
        return reply(ctx, &c, c.session.rcpt(argv && argv[0] ? argv[0] : ""), SMFIP_NR_RCPT);
    });
}

sfsistat on_data(SMFICTX* ctx)
{
    return guarded(ctx, SMFIP_NR_DATA, "data", [&](Connection& c) {
        c.session.set_queue_id(macro(ctx, "i"));
        return reply(ctx, &c, Answer::proceed(), SMFIP_NR_DATA);
    });
}

sfsistat on_header(SMFICTX* ctx, char* name, char* value)
{
    return guarded(ctx, SMFIP_NR_HDR, "header", [&](Connection& c) {
        c.session.header(name ? name : "", value ? value : "");
        return reply(ctx, &c, Answer::proceed(), SMFIP_NR_HDR);
    });
}

sfsistat on_eoh(SMFICTX* ctx)
{
    return guarded(ctx, SMFIP_NR_EOH, "eoh", [&](Connection& c) {
        c.session.set_queue_id(macro(ctx, "i"));
        return reply(ctx, &c, Answer::proceed(), SMFIP_NR_EOH);
    });
}

sfsistat on_body(SMFICTX* ctx, unsigned char* chunk, size_t len)
{
    return guarded(ctx, SMFIP_NR_BODY, "body", [&](Connection& c) {
        const std::string_view data(reinterpret_cast<const char*>(chunk), chunk ? len : 0);
        return reply(ctx, &c, c.session.body(data), SMFIP_NR_BODY);
    });
}

bool apply_edit(SMFICTX* ctx, const HeaderEdit& e)
{
    char* name = const_cast<char*>(e.name.c_str());
    switch (e.op) {
    case HeaderEdit::Op::add: return smfi_addheader(ctx, name, const_cast<char*>(e.value.c_str())) == MI_SUCCESS;
    case HeaderEdit::Op::insert: return smfi_insheader(ctx, 0, name, const_cast<char*>(e.value.c_str())) == MI_SUCCESS;
    case HeaderEdit::Op::change:
        return smfi_chgheader(ctx, name, e.index, const_cast<char*>(e.value.c_str())) == MI_SUCCESS;
    case HeaderEdit::Op::remove: return smfi_chgheader(ctx, name, e.index, nullptr) == MI_SUCCESS;
    }
    return false;
}

// The envelope edits of an accepted message; false, logged, when the MTA
// refuses one (it did not grant the action at negotiation): the message is
// then tempfailed rather than delivered half edited.
bool apply_envelope(SMFICTX* ctx, const Outcome& out, std::string_view qid)
{
    const auto refused = [&](const char* what, const std::string& addr) {
        log::error("{}: the MTA refused to {} <{}>; tempfailing", qid, what, printable(addr));
        return false;
    };
    if (!out.new_sender.empty()) {
        std::string from = "<" + out.new_sender + ">";
        if (smfi_chgfrom(ctx, from.data(), nullptr) != MI_SUCCESS)
            return refused("change the envelope sender to", out.new_sender);
    }
    for (const auto& c : out.recipient_changes) {
        std::string from = "<" + c.from + ">", to = "<" + c.to + ">";
        if (smfi_delrcpt(ctx, from.data()) != MI_SUCCESS)
            return refused("remove the recipient", c.from);
        if (smfi_addrcpt(ctx, to.data()) != MI_SUCCESS)
            return refused("add the recipient", c.to);
    }
    return true;
}

sfsistat on_eom(SMFICTX* ctx)
{
    Connection* c = ensure_conn(ctx);
    if (c == nullptr)
        return SMFIS_TEMPFAIL;
    const StepTimer timer(c->session.runtime(), "eom");
    try {
        if (c->failed) {
            c->failed = false;
            c->session.abort();
            return SMFIS_TEMPFAIL;
        }
        const std::string_view qid = macro(ctx, "i");
        if (qid.empty())
            warn_once(g_warned_qid, "the MTA passed no queue id (macro i) at end of message; log lines say NOQUEUE "
                                    "(Postfix: milter_end_of_data_macros should include i)");
        Outcome out = c->session.eom(qid);
        for (const auto& e : out.edits)
            if (!apply_edit(ctx, e)) {
                log::error("{}: the MTA refused a header change ({}); tempfailing", std::string(qid), e.name);
                return SMFIS_TEMPFAIL;
            }
        if (!out.quarantine_reason.empty() &&
            smfi_quarantine(ctx, const_cast<char*>(out.quarantine_reason.c_str())) != MI_SUCCESS) {
            log::error("{}: the MTA refused to quarantine; tempfailing", std::string(qid));
            return SMFIS_TEMPFAIL;
        }
        if (!apply_envelope(ctx, out, qid))
            return SMFIS_TEMPFAIL;
        if (out.answer.kind == Answer::Kind::accept)
            return SMFIS_CONTINUE;
        return reply(ctx, c, out.answer, 0);
    } catch (const std::exception& e) {
        log::error("internal error at end of message: {}; tempfailing", e.what());
    }
    return SMFIS_TEMPFAIL;
}

sfsistat on_abort(SMFICTX* ctx)
{
    if (Connection* c = conn_of(ctx)) {
        c->session.abort();
        c->failed = false;
    }
    return SMFIS_CONTINUE;
}

sfsistat on_close(SMFICTX* ctx)
{
    if (Connection* c = conn_of(ctx)) {
        try {
            c->session.close();
        } catch (const std::exception& e) {
            log::error("internal error at close: {}", e.what());
        }
    }
    delete conn_of(ctx);
    smfi_setpriv(ctx, nullptr);
    return SMFIS_CONTINUE;
}

sfsistat on_unknown(SMFICTX* ctx, const char*)
{
    return guarded(ctx, SMFIP_NR_UNKN, "unknown",
                   [&](Connection& c) { return reply(ctx, &c, Answer::proceed(), SMFIP_NR_UNKN); });
}

} // namespace

std::atomic<int> g_active_sessions{0};

std::shared_ptr<const Runtime> current_runtime()
{
    std::lock_guard lock(g_runtime_mutex);
    return g_runtime;
}

void set_runtime(std::shared_ptr<const Runtime> rt)
{
    std::lock_guard lock(g_runtime_mutex);
    g_runtime = std::move(rt);
}

bool register_filter()
{
    static char name[] = "rampart";
    smfiDesc desc{};
    desc.xxfi_name = name;
    desc.xxfi_version = SMFI_VERSION;
    desc.xxfi_flags = kActions;
    desc.xxfi_connect = on_connect;
    desc.xxfi_helo = on_helo;
    desc.xxfi_envfrom = on_envfrom;
    desc.xxfi_envrcpt = on_envrcpt;
    desc.xxfi_header = on_header;
    desc.xxfi_eoh = on_eoh;
    desc.xxfi_body = on_body;
    desc.xxfi_eom = on_eom;
    desc.xxfi_abort = on_abort;
    desc.xxfi_close = on_close;
    desc.xxfi_unknown = on_unknown;
    desc.xxfi_data = on_data;
    desc.xxfi_negotiate = on_negotiate;
    return smfi_register(desc) == MI_SUCCESS;
}

} // namespace rampart::milter
