// NAME
//   reply.hpp - a Redis reply, copied out of hiredis
// DESCRIPTION
//   Replies are small (integers, short arrays) and outlive the hiredis
//   object, so they are copied into this plain value type.
#pragma once

#include <string>
#include <vector>

namespace rampart {

struct Reply {
    enum class Type { nil, integer, string, status, array, error };
    Type type = Type::nil;
    long long integer = 0;
    std::string str;
    std::vector<Reply> elements;

    bool is_error() const { return type == Type::error; }
    bool is_nil() const { return type == Type::nil; }
    // The integer value of an integer reply or a numeric string; `fallback` otherwise.
    long long as_integer(long long fallback = 0) const;
};

} // namespace rampart
