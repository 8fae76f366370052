// NAME
//   step_timer.hpp - the time rampart-milter takes to answer one milter step
// DESCRIPTION
//   A StepTimer lives for one libmilter callback and adds its duration to
//   the step's histogram (rampart_phase_seconds), but only while the
//   connection's Runtime times (metrics.listen is set): otherwise it reads
//   no clock. Steps are named as the callbacks name them; one that is not
//   a stats::Step ("unknown") is not timed.
#pragma once

#include "engine/runtime.hpp"
#include "stats/recorder.hpp"

#include <chrono>
#include <string_view>

namespace rampart::milter {

class StepTimer {
  public:
    StepTimer(const Runtime& rt, std::string_view step)
    {
        if (!rt.stats || !rt.stats->timing())
            return;
        for (std::size_t i = 0; i < stats::kSteps; ++i)
            if (step == stats::to_string(static_cast<stats::Step>(i))) {
                d_recorder = rt.stats.get();
                d_step = static_cast<stats::Step>(i);
                d_start = std::chrono::steady_clock::now();
            }
    }
    ~StepTimer()
    {
        if (d_recorder)
            d_recorder->step_time(d_step, std::chrono::steady_clock::now() - d_start);
    }
    StepTimer(const StepTimer&) = delete;
    StepTimer& operator=(const StepTimer&) = delete;

  private:
    stats::Recorder* d_recorder = nullptr;
    stats::Step d_step = stats::Step::connect;
    std::chrono::steady_clock::time_point d_start;
};

} // namespace rampart::milter
