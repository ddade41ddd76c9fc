// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// PathRange: positions in a trie and the key ranges they cover (chunk requests, regions, walks).
//
// A node's position is the nibble path from the root to it. Positions sort lexicographically with a
// prefix before its extensions, which is exactly pre-order (parents before children, slot 0 before
// slot 15). A range of positions [from, to] (a chunk request's, a region's) covers every key k with
// from·0000… <= k <= to·ffff… (each padded to a full key). Keys are those of a secure trie: 64 nibbles.

#include <carousel/core/bytes.hpp>
#include <carousel/core/nibbles.hpp>

namespace carousel::trie {

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

}  // namespace carousel::trie
