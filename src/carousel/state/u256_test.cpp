// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include <gtest/gtest.h>

#include <carousel/core/hex.hpp>
#include <carousel/state/u256.hpp>

namespace carousel::state {
namespace {

// 2^256 - 1 and 2^256 in decimal.
constexpr std::string_view kMaxDecimal =
    "115792089237316195423570985008687907853269984665640564039457584007913129639935";
constexpr std::string_view kTwo256Decimal =
    "115792089237316195423570985008687907853269984665640564039457584007913129639936";

TEST(U256, ParsesDecimal) {
    EXPECT_EQ(U256::from_decimal("0").value(), U256{});
    EXPECT_EQ(U256::from_decimal("000").value(), U256{});
    EXPECT_EQ(U256::from_decimal("18446744073709551615").value(), U256{UINT64_MAX});
    const U256 two64 = U256::from_decimal("18446744073709551616").value();
    EXPECT_FALSE(two64.fits_uint64());
    EXPECT_EQ(two64.to_big_endian(), "010000000000000000"_hex);
    EXPECT_EQ(U256::from_decimal(kMaxDecimal).value(), U256::max());
    EXPECT_EQ(U256::from_decimal("1234567000000000000000").value().to_hex(), "0x42ed0f117bd3ad8000");
}

TEST(U256, DecimalErrors) {
    EXPECT_EQ(U256::from_decimal("").error(), NumberError::kEmpty);
    EXPECT_EQ(U256::from_decimal("12x").error(), NumberError::kBadDigit);
    EXPECT_EQ(U256::from_decimal("-1").error(), NumberError::kBadDigit);
    EXPECT_EQ(U256::from_decimal(" 1").error(), NumberError::kBadDigit);
    EXPECT_EQ(U256::from_decimal("0x10").error(), NumberError::kBadDigit);
    EXPECT_EQ(U256::from_decimal("ff").error(), NumberError::kBadDigit);
    EXPECT_EQ(U256::from_decimal(kTwo256Decimal).error(), NumberError::kOverflow);
    EXPECT_EQ(U256::from_decimal(std::string(100, '9')).error(), NumberError::kOverflow);
    // A bad digit after the overflow point is still reported as a bad digit.
    EXPECT_EQ(U256::from_decimal(std::string(100, '9') + "z").error(), NumberError::kBadDigit);
}

TEST(U256, ParsesHex) {
    EXPECT_EQ(U256::from_hex("0x0").value(), U256{});
    EXPECT_EQ(U256::from_hex("0x00").value(), U256{});
    EXPECT_EQ(U256::from_hex("0x3").value(), U256{3});
    EXPECT_EQ(U256::from_hex("0X0e").value(), U256{14});
    EXPECT_EQ(U256::from_hex("ff").value(), U256{255});
    EXPECT_EQ(U256::from_hex("0xD3C21BCECCEDA1000000").value().to_decimal(), "1000000000000000000000000");
    EXPECT_EQ(U256::from_hex("0x" + std::string(64, 'f')).value(), U256::max());
    EXPECT_EQ(U256::from_hex("0x0000" + std::string(64, 'F')).value(), U256::max());  // leading zeros are fine
    EXPECT_EQ(U256::from_hex("0x1" + std::string(64, '0')).error(), NumberError::kOverflow);
    EXPECT_EQ(U256::from_hex("0x").error(), NumberError::kEmpty);
    EXPECT_EQ(U256::from_hex("").error(), NumberError::kEmpty);
    EXPECT_EQ(U256::from_hex("0xg").error(), NumberError::kBadDigit);
    EXPECT_EQ(U256::from_hex("0x-1").error(), NumberError::kBadDigit);
}

TEST(U256, Quantity) {
    EXPECT_EQ(U256::from_quantity("0x10").value(), U256{16});
    EXPECT_EQ(U256::from_quantity("10").value(), U256{10});
    EXPECT_EQ(U256::from_quantity("1e3").error(), NumberError::kBadDigit);
}

TEST(U256, BigEndianRoundTrip) {
    EXPECT_EQ(U256{}.to_big_endian(), Bytes{});
    EXPECT_EQ(U256{1}.to_big_endian(), "01"_hex);
    EXPECT_EQ(U256{0x0100}.to_big_endian(), "0100"_hex);
    EXPECT_EQ(U256::max().to_big_endian(), Bytes(32, 0xff));
    EXPECT_EQ(to_hex(U256{0x1234}.to_word()), std::string(60, '0') + "1234");
    for (const Bytes& be : {"01"_hex, "ff00"_hex, "0102030405060708090a0b0c0d0e0f1011"_hex, Bytes(32, 0xab)}) {
        EXPECT_EQ(U256::from_big_endian(be).value().to_big_endian(), be);
    }
    EXPECT_EQ(U256::from_big_endian("000000ff"_hex).value(), U256{255});
    EXPECT_EQ(U256::from_big_endian("00"_hex + Bytes(32, 0xff)).value(), U256::max());
    EXPECT_EQ(U256::from_big_endian("01"_hex + Bytes(32, 0)).error(), NumberError::kOverflow);
}

TEST(U256, TextOutput) {
    EXPECT_EQ(U256{}.to_decimal(), "0");
    EXPECT_EQ(U256{}.to_hex(), "0x0");
    EXPECT_EQ(U256{255}.to_hex(), "0xff");
    EXPECT_EQ(U256::max().to_decimal(), kMaxDecimal);
    EXPECT_EQ(U256::max().to_hex(), "0x" + std::string(64, 'f'));
    const auto v = U256::from_decimal("1606938044258990275541962092341162602522202993782792835301376").value();
    EXPECT_EQ(v.to_hex(), "0x100000000000000000000000000000000000000000000000000");  // 2^200
    EXPECT_EQ(U256::from_decimal(v.to_decimal()).value(), v);
}

TEST(U256, OrderAndArithmetic) {
    const U256 two64 = U256::from_hex("0x10000000000000000").value();
    EXPECT_LT(U256{UINT64_MAX}, two64);
    EXPECT_GT(U256::max(), two64);
    EXPECT_EQ(U256{UINT64_MAX}.checked_add(U256{1}).value(), two64);
    EXPECT_EQ(two64.checked_sub(U256{1}).value(), U256{UINT64_MAX});
    EXPECT_FALSE(U256::max().checked_add(U256{1}).has_value());
    EXPECT_FALSE(U256{1}.checked_sub(U256{2}).has_value());
    EXPECT_EQ(U256::max().checked_sub(U256::max()).value(), U256{});
    EXPECT_EQ(U256{}.checked_sub(U256{}).value(), U256{});
    const U256 half = U256::from_hex("0x8" + std::string(63, '0')).value();
    EXPECT_EQ(half.checked_add(half.checked_sub(U256{1}).value()).value(), U256::max());
    EXPECT_FALSE(half.checked_add(half).has_value());
}

TEST(U256, ErrorNames) {
    EXPECT_EQ(to_string(NumberError::kBadDigit), "not a number");
    EXPECT_EQ(to_string(NumberError::kOverflow), "too large");
    EXPECT_EQ(to_string(NumberError::kEmpty), "no digits");
}

}  // namespace
}  // namespace carousel::state
