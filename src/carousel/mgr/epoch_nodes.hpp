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

#include <cstddef>
#include <memory>
#include <unordered_map>
#include <unordered_set>

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
};

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

// The nodes of one region in Column::kTrieNodes of `kv` (which outlives this), each under the
// region's first key and bit count (two bytes) ahead of its hash (66 bytes), so the regions of one node, or of
// several, share a KV without sharing a node's lifetime.
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

  private:
    Bytes key(const Hash& hash) const;
    // Writes `batch`; on failure keeps the first error. Returns whether it was written.
    bool write(const store::WriteBatch& batch);

    store::KV& kv_;
    Bytes prefix_;  // the region's first key and its bits (big-endian u16)
    std::size_t size_{0};
    Status status_;
};

}  // namespace carousel::mgr
