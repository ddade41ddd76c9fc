// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "mgr_simulation.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <carousel/core/hex.hpp>

#include "progress.hpp"

namespace carousel::app {

namespace {
__attribute__((format(printf, 1, 2))) std::string format(const char* fmt, ...) {
    char buf[512];
    va_list args;
    va_start(args, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, args);
    va_end(args);
    return buf;
}
std::string megabytes(uint64_t bytes) { return format("%.2f MB", static_cast<double>(bytes) / 1e6); }
double ratio(double a, double b) { return b > 0 ? a / b : 0; }
// Copies of each region: nodes × the share of the key space one node covers.
double copies(const sim::MgrScenarioConfig& c) {
    return static_cast<double>(c.nodes) * std::ldexp(1.0, static_cast<int>(c.radius_bits) - 256);
}

// The summary's words on a fill episode that was not adopted: "NOT FILLED (...)" and a newline.
std::string unfilled_summary(const sim::FillResult& f) {
    return format("NOT FILLED (%llu fills, %llu restarts)\n", static_cast<unsigned long long>(f.fills),
                  static_cast<unsigned long long>(f.restarts));
}
// ... on one that was, from "filled at block" to "answers rejected; ". `stores` names the stores
// filled ("stores", "new stores").
std::string filled_summary(const sim::FillResult& f, const char* stores) {
    return format(
        "filled at block %llu in %.1f s; fetched %s for %s of %s (%.2fx; of it %s of code), %llu answers "
        "rejected; ",
        static_cast<unsigned long long>(f.filled_number), f.fill_seconds, megabytes(f.fill_bytes).c_str(), stores,
        megabytes(f.store_bytes).c_str(), ratio(static_cast<double>(f.fill_bytes), static_cast<double>(f.store_bytes)),
        megabytes(f.code_bytes).c_str(), static_cast<unsigned long long>(f.rejected_answers));
}
// ... and on the checks after it, from "stores matched" to the newline. `checks` names what the
// boundary checks count ("boundaries", "checks").
std::string checked_summary(const sim::FillResult& f, const char* checks) {
    return format("stores matched at %llu of %llu %s, %llu of %llu direct answers verified\n",
                  static_cast<unsigned long long>(f.boundary_checks - f.mismatches),
                  static_cast<unsigned long long>(f.boundary_checks), checks,
                  static_cast<unsigned long long>(f.probes_ok),
                  static_cast<unsigned long long>(f.probes_ok + f.probes_failed));
}

// The JSON fields of a fill episode that joined and grown nodes share.
nlohmann::json fill_json(const sim::FillResult& f) {
    return {
        {"filled", f.filled},
        {"filled_block", f.filled_number},
        {"fill_seconds", f.fill_seconds},
        {"fill_bytes", f.fill_bytes},
        {"fill_requests", f.fill_requests},
        {"store_bytes", f.store_bytes},
        {"fill_over_store", ratio(static_cast<double>(f.fill_bytes), static_cast<double>(f.store_bytes))},
        {"code_bytes", f.code_bytes},
        {"fills", f.fills},
        {"restarts", f.restarts},
        {"refills", f.refills},
        {"rejected_answers", f.rejected_answers},
        {"boundary_checks", f.boundary_checks},
        {"store_mismatches", f.mismatches},
        {"probes_ok", f.probes_ok},
        {"probes_failed", f.probes_failed},
        {"items_applied", f.items_applied},
    };
}
}  // namespace

MgrSimulation run_mgr_simulation(sim::MgrScenarioConfig config, bool quiet) {
    Progress progress{"merry-go-round sync (client progress, per mille)", 1000, !quiet};
    config.on_block = [&progress](double p, uint64_t, std::chrono::microseconds) {
        progress.update(static_cast<uint64_t>(p * 1000));
    };
    const auto t0 = std::chrono::steady_clock::now();
    MgrSimulation run;
    run.result = sim::run_mgr_scenario(config);
    run.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    progress.finish();
    return run;
}

bool mgr_ok(const MgrSimulation& run) {
    const auto& r = run.result;
    bool joined_ok = true;
    for (const auto& j : r.joined) joined_ok = joined_ok && j.filled && j.mismatches == 0 && j.probes_failed == 0;
    for (const auto& g : r.grown)
        joined_ok = joined_ok && (g.filled || g.new_regions == 0) && g.mismatches == 0 && g.probes_failed == 0;
    return r.synced && r.failure.empty() && r.verified_root == r.chain_root && r.store_mismatches == 0 && joined_ok;
}

PeakConnections peak_connections(const sim::MgrScenarioResult& r) {
    std::vector<std::size_t> sorted = r.peak_connections;
    std::sort(sorted.begin(), sorted.end());
    if (sorted.empty()) return {};
    return PeakConnections{sorted.back(), sorted[sorted.size() / 2]};
}

std::string mgr_summary(const sim::MgrScenarioConfig& c, const MgrSimulation& run) {
    const auto& r = run.result;
    std::string out;
    out += format(
        "Merry-Go-Round on %s: %zu nodes (about %.0f copies of each region), %llu accounts at genesis, "
        "E = %llu blocks of %.0f s, client link %.0f KB/s, latency %.0f ms\n",
        c.engine == sim::Engine::kSimGrid ? "SimGrid" : "LocalNet", c.nodes, copies(c),
        static_cast<unsigned long long>(c.chain.accounts), static_cast<unsigned long long>(c.epoch_length),
        std::chrono::duration<double>(c.block_time).count(), static_cast<double>(c.client_bandwidth) / 1e3,
        std::chrono::duration<double>(c.latency).count() * 1e3);
    if (c.offline_share + c.liar_share + c.stale_share > 0) {
        out += format("faults: %.0f%% of the nodes leave mid-sync, %.0f%% lie, %.0f%% serve stale data\n",
                      c.offline_share * 100, c.liar_share * 100, c.stale_share * 100);
    }
    if (!r.synced) {
        out += "NOT SYNCED: " + r.failure + "\n";
        return out;
    }
    out += format(
        "synced %.0f s (simulated) after it started at block %llu, crossing %llu epoch boundaries; then "
        "followed %llu of %llu blocks within a block time\n",
        r.sync_seconds, static_cast<unsigned long long>(r.sync_started_block),
        static_cast<unsigned long long>(r.boundaries_crossed), static_cast<unsigned long long>(r.blocks_followed),
        static_cast<unsigned long long>(r.blocks_followed + r.blocks_missed));
    out += format("state: %llu accounts, %llu slots, %llu code blobs; root %s %s the chain's at block %llu\n",
                  static_cast<unsigned long long>(r.accounts), static_cast<unsigned long long>(r.slots),
                  static_cast<unsigned long long>(r.codes), to_hex_prefixed(view(r.verified_root)).c_str(),
                  r.verified_root == r.chain_root ? "equals" : "DIFFERS FROM",
                  static_cast<unsigned long long>(r.verified_block));
    out += format("received %s for %s of raw state (%.2fx); sync time %.2fx the bandwidth floor (%.0f s)\n",
                  megabytes(r.client_bytes_received).c_str(), megabytes(r.raw_state_bytes).c_str(),
                  ratio(static_cast<double>(r.client_bytes_received), static_cast<double>(r.raw_state_bytes)),
                  ratio(r.sync_seconds, r.bandwidth_floor_seconds), r.bandwidth_floor_seconds);
    const mgr::SyncStats& at = r.client_at_sync;
    out += format("received until synced, by kind: chunks %s, diffs %s, bare storage %s, code %s\n",
                  megabytes(at.chunk_bytes).c_str(), megabytes(at.diff_bytes).c_str(), megabytes(at.bare_bytes).c_str(),
                  megabytes(at.code_bytes).c_str());
    const PeakConnections peaks = peak_connections(r);
    out += format(
        "connections: at most %zu per member (--max-peers); peak per storage node: max %zu, median %zu; "
        "bridge %zu, client %zu\n",
        r.max_peers, peaks.max, peaks.median, r.bridge_peak_connections, r.client_peak_connections);
    out += format(
        "requests: %llu chunk, %llu bare storage, %llu diff, %llu code; %llu answers rejected, %llu timeouts, "
        "%llu peers banned\n",
        static_cast<unsigned long long>(r.client.chunk_requests),
        static_cast<unsigned long long>(r.client.bare_requests),
        static_cast<unsigned long long>(r.client.diff_requests),
        static_cast<unsigned long long>(r.client.code_requests),
        static_cast<unsigned long long>(r.client.rejected_answers), static_cast<unsigned long long>(r.client.timeouts),
        static_cast<unsigned long long>(r.client.banned_peers));
    out += format(
        "gossip: %.1f KiB per node per block (EIP-7928 measured 61-92 KiB per mainnet block access list); "
        "stores checked at every boundary: %llu of %llu match the chain\n",
        r.gossip_bytes_per_node_per_block / 1024.0,
        static_cast<unsigned long long>(r.boundary_checks - r.store_mismatches),
        static_cast<unsigned long long>(r.boundary_checks));
    for (std::size_t k = 0; k < r.joined.size(); ++k) {
        const auto& j = r.joined[k];
        out += format("joined node %zu (after block %llu): ", k, static_cast<unsigned long long>(j.join_block));
        out += j.filled ? filled_summary(j, "stores") + checked_summary(j, "boundaries") : unfilled_summary(j);
    }
    for (std::size_t k = 0; k < r.grown.size(); ++k) {
        const auto& g = r.grown[k];
        if (!g.filled) {
            out += format("grown node %zu (after block %llu, %u -> %u bits): ", k,
                          static_cast<unsigned long long>(g.grow_block), g.bits_before, g.bits_after);
            out += unfilled_summary(g);
            continue;
        }
        out += format("grown node %zu (after block %llu, radius %u -> %u bits, %zu new regions): ", k,
                      static_cast<unsigned long long>(g.grow_block), g.bits_before, g.bits_after, g.new_regions);
        out += filled_summary(g, "new stores");
        out += format("old regions served while filling: %s; ", g.old_served_while_filling > 0 ? "yes" : "no");
        out += checked_summary(g, "checks");
    }
    out += format("wall time %.1f s\n", run.wall_seconds);
    return out;
}

nlohmann::json mgr_json(const sim::MgrScenarioConfig& c, const MgrSimulation& run) {
    const auto& r = run.result;
    nlohmann::json joined = nlohmann::json::array();
    for (const auto& j : r.joined) {
        nlohmann::json o = fill_json(j);
        o["join_block"] = j.join_block;
        o["owners"] = j.owners;
        joined.push_back(std::move(o));
    }
    nlohmann::json grown = nlohmann::json::array();
    for (const auto& g : r.grown) {
        nlohmann::json o = fill_json(g);
        o["grow_block"] = g.grow_block;
        o["bits_before"] = g.bits_before;
        o["bits_after"] = g.bits_after;
        o["new_regions"] = g.new_regions;
        o["old_served_while_filling"] = g.old_served_while_filling;
        o["refused_while_filling"] = g.refused_while_filling;
        o["served_while_filling"] = g.served_while_filling;
        o["unfilled_checks"] = g.unfilled_checks;
        o["new_region_checks"] = g.new_region_checks;
        grown.push_back(std::move(o));
    }
    return {
        {"joined", joined},
        {"grown", grown},
        {"engine", sim::to_string(c.engine)},
        {"nodes", c.nodes},
        {"copies", copies(c)},
        {"accounts_at_genesis", c.chain.accounts},
        {"epoch_length", c.epoch_length},
        {"client_bandwidth", c.client_bandwidth},
        {"node_bandwidth", c.node_bandwidth},
        {"latency_ms", std::chrono::duration<double>(c.latency).count() * 1e3},
        {"offline_share", c.offline_share},
        {"liar_share", c.liar_share},
        {"stale_share", c.stale_share},
        {"bare_leaves_max", c.bare_leaves_max},
        {"bare_requests", r.client.bare_requests},
        {"synced", r.synced},
        {"failure", r.failure},
        {"sync_started_block", r.sync_started_block},
        {"sync_finished_block", r.sync_finished_block},
        {"boundaries_crossed", r.boundaries_crossed},
        {"sync_seconds", r.sync_seconds},
        {"bandwidth_floor_seconds", r.bandwidth_floor_seconds},
        {"time_over_floor", ratio(r.sync_seconds, r.bandwidth_floor_seconds)},
        {"bytes_received", r.client_bytes_received},
        {"raw_state_bytes", r.raw_state_bytes},
        {"bytes_by_kind",
         {{"chunks", r.client_at_sync.chunk_bytes},
          {"diffs", r.client_at_sync.diff_bytes},
          {"bare_storage", r.client_at_sync.bare_bytes},
          {"code", r.client_at_sync.code_bytes}}},
        {"max_peers", r.max_peers},
        {"peak_connections",
         {{"max", peak_connections(r).max},
          {"median", peak_connections(r).median},
          {"per_node", r.peak_connections},
          {"bridge", r.bridge_peak_connections},
          {"client", r.client_peak_connections}}},
        {"bytes_over_raw", ratio(static_cast<double>(r.client_bytes_received), static_cast<double>(r.raw_state_bytes))},
        {"accounts", r.accounts},
        {"slots", r.slots},
        {"codes", r.codes},
        {"verified_block", r.verified_block},
        {"verified_root", to_hex_prefixed(view(r.verified_root))},
        {"chain_root", to_hex_prefixed(view(r.chain_root))},
        {"blocks_followed", r.blocks_followed},
        {"blocks_missed", r.blocks_missed},
        {"last_missed_block", r.last_missed_block},
        {"chunk_requests", r.client.chunk_requests},
        {"diff_requests", r.client.diff_requests},
        {"code_requests", r.client.code_requests},
        {"rejected_answers", r.client.rejected_answers},
        {"timeouts", r.client.timeouts},
        {"banned_peers", r.client.banned_peers},
        {"gossip_bytes_per_node_per_block", r.gossip_bytes_per_node_per_block},
        {"node_bytes", r.node_bytes},
        {"boundary_checks", r.boundary_checks},
        {"store_mismatches", r.store_mismatches},
        {"wall_seconds", run.wall_seconds},
    };
}

}  // namespace carousel::app
