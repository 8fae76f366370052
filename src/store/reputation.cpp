#include "store/reputation.hpp"

#include "store/redis.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

namespace rampart::reputation {
namespace {

struct Epoch {
    std::int64_t length_s; // L
    std::int64_t index;    // E
    double age_h;          // (at - E * L) / h: half-lives since the epoch began
};

Epoch epoch_of(Time at, std::int64_t half_life_s)
{
    const double h = static_cast<double>(half_life_s > 0 ? half_life_s : 1);
    const std::int64_t length = kEpochHalfLives * static_cast<std::int64_t>(h);
    // Whole seconds: verdicts of the same second read back as whole numbers.
    const auto t = static_cast<double>(std::chrono::floor<std::chrono::seconds>(at).time_since_epoch().count());
    const auto index = static_cast<std::int64_t>(std::floor(t / static_cast<double>(length)));
    return {length, index, (t - static_cast<double>(index * length)) / h};
}

std::string field(char kind, const Epoch& e, std::int64_t index)
{
    return fmt::format("{}:{}:{}", kind, e.length_s, index);
}

double number(const Reply& r)
{
    if (r.type != Reply::Type::string)
        return 0;
    double v = 0;
    const auto [end, ec] = std::from_chars(r.str.data(), r.str.data() + r.str.size(), v);
    return ec == std::errc() && end == r.str.data() + r.str.size() && std::isfinite(v) && v > 0 ? v : 0;
}

} // namespace

void read(Batch& batch, const std::string& key, Time at, std::int64_t half_life_s)
{
    const Epoch e = epoch_of(at, half_life_s);
    batch.add({"HMGET", key, field('c', e, e.index), field('s', e, e.index), field('c', e, e.index - 1),
               field('s', e, e.index - 1)});
}

Counts counts(const Reply& reply, Time at, std::int64_t half_life_s)
{
    if (reply.type != Reply::Type::array || reply.elements.size() != 4)
        return {};
    const Epoch e = epoch_of(at, half_life_s);
    const double now = std::exp2(-e.age_h), before = std::exp2(-e.age_h - kEpochHalfLives);
    const auto& v = reply.elements;
    return {number(v[0]) * now + number(v[2]) * before, number(v[1]) * now + number(v[3]) * before};
}

void add(Batch& batch, const std::string& key, bool spam, Time at, std::int64_t half_life_s, std::int64_t ttl_s,
         double n)
{
    const Epoch e = epoch_of(at, half_life_s);
    batch.add(
        {"HINCRBYFLOAT", key, field(spam ? 's' : 'c', e, e.index), fmt::format("{:.17g}", n * std::exp2(e.age_h))});
    batch.add({"HDEL", key, field('c', e, e.index - 2), field('s', e, e.index - 2)});
    batch.add({"EXPIRE", key, std::to_string(ttl_s)});
}

} // namespace rampart::reputation
