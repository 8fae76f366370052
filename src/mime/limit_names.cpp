#include "mime/content.hpp"

namespace rampart::mime {

const char* to_string(Limit l)
{
    switch (l) {
    case Limit::depth: return "depth";
    case Limit::parts: return "parts";
    case Limit::part_headers: return "part_headers";
    case Limit::line_bytes: return "line_bytes";
    case Limit::part_scan_bytes: return "part_scan_bytes";
    case Limit::message_scan_bytes: return "message_scan_bytes";
    }
    return "?";
}

} // namespace rampart::mime
