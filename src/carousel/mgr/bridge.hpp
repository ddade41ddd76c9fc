// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// The bridge: the node that holds the whole state (an archive or a full node beside the network)
// and brings each new block into Merry-Go-Round. A block's diff and roots go in; one RegionItem per
// gossip region (mgr/region_item.hpp; docs/MGR.md, "Gossip, per block") and the block's new code come
// out, and the bridge's own origin-only MgrNode offers them to the nodes covering each region.
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

#include <carousel/dht/node_endpoint.hpp>
#include <carousel/dht/node_key.hpp>
#include <carousel/proto/endpoint.hpp>
#include <carousel/state/state_diff.hpp>
#include <carousel/trie/node_store.hpp>

#include "mgr_node.hpp"
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

// What the bridge gossips for one block.
struct BlockGossip {
    uint64_t number{0};
    std::vector<RegionItem> items;  // one per gossip region, in key order
    std::vector<Bytes> code;        // the code the block created
    Bytes header;                   // the block's signed header (empty: the nodes have their own source)
};

// Block `number`'s gossip for `regions` (build_region_items, one item per region) with the code the
// block created; no header. Errors as build_region_items'.
tl::expected<BlockGossip, PartialError> cut_block(const trie::NodeStore& full_state_nodes, uint64_t number,
                                                  const Hash& old_root, const Hash& new_root,
                                                  const state::StateDiff& diff, std::span<const Region> regions);

class Bridge {
  public:
    // A bridge with node key `key`, reached at `endpoint` (its radius is ignored: it announces 0 and
    // stores nothing for the network), for a network with these options (region_bits and
    // epoch_length must be the nodes'); `headers` gives the trusted state root of a block number, as
    // the nodes' own. It is a node of the Overlay like the others (bounded connections, dialed on
    // demand): bootstrap it through node().
    Bridge(const dht::KeyPair& key, const dht::NodeEndpoint& endpoint, NodeOptions options, HeaderSource headers);

    // Block `number`'s gossip: its change from `old_root` to `new_root` (both held by
    // `full_state_nodes`) cut per region, and its code. Errors as build_region_items'.
    tl::expected<BlockGossip, PartialError> cut(const trie::NodeStore& full_state_nodes, uint64_t number,
                                                const Hash& old_root, const Hash& new_root,
                                                const state::StateDiff& diff) const;

    // Offers the block's items and code to the nodes covering each region (MgrNode::publish). Call it
    // from inside the driver's turn for this endpoint, as every Endpoint call.
    void publish(const BlockGossip& block, proto::Time now);

    // The endpoint the driver connects to the network (both its frames and its datagrams).
    MgrNode& node() noexcept { return node_; }
    const MgrNode& node() const noexcept { return node_; }

  private:
    static NodeOptions origin_only(NodeOptions options) noexcept;

    MgrNode node_;
    std::vector<Region> regions_;
};

}  // namespace carousel::mgr
