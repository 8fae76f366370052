// NAME
//   content.hpp - what the content check shares with others
// DESCRIPTION
//   content_limits() turns the limits.* settings into the MIME parser's
//   Limits, for the content check and for whatever else parses a message
//   as it does (rampartctl learn).
#pragma once

#include "config/config.hpp"
#include "mime/content.hpp"

namespace rampart {

mime::Limits content_limits(const Config& cfg);

} // namespace rampart
