// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "paths.hpp"

namespace carousel::prefix {

Nibbles pad(ByteView p, uint8_t fill) {
    Nibbles out{p.substr(0, kKeyNibbles)};
    out.resize(kKeyNibbles, fill);
    return out;
}

bool is_proper_prefix(ByteView a, ByteView b) noexcept { return a.size() < b.size() && b.substr(0, a.size()) == a; }

bool intersects(ByteView pos, const PathRange& range) {
    // The subtree holds keys [pos·0…, pos·f…]; it meets [from·0…, to·f…] unless it ends before or
    // starts after.
    return pad(pos, 0xf) >= pad(range.from, 0) && pad(pos, 0) <= pad(range.to, 0xf);
}

Bytes range_min_key(const PathRange& range) { return pack_nibbles(pad(range.from, 0)); }
Bytes range_max_key(const PathRange& range) { return pack_nibbles(pad(range.to, 0xf)); }

}  // namespace carousel::prefix
