// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// The bridge: a node that holds the whole state and, for every block, cuts the block's changes into
// one RegionItem per region (mgr/region_item.hpp; docs/MGR.md, "Gossip, per block").
//
// For block `number` taking the state from `old_root` to `new_root`:
//  - owners: the accounts of `diff` whose storage root differs before and after the block (an absent
//    account counts as the empty root), in increasing key order; owner_proof: their multiproof at
//    new_root (trie::Trie::prove), the same in every item;
//  - per region r: account_nodes = changed_partial_nodes(old_root -> new_root, path_range(r)) and,
//    per owner a, storage_nodes = changed_partial_nodes(S_a(old) -> S_a(new),
//    path_range(storage_region(r, a))), where S_a(old) counts as the empty root when the old trie
//    has no leaf in that block: a store keeps only the storage tries present in its region
//    (mgr/epoch_store.hpp), so a trie that was absent is sent whole — its partial trie for the block,
//    which is only a stem proving absence when it is absent after the block too.
// The cost per region is the size of its change (the walks descend only below changed nodes) plus
// one stem per owner not present in the region before the block.

#include <span>
#include <vector>

#include <tl/expected.hpp>

#include <carousel/state/state_diff.hpp>
#include <carousel/trie/node_store.hpp>

#include "partial_trie.hpp"
#include "region_item.hpp"

namespace carousel::mgr {

// `full_state_nodes` holds every node of both states (old_root's and new_root's, account and storage
// tries); `diff` is the block's StateDiff (its before/after accounts give the storage roots; it is
// not checked against the roots). One item per region, in the order of `regions`. Fails with
// kMissingNode when the store lacks a node the walks need, kBadNode when one does not decode.
tl::expected<std::vector<RegionItem>, PartialError> build_region_items(const trie::NodeStore& full_state_nodes,
                                                                       uint64_t number, const Hash& old_root,
                                                                       const Hash& new_root,
                                                                       const state::StateDiff& diff,
                                                                       std::span<const Region> regions);

}  // namespace carousel::mgr
