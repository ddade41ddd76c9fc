// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Placement: where Merry-Go-Round puts state on the DHT (docs/MGR.md, "Positions and what a node
// covers").
//
//  - An account leaf sits at its trie key h(a) = keccak(address).
//  - A storage leaf of account a with trie key k = keccak(slot) sits at k XOR h(a). XOR by a constant
//    maps aligned blocks to aligned blocks, so a node covering the aligned block B of positions holds
//    the aligned block B XOR h(a) of every storage trie: again one prefix chunk.
//  - A block of 2^bits positions sharing their first 256 - bits bits is a prefix of 256 - bits bits.
//    When that is a whole number of nibbles it is one nibble prefix; otherwise it is a short range of
//    nibble prefixes, [p·lo, p·hi], which GetChunks asks for with isRange.

#include <optional>
#include <vector>

#include <carousel/core/bytes.hpp>
#include <carousel/core/nibbles.hpp>
#include <carousel/dht/node_id.hpp>
#include <carousel/trie/path_range.hpp>

namespace carousel::mgr {

// An aligned block of the 256-bit key space: the 2^bits keys whose first 256 - bits bits equal
// first's (first's low `bits` bits are zero). bits = 256 is the whole space.
struct Block {
    Hash first{};
    unsigned bits{256};
    friend bool operator==(const Block&, const Block&) = default;
};

// The block a node with this id and radius covers.
Block block_of(const dht::NodeId& id, dht::Radius radius) noexcept;

// The last key of the block.
Hash block_last(const Block& block) noexcept;
// The key after `key`, or nullopt past the last key.
std::optional<Hash> next_key(Hash key) noexcept;
// A key as its 64 nibbles (a GetChunks / GetDiff path).
Nibbles nibbles_of(const Hash& key);

// Whether `key` lies in `block`.
bool contains(const Block& block, const Hash& key) noexcept;

// Whether `inner` lies wholly in `outer`.
bool contains(const Block& outer, const Block& inner) noexcept;

// The block's keys as the range of nibble positions GetChunks asks for.
trie::PathRange path_range(const Block& block);

// Where a storage leaf sits on the DHT, and back: position = slot_key XOR account_key.
Hash storage_position(const Hash& account_key, const Hash& slot_key) noexcept;

// The block of account `account_key`'s storage trie that a node covering `block` holds.
Block storage_block(const Block& block, const Hash& account_key) noexcept;

// The aligned blocks of 2^region_bits keys that tile `block` (region_bits <= block.bits), in key
// order. At most 2^16: a block of more regions gets its first 2^16 (a node's radius is capped there).
std::vector<Block> regions_in(const Block& block, unsigned region_bits);

// The part of aligned block `a` that lies in aligned block `b` (aligned blocks nest or are disjoint):
// the smaller one when one holds the other, else nothing.
std::optional<Block> intersect(const Block& a, const Block& b) noexcept;

// The aligned blocks of 2^bits keys each that tile the whole key space, in key order. bits must be
// at least 240 (at most 65536 blocks).
std::vector<Block> tile(unsigned bits);

}  // namespace carousel::mgr
