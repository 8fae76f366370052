// NAME
//   replay.hpp - stored messages played through a Session as an MTA would
// DESCRIPTION
//   For golden tests and corpus measurements: split_message() reads a
//   stored message (an .eml file, or an mbox entry whose "From " line is
//   dropped) into the header fields an MTA hands a milter (unfolded, in
//   order) and the body; play() walks a Session through connect, HELO,
//   MAIL FROM, one RCPT TO, the header fields and the body in chunks of a
//   given size, and returns the end-of-message Outcome. The message's
//   arrival is taken from its top Received field, so that date checks
//   judge a stored message as of when it was received.
// LIMITS
//   A header section longer than the message is read as none; chunk sizes
//   below 1 are read as 1.
#pragma once

#include "engine/session.hpp"

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rampart {

struct StoredMessage {
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

StoredMessage split_message(std::string_view raw);

// Configuration text (TOML) for replays: the checks that need Redis off,
// and every category tagged, so that each Outcome carries the category
// and the symbols in its headers. More settings may follow it, but not
// its [lists], [ratelimit], [mailbomb], [account], [greylist], [flood],
// [outbreak], [reputation], [bayes] or [action] tables.
inline constexpr std::string_view kReplayConfig = R"([lists]
enabled = false
[ratelimit]
enabled = false
[mailbomb]
enabled = false
[account]
enabled = false
[greylist]
enabled = false
[flood]
enabled = false
[outbreak]
enabled = false
[reputation]
enabled = false
[bayes]
enabled = false
[action]
clean = "tag"
spam = "tag"
confirmed_spam = "tag"
suspected_virus = "tag"
confirmed_virus = "tag"
)";

// A Runtime for replays, from configuration text (kReplayConfig and more):
// the configuration parsed and the rules it names compiled. No Redis is
// used and the lists are not polled. nullptr when the configuration or a
// rule is wrong, with each error, as FILE:LINE: message, in `errors`.
std::shared_ptr<const Runtime> replay_runtime(const std::string& config_text, const std::string& origin,
                                              std::vector<std::string>& errors);

// The bytes of a stored message's file; "" when it cannot be read.
std::string read_stored(const std::filesystem::path& p);

// The date of the top Received field ("...; Tue, 10 Nov 2026 09:15:02 +0000").
std::optional<std::chrono::system_clock::time_point> received_time(const StoredMessage& m);

struct Envelope {
    std::string client_ip = "192.0.2.1";
    std::string client_name = "mail.example.com";
    std::string helo = "mail.example.com";
    std::string sender = "<sender@example.com>";
    std::string recipient = "<rcpt@example.net>";
};

// Plays `m` through `s` in body chunks of `chunk` bytes; nullopt when a step
// before the end of the message refused it (the Answer is then in `refused`).
std::optional<Outcome> play(Session& s, const StoredMessage& m, std::size_t chunk, const Envelope& env = {},
                            Answer* refused = nullptr);

} // namespace rampart
