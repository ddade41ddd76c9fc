// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "hex.hpp"

#include <string>

#include <gtest/gtest.h>

namespace carousel {
namespace {

TEST(Hex, EncodesLowerCaseWithAndWithoutPrefix) {
    EXPECT_EQ(to_hex(ByteView{}), "");
    EXPECT_EQ(to_hex_prefixed(ByteView{}), "0x");
    const Bytes b{0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
    EXPECT_EQ(to_hex(b), "00017f80abff");
    EXPECT_EQ(to_hex_prefixed(b), "0x00017f80abff");
    Hash h{};
    h[0] = 0xde;
    h[31] = 0x0f;
    EXPECT_EQ(to_hex(h), "de" + std::string(60, '0') + "0f");
}

TEST(Hex, EveryByteRoundTrips) {
    Bytes all;
    for (unsigned i = 0; i < 256; ++i) all.push_back(static_cast<uint8_t>(i));
    const std::string text = to_hex(all);
    EXPECT_EQ(text.size(), 512U);
    EXPECT_EQ(from_hex(text), all);
    EXPECT_EQ(from_hex(to_hex_prefixed(all)), all);
}

TEST(Hex, ParsesEitherPrefixAndEitherCase) {
    const Bytes want{0xc0, 0xff, 0xee};
    EXPECT_EQ(from_hex("c0ffee"), want);
    EXPECT_EQ(from_hex("C0FFEE"), want);
    EXPECT_EQ(from_hex("0xC0fFeE"), want);
    EXPECT_EQ(from_hex("0Xc0ffee"), want);
    EXPECT_EQ(from_hex(""), Bytes{});
    EXPECT_EQ(from_hex("0x"), Bytes{});
    EXPECT_EQ(from_hex("0X"), Bytes{});
}

TEST(Hex, RefusesOddLengthsAndNonHexCharacters) {
    EXPECT_EQ(from_hex("0"), std::nullopt);
    EXPECT_EQ(from_hex("abc"), std::nullopt);
    EXPECT_EQ(from_hex("0xabc"), std::nullopt);
    EXPECT_EQ(from_hex("0g"), std::nullopt);
    EXPECT_EQ(from_hex("g0"), std::nullopt);
    EXPECT_EQ(from_hex("0x 0"), std::nullopt);
    EXPECT_EQ(from_hex("00 "), std::nullopt);
    EXPECT_EQ(from_hex("0x0x"), std::nullopt);  // the prefix only once, at the front
    EXPECT_EQ(from_hex("000x"), std::nullopt);
    EXPECT_EQ(from_hex("x0"), std::nullopt);
    EXPECT_EQ(from_hex("+1"), std::nullopt);
    EXPECT_EQ(from_hex(std::string_view{"0\0", 2}), std::nullopt);
    // Characters just outside the digit ranges.
    for (const char* bad : {"/0", ":0", "@0", "G0", "`0", "g0"}) EXPECT_EQ(from_hex(bad), std::nullopt) << bad;
}

TEST(Hex, HashNeedsExactlySixtyFourDigits) {
    const std::string digits = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    auto h = hash_from_hex(digits);
    ASSERT_TRUE(h);
    EXPECT_EQ((*h)[0], 0x00);
    EXPECT_EQ((*h)[1], 0x11);
    EXPECT_EQ((*h)[31], 0xff);
    EXPECT_EQ(hash_from_hex("0x" + digits), h);
    EXPECT_EQ(to_hex(*h), digits);
    EXPECT_EQ(hash_from_hex(digits.substr(2)), std::nullopt);  // 31 bytes
    EXPECT_EQ(hash_from_hex(digits + "00"), std::nullopt);     // 33 bytes
    EXPECT_EQ(hash_from_hex(digits.substr(1)), std::nullopt);  // odd
    EXPECT_EQ(hash_from_hex(""), std::nullopt);
    std::string bad = digits;
    bad[40] = 'z';
    EXPECT_EQ(hash_from_hex(bad), std::nullopt);
}

TEST(Hex, LiteralParsesAndAbortsOnMalformedInput) {
    EXPECT_EQ("c0ffee"_hex, (Bytes{0xc0, 0xff, 0xee}));
    EXPECT_EQ(""_hex, Bytes{});
    EXPECT_EQ("0x01"_hex, Bytes{0x01});
    EXPECT_DEATH((void)"abc"_hex, "");
    EXPECT_DEATH((void)"zz"_hex, "");
}

}  // namespace
}  // namespace carousel
