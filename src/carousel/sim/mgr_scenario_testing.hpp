// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Checks shared by the tests that run a Merry-Go-Round scenario, sim/mgr_scenario_test.cpp and
// tests/mgr_network_scenario_test.cpp (header only, GoogleTest; not part of the library's API).

#include <cstdint>

#include <gtest/gtest.h>

#include "mgr_scenario.hpp"

namespace carousel::sim::test {

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

}  // namespace carousel::sim::test
