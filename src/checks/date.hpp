// NAME
//   date.hpp - RFC 5322 dates as mail clients write them
// DESCRIPTION
//   parse_date() reads a date-time of a Date or Received field, accepting
//   the obsolete forms real clients send (two-digit years, named zones,
//   missing seconds or weekday, comments). nullopt when it is no date.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace rampart {

std::optional<std::chrono::system_clock::time_point> parse_date(std::string_view text);

} // namespace rampart
