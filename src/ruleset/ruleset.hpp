// NAME
//   ruleset.hpp - the rule language, compiled to one multi-pattern database per kind of input
// SYNOPSIS
//   auto loaded = Ruleset::load({"/usr/share/rampart/rules", "/etc/rampart/local.rules"});
//   if (!loaded.errors.empty()) ...                  // each names file:line
//   RuleScan scan(loaded.ruleset);                   // one per message
//   scan.header("Subject", "decoded value");
//   scan.rawbody(chunk); scan.full(bytes);           // streamed
//   scan.body(text); scan.uri(url);
//   scan.finish(card);                               // adds the rules that hit, metas included
// DESCRIPTION
//   The language is rampart-rules(5). Rules of each kind (header per named
//   field, header on any field, body, rawbody, uri, full) are compiled
//   together with Hyperscan's API (vectorscan or Hyperscan) into one
//   database, so a message costs one scan per kind of input however many
//   rules there are. rawbody and full are scanned in streaming mode and
//   never held. Meta rules combine the others' results with &&, ||, !,
//   comparisons and sums, evaluated at finish().
//
//   Files and directories are read in the order given (a directory: its
//   *.rules files in name order). A later definition of a name replaces an
//   earlier one, so local files override shipped ones; `score NAME VALUE`
//   re-weighs any rule or built-in symbol, 0 silences it.
// LIMITS
//   kMaxRules rules, kMaxLineBytes per line, kMaxFileBytes per file; a
//   pattern the compiler refuses is an error at its file:line.
#pragma once

#include "engine/scorecard.hpp"

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::rules {

inline constexpr std::size_t kMaxRules = 20000;
inline constexpr std::size_t kMaxLineBytes = 8192;
inline constexpr std::size_t kMaxFileBytes = 16 * 1024 * 1024;

struct LoadError {
    std::string file;
    int line = 0; // 0 when no line applies
    std::string message;
    std::string to_string() const; // "FILE:LINE: MESSAGE"
};

class Ruleset;

struct Loaded {
    std::shared_ptr<const Ruleset> ruleset; // null when errors is not empty
    std::vector<LoadError> errors;
};

class Ruleset {
  public:
    // Reads and compiles the files and directories in `paths`.
    static Loaded load(std::span<const std::string> paths);
    // Compiles rule text (tests); `name` stands for the file in errors.
    static Loaded parse(std::string_view text, std::string_view name);

    ~Ruleset();
    std::size_t size() const; // rules, metas included
    // A `score` line's weight for a symbol that is not a rule of the set
    // (a built-in RAMPART_ symbol); nullopt when none was given.
    std::optional<double> score_of(std::string_view symbol) const;
    // True when some rule reads this kind of input (so that work can be skipped).
    bool wants_rawbody() const;
    bool wants_full() const;

    struct Impl;
    const Impl& impl() const { return *d; }

  private:
    Ruleset();
    std::unique_ptr<Impl> d;
};

// One message's scan. Not thread-safe; one per message.
class RuleScan {
  public:
    explicit RuleScan(std::shared_ptr<const Ruleset> rules);
    ~RuleScan();
    RuleScan(const RuleScan&) = delete;
    RuleScan& operator=(const RuleScan&) = delete;

    // True when some rule reads this header field, so that its decoding
    // can be skipped when none does.
    bool wants_header(std::string_view name) const;
    // One header field of the message, its value decoded to UTF-8.
    void header(std::string_view name, std::string_view value);
    // The body as it arrives, undecoded (streamed).
    void rawbody(std::string_view chunk);
    // The message as it arrives: header fields as "Name: value\r\n", an empty
    // line, then the body (streamed).
    void full(std::string_view bytes);
    // Decoded visible text of the message.
    void body(std::string_view text);
    // One URL as written in the message.
    void uri(std::string_view url);
    // Closes the streams, evaluates metas, adds each rule that hit (with a
    // non-zero score) to `card` with its description as detail.
    void finish(Scorecard& card);

  private:
    struct State;
    std::unique_ptr<State> d;
};

} // namespace rampart::rules
