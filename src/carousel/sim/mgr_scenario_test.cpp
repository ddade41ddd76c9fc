// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "mgr_scenario.hpp"

#include <gtest/gtest.h>

namespace carousel::sim {
namespace {

    // A small network for the quick suite (the sanitizer run too): 16 nodes with about 4 copies of
    // each region, a few thousand accounts, E = 8, and a client slow enough to cross boundaries.
    MgrScenarioConfig small_network() {
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

    TEST(MgrScenario, SmallNetworkSyncsAcrossBoundaries) {
        const MgrScenarioResult r = run_mgr_scenario(small_network());
        ASSERT_TRUE(r.synced) << r.failure;
        EXPECT_EQ(r.failure, "");
        EXPECT_EQ(r.verified_root, r.chain_root);
        EXPECT_GE(r.boundaries_crossed, 3u);
        EXPECT_GT(r.client.rolls, 0u);
        EXPECT_GT(r.client.bare_requests, 0u);  // small storage tries came bare
        EXPECT_GT(r.boundary_checks, 0u);
        EXPECT_EQ(r.store_mismatches, 0u);
        EXPECT_EQ(r.items_rejected, 0u);
        EXPECT_GT(r.accounts, 1900u);
        EXPECT_GT(r.slots, 0u);
        EXPECT_GT(r.codes, 0u);
    }

    TEST(MgrScenario, SmallNetworkWithFaults) {
        MgrScenarioConfig c = small_network();
        c.nodes = 20;
        c.offline_share = 0.1;
        c.liar_share = 0.1;
        c.stale_share = 0.1;
        const MgrScenarioResult r = run_mgr_scenario(c);
        ASSERT_TRUE(r.synced) << r.failure;
        EXPECT_EQ(r.verified_root, r.chain_root);
        EXPECT_GT(r.client.rejected_answers, 0u);  // the liars were caught
        EXPECT_GT(r.client.banned_peers, 0u);
        EXPECT_EQ(r.store_mismatches, 0u);
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

}  // namespace
}  // namespace carousel::sim
