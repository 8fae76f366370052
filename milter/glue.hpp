// NAME
//   glue.hpp - rampart-milter's libmilter side
// DESCRIPTION
//   callbacks.cpp turns libmilter callbacks into Session calls and Session
//   answers into smfi_* calls; main.cpp owns the daemon's life: arguments,
//   socket, privileges, signals, configuration reloads. Nothing here scores.
#pragma once

#include "engine/runtime.hpp"

#include <atomic>
#include <memory>

namespace rampart::milter {

// The Runtime new connections pin; swapped by a reload.
std::shared_ptr<const Runtime> current_runtime();
void set_runtime(std::shared_ptr<const Runtime> rt);

// Connections that have a Session now (for a graceful stop).
extern std::atomic<int> g_active_sessions;

// smfi_register with rampart's callbacks; false on failure.
bool register_filter();

// Opens the metrics endpoint's socket when metrics.listen is set
// (telemetry.cpp); false, logged, when it cannot listen.
bool open_metrics(const Config& cfg);
// Starts the stats flusher and the endpoint's thread.
void start_telemetry();
// Flushes the counters a last time and stops both.
void stop_telemetry();

} // namespace rampart::milter
