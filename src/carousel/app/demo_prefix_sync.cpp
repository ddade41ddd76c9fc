// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "demo_prefix_sync.hpp"

#include <optional>

#include <carousel/core/hex.hpp>
#include <carousel/sim/prefix_scenario.hpp>

#include "progress.hpp"
#include "sync_report.hpp"

namespace carousel::app {

bool run_prefix_sync_demo(const PrefixSyncDemoOptions& o, nlohmann::json& summary) {
    sim::PrefixScenarioConfig config;
    config.chain.seed = o.seed;
    config.chain.accounts = o.accounts;
    config.servers = o.servers;
    config.leaf_mode = o.leaf_mode;
    config.server_uplink = o.server_uplink_bytes_per_second;
    config.client_downlink = o.client_downlink_bytes_per_second;
    config.latency = std::chrono::milliseconds{o.latency_ms};

    Progress gen_progress{"generating the state", o.accounts, o.show_progress};
    constexpr uint64_t kScale = 1'000'000;
    std::optional<Progress> sync_progress;
    const auto result = sim::run_prefix_scenario(
        config, [&](uint64_t done) { gen_progress.update(done); },
        [&](const prefix::SyncProgress& p) {
            if (!sync_progress) {
                gen_progress.finish();
                sync_progress.emplace(o.leaf_mode ? "prefix sync (leaves)" : "prefix sync (sub-tries)", kScale,
                                      o.show_progress);
            }
            // Account key space held, weighted with storage tries finished.
            const double storage =
                p.storage_tries == 0 ? 1.0
                                     : static_cast<double>(p.storage_tries_done) / static_cast<double>(p.storage_tries);
            sync_progress->update(static_cast<uint64_t>(kScale * (0.5 * p.account_fraction + 0.5 * storage)));
        });
    if (!result.generated) return false;
    if (sync_progress) sync_progress->finish();

    summary = progress_json(result.progress);
    summary["root"] = to_hex_prefixed(view(result.root));
    summary["verified"] = result.verified;
    summary["mode"] = o.leaf_mode ? "leaf" : "full";
    summary["servers"] = o.servers;
    summary["raw_leaf_bytes"] = result.state.raw_leaf_bytes;
    summary["simulated_seconds"] = result.simulated_seconds;
    summary["wall_seconds"] = result.wall_seconds;
    summary["peers"] = peers_json(result.peers);
    return result.verified;
}

}  // namespace carousel::app
