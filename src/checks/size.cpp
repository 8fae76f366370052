// NAME
//   size.cpp - refuse a message announced as too big, before its data is sent
// SUMMARY
//   A client that offers SIZE=N at MAIL FROM (RFC 1870) over
//   limits.max_message_size gets reply.too_big (552 5.3.4) at once: neither
//   the client nor the MTA spends the bandwidth of a body that would be
//   refused anyway. A client that lies about the size is still bound by the
//   MTA's own limit and by rampart's scan limits.
// PHASES
//   mail. No Redis.
// SYMBOLS
//   RAMPART_TOO_BIG (0; the message is refused)
// SETTINGS
//   limits.max_message_size, reply.too_big
#include "checks/check.hpp"
#include "config/config.hpp"

#include <fmt/format.h>

namespace rampart {
namespace {

class SizeCheck final : public Check {
  public:
    std::string_view name() const override { return "size"; }

    bool runs_in(Phase p, const Config& cfg) const override
    {
        return p == Phase::mail && cfg.limits_max_message_size > 0;
    }

    void decide(Phase, Context& ctx, std::span<const Reply>) const override
    {
        Transaction& tx = ctx.tx;
        const auto max = static_cast<std::uint64_t>(ctx.cfg.limits_max_message_size);
        if (!tx.declared_size || *tx.declared_size <= max)
            return;
        tx.card.add("RAMPART_TOO_BIG", 0, fmt::format("SIZE={} > {}", *tx.declared_size, max));
        Answer a = Answer::reject(ctx.cfg.reply_too_big);
        a.code = "552";
        tx.answer = a;
    }
};

} // namespace

const Check& size_check()
{
    static const SizeCheck check;
    return check;
}

} // namespace rampart
