// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Runs a Merry-Go-Round scenario (sim/mgr_scenario.hpp) with a progress bar and reports it as a
// short human summary or as JSON: shared by `carousel simulate mgr` and `carousel demo`.

#include <nlohmann/json.hpp>

#include <carousel/sim/mgr_scenario.hpp>

namespace carousel::app {

struct MgrSimulation {
    sim::MgrScenarioResult result;
    double wall_seconds{0};
};

// Runs `config`; shows progress on stderr unless `quiet`.
MgrSimulation run_mgr_simulation(sim::MgrScenarioConfig config, bool quiet);

// The summary lines (each ends with a newline) and the JSON object of a run.
std::string mgr_summary(const sim::MgrScenarioConfig& config, const MgrSimulation& run);
nlohmann::json mgr_json(const sim::MgrScenarioConfig& config, const MgrSimulation& run);

// The most and the median of the storage nodes' peak connection counts.
struct PeakConnections {
    std::size_t max{0};
    std::size_t median{0};
};
PeakConnections peak_connections(const sim::MgrScenarioResult& result);

// Whether the run did what it should: synced, the client's root the chain's, stores consistent.
bool mgr_ok(const MgrSimulation& run);

}  // namespace carousel::app
