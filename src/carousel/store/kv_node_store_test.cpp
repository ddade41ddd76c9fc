// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors

// KvNodeStore: batched puts (a prefix of the puts survives), the hash filter (answers misses
// without the KV, never hides a stored node), refilled from the KV on open.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <carousel/core/keccak.hpp>
#include <carousel/store/kv_node_store.hpp>
#include <carousel/store/memory_kv.hpp>

namespace carousel::store {
namespace {

Bytes node(int i) {
    const std::string s = "node number " + std::to_string(i) + " padded to be longer than thirty-two bytes";
    return Bytes{reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(KvNodeStore, PutsAreVisibleAtOnceAndInTheKvAfterFlush) {
    MemoryKV kv;
    KvNodeStore store{kv};
    const Bytes n = node(1);
    const Hash h = keccak256(n);
    EXPECT_FALSE(store.get_node(h));
    store.put_node(h, n);
    ASSERT_TRUE(store.get_node(h));
    EXPECT_EQ(*store.get_node(h), n);
    Bytes v;
    EXPECT_TRUE(kv.get(Column::kTrieNodes, view(h), v).is_not_found()) << "batched, not written yet";
    store.flush();
    ASSERT_TRUE(kv.get(Column::kTrieNodes, view(h), v).ok());
    EXPECT_EQ(v, n);
    EXPECT_EQ(*store.get_node(h), n);
    EXPECT_TRUE(store.status().ok());
}

TEST(KvNodeStore, WritesInOrderedBatchesOfAboutFlushBytes) {
    MemoryKV kv;
    KvNodeStoreOptions o;
    o.flush_bytes = 1000;
    KvNodeStore store{kv, o};
    std::vector<Hash> hashes;
    for (int i = 0; i < 200; ++i) {
        const Bytes n = node(i);
        hashes.push_back(keccak256(n));
        store.put_node(hashes.back(), n);
    }
    // Whatever reached the KV is a prefix of the puts: a kill now loses only the tail.
    std::size_t written = 0;
    Bytes v;
    while (written < hashes.size() && kv.get(Column::kTrieNodes, view(hashes[written]), v).ok()) ++written;
    EXPECT_GT(written, 150U);
    for (std::size_t i = written; i < hashes.size(); ++i) {
        EXPECT_TRUE(kv.get(Column::kTrieNodes, view(hashes[i]), v).is_not_found()) << i;
    }
    for (const Hash& h : hashes) EXPECT_TRUE(store.get_node(h));
}

TEST(KvNodeStore, FilterAnswersMissesAndIsRefilledOnOpen) {
    MemoryKV kv;
    std::vector<Hash> hashes;
    {
        KvNodeStore store{kv};
        for (int i = 0; i < 1000; ++i) {
            const Bytes n = node(i);
            hashes.push_back(keccak256(n));
            store.put_node(hashes.back(), n);
        }
    }  // destruction flushes
    KvNodeStore reopened{kv};
    for (const Hash& h : hashes) EXPECT_TRUE(reopened.get_node(h)) << "a stored node is never hidden";
    const uint64_t kv_before = reopened.kv_gets();
    for (int i = 1000; i < 11000; ++i) EXPECT_FALSE(reopened.get_node(keccak256(node(i))));
    EXPECT_EQ(reopened.filtered_gets(), 10000U - (reopened.kv_gets() - kv_before));
    EXPECT_LT(reopened.kv_gets() - kv_before, 10U) << "misses go to the KV only on a filter false positive";
}

TEST(KvNodeStore, ASmallFilterOnlyLetsMoreLookupsThrough) {
    MemoryKV kv;
    KvNodeStoreOptions o;
    o.filter_bytes = 64;  // 512 bits for 2000 nodes: nearly every lookup passes the filter
    KvNodeStore store{kv, o};
    std::vector<Hash> hashes;
    for (int i = 0; i < 2000; ++i) {
        const Bytes n = node(i);
        hashes.push_back(keccak256(n));
        store.put_node(hashes.back(), n);
    }
    store.flush();
    for (const Hash& h : hashes) EXPECT_TRUE(store.get_node(h));
    for (int i = 2000; i < 2100; ++i) EXPECT_FALSE(store.get_node(keccak256(node(i))));
}

}  // namespace
}  // namespace carousel::store
