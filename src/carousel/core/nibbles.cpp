// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "nibbles.hpp"

namespace carousel {

void unpack_nibbles(ByteView packed, uint8_t* out) noexcept {
    for (std::size_t i = 0; i < packed.size(); ++i) {
        out[2 * i] = packed[i] >> 4;
        out[2 * i + 1] = packed[i] & 0x0f;
    }
}

Nibbles unpack_nibbles(ByteView packed) {
    Nibbles out(packed.size() * 2, 0);
    unpack_nibbles(packed, out.data());
    return out;
}

Bytes pack_nibbles(ByteView nibbles) {
    Bytes out((nibbles.size() + 1) / 2, 0);
    for (std::size_t i = 0; i < nibbles.size(); ++i) {
        out[i / 2] = static_cast<uint8_t>(out[i / 2] | ((i % 2 == 0) ? nibbles[i] << 4 : nibbles[i]));
    }
    return out;
}

std::size_t common_prefix_length(ByteView a, ByteView b) noexcept {
    const std::size_t n = a.size() < b.size() ? a.size() : b.size();
    std::size_t i = 0;
    while (i < n && a[i] == b[i]) ++i;
    return i;
}

std::size_t write_hex_prefix(uint8_t* out, ByteView nibbles, bool leaf) noexcept {
    const bool odd = nibbles.size() % 2 != 0;
    const uint8_t flag = static_cast<uint8_t>((leaf ? 2 : 0) + (odd ? 1 : 0));
    std::size_t i = 0;
    out[0] = static_cast<uint8_t>(flag << 4);
    if (odd) out[0] = static_cast<uint8_t>(out[0] | nibbles[i++]);
    std::size_t o = 1;
    for (; i < nibbles.size(); i += 2) out[o++] = static_cast<uint8_t>((nibbles[i] << 4) | nibbles[i + 1]);
    return o;
}

Bytes encode_hex_prefix(ByteView nibbles, bool leaf) {
    Bytes out(hex_prefix_length(nibbles.size()), 0);
    write_hex_prefix(out.data(), nibbles, leaf);
    return out;
}

tl::expected<DecodedPath, HexPrefixError> decode_hex_prefix(ByteView encoded) {
    if (encoded.empty()) return tl::unexpected{HexPrefixError::kEmpty};
    const uint8_t flag = encoded[0] >> 4;
    if (flag > 3) return tl::unexpected{HexPrefixError::kBadFlag};
    const bool odd = (flag & 1) != 0;
    if (!odd && (encoded[0] & 0x0f) != 0) return tl::unexpected{HexPrefixError::kBadPadding};
    DecodedPath out;
    out.leaf = (flag & 2) != 0;
    out.nibbles.reserve(encoded.size() * 2);
    if (odd) out.nibbles.push_back(encoded[0] & 0x0f);
    for (std::size_t i = 1; i < encoded.size(); ++i) {
        out.nibbles.push_back(encoded[i] >> 4);
        out.nibbles.push_back(encoded[i] & 0x0f);
    }
    return out;
}

}  // namespace carousel
