// NAME
//   gtube.cpp - the GTUBE anti-spam test string
// SUMMARY
//   A body containing the Generic Test for Unsolicited Bulk Email string
//   (XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X)
//   is confirmed spam, so that an admin can prove the whole path works. The
//   body is scanned as it streams, with a carry-over between chunks so that
//   the string is found across a chunk boundary; once found, the rest of the
//   body is skipped.
// PHASES
//   body. No Redis.
// SYMBOLS
//   RAMPART_GTUBE (1000, category confirmed spam)
// SETTINGS
//   gtube.enabled
#include "checks/check.hpp"
#include "config/config.hpp"

#include <algorithm>

namespace rampart {
namespace {

constexpr std::string_view kGtube = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

class GtubeCheck final : public Check {
  public:
    std::string_view name() const override { return "gtube"; }

    bool runs_in(Phase p, const Config& cfg) const override { return cfg.gtube_enabled && p == Phase::body; }

    void decide(Phase, Context& ctx, std::span<const Reply>) const override
    {
        Transaction& tx = ctx.tx;
        if (tx.card.has("RAMPART_GTUBE"))
            return;
        // Search the tail of the previous chunk joined to the head of this one,
        // then this chunk alone.
        std::string seam = tx.body_tail;
        seam.append(tx.chunk.substr(0, std::min(tx.chunk.size(), kGtube.size() - 1)));
        const bool found = seam.find(kGtube) != std::string::npos || tx.chunk.find(kGtube) != std::string_view::npos;
        if (found) {
            tx.card.add("RAMPART_GTUBE", 1000, "GTUBE test string");
            tx.forced = Category::confirmed_spam;
            tx.body_done = true;
            return;
        }
        const std::size_t keep = kGtube.size() - 1;
        if (tx.chunk.size() >= keep)
            tx.body_tail.assign(tx.chunk.substr(tx.chunk.size() - keep));
        else {
            tx.body_tail.append(tx.chunk);
            if (tx.body_tail.size() > keep)
                tx.body_tail.erase(0, tx.body_tail.size() - keep);
        }
    }
};

} // namespace

const Check& gtube_check()
{
    static const GtubeCheck check;
    return check;
}

} // namespace rampart
