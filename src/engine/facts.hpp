// NAME
//   facts.hpp - what is known about one SMTP connection and one message
// DESCRIPTION
//   Client holds the facts of the connection (address, network, HELO) and
//   what connection-phase checks concluded; Transaction holds one message's
//   envelope, the headers rampart cares about, body progress, the
//   scorecard and any early answer. Checks read and write these; they never
//   talk to each other directly.
#pragma once

#include "auth/dkim.hpp"
#include "auth/spf.hpp"
#include "engine/answer.hpp"
#include "engine/scorecard.hpp"
#include "net/address.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rampart {

enum class Category;
namespace mime {
class Parser;
struct Content;
} // namespace mime
namespace rules {
class RuleScan;
}

// Ceilings on what one message may make rampart keep.
inline constexpr std::size_t kMaxRecipients = 10000;
inline constexpr std::size_t kMaxHeaders = 10000;  // more: RAMPART_TOO_MANY_HEADERS
inline constexpr std::size_t kMaxForgedNames = 64; // distinct forged header names kept
inline constexpr double kTooManyHeadersScore = 1.0;
inline constexpr double kForgedFloodScore = 100.0;
inline constexpr std::size_t kMaxSubjectBytes = 16 * 1024;
inline constexpr std::size_t kMaxKeptHeaderBytes = 256 * 1024; // of all header fields kept for content checks
inline constexpr std::size_t kKeptHeaderOverhead = 32;         // bytes one kept field counts beyond its text

// What DNS said of the client, as the connection's DNS checks concluded.
struct ClientDns {
    double list_score = 0;            // weights of the DNS lists that list the client, added
    std::vector<Symbol> list_symbols; // RAMPART_RBL_* and RAMPART_RWL_*
    std::string list_failures;        // "zone:status,..." of the lists that could not be asked
    enum class Rdns { unknown, none, mismatch, confirmed, temperror };
    Rdns rdns = Rdns::unknown;
    std::string rdns_name;     // the forward-confirmed name, or else the first PTR name
    bool rdns_dynamic = false; // that name looks generic (the address in it, a dynamic-pool label)
};

struct Client {
    std::optional<IpAddress> ip; // absent for local submissions without an address
    Cidr net;
    std::string hostname; // as the MTA resolved it; "unknown" or "[addr]" when not
    std::string helo;
    Scorecard card;           // symbols that apply to every message of the connection
    Answer answer;            // a connection-wide answer (block-listed client, Redis down at connect)
    Answer pending_answer;    // an answer given to every later MAIL (connection rate over limit)
    bool allowed = false;     // allow-listed client: every message is clean
    bool dns_allowed = false; // DNS allow lists vouch for it (dnsbl.allow_score): zombie and HELO checks skip it
    ClientDns dns;
    std::string lease;     // the connection's lease in the fleet's concurrency counts, once asked
    std::size_t rcpts = 0; // recipients accepted on the connection
    bool redis_failed = false;
    std::chrono::system_clock::time_point connected = std::chrono::system_clock::now();
};

struct Transaction {
    std::string queue_id;
    std::string sender; // without angle brackets; "" is the null sender
    std::string auth_user;
    // SIZE= of MAIL FROM (RFC 1870); UINT64_MAX when it is too large to read.
    std::optional<std::uint64_t> declared_size;
    std::vector<std::string> recipients;
    std::string current_rcpt; // the recipient of the RCPT being decided
    // Envelope edits a check wants if the message is delivered (BATV): the
    // sender's tagged form, and recipients whose tag is stripped (`to` is
    // the recipient as the checks after it saw it).
    std::string new_sender;
    std::vector<RecipientChange> recipient_changes;

    std::size_t header_count = 0;
    std::string subject;
    bool has_subject = false;
    bool subject_too_long = false;
    // Headers rampart writes that arrived from outside, as (name, how many):
    // every occurrence is removed at end of message.
    std::vector<std::pair<std::string, int>> forged_headers;

    // The message's header fields as the MTA gave them (unfolded, raw), in
    // order, at most kMaxKeptHeaderBytes in all; content checks read them.
    std::vector<std::pair<std::string, std::string>> headers;
    std::size_t header_bytes = 0; // their bytes, kKeptHeaderOverhead each included
    bool kept_content_type = false, kept_transfer_encoding = false;
    // When the message arrived: date checks compare with it (a replay sets it
    // from the message's top Received field).
    std::chrono::system_clock::time_point arrival = std::chrono::system_clock::now();
    std::shared_ptr<mime::Parser> mime;      // the body's parse, when content checks are on
    const mime::Content* content = nullptr;  // what it found, set at end of message once parsed
    std::shared_ptr<rules::RuleScan> rules;  // the rules' scan, when rules are loaded
    std::vector<std::uint64_t> bayes_tokens; // the message's Bayes tokens, once the Bayes check asked for them
    std::string bayes_scope;                 // the recipient domain whose statistics were read too, "" when none
    std::vector<std::string> fingerprints;   // the outbreak check's, in the order counted
    std::vector<std::string> new_outbreaks;  // outbreaks this node announces with this message
    // Fingerprints at half of outbreak.messages copies or more, with their
    // copies: how widely they are spread is counted in the background.
    std::vector<std::pair<std::string, std::int64_t>> outbreak_spread;
    std::int64_t outbreak_delay_s = 0; // > 0: a new fingerprint of a poor client, this long yet to wait

    std::size_t body_bytes = 0;
    std::string body_tail;  // carry-over between body chunks for patterns that span them
    std::string_view chunk; // the body chunk being decided
    bool body_done = false; // nothing needs more of the body

    std::optional<auth::Spf> spf;                  // once evaluated, at MAIL FROM
    std::shared_ptr<auth::DkimVerifier> dkim;      // fed while the message arrives
    std::vector<auth::DkimSignature> dkim_results; // once verified, at end of message
    std::shared_ptr<auth::DkimSigner> dkim_signer; // mail of an authenticated sender with a key
    // Lookups that end of message will need (DKIM keys, DMARC records),
    // sent when the header is in: their answers come while the body does,
    // so that a budget spent earlier (a slow reverse zone) cannot starve them.
    std::vector<std::shared_ptr<const dns::Lookup>> prefetched;
    bool dmarc_prefetched = false;
    std::string dkim_signature; // its DKIM-Signature value, once made
    // Methods' results for Authentication-Results ("spf=pass smtp.mailfrom=example.net"), in order.
    std::vector<std::string> auth_results;
    // Incoming Authentication-Results fields that claim our authserv-id, as
    // 1-based occurrences of the field name: each is removed.
    std::vector<int> forged_auth_results;
    int auth_results_seen = 0;

    Scorecard card;
    std::optional<Category> forced;   // a check settled the category (allow list, GTUBE)
    std::optional<Category> at_least; // a check set a floor (DMARC p=quarantine): the score may only raise it
    Answer answer;                    // set when a check settles the message early
    std::string hold;                 // non-empty: a delivered message is quarantined for this reason
    bool redis_failed = false;

    std::chrono::steady_clock::duration spent{};
    std::chrono::steady_clock::duration dns_waited{}; // of dns.budget_ms
};

// One wait for DNS, charged to the message's budget (dns.budget_ms): the
// deadline is what is left of it when the wait begins, and the time until
// the DnsBudgetWait ends is added to Transaction::dns_waited.
class DnsBudgetWait {
  public:
    using Clock = std::chrono::steady_clock;
    DnsBudgetWait(std::int64_t budget_ms, Transaction& tx)
        : d_tx(tx), d_start(Clock::now()),
          d_deadline(d_start + std::max(Clock::duration(std::chrono::milliseconds(budget_ms)) - tx.dns_waited,
                                        Clock::duration::zero()))
    {
    }
    ~DnsBudgetWait() { d_tx.dns_waited += Clock::now() - d_start; }
    DnsBudgetWait(const DnsBudgetWait&) = delete;
    DnsBudgetWait& operator=(const DnsBudgetWait&) = delete;
    Clock::time_point deadline() const { return d_deadline; }

  private:
    Transaction& d_tx;
    Clock::time_point d_start, d_deadline;
};

// The first header field named `name` (any case) of the message, nullptr when absent.
const std::string* find_header(const Transaction& tx, std::string_view name);
// How many header fields named `name` the message has (of those kept).
std::size_t count_headers(const Transaction& tx, std::string_view name);
// What the MIME parser learned of the body; nullptr when it was not parsed.
const mime::Content* content_of(const Transaction& tx);

} // namespace rampart
