// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "leaf_range.hpp"

#include <algorithm>
#include <array>
#include <vector>

#include "proof.hpp"

namespace carousel::trie {

std::string_view to_string(LeafRangeError e) noexcept {
    // By enumerator (1, 2); 0 is none.
    constexpr std::array<std::string_view, 3> kNames{"unknown leaf range error", "a cut leaf range with no leaf",
                                                     "leaves and proof are not the trie's over the range"};
    const auto i = static_cast<std::size_t>(e);
    return i < kNames.size() ? kNames[i] : kNames[0];
}

tl::expected<std::size_t, LeafRangeError> verify_leaf_range(const Hash& root, ByteView origin, ByteView limit,
                                                            std::span<const Hash> keys, std::span<const Bytes> values,
                                                            std::span<const Bytes> proof, bool cut) {
    // Checked first: an empty cut answer is refused without the cost of its proof.
    if (cut && keys.empty()) return tl::unexpected{LeafRangeError::kCutBeforeFirstLeaf};
    std::vector<Bytes> packed;
    packed.reserve(keys.size());
    for (const Hash& k : keys) packed.emplace_back(view(k));
    auto ok = cut ? verify_range_proof(root, origin, packed, values, proof)
                  : verify_bounded_range_proof(root, origin, limit, packed, values, proof);
    if (!ok) return tl::unexpected{LeafRangeError::kBadProof};
    // Keys strictly increase (verified): those in range are a prefix of them.
    const auto past = std::partition_point(packed.begin(), packed.end(),
                                           [&](const Bytes& k) { return ByteView{k}.compare(limit) <= 0; });
    return static_cast<std::size_t>(past - packed.begin());
}

}  // namespace carousel::trie
