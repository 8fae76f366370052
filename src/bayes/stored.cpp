#include "bayes/stored.hpp"

#include "checks/content.hpp"
#include "engine/replay.hpp"
#include "mime/parser.hpp"

namespace rampart::bayes {

StoredTokens stored_tokens(const Config& cfg, std::string_view raw)
{
    StoredMessage m = split_message(raw);
    StoredTokens out;
    out.headers = std::move(m.headers);
    const TokenOptions opt{static_cast<std::size_t>(cfg.bayes_message_tokens), cfg.bayes_bigrams};
    if (!cfg.content_enabled) {
        out.tokens = message_tokens(out.headers, nullptr, opt);
        return out;
    }
    mime::Parser parser(content_limits(cfg));
    for (const auto& [name, value] : out.headers)
        parser.header(name, value);
    parser.body(m.body);
    parser.finish();
    out.tokens = message_tokens(out.headers, &parser.content(), opt);
    return out;
}

} // namespace rampart::bayes
