// NAME
//   syntax.hpp - the rule model, the rule file parser, and the compiled set behind Ruleset
// DESCRIPTION
//   parse_text() reads one rule file (rampart-rules(5)) into a RuleText
//   that accumulates over all files of a load: a later definition of a name
//   replaces the earlier one in place, top-level score lines are kept in
//   order to be applied once every file is read, and errors pile up with
//   their file:line. Nothing here throws.
//
//   Ruleset::Impl is the compiled result: the rules, the order in which
//   metas are evaluated, one Hyperscan database per input kind (one per
//   named header field), and a pool of scratch spaces shared by the scans
//   of all threads.
// LIMITS
//   Names at most kMaxNameBytes, header field names at most
//   kMaxFieldNameBytes, scores within +-kMaxScore, at most kMaxErrors
//   errors kept (the rest counted in one last error). kMaxRules,
//   kMaxLineBytes and kMaxFileBytes are in ruleset.hpp.
#pragma once

#include "ruleset/meta.hpp"
#include "ruleset/ruleset.hpp"

#include <hs/hs.h>

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::rules {

inline constexpr std::size_t kMaxNameBytes = 64;
inline constexpr std::size_t kMaxFieldNameBytes = 128;
inline constexpr double kMaxScore = 1000;
inline constexpr std::size_t kMaxErrors = 100;
inline constexpr std::size_t kMaxPooledScratch = 64;
inline constexpr std::string_view kBuiltinPrefix = "RAMPART_";

enum class Kind { none, header, header_any, body, rawbody, uri, full, meta };

std::string_view kind_name(Kind k);

struct Rule {
    std::string name;
    Kind kind = Kind::none;
    std::string field;    // header: the field name, lowercased
    bool negated = false; // header "!~": hits when no value of the field matches
    std::string pattern;  // as written between the delimiters
    unsigned flags = 0;   // HS_FLAG_CASELESS, _DOTALL, _MULTILINE from the letters
    MetaProgram meta;
    double score = 1.0;
    bool has_score = false;
    std::string describe;
    std::string file;
    int line = 0;      // the "rule NAME" line
    int kind_line = 0; // the line holding the pattern or the meta expression
};

struct ScoreLine {
    std::string name;
    double score = 0;
    std::string file;
    int line = 0;
};

struct RuleText {
    std::vector<Rule> rules;
    std::map<std::string, std::size_t, std::less<>> by_name; // index into rules
    std::vector<ScoreLine> scores;                           // top-level lines, in reading order
    std::vector<LoadError> errors;
    std::size_t errors_dropped = 0;

    void error(std::string_view file, int line, std::string message);
    // The errors, with a last one saying how many were not kept.
    std::vector<LoadError> take_errors();
};

// Reads one file's text into `into`; `file` names it in errors.
void parse_text(std::string_view text, std::string_view file, RuleText& into);

// [A-Z][A-Z0-9_]{0,63}; rule names must not start with RAMPART_ on top of that.
bool valid_symbol_name(std::string_view name);

struct DatabaseFree {
    void operator()(hs_database_t* db) const { hs_free_database(db); }
};
using Database = std::unique_ptr<hs_database_t, DatabaseFree>;

struct FieldDatabase {
    std::string field; // lowercased
    Database db;
};

// Scratch spaces for scans in any thread: one prototype sized for every
// database of the set, and clones of it handed out and taken back.
class ScratchPool {
  public:
    ScratchPool() = default;
    ScratchPool(const ScratchPool&) = delete;
    ScratchPool& operator=(const ScratchPool&) = delete;
    ~ScratchPool();
    bool grow(const hs_database_t* db); // false when Hyperscan cannot allocate
    hs_scratch_t* take();               // null when the set has no database or memory is short
    void give(hs_scratch_t* s);

  private:
    std::mutex d_mutex;
    hs_scratch_t* d_proto = nullptr;
    std::vector<hs_scratch_t*> d_free;
};

struct Ruleset::Impl {
    std::vector<Rule> rules;
    std::vector<std::size_t> meta_order; // every meta after the metas it reads
    std::vector<std::size_t> negated;    // header rules written with !~
    std::map<std::string, double, std::less<>> builtin_scores;
    std::vector<FieldDatabase> fields; // sorted by field
    Database any_header, uri, body, rawbody, full;
    std::size_t meta_stack = 0; // the deepest meta evaluation stack
    mutable ScratchPool scratch;
};

} // namespace rampart::rules
