#include "ctl/stats.hpp"

#include "stats/report.hpp"
#include "store/keys.hpp"
#include "store/redis.hpp"
#include "util/text.hpp"

#include <chrono>
#include <cstdio>

namespace rampart::ctl {

int stats_command(const Config& cfg, const std::vector<std::string>& args)
{
    std::string node;
    bool json = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--json") {
            json = true;
        } else if (args[i] == "--node" && i + 1 < args.size() && !args[i + 1].empty() &&
                   args[i + 1].find_first_of("{} \t") == std::string::npos) {
            node = args[++i];
        } else {
            std::fprintf(stderr, "rampartctl: stats: \"%s\": expected --node NODE or --json\n",
                         printable(args[i]).c_str());
            std::fprintf(stderr, "Try 'rampartctl --help'.\n");
            return 2;
        }
    }
    Store store(cfg);
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    auto report = stats::read_report(store, Keys(cfg.redis_prefix), now, node);
    if (!report) {
        std::fprintf(stderr, "rampartctl: Redis (%s): %s\n", cfg.redis_servers.front().c_str(),
                     report.error().message.c_str());
        return 1;
    }
    const std::string out = json ? stats::format_json(*report) : stats::format_table(*report);
    std::fputs(out.c_str(), stdout);
    return 0;
}

} // namespace rampart::ctl
