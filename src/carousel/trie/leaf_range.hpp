// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// verify_leaf_range: checks a leaf-mode answer for the key range [origin, limit] against a root, as
// a prefix-sync chunk or a Merry-Go-Round region answer carries it (the `keys`, `values`, `proof` and
// stop path of a proto::ChunkEntry in leaf mode).
//
// An answer is whole or cut. A whole one (no stop path) must be exactly the trie's leaves in
// [origin, limit], with the proof of the paths to `origin` and to `limit`
// (verify_bounded_range_proof). A cut one must hold at least one leaf and be exactly the trie's
// leaves in [origin, keys.back()], with the proof of the paths to `origin` and to its last key
// (verify_range_proof): it proves nothing past its last key, so the range continues after it (not
// at the server's stop path, which proves nothing). A cut answer may run past `limit` (a server
// cuts by size, not by range): the leaves past it are proven but are not the range's.

#include <span>

#include <tl/expected.hpp>

#include <carousel/core/bytes.hpp>

namespace carousel::trie {

enum class [[nodiscard]] LeafRangeError{
    kCutBeforeFirstLeaf = 1,  // a cut answer with no leaf (it proves nothing)
    kBadProof,                // the leaves and proof are not the trie's leaves over the range
};

std::string_view to_string(LeafRangeError e) noexcept;

// Verifies the answer; `cut` says whether it was cut (has a stop path). `origin` and `limit` are
// 32-byte keys, origin <= limit. Returns how many of the leading keys lie in [origin, limit]: all of
// them for a whole answer, and for a cut one those up to `limit`.
tl::expected<std::size_t, LeafRangeError> verify_leaf_range(const Hash& root, ByteView origin, ByteView limit,
                                                            std::span<const Hash> keys, std::span<const Bytes> values,
                                                            std::span<const Bytes> proof, bool cut);

}  // namespace carousel::trie
