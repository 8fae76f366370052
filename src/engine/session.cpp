#include "engine/session.hpp"

#include "policy/policy.hpp"
#include "ruleset/ruleset.hpp"
#include "stats/recorder.hpp"
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

// The authserv-id an Authentication-Results field begins with: its first
// token, after any comments and white space (RFC 8601 section 2.2).
std::string_view authserv_id_of(std::string_view v)
{
    std::size_t i = 0;
    while (i < v.size()) {
        if (v[i] == ' ' || v[i] == '\t' || v[i] == '\r' || v[i] == '\n') {
            ++i;
        } else if (v[i] == '(') { // a comment, nested ones included
            int depth = 0;
            for (; i < v.size(); ++i) {
                depth += v[i] == '(' ? 1 : v[i] == ')' ? -1 : 0;
                if (depth == 0)
                    break;
            }
            ++i;
        } else {
            break;
        }
    }
    if (i >= v.size()) // an unclosed comment runs to the end: no id
        return {};
    const auto end = v.find_first_of(" \t\r\n;(", i);
    return v.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i);
}

// Steps whose Redis work goes out without the MTA waiting for it.
bool before_data(Phase p) { return p == Phase::connect || p == Phase::helo || p == Phase::mail; }

} // namespace

StepNeeds step_needs(const Runtime& rt)
{
    const Config& cfg = *rt.config;
    StepNeeds n;
    for (const Check* c : all_checks()) {
        n.reply_connect |= c->answers_in(Phase::connect, rt);
        n.reply_helo |= c->answers_in(Phase::helo, rt);
        // Redis work before DATA is not waited for where it is sent; what it
        // brings (a Redis failure under on_failure = tempfail) is given at MAIL
        // FROM at the earliest.
        n.reply_mail |= c->answers_in(Phase::mail, rt) || c->uses_redis(Phase::connect, cfg) ||
                        c->uses_redis(Phase::helo, cfg) || c->uses_redis(Phase::mail, cfg);
        n.reply_rcpt |= c->answers_in(Phase::rcpt, rt) || c->uses_redis(Phase::rcpt, cfg);
        n.body |= c->runs_in(Phase::body, cfg);
    }
    n.body_replies = n.body && cfg.limits_skip_body && (cfg.content_enabled || cfg.rules_enabled);
    return n;
}

Session::Session(std::shared_ptr<const Runtime> rt) : d_rt(std::move(rt)) {}

bool Session::settled_clean() const { return d_client.allowed || d_tx.forced == Category::clean; }

Answer Session::run(Phase p)
{
    const Config& cfg = *d_rt->config;
    Context ctx = context();
    // Checks without Redis decide first, in order: an allow or block entry
    // settles the message before any counter is spent on it.
    for (const Check* c : all_checks())
        if (c->runs_in(p, cfg) && !c->uses_redis(p, cfg) && (!settled_clean() || c->runs_when_clean()))
            stats::timed(d_rt->stats.get(), *c, [&] { c->decide(p, ctx, {}); });
    const auto settled = [&] {
        return settled_clean() || d_client.answer.settles() || d_tx.answer.settles() ||
               (p == Phase::mail && d_client.pending_answer.settles());
    };
    InFlight f;
    f.phase = p;
    Batch batch;
    for (const Check* c : all_checks()) {
        if (!c->runs_in(p, cfg) || !c->uses_redis(p, cfg) || settled() || f.nspans == f.spans.size())
            continue;
        const auto begin = batch.size();
        stats::timed(d_rt->stats.get(), *c, [&] { c->request(p, ctx, batch); }); // may settle from memory instead
        f.spans[f.nspans++] = {c, begin, batch.size()};
        f.verdict_waits |= batch.size() > begin && c->verdict_waits(p);
    }
    if (d_rt->resolver)
        for (const Check* c : all_checks())
            if (c->runs_in(p, cfg) && c->uses_dns(p, cfg) && !settled()) {
                std::vector<dns::Question> questions;
                stats::timed(d_rt->stats.get(), *c, [&] { c->ask(p, ctx, questions); });
                ask_dns(p, *c, 1, std::move(questions));
            }
    const bool held_back = p == Phase::connect && !batch.empty() &&
                           std::all_of(f.spans.begin(), f.spans.begin() + f.nspans, [](const InFlight::Span& s) {
                               return s.end == s.begin || s.check->waits_for_mail();
                           });
    if (held_back) {
        d_held = std::move(f);
        d_held_batch = std::move(batch);
    } else if (!batch.empty()) {
        send(std::move(f), std::move(batch));
    } else if (p != Phase::helo) {
        send_held();
    }
    return answer();
}

void Session::send(InFlight f, Batch batch)
{
    const bool with_held = !d_held_batch.empty();
    if (with_held) {
        const std::size_t ahead = d_held_batch.size();
        for (std::size_t i = 0; i < f.nspans; ++i) {
            f.spans[i].begin += ahead;
            f.spans[i].end += ahead;
        }
        d_held_batch.append(std::move(batch));
        batch = std::move(d_held_batch);
    }
    f.pending = d_rt->store->submit(std::move(batch));
    if (with_held)
        launch_held(f.pending); // applied first: its replies come first
    if (before_data(f.phase))
        d_flights.push_back(std::move(f)); // applied at a later step
    else
        finish(f);
}

void Session::send_held()
{
    if (!d_held_batch.empty())
        launch_held(d_rt->store->submit(std::move(d_held_batch)));
}

void Session::launch_held(std::shared_ptr<const Pending> pending)
{
    d_held.pending = std::move(pending);
    d_flights.push_back(std::move(d_held));
    d_held = InFlight{};
    d_held_batch = Batch{};
}

void Session::ask_dns(Phase p, const Check& c, int round, std::vector<dns::Question> questions)
{
    if (questions.empty())
        return;
    DnsFlight f{p, &c, round, {}};
    f.lookups.reserve(questions.size());
    for (const auto& q : questions)
        f.lookups.push_back(d_rt->resolver->lookup(q.name, q.type));
    d_dns.push_back(std::move(f));
}

void Session::collect_dns(DnsWait wait)
{
    const auto must_wait = [&](const DnsFlight& f) {
        return wait == DnsWait::all || (wait == DnsWait::early && f.check->answers_in(Phase::mail, *d_rt));
    };
    // Concluding may ask follow-up questions: go round until nothing is left to conclude now.
    for (bool progress = true; progress;) {
        progress = false;
        std::vector<DnsFlight> flights;
        flights.swap(d_dns);
        for (auto& f : flights) {
            bool in = std::all_of(f.lookups.begin(), f.lookups.end(), [](const auto& l) { return l->ready(); });
            if (!in && must_wait(f)) {
                const DnsBudgetWait budget(config().dns_budget_ms, d_tx);
                for (const auto& l : f.lookups)
                    l->wait_until(budget.deadline());
                in = true; // what is still missing is a timeout
            }
            if (!in) {
                d_dns.push_back(std::move(f));
                continue;
            }
            std::vector<dns::Answer> answers;
            answers.reserve(f.lookups.size());
            for (const auto& l : f.lookups)
                answers.push_back(l->ready() ? l->answer() : dns::Answer{dns::Status::timeout, {}, 0, false});
            Context ctx = context();
            std::vector<dns::Question> more;
            stats::timed(d_rt->stats.get(), *f.check, [&] { f.check->conclude(f.phase, ctx, f.round, answers, more); });
            if (!more.empty() && f.round < kMaxDnsRounds) {
                ask_dns(f.phase, *f.check, f.round + 1, std::move(more));
                progress = true;
            }
        }
    }
    if (d_in_message && !d_tx.answer.settles() && d_client.pending_answer.settles())
        d_tx.answer = d_client.pending_answer;
}

void Session::finish(InFlight& f)
{
    const Config& cfg = *d_rt->config;
    const auto& result = f.pending->wait();
    bool failed = false;
    if (result) {
        // An error reply leaves its check without an answer: treat it as a
        // failure, loudly. Only this flight's replies count: a pipeline may
        // carry the held connect work too.
        for (std::size_t i = 0; i < f.nspans && !failed; ++i)
            for (std::size_t r = f.spans[i].begin; r < f.spans[i].end && r < result->size(); ++r)
                if ((*result)[r].is_error()) {
                    failed = true;
                    log::warning("{}: redis: {}", d_tx.queue_id.empty() ? "NOQUEUE" : d_tx.queue_id,
                                 printable((*result)[r].str));
                    break;
                }
    } else {
        failed = true;
        log::debug("{}: redis: {}", d_tx.queue_id.empty() ? "NOQUEUE" : d_tx.queue_id, result.error().message);
    }
    Context ctx{cfg, *d_rt, d_client, f.orphan ? *f.orphan : d_tx};
    const std::vector<Reply> none;
    const std::span<const Reply> replies = result ? std::span<const Reply>(*result) : std::span<const Reply>(none);
    for (std::size_t i = 0; i < f.nspans; ++i) {
        const auto& s = f.spans[i];
        if (s.end > s.begin && (failed || s.end > replies.size()))
            continue; // no answer for this check; redis.on_failure applies below
        stats::timed(d_rt->stats.get(), *s.check,
                     [&] { s.check->decide(f.phase, ctx, replies.subspan(s.begin, s.end - s.begin)); });
    }
    if (failed && !f.orphan) {
        const bool connection_wide = f.phase == Phase::connect || f.phase == Phase::helo;
        if (connection_wide)
            d_client.redis_failed = true;
        else
            d_tx.redis_failed = true;
        // A connection-wide failure refuses each MAIL FROM after the lists
        // had their say: a block list's reject stands, it needed no Redis.
        Answer& answer = connection_wide ? d_client.pending_answer : d_tx.answer;
        if (cfg.on_failure == FailurePolicy::tempfail) {
            if (!answer.settles()) // a block list's reject stands: it needed no Redis
                answer = Answer::tempfail(cfg.reply_redis_failure);
            (connection_wide ? d_client.card : d_tx.card).add("RAMPART_REDIS_FAILED", 0, "on_failure=tempfail");
        } else {
            (connection_wide ? d_client.card : d_tx.card).add("RAMPART_REDIS_FAILED", 0, "on_failure=accept");
        }
    }
}

void Session::collect(Wait wait)
{
    if (wait != Wait::none)
        send_held(); // the connection ends, or a message is decided, before any MAIL FROM took it
    std::erase_if(d_flights, [&](InFlight& f) {
        const bool must = wait == Wait::all || (wait == Wait::verdict && f.verdict_waits);
        if (!must && !f.pending->ready())
            return false;
        finish(f);
        return true;
    });
    // A connection found over its limit refuses the message under way too.
    if (d_in_message && !d_tx.answer.settles() && d_client.pending_answer.settles())
        d_tx.answer = d_client.pending_answer;
}

void Session::orphan_message_flights()
{
    for (auto& f : d_flights)
        if (f.phase == Phase::mail && !f.orphan) {
            f.orphan = std::make_unique<Transaction>(std::move(d_tx));
            d_tx = Transaction{};
        }
}

Answer Session::refuse(const Answer& a)
{
    if (d_refusal_logged)
        return a;
    d_refusal_logged = true;
    Scorecard all = d_client.card;
    for (const auto& s : d_tx.card.symbols())
        all.add(s.name, s.score, s.detail);
    const Action action = a.kind == Answer::Kind::reject ? Action::reject : Action::tempfail;
    log_decision("-", 0, to_string(action), all.summary());
    if (d_rt->stats)
        d_rt->stats->message(stats::kUnclassified, static_cast<std::size_t>(action), all);
    return a;
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
    sw.lap();
    return a.settles() ? refuse(a) : a;
}

Answer Session::helo(std::string_view name)
{
    Stopwatch sw(d_tx);
    d_client.helo = std::string(name.substr(0, 255));
    if (d_client.answer.settles())
        return d_client.answer;
    collect(Wait::none);
    const Answer a = run(Phase::helo);
    sw.lap();
    return a.settles() ? refuse(a) : a;
}

Answer Session::mail(std::string_view sender, std::string_view queue_id, std::string_view auth_user,
                     std::optional<std::uint64_t> size)
{
    abort(); // a new MAIL starts a new message
    d_in_message = true;
    Stopwatch sw(d_tx);
    d_tx.sender = std::string(strip_brackets(sender).substr(0, 512));
    d_tx.queue_id = printable(queue_id, 64);
    d_tx.auth_user = printable(auth_user, 128);
    d_tx.declared_size = size;
    if (d_client.answer.settles()) // refused at connect or HELO, and logged there
        return d_client.answer;
    collect_dns(DnsWait::early);       // what the checks that may refuse here need of DNS
    collect(Wait::none);               // the connection's replies, and an answer pending for it
    const Answer a = run(Phase::mail); // with an answer pending for the connection, only the lists run
    collect(Wait::none);               // what is known already: a failure to send it
    sw.lap();
    if (answer().settles())
        return refuse(answer());
    return a;
}

Answer Session::rcpt(std::string_view recipient)
{
    Stopwatch sw(d_tx);
    d_tx.current_rcpt = std::string(strip_brackets(recipient).substr(0, 512));
    collect_dns(DnsWait::none);
    collect(Wait::none); // a rate limit or a Redis failure found since MAIL FROM refuses the message here
    // An answer already given for the whole message or connection stands;
    // it is not a refusal of this recipient.
    if (answer().settles()) {
        sw.lap();
        return refuse(answer());
    }
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
    } else if (iequals(name, "Authentication-Results")) {
        // One claiming our authserv-id did not come from us (RFC 8601 section 5).
        ++d_tx.auth_results_seen;
        if (iequals(authserv_id_of(value), d_rt->authserv_id))
            d_tx.forged_auth_results.push_back(d_tx.auth_results_seen);
    } else if (!d_tx.has_subject && iequals(name, "Subject")) {
        d_tx.has_subject = true;
        if (value.size() > kMaxSubjectBytes)
            d_tx.subject_too_long = true;
        else
            d_tx.subject = std::string(value);
    }
    keep_header(name, value);
}

void Session::keep_header(std::string_view name, std::string_view value)
{
    // An entry costs more than its text: a flood of empty fields must not
    // cost more memory than the ceiling says.
    const std::size_t bytes = name.size() + value.size() + kKeptHeaderOverhead;
    const bool type = iequals(name, "Content-Type"), encoding = iequals(name, "Content-Transfer-Encoding");
    const bool first_structure = (type && !d_tx.kept_content_type) || (encoding && !d_tx.kept_transfer_encoding);
    if (d_tx.header_bytes + bytes > kMaxKeptHeaderBytes || d_tx.headers.size() >= kMaxHeaders) {
        // Past the ceiling only the structure is kept, once, and only if it is itself sane.
        if (!first_structure || bytes > kMaxSubjectBytes)
            return;
    }
    d_tx.kept_content_type |= type;
    d_tx.kept_transfer_encoding |= encoding;
    d_tx.header_bytes += bytes;
    d_tx.headers.emplace_back(name, value);
}

Answer Session::body(std::string_view chunk)
{
    Stopwatch sw(d_tx);
    d_tx.body_bytes += chunk.size();
    d_tx.chunk = chunk;
    run(Phase::body);
    d_tx.chunk = {};
    // A DKIM signature's body hash needs the whole body.
    const bool body_wanted =
        (d_tx.dkim && d_tx.dkim->wants_body()) || (d_tx.dkim_signer && d_tx.dkim_signer->wants_body());
    return d_tx.body_done && !body_wanted ? Answer{Answer::Kind::skip_body, {}, {}, {}} : Answer::proceed();
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
    collect(Wait::verdict); // what the verdict needs of the steps before DATA
    collect_dns(DnsWait::all);
    // An answer found at a step negotiated without a reply, or found late,
    // or by a check at the end (a DNS failure under dns.on_temperror =
    // tempfail), is given now.
    const auto refused = [&] {
        Outcome out;
        sw.lap();
        out.answer = refuse(answer());
        release_content();
        orphan_message_flights();
        d_in_message = false;
        return out;
    };
    if (answer().settles())
        return refused();
    run(Phase::eom);
    collect_dns(DnsWait::all);
    if (answer().settles())
        return refused();
    for (const auto& s : d_client.card.symbols())
        d_tx.card.add(s.name, s.score, s.detail);
    apply_score_overrides();
    const bool allowed = d_client.allowed;
    Category category = categorize(cfg, d_tx.card, allowed ? std::optional(Category::clean) : d_tx.forced);
    if (!allowed && !d_tx.forced && d_tx.at_least && category < *d_tx.at_least)
        category = *d_tx.at_least;
    if (final_checks(category))
        return refused();
    Action action = cfg.action_for(category);
    // Accepted without Redis's facts: say so in the headers.
    if ((d_client.redis_failed || d_tx.redis_failed) && action == Action::accept)
        action = Action::tag;
    Outcome out = decide_outcome(cfg, d_tx, category, action);
    if (!d_tx.hold.empty() && out.answer.kind == Answer::Kind::accept && out.quarantine_reason.empty())
        out.quarantine_reason = d_tx.hold; // an account held for review (account.action = hold)
    if (out.answer.kind == Answer::Kind::accept) {
        add_authentication_results(out);
        add_envelope_changes(out);
    }

    Context ctx = context();
    Batch writes;
    if (action != Action::tempfail)
        for (const Check* c : all_checks())
            c->record(category, ctx, writes);
    d_rt->store->post(std::move(writes)); // the MTA does not wait for the record
    const char* action_name = to_string(action);
    sw.lap();
    log_decision(to_string(category), d_tx.card.total(), action_name, d_tx.card.summary());
    if (d_rt->stats)
        d_rt->stats->message(static_cast<std::size_t>(category), static_cast<std::size_t>(action), d_tx.card);
    release_content();
    orphan_message_flights();
    d_in_message = false;
    return out;
}

bool Session::final_checks(Category category)
{
    Context ctx = context();
    const double score = d_tx.card.total();
    std::vector<std::pair<const Check*, std::pair<std::size_t, std::size_t>>> spans;
    Batch batch;
    for (const Check* c : all_checks())
        if (c->wants_final(category, score, ctx)) {
            const auto begin = batch.size();
            c->request_final(ctx, batch);
            spans.push_back({c, {begin, batch.size()}});
        }
    if (spans.empty())
        return false;
    // A check may decide from what it learned already, and ask nothing.
    const auto replies = batch.empty() ? Result<std::vector<Reply>>(std::vector<Reply>()) : d_rt->store->execute(batch);
    if (!replies) { // the message is judged without them: a grey check must not hold up mail
        log::debug("{}: redis: {}", d_tx.queue_id.empty() ? "NOQUEUE" : d_tx.queue_id, replies.error().message);
        return false;
    }
    for (const auto& [c, span] : spans)
        if (span.second <= replies->size())
            c->decide_final(ctx, std::span<const Reply>(*replies).subspan(span.first, span.second - span.first));
    return answer().settles();
}

void Session::add_authentication_results(Outcome& out) const
{
    if (!d_tx.dkim_signature.empty()) {
        std::string value = d_tx.dkim_signature; // folded with CRLF by libopendkim: LF alone for libmilter
        std::erase(value, '\r');
        out.edits.push_back({HeaderEdit::Op::insert, "DKIM-Signature", 0, std::move(value)});
    }
    for (auto it = d_tx.forged_auth_results.rbegin(); it != d_tx.forged_auth_results.rend(); ++it)
        out.edits.push_back({HeaderEdit::Op::remove, "Authentication-Results", *it, {}});
    if (d_tx.auth_results.empty())
        return;
    std::string value = d_rt->authserv_id;
    for (const auto& r : d_tx.auth_results)
        value += ";\n\t" + r; // libmilter folds with LF alone; the MTA writes the CR
    out.edits.push_back({HeaderEdit::Op::insert, "Authentication-Results", 0, value});
}

void Session::add_envelope_changes(Outcome& out) const
{
    const std::string qid = d_tx.queue_id.empty() ? "NOQUEUE" : d_tx.queue_id;
    if (!d_tx.new_sender.empty()) {
        out.new_sender = d_tx.new_sender;
        log::info("{}: envelope: from=<{}> new_from=<{}>", qid, printable(d_tx.sender), printable(out.new_sender));
    }
    // Only recipients the message still has: one refused after its tag was stripped is not the MTA's.
    for (const auto& c : d_tx.recipient_changes)
        if (std::find(d_tx.recipients.begin(), d_tx.recipients.end(), c.to) != d_tx.recipients.end()) {
            out.recipient_changes.push_back(c);
            log::info("{}: envelope: to=<{}> new_to=<{}>", qid, printable(c.from), printable(c.to));
        }
}

void Session::release_content()
{
    // The decided message's parse, rule scan (and its scratch space) and
    // header fields are not kept while the connection idles.
    d_tx.content = nullptr;
    d_tx.rules.reset();
    d_tx.mime.reset();
    std::vector<std::pair<std::string, std::string>>().swap(d_tx.headers);
}

void Session::apply_score_overrides()
{
    if (!d_rt->rules)
        return;
    for (std::size_t i = 0; i < d_tx.card.symbols().size(); ++i) {
        const std::string& name = d_tx.card.symbols()[i].name;
        if (const auto score = d_rt->rules->score_of(name))
            d_tx.card.rescore(name, *score);
    }
}

void Session::close()
{
    collect(Wait::all); // what the replies say of full counters serves the next connections
    d_dns.clear();      // nobody waits for those: the cache keeps what comes
    Context ctx = context();
    Batch writes;
    for (const Check* c : all_checks())
        c->close(ctx, writes);
    d_rt->store->post(std::move(writes));
}

void Session::abort()
{
    collect(Wait::none);
    orphan_message_flights(); // the dropped message's late replies still tell which counters are full
    std::erase_if(d_dns, [](const DnsFlight& f) { return !before_data(f.phase) || f.phase == Phase::mail; });
    d_tx = Transaction{};
    d_in_message = false;
    d_refusal_logged = false;
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
