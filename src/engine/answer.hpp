// NAME
//   answer.hpp - what the engine tells the MTA, free of libmilter types
// DESCRIPTION
//   An Answer is the reply to one SMTP step; an Outcome is the end-of-message
//   decision with the header and envelope edits that go with it. The
//   milter glue turns them into smfi_* calls.
#pragma once

#include <string>
#include <vector>

namespace rampart {

struct Answer {
    enum class Kind { proceed, reject, tempfail, discard, accept, skip_body };
    Kind kind = Kind::proceed;
    std::string code;  // "550" / "451"
    std::string xcode; // "5.7.1"
    std::string text;

    static Answer proceed() { return {}; }
    // From a configured reply "X.Y.Z text": reject -> 550, tempfail -> 451.
    static Answer reject(const std::string& reply);
    static Answer tempfail(const std::string& reply);
    bool settles() const { return kind != Kind::proceed && kind != Kind::skip_body; }
};

struct HeaderEdit {
    enum class Op { add, insert, change, remove }; // insert: at the top of the header
    Op op = Op::add;
    std::string name;
    int index = 0; // change/remove: 1-based occurrence of `name`
    std::string value;
};

// An envelope recipient replaced: the MTA delivers to `to` instead of
// `from` (a BATV tag stripped). Addresses without angle brackets.
struct RecipientChange {
    std::string from, to;
};

struct Outcome {
    Answer answer; // accept (deliver with edits), reject, tempfail or discard
    std::vector<HeaderEdit> edits;
    std::string quarantine_reason; // non-empty: hold the message
    // Envelope edits of an accepted message. new_sender non-empty: the
    // envelope sender becomes it (a BATV tag added).
    std::string new_sender;
    std::vector<RecipientChange> recipient_changes;
};

} // namespace rampart
