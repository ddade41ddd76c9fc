// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// EpochNodes: where an EpochStore keeps its trie nodes, by hash: in memory (MemoryEpochNodes, what
// the simulator's nodes use) or in a store::KV (KvEpochNodes: a region's nodes on RocksDB, so a
// mainnet-sized region need not fit in memory). The EpochStore decides what is held (it enters
// through seed, adopt and apply, and leaves through the boundary's sweep); this only holds it.
//
// Reads tell an absent node from a failed read (trie::NodeRead). Writes cannot return an error to
// the walk that makes them, so a failed write is kept in status() (the first one) and the node
// counts as not added; the owner must check status() after each change and stop on an error.
//
// Changes are transactions: the owner ends each one (a seed, an adoption, a block with its sweep)
// with commit(), and a durable holder (KvEpochNodes) writes what the change added and dropped,
// with the owner's own records (mgr/epoch_records.hpp), as one atomic KV write: after a crash the
// KV holds the store before or after the change, never a part of it. Until then the change is
// staged in memory, where reads see it.

#include <cstddef>
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include <tl/expected.hpp>

#include <carousel/core/bytes.hpp>
#include <carousel/core/status.hpp>
#include <carousel/store/kv.hpp>
#include <carousel/trie/node_store.hpp>

#include "placement.hpp"

namespace carousel::mgr {

using NodeMap = std::unordered_map<Hash, Bytes, trie::HashHasher>;
using HashSet = std::unordered_set<Hash, trie::HashHasher>;

class EpochNodes {
  public:
    virtual ~EpochNodes() = default;
    // The node's RLP; nullopt when not held; the error when the read failed.
    virtual trie::NodeRead find(const Hash& hash) const = 0;
    // As find, into `out`, which may view the holder's own memory (valid until it changes) or
    // `scratch`: true when found.
    virtual trie::NodeFound view(const Hash& hash, Bytes& scratch, ByteView& out) const = 0;
    // Adds the node unless it is held. Returns whether it was added.
    virtual bool add(const Hash& hash, ByteView rlp) = 0;
    // Makes `nodes` the only nodes held.
    virtual void replace(const NodeMap& nodes) = 0;
    // Drops every node whose hash is not in `live`. Returns the RLP bytes dropped.
    virtual std::size_t keep_only(const HashSet& live) = 0;
    // Nodes held.
    virtual std::size_t size() const noexcept = 0;
    // The first failed write, or ok.
    virtual const Status& status() const noexcept = 0;
    // Whether the holder persists: then the owner passes its records to commit().
    virtual bool durable() const noexcept { return false; }
    // Ends a change: writes the nodes it added and dropped with `records` (the owner's, in
    // Column::kMeta) in one atomic write. A failed write is kept in status(). In memory: nothing.
    virtual void commit(const store::WriteBatch& records) { (void)records; }
};

// The key prefix of `region`'s data in a KV: its first key and its bit count (two bytes,
// big-endian). The nodes (KvEpochNodes) and the records (mgr/epoch_records.hpp) of a region live
// under it, so the regions of one node share a KV without sharing a key.
Bytes region_key_prefix(const Region& region);

class MemoryEpochNodes final : public EpochNodes {
  public:
    trie::NodeRead find(const Hash& hash) const override;
    trie::NodeFound view(const Hash& hash, Bytes& scratch, ByteView& out) const override;
    bool add(const Hash& hash, ByteView rlp) override;
    void replace(const NodeMap& nodes) override { nodes_ = nodes; }
    std::size_t keep_only(const HashSet& live) override;
    std::size_t size() const noexcept override { return nodes_.size(); }
    const Status& status() const noexcept override { return status_; }

  private:
    NodeMap nodes_;
    Status status_;
};

// The nodes of one region in Column::kTrieNodes of `kv` (which outlives this), each under
// region_key_prefix(region) ahead of its hash (66 bytes), so the regions of one node, or of
// several, share a KV without sharing a node's lifetime. What an earlier run left under the prefix
// is the region's (a node reopening its store): the constructor counts it.
class KvEpochNodes final : public EpochNodes {
  public:
    KvEpochNodes(store::KV& kv, const Region& region);
    trie::NodeRead find(const Hash& hash) const override;
    trie::NodeFound view(const Hash& hash, Bytes& scratch, ByteView& out) const override;
    bool add(const Hash& hash, ByteView rlp) override;
    void replace(const NodeMap& nodes) override;
    std::size_t keep_only(const HashSet& live) override;
    std::size_t size() const noexcept override { return size_; }
    const Status& status() const noexcept override { return status_; }
    bool durable() const noexcept override { return true; }
    void commit(const store::WriteBatch& records) override;

    // Reads every node held (committed: call it with no change staged) and checks that each is
    // stored under the Keccak-256 hash of its RLP. Returns their RLP bytes; corruption naming the
    // first node that is not, or the KV's read error.
    tl::expected<std::size_t, Status> check_hashes() const;

  private:
    Bytes key(const Hash& hash) const;
    // Whether `hash` is held by the KV and not dropped by the staged change (not looking at added_).
    trie::NodeFound held_before(const Hash& hash, Bytes& scratch) const;
    void fail(const Status& s);

    store::KV& kv_;
    Bytes prefix_;  // region_key_prefix(region)
    std::size_t size_{0};
    Status status_;
    // The change staged until commit(): its writes in order, the nodes it added (reads see them),
    // the committed ones it dropped, and whether it replaced everything (the KV's nodes then unseen).
    store::WriteBatch batch_;
    NodeMap added_;
    HashSet dropped_;
    bool replaced_{false};
};

}  // namespace carousel::mgr
