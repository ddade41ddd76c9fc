// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// NodeWalker: the nodes of one trie in pre-order (position order), read from a node source, as
// go-ethereum's trie.NodeIterator and reth's trie walker do.
//
// A walk starts at a root and yields every node (hashed and embedded) whose subtree meets its
// bounds, a PathRange: parents before children, children in slot order. For each node it gives the
// position (the nibble path from the root), the reference its parent holds (a 32-byte hash, or the
// RLP itself for a node shorter than 32 bytes), the RLP, and, decoded on first use, the node. Nodes
// whose subtrees lie wholly outside the bounds are neither read nor yielded, so a walk of a range
// reads the stem (the nodes on the path to `bounds.from`, which it yields too) and the range, and
// nothing to either side. A caller that does not want a node's children calls next(false) and the
// walk skips them unread. Positions past a whole key (64 nibbles) are not walked.
//
// Nodes with hash references come from the NodeStore by hash, or, when a PathCursor is given, by
// position from it (a path layout: the walk asks positions in increasing order, so a range is one
// scan). A node the source lacks, or one that does not decode, ends the walk with an error (the
// policy kStop) or only drops that node's subtree (kSkip).
//
// Views (path, ref, rlp, node) are valid until the next call to next(). Not thread-safe; the
// source and cursor outlive the walker.

#include <deque>

#include <carousel/core/bytes.hpp>
#include <carousel/core/nibbles.hpp>

#include "node.hpp"
#include "node_store.hpp"
#include "path_nodes.hpp"
#include "path_range.hpp"

namespace carousel::trie {

class NodeWalker {
  public:
    enum class Error : uint8_t {
        kNone = 0,
        kMissingNode,  // the source has no node for a reference the walk reached
        kBadNode,      // a node that does not decode
        kStoreError,   // the source failed to read a node (store_status() says how)
    };
    enum class OnError : uint8_t { kStop, kSkip };

    // Walks the trie referenced by `root` (its hash, or an embedded root's RLP) within `bounds`
    // (default: the whole trie). The first next() yields the root.
    NodeWalker(const NodeStore& nodes, PathCursor* cursor, ByteView root, PathRange bounds = {},
               OnError on_error = OnError::kStop);

    // Moves to the next node in pre-order; with descend false, past the current node's children
    // without reading them. False at the end of the walk, or at an error under kStop (error() says).
    bool next(bool descend = true);

    // The current node (once next() returned true, or at a stop): its position, its reference, its RLP.
    [[nodiscard]] ByteView path() const noexcept { return path_; }
    [[nodiscard]] ByteView ref() const noexcept { return frames_[depth_].ref; }
    [[nodiscard]] ByteView rlp() const noexcept { return frames_[depth_].rlp; }
    // The current node decoded (once), or null if it does not decode (error() is then kBadNode).
    const Node* node();
    // Frames from the root to the current node, embedded nodes included (0 at the root).
    [[nodiscard]] std::size_t depth() const noexcept { return depth_; }

    // Why the walk stopped (kStop) or the last node it dropped (kSkip); kNone if neither happened.
    // At a kMissingNode stop, ref() and path() name the node that is missing.
    [[nodiscard]] Error error() const noexcept { return error_; }
    // The failed read's status when error() is kStoreError.
    [[nodiscard]] const Status& store_status() const noexcept { return store_status_; }

  private:
    struct Frame {
        ByteView ref;
        ByteView rlp;
        Bytes buffer;  // the RLP of a hashed node, read from the source
        Node node;
        std::size_t path_size{0};
        uint8_t next_child{0};  // a branch's next slot to try
        bool decoded{false};
        bool done{false};  // no more children to walk
    };

    // Reads the node `ref` at position path_ into the frame at depth_; false, with error_ set, if the
    // source lacks it or fails to read it.
    bool enter(ByteView ref);
    // The next child of the frame at depth_ within bounds, with path_ set to its position, or an
    // empty view when it has none left.
    ByteView next_child();

    const NodeStore& nodes_;
    PathCursor* cursor_;
    PathRange bounds_;
    bool bounded_;
    OnError on_error_;
    Bytes root_;
    Nibbles path_;
    std::deque<Frame> frames_;  // reused; a deque keeps each frame (and the views into it) in place
    std::size_t depth_{0};
    bool started_{false};
    bool ended_{false};
    Error error_{Error::kNone};
    Status store_status_;
};

}  // namespace carousel::trie
