#include "engine/facts.hpp"

#include "util/text.hpp"

namespace rampart {

const std::string* find_header(const Transaction& tx, std::string_view name)
{
    for (const auto& [n, v] : tx.headers)
        if (iequals(n, name))
            return &v;
    return nullptr;
}

std::size_t count_headers(const Transaction& tx, std::string_view name)
{
    std::size_t n = 0;
    for (const auto& h : tx.headers)
        n += iequals(h.first, name);
    return n;
}

const mime::Content* content_of(const Transaction& tx) { return tx.content; }

} // namespace rampart
