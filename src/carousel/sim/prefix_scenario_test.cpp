// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "prefix_scenario.hpp"

#include <gtest/gtest.h>

#include <carousel/state/account.hpp>
#include <carousel/trie/trie.hpp>

namespace carousel::sim {
namespace {

state::GeneratorConfig small_chain() {
    state::GeneratorConfig c;
    c.seed = 7;
    c.accounts = 1500;
    return c;
}

TEST(PrefixScenario, SyncsTheWholeStateInBothModes) {
    for (const bool leaf_mode : {false, true}) {
        PrefixScenarioConfig config;
        config.chain = small_chain();
        config.servers = 3;
        config.leaf_mode = leaf_mode;
        uint64_t steps = 0;
        const auto r = run_prefix_scenario(config, {}, [&](const prefix::SyncProgress&) { ++steps; });
        EXPECT_TRUE(r.generated);
        EXPECT_TRUE(r.done);
        EXPECT_TRUE(r.verified) << (leaf_mode ? "leaf mode" : "full mode");
        EXPECT_EQ(r.state.accounts, 1500u);
        EXPECT_GT(r.state.raw_leaf_bytes, 1500u * 32);
        EXPECT_GT(steps, 0u);
        EXPECT_EQ(r.peers.size(), 3u);
    }
}

// check_state finds what a copy lacks: a storage trie's node, a code blob.
TEST(PrefixScenario, CheckStateFindsAMissingStorageNodeAndAMissingCode) {
    ServedChain chain{small_chain(), 0};
    ASSERT_TRUE(chain.ok);
    const Hash root = chain.roots.front();
    const StateCheck whole = check_state(chain.nodes, chain.code, root);
    EXPECT_TRUE(whole.complete);
    EXPECT_EQ(whole.accounts, 1500u);

    // The first account with storage and the first with code.
    std::optional<Hash> storage_root;
    std::optional<Hash> code_hash;
    trie::Trie accounts{&chain.nodes, root};
    ASSERT_TRUE(accounts.for_each([&](ByteView, ByteView value) {
        ByteView in = value;
        const auto a = state::decode_account(in);
        ASSERT_TRUE(a);
        if (!storage_root && a->storage_root != trie::kEmptyRoot) storage_root = a->storage_root;
        if (!code_hash && a->code_hash != state::kEmptyCodeHash) code_hash = a->code_hash;
    }));
    ASSERT_TRUE(storage_root && code_hash);

    // The served nodes with the storage trie's root node hidden.
    struct Hiding final : trie::NodeStore {
        const trie::NodeStore& inner;
        Hash hidden;
        Hiding(const trie::NodeStore& i, const Hash& h) : inner(i), hidden(h) {}
        std::optional<Bytes> get_node(const Hash& hash) const override {
            if (hash == hidden) return std::nullopt;
            return inner.get_node(hash);
        }
        void put_node(const Hash&, ByteView) override {}
    };
    Hiding without_storage{chain.nodes, *storage_root};
    Hiding without_nothing{chain.nodes, Hash{}};
    EXPECT_TRUE(check_state(without_nothing, chain.code, root).complete);
    EXPECT_FALSE(check_state(without_storage, chain.code, root).complete);

    state::MemoryCodeStore without_code = chain.code;
    EXPECT_EQ(without_code.erase_if([&](const Hash& h) { return h == *code_hash; }), 1u);
    EXPECT_FALSE(check_state(chain.nodes, without_code, root).complete);
}

}  // namespace
}  // namespace carousel::sim
