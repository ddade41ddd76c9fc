// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// HashBuilder: the Merkle Patricia Trie root of leaves given in strictly increasing key order
// (Yellow Paper, Appendix D), streaming, with memory bounded by the trie's depth.
//
// Like go-ethereum's StackTrie and silkworm's trie::HashBuilder, it never holds the whole trie: a
// subtree is finished (and hashed) as soon as a key arrives that leaves it. Unlike them, it does not
// hash a finished node at once: nodes wait (a bounded number of them) until eight of the same
// Keccak block count are ready, and are then hashed together by the multi-buffer kernel
// (keccak256_batch). A parent is encoded when its last child's hash is known.
//
// Limitations:
//  - All leaf keys must have the same length (32 bytes for Ethereum's secure tries), so no key is a
//    prefix of another and branch nodes never carry values.
//  - Keys must be strictly increasing; violating this is a programming error (CAROUSEL_ASSERT,
//    checked in every build).

#include <functional>
#include <memory>

#include <carousel/core/bytes.hpp>

namespace carousel::trie {

// Called for every node the builder produces whose RLP is 32 bytes or longer (so is referenced by
// hash), root included, once its hash is known. `path` is the nibble path (unpacked) from the root
// to the node. Nodes shorter than 32 bytes are embedded in their parent and are not reported.
// Calls come in no particular order (batching reorders them). The views are valid only during the call.
using NodeCallback = std::function<void(ByteView path, const Hash& hash, ByteView rlp)>;

class HashBuilder {
  public:
    explicit HashBuilder(NodeCallback on_node = {});
    ~HashBuilder();
    HashBuilder(const HashBuilder&) = delete;
    HashBuilder& operator=(const HashBuilder&) = delete;

    // Adds a leaf. `key` is packed bytes; keys strictly increase and share one length; `value` is the
    // leaf's value (already RLP-encoded where the trie stores RLP, as for accounts and slots).
    void add_leaf(ByteView key, ByteView value);

    // Adds a subtree known only by its reference, at the unpacked nibble path `path` (shorter than a
    // full key): `ref` is the subtree node's hash (32 bytes) or, for a node shorter than 32 bytes,
    // its RLP. Every key under `path` must be absent from the leaves added. Range-proof verification
    // uses this for the siblings on the edge proofs. Interleaves with add_leaf in key order.
    void add_subtree(ByteView path, ByteView ref);

    // Finishes and returns the root hash (the empty-trie root if nothing was added). The builder is
    // empty again afterwards and may be reused.
    Hash root();

    // Number of leaves and subtrees added since the last root().
    uint64_t size() const noexcept;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace carousel::trie
