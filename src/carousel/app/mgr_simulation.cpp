// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "mgr_simulation.hpp"

#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>

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

std::string mgr_summary(const sim::MgrScenarioConfig& c, const MgrSimulation& run) {
    const auto& r = run.result;
    std::string out;
    out += format(
        "Merry-Go-Round on LocalNet: %zu nodes (about %.0f copies of each region), %llu accounts at genesis, "
        "E = %llu blocks of %.0f s, client link %.0f KB/s, latency %.0f ms\n",
        c.nodes, copies(c), static_cast<unsigned long long>(c.chain.accounts),
        static_cast<unsigned long long>(c.epoch_length), std::chrono::duration<double>(c.block_time).count(),
        static_cast<double>(c.client_bandwidth) / 1e3, std::chrono::duration<double>(c.latency).count() * 1e3);
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
    out +=
        format("received until synced, by kind: chunks %s, diffs %s, bare storage %s, code %s, DHT %s\n",
               megabytes(at.chunk_bytes).c_str(), megabytes(at.diff_bytes).c_str(), megabytes(at.bare_bytes).c_str(),
               megabytes(at.code_bytes).c_str(),
               megabytes(at.bytes_received - at.chunk_bytes - at.diff_bytes - at.bare_bytes - at.code_bytes).c_str());
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
        if (!j.filled) {
            out += format("joined node %zu (after block %llu): NOT FILLED (%llu fills, %llu restarts)\n", k,
                          static_cast<unsigned long long>(j.join_block), static_cast<unsigned long long>(j.fills),
                          static_cast<unsigned long long>(j.restarts));
            continue;
        }
        out += format(
            "joined node %zu (after block %llu): filled at block %llu in %.1f s; fetched %s for stores of %s "
            "(%.2fx; of it %s of code), %llu answers rejected; stores matched at %llu of %llu boundaries, "
            "%llu of %llu direct answers verified\n",
            k, static_cast<unsigned long long>(j.join_block), static_cast<unsigned long long>(j.filled_number),
            j.fill_seconds, megabytes(j.fill_bytes).c_str(), megabytes(j.store_bytes).c_str(),
            ratio(static_cast<double>(j.fill_bytes), static_cast<double>(j.store_bytes)),
            megabytes(j.code_bytes).c_str(), static_cast<unsigned long long>(j.rejected_answers),
            static_cast<unsigned long long>(j.boundary_checks - j.mismatches),
            static_cast<unsigned long long>(j.boundary_checks), static_cast<unsigned long long>(j.probes_ok),
            static_cast<unsigned long long>(j.probes_ok + j.probes_failed));
    }
    for (std::size_t k = 0; k < r.grown.size(); ++k) {
        const auto& g = r.grown[k];
        if (!g.filled) {
            out += format("grown node %zu (after block %llu, %u -> %u bits): NOT FILLED (%llu fills, %llu restarts)\n",
                          k, static_cast<unsigned long long>(g.grow_block), g.bits_before, g.bits_after,
                          static_cast<unsigned long long>(g.fills), static_cast<unsigned long long>(g.restarts));
            continue;
        }
        out += format(
            "grown node %zu (after block %llu, radius %u -> %u bits, %zu new regions): filled at block %llu in "
            "%.1f s; fetched %s for new stores of %s (%.2fx; of it %s of code), %llu answers rejected; old regions "
            "served while filling: %s; stores matched at %llu of %llu checks, %llu of %llu direct answers verified\n",
            k, static_cast<unsigned long long>(g.grow_block), g.bits_before, g.bits_after, g.new_regions,
            static_cast<unsigned long long>(g.filled_number), g.fill_seconds, megabytes(g.fill_bytes).c_str(),
            megabytes(g.store_bytes).c_str(),
            ratio(static_cast<double>(g.fill_bytes), static_cast<double>(g.store_bytes)),
            megabytes(g.code_bytes).c_str(), static_cast<unsigned long long>(g.rejected_answers),
            g.old_served_while_filling > 0 ? "yes" : "no",
            static_cast<unsigned long long>(g.boundary_checks - g.mismatches),
            static_cast<unsigned long long>(g.boundary_checks), static_cast<unsigned long long>(g.probes_ok),
            static_cast<unsigned long long>(g.probes_ok + g.probes_failed));
    }
    out += format("wall time %.1f s\n", run.wall_seconds);
    return out;
}

nlohmann::json mgr_json(const sim::MgrScenarioConfig& c, const MgrSimulation& run) {
    const auto& r = run.result;
    nlohmann::json joined = nlohmann::json::array();
    for (const auto& j : r.joined) {
        joined.push_back({
            {"join_block", j.join_block},
            {"filled", j.filled},
            {"filled_block", j.filled_number},
            {"fill_seconds", j.fill_seconds},
            {"fill_bytes", j.fill_bytes},
            {"fill_requests", j.fill_requests},
            {"store_bytes", j.store_bytes},
            {"fill_over_store", ratio(static_cast<double>(j.fill_bytes), static_cast<double>(j.store_bytes))},
            {"code_bytes", j.code_bytes},
            {"owners", j.owners},
            {"fills", j.fills},
            {"restarts", j.restarts},
            {"refills", j.refills},
            {"rejected_answers", j.rejected_answers},
            {"boundary_checks", j.boundary_checks},
            {"store_mismatches", j.mismatches},
            {"probes_ok", j.probes_ok},
            {"probes_failed", j.probes_failed},
            {"items_applied", j.items_applied},
        });
    }
    nlohmann::json grown = nlohmann::json::array();
    for (const auto& g : r.grown) {
        grown.push_back({
            {"grow_block", g.grow_block},
            {"bits_before", g.bits_before},
            {"bits_after", g.bits_after},
            {"new_regions", g.new_regions},
            {"filled", g.filled},
            {"filled_block", g.filled_number},
            {"fill_seconds", g.fill_seconds},
            {"fill_bytes", g.fill_bytes},
            {"fill_requests", g.fill_requests},
            {"store_bytes", g.store_bytes},
            {"fill_over_store", ratio(static_cast<double>(g.fill_bytes), static_cast<double>(g.store_bytes))},
            {"code_bytes", g.code_bytes},
            {"fills", g.fills},
            {"restarts", g.restarts},
            {"refills", g.refills},
            {"rejected_answers", g.rejected_answers},
            {"old_served_while_filling", g.old_served_while_filling},
            {"refused_while_filling", g.refused_while_filling},
            {"served_while_filling", g.served_while_filling},
            {"unfilled_checks", g.unfilled_checks},
            {"boundary_checks", g.boundary_checks},
            {"new_region_checks", g.new_region_checks},
            {"store_mismatches", g.mismatches},
            {"probes_ok", g.probes_ok},
            {"probes_failed", g.probes_failed},
            {"items_applied", g.items_applied},
        });
    }
    return {
        {"joined", joined},
        {"grown", grown},
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
          {"code", r.client_at_sync.code_bytes},
          {"dht", r.client_at_sync.bytes_received - r.client_at_sync.chunk_bytes - r.client_at_sync.diff_bytes -
                      r.client_at_sync.bare_bytes - r.client_at_sync.code_bytes}}},
        {"bytes_over_raw", ratio(static_cast<double>(r.client_bytes_received), static_cast<double>(r.raw_state_bytes))},
        {"accounts", r.accounts},
        {"slots", r.slots},
        {"codes", r.codes},
        {"verified_block", r.verified_block},
        {"verified_root", to_hex_prefixed(view(r.verified_root))},
        {"chain_root", to_hex_prefixed(view(r.chain_root))},
        {"blocks_followed", r.blocks_followed},
        {"blocks_missed", r.blocks_missed},
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
