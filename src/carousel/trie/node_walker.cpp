// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "node_walker.hpp"

namespace carousel::trie {

NodeWalker::NodeWalker(const NodeStore& nodes, PathCursor* cursor, ByteView root, PathRange bounds, OnError on_error)
    : nodes_{nodes},
      cursor_{cursor},
      bounds_{std::move(bounds)},
      bounded_{!bounds_.from.empty() || !bounds_.to.empty()},
      on_error_{on_error},
      root_{root} {}

const Node* NodeWalker::node() {
    Frame& f = frames_[depth_];
    if (!f.decoded) {
        auto decoded = decode_node(f.rlp);
        if (!decoded) {
            error_ = Error::kBadNode;
            f.done = true;
            return nullptr;
        }
        f.node = std::move(*decoded);
        f.decoded = true;
    }
    return &f.node;
}

bool NodeWalker::enter(ByteView ref) {
    if (frames_.size() <= depth_) frames_.emplace_back();
    Frame& f = frames_[depth_];
    f.ref = ref;
    f.path_size = path_.size();
    f.next_child = 0;
    f.decoded = false;
    f.done = false;
    if (!is_hash_reference(ref)) {
        f.rlp = ref;
        return true;
    }
    if (cursor_ == nullptr) {
        auto found = nodes_.read_node(to_hash(ref), f.buffer);
        if (!found) {
            error_ = Error::kStoreError;
            store_status_ = std::move(found.error());
            return false;
        }
        if (!*found) {
            error_ = Error::kMissingNode;
            return false;
        }
    } else {
        ByteView got;
        if (!cursor_->node_at(path_, got)) {
            error_ = Error::kMissingNode;
            return false;
        }
        f.buffer.assign(got);
    }
    f.rlp = f.buffer;
    return true;
}

ByteView NodeWalker::next_child() {
    Frame& f = frames_[depth_];
    if (f.done || !f.decoded) return {};  // a frame walked on from is decoded (next() descends only so)
    const Node& n = f.node;
    path_.resize(f.path_size);
    if (n.kind == NodeKind::kExtension) {
        f.done = true;
        path_ += n.path;
        if (path_.size() < kKeyNibbles && (!bounded_ || intersects(path_, bounds_))) return n.children[0];
    } else if (n.kind == NodeKind::kBranch) {
        for (uint8_t i = f.next_child; i < 16; ++i) {
            if (n.children[i].empty()) continue;
            path_.push_back(i);
            if (path_.size() <= kKeyNibbles && (!bounded_ || intersects(path_, bounds_))) {
                f.next_child = static_cast<uint8_t>(i + 1);
                return n.children[i];
            }
            path_.pop_back();
        }
    }
    f.done = true;
    path_.resize(f.path_size);
    return {};
}

bool NodeWalker::next(bool descend) {
    if (ended_) return false;
    if (!started_) {
        started_ = true;
        if (enter(root_)) return true;
        ended_ = true;
        return false;
    }
    if (!descend) {
        frames_[depth_].done = true;
    } else if (node() == nullptr && on_error_ == OnError::kStop) {
        ended_ = true;  // error_ is kBadNode
        return false;
    }
    while (true) {
        const ByteView child = next_child();
        if (child.empty()) {
            if (depth_ == 0) {
                ended_ = true;
                return false;
            }
            --depth_;
            continue;
        }
        ++depth_;
        if (enter(child)) return true;
        if (on_error_ == OnError::kStop) {
            ended_ = true;  // path() and ref() name the missing node
            return false;
        }
        --depth_;  // kSkip: drop the missing node's subtree
    }
}

}  // namespace carousel::trie
