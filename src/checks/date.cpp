// NAME
//   date.cpp - the Date field: present, readable, and near the arrival time
// SUMMARY
//   Clients stamp every message with its origination date (RFC 5322 3.3).
//   Bulk tools leave it out, write it in formats no client uses, get the
//   weekday wrong, or date the message years back or ahead so that it sorts
//   first in a mailbox. The check reads the first Date field:
//
//     [weekday ","] day month year hour ":" minute [":" second] zone
//
//   with the obsolete forms real clients still send: two- and three-digit
//   years (RFC 5322 4.3: 00-49 are 2000-2049, 50-999 add 1900), named zones
//   (UT, GMT, the US zones, and UTC), single-letter military zones (read as
//   +0000, as RFC 5322 advises), no seconds, no weekday, comments anywhere.
//   Parsing is by hand, so no locale changes what is accepted, and the date
//   becomes seconds since the epoch by civil-calendar arithmetic.
//
//   A date ahead of the message's arrival (Transaction::arrival) by more
//   than content.date_future_s, or behind it by more than
//   content.date_past_s, is out of range. The weekday is compared with the
//   date as written, before its zone is applied.
// PHASES
//   eom. No Redis.
// SYMBOLS
//   RAMPART_DATE_MISSING (1.0)        no Date field
//   RAMPART_DATE_INVALID (1.5)        not a date-time, even in the obsolete syntax
//   RAMPART_DATE_WRONG_WEEKDAY (1.0)  the weekday is not that of the date
//   RAMPART_DATE_FUTURE (1.5)         more than content.date_future_s after arrival
//   RAMPART_DATE_PAST (1.0)           more than content.date_past_s before arrival
// SETTINGS
//   content.enabled, content.date_future_s, content.date_past_s
// LIMITS
//   A value longer than kMaxDateBytes (comments included) is not valid; at
//   most kMaxDateTokens tokens are read.
#include "checks/date.hpp"
#include "checks/address_field.hpp"
#include "checks/check.hpp"
#include "config/config.hpp"
#include "util/text.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rampart {
namespace {

constexpr std::size_t kMaxDateBytes = 256;
constexpr std::size_t kMaxDateTokens = 16;
constexpr std::size_t kMaxCommentDepth = 8;
constexpr std::size_t kDetailBytes = 80;

constexpr std::array<std::string_view, 7> kWeekdays = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
constexpr std::array<std::string_view, 12> kMonths = {"jan", "feb", "mar", "apr", "may", "jun",
                                                      "jul", "aug", "sep", "oct", "nov", "dec"};

struct NamedZone {
    std::string_view name;
    int minutes;
};

constexpr NamedZone kZones[] = {{"ut", 0},        {"gmt", 0},       {"utc", 0},       {"z", 0},
                                {"est", -5 * 60}, {"edt", -4 * 60}, {"cst", -6 * 60}, {"cdt", -5 * 60},
                                {"mst", -7 * 60}, {"mdt", -6 * 60}, {"pst", -8 * 60}, {"pdt", -7 * 60}};

struct DateTime {
    std::int64_t year = 0;
    int month = 0, day = 0, hour = 0, minute = 0, second = 0;
    int zone_minutes = 0;
    int weekday = -1; // as written, 0 = Sunday; -1 when absent
};

enum class Kind { word, number, punct };

struct Token {
    Kind kind;
    std::string_view text;
};

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The value without its comments; nullopt when one is unbalanced.
std::optional<std::string> strip_comments(std::string_view v)
{
    std::string out;
    std::size_t depth = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
        const char c = v[i];
        if (depth > 0 && c == '\\') {
            ++i;
        } else if (c == '(') {
            if (++depth > kMaxCommentDepth)
                return std::nullopt;
            out.push_back(' ');
        } else if (c == ')') {
            if (depth-- == 0)
                return std::nullopt;
        } else if (depth == 0) {
            out.push_back(c);
        }
    }
    if (depth != 0)
        return std::nullopt;
    return out;
}

std::optional<std::vector<Token>> tokens_of(std::string_view s)
{
    std::vector<Token> out;
    std::size_t i = 0;
    while (i < s.size()) {
        const char c = s[i];
        std::size_t j = i + 1;
        Kind kind = Kind::punct;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            ++i;
            continue;
        }
        if (is_alpha(c)) {
            kind = Kind::word;
            while (j < s.size() && is_alpha(s[j]))
                ++j;
        } else if (is_digit(c)) {
            kind = Kind::number;
            while (j < s.size() && is_digit(s[j]))
                ++j;
        } else if (c != ',' && c != ':' && c != '+' && c != '-') {
            return std::nullopt;
        }
        if (out.size() == kMaxDateTokens)
            return std::nullopt;
        out.push_back({kind, s.substr(i, j - i)});
        i = j;
    }
    return out;
}

int number(std::string_view digits)
{
    int v = 0;
    for (const char c : digits)
        v = v * 10 + (c - '0');
    return v;
}

int index_of(std::string_view word, std::span<const std::string_view> names)
{
    const std::string w = lowercase(word);
    for (std::size_t i = 0; i < names.size(); ++i)
        if (w == names[i])
            return static_cast<int>(i);
    return -1;
}

std::optional<int> zone_of(std::span<const Token> t)
{
    if (t.size() == 2 && t[0].kind == Kind::punct && (t[0].text == "+" || t[0].text == "-") &&
        t[1].kind == Kind::number && t[1].text.size() == 4) {
        const int hh = number(t[1].text.substr(0, 2)), mm = number(t[1].text.substr(2));
        if (hh > 23 || mm > 59)
            return std::nullopt;
        return (t[0].text == "-" ? -1 : 1) * (hh * 60 + mm);
    }
    if (t.size() != 1 || t[0].kind != Kind::word)
        return std::nullopt;
    const std::string z = lowercase(t[0].text);
    for (const NamedZone& n : kZones)
        if (z == n.name)
            return n.minutes;
    if (z.size() == 1 && z != "j") // military zones: meaning unknown, read as +0000
        return 0;
    return std::nullopt;
}

bool is_leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(std::int64_t y, int m)
{
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date (month 1-12).
std::int64_t days_from_civil(std::int64_t y, int m, int d)
{
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const std::int64_t yoe = y - era * 400;
    const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int weekday_of(std::int64_t days) { return static_cast<int>(((days % 7) + 11) % 7); } // 1970-01-01 was a Thursday

bool number_of_width(const Token& t, std::size_t lo, std::size_t hi)
{
    return t.kind == Kind::number && t.text.size() >= lo && t.text.size() <= hi;
}

std::optional<DateTime> read_date(std::string_view value)
{
    if (value.size() > kMaxDateBytes)
        return std::nullopt;
    const auto text = strip_comments(value);
    if (!text)
        return std::nullopt;
    const auto toks = tokens_of(*text);
    if (!toks)
        return std::nullopt;
    std::span<const Token> t = *toks;
    DateTime d;
    if (t.size() >= 2 && t[0].kind == Kind::word && t[1].text == ",") {
        d.weekday = index_of(t[0].text, kWeekdays);
        if (d.weekday < 0)
            return std::nullopt;
        t = t.subspan(2);
    }
    // day month year hour ":" minute
    if (t.size() < 6 || !number_of_width(t[0], 1, 2) || t[1].kind != Kind::word || !number_of_width(t[2], 2, 4) ||
        !number_of_width(t[3], 1, 2) || t[4].text != ":" || !number_of_width(t[5], 2, 2))
        return std::nullopt;
    d.day = number(t[0].text);
    d.month = index_of(t[1].text, kMonths) + 1;
    d.year = number(t[2].text);
    if (t[2].text.size() == 2)
        d.year += d.year < 50 ? 2000 : 1900;
    else if (t[2].text.size() == 3)
        d.year += 1900;
    d.hour = number(t[3].text);
    d.minute = number(t[5].text);
    t = t.subspan(6);
    if (t.size() >= 2 && t[0].text == ":") {
        if (!number_of_width(t[1], 2, 2))
            return std::nullopt;
        d.second = number(t[1].text);
        t = t.subspan(2);
    }
    const auto zone = zone_of(t);
    if (!zone || d.month == 0 || d.year < 1900 || d.day < 1 || d.day > days_in_month(d.year, d.month) || d.hour > 23 ||
        d.minute > 59 || d.second > 60)
        return std::nullopt;
    d.zone_minutes = *zone;
    return d;
}

// Seconds since the epoch of a date read, its zone applied.
std::int64_t epoch_seconds(const DateTime& d)
{
    return days_from_civil(d.year, d.month, d.day) * 86400 + d.hour * 3600 + d.minute * 60 + d.second -
           std::int64_t{d.zone_minutes} * 60;
}

class DateCheck final : public ContentHeuristic {
  public:
    std::string_view name() const override { return "date"; }

    void decide(Phase, Context& ctx, std::span<const Reply>) const override
    {
        Transaction& tx = ctx.tx;
        const std::string* value = find_header(tx, "Date");
        if (value == nullptr) {
            if (kept_all_headers(tx))
                tx.card.add("RAMPART_DATE_MISSING", 1.0, "no Date field");
            return;
        }
        const auto d = read_date(*value);
        const std::string detail = printable(trim(*value), kDetailBytes);
        if (!d) {
            tx.card.add("RAMPART_DATE_INVALID", 1.5, detail);
            return;
        }
        if (d->weekday >= 0 && d->weekday != weekday_of(days_from_civil(d->year, d->month, d->day)))
            tx.card.add("RAMPART_DATE_WRONG_WEEKDAY", 1.0, detail);
        const std::int64_t when = epoch_seconds(*d);
        const std::int64_t arrival =
            std::chrono::duration_cast<std::chrono::seconds>(tx.arrival.time_since_epoch()).count();
        if (when - arrival > ctx.cfg.content_date_future_s)
            tx.card.add("RAMPART_DATE_FUTURE", 1.5, detail);
        else if (arrival - when > ctx.cfg.content_date_past_s)
            tx.card.add("RAMPART_DATE_PAST", 1.0, detail);
    }
};

} // namespace

std::optional<std::chrono::system_clock::time_point> parse_date(std::string_view text)
{
    const auto d = read_date(text);
    if (!d)
        return std::nullopt;
    return std::chrono::system_clock::time_point(std::chrono::seconds(epoch_seconds(*d)));
}

const Check& date_check()
{
    static const DateCheck check;
    return check;
}

} // namespace rampart
