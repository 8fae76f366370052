// NAME
//   check.hpp - the contract every check implements
// DESCRIPTION
//   A check acts in one or more SMTP phases. For each phase the engine asks
//   every check that runs in it for its Redis commands (request), sends them
//   all as one pipeline, then hands each check its own replies (decide).
//   Before DATA (connect, HELO, MAIL FROM) the pipeline goes out without the
//   MTA waiting for it: decide runs when the replies are in, at a later step
//   (at the latest at end of message, or when the connection closes), with
//   the phase that asked. A check that must answer at once answers in
//   request from what the node knows (e.g. a rate counter known to be full).
//   A check may also act once the verdict is known and before its action
//   (request_final / decide_final: greylisting of a score band), at the
//   cost of a round trip the MTA waits for, only for the messages it picks.
//   After the verdict, checks may queue writes (record); they go out in the
//   background (store/write_queue.hpp), so the MTA never waits for them, and
//   their failure is logged, never fatal.
//
//   A check that looks names up in DNS asks its questions of a phase in
//   ask; they go out at once, every check's together, and the MTA does not
//   wait for them. conclude gets the answers, in the order asked, at the
//   first step that finds them all in, or at the step that needs them (end
//   of message; MAIL FROM for a check that may refuse there), waiting at
//   most what is left of the message's dns.budget_ms; an answer not in by
//   then is Status::timeout. conclude may ask more (the addresses of a PTR
//   name): they go out at once and come back to conclude, one round later.
//
//   A check reads and writes the Client and Transaction facts and the
//   scorecard; it may settle the message (allow, block, tempfail) by setting
//   an answer or a forced category. Checks never call libmilter and never
//   call each other.
#pragma once

#include "dns/message.hpp"
#include "engine/facts.hpp"
#include "store/redis.hpp"

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rampart {

struct Runtime;

enum class Phase { connect, helo, mail, rcpt, header, eoh, body, eom };

namespace dns {
struct Question {
    std::string name;
    Type type;
};
} // namespace dns

struct Context {
    const Config& cfg;
    const Runtime& rt;
    Client& client;
    Transaction& tx;
};

class Check {
  public:
    virtual ~Check() = default;
    virtual std::string_view name() const = 0;
    virtual bool runs_in(Phase p, const Config& cfg) const = 0;
    // True when the check may answer the MTA early in this phase, so that
    // the phase cannot be negotiated as "no reply". Asked once per SMTP
    // connection, with what the Runtime holds then (e.g. whether a block
    // list has entries); an answer found in a phase without a reply is
    // given at the next phase that has one, at the latest at end of message.
    virtual bool answers_in(Phase p, const Runtime& rt) const;
    // True when the check reaches Redis in this phase.
    virtual bool uses_redis(Phase, const Config&) const { return false; }
    // Adds the phase's Redis commands to `batch`; may instead settle the
    // message from what the node already knows, and add nothing.
    virtual void request(Phase, Context&, Batch&) const {}
    virtual void decide(Phase p, Context& ctx, std::span<const Reply> replies) const = 0;
    // True when the verdict needs this phase's replies, so that the end of
    // the message waits for them if they are not in yet. False for counters
    // charged in passing: their replies are applied when they are in, and if
    // the message is decided or dropped first, decide still runs for what
    // the node learns, on a Transaction of its own.
    virtual bool verdict_waits(Phase) const { return true; }
    // True when the check's Redis work at connect may wait for the
    // connection's first MAIL FROM and travel in its pipeline: one round
    // trip for both (it goes alone if the connection ends first). False
    // for work that must reach the fleet when the client connects (the
    // concurrency leases).
    virtual bool waits_for_mail() const { return false; }
    // True when the check runs even for a message already settled clean
    // (an allow-listed client or sender): it edits the envelope there (BATV
    // tags), and judges nothing.
    virtual bool runs_when_clean() const { return false; }
    // True when the check looks names up in DNS in this phase.
    virtual bool uses_dns(Phase, const Config&) const { return false; }
    virtual void ask(Phase, Context&, std::vector<dns::Question>&) const {}
    virtual void conclude(Phase, Context&, int /*round*/, std::span<const dns::Answer>,
                          std::vector<dns::Question>& /*more*/) const
    {
    }
    // After the verdict, before its action: a check may look at the
    // category and score and ask Redis once more (greylisting). Those that
    // want to for this message (wants_final) share one pipeline, which the
    // MTA waits for; decide_final may then settle the message (a tempfail).
    // A message no check wants costs nothing here.
    virtual bool wants_final(Category, double /*score*/, const Context&) const { return false; }
    virtual void request_final(Context&, Batch&) const {}
    virtual void decide_final(Context&, std::span<const Reply>) const {}
    virtual void record(Category, const Context&, Batch&) const {}
    // Writes when the SMTP connection closes, sent in the background like record's.
    virtual void close(const Context&, Batch&) const {}
};

// A header or content heuristic: it runs at end of message when
// content.enabled is on, needs no Redis and never answers early.
class ContentHeuristic : public Check {
  public:
    bool runs_in(Phase p, const Config& cfg) const override;
    bool answers_in(Phase, const Runtime&) const override { return false; }
};

// Every check, in the order they run within a phase.
std::span<const Check* const> all_checks();

} // namespace rampart
