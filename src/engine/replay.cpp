#include "engine/replay.hpp"

#include "checks/date.hpp"
#include "ruleset/ruleset.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace rampart {
namespace {

// Drops one line end (CRLF or LF) from the end of `s`.
std::string_view chomp(std::string_view s)
{
    if (s.ends_with("\r\n"))
        s.remove_suffix(2);
    else if (s.ends_with('\n'))
        s.remove_suffix(1);
    return s;
}

} // namespace

StoredMessage split_message(std::string_view raw)
{
    StoredMessage m;
    if (raw.starts_with("From ")) { // an mbox separator, which no MTA hands a milter
        const auto nl = raw.find('\n');
        raw.remove_prefix(nl == std::string_view::npos ? raw.size() : nl + 1);
    }
    std::size_t pos = 0;
    while (pos < raw.size()) {
        auto nl = raw.find('\n', pos);
        if (nl == std::string_view::npos)
            nl = raw.size() - 1;
        const std::string_view line = chomp(raw.substr(pos, nl + 1 - pos));
        pos = nl + 1;
        if (line.empty())
            break; // the end of the header section
        if ((line.front() == ' ' || line.front() == '\t') && !m.headers.empty()) {
            m.headers.back().second.append(line); // a folded line: unfolded as the MTA does
            continue;
        }
        const auto colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0)
            continue; // not a header field; an MTA would not pass it either
        std::string_view value = line.substr(colon + 1);
        if (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
            value.remove_prefix(1);
        m.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    }
    if (pos < raw.size())
        m.body.assign(raw.substr(pos));
    return m;
}

std::shared_ptr<const Runtime> replay_runtime(const std::string& config_text, const std::string& origin,
                                              std::vector<std::string>& errors)
{
    auto parsed = parse_config(config_text, origin);
    if (!parsed.config) {
        for (const auto& e : parsed.errors)
            errors.push_back(e.to_string());
        return nullptr;
    }
    auto loaded = load_rules(*parsed.config);
    for (const auto& e : loaded.errors)
        errors.push_back(e.to_string());
    if (!loaded.errors.empty())
        return nullptr;
    const auto& cfg = parsed.config;
    auto store = std::make_shared<Store>(*cfg);
    auto lists = std::make_shared<ListCache>(store, Keys(cfg->redis_prefix), std::chrono::milliseconds(1000));
    // No resolver: a replay judges stored mail offline, without DNS.
    auto rt = std::make_shared<Runtime>(Runtime{.config = cfg,
                                                .store = store,
                                                .lists = lists,
                                                .keys = Keys(cfg->redis_prefix),
                                                .limits = std::make_shared<LimitCache>(),
                                                .rules = loaded.ruleset});
    add_host_facts(*rt);
    return rt;
}

std::string read_stored(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::optional<std::chrono::system_clock::time_point> received_time(const StoredMessage& m)
{
    for (const auto& [name, value] : m.headers) {
        if (!iequals(name, "Received"))
            continue;
        const auto semi = value.rfind(';');
        if (semi == std::string::npos)
            return std::nullopt;
        return parse_date(std::string_view(value).substr(semi + 1));
    }
    return std::nullopt;
}

std::optional<Outcome> play(Session& s, const StoredMessage& m, std::size_t chunk, const Envelope& env, Answer* refused)
{
    const auto refuse = [&](const Answer& a) {
        if (refused)
            *refused = a;
        return std::nullopt;
    };
    chunk = std::max<std::size_t>(chunk, 1);
    if (Answer a = s.connect(IpAddress::parse(env.client_ip), env.client_name); a.settles())
        return refuse(a);
    if (Answer a = s.helo(env.helo); a.settles())
        return refuse(a);
    if (Answer a = s.mail(env.sender, "", ""); a.settles())
        return refuse(a);
    if (const auto when = received_time(m))
        s.set_arrival(*when);
    if (Answer a = s.rcpt(env.recipient); a.settles())
        return refuse(a);
    for (const auto& [name, value] : m.headers)
        s.header(name, value);
    for (std::size_t off = 0; off < m.body.size(); off += chunk)
        if (s.body(std::string_view(m.body).substr(off, chunk)).kind == Answer::Kind::skip_body)
            break;
    return s.eom("REPLAY");
}

} // namespace rampart
