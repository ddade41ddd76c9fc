// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// HashBuilder against Trie (itself checked against ethereum/tests in trie_test.cpp): the same roots
// and the same nodes, streaming.
#include <map>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include <carousel/core/keccak.hpp>
#include <carousel/testing/random_trie.hpp>
#include <carousel/trie/hash_builder.hpp>
#include <carousel/trie/node_walker.hpp>
#include <carousel/trie/trie.hpp>

namespace carousel::trie {
namespace {

std::map<Bytes, Bytes> random_leaves(uint64_t seed, std::size_t n) { return test::RandomTrie{seed, n, 100}.leaves; }

Hash trie_root(const std::map<Bytes, Bytes>& leaves, NodeStore* store = nullptr) {
    Trie t{store};
    for (const auto& [k, v] : leaves) EXPECT_TRUE(t.put(k, v));
    return t.root();
}

TEST(HashBuilder, EmptyIsTheEmptyRoot) {
    HashBuilder hb;
    EXPECT_EQ(hb.size(), 0U);
    EXPECT_EQ(hb.root(), kEmptyRoot);
}

TEST(HashBuilder, RootsMatchTrie) {
    for (std::size_t n : {1UL, 2UL, 3UL, 17UL, 100UL, 1000UL, 20000UL}) {
        const auto leaves = random_leaves(n, n);
        HashBuilder hb;
        for (const auto& [k, v] : leaves) hb.add_leaf(k, v);
        EXPECT_EQ(hb.size(), n);
        EXPECT_EQ(hb.root(), trie_root(leaves)) << n;
        // Reusable once root() returned.
        EXPECT_EQ(hb.size(), 0U);
        hb.add_leaf(leaves.begin()->first, leaves.begin()->second);
        EXPECT_EQ(hb.root(), trie_root({*leaves.begin()})) << n;
    }
}

TEST(HashBuilder, ReportsEveryHashedNodeAtItsPosition) {
    const auto leaves = random_leaves(7, 5000);
    std::map<Nibbles, std::pair<Hash, Bytes>> built;
    HashBuilder hb{[&](ByteView path, const Hash& hash, ByteView rlp) {
        EXPECT_EQ(keccak256(rlp), hash);
        EXPECT_TRUE(built.emplace(Nibbles{path}, std::pair{hash, Bytes{rlp}}).second);
    }};
    for (const auto& [k, v] : leaves) hb.add_leaf(k, v);
    const Hash root = hb.root();
    // The nodes Trie stores, walked by position, are exactly those reported.
    MemoryNodeStore store;
    ASSERT_EQ(trie_root(leaves, &store), root);
    std::map<Nibbles, std::pair<Hash, Bytes>> walked;
    NodeWalker w{store, nullptr, view(root)};
    while (w.next()) {
        if (is_hash_reference(w.ref())) walked.emplace(Nibbles{w.path()}, std::pair{to_hash(w.ref()), Bytes{w.rlp()}});
    }
    EXPECT_EQ(built, walked);
}

TEST(HashBuilder, SubtreesStandForTheirLeaves) {
    // Range-proof verification's use: leaves outside a position given as the subtree's reference.
    const auto leaves = random_leaves(9, 3000);
    MemoryNodeStore store;
    const Hash root = trie_root(leaves, &store);
    const Bytes root_rlp = *store.get_node(root);
    auto root_node = decode_node(root_rlp);  // views into root_rlp
    ASSERT_TRUE(root_node && root_node->kind == NodeKind::kBranch);
    for (const std::set<uint8_t>& given : std::vector<std::set<uint8_t>>{{0}, {15}, {0, 1, 14, 15}, {3}, {3, 11}}) {
        HashBuilder hb;
        for (uint8_t slot = 0; slot < 16; ++slot) {
            if (given.count(slot) != 0) {
                hb.add_subtree(Nibbles{slot}, root_node->children[slot]);
                continue;
            }
            for (const auto& [k, v] : leaves) {
                if ((k[0] >> 4) == slot) hb.add_leaf(k, v);
            }
        }
        EXPECT_EQ(hb.root(), root) << *given.begin() << " " << given.size();
    }
}

}  // namespace
}  // namespace carousel::trie
