// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// PathLayout: a serving copy of one state's tries keyed by position (trie::PathNodeSource), so
// that a ChunkServer reads a sub-trie as one KV scan instead of one hash lookup per node (a server's
// cost in a prefix sync was mostly RocksDB point reads).
//
// Layout, in Column::kPathNodes: root (32 bytes) ++ position (one byte per nibble, 0..15) -> the
// node's RLP, for every node of 32 bytes or more of the account trie of one state root and of every
// storage trie under it (each distinct storage root once). One byte per nibble keeps key order equal
// to pre-order (a position sorts before its extensions, siblings by nibble). The kMeta key
// "path_layout" holds the state root the layout was built for.
//
// Exactness: build() clears the column and the record, writes every trie, then writes the record;
// the layout is used only when the record is there, so a build interrupted by a crash leaves no
// layout rather than a partial one. A root hash names its whole trie, so the entries of a root
// stay exact for it whatever the state does later; a root the layout does not hold (the root
// node's key is absent) is left to the hash walk.

#include <memory>
#include <optional>

#include <carousel/core/bytes.hpp>
#include <carousel/trie/node_store.hpp>
#include <carousel/trie/path_nodes.hpp>

#include "kv.hpp"
#include "status.hpp"

namespace carousel::store {

class PathLayout final : public trie::PathNodeSource {
  public:
    // Builds the layout of the state `state_root` from the nodes in `nodes` (which must hold the
    // whole state: every node is read once). Replaces any earlier layout. Errors: corruption if a
    // node is missing or does not decode (no layout is left), and the KV's. Writes in batches of
    // about `batch_bytes`.
    static Status build(KV& kv, const trie::NodeStore& nodes, const Hash& state_root,
                        std::size_t batch_bytes = std::size_t{8} << 20);

    // A reader over the layout in `kv` (which outlives it), if there is one: root() tells.
    explicit PathLayout(const KV& kv);

    // The state root of the layout, nullopt if the KV holds none (never built, or a build was
    // interrupted).
    [[nodiscard]] const std::optional<Hash>& root() const noexcept { return root_; }

    // A cursor over the account trie of root() or any storage trie under it; null for other roots.
    [[nodiscard]] std::unique_ptr<trie::PathCursor> open(const Hash& root, ByteView upper) const override;

  private:
    const KV& kv_;
    std::optional<Hash> root_;
};

}  // namespace carousel::store
