// NAME
//   meta.cpp - meta expression parser (recursive descent to postfix) and evaluator
// DESCRIPTION
//   See meta.hpp. The parser tracks the evaluation stack depth while it emits
//   so that eval_meta() can size its stack once.
#include "ruleset/meta.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace rampart::rules {
namespace {

using Code = MetaOp::Code;

bool is_name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

class Parser {
  public:
    Parser(std::string_view text, MetaProgram& out) : d_text(text), d_out(out) {}

    std::string run()
    {
        skip_space();
        if (d_pos == d_text.size())
            return "empty meta expression";
        parse_or();
        if (d_error.empty() && d_pos < d_text.size())
            fail(fmt::format("unexpected `{}`", d_text.substr(d_pos, 1)));
        return d_error;
    }

  private:
    void fail(std::string message)
    {
        if (d_error.empty())
            d_error = fmt::format("meta expression, column {}: {}", d_pos + 1, message);
    }

    void skip_space()
    {
        while (d_pos < d_text.size() && (d_text[d_pos] == ' ' || d_text[d_pos] == '\t'))
            ++d_pos;
    }

    // Consumes `op` when it comes next (and is not the start of a longer operator).
    bool take(std::string_view op)
    {
        skip_space();
        if (d_text.substr(d_pos, op.size()) != op)
            return false;
        if (op.size() == 1 && (op == "<" || op == ">" || op == "!") && d_text.substr(d_pos + 1, 1) == "=")
            return false;
        d_pos += op.size();
        return true;
    }

    void emit(Code code, std::int64_t value = 0)
    {
        d_out.ops.push_back({code, value});
        if (code == Code::constant || code == Code::rule)
            d_out.max_stack = std::max(d_out.max_stack, ++d_depth_now);
        else if (code != Code::not_)
            --d_depth_now; // a binary operator takes two and leaves one
    }

    void parse_or()
    {
        parse_and();
        while (d_error.empty() && take("||")) {
            parse_and();
            emit(Code::or_);
        }
    }

    void parse_and()
    {
        parse_equality();
        while (d_error.empty() && take("&&")) {
            parse_equality();
            emit(Code::and_);
        }
    }

    void parse_equality()
    {
        parse_relation();
        while (d_error.empty()) {
            Code c;
            if (take("=="))
                c = Code::eq;
            else if (take("!="))
                c = Code::ne;
            else
                return;
            parse_relation();
            emit(c);
        }
    }

    void parse_relation()
    {
        parse_sum();
        while (d_error.empty()) {
            Code c;
            if (take("<="))
                c = Code::le;
            else if (take(">="))
                c = Code::ge;
            else if (take("<"))
                c = Code::lt;
            else if (take(">"))
                c = Code::gt;
            else
                return;
            parse_sum();
            emit(c);
        }
    }

    void parse_sum()
    {
        parse_unary();
        while (d_error.empty()) {
            Code c;
            if (take("+"))
                c = Code::add;
            else if (take("-"))
                c = Code::sub;
            else
                return;
            parse_unary();
            emit(c);
        }
    }

    void parse_unary()
    {
        if (take("!")) {
            if (++d_nesting > kMaxMetaDepth)
                return fail(fmt::format("nested more than {} deep", kMaxMetaDepth));
            parse_unary();
            --d_nesting;
            emit(Code::not_);
            return;
        }
        parse_primary();
    }

    void parse_primary()
    {
        skip_space();
        if (d_pos == d_text.size())
            return fail("expression ends where an operand should be");
        const char c = d_text[d_pos];
        if (c == '(') {
            ++d_pos;
            if (++d_nesting > kMaxMetaDepth)
                return fail(fmt::format("nested more than {} deep", kMaxMetaDepth));
            parse_or();
            --d_nesting;
            if (d_error.empty() && !take(")"))
                fail("missing `)`");
            return;
        }
        if (is_digit(c))
            return parse_integer();
        if (is_name_start(c))
            return parse_name();
        fail(fmt::format("unexpected `{}` where an operand should be", d_text.substr(d_pos, 1)));
    }

    void parse_integer()
    {
        std::int64_t v = 0;
        while (d_pos < d_text.size() && is_digit(d_text[d_pos])) {
            v = v * 10 + (d_text[d_pos++] - '0');
            if (v > kMaxMetaInteger)
                return fail(fmt::format("integer larger than {}", kMaxMetaInteger));
        }
        if (d_pos < d_text.size() && is_name_char(d_text[d_pos]))
            return fail("a name cannot start with a digit");
        emit(Code::constant, v);
    }

    void parse_name()
    {
        const std::size_t from = d_pos;
        while (d_pos < d_text.size() && is_name_char(d_text[d_pos]))
            ++d_pos;
        const std::string_view name = d_text.substr(from, d_pos - from);
        auto& names = d_out.names;
        auto it = std::find(names.begin(), names.end(), name);
        if (it == names.end())
            it = names.insert(names.end(), std::string(name));
        emit(Code::rule, it - names.begin());
    }

    std::string_view d_text;
    MetaProgram& d_out;
    std::size_t d_pos = 0;
    std::size_t d_nesting = 0;
    std::size_t d_depth_now = 0;
    std::string d_error;
};

} // namespace

std::string parse_meta(std::string_view expr, MetaProgram& out)
{
    out = {};
    std::string err = Parser(expr, out).run();
    if (!err.empty())
        out = {};
    return err;
}

void link_meta(MetaProgram& p, std::span<const std::size_t> rule_index)
{
    for (auto& op : p.ops)
        if (op.code == Code::rule)
            op.value = static_cast<std::int64_t>(rule_index[static_cast<std::size_t>(op.value)]);
}

std::int64_t eval_meta(const MetaProgram& p, std::span<const char> hits, std::vector<std::int64_t>& stack)
{
    stack.clear();
    for (const auto& op : p.ops) {
        if (op.code == Code::constant) {
            stack.push_back(op.value);
            continue;
        }
        if (op.code == Code::rule) {
            const auto i = static_cast<std::size_t>(op.value);
            stack.push_back(i < hits.size() && hits[i] ? 1 : 0);
            continue;
        }
        if (op.code == Code::not_) {
            stack.back() = stack.back() == 0 ? 1 : 0;
            continue;
        }
        const std::int64_t b = stack.back();
        stack.pop_back();
        std::int64_t& a = stack.back();
        switch (op.code) {
        case Code::and_: a = (a != 0 && b != 0) ? 1 : 0; break;
        case Code::or_: a = (a != 0 || b != 0) ? 1 : 0; break;
        case Code::add: a = a + b; break;
        case Code::sub: a = a - b; break;
        case Code::lt: a = a < b; break;
        case Code::le: a = a <= b; break;
        case Code::gt: a = a > b; break;
        case Code::ge: a = a >= b; break;
        case Code::eq: a = a == b; break;
        case Code::ne: a = a != b; break;
        default: break;
        }
    }
    return stack.empty() ? 0 : stack.back();
}

} // namespace rampart::rules
