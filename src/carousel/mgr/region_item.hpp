// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// RegionItem: one region's part of one block, as a bridge gossips it (docs/MGR.md, "Gossip, per
// block"; mgr/bridge.hpp makes them, mgr/epoch_store.hpp applies them).
//
// A node covering region r holds the partial tries of r (mgr/partial_trie.hpp): the account trie's
// and, for every account a with storage, the partial trie of a's storage trie for
// storage_region(r, a). The item for block b carries what a holder of the partial tries at R_{b-1}
// lacks to hold them at R_b:
//  - account_nodes: the changed nodes of R_b's partial account trie for r against R_{b-1}'s — every
//    stored node not equal to the node at the same position at R_{b-1}. That includes the root node
//    whenever it changed, and nodes only shortened or lengthened because a sibling came or went: a
//    minimal multiproof of the changed keys would miss those, and the receiver could not rebuild its
//    partial trie without them.
//  - owners: the accounts whose storage root changed in block b (created with storage, changed,
//    cleared, deleted), strictly increasing; owner_proof: trie::Trie::prove(owners) at R_b, which
//    gives each owner's new storage root (an absent account: the empty root). Every region's item
//    carries all owners, because every region holds a slice of every storage trie.
//  - storage_nodes[i]: the changed nodes of owners[i]'s new storage trie's partial trie for
//    storage_region(r, owners[i]) against its old one.
//
// Encoding (RLP): [blockNumber, stateRoot, [regionFirst, regionBits], [accountNode...], [owner...],
// [ownerProofNode...], [[storageNode...]...]]. decode_region_item() is strict: canonical RLP,
// exactly these items, nothing after them, and every count and length under its cap below. It also
// checks what needs no state: the region is an aligned block, owners increase strictly, there is one
// storage list per owner, and every node decodes as a trie node of at least 32 bytes (shorter nodes
// are embedded in their parent and never travel alone).
//
// Limitations: a node covering r cannot check that `owners` is complete for accounts outside r (it
// does not hold their leaves); a bridge that leaves an owner out leaves that storage slice stale.
// EpochStore::apply checks completeness for the accounts inside r (kMissingOwner).

#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include <carousel/core/bytes.hpp>

#include "placement.hpp"

namespace carousel::mgr {

struct RegionItem {
    uint64_t block_number{0};
    Hash state_root{};  // R_b; the receiver checks it against its trusted header source
    Region region;
    std::vector<Bytes> account_nodes;
    std::vector<Hash> owners;  // strictly increasing
    std::vector<Bytes> owner_proof;
    std::vector<std::vector<Bytes>> storage_nodes;  // one list per owner, in the order of `owners`
    friend bool operator==(const RegionItem&, const RegionItem&) = default;
};

// Why an item is refused, by the decoder or by EpochStore::apply. Peer input: a sender of any of
// these is to be scored down, never trusted.
enum class [[nodiscard]] GossipError{
    kMalformed = 1,        // decode: not the RLP shape above (strict RLP, exact item counts, no trailing bytes)
    kTooLarge,             // decode: a count or length over its cap
    kBadRegion,            // decode: region bits over 256, or a first key not aligned to them
    kOwnersNotIncreasing,  // owners out of order or repeated
    kLengthMismatch,       // not one storage node list per owner
    kBadNode,              // a node that does not decode as a trie node, or is shorter than 32 bytes
    kDuplicateNode,        // apply: the same node twice in one list
    kWrongBlock,           // apply: not the block after the store's head
    kWrongRegion,          // apply: another region than the store's
    kRootMismatch,         // apply: state_root differs from the trusted root
    kBadOwnerProof,        // apply: owner_proof does not verify against the root, or an owner's leaf is no account
    kIncomplete,           // apply: the new partial tries do not resolve from held and sent nodes
    kUnusedNode,           // apply: a node that no new partial trie uses (padding)
    kMissingOwner,         // apply: an account inside the region changed its storage root but is not an owner
    kNotSeeded,            // apply: the store holds no version yet (seed() or adopt() first)
    kNotPresent,           // adopt: an owner listed as present has no leaf in its storage block
};
std::string_view to_string(GossipError e) noexcept;

// Caps. A whole item is one gossip Content payload (proto::kMaxContentSize); nodes are trie nodes
// (a full branch of hashes is 532 bytes; an account leaf about 110).
inline constexpr std::size_t kMaxRegionItemSize = (16u << 20) - 64;
inline constexpr std::size_t kMaxItemNodes = 1 << 16;  // per node list
inline constexpr std::size_t kMaxItemOwners = 1 << 14;
inline constexpr std::size_t kMaxNodeSize = 1024;

Bytes encode_region_item(const RegionItem& item);
// Strict decode of a whole input (see above).
tl::expected<RegionItem, GossipError> decode_region_item(ByteView in);

// The item's content id: keccak256(encode_region_item(item)), as gossip OFFERs name it.
Hash content_id(const RegionItem& item);

// Total bytes of the nodes an item carries (account, owner proof and storage nodes).
std::size_t node_bytes(const RegionItem& item) noexcept;

}  // namespace carousel::mgr
