// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include <gtest/gtest.h>

#include <carousel/core/hex.hpp>
#include <carousel/core/nibbles.hpp>

namespace carousel {
namespace {

// Yellow Paper Appendix C examples (also go-ethereum trie/encoding_test.go TestHexCompact).
TEST(HexPrefix, YellowPaperExamples) {
    struct Case {
        Nibbles nibbles;
        bool leaf;
        Bytes encoded;
    };
    const std::vector<Case> cases = {
        {{}, false, "00"_hex},
        {{}, true, "20"_hex},
        {{1, 2, 3, 4, 5}, false, "112345"_hex},
        {{0, 1, 2, 3, 4, 5}, false, "00012345"_hex},
        {{0xf, 1, 0xc, 0xb, 8}, true, "3f1cb8"_hex},
        {{0, 0xf, 1, 0xc, 0xb, 8}, true, "200f1cb8"_hex},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(encode_hex_prefix(c.nibbles, c.leaf), c.encoded);
        EXPECT_EQ(hex_prefix_length(c.nibbles.size()), c.encoded.size());
        auto d = decode_hex_prefix(c.encoded);
        ASSERT_TRUE(d);
        EXPECT_EQ(d->nibbles, c.nibbles);
        EXPECT_EQ(d->leaf, c.leaf);
    }
}

TEST(HexPrefix, RejectsMalformed) {
    EXPECT_EQ(decode_hex_prefix({}).error(), HexPrefixError::kEmpty);
    EXPECT_EQ(decode_hex_prefix("40"_hex).error(), HexPrefixError::kBadFlag);
    EXPECT_EQ(decode_hex_prefix("f0"_hex).error(), HexPrefixError::kBadFlag);
    EXPECT_EQ(decode_hex_prefix("01"_hex).error(), HexPrefixError::kBadPadding);
    EXPECT_EQ(decode_hex_prefix("2a12"_hex).error(), HexPrefixError::kBadPadding);
}

TEST(Nibbles, PackUnpackAndPrefix) {
    EXPECT_EQ(unpack_nibbles("12ab"_hex), (Nibbles{1, 2, 0xa, 0xb}));
    EXPECT_EQ(pack_nibbles(Nibbles{1, 2, 0xa, 0xb}), "12ab"_hex);
    EXPECT_EQ(pack_nibbles(Nibbles{1, 2, 0xa}), "12a0"_hex);
    EXPECT_EQ(common_prefix_length("123456"_hex, "1234ff"_hex), 2U);
    EXPECT_EQ(common_prefix_length("12"_hex, "1234"_hex), 1U);
    EXPECT_EQ(common_prefix_length({}, "12"_hex), 0U);
}

TEST(Hex, ParsesAndRejects) {
    EXPECT_EQ(from_hex("0xABcd"), "abcd"_hex);
    EXPECT_EQ(from_hex(""), Bytes{});
    EXPECT_EQ(from_hex("0x"), Bytes{});
    EXPECT_FALSE(from_hex("abc"));
    EXPECT_FALSE(from_hex("0xzz"));
    EXPECT_EQ(to_hex_prefixed("00ff"_hex), "0x00ff");
    EXPECT_FALSE(hash_from_hex("0x1234"));
}

}  // namespace
}  // namespace carousel
