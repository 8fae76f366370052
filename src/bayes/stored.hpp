// NAME
//   stored.hpp - the Bayes tokens of a stored message, as the milter sees them
// SYNOPSIS
//   StoredTokens t = stored_tokens(cfg, raw);
//   add_message_learn(cfg, keys, t.headers, t.tokens, LearnClass::spam, "", batch);
// DESCRIPTION
//   For rampartctl learn and forget: the message is split into its header
//   fields and body as an MTA hands them to a milter (an mbox "From " line
//   is dropped), the body is parsed with the content check's limits when
//   content.enabled is on (as the milter only parses it then), and the
//   tokens are those the Bayes check would read at end of message, so that
//   what is learned from a file is what a message like it is classified by.
#pragma once

#include "bayes/tokens.hpp"
#include "config/config.hpp"

#include <string_view>
#include <vector>

namespace rampart::bayes {

struct StoredTokens {
    HeaderFields headers;
    std::vector<Token> tokens;
};

StoredTokens stored_tokens(const Config& cfg, std::string_view raw);

} // namespace rampart::bayes
