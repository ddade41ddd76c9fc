// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// The Merry-Go-Round scenario on SimGrid (issue 21): the same run on both engines. SimGrid has one
// engine per process; ctest runs every test in a process of its own. A whole network per engine (a
// minute of CPU, more under the sanitizers): labelled slow with the other scenario tests.
#include <chrono>
#include <cstdio>

#include <gtest/gtest.h>

#include <carousel/sim/mgr_scenario.hpp>
#include <carousel/sim/mgr_scenario_testing.hpp>

namespace carousel::sim {
namespace {

using test::expect_synced;

// small_network() with 48 nodes (about 12 copies of each of 4 regions), 10% liars and 10% nodes
// that leave a third into the sync. (The client's accounts at the end depend on the block it
// synced at: the generator deletes accounts as blocks go by.)
MgrScenarioConfig faulty_network(Engine engine) {
    MgrScenarioConfig c = test::small_network();
    c.nodes = 48;
    c.liar_share = 0.1;
    c.offline_share = 0.1;
    c.engine = engine;
    return c;
}

struct TimedRun {
    MgrScenarioResult result;
    double wall_seconds{0};
};

TimedRun timed_run(const MgrScenarioConfig& c, const char* name) {
    const auto start = std::chrono::steady_clock::now();
    TimedRun run{run_mgr_scenario(c), 0};
    run.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const MgrScenarioResult& r = run.result;
    std::printf(
        "%s: %zu nodes, synced %d at block %llu (%.1f s simulated, %llu boundaries), %llu blocks, %llu client "
        "bytes, %llu rejected answers, %llu boundary checks, %llu mismatches; %.2f s wall\n",
        name, c.nodes, r.synced ? 1 : 0, static_cast<unsigned long long>(r.sync_finished_block), r.sync_seconds,
        static_cast<unsigned long long>(r.boundaries_crossed), static_cast<unsigned long long>(r.blocks),
        static_cast<unsigned long long>(r.client_bytes_received),
        static_cast<unsigned long long>(r.client.rejected_answers), static_cast<unsigned long long>(r.boundary_checks),
        static_cast<unsigned long long>(r.store_mismatches), run.wall_seconds);
    return run;
}

TEST(MgrScenarioSimGrid, BothEnginesSyncTheSameNetworkToTheChainsRoot) {
    const TimedRun local = timed_run(faulty_network(Engine::kLocalNet), "localnet");
    const TimedRun grid = timed_run(faulty_network(Engine::kSimGrid), "simgrid");
    for (const MgrScenarioResult* r : {&local.result, &grid.result}) {
        ASSERT_TRUE(r->synced) << r->failure;
        EXPECT_EQ(r->verified_root, r->chain_root);
        EXPECT_GT(r->boundary_checks, 0u);
        EXPECT_EQ(r->store_mismatches, 0u);
        EXPECT_GT(r->accounts, 0u);
    }
    const MgrScenarioResult& r = grid.result;
    ASSERT_NO_FATAL_FAILURE(expect_synced(r, {.boundaries_crossed = 1, .slots = 1, .codes = 1}));
    EXPECT_EQ(r.items_rejected, 0u);
    // The frame hook ran on SimGrid: the liars' answers reached the client altered and were caught.
    EXPECT_GT(r.client.rejected_answers, 0u);
    EXPECT_GT(r.client.banned_peers, 0u);
    EXPECT_GT(r.gossip_bytes, 0u);
}

TEST(MgrScenarioSimGrid, JoinersAreRefusedForNow) {
    MgrScenarioConfig c = test::small_network();
    c.engine = Engine::kSimGrid;
    c.joiners = 1;
    const MgrScenarioResult r = run_mgr_scenario(c);
    EXPECT_FALSE(r.synced);
    EXPECT_NE(r.failure.find("joiners are not supported on SimGrid"), std::string::npos) << r.failure;
}

}  // namespace
}  // namespace carousel::sim
