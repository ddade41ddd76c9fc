// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Partial tries: the part of a trie that a Merry-Go-Round node covering a key range holds
// (docs/MGR.md, "What a node stores for an epoch"; mgr/epoch_store.hpp).
//
// A node's *position* is the nibble path from the root to it (trie/path_range.hpp). The partial trie of
// `root` for a range of positions R is every node whose position p intersects R — some full key
// below p (p·0… .. p·f…) lies in [R.from·0…, R.to·f…]: the stem from the root down to the range,
// then the whole sub-trie below it. Membership is by position, not by key: a leaf or extension on
// the stem is in the partial trie even when the key it leads to lies outside R, because it is what
// proves that nothing else lies in R there (exclusion). This is exactly the set of nodes
// prefix::ChunkServer's full mode walks for the range R, and it contains the two edge paths of R,
// so a range proof of R can be cut from it (range_proof()).
//
// Only stored nodes count: a node whose RLP is 32 bytes or longer, referenced by its Keccak hash.
// Shorter (embedded) nodes travel inside their parent and are never visited on their own, although
// the walks descend through them.
//
// Keys: the walks assume a secure trie (every key 32 bytes, 64 nibbles; no branch values), as the
// account trie and storage tries are. Positions passed to visitors are unpacked nibbles.
//
// "The node at the same position": two versions of a trie, old and new. A node of new's partial trie
// at position p is *unchanged* when old has a node at exactly position p with the same reference
// (then the whole subtree below is identical, since it is content-addressed), and *changed*
// otherwise — including when old has no node at p at all (p falls inside an old extension's path or
// beyond an old leaf) and when a node was only shortened because a sibling appeared or went away.
// A holder of old's partial trie lacks exactly the changed nodes (up to coincidences elsewhere in the
// trie), which is what a per-block gossip item must carry (mgr/region_item.hpp).
//
// Errors: every walk reads nodes from a NodeStore and fails with kMissingNode when a node it must
// read is absent, kBadNode when a stored node does not decode. trie::kEmptyRoot is the empty trie
// (no nodes); any other root must be in the store.

#include <functional>
#include <limits>
#include <string_view>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

#include <carousel/core/bytes.hpp>
#include <carousel/trie/node_store.hpp>
#include <carousel/trie/path_range.hpp>

namespace carousel::mgr {

enum class [[nodiscard]] PartialError{
    kMissingNode = 1,  // a node the walk must read is not in the store
    kBadNode,          // a stored node does not decode as a trie node, or a leaf is not at a 32-byte key
};
std::string_view to_string(PartialError e) noexcept;

// Called once per stored node: its position (unpacked nibbles), hash and RLP. The views are valid
// during the call only.
using PartialNodeVisitor = std::function<void(ByteView position, const Hash& hash, ByteView rlp)>;

// Visits every stored node of `root`'s partial trie for `range`, in pre-order (parents before
// children, slot 0 before slot 15; the order of prefix::ChunkServer's full mode). Nothing for
// trie::kEmptyRoot.
tl::expected<void, PartialError> for_each_partial_node(const trie::NodeStore& store, const Hash& root,
                                                       const trie::PathRange& range, const PartialNodeVisitor& visit);

// Visits the changed nodes of `new_root`'s partial trie for `range` against `old_root` (see above),
// in pre-order. Descends only below changed nodes: the cost is the size of the change, not of the
// partial trie. Old nodes are read from the same store, and only where the walk needs them (at
// positions where new changed). With old_root == kEmptyRoot every node of the partial trie is
// visited; with new_root == old_root none.
tl::expected<void, PartialError> for_each_changed_partial_node(const trie::NodeStore& store, const Hash& old_root,
                                                               const Hash& new_root, const trie::PathRange& range,
                                                               const PartialNodeVisitor& visit);

// The RLP of the changed nodes, as for_each_changed_partial_node visits them.
tl::expected<std::vector<Bytes>, PartialError> changed_partial_nodes(const trie::NodeStore& store, const Hash& old_root,
                                                                     const Hash& new_root,
                                                                     const trie::PathRange& range);

// Leaves as (key, value).
using Leaves = std::vector<std::pair<Hash, Bytes>>;

// The leaves of `root` whose keys lie in [range.from·0…, range.to·f…], in increasing key order.
// Reads only the partial trie. With `max_leaves`, stops once it has max_leaves + 1 of them (the first
// ones), so a caller learns "more than max_leaves" without walking a large range.
tl::expected<Leaves, PartialError> leaves_in(const trie::NodeStore& store, const Hash& root,
                                             const trie::PathRange& range,
                                             std::size_t max_leaves = std::numeric_limits<std::size_t>::max());

// Whether `root` has a leaf whose key lies in the range: leaves_in with max_leaves 0, which stops at
// the first. A storage trie with one is *present* in the range (mgr/epoch_store.hpp keeps only those).
tl::expected<bool, PartialError> has_leaf_in(const trie::NodeStore& store, const Hash& root,
                                             const trie::PathRange& range);

// The keys in the range whose value at `to_root` differs from the one at `from_root`, increasing,
// each with its value at `to_root` — empty Bytes when the key is absent there (deleted). Skips
// subtrees that are equal in both versions at the same position; reads only the two partial tries.
tl::expected<Leaves, PartialError> changed_leaves(const trie::NodeStore& store, const Hash& from_root,
                                                  const Hash& to_root, const trie::PathRange& range);

// The proof of `range` at `root` that trie::verify_bounded_range_proof(root, range_min_key(range),
// range_max_key(range), keys, values, proof) expects along with leaves_in(root, range): the stored
// nodes on the paths towards the range's first and last key, each once, in the order first met
// (as trie::Trie::prove of those two keys). Empty for kEmptyRoot.
tl::expected<std::vector<Bytes>, PartialError> range_proof(const trie::NodeStore& store, const Hash& root,
                                                           const trie::PathRange& range);

}  // namespace carousel::mgr
