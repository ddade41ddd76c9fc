// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include <random>

#include <gtest/gtest.h>

#include <carousel/trie/path_range.hpp>

namespace carousel::trie {
namespace {

Nibbles random_nibbles(std::mt19937_64& rng, std::size_t max_len) {
    Nibbles n(rng() % (max_len + 1), 0);
    for (auto& x : n) x = static_cast<uint8_t>(rng() % 16);
    return n;
}

TEST(Paths, IntersectsAsPaddedKeys) {
    std::mt19937_64 rng{10};
    for (int i = 0; i < 20000; ++i) {
        const Nibbles pos = random_nibbles(rng, 5), a = random_nibbles(rng, 4), b = random_nibbles(rng, 4);
        const PathRange range{a, b};
        const bool expected = pad(pos, 0xf) >= pad(a, 0) && pad(pos, 0) <= pad(b, 0xf);
        ASSERT_EQ(intersects(pos, range), expected) << i;
    }
    const Nibbles full(64, 0xf);
    EXPECT_TRUE(intersects(full, {full, full}));
    EXPECT_TRUE(intersects(Nibbles{}, {Nibbles{3}, Nibbles{5}}));
}

TEST(Paths, KeysAndPrefixes) {
    const PathRange range{Nibbles{0xa}, Nibbles{0xb, 0x1}};
    EXPECT_EQ(range_min_key(range), Bytes(1, 0xa0) + Bytes(31, 0));
    EXPECT_EQ(range_max_key(range), Bytes{0xb1} + Bytes(31, 0xff));
    EXPECT_EQ(pad(Nibbles{1, 2}, 0xf).size(), kKeyNibbles);
    EXPECT_TRUE(is_proper_prefix(Nibbles{1}, Nibbles{1, 2}));
    EXPECT_FALSE(is_proper_prefix(Nibbles{1, 2}, Nibbles{1, 2}));
    EXPECT_FALSE(is_proper_prefix(Nibbles{2}, Nibbles{1, 2}));
}

}  // namespace
}  // namespace carousel::trie
