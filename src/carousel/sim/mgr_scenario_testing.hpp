// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Configurations, checks and printouts shared by the tests that run a Merry-Go-Round scenario,
// sim/mgr_scenario_test.cpp and tests/mgr_network_scenario_test.cpp (header only, GoogleTest; not part of the library's
// API).

#include <cstdint>
#include <cstdio>
#include <string>

#include <gtest/gtest.h>

#include "mgr_scenario.hpp"

namespace carousel::sim::test {

// A small network for the quick suite (the sanitizer run too): 16 nodes with about 4 copies of
// each region, a few thousand accounts, E = 8, and a client slow enough to cross boundaries.
inline MgrScenarioConfig small_network() {
    MgrScenarioConfig c;
    c.chain.seed = 5;
    c.chain.accounts = 2000;
    c.chain.accounts_per_block = 20;
    c.chain.slots_per_block = 30;
    c.chain.max_contract_slots = 2000;
    c.nodes = 16;
    c.radius_bits = 254;  // 4 regions of 2^254 keys... each node covers a quarter: ~4 copies
    c.region_bits = 254;
    c.epoch_length = 8;
    c.client_bandwidth = 2'500;  // bytes/s: the walk takes several epochs
    c.max_blocks = 400;
    return c;
}

// What a synced run must show at least, besides what expect_synced always checks. The zero
// defaults ask nothing more.
struct SyncedAtLeast {
    // Epoch boundaries crossed while syncing. When more than zero, the client must also have rolled
    // its pivot and the stores must have been checked at a boundary.
    uint64_t boundaries_crossed{0};
    uint64_t accounts{0};  // the client's state at the end
    uint64_t slots{0};
    uint64_t codes{0};
};

// Expects `r` synced, with no failure, its verified root the chain's root at that block, every
// boundary check of the stores matching, and `least`. A run that did not sync is a fatal failure
// that returns from here only: a test that must stop there wraps the call in
// ASSERT_NO_FATAL_FAILURE.
inline void expect_synced(const MgrScenarioResult& r, const SyncedAtLeast& least = {}) {
    ASSERT_TRUE(r.synced) << r.failure;
    EXPECT_EQ(r.failure, "");
    EXPECT_EQ(r.verified_root, r.chain_root);
    EXPECT_EQ(r.store_mismatches, 0u);
    EXPECT_GE(r.boundaries_crossed, least.boundaries_crossed);
    if (least.boundaries_crossed > 0) {
        EXPECT_GT(r.client.rolls, 0u);
        EXPECT_GT(r.boundary_checks, 0u);
    }
    EXPECT_GE(r.accounts, least.accounts);
    EXPECT_GE(r.slots, least.slots);
    EXPECT_GE(r.codes, least.codes);
}

// Prints on stdout one line on a fill episode: `who` (which node, when), what its fills fetched
// against the stores they filled, and what the boundary checks and the prober saw after it.
inline void print_fill(const std::string& who, const FillResult& f) {
    std::printf(
        "%s: filled at block %llu in %.2f s (simulated), fetched %llu bytes in %llu requests for stores of %llu "
        "bytes (%.2fx) and %llu bytes of code; %llu fills, %llu restarts, %llu refills; %llu answers rejected; "
        "%llu unfilled and %llu boundary checks, %llu mismatches; probes %llu ok (%llu diffs), %llu failed; "
        "while filling %llu refused, %llu served; %llu items applied\n",
        who.c_str(), static_cast<unsigned long long>(f.filled_number), f.fill_seconds,
        static_cast<unsigned long long>(f.fill_bytes), static_cast<unsigned long long>(f.fill_requests),
        static_cast<unsigned long long>(f.store_bytes),
        f.store_bytes == 0 ? 0.0 : static_cast<double>(f.fill_bytes) / static_cast<double>(f.store_bytes),
        static_cast<unsigned long long>(f.code_bytes), static_cast<unsigned long long>(f.fills),
        static_cast<unsigned long long>(f.restarts), static_cast<unsigned long long>(f.refills),
        static_cast<unsigned long long>(f.rejected_answers), static_cast<unsigned long long>(f.unfilled_checks),
        static_cast<unsigned long long>(f.boundary_checks), static_cast<unsigned long long>(f.mismatches),
        static_cast<unsigned long long>(f.probes_ok), static_cast<unsigned long long>(f.diff_probes_ok),
        static_cast<unsigned long long>(f.probes_failed), static_cast<unsigned long long>(f.refused_while_filling),
        static_cast<unsigned long long>(f.served_while_filling), static_cast<unsigned long long>(f.items_applied));
}

// print_fill for every joined node of `r`.
inline void print_joined(const MgrScenarioResult& r) {
    for (const JoinedNodeResult& j : r.joined) {
        print_fill("joined after block " + std::to_string(j.join_block) + " (" + std::to_string(j.owners) +
                       " owners, " + std::to_string(j.offers_before_fill) + " offers before the fill)",
                   j);
    }
}

// print_fill for every grown node of `r`: its new regions' fill.
inline void print_grown(const MgrScenarioResult& r) {
    for (const GrownNodeResult& g : r.grown) {
        print_fill("grew after block " + std::to_string(g.grow_block) + " from " + std::to_string(g.bits_before) +
                       " to " + std::to_string(g.bits_after) + " bits (" + std::to_string(g.new_regions) +
                       " new regions, " + std::to_string(g.new_region_checks) +
                       " checks of their stores; an old region served while filling: " +
                       std::to_string(g.old_served_while_filling) + ")",
                   g);
    }
}

}  // namespace carousel::sim::test
