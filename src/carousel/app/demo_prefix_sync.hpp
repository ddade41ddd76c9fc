// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// The demo's prefix sync (sim/prefix_scenario.hpp: a generated state served by in-process
// ChunkServers on LocalNet, synced by one PrefixSync client) with progress and a JSON summary.

#include <cstdint>

#include <nlohmann/json.hpp>

namespace carousel::app {

struct PrefixSyncDemoOptions {
    uint64_t accounts = 20'000;
    uint64_t seed = 1;
    int servers = 4;
    bool leaf_mode = false;
    uint64_t server_uplink_bytes_per_second = 12'500'000;    // 100 Mbit/s each
    uint64_t client_downlink_bytes_per_second = 50'000'000;  // 400 Mbit/s
    uint64_t latency_ms = 30;
    bool show_progress = true;
};

// Runs it; fills `summary` (for --json) and returns whether the synced state checks out.
bool run_prefix_sync_demo(const PrefixSyncDemoOptions& options, nlohmann::json& summary);

}  // namespace carousel::app
