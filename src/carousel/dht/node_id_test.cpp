// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "node_id.hpp"

#include <random>

#include <gtest/gtest.h>

#include <carousel/core/hex.hpp>

namespace carousel::dht {
namespace {

Hash id_of(std::string_view hex) { return *hash_from_hex(hex); }

Hash zero() { return Hash{}; }

// A hash with only bit `bit` set (bit 0 is the lowest bit of the last byte).
Hash bit(unsigned b) {
    Hash h{};
    h[31 - b / 8] = static_cast<uint8_t>(1u << (b % 8));
    return h;
}

TEST(NodeId, XorDistance) {
    const Hash a = id_of("ff00000000000000000000000000000000000000000000000000000000000001");
    const Hash b = id_of("0f00000000000000000000000000000000000000000000000000000000000003");
    EXPECT_EQ(to_hex(xor_distance(a, b)), "f000000000000000000000000000000000000000000000000000000000000002");
    EXPECT_EQ(xor_distance(a, a), zero());
    EXPECT_EQ(xor_distance(a, b), xor_distance(b, a));
}

TEST(NodeId, LogDistance) {
    EXPECT_EQ(log_distance(zero(), zero()), 0u);
    for (unsigned b = 0; b < 256; ++b) EXPECT_EQ(log_distance(zero(), bit(b)), b + 1) << b;
    Hash all{};
    all.fill(0xff);
    EXPECT_EQ(log_distance(all, zero()), 256u);
    // Only the highest differing bit counts.
    Hash x = bit(10);
    x[31] = 0xff;
    EXPECT_EQ(log_distance(zero(), x), 11u);
}

TEST(NodeId, CloserIsAStrictOrder) {
    std::mt19937_64 rng{7};
    auto random_hash = [&] {
        Hash h{};
        for (auto& b : h) b = static_cast<uint8_t>(rng());
        return h;
    };
    for (int i = 0; i < 200; ++i) {
        const Hash t = random_hash();
        const Hash a = random_hash();
        const Hash b = random_hash();
        EXPECT_FALSE(closer(t, a, a));
        EXPECT_NE(closer(t, a, b), closer(t, b, a));
        // Agrees with comparing the XOR distances as big-endian numbers.
        EXPECT_EQ(closer(t, a, b), xor_distance(t, a) < xor_distance(t, b));
        EXPECT_TRUE(closer(t, t, a));
    }
}

TEST(NodeId, RadiusCoversOneAlignedBlock) {
    const Hash id = id_of("abcdef0000000000000000000000000000000000000000000000000000001234");
    // Radius 0 covers only the id itself.
    EXPECT_TRUE(covers(id, Radius{0}, id));
    EXPECT_FALSE(covers(id, Radius{0}, xor_distance(id, bit(0))));
    EXPECT_EQ(region_first(id, Radius{0}), id);
    EXPECT_EQ(last_key(id, Radius{0}), id);

    // Radius 2^16 - 1: the keys sharing the first 240 bits.
    const Radius r{16};
    EXPECT_EQ(to_hex(region_first(id, r)), "abcdef0000000000000000000000000000000000000000000000000000000000");
    EXPECT_EQ(to_hex(last_key(id, r)), "abcdef000000000000000000000000000000000000000000000000000000ffff");
    EXPECT_TRUE(covers(id, r, region_first(id, r)));
    EXPECT_TRUE(covers(id, r, last_key(id, r)));
    EXPECT_FALSE(covers(id, r, xor_distance(id, bit(16))));
    EXPECT_TRUE(covers(id, r, xor_distance(id, bit(15))));

    // Radius 2^256 - 1 covers everything.
    const Radius all{256};
    EXPECT_EQ(region_first(id, all), zero());
    Hash ones{};
    ones.fill(0xff);
    EXPECT_EQ(last_key(id, all), ones);
    EXPECT_TRUE(covers(id, all, zero()));
    EXPECT_TRUE(covers(id, all, ones));

    // Radius 2^255 - 1: the half of the key space the id is in.
    EXPECT_TRUE(covers(id, Radius{255}, ones));
    EXPECT_FALSE(covers(id, Radius{255}, zero()));
}

}  // namespace
}  // namespace carousel::dht
