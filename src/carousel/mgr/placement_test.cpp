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
            const Block block = block_of(key_of(n), dht::Radius{bits});
            const trie::PathRange range = path_range(block);
            EXPECT_LE(range.from.size(), 64u);
            EXPECT_EQ(range.from.size(), range.to.size());
            EXPECT_TRUE(in_range(block.first, range)) << bits;
            EXPECT_TRUE(in_range(block_last(block), range)) << bits;
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
    const trie::PathRange range = path_range(block_of(id, dht::Radius{248}));
    EXPECT_EQ(range.from, (Nibbles{0xa, 0xb}));
    EXPECT_EQ(range.to, range.from);
    const trie::PathRange three_bits = path_range(block_of(id, dht::Radius{253}));
    EXPECT_EQ(three_bits.from, (Nibbles{0xa}));  // 1010 → first three bits 101: nibbles a..b
    EXPECT_EQ(three_bits.to, (Nibbles{0xb}));
}

TEST(Placement, StorageBlockHoldsExactlyTheXorPlacedLeaves) {
    const Hash account = key_of(7);
    for (unsigned bits : {253u, 250u, 248u}) {
        const Block block = block_of(key_of(99), dht::Radius{bits});
        const Block moved = storage_block(block, account);
        EXPECT_EQ(moved.bits, bits);
        for (uint64_t i = 0; i < 2000; ++i) {
            const Hash slot = key_of(5000 + i);
            EXPECT_EQ(contains(block, storage_position(account, slot)), contains(moved, slot));
        }
    }
}

TEST(Placement, TileCoversTheSpaceInOrder) {
    const auto blocks = tile(253);
    ASSERT_EQ(blocks.size(), 8u);
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        EXPECT_EQ(blocks[i].first[0], static_cast<uint8_t>(i << 5));
        if (i > 0) {
            EXPECT_LT(block_last(blocks[i - 1]), blocks[i].first);
        }
    }
    EXPECT_EQ(block_last(blocks.back()), (Hash{[] {
                  Hash h;
                  h.fill(0xff);
                  return h;
              }()}));
    EXPECT_EQ(tile(256).size(), 1u);
    EXPECT_TRUE(contains(tile(256)[0], tile(248)[77]));
    EXPECT_FALSE(contains(tile(248)[77], tile(256)[0]));
}

// A block's regions tile it in key order; nested blocks intersect to the inner one, disjoint ones
// not at all.
TEST(Placement, RegionsTileTheBlock) {
    for (uint64_t n = 0; n < 4; ++n) {
        const Block block = block_of(key_of(n), dht::Radius{250});
        const auto regions = regions_in(block, 247);
        ASSERT_EQ(regions.size(), 8u);
        EXPECT_EQ(regions.front().first, block.first);
        EXPECT_EQ(block_last(regions.back()), block_last(block));
        for (std::size_t i = 0; i < regions.size(); ++i) {
            EXPECT_EQ(regions[i].bits, 247u);
            EXPECT_TRUE(contains(block, regions[i]));
            if (i > 0) {
                EXPECT_EQ(next_key(block_last(regions[i - 1])), regions[i].first);
            }
        }
        EXPECT_EQ(regions_in(block, 250), std::vector<Block>{block});
        EXPECT_EQ(intersect(block, regions[3]), regions[3]);
        EXPECT_EQ(intersect(regions[3], block), regions[3]);
        EXPECT_EQ(intersect(regions[2], regions[3]), std::nullopt);
    }
}

}  // namespace
}  // namespace carousel::mgr
