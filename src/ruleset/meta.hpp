// NAME
//   meta.hpp - meta rule expressions: parsed to a postfix program, evaluated over rule hits
// SYNOPSIS
//   MetaProgram p;
//   std::string err = parse_meta("(A && B) || C + D >= 2", p);   // "" when well formed
//   // p.names is {"A", "B", "C", "D"}; the caller links each name to a rule index
//   link_meta(p, {3, 7, 1, 2});
//   std::int64_t v = eval_meta(p, hits, stack);                   // non-zero: the meta hit
// DESCRIPTION
//   Operands are rule names (1 when that rule hit, 0 when not) and
//   non-negative integers. Operators, loosest first, as in C: ||, &&,
//   == !=, < <= > >=, + -, and the prefix !; parentheses group. && and ||
//   and comparisons give 0 or 1. Evaluation needs no recursion: the program
//   is postfix, run over a caller-owned stack so that a scan reuses it.
// LIMITS
//   Parentheses and ! nest at most kMaxMetaDepth deep; an integer is at most
//   kMaxMetaInteger. The length of an expression is bounded by the rule
//   file's line limit, so no sum can overflow 64 bits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::rules {

inline constexpr std::size_t kMaxMetaDepth = 64;
inline constexpr std::int64_t kMaxMetaInteger = 1000000;

struct MetaOp {
    enum class Code : std::uint8_t { constant, rule, not_, and_, or_, add, sub, lt, le, gt, ge, eq, ne };
    Code code = Code::constant;
    // constant: the number; rule: an index into names until linked, then a rule index
    std::int64_t value = 0;
};

struct MetaProgram {
    std::vector<MetaOp> ops;        // postfix
    std::vector<std::string> names; // distinct operand names, in order of first use
    std::size_t max_stack = 0;      // the deepest the evaluation stack gets
};

// Parses `expr` into `out`; returns "" or a message saying what is wrong.
std::string parse_meta(std::string_view expr, MetaProgram& out);

// Points each rule operand at rule_index[its name's position in names].
void link_meta(MetaProgram& p, std::span<const std::size_t> rule_index);

// Runs a linked program: a rule operand is 1 when hits[index] is non-zero.
std::int64_t eval_meta(const MetaProgram& p, std::span<const char> hits, std::vector<std::int64_t>& stack);

} // namespace rampart::rules
