// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "path_range.hpp"

#include <algorithm>

namespace carousel::trie {

Nibbles pad(ByteView p, uint8_t fill) {
    Nibbles out{p.substr(0, kKeyNibbles)};
    out.resize(kKeyNibbles, fill);
    return out;
}

bool is_proper_prefix(ByteView a, ByteView b) noexcept { return a.size() < b.size() && b.substr(0, a.size()) == a; }

namespace {
// Compares pad(a, fa) with pad(b, fb) without building them (intersects runs once per node a
// server walks).
int compare_padded(ByteView a, uint8_t fa, ByteView b, uint8_t fb) noexcept {
    a = a.substr(0, kKeyNibbles);
    b = b.substr(0, kKeyNibbles);
    const std::size_t n = std::max(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
        const uint8_t x = i < a.size() ? a[i] : fa;
        const uint8_t y = i < b.size() ? b[i] : fb;
        if (x != y) return x < y ? -1 : 1;
    }
    if (n < kKeyNibbles && fa != fb) return fa < fb ? -1 : 1;
    return 0;
}
}  // namespace

bool intersects(ByteView pos, const PathRange& range) {
    // The subtree holds keys [pos·0…, pos·f…]; it meets [from·0…, to·f…] unless it ends before or
    // starts after.
    return compare_padded(pos, 0xf, range.from, 0) >= 0 && compare_padded(pos, 0, range.to, 0xf) <= 0;
}

Bytes range_min_key(const PathRange& range) { return pack_nibbles(pad(range.from, 0)); }
Bytes range_max_key(const PathRange& range) { return pack_nibbles(pad(range.to, 0xf)); }

}  // namespace carousel::trie
