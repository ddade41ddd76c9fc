// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "u256.hpp"

#include <algorithm>

namespace carousel::state {
namespace {

int digit_value(char c, unsigned base) noexcept {
    int v = -1;
    if (c >= '0' && c <= '9') v = c - '0';
    if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    return v >= 0 && static_cast<unsigned>(v) < base ? v : -1;
}

constexpr uint64_t kLow32 = 0xffffffff;

}  // namespace

std::string_view to_string(NumberError e) noexcept {
    switch (e) {
        case NumberError::kEmpty:
            return "no digits";
        case NumberError::kBadDigit:
            return "not a number";
        case NumberError::kOverflow:
            return "too large";
    }
    return "unknown number error";
}

// Works on 32-bit halves so that every partial product fits 64 bits.
bool U256::mul_add(uint32_t m, uint32_t add) noexcept {
    uint64_t carry = add;
    for (std::size_t i = limbs_.size(); i-- > 0;) {
        const uint64_t lo = (limbs_[i] & kLow32) * m + carry;
        const uint64_t hi = (limbs_[i] >> 32) * m + (lo >> 32);
        limbs_[i] = (hi << 32) | (lo & kLow32);
        carry = hi >> 32;
    }
    return carry == 0;
}

uint32_t U256::div_mod(uint32_t d) noexcept {
    uint64_t rem = 0;
    for (uint64_t& limb : limbs_) {
        const uint64_t hi = (rem << 32) | (limb >> 32);
        const uint64_t lo = ((hi % d) << 32) | (limb & kLow32);
        limb = ((hi / d) << 32) | (lo / d);
        rem = lo % d;
    }
    return static_cast<uint32_t>(rem);
}

tl::expected<U256, NumberError> U256::parse(std::string_view digits, unsigned base) noexcept {
    if (digits.empty()) return tl::unexpected{NumberError::kEmpty};
    U256 v;
    bool overflow = false;
    for (char c : digits) {
        const int d = digit_value(c, base);
        if (d < 0) return tl::unexpected{NumberError::kBadDigit};
        // Keep scanning after an overflow so that a bad digit anywhere is reported as such.
        if (!overflow) overflow = !v.mul_add(base, static_cast<uint32_t>(d));
    }
    if (overflow) return tl::unexpected{NumberError::kOverflow};
    return v;
}

namespace {
bool has_hex_prefix(std::string_view s) noexcept {
    return s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
}
}  // namespace

tl::expected<U256, NumberError> U256::from_decimal(std::string_view digits) noexcept { return parse(digits, 10); }

tl::expected<U256, NumberError> U256::from_hex(std::string_view hex) noexcept {
    if (has_hex_prefix(hex)) hex.remove_prefix(2);
    return parse(hex, 16);
}

tl::expected<U256, NumberError> U256::from_quantity(std::string_view s) noexcept {
    return has_hex_prefix(s) ? from_hex(s) : from_decimal(s);
}

tl::expected<U256, NumberError> U256::from_big_endian(ByteView be) noexcept {
    while (!be.empty() && be[0] == 0) be.remove_prefix(1);
    if (be.size() > 32) return tl::unexpected{NumberError::kOverflow};
    U256 v;
    for (uint8_t b : be) (void)v.mul_add(256, b);  // cannot overflow: at most 32 bytes
    return v;
}

Hash U256::to_word() const noexcept {
    Hash out{};
    for (std::size_t i = 0; i < 32; ++i) {
        out[i] = static_cast<uint8_t>(limbs_[i / 8] >> (8 * (7 - i % 8)));
    }
    return out;
}

Bytes U256::to_big_endian() const {
    const Hash word = to_word();
    ByteView v = view(word);
    while (!v.empty() && v[0] == 0) v.remove_prefix(1);
    return Bytes{v};
}

std::string U256::to_decimal() const {
    if (is_zero()) return "0";
    std::string out;
    U256 v = *this;
    while (!v.is_zero()) out.push_back(static_cast<char>('0' + v.div_mod(10)));
    std::reverse(out.begin(), out.end());
    return out;
}

std::string U256::to_hex() const {
    constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    U256 v = *this;
    do {
        out.push_back(kDigits[v.div_mod(16)]);
    } while (!v.is_zero());
    out += "x0";
    std::reverse(out.begin(), out.end());
    return out;
}

std::optional<U256> U256::checked_add(const U256& other) const noexcept {
    U256 sum;
    uint64_t carry = 0;
    for (std::size_t i = limbs_.size(); i-- > 0;) {
        const uint64_t a = limbs_[i] + carry;
        const uint64_t c1 = a < carry ? 1 : 0;
        sum.limbs_[i] = a + other.limbs_[i];
        carry = c1 + (sum.limbs_[i] < a ? 1 : 0);
    }
    if (carry != 0) return std::nullopt;
    return sum;
}

std::optional<U256> U256::checked_sub(const U256& other) const noexcept {
    if (other > *this) return std::nullopt;
    U256 diff;
    uint64_t borrow = 0;
    for (std::size_t i = limbs_.size(); i-- > 0;) {
        const uint64_t a = limbs_[i];
        const uint64_t b = other.limbs_[i] + borrow;
        const uint64_t b_overflow = b < borrow ? 1 : 0;
        diff.limbs_[i] = a - b;
        borrow = b_overflow + (a < b ? 1 : 0);
    }
    return diff;
}

}  // namespace carousel::state
