// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// WorldState: the account trie and every storage trie, over a NodeStore, in hashed-key space.
//
// It opens at a state root and loads nodes from the store as they are touched. apply() takes one
// block's StateDiff: it checks every `before` value against the state, writes the changes, re-hashes
// only the touched paths (Trie::root re-hashes dirty nodes only), writes the new nodes to the store,
// and checks the result against the diff's storage roots and root. A diff that does not apply
// leaves the WorldState unusable (reopen it at its last root); the nodes it wrote are unreferenced.
//
// Storage tries stay open from block to block (hot contracts are written block after block, and
// their decoded nodes are reused), within StorageCacheLimits; past either bound, the least recently
// written are closed.
// The storage roots of one block are computed together (trie::Trie::roots), so its many small
// storage changes are hashed several nodes at a time.
//
// With `parallel` (the default) and a node store that allows concurrent reads (MemoryNodeStore), a
// block's work is split over the caller and one helper thread: the storage tries in two groups of
// about equal slot writes, then the account trie's updates and hashing by the halves of its root
// (trie::Trie::exchange_all, trie::Trie::root(ForkJoin&)). The results are the same as serial.
//
// Not thread-safe.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>

#include <tl/expected.hpp>

#include <carousel/core/bytes.hpp>
#include <carousel/core/fork_join.hpp>
#include <carousel/trie/node_store.hpp>
#include <carousel/trie/trie.hpp>

#include "code_store.hpp"
#include "diff_proof.hpp"
#include "state_diff.hpp"

namespace carousel::state {

// Bounds of the storage tries a WorldState keeps open between blocks. A loaded branch node takes
// about 0.8 KB, a leaf about 0.2 KB, so the default node bound keeps them to about 100 MB at most.
struct StorageCacheLimits {
    std::size_t max_open_tries{65536};
    std::size_t max_nodes_loaded{std::size_t{1} << 17};  // loaded from the store, by all of them
};

class WorldState {
  public:
    // The state with root `root`, whose nodes are in `nodes` and code in `code` (both outlive it).
    WorldState(trie::NodeStore& nodes, CodeStore& code, const Hash& root = trie::kEmptyRoot,
               const StorageCacheLimits& limits = {}, bool parallel = true);

    Hash root() const noexcept { return root_; }

    tl::expected<std::optional<Account>, DiffError> account(const Hash& account_key);
    // The storage leaf value (empty when the slot is absent).
    tl::expected<Bytes, DiffError> storage(const Hash& account_key, const Hash& slot_key);

    // Applies one block; returns the new root (== diff.root).
    tl::expected<Hash, DiffError> apply(const StateDiff& diff);

    // Applies a diff whose roots are not known yet (a block being produced, as the chain generator
    // does): sets diff.parent_root, each changed account's storage_root and diff.root from the state,
    // then applies it. The `before` values are still checked. An account whose only change is its
    // storage (slot changes, `after` equal to `before` but for the storage root to be filled in) is
    // accepted as it is.
    tl::expected<Hash, DiffError> seal_and_apply(StateDiff& diff);

    // Proof of `diff`'s changes at the current root (call after apply()).
    tl::expected<DiffProof, DiffError> prove(const StateDiff& diff);

    // How many storage tries are open (for tests).
    std::size_t open_storage_tries() const noexcept { return storage_.size(); }

  private:
    struct OpenStorage {
        trie::Trie trie;
        Hash root;           // the trie's root after the last block that wrote it
        uint64_t last_used;  // that block's sequence number (apply count)
    };

    // Where a slot change of apply_changes failed: its index, and whether the trie could not be read
    // (else the value it replaced was not its `before`).
    struct SlotFailure {
        std::size_t slot;
        bool unreadable;
    };

    // Both apply paths; with `seal`, fills in the roots instead of checking them.
    tl::expected<Hash, DiffError> apply_impl(const StateDiff& diff, StateDiff* seal);
    tl::expected<Hash, DiffError> apply_changes(const StateDiff& diff, StateDiff* seal);
    // Makes slot changes [begin, end) of `diff`, slot i in slot_tries[i], each checked against its
    // `before`, prefetching their paths a group at a time; stops at the first that fails. Touches only
    // those tries.
    static std::optional<SlotFailure> change_slots(const StateDiff& diff, std::size_t begin, std::size_t end,
                                                   std::span<trie::Trie* const> slot_tries);
    // The open storage trie of `account_key` if its root is `storage_root`, else a new one opened there
    // (a reference into storage_, valid until that trie is closed).
    OpenStorage& storage_trie(const Hash& account_key, const Hash& storage_root);
    // Closes the least recently written storage tries while the bounds are exceeded.
    void trim_storage_tries();
    // Closes the open storage trie of `account_key` (if any) and hands it over (to be freed).
    std::optional<trie::Trie> take_storage_trie(const Hash& account_key);

    std::unique_ptr<ForkJoin> fork_;  // its helper thread starts at the first block it is worth it for
    trie::NodeStore& nodes_;
    CodeStore& code_;
    Hash root_;
    trie::Trie accounts_;
    std::unordered_map<Hash, OpenStorage, trie::HashHasher> storage_;  // open storage tries, by account key
    StorageCacheLimits limits_;
    std::size_t storage_loaded_{0};  // nodes the open storage tries loaded from the store, in all
    uint64_t applies_{0};            // apply() calls so far
    // Buffers reused from block to block.
    Bytes account_values_;
    std::vector<Bytes> replaced_values_;
};

}  // namespace carousel::state
