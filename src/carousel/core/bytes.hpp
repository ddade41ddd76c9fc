// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

namespace carousel {

// Character traits for unsigned bytes: the standard does not guarantee std::char_traits<uint8_t>
// (same approach as evmc's bytes.hpp, used by silkworm).
struct ByteTraits : std::char_traits<char> {
    using char_type = uint8_t;

    static constexpr void assign(char_type& c1, const char_type& c2) noexcept { c1 = c2; }
    static constexpr bool eq(char_type a, char_type b) noexcept { return a == b; }
    static constexpr bool lt(char_type a, char_type b) noexcept { return a < b; }
    static constexpr int compare(const char_type* a, const char_type* b, std::size_t n) noexcept {
        for (std::size_t i = 0; i < n; ++i) {
            if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
        }
        return 0;
    }
    static constexpr std::size_t length(const char_type* s) noexcept {
        std::size_t n = 0;
        while (s[n] != 0) ++n;
        return n;
    }
    static constexpr const char_type* find(const char_type* s, std::size_t n, const char_type& c) noexcept {
        for (std::size_t i = 0; i < n; ++i) {
            if (s[i] == c) return s + i;
        }
        return nullptr;
    }
    static char_type* move(char_type* dst, const char_type* src, std::size_t n) noexcept {
        if (n != 0) std::memmove(dst, src, n);
        return dst;
    }
    static char_type* copy(char_type* dst, const char_type* src, std::size_t n) noexcept {
        if (n != 0) std::memcpy(dst, src, n);
        return dst;
    }
    static char_type* assign(char_type* s, std::size_t n, char_type c) noexcept {
        if (n != 0) std::memset(s, c, n);
        return s;
    }
};

// An owned byte string and a non-owning view of one.
using Bytes = std::basic_string<uint8_t, ByteTraits>;
using ByteView = std::basic_string_view<uint8_t, ByteTraits>;

// A 32-byte hash (Keccak-256 output, trie node reference, state root).
using Hash = std::array<uint8_t, 32>;

// A view of a fixed-size byte array (a hash, a key, a signature).
template <std::size_t N>
inline ByteView view(const std::array<uint8_t, N>& a) noexcept {
    return {a.data(), a.size()};
}
inline ByteView view(std::string_view s) noexcept {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};  // NOLINT: byte reinterpretation
}
inline Bytes to_bytes(std::string_view s) { return Bytes{view(s)}; }

// Copies exactly 32 bytes into a Hash. The caller guarantees `b.size() == 32`.
inline Hash to_hash(ByteView b) noexcept {
    Hash h{};
    std::memcpy(h.data(), b.data(), h.size());
    return h;
}

}  // namespace carousel
