// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// U256: a small unsigned 256-bit integer for balances and storage words.
//
// Enough for account bookkeeping and for reading numbers out of JSON: parsing (decimal, hex) with
// overflow detection, big-endian conversion, comparison, checked addition and subtraction. Not a
// general big-integer library (no multiplication or division by another U256).

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include <carousel/core/bytes.hpp>

namespace carousel::state {

enum class [[nodiscard]] NumberError{
    kEmpty = 1,  // no digits
    kBadDigit,   // a character that is not a digit of the base
    kOverflow,   // the value does not fit the target type
};
std::string_view to_string(NumberError e) noexcept;

class U256 {
  public:
    constexpr U256() noexcept = default;
    constexpr explicit U256(uint64_t v) noexcept : limbs_{0, 0, 0, v} {}

    static constexpr U256 max() noexcept { return U256{~uint64_t{0}, ~uint64_t{0}, ~uint64_t{0}, ~uint64_t{0}}; }

    // Decimal digits only (no sign, prefix or spaces); leading zeros are allowed.
    static tl::expected<U256, NumberError> from_decimal(std::string_view digits) noexcept;
    // Hex digits in any case with an optional "0x"/"0X" prefix; at least one digit; any number of
    // leading zeros (so "0x00" and odd lengths such as "0x3" are fine).
    static tl::expected<U256, NumberError> from_hex(std::string_view hex) noexcept;
    // A quantity as genesis files write it (geth's HexOrDecimal256): hex if it starts with "0x" or
    // "0X", decimal otherwise.
    static tl::expected<U256, NumberError> from_quantity(std::string_view s) noexcept;
    // A big-endian number of any length; kOverflow unless it fits 256 bits (leading zeros are fine).
    static tl::expected<U256, NumberError> from_big_endian(ByteView be) noexcept;

    // Minimal big-endian bytes: no leading zeros, empty for zero (the RLP integer payload).
    [[nodiscard]] Bytes to_big_endian() const;
    // The 32-byte big-endian word.
    [[nodiscard]] Hash to_word() const noexcept;
    [[nodiscard]] std::string to_decimal() const;
    // "0x" and minimal lower-case hex digits ("0x0" for zero), as JSON-RPC quantities.
    [[nodiscard]] std::string to_hex() const;

    [[nodiscard]] constexpr bool is_zero() const noexcept {
        return (limbs_[0] | limbs_[1] | limbs_[2] | limbs_[3]) == 0;
    }
    [[nodiscard]] constexpr bool fits_uint64() const noexcept { return (limbs_[0] | limbs_[1] | limbs_[2]) == 0; }
    // The low 64 bits.
    [[nodiscard]] constexpr uint64_t low64() const noexcept { return limbs_[3]; }

    // this + other, or nullopt if the sum exceeds 2^256 - 1.
    [[nodiscard]] std::optional<U256> checked_add(const U256& other) const noexcept;
    // this - other, or nullopt if other > this.
    [[nodiscard]] std::optional<U256> checked_sub(const U256& other) const noexcept;

    // Limbs are stored most significant first, so the defaulted comparisons order by value.
    friend constexpr bool operator==(const U256&, const U256&) noexcept = default;
    // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 takes the defaulted <=> for a 0 literal
    friend constexpr std::strong_ordering operator<=>(const U256&, const U256&) noexcept = default;

  private:
    constexpr U256(uint64_t l0, uint64_t l1, uint64_t l2, uint64_t l3) noexcept : limbs_{l0, l1, l2, l3} {}
    static tl::expected<U256, NumberError> parse(std::string_view digits, unsigned base) noexcept;
    // this = this * m + add; returns false (leaving this undefined) on overflow.
    bool mul_add(uint32_t m, uint32_t add) noexcept;
    // this = this / d; returns the remainder. `d` is not zero.
    uint32_t div_mod(uint32_t d) noexcept;

    std::array<uint64_t, 4> limbs_{};  // limbs_[0] is the most significant
};

}  // namespace carousel::state
