// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Placement: where Merry-Go-Round puts state on the DHT (docs/MGR.md, "Positions and what a node
// covers").
//
//  - An account leaf sits at its trie key h(a) = keccak(address).
//  - A storage leaf of account a with trie key k = keccak(slot) sits at k XOR h(a). XOR by a constant
//    maps aligned regions to aligned regions, so a node covering the aligned region B of positions holds
//    the aligned region B XOR h(a) of every storage trie: again one prefix chunk.
//  - A region of 2^bits positions sharing their first 256 - bits bits is a prefix of 256 - bits bits.
//    When that is a whole number of nibbles it is one nibble prefix; otherwise it is a short range of
//    nibble prefixes, [p·lo, p·hi], which GetChunks asks for with isRange.

#include <optional>
#include <vector>

#include <carousel/core/bytes.hpp>
#include <carousel/core/nibbles.hpp>
#include <carousel/dht/node_id.hpp>
#include <carousel/trie/path_range.hpp>

namespace carousel::mgr {

// A region: an aligned block of the 256-bit key space (what a node covers, what a gossip item names,
// what a sync fetches as one unit; the gossip regions are those of 2^region_bits keys): the 2^bits keys whose first 256
// - bits bits equal first's (first's low `bits` bits are zero). bits = 256 is the whole space.
struct Region {
    Hash first{};
    unsigned bits{256};
    friend bool operator==(const Region&, const Region&) = default;
};

// The region a node with this id and radius covers.
Region region_of(const dht::NodeId& id, dht::Radius radius) noexcept;

// The last key of the region.
Hash last_key(const Region& region) noexcept;
// The key after `key`, or nullopt past the last key.
std::optional<Hash> next_key(Hash key) noexcept;
// A key as its 64 nibbles (a GetChunks / GetDiff path).
Nibbles nibbles_of(const Hash& key);

// Whether `key` lies in `region`.
bool contains(const Region& region, const Hash& key) noexcept;

// Whether `inner` lies wholly in `outer`.
bool contains(const Region& outer, const Region& inner) noexcept;

// The region's keys as the range of nibble positions GetChunks asks for.
trie::PathRange path_range(const Region& region);

// Where a storage leaf sits on the DHT, and back: position = slot_key XOR account_key.
Hash storage_position(const Hash& account_key, const Hash& slot_key) noexcept;

// The region of account `account_key`'s storage trie that a node covering `region` holds.
Region storage_region(const Region& region, const Hash& account_key) noexcept;

// The aligned regions of 2^region_bits keys that tile `region` (region_bits <= region.bits), in key
// order. At most 2^16: a region of more regions gets its first 2^16 (a node's radius is capped there).
std::vector<Region> regions_in(const Region& region, unsigned region_bits);

// The part of aligned region `a` that lies in aligned region `b` (aligned regions nest or are disjoint):
// the smaller one when one holds the other, else nothing.
std::optional<Region> intersect(const Region& a, const Region& b) noexcept;

// The aligned regions of 2^bits keys each that tile the whole key space, in key order. bits must be
// at least 240 (at most 65536 regions).
std::vector<Region> all_regions(unsigned bits);
// The index in all_regions(bits) of the region holding `key` (bits at least 240).
std::size_t region_index(const Hash& key, unsigned bits) noexcept;

}  // namespace carousel::mgr
