// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// LeafSync: the verifying half of a leaf-mode prefix-sync client for one trie, sans-IO.
//
// Leaf mode fetches only leaves, by key range, each answer with the two edge proofs of its range
// (DESIGN.md: this answers the seed's worry that leaf data cannot be checked on arrival). Each
// answer goes through trie::verify_leaf_range: a whole range must be exactly the trie's leaves in
// [from, to]; a cut one exactly the leaves in [from, last key], ending inside the range, and the
// range continues from the key after the last one (not from the server's stop path, which proves
// nothing).
// Nothing of an answer that does not verify is kept.
//
// A spilled trie's progress survives a kill: each batch of spilled leaves carries a record of the
// key interval it verifies (kMeta), so a LeafSync started again on the same spill KV and root takes
// those leaves back (through the sink, so their dependencies are named again) and fetches only the
// rest of the key space. A trie still in memory when killed starts again.
//
// When every range is in and every dependency (storage tries, code) is complete, the trie is
// rebuilt from its leaves with HashBuilder and its nodes written to the store, root last; the root
// must be the one synced (it is, if every range verified against it).
//
// Leaves wait in memory until then, unless a spill KV is given: once a trie's leaves in memory pass
// `spill_bytes` they move to the KV (column kStorageLeaves, key = root ++ leaf key, so key order is
// trie order) and later ones go there directly, one batch per verified entry; the rebuild then
// streams them back in key order into HashBuilder, writing nodes as they come out. Memory per trie
// is so bounded by spill_bytes whatever the trie's size. The spilled leaves are deleted once the
// trie is built and the store has made it durable (NodeStore::flush). (Only verified leaves are ever written; leftovers
// of a killed run under the same root are leaves of that root too and are simply overwritten.)

#include <deque>
#include <functional>
#include <map>
#include <unordered_map>
#include <vector>

#include <tl/expected.hpp>

#include <carousel/core/bytes.hpp>
#include <carousel/proto/prefix_messages.hpp>
#include <carousel/store/kv.hpp>
#include <carousel/trie/hash_builder.hpp>
#include <carousel/trie/node_store.hpp>
#include <carousel/trie/path_range.hpp>
#include <carousel/trie/trie_sync.hpp>

namespace carousel::prefix {

class LeafSync {
  public:
    // As TrieSync's: the check guards decoding, the sink may name dependencies.
    // `spill` (may be null: all in memory) outlives this.
    LeafSync(trie::NodeStore& store, const Hash& root, trie::TrieSync::LeafCheck check,
             trie::TrieSync::LeafSink on_leaf, std::size_t initial_ranges = 16, store::KV* spill = nullptr,
             std::size_t spill_bytes = std::size_t{4} << 20);

    const Hash& root() const noexcept { return root_; }

    // The next range to ask for (nullopt: none left to hand out); give it back if the request fails.
    std::optional<trie::PathRange> take_range();
    void return_range(const trie::PathRange& range);

    // Verifies one leaf-mode entry answering `range` and keeps its leaves. An entry cut before its
    // first leaf proves nothing and is refused (the caller hands the range out again).
    tl::expected<std::size_t, trie::ChunkRejection> accept(const trie::PathRange& range,
                                                           const proto::ChunkEntry& entry);

    void dependency_complete(const Hash& dep);

    // For a sync that moves to a newer root: the nodes HashBuilder makes from every leaf verified
    // so far, by hash, for TrieSync::adopt under the new root. A node whose subtree lies inside the
    // verified ranges is a node of this trie, and often of the new root's too; a node that spans a
    // range not fetched yet hashes leaves that are not the whole subtree, so no trie references it
    // (TrieSync takes an adopted node only where an accepted parent names its hash). The leaves
    // (and their spill) are dropped; this LeafSync is spent afterwards.
    std::unordered_map<Hash, Bytes, trie::HashHasher> take_built_nodes();

    // Nothing left to fetch for this trie itself.
    bool fetched() const noexcept { return todo_.empty() && out_ == 0; }
    // Fetched, dependencies complete, and the trie built into the store.
    bool complete() const noexcept { return built_; }
    // The share of the key space not verified yet (handed-out ranges count as not verified).
    double remaining_fraction() const noexcept;
    uint64_t leaves() const noexcept { return leaf_count_; }
    // Whether the leaves moved to the spill KV, and the first error writing or reading it (the
    // trie then never completes).
    bool spilled() const noexcept { return spilled_; }
    const store::Status& spill_status() const noexcept { return spill_status_; }

  private:
    void maybe_build();
    // Feeds every verified leaf, in key order, to `hb` (from memory, or streamed from the spill).
    void feed_leaves(trie::HashBuilder& hb);
    void spill_memory();
    void clear_spill();
    // With a spill KV that holds a killed run's progress for this root: takes its leaves (to the
    // sink again) and hands out only the key space they do not cover. False when there is none.
    bool resume();
    Bytes progress_key(ByteView first) const;
    Bytes spill_key(ByteView key) const;

    trie::NodeStore& store_;
    Hash root_;
    trie::TrieSync::LeafCheck check_;
    trie::TrieSync::LeafSink on_leaf_;
    std::deque<trie::PathRange> todo_;
    std::size_t out_{0};                         // ranges handed out and not answered or returned yet
    double out_fraction_{0};                     // their share of the key space
    std::map<Bytes, Bytes> leaves_;              // in memory (until spilled)
    std::vector<std::pair<Bytes, Bytes>> done_;  // key intervals verified: [first, last]
    std::size_t memory_bytes_{0};
    uint64_t leaf_count_{0};
    store::KV* spill_{nullptr};
    std::size_t spill_bytes_{0};
    bool spilled_{false};
    store::Status spill_status_;
    std::unordered_map<Hash, uint32_t, trie::HashHasher> deps_;  // dependency -> leaves waiting on it
    bool built_{false};
    bool failed_{false};
};

}  // namespace carousel::prefix
