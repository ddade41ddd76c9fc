// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Internal to StateStore (state_store*.cpp): the NodeStore and CodeStore views the store reads and
// writes through. Not part of the library's API: include state_store.hpp.
//
// - StateStore::Pending, the overlay: everything a block changes (node counts and RLP, code, the
//   releases to journal) until commit() writes it as one batch. A read sees the pending entry
//   first, then the node cache, then the KV.
// - NodeAdapter and CodeAdapter: what state::WorldState and trie::HashBuilder apply a block to.
//   put_node counts a reference at once, release_node is journaled with the block (and applied when
//   the block's parent root leaves the window); a KV error is noted in Pending, and the block fails
//   with it.
// - ReadNodes and ReadCode: read-only views of the committed state (node_store(), code_store());
//   their puts and releases do nothing.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include <carousel/core/bytes.hpp>
#include <carousel/state/code_store.hpp>
#include <carousel/trie/node_store.hpp>

#include "kv.hpp"
#include "state_store.hpp"
#include "state_store_cache.hpp"
#include "status.hpp"

namespace carousel::store {

// Everything a block changes before it is committed. The adapters read through it: pending first,
// then the KV.
struct StateStore::Pending {
    struct Node {
        uint64_t count{0};  // 0: absent (deleted at commit if it was stored)
        Bytes rlp;
        bool dirty{false};
    };
    std::unordered_map<Hash, Node, trie::HashHasher> nodes;
    std::unordered_map<Hash, Bytes, trie::HashHasher> code;
    std::vector<Hash> released;
    std::size_t bytes{0};                 // approximate bytes of the pending nodes and code
    Status error;                         // the first KV error met while applying
    const ImportFilter* import{nullptr};  // during a genesis import: the nodes written so far

    void clear() {
        nodes.clear();
        code.clear();
        released.clear();
        bytes = 0;
        error = Status{};
        import = nullptr;
    }
    void note(const Status& s) {
        if (error.ok() && !s.ok()) error = s;
    }

    // The pending entry of `hash`, loaded from the cache or the KV if it is not pending yet.
    Status slot(const KV& kv, NodeCache& cache, const Hash& hash, Node*& out);
};

// The NodeStore that blocks apply to: reads see pending writes, puts count, releases are journaled.
class StateStore::NodeAdapter final : public trie::NodeStore {
  public:
    NodeAdapter(KV& kv, Pending& pending, NodeCache& cache) : kv_{kv}, pending_{pending}, cache_{cache} {}

    // A failed read is also noted in the pending block, which then fails with it.
    trie::NodeRead find_node(const Hash& hash) const override;
    void put_node(const Hash& hash, ByteView rlp) override;
    void release_node(const Hash& hash) override { pending_.released.push_back(hash); }

  private:
    KV& kv_;
    Pending& pending_;
    NodeCache& cache_;
};

class StateStore::CodeAdapter final : public state::CodeStore {
  public:
    CodeAdapter(KV& kv, Pending& pending) : kv_{kv}, pending_{pending} {}

    std::optional<Bytes> get_code(const Hash& code_hash) const override;
    void put_code(const Hash& code_hash, ByteView code) override {
        if (pending_.code.try_emplace(code_hash, code).second) pending_.bytes += code.size() + 48;
    }

  private:
    KV& kv_;
    Pending& pending_;
};

// Read-only views of the committed state.
class StateStore::ReadNodes final : public trie::NodeStore {
  public:
    explicit ReadNodes(const KV& kv) : kv_{kv} {}
    trie::NodeRead find_node(const Hash& hash) const override;
    // Reads into `out` and drops the count in place: one copy fewer than find_node.
    trie::NodeFound read_node(const Hash& hash, Bytes& out) const override;
    void put_node(const Hash&, ByteView) override {}
    void release_node(const Hash&) override {}

  private:
    const KV& kv_;
};

class StateStore::ReadCode final : public state::CodeStore {
  public:
    explicit ReadCode(const KV& kv) : kv_{kv} {}
    std::optional<Bytes> get_code(const Hash& code_hash) const override;
    void put_code(const Hash&, ByteView) override {}

  private:
    const KV& kv_;
};

}  // namespace carousel::store
