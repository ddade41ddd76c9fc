// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// A syncing client's stores on a KV: trie nodes by hash (kTrieNodes, the RLP as it is) and code by
// hash (kCode). No reference counts: a sync only adds. (StateStore, which serves and prunes, keeps
// counts and a different layout; a client database is not a StateStore database.)
//
// KvNodeStore is built for the two things a sync does millions of times:
//  - put_node: puts collect in memory and go out as one sorted write (KV::put_sorted: RocksKV makes
//    it a table file and ingests it, with no memtable inserts) once they hold `flush_bytes` (or on
//    flush() and destruction). A per-node cost stays small, as the puts wait in one buffer, not one
//    allocation each. Batches are written in the order the
//    puts came, each atomically, so after a kill -9 the store holds a prefix of the puts: a sync
//    that puts a node only after its whole subtree (TrieSync) still finds only complete subtrees.
//    What a kill loses is the last batch (at most `flush_bytes`, fetched again on resume); a caller
//    that wants a bound in time calls flush() on its own schedule.
//  - get_node of a node the store does not have (does this child need fetching?): a Bloom filter
//    of every hash in the store answers most of them without reading the KV. The filter has a fixed
//    size (`filter_bytes`), so memory stays bounded whatever the state size; past its design load
//    it only lets more lookups through to the KV. It is filled from the KV when the store is opened
//    (a resumed sync), which reads the whole column once.
//
// Write errors cannot travel through NodeStore::put_node; the first one is kept in status() and
// later puts are dropped, so a sync that sees it stops and reports it. A read that fails is
// find_node's error, and is kept in status() too: a caller that asks only whether a node is held
// (get_node, as TrieSync does) fetches it again, and its sync still stops with the error. Not thread-safe: one thread
// (the sync's) uses it.

#include <array>
#include <vector>

#include <carousel/state/code_store.hpp>
#include <carousel/trie/node_store.hpp>

#include "kv.hpp"

namespace carousel::store {

struct KvNodeStoreOptions {
    std::size_t filter_bytes = std::size_t{32} << 20;  // Bloom filter (rounded up to a power of two)
    std::size_t flush_bytes = std::size_t{8} << 20;    // write the batch when it holds this much
};

class KvNodeStore final : public trie::NodeStore {
  public:
    explicit KvNodeStore(KV& kv, KvNodeStoreOptions options = {});
    ~KvNodeStore() override;
    KvNodeStore(const KvNodeStore&) = delete;
    KvNodeStore& operator=(const KvNodeStore&) = delete;

    // A failed read of the KV is its Status (get_node: a missing node), also kept in status().
    trie::NodeRead find_node(const Hash& hash) const override;
    void put_node(const Hash& hash, ByteView rlp) override;

    // Writes the puts collected so far (one atomic batch). Errors land in status().
    void flush() override;

    [[nodiscard]] const Status& status() const noexcept { return status_; }
    // Lookups the filter answered without the KV, and lookups that went to the KV.
    [[nodiscard]] uint64_t filtered_gets() const noexcept { return filtered_gets_; }
    [[nodiscard]] uint64_t kv_gets() const noexcept { return kv_gets_; }

  private:
    // A put not written yet: its RLP is pending_rlp_[offset, offset + size).
    struct Pending {
        Hash hash;
        std::size_t offset;
        std::size_t size;
    };

    bool maybe_has(const Hash& hash) const noexcept;
    void remember(const Hash& hash) noexcept;
    // The pending put of `hash`, or null.
    const Pending* find_pending(const Hash& hash) const noexcept;
    // Adds pending_[position] to the index, which has a free slot.
    void index_pending(std::size_t position) noexcept;
    // Doubles the index (at least 1024 slots) and indexes every pending put again.
    void grow_index();

    KV& kv_;
    KvNodeStoreOptions options_;
    mutable Status status_;  // the first error, of a write or a read
    // One cache line of the Bloom filter: every probe of a hash lands in one block.
    struct alignas(64) FilterBlock {
        std::array<uint64_t, 8> words{};
    };
    std::vector<FilterBlock> filter_;
    uint64_t block_mask_{0};        // block count - 1
    std::vector<Pending> pending_;  // in put order
    Bytes pending_rlp_;             // their RLPs, back to back
    std::vector<ByteView> keys_;    // flush()'s sorted batch, reused
    std::vector<ByteView> values_;
    std::vector<uint32_t> index_;  // open addressing by hash: 1 + position in pending_, 0 when free
    std::size_t pending_bytes_{0};
    mutable uint64_t filtered_gets_{0};
    mutable uint64_t kv_gets_{0};
};

class KvCodeStore final : public state::CodeStore {
  public:
    explicit KvCodeStore(KV& kv) : kv_{kv} {}
    std::optional<Bytes> get_code(const Hash& code_hash) const override;
    // Written at once (code is rare next to nodes; an account node that needs it is put later).
    void put_code(const Hash& code_hash, ByteView code) override;
    [[nodiscard]] const Status& status() const noexcept { return status_; }

  private:
    KV& kv_;
    Status status_;
};

}  // namespace carousel::store
