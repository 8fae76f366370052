// NAME
//   content.cpp - the body's MIME parse and rule streams, fed as the body arrives
// SUMMARY
//   Creates the message's Parser (mime/parser.hpp) at its first body chunk,
//   gives it the message's header fields, then every chunk as it comes; the
//   rules' raw body and whole-message streams, and its decoded-text stream,
//   are fed at the same time, so that the body is never held. Once
//   limits.message_scan_bytes were read, the rest of the body is skipped
//   (limits.skip_body). At end of message the parse is finished and what it
//   found is published in Transaction::content for the heuristics and
//   rules; each limit reached and each kind of broken input becomes a
//   symbol, and each limit reached one log line:
//     QID: mime limit reached: NAME (limits.SETTING = VALUE)
// PHASES
//   body, eom. No Redis.
// SYMBOLS
//   RAMPART_MIME_DEPTH (1.0)              nesting deeper than limits.mime_depth
//   RAMPART_MIME_PARTS (1.0)              more parts than limits.mime_parts
//   RAMPART_MIME_PART_HEADERS (1.0)       a part with more header fields than limits.part_headers
//   RAMPART_MIME_LONG_LINE (0.5)          a body line longer than limits.line_bytes
//   RAMPART_MIME_PART_SCAN_LIMIT (0)      a part larger than limits.part_scan_bytes (decoded)
//   RAMPART_MIME_MESSAGE_SCAN_LIMIT (0)   a body larger than limits.message_scan_bytes
//   RAMPART_MIME_UNTERMINATED (1.0)       a multipart without its closing boundary
//   RAMPART_MIME_NO_BOUNDARY (1.0)        a multipart without a boundary parameter
//   RAMPART_MIME_BAD_BASE64 (1.0)         broken base64
//   RAMPART_MIME_BAD_QP (0.5)             broken quoted-printable
//   RAMPART_MIME_UNKNOWN_CHARSET (1.0)    a charset no converter knows
//   RAMPART_MIME_BAD_CHARSET (0.5)        bytes invalid in their declared charset
//   RAMPART_MIME_NUL (1.0)                NUL bytes in a text part
//   RAMPART_MIME_RAW_HEADER_BYTES (0.5)   unencoded 8-bit bytes in a part's header fields
// SETTINGS
//   content.enabled, rules.enabled, limits.skip_body and the limits.mime_*,
//   line_bytes, part_headers, *_scan_bytes settings.
#include "checks/content.hpp"
#include "checks/check.hpp"
#include "config/config.hpp"
#include "engine/runtime.hpp"
#include "mime/parser.hpp"
#include "ruleset/ruleset.hpp"
#include "util/log.hpp"
#include "util/text.hpp"

#include <fmt/format.h>

#include <array>

namespace rampart {
namespace {

struct LimitSymbol {
    mime::Limit limit;
    const char* symbol;
    double score;
    const char* setting;
    std::int64_t Config::*value;
};

const std::array<LimitSymbol, mime::kLimitKinds> kLimitSymbols = {{
    {mime::Limit::depth, "RAMPART_MIME_DEPTH", 1.0, "mime_depth", &Config::limits_mime_depth},
    {mime::Limit::parts, "RAMPART_MIME_PARTS", 1.0, "mime_parts", &Config::limits_mime_parts},
    {mime::Limit::part_headers, "RAMPART_MIME_PART_HEADERS", 1.0, "part_headers", &Config::limits_part_headers},
    {mime::Limit::line_bytes, "RAMPART_MIME_LONG_LINE", 0.5, "line_bytes", &Config::limits_line_bytes},
    {mime::Limit::part_scan_bytes, "RAMPART_MIME_PART_SCAN_LIMIT", 0, "part_scan_bytes",
     &Config::limits_part_scan_bytes},
    {mime::Limit::message_scan_bytes, "RAMPART_MIME_MESSAGE_SCAN_LIMIT", 0, "message_scan_bytes",
     &Config::limits_message_scan_bytes},
}};

struct DefectSymbol {
    bool mime::Defects::*flag;
    const char* symbol;
    double score;
    const char* detail;
};

const DefectSymbol kDefectSymbols[] = {
    {&mime::Defects::unterminated_multipart, "RAMPART_MIME_UNTERMINATED", 1.0, "multipart without closing boundary"},
    {&mime::Defects::missing_boundary, "RAMPART_MIME_NO_BOUNDARY", 1.0, "multipart without boundary"},
    {&mime::Defects::bad_base64, "RAMPART_MIME_BAD_BASE64", 1.0, "broken base64"},
    {&mime::Defects::bad_qp, "RAMPART_MIME_BAD_QP", 0.5, "broken quoted-printable"},
    {&mime::Defects::unknown_charset, "RAMPART_MIME_UNKNOWN_CHARSET", 1.0, "unknown charset"},
    {&mime::Defects::bad_charset_bytes, "RAMPART_MIME_BAD_CHARSET", 0.5, "bytes invalid in their charset"},
    {&mime::Defects::nul_bytes, "RAMPART_MIME_NUL", 1.0, "NUL in text"},
    {&mime::Defects::eight_bit_headers, "RAMPART_MIME_RAW_HEADER_BYTES", 0.5, "8-bit bytes in part headers"},
};

} // namespace

mime::Limits content_limits(const Config& cfg)
{
    mime::Limits l;
    l.depth = static_cast<std::size_t>(cfg.limits_mime_depth);
    l.parts = static_cast<std::size_t>(cfg.limits_mime_parts);
    l.part_headers = static_cast<std::size_t>(cfg.limits_part_headers);
    l.line_bytes = static_cast<std::size_t>(cfg.limits_line_bytes);
    l.part_scan_bytes = static_cast<std::size_t>(cfg.limits_part_scan_bytes);
    l.message_scan_bytes = static_cast<std::size_t>(cfg.limits_message_scan_bytes);
    return l;
}

namespace {

bool rules_on(const Context& ctx) { return ctx.cfg.rules_enabled && ctx.rt.rules != nullptr; }

// The parse and the rule scan of the message, begun with its header fields.
void start(Context& ctx)
{
    Transaction& tx = ctx.tx;
    tx.mime = std::make_shared<mime::Parser>(content_limits(ctx.cfg));
    if (rules_on(ctx)) {
        tx.rules = std::make_shared<rules::RuleScan>(ctx.rt.rules);
        tx.mime->on_text([scan = tx.rules](std::string_view text) { scan->body(text); });
    }
    const bool full = tx.rules && ctx.rt.rules->wants_full();
    std::string line;
    for (const auto& [name, value] : tx.headers) {
        // The parser gets the structure only, so that other fields cannot
        // use up its header limit before the Content-Type.
        if (iequals(name, "Content-Type") || iequals(name, "Content-Transfer-Encoding") ||
            iequals(name, "Content-Disposition"))
            tx.mime->header(name, value);
        if (full) {
            line.assign(name).append(": ").append(value).append("\r\n");
            tx.rules->full(line);
        }
    }
    if (full)
        tx.rules->full("\r\n");
}

class ContentCheck final : public Check {
  public:
    std::string_view name() const override { return "content"; }

    bool runs_in(Phase p, const Config& cfg) const override
    {
        return (p == Phase::body || p == Phase::eom) && (cfg.content_enabled || cfg.rules_enabled);
    }
    bool answers_in(Phase, const Runtime&) const override { return false; }

    void decide(Phase p, Context& ctx, std::span<const Reply>) const override
    {
        if (p == Phase::body)
            feed(ctx);
        else
            finish(ctx);
    }

  private:
    static void feed(Context& ctx)
    {
        Transaction& tx = ctx.tx;
        if (!tx.mime)
            start(ctx);
        if (!tx.mime->wants_more())
            return;
        tx.mime->body(tx.chunk);
        if (tx.rules) {
            if (ctx.rt.rules->wants_rawbody())
                tx.rules->rawbody(tx.chunk);
            if (ctx.rt.rules->wants_full())
                tx.rules->full(tx.chunk);
        }
        if (!tx.mime->wants_more() && ctx.cfg.limits_skip_body)
            tx.body_done = true;
    }

    static void finish(Context& ctx)
    {
        Transaction& tx = ctx.tx;
        if (!tx.mime)
            start(ctx); // a message without a body
        tx.mime->finish();
        const mime::Content& c = tx.mime->content();
        tx.content = &c;
        const std::string_view qid = tx.queue_id.empty() ? std::string_view("NOQUEUE") : tx.queue_id;
        for (const mime::Limit l : c.limits_hit) {
            const auto& s = kLimitSymbols[static_cast<std::size_t>(l)];
            tx.card.add(s.symbol, s.score, fmt::format("limits.{} = {}", s.setting, ctx.cfg.*s.value));
            log::info("{}: mime limit reached: {} (limits.{} = {})", qid, mime::to_string(l), s.setting,
                      ctx.cfg.*s.value);
        }
        for (const auto& d : kDefectSymbols)
            if (c.defects.*d.flag)
                tx.card.add(d.symbol, d.score, d.detail);
    }
};

} // namespace

const Check& content_check()
{
    static const ContentCheck check;
    return check;
}

} // namespace rampart
