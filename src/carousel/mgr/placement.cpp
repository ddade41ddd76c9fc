// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "placement.hpp"

#include <algorithm>

#include <carousel/core/assert.hpp>

namespace carousel::mgr {

Region region_of(const dht::NodeId& id, dht::Radius radius) noexcept {
    const unsigned bits = radius.bits > 256 ? 256 : radius.bits;
    return Region{dht::region_first(id, dht::Radius{bits}), bits};
}

Hash last_key(const Region& region) noexcept { return dht::last_key(region.first, dht::Radius{region.bits}); }

bool contains(const Region& region, const Hash& key) noexcept {
    return dht::covers(region.first, dht::Radius{region.bits}, key);
}

bool contains(const Region& outer, const Region& inner) noexcept {
    return inner.bits <= outer.bits && contains(outer, inner.first);
}

trie::PathRange path_range(const Region& region) {
    const unsigned prefix_bits = 256 - (region.bits > 256 ? 256 : region.bits);
    const Nibbles key = unpack_nibbles(ByteView{region.first.data(), region.first.size()});
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

Region storage_region(const Region& region, const Hash& account_key) noexcept {
    const Hash moved = dht::xor_distance(region.first, account_key);
    return Region{dht::region_first(moved, dht::Radius{region.bits}), region.bits};
}

std::vector<Region> all_regions(unsigned bits) {
    CAROUSEL_ASSERT(bits >= 240 && bits <= 256, "a tiling of at most 2^16 regions");
    const unsigned count_bits = 256 - bits;
    std::vector<Region> regions;
    regions.reserve(std::size_t{1} << count_bits);
    for (uint32_t i = 0; i < (uint32_t{1} << count_bits); ++i) {
        Hash first{};
        // The region index occupies the top count_bits bits of the key.
        const uint32_t top = count_bits == 0 ? 0 : i << (32 - count_bits);
        first[0] = static_cast<uint8_t>(top >> 24);
        first[1] = static_cast<uint8_t>(top >> 16);
        regions.push_back(Region{first, bits});
    }
    return regions;
}

std::size_t region_index(const Hash& key, unsigned bits) noexcept {
    // The index is the top 256 - bits bits of the key.
    const unsigned count_bits = 256 - bits;
    if (count_bits == 0) return 0;
    const uint32_t top = (uint32_t{key[0]} << 8) | key[1];
    return top >> (16 - count_bits);
}

std::vector<Region> regions_in(const Region& region, unsigned region_bits) {
    CAROUSEL_ASSERT(region_bits <= region.bits, "regions are no larger than their region");
    const unsigned span = region.bits - region_bits;
    const uint64_t count = uint64_t{1} << std::min(span, 16u);
    std::vector<Region> regions;
    regions.reserve(count);
    for (uint64_t i = 0; i < count; ++i) {
        // Region i: the region's first key plus i << region_bits.
        Hash first = region.first;
        uint64_t carry = i;
        for (unsigned bit = region_bits; carry != 0 && bit < 256; ++bit, carry >>= 1) {
            if ((carry & 1) != 0) first[31 - bit / 8] = static_cast<uint8_t>(first[31 - bit / 8] | (1u << (bit % 8)));
        }
        regions.push_back(Region{first, region_bits});
    }
    return regions;
}

std::optional<Region> intersect(const Region& a, const Region& b) noexcept {
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
