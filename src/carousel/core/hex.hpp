// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "bytes.hpp"

namespace carousel {

// Lower-case hex of `b`, without a prefix.
std::string to_hex(ByteView b);
// "0x" followed by the lower-case hex of `b`.
std::string to_hex_prefixed(ByteView b);
inline std::string to_hex(const Hash& h) { return to_hex(view(h)); }

// Parses hex with an optional "0x"/"0X" prefix, any case. Returns nullopt on an odd number of
// digits or a non-hex character. The empty string (and a bare "0x") is the empty byte string.
std::optional<Bytes> from_hex(std::string_view hex);

// Parses a 32-byte hash in hex (optional prefix); nullopt unless exactly 64 hex digits.
std::optional<Hash> hash_from_hex(std::string_view hex);

// Literal helper for tests and constants: "c0ffee"_hex. Aborts on malformed literals.
Bytes operator""_hex(const char* str, std::size_t len);

}  // namespace carousel
