// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Merkle proofs and their strict verifiers.
//
// A proof is a set of trie nodes (their RLP). Verifiers take them from peers: every node is decoded
// strictly, referenced only by the hash of its RLP, and the proof must be minimal — a node that no
// proven path uses, or a node given twice, fails verification (go-ethereum accepts both).

#include <optional>
#include <span>
#include <vector>

#include <tl/expected.hpp>

#include <carousel/core/bytes.hpp>
#include <carousel/trie/hash_builder.hpp>

namespace carousel::trie {

enum class [[nodiscard]] ProofError{
    kBadNode = 1,        // a proof node does not decode as a trie node
    kMissingNode,        // a path needs a node the proof does not carry
    kUnusedNode,         // a node lies off every proven path (non-minimal proof)
    kDuplicateNode,      // the same node appears twice
    kRootMismatch,       // the data do not hash to the expected root
    kKeysNotIncreasing,  // range keys out of order or repeated
    kKeyOutOfRange,      // a range key below the range's origin
    kBadKeyLength,       // a key of the wrong length (ranges use 32-byte keys)
    kEmptyValue,         // a range value that is empty (absent keys have no leaf)
    kLengthMismatch,     // a different number of keys and values
    kBranchValue,        // a branch with a value in a trie of fixed-length keys
    kTooLarge,           // more nodes or keys than the verifier accepts
};

std::string_view to_string(ProofError e) noexcept;

// Most nodes a proof may carry; most keys a range may carry.
inline constexpr std::size_t kMaxProofNodes = 1 << 16;
inline constexpr std::size_t kMaxRangeKeys = 1 << 20;

// Verifies a proof of one key against `root` (inclusion or exclusion). Returns the key's value, or
// nullopt if the proof shows the key absent. Keys of any length.
tl::expected<std::optional<Bytes>, ProofError> verify_proof(const Hash& root, ByteView key,
                                                            std::span<const Bytes> proof);

// Verifies one proof for several keys at once (a multiproof: the union of their paths, each node
// once). Returns each key's value or nullopt, in the order of `keys`.
tl::expected<std::vector<std::optional<Bytes>>, ProofError> verify_multiproof(const Hash& root,
                                                                              std::span<const Bytes> keys,
                                                                              std::span<const Bytes> proof);

// Verifies a range of leaves as snap's AccountRange delivers it: `keys` (32 bytes, strictly
// increasing, none below `origin`) with their `values`, and `proof`, the nodes of the paths to
// `origin` and to the last key. It proves that these are exactly the trie's leaves in
// [origin, keys.back()] — none left out, none added. With no keys, the proof shows there is no key at
// or after `origin`. With an empty proof, the leaves must be the whole trie.
// Returns whether the trie holds keys beyond the range (more to fetch).
tl::expected<bool, ProofError> verify_range_proof(const Hash& root, ByteView origin, std::span<const Bytes> keys,
                                                  std::span<const Bytes> values, std::span<const Bytes> proof);

// The same for a closed range [origin, limit]: `proof` holds the paths to `origin` and to `limit`
// (which need not exist), every key is <= limit, and the leaves are exactly the trie's leaves in
// [origin, limit]. A prefix chunk delivered whole is checked this way. Returns whether the trie
// holds keys beyond `limit`.
tl::expected<bool, ProofError> verify_bounded_range_proof(const Hash& root, ByteView origin, ByteView limit,
                                                          std::span<const Bytes> keys, std::span<const Bytes> values,
                                                          std::span<const Bytes> proof);
// The same, and `on_node` is called for every node (32 bytes or longer, by its unpacked path) the
// check rebuilds from the leaves and the edge proofs' siblings (HashBuilder's NodeCallback): once the
// check passes, those nodes and the proof are the nodes of the trie at `root` on the paths into the
// range and below it (a holder of the range's leaves rebuilds its partial trie so). Calls come before
// the root is compared: a caller keeps nothing of them unless the check passes.
tl::expected<bool, ProofError> verify_bounded_range_proof(const Hash& root, ByteView origin, ByteView limit,
                                                          std::span<const Bytes> keys, std::span<const Bytes> values,
                                                          std::span<const Bytes> proof, const NodeCallback& on_node);

}  // namespace carousel::trie
