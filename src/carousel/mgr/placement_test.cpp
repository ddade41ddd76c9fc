// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "placement.hpp"

#include <gtest/gtest.h>

#include <carousel/core/hex.hpp>
#include <carousel/core/keccak.hpp>

namespace carousel::mgr {
namespace {

Hash key_of(uint64_t i) {
    const uint8_t bytes[8] = {static_cast<uint8_t>(i >> 56), static_cast<uint8_t>(i >> 48),
                              static_cast<uint8_t>(i >> 40), static_cast<uint8_t>(i >> 32),
                              static_cast<uint8_t>(i >> 24), static_cast<uint8_t>(i >> 16),
                              static_cast<uint8_t>(i >> 8),  static_cast<uint8_t>(i)};
    return keccak256(ByteView{bytes, 8});
}

// Whether a full key (as nibbles) falls in a PathRange: from·0… <= key <= to·f….
bool in_range(const Hash& key, const trie::PathRange& range) {
    const Nibbles k = unpack_nibbles(ByteView{key.data(), key.size()});
    return k >= trie::pad(range.from, 0) && k <= trie::pad(range.to, 0xf);
}

TEST(Placement, PathRangeCoversExactlyTheBlock) {
    for (unsigned bits : {256u, 255u, 253u, 252u, 250u, 248u, 247u, 200u, 1u, 0u}) {
        for (uint64_t n = 0; n < 8; ++n) {
            const Region block = region_of(key_of(n), dht::Radius{bits});
            const trie::PathRange range = path_range(block);
            EXPECT_LE(range.from.size(), 64u);
            EXPECT_EQ(range.from.size(), range.to.size());
            EXPECT_TRUE(in_range(block.first, range)) << bits;
            EXPECT_TRUE(in_range(last_key(block), range)) << bits;
            for (uint64_t i = 0; i < 400; ++i) {
                const Hash k = key_of(1000 + i);
                EXPECT_EQ(contains(block, k), in_range(k, range)) << "bits " << bits;
            }
        }
    }
}

TEST(Placement, WholeNibbleBlockIsOnePrefix) {
    Hash id{};
    id[0] = 0xab;
    id[1] = 0xcd;
    const trie::PathRange range = path_range(region_of(id, dht::Radius{248}));
    EXPECT_EQ(range.from, (Nibbles{0xa, 0xb}));
    EXPECT_EQ(range.to, range.from);
    const trie::PathRange three_bits = path_range(region_of(id, dht::Radius{253}));
    EXPECT_EQ(three_bits.from, (Nibbles{0xa}));  // 1010 → first three bits 101: nibbles a..b
    EXPECT_EQ(three_bits.to, (Nibbles{0xb}));
}

TEST(Placement, StorageBlockHoldsExactlyTheXorPlacedLeaves) {
    const Hash account = key_of(7);
    for (unsigned bits : {253u, 250u, 248u}) {
        const Region block = region_of(key_of(99), dht::Radius{bits});
        const Region moved = storage_region(block, account);
        EXPECT_EQ(moved.bits, bits);
        for (uint64_t i = 0; i < 2000; ++i) {
            const Hash slot = key_of(5000 + i);
            EXPECT_EQ(contains(block, storage_position(account, slot)), contains(moved, slot));
        }
    }
}

TEST(Placement, TileCoversTheSpaceInOrder) {
    const auto blocks = all_regions(253);
    ASSERT_EQ(blocks.size(), 8u);
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        EXPECT_EQ(blocks[i].first[0], static_cast<uint8_t>(i << 5));
        if (i > 0) {
            EXPECT_LT(last_key(blocks[i - 1]), blocks[i].first);
        }
    }
    EXPECT_EQ(last_key(blocks.back()), (Hash{[] {
                  Hash h;
                  h.fill(0xff);
                  return h;
              }()}));
    EXPECT_EQ(all_regions(256).size(), 1u);
    EXPECT_TRUE(contains(all_regions(256)[0], all_regions(248)[77]));
    EXPECT_FALSE(contains(all_regions(248)[77], all_regions(256)[0]));
}

// A region's regions of a smaller size tile it in key order; nested regions intersect to the inner one, disjoint ones
// not at all.
TEST(Placement, RegionsTileTheBlock) {
    for (uint64_t n = 0; n < 4; ++n) {
        const Region block = region_of(key_of(n), dht::Radius{250});
        const auto regions = regions_in(block, 247);
        ASSERT_EQ(regions.size(), 8u);
        EXPECT_EQ(regions.front().first, block.first);
        EXPECT_EQ(last_key(regions.back()), last_key(block));
        for (std::size_t i = 0; i < regions.size(); ++i) {
            EXPECT_EQ(regions[i].bits, 247u);
            EXPECT_TRUE(contains(block, regions[i]));
            if (i > 0) {
                EXPECT_EQ(next_key(last_key(regions[i - 1])), regions[i].first);
            }
        }
        EXPECT_EQ(regions_in(block, 250), std::vector<Region>{block});
        EXPECT_EQ(intersect(block, regions[3]), regions[3]);
        EXPECT_EQ(intersect(regions[3], block), regions[3]);
        EXPECT_EQ(intersect(regions[2], regions[3]), std::nullopt);
    }
}

}  // namespace
}  // namespace carousel::mgr
