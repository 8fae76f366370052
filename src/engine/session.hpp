// NAME
//   session.hpp - one SMTP connection as the engine sees it
// DESCRIPTION
//   The milter glue calls one method per SMTP step. Each runs the checks of
//   its phase (their Redis work as one pipeline), then decides whether the
//   phase already settles the message: a block-listed client is rejected at
//   connect, a rate-limited sender at MAIL FROM, and only what is left waits
//   for the end of the message. A Session pins the Runtime (configuration
//   snapshot) that was current when the client connected.
//
//   The pipelines of connect, HELO and MAIL FROM go out without the MTA
//   waiting (Store::submit): their replies are applied at the next step that
//   finds them in. The end of the message waits for those its verdict needs
//   (reputation) and not for counters charged in passing (rate limits),
//   whose late replies still teach the node which counters are full; the
//   connection's close waits for everything. An answer they bring (a
//   message over a rate limit, Redis down) is given at the step that finds
//   it; the steps from RCPT TO on wait for their own pipeline.
//
//   DNS questions of a phase go out together, without the MTA waiting;
//   each check's answers are concluded at the first step that finds them
//   all in. MAIL FROM waits for those of a check that may refuse there
//   (dnsbl.reject_score), end of message for all; all the waiting of one
//   message together is at most dns.budget_ms, after which what is missing
//   is concluded as a timeout. A check's follow-up questions (round 2 and
//   on, at most kMaxDnsRounds) go out when it concludes.
//
//   Redis failures that leave a check without its answer apply
//   redis.on_failure: tempfail, or accept with RAMPART_REDIS_FAILED (0).
//
//   Header fields are kept for the content checks up to kMaxKeptHeaderBytes
//   in all; the first Content-Type and Content-Transfer-Encoding are kept
//   whatever came before them, so that padding cannot hide the structure.
//
//   Limits: more than kMaxHeaders headers adds RAMPART_TOO_MANY_HEADERS
//   (1.0); forged rampart headers under more than kMaxForgedNames distinct
//   names add RAMPART_FORGED_HEADERS_FLOOD (100). Forged headers are counted
//   whatever the limits, so that every one is removed.
//
//   Delivered mail gets one Authentication-Results field (RFC 8601) at
//   the top of its header, authserv-id first (auth.authserv_id), with
//   each method's result; incoming fields that claim the same
//   authserv-id are removed, whoever wrote them.
//
//   One log line per message at decision time, queue id first:
//     QID: client=IP helo=NAME from=<SENDER> rcpts=N category=C score=S
//          action=A symbols=SYM(score),... ms=T
//   (NOQUEUE when the MTA has not assigned a queue id yet; from=- when the
//   client was refused before any MAIL FROM). A delivered message whose
//   envelope a check changes (BATV) has one line per change before it:
//     QID: envelope: from=<SENDER> new_from=<TAGGED>
//     QID: envelope: to=<TAGGED> new_to=<RECIPIENT>
#pragma once

#include "checks/check.hpp"
#include "engine/answer.hpp"
#include "engine/facts.hpp"
#include "engine/runtime.hpp"

#include <array>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace rampart {

// Which SMTP steps the enabled checks need, for milter negotiation.
struct StepNeeds {
    bool reply_connect = false, reply_helo = false, reply_mail = false, reply_rcpt = false;
    bool body = false;
    bool body_replies = false; // a body chunk may be answered "skip the rest" (limits.skip_body)
};
StepNeeds step_needs(const Runtime& rt);

inline constexpr int kMaxDnsRounds = 8; // of one check's follow-up questions in one phase

class Session {
  public:
    explicit Session(std::shared_ptr<const Runtime> rt);

    const Runtime& runtime() const { return *d_rt; }
    const Config& config() const { return *d_rt->config; }

    Answer connect(std::optional<IpAddress> ip, std::string_view hostname);
    Answer helo(std::string_view name);
    // `size`: the SIZE= parameter of MAIL FROM, when the client gave one.
    Answer mail(std::string_view sender, std::string_view queue_id, std::string_view auth_user,
                std::optional<std::uint64_t> size = std::nullopt);
    Answer rcpt(std::string_view recipient);
    void header(std::string_view name, std::string_view value);
    Answer body(std::string_view chunk);
    Outcome eom(std::string_view queue_id);
    // The MTA dropped the message (RSET, error, another MAIL): forget it.
    void abort();
    // The SMTP connection ended: checks queue what they count at close.
    void close();
    void set_queue_id(std::string_view qid);
    // When the message under way arrived, for a replay of stored mail (date checks).
    void set_arrival(std::chrono::system_clock::time_point when) { d_tx.arrival = when; }
    // Whether the MTA waits for RCPT TO replies on this connection (negotiation).
    void set_rcpt_replies(bool on) { d_rcpt_replies = on; }

  private:
    // Redis work of one phase, sent and not yet applied.
    struct InFlight {
        struct Span {
            const Check* check;
            std::size_t begin, end;
        };
        Phase phase = Phase::connect;
        std::shared_ptr<const Pending> pending;
        std::array<Span, 8> spans{};
        std::size_t nspans = 0;
        bool verdict_waits = false; // a check's verdict needs these replies
        // Set when its message is decided or dropped first: the message, for
        // decide to learn from without touching the next one.
        std::unique_ptr<Transaction> orphan;
    };

    // DNS questions of one check in one phase, sent and not yet concluded.
    struct DnsFlight {
        Phase phase = Phase::connect;
        const Check* check = nullptr;
        int round = 1;
        std::vector<std::shared_ptr<const dns::Lookup>> lookups;
    };
    enum class DnsWait { none, early, all };

    Answer run(Phase p);
    // Sends `batch` for `f` as one pipeline, with the held connect work
    // ahead of it if any; before_data phases are applied later.
    void send(InFlight f, Batch batch);
    // Sends the held connect work on its own, if any.
    void send_held();
    // The held connect work went out as (part of) `pending`: a flight now.
    void launch_held(std::shared_ptr<const Pending> pending);
    void ask_dns(Phase p, const Check& c, int round, std::vector<dns::Question> questions);
    // Concludes the flights whose answers are in, waiting (within the
    // message's budget) for those that may refuse at MAIL FROM (early) or
    // for all of them.
    void collect_dns(DnsWait wait);
    Answer answer() const { return d_client.answer.settles() ? d_client.answer : d_tx.answer; }
    void finish(InFlight& f);
    enum class Wait { none, verdict, all };
    // Applies the replies that are in, waiting for those the verdict needs
    // (Wait::verdict) or for all of them (Wait::all).
    void collect(Wait wait);
    // The message is decided or dropped: replies still out for it are
    // applied later, to the message they were for (moved out of d_tx).
    void orphan_message_flights();
    // Logs a refusal before end of message, once per message, and returns it.
    Answer refuse(const Answer& a);
    void keep_header(std::string_view name, std::string_view value);
    void log_decision(std::string_view category, double score, std::string_view action, std::string_view symbols);
    Context context() { return {*d_rt->config, *d_rt, d_client, d_tx}; }
    // The scores an admin's `score` lines give built-in symbols.
    void apply_score_overrides();
    void release_content();
    // Removes the incoming Authentication-Results fields that claim our
    // authserv-id, and puts ours at the top.
    void add_authentication_results(Outcome& out) const;
    // The envelope edits checks asked for (BATV), each logged.
    void add_envelope_changes(Outcome& out) const;
    bool settled_clean() const;
    // The checks that act between the verdict and its action (greylisting);
    // true when one settled the message.
    bool final_checks(Category category);

    std::shared_ptr<const Runtime> d_rt;
    Client d_client;
    Transaction d_tx;
    std::vector<InFlight> d_flights;
    // Connect's Redis work held for the first MAIL FROM's pipeline (see
    // Check::waits_for_mail); d_held_batch is empty when none is held.
    InFlight d_held;
    Batch d_held_batch;
    std::vector<DnsFlight> d_dns;
    bool d_in_message = false;
    bool d_refusal_logged = false;
    bool d_rcpt_replies = true;
};

} // namespace rampart
