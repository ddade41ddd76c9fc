// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// PathNodeSource: trie nodes by position instead of by hash (go-ethereum's path scheme, as
// `trie/triedb/pathdb` keys nodes by owner and path). A node's position is the nibble path from its
// root; positions in key order are the pre-order of the trie, so the nodes of a sub-trie, walked
// depth-first, are one forward scan instead of one random lookup per node.
//
// A source holds some tries whole (a server's layout of one state: the account trie of its root and
// every storage trie under it) and nothing of the others. Only nodes whose RLP is 32 bytes or longer
// are held, as in a NodeStore: shorter ones are embedded in their parent.
//
// Exactness is the source's contract: for a root it opens, the node at a position is exactly the
// node the hash walk from that root reaches there (so a reader never needs the hashes; a root hash
// names its whole trie, so a layout stays exact for the roots it holds whatever happens to the state
// afterwards).

#include <memory>

#include <carousel/core/bytes.hpp>

namespace carousel::trie {

// Reads the nodes of one trie by position. Not thread-safe; must not outlive its source.
class PathCursor {
  public:
    virtual ~PathCursor() = default;
    // The RLP of the node at position `pos` (nibbles, one per byte), in `rlp`, valid until the next
    // call or the cursor's destruction. False if the trie has no stored node there, `pos` is past
    // the cursor's upper bound, or reading failed (status() says which). Positions asked in
    // increasing order, as a pre-order walk asks them, cost one step of a scan each.
    virtual bool node_at(ByteView pos, ByteView& rlp) = 0;
    // The next node in position order after the one returned last (the first call: the first node
    // of the cursor, its root), with its position; false past the last one or the upper bound.
    // Same lifetime of the views as node_at.
    virtual bool next(ByteView& pos, ByteView& rlp) = 0;
    // False if a read failed.
    [[nodiscard]] virtual bool ok() const noexcept = 0;
};

class PathNodeSource {
  public:
    virtual ~PathNodeSource() = default;
    // A cursor over the trie whose root is `root`, for positions up to `upper`·ffff… (nibbles:
    // every position p with p <= upper or upper a prefix of p), or null when the source does not
    // hold that trie whole (the caller then walks by hash).
    [[nodiscard]] virtual std::unique_ptr<PathCursor> open(const Hash& root, ByteView upper) const = 0;
};

}  // namespace carousel::trie
