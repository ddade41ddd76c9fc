// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Nibble paths and the hex-prefix encoding (Yellow Paper, Appendix C).
//
// A nibble path is held unpacked: one nibble (0..15) per byte, so that slicing and comparing paths
// is plain string work. Paths through a secure trie are 64 nibbles long.

#include <tl/expected.hpp>

#include "bytes.hpp"

namespace carousel {

// Unpacked nibbles: every byte is 0..15.
using Nibbles = Bytes;

// The nibbles of `packed`, high nibble first; twice as long as the input.
Nibbles unpack_nibbles(ByteView packed);
// Writes the 2 * packed.size() nibbles of `packed` to `out`.
void unpack_nibbles(ByteView packed, uint8_t* out) noexcept;

// Packs an even-length nibble path into bytes. An odd path gets a trailing zero nibble.
Bytes pack_nibbles(ByteView nibbles);

// Length of the longest common prefix of two byte strings (nibble paths or keys).
std::size_t common_prefix_length(ByteView a, ByteView b) noexcept;

// Hex-prefix encoding of a nibble path with the leaf flag (Yellow Paper HP function).
Bytes encode_hex_prefix(ByteView nibbles, bool leaf);
// Encoded size of the hex-prefix form of a path of `nibble_count` nibbles.
constexpr std::size_t hex_prefix_length(std::size_t nibble_count) noexcept { return nibble_count / 2 + 1; }
// Writes the hex-prefix form to `out` (hex_prefix_length(nibbles.size()) bytes) and returns that size.
std::size_t write_hex_prefix(uint8_t* out, ByteView nibbles, bool leaf) noexcept;

enum class [[nodiscard]] HexPrefixError{
    kEmpty = 1,   // no flag byte
    kBadFlag,     // the flag nibble is not 0..3
    kBadPadding,  // an even path whose padding nibble is not zero
};

struct DecodedPath {
    Nibbles nibbles;
    bool leaf{false};
};

// Strict inverse of encode_hex_prefix.
tl::expected<DecodedPath, HexPrefixError> decode_hex_prefix(ByteView encoded);

}  // namespace carousel
