// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include <map>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <carousel/core/keccak.hpp>
#include <carousel/trie/node_store.hpp>

namespace carousel::trie {
namespace {

Bytes random_rlp(std::mt19937_64& rng, std::size_t size) {
    Bytes b(size, 0);
    for (auto& c : b) c = static_cast<uint8_t>(rng());
    return b;
}

// MemoryNodeStore against a std::map model, across index growth, put_node and put_nodes, repeated
// puts and nodes larger than its chunks.
TEST(MemoryNodeStore, KeepsEveryNodeItIsGiven) {
    std::mt19937_64 rng{5};
    MemoryNodeStore store;
    std::map<Hash, Bytes> model;
    std::vector<Hash> hashes;
    std::vector<Bytes> rlps;
    for (int i = 0; i < 20000; ++i) {
        const std::size_t size = i % 997 == 0 ? (std::size_t{3} << 20) : 1 + rng() % 600;
        Bytes rlp = random_rlp(rng, size);
        const Hash h = keccak256(rlp);
        if (i % 2 == 0) {
            store.put_node(h, rlp);
            model.emplace(h, rlp);
        } else {
            hashes.push_back(h);
            rlps.push_back(std::move(rlp));
            if (hashes.size() == 37) {
                std::vector<ByteView> views(rlps.begin(), rlps.end());
                store.put_nodes(hashes, views);
                for (std::size_t k = 0; k < hashes.size(); ++k) model.emplace(hashes[k], rlps[k]);
                hashes.clear();
                rlps.clear();
            }
        }
        if (i % 1000 == 0 && !model.empty()) {  // a repeated put changes nothing
            const auto& [first_hash, first_rlp] = *model.begin();
            store.put_node(first_hash, first_rlp);
        }
    }
    ASSERT_EQ(store.size(), model.size());
    Bytes buffer;
    for (const auto& [h, rlp] : model) {
        store.prefetch_node(h);  // a hint only
        auto got = store.get_node(h);
        ASSERT_TRUE(got);
        ASSERT_EQ(*got, rlp);
        ASSERT_TRUE(store.read_node(h, buffer).value_or(false));
        ASSERT_EQ(buffer, rlp);
    }
    Hash absent{};
    absent[0] = 1;
    EXPECT_FALSE(store.get_node(absent));
    EXPECT_FALSE(store.read_node(absent, buffer).value_or(true));
    MemoryNodeStore empty;
    empty.prefetch_node(absent);
    EXPECT_FALSE(empty.get_node(absent));
    EXPECT_EQ(empty.size(), 0U);
}

TEST(MemoryNodeStore, CopiesAreDeep) {
    MemoryNodeStore store;
    const Bytes a = to_bytes("node a"), b = to_bytes("node b");
    store.put_node(keccak256(a), a);
    MemoryNodeStore copy = store;
    copy.put_node(keccak256(b), b);
    EXPECT_EQ(store.size(), 1U);
    EXPECT_EQ(copy.size(), 2U);
    EXPECT_EQ(copy.get_node(keccak256(a)), a);
    store = copy;
    EXPECT_EQ(store.get_node(keccak256(b)), b);
}

TEST(MemoryNodeStore, ReserveKeepsContents) {
    MemoryNodeStore store;
    const Bytes rlp = to_bytes("a node");
    const Hash h = keccak256(rlp);
    store.put_node(h, rlp);
    store.reserve(100000);
    EXPECT_EQ(store.size(), 1U);
    EXPECT_EQ(store.get_node(h), rlp);
}

// Two threads writing batches through one LockedNodeStore (as WorldState's two hashing threads do)
// leave every node of both in the store, across the index's growth.
TEST(LockedNodeStore, TwoThreadsWritingAtOnceLoseNothing) {
    MemoryNodeStore store;
    LockedNodeStore locked{store};
    constexpr int kBatches = 200;
    constexpr int kBatch = 50;
    auto write = [&locked](uint64_t seed, std::vector<Hash>& written) {
        std::mt19937_64 rng{seed};
        std::vector<Bytes> rlps;
        std::vector<Hash> hashes;
        std::vector<ByteView> views;
        for (int b = 0; b < kBatches; ++b) {
            rlps.clear();
            hashes.clear();
            views.clear();
            for (int i = 0; i < kBatch; ++i) {
                rlps.push_back(random_rlp(rng, 32 + rng() % 500));
                hashes.push_back(keccak256(rlps.back()));
            }
            for (const Bytes& r : rlps) views.emplace_back(r);
            locked.put_nodes(hashes, views);
            locked.release_node(hashes.front());  // a MemoryNodeStore keeps it all the same
            written.insert(written.end(), hashes.begin(), hashes.end());
        }
    };
    std::vector<Hash> first;
    std::vector<Hash> second;
    std::thread other{[&] { write(2, second); }};
    write(1, first);
    other.join();
    EXPECT_EQ(store.size(), static_cast<std::size_t>(2 * kBatches * kBatch));
    for (const auto* written : {&first, &second}) {
        for (const Hash& h : *written) {
            auto rlp = locked.get_node(h);
            ASSERT_TRUE(rlp.has_value());
            EXPECT_EQ(keccak256(*rlp), h);
        }
    }
}

}  // namespace
}  // namespace carousel::trie
