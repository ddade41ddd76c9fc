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
#include <carousel/testing/fault_kv.hpp>

namespace carousel::store {
namespace {

Bytes node(int i) {
    const std::string s = "node number " + std::to_string(i) + " padded to be longer than thirty-two bytes";
    return Bytes{reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Puts node(0) .. node(count - 1); their hashes, in put order.
std::vector<Hash> put_nodes(trie::NodeStore& store, int count) {
    std::vector<Hash> hashes;
    for (int i = 0; i < count; ++i) {
        const Bytes n = node(i);
        hashes.push_back(keccak256(n));
        store.put_node(hashes.back(), n);
    }
    return hashes;
}

// How many of the nodes `hashes` (in put order) the KV holds, checking that they are a prefix of them.
std::size_t written_prefix(const KV& kv, const std::vector<Hash>& hashes) {
    std::size_t written = 0;
    Bytes v;
    while (written < hashes.size() && kv.get(Column::kTrieNodes, view(hashes[written]), v).ok()) ++written;
    for (std::size_t i = written; i < hashes.size(); ++i) {
        EXPECT_TRUE(kv.get(Column::kTrieNodes, view(hashes[i]), v).is_not_found()) << i;
    }
    return written;
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
    const std::vector<Hash> hashes = put_nodes(store, 200);
    // Whatever reached the KV is a prefix of the puts: a kill now loses only the tail.
    EXPECT_GT(written_prefix(kv, hashes), 150U);
    for (const Hash& h : hashes) EXPECT_TRUE(store.get_node(h));
}

TEST(KvNodeStore, FilterAnswersMissesAndIsRefilledOnOpen) {
    MemoryKV kv;
    std::vector<Hash> hashes;
    {
        KvNodeStore store{kv};
        hashes = put_nodes(store, 1000);
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
    const std::vector<Hash> hashes = put_nodes(store, 2000);
    store.flush();
    for (const Hash& h : hashes) EXPECT_TRUE(store.get_node(h));
    for (int i = 2000; i < 2100; ++i) EXPECT_FALSE(store.get_node(keccak256(node(i))));
}

// ---- I/O errors, injected (testing::FaultKV) --------------------------------------------------------

TEST(KvNodeStoreFaults, AFailedReadIsAnErrorNotAnAbsentNode) {
    MemoryKV memory;
    testing::FaultKV kv{memory};
    const Bytes n = node(1);
    const Hash h = keccak256(n);
    {
        KvNodeStore writer{kv};
        writer.put_node(h, n);
    }
    KvNodeStore store{kv};
    auto found = store.find_node(h);
    ASSERT_TRUE(found);
    EXPECT_EQ(*found, n);
    kv.fail_nth(testing::FaultKV::Op::kRead, 1);
    auto failed = store.find_node(h);
    ASSERT_FALSE(failed);
    EXPECT_TRUE(failed.error().is_io_error()) << failed.error().to_string();
    EXPECT_TRUE(store.status().is_io_error()) << "the error is kept for the sync to report";
    Bytes out;
    auto read = store.read_node(h, out);
    ASSERT_TRUE(read) << "the fault was once";
    EXPECT_TRUE(*read);
    EXPECT_EQ(out, n);
    // Absent stays absent.
    auto absent = store.find_node(keccak256(node(2)));
    ASSERT_TRUE(absent);
    EXPECT_FALSE(*absent);
}

// A batch that fails to write leaves none of its nodes in the KV; the batches before it are whole,
// and the store drops every put after the error (status() says why).
TEST(KvNodeStoreFaults, AFailedFlushWritesNoneOfItsBatch) {
    MemoryKV memory;
    testing::FaultKV kv{memory};
    KvNodeStoreOptions o;
    o.flush_bytes = 1000;
    KvNodeStore store{kv, o};
    kv.fail_nth(testing::FaultKV::Op::kWrite, 3);
    const std::vector<Hash> hashes = put_nodes(store, 200);
    store.flush();
    EXPECT_EQ(kv.injected(), 1U);
    EXPECT_TRUE(store.status().is_io_error()) << store.status().to_string();
    EXPECT_EQ(kv.count(testing::FaultKV::Op::kWrite), 3U) << "no write after the failed one";
    // The KV holds the batches before the failed one: a prefix of the puts.
    const std::size_t written = written_prefix(memory, hashes);
    EXPECT_GT(written, 0U);
    EXPECT_LT(written, 100U);
}

}  // namespace
}  // namespace carousel::store
