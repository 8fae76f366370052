// NAME
//   rdns.cpp - zombie heuristics: the client's reverse DNS
// SUMMARY
//   Botnet zombies send from home connections whose addresses have no
//   reverse DNS, or a name the provider generated from the address. At
//   connect the client's PTR records are looked up; the names found (at
//   most kMaxPtrNames) are looked up in turn (A or AAAA), and the name is
//   forward-confirmed when one of them leads back to the client's address.
//   A name whose host labels (all but the last two) hold at least three of
//   the address's octets, or its eight hex digits, or a dynamic-pool word
//   (dsl, dyn, pool, cable, dhcp, ppp, dial, ...) beside a number, looks
//   dynamic. Clients in network.internal (internal and special networks,
//   which have no public reverse DNS) are not looked up; allow-listed
//   ones, those the DNS allow lists vouch for (dnsbl.allow_score) and
//   authenticated senders are not judged. Which findings refuse the client at MAIL FROM,
//   before any data, is zombie.reject; the others only score.
// PHASES
//   connect (the lookups, two rounds), mail (refusal), eom (symbols).
// DNS
//   PTR of REVERSED.in-addr.arpa / ip6.arpa; A or AAAA of each PTR name.
// SYMBOLS
//   RAMPART_RDNS_NONE (1.5), RAMPART_RDNS_MISMATCH (1.0),
//   RAMPART_RDNS_DYNAMIC (1.5), RAMPART_RDNS_TEMPERROR (0)
// SETTINGS
//   zombie.enabled, zombie.reject, network.internal, dns.on_temperror,
//   reply.rdns, reply.dynamic, reply.dns_failure
#include "checks/check.hpp"
#include "config/config.hpp"
#include "engine/runtime.hpp"
#include "util/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace rampart {
namespace {

constexpr std::size_t kMaxPtrNames = 3;
constexpr double kNoneScore = 1.5, kMismatchScore = 1.0, kDynamicScore = 1.5;

// Words that providers put in the names of their customers' dynamic addresses.
constexpr std::array<std::string_view, 28> kDynamicWords = {
    "adsl",   "bb",     "broadband", "cable", "client", "cpe",     "cust",  "customer", "dhcp", "dial",
    "dialin", "dialup", "dip",       "dsl",   "dyn",    "dynamic", "dynip", "home",     "pool", "ppp",
    "pppoe",  "res",    "resnet",    "sdsl",  "user",   "users",   "vdsl",  "xdsl"};

bool has(const std::vector<std::string>& list, std::string_view v)
{
    return std::find(list.begin(), list.end(), v) != list.end();
}

class RdnsCheck final : public Check {
  public:
    std::string_view name() const override { return "zombie"; }
    bool runs_in(Phase p, const Config& cfg) const override
    {
        return cfg.zombie_enabled && (p == Phase::connect || p == Phase::mail || p == Phase::eom);
    }
    bool answers_in(Phase p, const Runtime& rt) const override
    {
        const Config& cfg = *rt.config;
        return p == Phase::mail && runs_in(p, cfg) &&
               (!cfg.zombie_reject.empty() || cfg.dns_on_failure == FailurePolicy::tempfail);
    }
    bool uses_dns(Phase p, const Config& cfg) const override { return p == Phase::connect && runs_in(p, cfg); }

    void ask(Phase, Context& ctx, std::vector<dns::Question>& questions) const override
    {
        if (!ctx.client.ip || ctx.client.allowed || ctx.rt.is_internal(*ctx.client.ip))
            return;
        questions.push_back({dns::reverse_name(*ctx.client.ip), dns::Type::ptr});
    }

    void conclude(Phase, Context& ctx, int round, std::span<const dns::Answer> answers,
                  std::vector<dns::Question>& more) const override
    {
        ClientDns& facts = ctx.client.dns;
        const IpAddress& ip = *ctx.client.ip;
        if (round == 1) {
            const auto& a = answers.front();
            if (a.temporary()) {
                facts.rdns = ClientDns::Rdns::temperror;
                return;
            }
            if (!a.found()) {
                facts.rdns = ClientDns::Rdns::none;
                return;
            }
            facts.rdns_name = a.records.front().data;
            for (std::size_t i = 0; i < a.records.size() && i < kMaxPtrNames; ++i)
                more.push_back({a.records[i].data, ip.is_v4() ? dns::Type::a : dns::Type::aaaa});
            facts.rdns = ClientDns::Rdns::mismatch; // until a name leads back
            facts.rdns_dynamic = looks_dynamic(facts.rdns_name, ip);
            return;
        }
        bool temporary = true;
        for (const auto& a : answers) {
            temporary &= a.temporary();
            for (const auto& r : a.records)
                if (IpAddress::parse(r.data) == ip) {
                    facts.rdns = ClientDns::Rdns::confirmed;
                    return;
                }
        }
        if (temporary)
            facts.rdns = ClientDns::Rdns::temperror;
    }

    void decide(Phase p, Context& ctx, std::span<const Reply>) const override
    {
        const Config& cfg = ctx.cfg;
        const ClientDns& facts = ctx.client.dns;
        if (!ctx.tx.auth_user.empty() || ctx.client.allowed || ctx.client.dns_allowed)
            return;
        using R = ClientDns::Rdns;
        if (p == Phase::mail) {
            if ((facts.rdns == R::none && has(cfg.zombie_reject, "no_ptr")) ||
                (facts.rdns == R::mismatch && has(cfg.zombie_reject, "mismatch")))
                ctx.tx.answer = Answer::reject(cfg.reply_rdns);
            else if (facts.rdns_dynamic && has(cfg.zombie_reject, "dynamic"))
                ctx.tx.answer = Answer::reject(cfg.reply_dynamic);
            else if (facts.rdns == R::temperror && cfg.dns_on_failure == FailurePolicy::tempfail &&
                     !ctx.tx.answer.settles())
                ctx.tx.answer = Answer::tempfail(cfg.reply_dns_failure);
            if (ctx.tx.answer.settles())
                add_symbols(ctx); // for the refusal's log line
        } else if (p == Phase::eom) {
            if (facts.rdns == R::temperror && cfg.dns_on_failure == FailurePolicy::tempfail && !ctx.tx.answer.settles())
                ctx.tx.answer = Answer::tempfail(cfg.reply_dns_failure);
            add_symbols(ctx);
        }
    }

  private:
    static void add_symbols(Context& ctx)
    {
        const ClientDns& facts = ctx.client.dns;
        const std::string ip = ctx.client.ip ? ctx.client.ip->to_string() : "";
        switch (facts.rdns) {
        case ClientDns::Rdns::none: ctx.tx.card.add("RAMPART_RDNS_NONE", kNoneScore, ip); break;
        case ClientDns::Rdns::mismatch:
            ctx.tx.card.add("RAMPART_RDNS_MISMATCH", kMismatchScore, printable(facts.rdns_name));
            break;
        case ClientDns::Rdns::temperror: ctx.tx.card.add("RAMPART_RDNS_TEMPERROR", 0, ip); break;
        default: break;
        }
        if (facts.rdns_dynamic)
            ctx.tx.card.add("RAMPART_RDNS_DYNAMIC", kDynamicScore, printable(facts.rdns_name));
    }

    // See the header: the address in the host labels, or a dynamic-pool
    // word beside a number there.
    static bool looks_dynamic(std::string_view name, const IpAddress& ip)
    {
        // The host labels: all but the last two (the provider's domain).
        std::size_t cut = name.size();
        for (int dots = 0; dots < 2 && cut != std::string_view::npos; ++dots)
            cut = cut == 0 ? std::string_view::npos : name.rfind('.', cut - 1);
        if (cut == std::string_view::npos || cut == 0)
            return false;
        const std::string host = lowercase(name.substr(0, cut));
        std::vector<std::string> numbers, words;
        std::string run;
        const auto flush = [&] {
            if (!run.empty())
                (std::isdigit(static_cast<unsigned char>(run[0])) ? numbers : words).push_back(run);
            run.clear();
        };
        for (char c : host) {
            const bool digit = c >= '0' && c <= '9', alpha = c >= 'a' && c <= 'z';
            if (!digit && !alpha) {
                flush();
                continue;
            }
            if (!run.empty() && (std::isdigit(static_cast<unsigned char>(run.back())) != 0) != digit)
                flush();
            run += c;
        }
        flush();
        if (ip.is_v4()) {
            const auto& b = ip.bytes();
            // Each number of the name stands for one octet at most: 5.5.5.20
            // named "mx5" has one octet in its name, not three.
            int octets = 0;
            std::vector<bool> used(numbers.size(), false);
            for (int i = 12; i < 16; ++i) {
                const std::string o = std::to_string(b[static_cast<std::size_t>(i)]);
                for (std::size_t k = 0; k < numbers.size(); ++k) {
                    const auto nz = numbers[k].find_first_not_of('0');
                    if (!used[k] && (nz == std::string::npos ? "0" : numbers[k].substr(nz)) == o) {
                        used[k] = true;
                        ++octets;
                        break;
                    }
                }
            }
            const std::string hex = fmt::format("{:02x}{:02x}{:02x}{:02x}", b[12], b[13], b[14], b[15]);
            if (octets >= 3 || host.find(hex) != std::string::npos)
                return true;
        }
        const bool word = std::any_of(words.begin(), words.end(), [](const std::string& w) {
            return std::find(kDynamicWords.begin(), kDynamicWords.end(), w) != kDynamicWords.end();
        });
        return word && !numbers.empty();
    }
};

} // namespace

const Check& rdns_check()
{
    static const RdnsCheck c;
    return c;
}

} // namespace rampart
