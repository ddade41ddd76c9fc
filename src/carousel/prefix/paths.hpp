// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Positions in a trie and the key ranges chunks cover.
//
// A node's position is the nibble path from the root to it. Positions sort lexicographically with a
// prefix before its extensions, which is exactly pre-order (parents before children, slot 0 before
// slot 15). A chunk request names a range of positions [from, to]: every key k with
// from·0000… <= k <= to·ffff… (each padded to a full key).

#include <carousel/core/bytes.hpp>
#include <carousel/core/nibbles.hpp>

namespace carousel::prefix {

inline constexpr std::size_t kKeyNibbles = 64;

struct PathRange {
    Nibbles from;
    Nibbles to;
};

// `p` padded to a full key with `fill` (0 or 0xf).
Nibbles pad(ByteView p, uint8_t fill);

// Whether `a` is a proper prefix of `b`.
bool is_proper_prefix(ByteView a, ByteView b) noexcept;

// Whether some key below position `pos` falls in `range`.
bool intersects(ByteView pos, const PathRange& range);

// The smallest / largest full key of `range`, packed (32 bytes).
Bytes range_min_key(const PathRange& range);
Bytes range_max_key(const PathRange& range);

}  // namespace carousel::prefix
