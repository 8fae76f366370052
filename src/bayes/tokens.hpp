// NAME
//   tokens.hpp - what the Bayesian classifier counts in a message
// SYNOPSIS
//   std::vector<Token> t = message_tokens(tx.headers, content, {});
// DESCRIPTION
//   A message becomes a set of tokens, each a 64-bit hash (XXH3) of a short
//   string that says where it came from:
//
//     word            a word of the decoded visible text (lower case)
//     b:w1 w2         two neighbouring words of the text (TokenOptions::bigrams)
//     sk:PREFIX       a word longer than kMaxWordBytes: its first bytes
//     n:LEN           a number of LEN digits
//     s:word          a word of the decoded Subject
//     fn:word         a word of the From display name
//     f:DOMAIN        the From address's domain; r:DOMAIN the Reply-To's
//     mid:DOMAIN      the Message-ID's right-hand side
//     h:NAME          a header field's name (which fields a message has)
//     m:word          a word of X-Mailer or User-Agent
//     hv:NAME:word    a word of Content-Type, Content-Transfer-Encoding,
//                     Precedence, Importance, X-Priority, X-MSMail-Priority,
//                     List-Id or Organization (NAME in lower case)
//     x:WHAT:N        the message's shape: N a bucket of the amount of plain
//                     and HTML text, hidden and tiny text, images and URLs
//                     (0, 1-3, 4-15, 16-63, ... as 0, 1, 2, 3, ...), or the
//                     number of parts up to 16
//     u:HOST          a URL host; ud:DOMAIN its last two labels
//     p:TYPE          a part's declared content type; cs:CHARSET its charset
//     a:TYPE, ax:EXT  an attachment's detected type and file extension
//
//   Each token counts once per message. Received fields are not read: what
//   they carry (relays, dates) says where and when a message was stored, not
//   what it is, and learning it teaches the filter one site's history.
// LIMITS
//   At most TokenOptions::max_tokens distinct tokens per message, the first
//   found; text beyond what the parser kept (Content::text) is not read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rampart::mime {
struct Content;
}

namespace rampart::bayes {

using Token = std::uint64_t;
using HeaderFields = std::vector<std::pair<std::string, std::string>>;

inline constexpr std::size_t kMinWordBytes = 3;
inline constexpr std::size_t kMaxWordBytes = 24;
inline constexpr std::size_t kSkipPrefixBytes = 7;

struct TokenOptions {
    std::size_t max_tokens = 1000;
    bool bigrams = true;
};

// Calls `each` with every token string of the message, in order, repeats included.
void for_each_token(const HeaderFields& headers, const mime::Content* content, bool bigrams,
                    const std::function<void(std::string_view)>& each);

// The message's distinct tokens, hashed, in the order first found.
std::vector<Token> message_tokens(const HeaderFields& headers, const mime::Content* content, const TokenOptions& opt);

Token hash_token(std::string_view s);

} // namespace rampart::bayes
