#include "engine/session.hpp"

#include "policy/policy.hpp"
#include "util/log.hpp"
#include "util/text.hpp"

#include <fmt/format.h>

namespace rampart {
namespace {

// Measures the time rampart spends in one call and adds it to the message.
class Stopwatch {
  public:
    explicit Stopwatch(Transaction& tx) : d_tx(tx), d_start(std::chrono::steady_clock::now()) {}
    ~Stopwatch() { lap(); }
    // Adds the time so far to the message, so that a log line can include it.
    void lap()
    {
        const auto now = std::chrono::steady_clock::now();
        d_tx.spent += now - d_start;
        d_start = now;
    }

  private:
    Transaction& d_tx;
    std::chrono::steady_clock::time_point d_start;
};

} // namespace

StepNeeds step_needs(const Runtime& rt)
{
    const Config& cfg = *rt.config;
    StepNeeds n;
    for (const Check* c : all_checks()) {
        n.reply_connect |= c->answers_in(Phase::connect, rt) || c->uses_redis(Phase::connect, cfg);
        n.reply_helo |= c->answers_in(Phase::helo, rt) || c->uses_redis(Phase::helo, cfg);
        n.reply_mail |= c->answers_in(Phase::mail, rt) || c->uses_redis(Phase::mail, cfg);
        n.reply_rcpt |= c->answers_in(Phase::rcpt, rt) || c->uses_redis(Phase::rcpt, cfg);
        n.body |= c->runs_in(Phase::body, cfg);
    }
    return n;
}

Session::Session(std::shared_ptr<const Runtime> rt) : d_rt(std::move(rt)) {}

bool Session::settled_clean() const { return d_client.allowed || d_tx.forced == Category::clean; }

Answer Session::run(Phase p)
{
    const Config& cfg = *d_rt->config;
    Context ctx = context();
    struct Span {
        const Check* check;
        std::size_t begin, end;
    };
    Span spans[8];
    std::size_t nspans = 0;
    Batch batch;
    // Checks without Redis decide first, in order: an allow or block entry
    // settles the message before any counter is spent on it.
    for (const Check* c : all_checks())
        if (c->runs_in(p, cfg) && !c->uses_redis(p, cfg) && !settled_clean())
            c->decide(p, ctx, {});
    const bool settled = settled_clean() || d_client.answer.settles() || d_tx.answer.settles() ||
                         (p == Phase::mail && d_client.pending_answer.settles());
    for (const Check* c : all_checks()) {
        if (!c->runs_in(p, cfg) || !c->uses_redis(p, cfg) || settled || nspans == std::size(spans))
            continue;
        const auto begin = batch.size();
        c->request(p, ctx, batch);
        spans[nspans++] = {c, begin, batch.size()};
    }
    std::vector<Reply> replies;
    bool failed = false;
    if (!batch.empty()) {
        auto r = d_rt->store->execute(batch);
        if (r) {
            replies = std::move(*r);
            // An error reply leaves its check without an answer: treat it as a failure, loudly.
            for (const auto& reply : replies)
                if (reply.is_error()) {
                    failed = true;
                    log::warning("{}: redis: {}", d_tx.queue_id.empty() ? "NOQUEUE" : d_tx.queue_id,
                                 printable(reply.str));
                    break;
                }
        } else {
            failed = true;
            log::debug("{}: redis: {}", d_tx.queue_id.empty() ? "NOQUEUE" : d_tx.queue_id, r.error().message);
        }
    }
    for (std::size_t i = 0; i < nspans; ++i) {
        const Span& s = spans[i];
        if (s.end > s.begin && failed)
            continue; // no answer for this check; redis.on_failure applies below
        s.check->decide(p, ctx, std::span<const Reply>(replies).subspan(s.begin, s.end - s.begin));
    }
    if (failed) {
        const bool connection_wide = p == Phase::connect || p == Phase::helo;
        if (connection_wide)
            d_client.redis_failed = true;
        else
            d_tx.redis_failed = true;
        Answer& answer = connection_wide ? d_client.answer : d_tx.answer;
        if (cfg.on_failure == FailurePolicy::tempfail) {
            if (!answer.settles()) // a block list's reject stands: it needed no Redis
                answer = Answer::tempfail(cfg.reply_redis_failure);
            (connection_wide ? d_client.card : d_tx.card).add("RAMPART_REDIS_FAILED", 0, "on_failure=tempfail");
        } else {
            (connection_wide ? d_client.card : d_tx.card).add("RAMPART_REDIS_FAILED", 0, "on_failure=accept");
        }
    }
    if (d_client.answer.settles())
        return d_client.answer;
    return d_tx.answer;
}

Answer Session::connect(std::optional<IpAddress> ip, std::string_view hostname)
{
    Stopwatch sw(d_tx);
    d_client.ip = ip;
    if (ip)
        d_client.net = network_of(*ip, static_cast<int>(config().network_ipv4_prefix),
                                  static_cast<int>(config().network_ipv6_prefix));
    d_client.hostname = printable(hostname);
    const Answer a = run(Phase::connect);
    if (a.settles()) {
        sw.lap();
        log_decision("-", 0, a.kind == Answer::Kind::reject ? "reject" : "tempfail", d_client.card.summary());
    }
    return a;
}

Answer Session::helo(std::string_view name)
{
    Stopwatch sw(d_tx);
    d_client.helo = std::string(name.substr(0, 255));
    if (d_client.answer.settles())
        return d_client.answer;
    const Answer a = run(Phase::helo);
    if (a.settles()) {
        sw.lap();
        log_decision("-", 0, a.kind == Answer::Kind::reject ? "reject" : "tempfail", d_client.card.summary());
    }
    return a;
}

Answer Session::mail(std::string_view sender, std::string_view queue_id, std::string_view auth_user)
{
    abort(); // a new MAIL starts a new message
    d_in_message = true;
    Stopwatch sw(d_tx);
    d_tx.sender = std::string(strip_brackets(sender).substr(0, 512));
    d_tx.queue_id = printable(queue_id, 64);
    d_tx.auth_user = printable(auth_user, 128);
    if (d_client.answer.settles())
        return d_client.answer;
    run(Phase::mail); // with an answer pending for the connection, only the lists run
    if (!d_tx.answer.settles() && d_client.pending_answer.settles())
        d_tx.answer = d_client.pending_answer;
    if (d_client.answer.settles() || d_tx.answer.settles()) {
        const Answer a = d_client.answer.settles() ? d_client.answer : d_tx.answer;
        Scorecard all = d_client.card;
        for (const auto& s : d_tx.card.symbols())
            all.add(s.name, s.score, s.detail);
        sw.lap();
        log_decision("-", 0, a.kind == Answer::Kind::reject ? "reject" : "tempfail", all.summary());
        return a;
    }
    return Answer::proceed();
}

Answer Session::rcpt(std::string_view recipient)
{
    Stopwatch sw(d_tx);
    d_tx.current_rcpt = std::string(strip_brackets(recipient).substr(0, 512));
    // An answer already given for the whole message or connection stands;
    // it is not a refusal of this recipient.
    if (d_client.answer.settles())
        return d_client.answer;
    if (d_tx.answer.settles())
        return d_tx.answer;
    const std::size_t symbols_before = d_tx.card.symbols().size();
    const Answer a = run(Phase::rcpt);
    if (a.settles() && !d_rcpt_replies) { // negotiated without a reply: this connection cannot refuse it
        d_tx.answer = Answer::proceed();
        d_tx.card.truncate(symbols_before);
    } else if (a.settles()) {
        // A recipient-level answer refuses this recipient only.
        log::info("{}: client={} from=<{}> to=<{}> action={} symbols={}",
                  d_tx.queue_id.empty() ? "NOQUEUE" : d_tx.queue_id, d_client.ip ? d_client.ip->to_string() : "unknown",
                  printable(d_tx.sender), printable(d_tx.current_rcpt),
                  a.kind == Answer::Kind::reject ? "reject" : "tempfail", d_tx.card.summary());
        d_tx.answer = Answer::proceed();
        d_tx.card.truncate(symbols_before); // the refused recipient's symbols are not the message's
        return a;
    }
    if (d_tx.recipients.size() < kMaxRecipients)
        d_tx.recipients.push_back(d_tx.current_rcpt);
    return Answer::proceed();
}

void Session::header(std::string_view name, std::string_view value)
{
    Stopwatch sw(d_tx);
    if (++d_tx.header_count == kMaxHeaders + 1)
        d_tx.card.add("RAMPART_TOO_MANY_HEADERS", kTooManyHeadersScore, fmt::format("more than {}", kMaxHeaders));
    // Past any limit, forged verdict headers are still counted: each one must go.
    if (is_rampart_header(name)) {
        auto it = std::find_if(d_tx.forged_headers.begin(), d_tx.forged_headers.end(),
                               [&](const auto& f) { return iequals(f.first, name); });
        if (it != d_tx.forged_headers.end())
            ++it->second;
        else if (d_tx.forged_headers.size() < kMaxForgedNames || is_verdict_header(name))
            d_tx.forged_headers.emplace_back(std::string(name), 1);
        else // cannot remove them all: such a message has nothing to say in its favour
            d_tx.card.add("RAMPART_FORGED_HEADERS_FLOOD", kForgedFloodScore,
                          fmt::format("more than {} distinct names", kMaxForgedNames));
    } else if (!d_tx.has_subject && iequals(name, "Subject")) {
        d_tx.has_subject = true;
        if (value.size() > kMaxSubjectBytes)
            d_tx.subject_too_long = true;
        else
            d_tx.subject = std::string(value);
    }
}

Answer Session::body(std::string_view chunk)
{
    Stopwatch sw(d_tx);
    d_tx.body_bytes += chunk.size();
    d_tx.chunk = chunk;
    run(Phase::body);
    d_tx.chunk = {};
    return d_tx.body_done ? Answer{Answer::Kind::skip_body, {}, {}, {}} : Answer::proceed();
}

void Session::set_queue_id(std::string_view qid)
{
    if (!qid.empty())
        d_tx.queue_id = printable(qid, 64);
}

Outcome Session::eom(std::string_view queue_id)
{
    Stopwatch sw(d_tx);
    set_queue_id(queue_id);
    const Config& cfg = config();
    // An answer found at a step negotiated without a reply is given now.
    if (const Answer& early = d_client.answer.settles() ? d_client.answer : d_tx.answer; early.settles()) {
        Outcome out;
        out.answer = early;
        d_in_message = false;
        return out;
    }
    run(Phase::eom);
    for (const auto& s : d_client.card.symbols())
        d_tx.card.add(s.name, s.score, s.detail);
    const bool allowed = d_client.allowed;
    const Category category = categorize(cfg, d_tx.card, allowed ? std::optional(Category::clean) : d_tx.forced);
    Action action = cfg.action_for(category);
    // Accepted without Redis's facts: say so in the headers.
    if ((d_client.redis_failed || d_tx.redis_failed) && action == Action::accept)
        action = Action::tag;
    Outcome out = decide_outcome(cfg, d_tx, category, action);

    Context ctx = context();
    Batch writes;
    if (action != Action::tempfail)
        for (const Check* c : all_checks())
            c->record(category, ctx, writes);
    d_rt->store->post(std::move(writes)); // the MTA does not wait for the record
    const char* action_name = to_string(action);
    sw.lap();
    log_decision(to_string(category), d_tx.card.total(), action_name, d_tx.card.summary());
    d_in_message = false;
    return out;
}

void Session::close()
{
    Context ctx = context();
    Batch writes;
    for (const Check* c : all_checks())
        c->close(ctx, writes);
    d_rt->store->post(std::move(writes));
}

void Session::abort()
{
    d_tx = Transaction{};
    d_in_message = false;
}

void Session::log_decision(std::string_view category, double score, std::string_view action, std::string_view symbols)
{
    const auto ms = std::chrono::duration<double, std::milli>(d_tx.spent).count();
    log::info("{}: client={} helo={} from={} rcpts={} category={} score={:.2f} action={} symbols={} ms={:.2f}",
              d_tx.queue_id.empty() ? "NOQUEUE" : d_tx.queue_id, d_client.ip ? d_client.ip->to_string() : "unknown",
              d_client.helo.empty() ? "-" : printable(d_client.helo),
              d_in_message ? "<" + printable(d_tx.sender) + ">" : std::string("-"), d_tx.recipients.size(), category,
              score, action, symbols.empty() ? "-" : symbols, ms);
}

} // namespace rampart
