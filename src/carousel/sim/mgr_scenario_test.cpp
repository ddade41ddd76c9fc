// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "mgr_scenario.hpp"

#include <algorithm>
#include <cstdio>

#include <gtest/gtest.h>

#include "mgr_scenario_testing.hpp"

namespace carousel::sim {
namespace {

using test::expect_synced;
using test::print_grown;
using test::print_joined;
using test::small_network;

TEST(MgrScenario, SmallNetworkSyncsAcrossBoundaries) {
    const MgrScenarioResult r = run_mgr_scenario(small_network());
    ASSERT_NO_FATAL_FAILURE(expect_synced(r, {.boundaries_crossed = 3, .accounts = 1901, .slots = 1, .codes = 1}));
    EXPECT_GT(r.client.bare_requests, 0u);  // small storage tries came bare
    EXPECT_EQ(r.items_rejected, 0u);
}

TEST(MgrScenario, SmallNetworkWithFaults) {
    MgrScenarioConfig c = small_network();
    c.nodes = 20;
    c.offline_share = 0.1;
    c.liar_share = 0.1;
    c.stale_share = 0.1;
    const MgrScenarioResult r = run_mgr_scenario(c);
    ASSERT_NO_FATAL_FAILURE(expect_synced(r));
    EXPECT_GT(r.client.rejected_answers, 0u);  // the liars were caught
    EXPECT_GT(r.client.banned_peers, 0u);
}

// small_network() cut into 32 regions of 2^251 keys, `nodes` nodes covering one each.
MgrScenarioConfig small_regions(std::size_t nodes) {
    MgrScenarioConfig c = small_network();
    c.nodes = nodes;
    c.radius_bits = 251;
    c.region_bits = 251;
    c.client_bandwidth = 50'000;
    return c;
}

TEST(MgrScenario, BlocksWithoutANodeAreCoveredByTheirClosestNodes) {
    // 64 random ids over 32 blocks of 2^251 keys leave 4 blocks without a node (seed 1). The nodes
    // beside an empty block grow over it before the genesis is seeded (MgrNode::cover_gaps); the
    // bridge's lookups find them. Before, the client never found a node for those regions.
    const MgrScenarioResult r = run_mgr_scenario(small_regions(64));
    ASSERT_NO_FATAL_FAILURE(expect_synced(r, {.accounts = 1901}));
    EXPECT_EQ(r.items_rejected, 0u);
    EXPECT_GT(r.boundary_checks, 0u);
}

// Issue 20: no full mesh. 64 nodes with about 8 copies of each region, every member (node, bridge,
// client) capped at 16 connections: they meet through the bridge's record, find each other by
// Discovery, dial what they need and close idle connections. LocalNet's peak link count may pass the
// cap by one for an instant (dht/overlay.hpp); a mesh would need 63 links per node.
TEST(MgrScenario, NoFullMeshEveryMemberStaysUnderItsConnectionCap) {
    MgrScenarioConfig c = small_network();
    c.nodes = 64;
    c.radius_bits = 253;
    c.region_bits = 253;
    c.client_bandwidth = 50'000;
    c.max_peers = 16;
    const MgrScenarioResult r = run_mgr_scenario(c);
    ASSERT_NO_FATAL_FAILURE(expect_synced(r, {.accounts = 1901}));
    EXPECT_EQ(r.items_rejected, 0u);
    EXPECT_GT(r.boundary_checks, 0u);
    EXPECT_EQ(r.max_peers, 16u);
    ASSERT_EQ(r.peak_connections.size(), c.nodes);
    std::size_t most = 0;
    for (std::size_t i = 0; i < r.peak_connections.size(); ++i) {
        EXPECT_LE(r.peak_connections[i], c.max_peers + 1) << "node " << i;
        most = std::max(most, r.peak_connections[i]);
    }
    EXPECT_LE(r.bridge_peak_connections, c.max_peers + 1);
    EXPECT_LE(r.client_peak_connections, c.max_peers + 1);
    EXPECT_LT(c.max_peers + 1, c.nodes - 1);  // the cap is below what a mesh needs
    std::printf("peak connections: nodes at most %zu, bridge %zu, client %zu (max_peers %zu, %zu nodes)\n", most,
                r.bridge_peak_connections, r.client_peak_connections, c.max_peers, c.nodes);
}

TEST(MgrScenario, RegionWithNoHonestCopyIsNamed) {
    // One copy of each of 32 regions, and 30% each of liars, stale and offline nodes: some region
    // has no honest node. The client says which, instead of running until max_blocks.
    MgrScenarioConfig c = small_regions(32);
    c.liar_share = 0.3;
    c.stale_share = 0.3;
    c.offline_share = 0.3;
    const MgrScenarioResult r = run_mgr_scenario(c);
    EXPECT_FALSE(r.synced);
    EXPECT_NE(r.failure.find("no honest node serves region 0x"), std::string::npos) << r.failure;
    EXPECT_LT(r.blocks, c.max_blocks);
}

TEST(MgrScenario, LiarsInBareStorageAreCaughtByTheRebuiltRoot) {
    // Bare leaves carry no proof: a wrong or missing one shows only when the client rebuilds the
    // trie's root. It then fetches those parts again with proofs and strikes whoever sent a part
    // that differs.
    MgrScenarioConfig c = small_network();
    c.client_bandwidth = 0;
    c.liar_share = 0.5;
    c.lies_in = {proto::MessageType::kBareStorage};
    c.seed = 2;  // a network where liars answer some of the (few) bare requests
    const MgrScenarioResult r = run_mgr_scenario(c);
    ASSERT_TRUE(r.synced) << r.failure;
    EXPECT_EQ(r.verified_root, r.chain_root);
    EXPECT_GT(r.client.rejected_answers, 0u);
    EXPECT_GT(r.client.banned_peers, 0u);
    EXPECT_GT(r.client.chunk_requests, 0u);  // the failed parts, again with proofs
}

TEST(MgrScenario, Deterministic) {
    MgrScenarioConfig c = small_network();
    c.chain.accounts = 800;
    c.client_bandwidth = 0;
    const MgrScenarioResult a = run_mgr_scenario(c);
    const MgrScenarioResult b = run_mgr_scenario(c);
    ASSERT_TRUE(a.synced) << a.failure;
    // On a fast link the client follows every block after the sync within a block time.
    EXPECT_EQ(a.blocks_followed, c.follow_blocks);
    EXPECT_EQ(a.blocks_missed, 0u);
    EXPECT_EQ(a.client_bytes_received, b.client_bytes_received);
    EXPECT_EQ(a.sync_seconds, b.sync_seconds);
    EXPECT_EQ(a.verified_root, b.verified_root);
    EXPECT_EQ(a.gossip_bytes, b.gossip_bytes);
}

// Issue 5: "A node joining mid-epoch fills its range and serves correct proofs by the next
// boundary." Two nodes join half-way through the second epoch; at every boundary after that their
// stores must equal the true partial tries (the scenario's check; an unfilled store fails it) and
// their answers to GetChunks at the boundary root and to GetDiff from the previous boundary must
// verify.
TEST(MgrScenario, NodesJoiningMidEpochFillTheirRangeAndServe) {
    MgrScenarioConfig c = small_network();
    c.joiners = 2;
    c.join_block = 12;  // E = 8: half-way through the second epoch
    const MgrScenarioResult r = run_mgr_scenario(c);
    print_joined(r);
    ASSERT_NO_FATAL_FAILURE(expect_synced(r));
    ASSERT_EQ(r.joined.size(), 2u);
    for (const JoinedNodeResult& j : r.joined) {
        EXPECT_TRUE(j.filled);
        EXPECT_EQ(j.join_block, 12u);
        EXPECT_GE(j.filled_number, 12u);
        EXPECT_LT(j.filled_number, 16u);  // filled before the next boundary
        EXPECT_GT(j.fill_seconds, 0.0);
        EXPECT_GT(j.fill_bytes, 0u);
        EXPECT_GT(j.store_bytes, 0u);
        EXPECT_GT(j.owners, 0u);
        EXPECT_EQ(j.rejected_answers, 0u);
        EXPECT_EQ(j.restarts, 0u);
        EXPECT_EQ(j.refills, 0u);
        EXPECT_EQ(j.unfilled_checks, 0u);  // filled by the next boundary
        EXPECT_GE(j.boundary_checks, 2u);  // the next boundary and later ones
        EXPECT_EQ(j.mismatches, 0u);
        EXPECT_GE(j.probes_ok, 3u);
        EXPECT_GE(j.diff_probes_ok, 1u);  // from the second boundary on it keeps the previous one
        EXPECT_EQ(j.probes_failed, 0u);
        EXPECT_GT(j.items_applied, 0u);
        EXPECT_EQ(j.refused_while_filling, 1u);  // asked before it was filled, it said so
        EXPECT_EQ(j.served_while_filling, 0u);
        EXPECT_EQ(j.offers_before_fill, 0u);
    }
}

// The negative: two of the neighbours covering the joiner's block alter every answer they send
// it. The joiner rejects those answers, moves to other neighbours, and keeps nothing wrong: its
// stores still equal the true partial tries at every boundary.
TEST(MgrScenario, JoinerCatchesLyingNeighbours) {
    MgrScenarioConfig c = small_network();
    c.joiners = 1;
    c.join_block = 12;
    c.join_liars = 2;
    const MgrScenarioResult r = run_mgr_scenario(c);
    print_joined(r);
    ASSERT_TRUE(r.synced) << r.failure;
    EXPECT_EQ(r.store_mismatches, 0u);
    ASSERT_EQ(r.joined.size(), 1u);
    const JoinedNodeResult& j = r.joined[0];
    EXPECT_TRUE(j.filled);
    EXPECT_LT(j.filled_number, 16u);
    EXPECT_GT(j.rejected_answers, 0u);  // the liars were asked and caught
    EXPECT_EQ(j.unfilled_checks, 0u);
    EXPECT_GE(j.boundary_checks, 2u);
    EXPECT_EQ(j.mismatches, 0u);
    EXPECT_GE(j.probes_ok, 2u);
    EXPECT_EQ(j.probes_failed, 0u);
}

// A joined node that misses gossip (blocks 17-19 never reach it) falls behind: it refills at a
// newer root and is back in step, with correct stores, by the next boundary.
TEST(MgrScenario, JoinedNodeThatMissesGossipRefills) {
    MgrScenarioConfig c = small_network();
    c.joiners = 1;
    c.join_block = 12;
    c.joiner_gossip_cut = {17, 20};
    const MgrScenarioResult r = run_mgr_scenario(c);
    print_joined(r);
    ASSERT_TRUE(r.synced) << r.failure;
    EXPECT_EQ(r.store_mismatches, 0u);
    ASSERT_EQ(r.joined.size(), 1u);
    const JoinedNodeResult& j = r.joined[0];
    EXPECT_TRUE(j.filled);
    EXPECT_GE(j.refills, 1u);
    EXPECT_GE(j.fills, 2u);
    EXPECT_GE(j.filled_number, 20u);  // the refill's root
    EXPECT_EQ(j.unfilled_checks, 0u);
    EXPECT_GE(j.boundary_checks, 3u);
    EXPECT_EQ(j.mismatches, 0u);
    EXPECT_EQ(j.probes_failed, 0u);
}

// A joiner on a slow link (20 KB/s) is still filling when the next boundary sweeps its fill's
// root from its neighbours: it starts again at the new head, and from then on is correct.
TEST(MgrScenario, SlowJoinerRestartsWhenABoundarySweepsItsRoot) {
    MgrScenarioConfig c = small_network();
    c.joiners = 1;
    c.join_block = 14;
    c.joiner_bandwidth = 20'000;
    const MgrScenarioResult r = run_mgr_scenario(c);
    print_joined(r);
    ASSERT_TRUE(r.synced) << r.failure;
    EXPECT_EQ(r.store_mismatches, 0u);
    ASSERT_EQ(r.joined.size(), 1u);
    const JoinedNodeResult& j = r.joined[0];
    EXPECT_TRUE(j.filled);
    EXPECT_GE(j.restarts, 1u);
    EXPECT_GE(j.filled_number, 16u);
    EXPECT_GE(j.unfilled_checks, 1u);  // the boundary it missed
    EXPECT_GE(j.boundary_checks, 2u);
    EXPECT_EQ(j.mismatches, 0u);
    EXPECT_EQ(j.probes_failed, 0u);
    EXPECT_EQ(j.offers_before_fill, 0u);
}

// Issue 5: "A node ... whose radius grows, fills its range from its neighbours with the same
// retrieval calls a syncing client uses." Two seeded nodes covering one region double their radius
// half-way through the second epoch. Asked at once, each refuses a new region (0x0: it is filling)
// and serves an old one with a verified answer; its new region is filled before the next boundary,
// and at every boundary after it all its stores equal the true partial tries and its answers
// verify. The client, which syncs meanwhile and learns the new radius, still syncs.
TEST(MgrScenario, NodesGrowingTheirRadiusFillTheNewRegionsAndKeepServing) {
    MgrScenarioConfig c = small_network();
    c.growers = 2;
    c.grow_block = 12;  // E = 8: half-way through the second epoch
    const MgrScenarioResult r = run_mgr_scenario(c);
    print_grown(r);
    ASSERT_NO_FATAL_FAILURE(expect_synced(r));
    EXPECT_EQ(r.items_rejected, 0u);
    ASSERT_EQ(r.grown.size(), 2u);
    for (const GrownNodeResult& g : r.grown) {
        EXPECT_EQ(g.grow_block, 12u);
        EXPECT_EQ(g.bits_before, 254u);
        EXPECT_EQ(g.bits_after, 255u);
        EXPECT_EQ(g.new_regions, 1u);
        EXPECT_TRUE(g.filled);
        EXPECT_GE(g.filled_number, 12u);
        EXPECT_LT(g.filled_number, 16u);  // filled before the next boundary
        EXPECT_GT(g.fill_seconds, 0.0);
        EXPECT_GT(g.fill_bytes, 0u);
        EXPECT_GT(g.store_bytes, 0u);
        EXPECT_EQ(g.rejected_answers, 0u);
        EXPECT_EQ(g.restarts, 0u);
        EXPECT_EQ(g.unfilled_checks, 0u);
        EXPECT_GE(g.new_region_checks, 2u);  // the new region matched at two boundaries or more
        EXPECT_GE(g.boundary_checks, 4u);    // ... and so did the old one
        EXPECT_EQ(g.mismatches, 0u);
        EXPECT_GE(g.probes_ok, 4u);
        EXPECT_GE(g.diff_probes_ok, 1u);
        EXPECT_EQ(g.probes_failed, 0u);
        EXPECT_EQ(g.refused_while_filling, 1u);  // the new region, asked while filling: 0x0
        EXPECT_EQ(g.served_while_filling, 0u);
        EXPECT_EQ(g.old_served_while_filling, 1u);  // the old region, asked at the same moment: verified
        EXPECT_GT(g.items_applied, 0u);
    }
}

// Issue 5: "Radius ... can shrink to fit a storage budget." Four nodes covering two regions each
// shrink to 60% of their stores' bytes mid-sync: each keeps one region, within the budget, whose
// store still equals the true partial tries at every boundary after; the other nodes cover the
// regions they dropped, and the client still syncs.
TEST(MgrScenario, NodesShrinkingToABudgetKeepOneRegionAndTheClientStillSyncs) {
    MgrScenarioConfig c = small_network();
    c.radius_bits = 255;  // two regions per node, about 8 copies of each
    c.shrinkers = 4;
    c.shrink_block = 12;
    c.shrink_share = 0.6;
    const MgrScenarioResult r = run_mgr_scenario(c);
    ASSERT_NO_FATAL_FAILURE(expect_synced(r));
    EXPECT_GT(r.sync_finished_block, 12u);  // the shrink came mid-sync
    ASSERT_EQ(r.shrunk.size(), 4u);
    for (const ShrunkNodeResult& s : r.shrunk) {
        std::printf(
            "shrank after block %llu from %u to %u bits: %llu -> %llu bytes (budget %llu); %llu boundary "
            "checks, %llu mismatches\n",
            static_cast<unsigned long long>(s.shrink_block), s.bits_before, s.bits_after,
            static_cast<unsigned long long>(s.bytes_before), static_cast<unsigned long long>(s.bytes_after),
            static_cast<unsigned long long>(s.budget), static_cast<unsigned long long>(s.boundary_checks),
            static_cast<unsigned long long>(s.mismatches));
        EXPECT_EQ(s.bits_before, 255u);
        EXPECT_EQ(s.bits_after, 254u);
        EXPECT_GT(s.bytes_after, 0u);
        EXPECT_LE(s.bytes_after, s.budget);
        EXPECT_GE(s.boundary_checks, 1u);  // one store, at the boundaries after the shrink
        EXPECT_EQ(s.mismatches, 0u);
    }
}

}  // namespace
}  // namespace carousel::sim
