// NAME
//   fuzz.hpp - what the libFuzzer targets share
// DESCRIPTION
//   CONTRACT() aborts, so that libFuzzer keeps the input, when a promise of
//   an interface (a ceiling, a chunking that must not matter) is broken:
//   such a break is as much a bug as a crash. Chunks cuts the input into
//   pieces whose sizes come from a few bytes of the input itself, so the
//   fuzzer also explores where the boundaries fall. quiet_logs() sends the
//   library's log lines nowhere.
#pragma once

#include "util/log.hpp"

#include <syslog.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#define CONTRACT(cond)                                                                                                 \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            std::fprintf(stderr, "contract broken at %s:%d: %s\n", __FILE__, __LINE__, #cond);                         \
            std::abort();                                                                                              \
        }                                                                                                              \
    } while (0)

namespace rampart::fuzz {

inline void quiet_logs()
{
    log::open("rampart-fuzz", LOG_USER, false);
    log::set_syslog(false);
}

// Piece sizes from `plan` bytes, used in turn: a byte b gives 1 + (b & 0x7F),
// times 64 when its high bit is set, so that pieces of 1 byte to 8 KiB occur.
class Chunks {
  public:
    Chunks(std::string_view plan, std::string_view data) : d_plan(plan), d_data(data) {}

    // The next piece; empty when the data is used up.
    std::string_view next()
    {
        std::size_t n = d_data.size();
        if (!d_plan.empty()) {
            const auto b = static_cast<unsigned char>(d_plan[d_turn++ % d_plan.size()]);
            n = (1 + (b & 0x7Fu)) * ((b & 0x80u) ? 64u : 1u);
        }
        const std::string_view piece = d_data.substr(0, n);
        d_data.remove_prefix(piece.size());
        return piece;
    }

  private:
    std::string_view d_plan;
    std::string_view d_data;
    std::size_t d_turn = 0;
};

// Splits the first `n` bytes off `in` (fewer when it is shorter).
inline std::string_view take(std::string_view& in, std::size_t n)
{
    const std::string_view head = in.substr(0, n);
    in.remove_prefix(head.size());
    return head;
}

inline std::string_view as_view(const std::uint8_t* data, std::size_t size)
{
    return {reinterpret_cast<const char*>(data), size};
}

} // namespace rampart::fuzz
