// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Internal to Trie (trie.cpp, trie_node.cpp, trie_update.cpp, trie_hash.cpp, trie_prefetch.cpp): the
// in-memory nodes a Trie is made of, and what every part of it does with them. Not part of the
// library's API: include trie.hpp.
//
// A TrieNode is a leaf, an extension or a branch (node.hpp) plus what the trie keeps beside it: its
// reference (its RLP when shorter than 32 bytes, else its hash) as of the last root(), `dirty` when
// that reference is stale, and `is_ref` when only the hash is known (the node is not loaded from the
// NodeStore yet). Nodes load lazily: resolve() and child() load the node a walk is about to enter
// and count it in the trie's loaded_nodes(). A node loaded by hash is trusted to hash to that key and
// is not re-hashed; a node that is missing or does not decode is an error (TrieError), never a crash.
//
// What the walks call once per node (make_*, resolve, child, the memory prefetches, encode_into,
// KeyPath) is defined here, inline, so that splitting the Trie over several files costs its hot
// loops no calls; loading and decoding (trie_node.cpp) cost a NodeStore read anyway.

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>

#include <tl/expected.hpp>

#include <carousel/core/bytes.hpp>
#include <carousel/core/nibbles.hpp>

#include "node.hpp"
#include "node_store.hpp"
#include "trie.hpp"

namespace carousel::trie {

using NodePtr = std::unique_ptr<Trie::TrieNode>;

// A branch's children. Each slot holds its child's reference as of the last encoding (or as decoded
// from the store) next to the child itself: a child known only by hash is not allocated until a
// walk needs it (`nodes[i]` null, `ref_len[i] == 32`), and encoding a branch reads its clean
// children's references from here rather than from sixteen scattered nodes. Bit i of `stale` is set
// when `nodes[i]` may have changed since `refs[i]` was taken (an update went through the slot);
// root() refreshes those references before encoding. A slot is empty when `nodes[i]` is null and
// `ref_len[i]` is 0. Embedded children (RLP shorter than 32 bytes) are always in `nodes`.
struct Children {
    std::array<NodePtr, 16> nodes;
    std::array<std::array<uint8_t, 32>, 16> refs;  // refs[i] past ref_len[i] is unspecified (not zeroed)
    std::array<uint8_t, 16> ref_len{};
    uint16_t stale{0};

    bool has(std::size_t i) const noexcept { return nodes[i] != nullptr || ref_len[i] != 0; }
    ByteView ref(std::size_t i) const noexcept { return {refs[i].data(), ref_len[i]}; }
    // Puts a new child (or none) in slot i.
    void set(std::size_t i, NodePtr n) noexcept {
        nodes[i] = std::move(n);
        ref_len[i] = 0;
        stale = static_cast<uint16_t>(stale | (1U << i));
    }
    // An update goes through slot i (which holds a loaded child).
    void touch(std::size_t i) noexcept { stale = static_cast<uint16_t>(stale | (1U << i)); }
};

struct Trie::TrieNode {
    NodeKind kind{NodeKind::kLeaf};
    bool is_ref{false};  // only the hash is known: load from the store before use
    bool dirty{true};    // `ref` is stale
    uint8_t ref_len{0};
    uint8_t ref[32]{};
    Nibbles path;                    // leaf, extension
    Bytes value;                     // leaf, branch
    NodePtr child;                   // extension
    std::unique_ptr<Children> kids;  // branch

    ByteView reference() const noexcept { return {ref, ref_len}; }
};

namespace trie_detail {

using TNode = Trie::TrieNode;
template <class T>
using Result = tl::expected<T, TrieError>;

inline NodePtr make_leaf(ByteView path, ByteView value) {
    auto n = std::make_unique<TNode>();
    n->kind = NodeKind::kLeaf;
    n->path = Nibbles{path};
    n->value = Bytes{value};
    return n;
}

inline NodePtr make_extension(ByteView path, NodePtr child) {
    auto n = std::make_unique<TNode>();
    n->kind = NodeKind::kExtension;
    n->path = Nibbles{path};
    n->child = std::move(child);
    return n;
}

inline NodePtr make_branch() {
    auto n = std::make_unique<TNode>();
    n->kind = NodeKind::kBranch;
    n->kids = std::make_unique_for_overwrite<Children>();  // does not zero `refs`
    return n;
}

inline NodePtr make_ref(const uint8_t* hash) {
    auto n = std::make_unique<TNode>();
    n->is_ref = true;
    n->dirty = false;
    n->ref_len = 32;
    std::memcpy(n->ref, hash, 32);
    return n;
}

// Decodes a node. `hash` is its hash when known (a node loaded by hash: the store is trusted to
// return the RLP that hashes to its key, as go-ethereum's database is), else null.
Result<NodePtr> node_from_rlp(ByteView rlp, const uint8_t* hash = nullptr);

// Loads the node with hash `hash` from the store; counts it in `loaded`.
Result<NodePtr> load(NodeStore* store, const uint8_t* hash, std::size_t& loaded);

// Loads `n` from the store if it is only a reference.
inline Result<void> resolve(NodeStore* store, NodePtr& n, std::size_t& loaded) {
    if (!n || !n->is_ref) return {};
    auto node = load(store, n->ref, loaded);
    if (!node) return tl::unexpected{node.error()};
    n = std::move(*node);
    return {};
}

// Slot i of a branch, its child loaded (or null if the slot is empty).
inline Result<NodePtr*> child(NodeStore* store, Children& kids, std::size_t i, std::size_t& loaded) {
    NodePtr& c = kids.nodes[i];
    if (!c && kids.ref_len[i] == 32) {
        auto node = load(store, kids.refs[i].data(), loaded);
        if (!node) return tl::unexpected{node.error()};
        c = std::move(*node);
    } else if (auto r = resolve(store, c, loaded); !r) {
        return tl::unexpected{r.error()};
    }
    return &c;
}

// Brings a node's fields into the cache (a TrieNode spans two or three cache lines).
inline void prefetch_node_memory(const TNode* n) noexcept {
    const auto* p = reinterpret_cast<const char*>(n);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
    __builtin_prefetch(p);
    __builtin_prefetch(p + sizeof(TNode) - 1);
}

// Brings what encoding or matching a node reads beyond the node itself into the cache: a branch's
// child references (not its child pointers: a dirty child passed its reference up, see DirtyHasher),
// a leaf's value and a long path (both on the heap). `n` is in cache.
inline void prefetch_node_contents(const TNode& n) noexcept {
    if (n.kind == NodeKind::kBranch) {
        const Children& kids = *n.kids;
        const auto* p =
            reinterpret_cast<const char*>(&kids.refs);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
        const auto* end =
            reinterpret_cast<const char*>(&kids.stale + 1);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
        for (; p < end; p += 64) __builtin_prefetch(p);
        __builtin_prefetch(end - 1);
        return;
    }
    __builtin_prefetch(n.path.data());
    if (n.kind == NodeKind::kLeaf) __builtin_prefetch(n.value.data());
}

// Appends the RLP of `n` to `rlp`; its children's references must be up to date.
inline void encode_into(Bytes& rlp, const TNode& n) {
    switch (n.kind) {
        case NodeKind::kLeaf:
            encode_leaf(rlp, n.path, n.value);
            break;
        case NodeKind::kExtension:
            encode_extension(rlp, n.path, n.child->reference());
            break;
        case NodeKind::kBranch: {
            std::array<ByteView, 16> refs{};
            for (std::size_t i = 0; i < 16; ++i) refs[i] = n.kids->ref(i);
            encode_branch(rlp, refs, n.value);
            break;
        }
    }
}

// The RLP of `n`; its children's references must be up to date.
Bytes encode_node(const TNode& n);

// The nibbles of a key, on the stack for keys of up to 64 bytes (every hashed key), else on the heap.
class KeyPath {
  public:
    explicit KeyPath(ByteView key) {
        if (key.size() <= sizeof(small_) / 2) {
            unpack_nibbles(key, small_);
            view_ = {small_, key.size() * 2};
        } else {
            large_ = unpack_nibbles(key);
            view_ = large_;
        }
    }
    KeyPath(const KeyPath&) = delete;
    KeyPath& operator=(const KeyPath&) = delete;
    ByteView view() const noexcept { return view_; }

  private:
    uint8_t small_[128];  // NOLINT(modernize-avoid-c-arrays)
    Nibbles large_;
    ByteView view_;
};

}  // namespace trie_detail
}  // namespace carousel::trie
