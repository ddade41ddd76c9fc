// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// NodeStore: where trie nodes live, by the Keccak-256 hash of their RLP. Only nodes of 32 bytes or
// more are stored on their own; shorter ones are embedded in their parent.

#include <optional>
#include <unordered_map>

#include <carousel/core/bytes.hpp>

namespace carousel::trie {

struct HashHasher {
    std::size_t operator()(const Hash& h) const noexcept {
        std::size_t v;
        std::memcpy(&v, h.data(), sizeof(v));  // a Keccak output is already uniform
        return v;
    }
};

class NodeStore {
  public:
    virtual ~NodeStore() = default;
    // The RLP of the node with this hash, or nullopt if the store does not have it.
    virtual std::optional<Bytes> get_node(const Hash& hash) const = 0;
    // Stores `rlp` under `hash`: one more reference to the node. The caller guarantees
    // hash == keccak256(rlp).
    virtual void put_node(const Hash& hash, ByteView rlp) = 0;
    // One reference fewer to a node put before (a trie replaced or deleted it). A store that prunes
    // may delete the node once nothing references it; the default keeps everything.
    virtual void release_node(const Hash& hash) { (void)hash; }
};

// Nodes in a hash map; for tests, proofs and small tries. Keeps every node (no pruning).
class MemoryNodeStore final : public NodeStore {
  public:
    std::optional<Bytes> get_node(const Hash& hash) const override {
        auto it = nodes_.find(hash);
        if (it == nodes_.end()) return std::nullopt;
        return it->second;
    }
    void put_node(const Hash& hash, ByteView rlp) override { nodes_.try_emplace(hash, rlp); }
    std::size_t size() const noexcept { return nodes_.size(); }

  private:
    std::unordered_map<Hash, Bytes, HashHasher> nodes_;
};

}  // namespace carousel::trie
