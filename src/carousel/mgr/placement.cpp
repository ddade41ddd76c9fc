// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "placement.hpp"

#include <algorithm>

#include <carousel/core/assert.hpp>

namespace carousel::mgr {

Block block_of(const dht::NodeId& id, dht::Radius radius) noexcept {
    const unsigned bits = radius.bits > 256 ? 256 : radius.bits;
    return Block{dht::block_first(id, dht::Radius{bits}), bits};
}

Hash block_last(const Block& block) noexcept { return dht::block_last(block.first, dht::Radius{block.bits}); }

bool contains(const Block& block, const Hash& key) noexcept {
    return dht::covers(block.first, dht::Radius{block.bits}, key);
}

bool contains(const Block& outer, const Block& inner) noexcept {
    return inner.bits <= outer.bits && contains(outer, inner.first);
}

trie::PathRange path_range(const Block& block) {
    const unsigned prefix_bits = 256 - (block.bits > 256 ? 256 : block.bits);
    const Nibbles key = unpack_nibbles(ByteView{block.first.data(), block.first.size()});
    const std::size_t whole = prefix_bits / 4;
    const unsigned rest = prefix_bits % 4;
    if (rest == 0) {
        Nibbles prefix = key.substr(0, whole);
        return {prefix, prefix};
    }
    // The last nibble is fixed in its top `rest` bits and free in the others.
    Nibbles from = key.substr(0, whole + 1);
    Nibbles to = from;
    to.back() = static_cast<uint8_t>(to.back() | ((1u << (4 - rest)) - 1));
    return {from, to};
}

Hash storage_position(const Hash& account_key, const Hash& slot_key) noexcept {
    return dht::xor_distance(account_key, slot_key);
}

Block storage_block(const Block& block, const Hash& account_key) noexcept {
    const Hash moved = dht::xor_distance(block.first, account_key);
    return Block{dht::block_first(moved, dht::Radius{block.bits}), block.bits};
}

std::vector<Block> tile(unsigned bits) {
    CAROUSEL_ASSERT(bits >= 240 && bits <= 256, "a tiling of at most 2^16 blocks");
    const unsigned count_bits = 256 - bits;
    std::vector<Block> blocks;
    blocks.reserve(std::size_t{1} << count_bits);
    for (uint32_t i = 0; i < (uint32_t{1} << count_bits); ++i) {
        Hash first{};
        // The block index occupies the top count_bits bits of the key.
        const uint32_t top = count_bits == 0 ? 0 : i << (32 - count_bits);
        first[0] = static_cast<uint8_t>(top >> 24);
        first[1] = static_cast<uint8_t>(top >> 16);
        blocks.push_back(Block{first, bits});
    }
    return blocks;
}

std::vector<Block> regions_in(const Block& block, unsigned region_bits) {
    CAROUSEL_ASSERT(region_bits <= block.bits, "regions are no larger than their block");
    const unsigned span = block.bits - region_bits;
    const uint64_t count = uint64_t{1} << std::min(span, 16u);
    std::vector<Block> regions;
    regions.reserve(count);
    for (uint64_t i = 0; i < count; ++i) {
        // Region i: the block's first key plus i << region_bits.
        Hash first = block.first;
        uint64_t carry = i;
        for (unsigned bit = region_bits; carry != 0 && bit < 256; ++bit, carry >>= 1) {
            if ((carry & 1) != 0) first[31 - bit / 8] = static_cast<uint8_t>(first[31 - bit / 8] | (1u << (bit % 8)));
        }
        regions.push_back(Block{first, region_bits});
    }
    return regions;
}

std::optional<Block> intersect(const Block& a, const Block& b) noexcept {
    if (contains(a, b)) return b;
    if (contains(b, a)) return a;
    return std::nullopt;
}

std::optional<Hash> next_key(Hash key) noexcept {
    for (std::size_t i = key.size(); i-- > 0;) {
        if (++key[i] != 0) return key;
    }
    return std::nullopt;
}

Nibbles nibbles_of(const Hash& key) { return unpack_nibbles(ByteView{key.data(), key.size()}); }

}  // namespace carousel::mgr
