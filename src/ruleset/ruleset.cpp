// NAME
//   ruleset.cpp - loading rule files, linking names, compiling Hyperscan databases, the scratch pool
// DESCRIPTION
//   load() reads each path in order (a directory: its *.rules files in name
//   order, dot files skipped) into one RuleText, then builds:
//     1. top-level score lines, in reading order, re-weigh rules of the set
//        or record a weight for a built-in RAMPART_ symbol;
//     2. meta operands are linked to rules of the set, and metas ordered so
//        that each comes after the metas it reads; a cycle is an error;
//     3. every pattern is checked alone with hs_expression_info, so that
//        all bad patterns are reported, then each database is compiled with
//        hs_compile_multi: per named header field, "header *" and uri in
//        block mode, body, rawbody and full in streaming mode. Header, body
//        and uri patterns are UTF-8; rawbody and full are bytes;
//     4. one scratch prototype is grown over every database; scans take
//        clones of it from a mutex-guarded pool.
//   Any error leaves Loaded::ruleset null. Nothing throws out of load().
// LIMITS
//   Reads at most kMaxFileBytes + 1 bytes of a file; keeps kMaxPooledScratch
//   idle scratch spaces.
#include "ruleset/syntax.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace rampart::rules {
namespace {

namespace fs = std::filesystem;

void read_file(const std::string& path, RuleText& into)
{
    std::unique_ptr<FILE, decltype(&std::fclose)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!f)
        return into.error(path, 0, fmt::format("cannot read: {}", std::strerror(errno)));
    std::string text;
    char buf[65536];
    while (text.size() <= kMaxFileBytes) {
        const std::size_t n = std::fread(buf, 1, sizeof buf, f.get());
        text.append(buf, n);
        if (n < sizeof buf)
            break;
    }
    if (std::ferror(f.get()))
        return into.error(path, 0, fmt::format("cannot read: {}", std::strerror(errno)));
    parse_text(text, path, into);
}

void read_path(const std::string& path, RuleText& into)
{
    std::error_code ec;
    if (!fs::is_directory(path, ec))
        return read_file(path, into);
    std::vector<std::string> files;
    for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        std::error_code type_ec;
        if (name.starts_with('.') || !name.ends_with(".rules") || !it->is_regular_file(type_ec))
            continue;
        files.push_back(it->path().string());
    }
    if (ec)
        return into.error(path, 0, fmt::format("cannot read directory: {}", ec.message()));
    std::sort(files.begin(), files.end());
    for (const auto& f : files)
        read_file(f, into);
}

void apply_scores(RuleText& t, Ruleset::Impl& impl)
{
    for (const auto& s : t.scores) {
        if (const auto it = t.by_name.find(s.name); it != t.by_name.end())
            t.rules[it->second].score = s.score;
        else if (s.name.starts_with(kBuiltinPrefix))
            impl.builtin_scores[s.name] = s.score;
        else
            t.error(s.file, s.line, fmt::format("score: no rule named {}", s.name));
    }
}

// Links operands to rule indices; returns, per meta, the metas it reads.
std::vector<std::vector<std::size_t>> link_metas(RuleText& t)
{
    std::vector<std::vector<std::size_t>> reads(t.rules.size());
    for (std::size_t i = 0; i < t.rules.size(); ++i) {
        Rule& r = t.rules[i];
        if (r.kind != Kind::meta)
            continue;
        std::vector<std::size_t> index;
        bool ok = true;
        for (const auto& name : r.meta.names) {
            const auto it = t.by_name.find(name);
            if (it == t.by_name.end()) {
                t.error(r.file, r.kind_line,
                        fmt::format("rule {}: meta names {}, which is no rule of the set", r.name, name));
                ok = false;
                continue;
            }
            index.push_back(it->second);
            if (t.rules[it->second].kind == Kind::meta)
                reads[i].push_back(it->second);
        }
        if (ok)
            link_meta(r.meta, index);
    }
    return reads;
}

// Orders metas so that each follows what it reads (Kahn); reports each cycle once.
std::vector<std::size_t> order_metas(RuleText& t, const std::vector<std::vector<std::size_t>>& reads)
{
    const std::size_t n = t.rules.size();
    std::vector<std::size_t> waiting(n, 0);
    std::vector<std::vector<std::size_t>> readers(n);
    std::vector<std::size_t> ready, order;
    for (std::size_t i = 0; i < n; ++i) {
        if (t.rules[i].kind != Kind::meta)
            continue;
        waiting[i] = reads[i].size();
        for (const std::size_t d : reads[i])
            readers[d].push_back(i);
        if (waiting[i] == 0)
            ready.push_back(i);
    }
    while (!ready.empty()) {
        const std::size_t m = ready.back();
        ready.pop_back();
        order.push_back(m);
        for (const std::size_t r : readers[m])
            if (--waiting[r] == 0)
                ready.push_back(r);
    }
    // What is left waits on a cycle: walk back along unresolved reads until a rule repeats.
    std::vector<char> seen(n, 0);
    for (std::size_t start = 0; start < n; ++start) {
        if (waiting[start] == 0 || seen[start])
            continue;
        std::vector<std::size_t> path;
        std::size_t at = start;
        while (!seen[at]) {
            seen[at] = 2;
            path.push_back(at);
            at = *std::find_if(reads[at].begin(), reads[at].end(), [&](std::size_t d) { return waiting[d] > 0; });
        }
        const auto loop = std::find(path.begin(), path.end(), at);
        if (loop != path.end()) {
            std::string names;
            for (auto it = loop; it != path.end(); ++it)
                names += t.rules[*it].name + " -> ";
            names += t.rules[at].name;
            const Rule& r = t.rules[*loop];
            t.error(r.file, r.kind_line, fmt::format("rule {}: meta cycle {}", r.name, names));
        }
        for (const std::size_t p : path)
            seen[p] = 1;
    }
    return order;
}

unsigned compile_flags(const Rule& r, bool utf8) { return r.flags | HS_FLAG_SINGLEMATCH | (utf8 ? HS_FLAG_UTF8 : 0u); }

bool is_utf8_kind(Kind k) { return k == Kind::header || k == Kind::header_any || k == Kind::body || k == Kind::uri; }

// Each pattern alone, so that every bad one is reported, not only the first.
void check_patterns(RuleText& t)
{
    for (const Rule& r : t.rules) {
        if (r.kind == Kind::meta)
            continue;
        hs_expr_info_t* info = nullptr;
        hs_compile_error_t* err = nullptr;
        if (hs_expression_info(r.pattern.c_str(), compile_flags(r, is_utf8_kind(r.kind)), &info, &err) != HS_SUCCESS) {
            t.error(r.file, r.kind_line,
                    fmt::format("rule {}: pattern refused: {}", r.name, err ? err->message : "unknown error"));
            hs_free_compile_error(err);
        }
        std::free(info);
    }
}

Database compile(RuleText& t, const std::vector<std::size_t>& members, unsigned mode, std::string_view what)
{
    if (members.empty())
        return nullptr;
    std::vector<const char*> exprs;
    std::vector<unsigned> flags, ids;
    for (const std::size_t i : members) {
        const Rule& r = t.rules[i];
        exprs.push_back(r.pattern.c_str());
        flags.push_back(compile_flags(r, is_utf8_kind(r.kind)));
        ids.push_back(static_cast<unsigned>(i));
    }
    hs_database_t* db = nullptr;
    hs_compile_error_t* err = nullptr;
    if (hs_compile_multi(exprs.data(), flags.data(), ids.data(), static_cast<unsigned>(exprs.size()), mode, nullptr,
                         &db, &err) == HS_SUCCESS)
        return Database(db);
    const std::string message = err ? err->message : "unknown error";
    if (err && err->expression >= 0 && static_cast<std::size_t>(err->expression) < members.size()) {
        const Rule& r = t.rules[members[static_cast<std::size_t>(err->expression)]];
        t.error(r.file, r.kind_line, fmt::format("rule {}: pattern refused: {}", r.name, message));
    } else {
        const Rule& r = t.rules[members.front()];
        t.error(r.file, 0, fmt::format("cannot compile the {} rules: {}", what, message));
    }
    hs_free_compile_error(err);
    return nullptr;
}

void compile_all(RuleText& t, Ruleset::Impl& impl)
{
    std::map<std::string, std::vector<std::size_t>> by_field;
    std::vector<std::size_t> any, uri, body, rawbody, full;
    for (std::size_t i = 0; i < t.rules.size(); ++i) {
        const Rule& r = t.rules[i];
        switch (r.kind) {
        case Kind::header: by_field[r.field].push_back(i); break;
        case Kind::header_any: any.push_back(i); break;
        case Kind::uri: uri.push_back(i); break;
        case Kind::body: body.push_back(i); break;
        case Kind::rawbody: rawbody.push_back(i); break;
        case Kind::full: full.push_back(i); break;
        default: break;
        }
        if ((r.kind == Kind::header || r.kind == Kind::header_any) && r.negated)
            impl.negated.push_back(i);
    }
    for (const auto& [field, members] : by_field)
        impl.fields.push_back({field, compile(t, members, HS_MODE_BLOCK, "header " + field)});
    impl.any_header = compile(t, any, HS_MODE_BLOCK, "header *");
    impl.uri = compile(t, uri, HS_MODE_BLOCK, "uri");
    impl.body = compile(t, body, HS_MODE_STREAM, "body");
    impl.rawbody = compile(t, rawbody, HS_MODE_STREAM, "rawbody");
    impl.full = compile(t, full, HS_MODE_STREAM, "full");
}

bool grow_scratch(Ruleset::Impl& impl)
{
    bool ok = true;
    for (const auto& f : impl.fields)
        ok = ok && impl.scratch.grow(f.db.get());
    for (const Database* db : {&impl.any_header, &impl.uri, &impl.body, &impl.rawbody, &impl.full})
        if (*db)
            ok = ok && impl.scratch.grow(db->get());
    return ok;
}

} // namespace

std::string LoadError::to_string() const
{
    if (line > 0)
        return fmt::format("{}:{}: {}", file, line, message);
    if (!file.empty())
        return fmt::format("{}: {}", file, message);
    return message;
}

ScratchPool::~ScratchPool()
{
    for (hs_scratch_t* s : d_free)
        hs_free_scratch(s);
    hs_free_scratch(d_proto);
}

bool ScratchPool::grow(const hs_database_t* db)
{
    std::lock_guard lock(d_mutex);
    return hs_alloc_scratch(db, &d_proto) == HS_SUCCESS;
}

hs_scratch_t* ScratchPool::take()
{
    std::lock_guard lock(d_mutex);
    if (!d_free.empty()) {
        hs_scratch_t* s = d_free.back();
        d_free.pop_back();
        return s;
    }
    hs_scratch_t* s = nullptr;
    if (d_proto && hs_clone_scratch(d_proto, &s) != HS_SUCCESS)
        s = nullptr;
    return s;
}

void ScratchPool::give(hs_scratch_t* s)
{
    if (!s)
        return;
    std::lock_guard lock(d_mutex);
    if (d_free.size() < kMaxPooledScratch)
        d_free.push_back(s);
    else
        hs_free_scratch(s);
}

Ruleset::Ruleset() : d(std::make_unique<Impl>()) {}
Ruleset::~Ruleset() = default;

std::size_t Ruleset::size() const { return d->rules.size(); }

std::optional<double> Ruleset::score_of(std::string_view symbol) const
{
    const auto it = d->builtin_scores.find(symbol);
    if (it == d->builtin_scores.end())
        return std::nullopt;
    return it->second;
}

bool Ruleset::wants_rawbody() const { return d->rawbody != nullptr; }
bool Ruleset::wants_full() const { return d->full != nullptr; }

namespace {

std::vector<LoadError> build(RuleText& text, Ruleset::Impl& impl)
{
    if (!text.errors.empty()) // a dropped rule would make its readers' errors noise
        return text.take_errors();
    apply_scores(text, impl);
    const auto reads = link_metas(text);
    if (text.errors.empty())
        impl.meta_order = order_metas(text, reads);
    if (text.errors.empty())
        check_patterns(text);
    if (text.errors.empty())
        compile_all(text, impl);
    if (text.errors.empty() && !grow_scratch(impl))
        text.error("", 0, "cannot allocate Hyperscan scratch space");
    if (!text.errors.empty())
        return text.take_errors();
    for (const Rule& r : text.rules)
        impl.meta_stack = std::max(impl.meta_stack, r.meta.max_stack);
    impl.rules = std::move(text.rules);
    return {};
}

// Builds the set from what was read; catches what only memory exhaustion could throw.
Loaded finish_load(RuleText& text, std::shared_ptr<Ruleset> set, Ruleset::Impl& impl)
{
    Loaded out;
    out.errors = build(text, impl);
    if (out.errors.empty())
        out.ruleset = std::move(set);
    return out;
}

Loaded failed(const std::exception& e)
{
    Loaded out;
    out.errors.push_back({"", 0, fmt::format("cannot load rules: {}", e.what())});
    return out;
}

} // namespace

Loaded Ruleset::load(std::span<const std::string> paths)
{
    try {
        RuleText text;
        for (const auto& p : paths)
            read_path(p, text);
        std::shared_ptr<Ruleset> set(new Ruleset());
        return finish_load(text, set, *set->d);
    } catch (const std::exception& e) {
        return failed(e);
    }
}

Loaded Ruleset::parse(std::string_view text, std::string_view name)
{
    try {
        RuleText rules;
        parse_text(text, name, rules);
        std::shared_ptr<Ruleset> set(new Ruleset());
        return finish_load(rules, set, *set->d);
    } catch (const std::exception& e) {
        return failed(e);
    }
}

} // namespace rampart::rules
