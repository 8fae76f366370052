// NAME
//   report_format.cpp - a stats Report as a table for people or as JSON
// DESCRIPTION
//   Both list, per scope (the fleet, each node), the messages by
//   category/action, the symbols by hits (most hits in the last day
//   first) and the errors, each with its count in every window
//   (report.hpp). The table ends with one line per node; JSON carries the
//   same, the windows in kWindowNames order.
#include "stats/report.hpp"
#include "util/text.hpp"
#include "util/utc.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>

namespace rampart::stats {
namespace {

using Row = std::pair<std::string, std::array<std::uint64_t, kWindows>>;

// The rows of `t` whose field starts with `prefix`, the prefix cut off;
// messages' "CATEGORY:ACTION" shown as "CATEGORY/ACTION".
std::vector<Row> rows(const Totals& t, std::string_view prefix)
{
    std::vector<Row> out;
    for (const auto& [field, counts] : t)
        if (field.starts_with(prefix)) {
            std::string name = field.substr(prefix.size());
            if (prefix == "m:")
                std::replace(name.begin(), name.end(), ':', '/');
            out.emplace_back(std::move(name), counts);
        }
    if (prefix == "s:")
        std::stable_sort(out.begin(), out.end(), [](const Row& a, const Row& b) { return a.second[2] > b.second[2]; });
    return out;
}

std::array<std::uint64_t, kWindows> sum(const std::vector<Row>& rs)
{
    std::array<std::uint64_t, kWindows> s{};
    for (const auto& r : rs)
        for (std::size_t w = 0; w < kWindows; ++w)
            s[w] += r.second[w];
    return s;
}

void table_line(std::string& out, std::string_view name, const std::array<std::uint64_t, kWindows>& c)
{
    out += fmt::format("  {:<36} {:>10} {:>10} {:>10} {:>10}\n", printable(name, 64), c[0], c[1], c[2], c[3]);
}

void table_scope(std::string& out, const Totals& t)
{
    out += fmt::format("  {:<36} {:>10} {:>10} {:>10} {:>10}\n", "", kWindowNames[0], kWindowNames[1], kWindowNames[2],
                       kWindowNames[3]);
    const auto messages = rows(t, "m:");
    out += "messages\n";
    for (const auto& [name, c] : messages)
        table_line(out, name, c);
    table_line(out, "total", sum(messages));
    out += "symbols\n";
    const auto symbols = rows(t, "s:");
    if (symbols.empty())
        out += "  (none)\n";
    for (const auto& [name, c] : symbols)
        table_line(out, name, c);
    out += "errors\n";
    const auto errors = rows(t, "e:");
    for (const char* e : {"redis", "redis_fast", "dns"}) {
        const auto it = std::find_if(errors.begin(), errors.end(), [&](const Row& r) { return r.first == e; });
        table_line(out, e, it == errors.end() ? std::array<std::uint64_t, kWindows>{} : it->second);
    }
}

std::string state_text(const NodeReport& n, std::int64_t now_s)
{
    if (!n.has_state)
        return "no state";
    return fmt::format("{}, breaker {}, flushed {} s ago (every {} s), version {}", alive(n, now_s) ? "up" : "silent",
                       n.breaker_open ? "open" : "closed", std::max<std::int64_t>(0, now_s - n.flushed), n.flush_s,
                       printable(n.version, 32));
}

std::string json_string(std::string_view s)
{
    std::string out = "\"";
    for (unsigned char c : s) {
        if (c == '"' || c == '\\')
            out += {'\\', static_cast<char>(c)};
        else if (c < 0x20 || c >= 0x7f)
            out += fmt::format("\\u{:04x}", c); // names are ASCII; other bytes are shown, not decoded
        else
            out += static_cast<char>(c);
    }
    return out + "\"";
}

std::string json_group(const Totals& t, std::string_view prefix)
{
    std::string out = "{";
    for (const auto& [name, c] : rows(t, prefix))
        out += fmt::format("{}{}:[{},{},{},{}]", out.size() > 1 ? "," : "", json_string(name), c[0], c[1], c[2], c[3]);
    return out + "}";
}

std::string json_totals(const Totals& t)
{
    return fmt::format("\"messages\":{},\"symbols\":{},\"errors\":{}", json_group(t, "m:"), json_group(t, "s:"),
                       json_group(t, "e:"));
}

} // namespace

std::string format_table(const Report& r)
{
    std::string out;
    if (r.has_fleet) {
        out +=
            fmt::format("fleet: {} node{}, at {}\n", r.nodes.size(), r.nodes.size() == 1 ? "" : "s", utc_time(r.now_s));
        table_scope(out, r.fleet);
        out += "nodes\n";
        if (r.nodes.empty())
            out += "  (none has flushed counts yet)\n";
        for (const auto& n : r.nodes) {
            const auto total = sum(rows(n.totals, "m:"));
            out += fmt::format("  {:<24} {}; messages {} minute, {} hour, {} day\n", printable(n.node, 64),
                               state_text(n, r.now_s), total[0], total[1], total[2]);
        }
        return out;
    }
    for (const auto& n : r.nodes) {
        out += fmt::format("node {}: {}, at {}\n", printable(n.node, 64), state_text(n, r.now_s), utc_time(r.now_s));
        table_scope(out, n.totals);
    }
    return out;
}

std::string format_json(const Report& r)
{
    std::string out = fmt::format("{{\"now\":{},\"windows\":[\"{}\",\"{}\",\"{}\",\"{}\"]", r.now_s, kWindowNames[0],
                                  kWindowNames[1], kWindowNames[2], kWindowNames[3]);
    if (r.has_fleet)
        out += ",\"fleet\":{" + json_totals(r.fleet) + "}";
    out += ",\"nodes\":[";
    for (std::size_t i = 0; i < r.nodes.size(); ++i) {
        const auto& n = r.nodes[i];
        out += fmt::format("{}{{\"node\":{},\"alive\":{},\"breaker\":\"{}\",\"flushed\":{},\"flush_s\":{},"
                           "\"version\":{},{}}}",
                           i ? "," : "", json_string(n.node), alive(n, r.now_s) ? "true" : "false",
                           !n.has_state     ? "unknown"
                           : n.breaker_open ? "open"
                                            : "closed",
                           n.flushed, n.flush_s, json_string(n.version), json_totals(n.totals));
    }
    return out + "]}\n";
}

} // namespace rampart::stats
