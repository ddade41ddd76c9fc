// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "hex.hpp"

#include <cstdlib>

namespace carousel {
namespace {
constexpr char kDigits[] = "0123456789abcdef";

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
}  // namespace

std::string to_hex(ByteView b) {
    std::string out(b.size() * 2, '\0');
    for (std::size_t i = 0; i < b.size(); ++i) {
        out[2 * i] = kDigits[b[i] >> 4];
        out[2 * i + 1] = kDigits[b[i] & 0xf];
    }
    return out;
}

std::string to_hex_prefixed(ByteView b) { return "0x" + to_hex(b); }

std::optional<Bytes> from_hex(std::string_view hex) {
    if (hex.size() >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) hex.remove_prefix(2);
    if (hex.size() % 2 != 0) return std::nullopt;
    Bytes out(hex.size() / 2, 0);
    for (std::size_t i = 0; i < out.size(); ++i) {
        const int hi = hex_value(hex[2 * i]);
        const int lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out[i] = static_cast<uint8_t>((hi << 4) | lo);
    }
    return out;
}

std::optional<Hash> hash_from_hex(std::string_view hex) {
    auto b = from_hex(hex);
    if (!b || b->size() != 32) return std::nullopt;
    return to_hash(*b);
}

Bytes operator""_hex(const char* str, std::size_t len) {
    auto b = from_hex({str, len});
    if (!b) std::abort();  // a malformed literal is a programming error
    return *b;
}

}  // namespace carousel
