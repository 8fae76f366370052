// NAME
//   scan.cpp - RuleScan: one message's inputs through the compiled databases
// DESCRIPTION
//   The scan takes a scratch space from the set's pool at construction and
//   gives it back at destruction, so that scans in many threads do not
//   allocate Hyperscan memory per message. Streams (body, rawbody, full)
//   open on their first chunk; finish() closes them, which reports the
//   matches that only the end of the data decides ($, \z).
//
//   A match marks its rule in `matched`; every rule reports once however
//   often it matches (HS_FLAG_SINGLEMATCH). At finish(), "!~" header rules
//   hit when their pattern matched no value, metas are evaluated in
//   dependency order over those results, and each rule that hit with a
//   non-zero score goes on the scorecard.
//
//   UTF-8 databases must be given valid UTF-8: header values, body text
//   and URLs that are not have each invalid sequence replaced by U+FFFD
//   first. For the body this runs across chunk boundaries: a character
//   split between two chunks is held back and joined, not replaced.
// LIMITS
//   No input is held: a copy is made only of a header line ("Name: value")
//   for the "header *" rules and of text that needs repair; both are
//   bounded by the input passed in. At most 3 bytes of a split character
//   are carried between body chunks.
#include "ruleset/syntax.hpp"

#include "util/text.hpp"

#include <algorithm>

namespace rampart::rules {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD"; // U+FFFD
// Hyperscan takes unsigned lengths: longer input goes to a stream in pieces,
// and a block scan reads at most this much.
constexpr std::size_t kMaxScanBytes = std::size_t{1} << 30;

int on_match(unsigned id, unsigned long long, unsigned long long, unsigned, void* ctx)
{
    static_cast<char*>(ctx)[id] = 1;
    return 0; // go on: other rules may match later
}

// Appends `s` to `out` with invalid sequences replaced; unless `final`, stops
// before a character cut by the end of `s`. Returns the bytes taken.
std::size_t repair(std::string_view s, bool final, std::string& out)
{
    std::size_t i = 0;
    while (i < s.size()) {
        const int len = utf8_char_length(s, i);
        if (len == -1 && !final)
            break;
        if (len > 0) {
            out.append(s.substr(i, static_cast<std::size_t>(len)));
            i += static_cast<std::size_t>(len);
        } else {
            out.append(kReplacement);
            ++i;
        }
    }
    return i;
}

struct Stream {
    hs_stream_t* s = nullptr;
    bool dead = false; // could not be opened, or a scan failed
    std::string carry; // body only: a character split by the chunk boundary
};

} // namespace

struct RuleScan::State {
    std::shared_ptr<const Ruleset> set;
    const Ruleset::Impl* impl = nullptr;
    hs_scratch_t* scratch = nullptr;
    std::vector<char> matched; // per rule: its pattern matched (metas: it hit, after finish)
    Stream body, rawbody, full;
    std::string line, clean; // reused buffers
    std::vector<std::int64_t> stack;
    bool needs_scratch = false; // the set has a database
    bool done = false;

    bool usable() const { return impl && !done && (scratch || !needs_scratch); }

    void block(const hs_database_t* db, std::string_view data)
    {
        data = data.substr(0, kMaxScanBytes);
        hs_scan(db, data.data(), static_cast<unsigned>(data.size()), 0, scratch, on_match, matched.data());
    }

    // Block-scans UTF-8 text, repaired first when it is not valid.
    void block_utf8(const hs_database_t* db, std::string_view text)
    {
        if (utf8_valid_prefix(text) == text.size())
            return block(db, text);
        clean.clear();
        repair(text, true, clean);
        block(db, clean);
    }

    void stream(const Database& db, Stream& st, std::string_view data)
    {
        if (!db || st.dead || data.empty())
            return;
        if (!st.s && hs_open_stream(db.get(), 0, &st.s) != HS_SUCCESS) {
            st.s = nullptr;
            st.dead = true;
            return;
        }
        while (!data.empty() && !st.dead) {
            const std::string_view piece = data.substr(0, kMaxScanBytes);
            data.remove_prefix(piece.size());
            if (hs_scan_stream(st.s, piece.data(), static_cast<unsigned>(piece.size()), 0, scratch, on_match,
                               matched.data()) != HS_SUCCESS)
                st.dead = true;
        }
    }

    void stream_utf8(const Database& db, Stream& st, std::string_view text);
    void close(Stream& st, bool report);
};

void RuleScan::State::stream_utf8(const Database& db, Stream& st, std::string_view text)
{
    if (!st.carry.empty()) {
        // Join the held-back bytes with the continuation bytes this chunk starts with.
        std::string joint = st.carry;
        joint.append(text.substr(0, 4 - st.carry.size()));
        const int len = utf8_char_length(joint, 0);
        if (len == -1) { // still cut: the chunk was shorter than the rest of the character
            st.carry = joint;
            return;
        }
        if (len > 0) {
            stream(db, st, std::string_view(joint).substr(0, static_cast<std::size_t>(len)));
            text.remove_prefix(static_cast<std::size_t>(len) - st.carry.size());
        } else {
            std::string bad;
            for (std::size_t i = 0; i < st.carry.size(); ++i)
                bad.append(kReplacement);
            stream(db, st, bad);
        }
        st.carry.clear();
    }
    const std::size_t ok = utf8_valid_prefix(text);
    if (ok == text.size())
        return stream(db, st, text);
    if (utf8_char_length(text, ok) == -1) { // only the last character is cut
        stream(db, st, text.substr(0, ok));
        st.carry = std::string(text.substr(ok));
        return;
    }
    clean.clear();
    const std::size_t taken = repair(text, false, clean);
    stream(db, st, clean);
    st.carry = std::string(text.substr(taken));
}

void RuleScan::State::close(Stream& st, bool report)
{
    if (report && !st.carry.empty() && !st.dead && st.s)
        hs_scan_stream(st.s, kReplacement.data(), static_cast<unsigned>(kReplacement.size()), 0, scratch, on_match,
                       matched.data());
    if (st.s)
        hs_close_stream(st.s, report ? scratch : nullptr, report ? on_match : nullptr, matched.data());
    st.s = nullptr;
}

RuleScan::RuleScan(std::shared_ptr<const Ruleset> rules) : d(std::make_unique<State>())
{
    d->set = std::move(rules);
    if (!d->set)
        return;
    d->impl = &d->set->impl();
    const auto& i = *d->impl;
    d->needs_scratch = !i.fields.empty() || i.any_header || i.uri || i.body || i.rawbody || i.full;
    d->scratch = i.scratch.take();
    d->matched.assign(d->impl->rules.size(), 0);
    d->stack.reserve(d->impl->meta_stack);
}

RuleScan::~RuleScan()
{
    d->close(d->body, false);
    d->close(d->rawbody, false);
    d->close(d->full, false);
    if (d->impl)
        d->impl->scratch.give(d->scratch);
}

namespace {

// lower < name, with name compared as if lowercased (lower, a field
// database's name, is).
bool folded_less(std::string_view lower, std::string_view name)
{
    const std::size_t n = std::min(lower.size(), name.size());
    for (std::size_t i = 0; i < n; ++i) {
        const auto x = static_cast<unsigned char>(lower[i]);
        const auto y = static_cast<unsigned char>(ascii_lower(name[i]));
        if (x != y)
            return x < y;
    }
    return lower.size() < name.size();
}

// The database of the rules on this named field, or null.
const hs_database_t* field_database(const std::vector<FieldDatabase>& fields, std::string_view name)
{
    if (fields.empty() || name.size() > kMaxFieldNameBytes)
        return nullptr;
    const auto it =
        std::lower_bound(fields.begin(), fields.end(), name,
                         [](const FieldDatabase& f, std::string_view n) { return folded_less(f.field, n); });
    return it != fields.end() && iequals(it->field, name) ? it->db.get() : nullptr;
}

} // namespace

bool RuleScan::wants_header(std::string_view name) const
{
    return d->usable() && (d->impl->any_header || field_database(d->impl->fields, name) != nullptr);
}

void RuleScan::header(std::string_view name, std::string_view value)
{
    if (!d->usable())
        return;
    if (const hs_database_t* db = field_database(d->impl->fields, name))
        d->block_utf8(db, value);
    if (d->impl->any_header) {
        d->line.assign(name);
        d->line.append(": ");
        d->line.append(value);
        d->block_utf8(d->impl->any_header.get(), d->line);
    }
}

void RuleScan::rawbody(std::string_view chunk)
{
    if (d->usable())
        d->stream(d->impl->rawbody, d->rawbody, chunk);
}

void RuleScan::full(std::string_view bytes)
{
    if (d->usable())
        d->stream(d->impl->full, d->full, bytes);
}

void RuleScan::body(std::string_view text)
{
    if (d->usable() && d->impl->body && !text.empty())
        d->stream_utf8(d->impl->body, d->body, text);
}

void RuleScan::uri(std::string_view url)
{
    if (d->usable() && d->impl->uri)
        d->block_utf8(d->impl->uri.get(), url);
}

void RuleScan::finish(Scorecard& card)
{
    if (!d->usable())
        return;
    d->close(d->body, true);
    d->close(d->rawbody, true);
    d->close(d->full, true);
    d->done = true;
    const auto& rules = d->impl->rules;
    auto& hit = d->matched;
    for (const std::size_t i : d->impl->negated)
        hit[i] = !hit[i];
    for (const std::size_t m : d->impl->meta_order)
        hit[m] = eval_meta(rules[m].meta, hit, d->stack) != 0;
    for (std::size_t i = 0; i < rules.size(); ++i)
        if (hit[i] && rules[i].score != 0)
            card.add(rules[i].name, rules[i].score, rules[i].describe);
}

} // namespace rampart::rules
