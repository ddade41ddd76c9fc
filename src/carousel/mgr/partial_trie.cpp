// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "partial_trie.hpp"

#include <algorithm>
#include <memory>
#include <unordered_set>

#include <carousel/core/nibbles.hpp>
#include <carousel/trie/node.hpp>
#include <carousel/trie/trie.hpp>

namespace carousel::mgr {

std::string_view to_string(PartialError e) noexcept {
    switch (e) {
        case PartialError::kMissingNode:
            return "missing node";
        case PartialError::kBadNode:
            return "bad node";
    }
    return "unknown partial trie error";
}

namespace {

using trie::PathRange;

using trie::NodeKind;

template <class T>
using Result = tl::expected<T, PartialError>;

// A node read from the store (or an embedded one), decoded once. `node`'s views point into `rlp`,
// which never moves: Loaded lives on the heap behind a shared_ptr.
struct Loaded {
    Bytes rlp;
    trie::Node node;
};

Result<std::shared_ptr<const Loaded>> load(const trie::NodeStore& store, ByteView ref) {
    auto loaded = std::make_shared<Loaded>();
    if (trie::is_hash_reference(ref)) {
        auto got = store.get_node(to_hash(ref));
        if (!got) return tl::unexpected{PartialError::kMissingNode};
        loaded->rlp = std::move(*got);
    } else {
        loaded->rlp = Bytes{ref};
    }
    auto node = trie::decode_node(loaded->rlp);
    if (!node) return tl::unexpected{PartialError::kBadNode};
    loaded->node = std::move(*node);
    return loaded;
}

// A position in one version of a trie, walked one nibble at a time so that two versions with
// different shapes can be walked side by side. Either there is nothing here (empty), or a node sits
// exactly here (consumed == 0, `ref` is its reference), or the position lies `consumed` nibbles into
// the path of a leaf or extension that starts higher up.
// `ref` views the parent's RLP (or the caller's root), which outlives the cursor: child cursors live
// in the recursion's frames below their parent's.
struct Cursor {
    ByteView ref;                          // the reference of the node this cursor is at or inside
    std::shared_ptr<const Loaded> loaded;  // that node, once read
    std::size_t consumed{0};

    bool empty() const noexcept { return ref.empty(); }
    bool at_node() const noexcept { return !ref.empty() && consumed == 0; }
    // At the end of a leaf's path: the position is the leaf's full key.
    bool terminal() const noexcept {
        return loaded && loaded->node.kind == NodeKind::kLeaf && consumed == loaded->node.path.size();
    }
    bool inside_leaf() const noexcept { return loaded && loaded->node.kind == NodeKind::kLeaf; }
};

Result<void> ensure_loaded(const trie::NodeStore& store, Cursor& c) {
    if (c.empty() || c.loaded) return {};
    auto l = load(store, c.ref);
    if (!l) return tl::unexpected{l.error()};
    c.loaded = std::move(*l);
    return {};
}

// The nibbles a loaded cursor can step to, as a bit mask.
unsigned next_nibbles(const Cursor& c) noexcept {
    if (c.empty()) return 0;
    const trie::Node& n = c.loaded->node;
    if (n.kind == NodeKind::kBranch) {
        unsigned mask = 0;
        for (unsigned i = 0; i < 16; ++i) {
            if (!n.children[i].empty()) mask |= 1u << i;
        }
        return mask;
    }
    if (c.consumed < n.path.size()) return 1u << n.path[c.consumed];
    return 0;  // the end of a leaf
}

// The cursor one nibble down. `c` must be loaded (or empty).
Cursor step(const Cursor& c, uint8_t nibble) {
    if (c.empty()) return {};
    const trie::Node& n = c.loaded->node;
    if (n.kind == NodeKind::kBranch) {
        if (n.children[nibble].empty()) return {};
        return Cursor{n.children[nibble], nullptr, 0};
    }
    if (c.consumed >= n.path.size() || n.path[c.consumed] != nibble) return {};
    if (n.kind == NodeKind::kExtension && c.consumed + 1 == n.path.size()) {
        return Cursor{n.children[0], nullptr, 0};
    }
    return Cursor{c.ref, c.loaded, c.consumed + 1};
}

Cursor root_cursor(const Hash& root) {
    if (root == trie::kEmptyRoot) return {};
    return Cursor{view(root), nullptr, 0};
}

// ---- one version ---------------------------------------------------------------------------------

struct PartialWalk {
    const trie::NodeStore& store;
    const PathRange& range;
    const PartialNodeVisitor& visit;

    Result<void> run(ByteView ref, Nibbles& pos) {
        if (!trie::intersects(pos, range)) return {};
        auto l = load(store, ref);
        if (!l) return tl::unexpected{l.error()};
        const Loaded& node = **l;
        if (trie::is_hash_reference(ref)) visit(pos, to_hash(ref), node.rlp);
        const std::size_t base = pos.size();
        switch (node.node.kind) {
            case NodeKind::kLeaf:
                break;
            case NodeKind::kExtension:
                pos += node.node.path;
                if (pos.size() >= trie::kKeyNibbles) return tl::unexpected{PartialError::kBadNode};
                if (auto r = run(node.node.children[0], pos); !r) return r;
                break;
            case NodeKind::kBranch:
                if (pos.size() >= trie::kKeyNibbles) return tl::unexpected{PartialError::kBadNode};
                for (uint8_t i = 0; i < 16; ++i) {
                    if (node.node.children[i].empty()) continue;
                    pos.push_back(i);
                    if (auto r = run(node.node.children[i], pos); !r) return r;
                    pos.pop_back();
                }
                break;
        }
        pos.resize(base);
        return {};
    }
};

struct LeafCollector {
    const trie::NodeStore& store;
    const PathRange& range;
    const Nibbles lo;
    const Nibbles hi;
    std::size_t max_leaves;
    Leaves& out;

    Result<void> run(ByteView ref, Nibbles& pos) {
        if (out.size() > max_leaves || !trie::intersects(pos, range)) return {};
        auto l = load(store, ref);
        if (!l) return tl::unexpected{l.error()};
        const trie::Node& n = (*l)->node;
        const std::size_t base = pos.size();
        switch (n.kind) {
            case NodeKind::kLeaf:
                pos += n.path;
                if (pos.size() != trie::kKeyNibbles) return tl::unexpected{PartialError::kBadNode};
                if (pos >= lo && pos <= hi) out.emplace_back(to_hash(pack_nibbles(pos)), Bytes{n.value});
                break;
            case NodeKind::kExtension:
                pos += n.path;
                if (pos.size() >= trie::kKeyNibbles) return tl::unexpected{PartialError::kBadNode};
                if (auto r = run(n.children[0], pos); !r) return r;
                break;
            case NodeKind::kBranch:
                if (pos.size() >= trie::kKeyNibbles) return tl::unexpected{PartialError::kBadNode};
                for (uint8_t i = 0; i < 16; ++i) {
                    if (n.children[i].empty()) continue;
                    pos.push_back(i);
                    if (auto r = run(n.children[i], pos); !r) return r;
                    pos.pop_back();
                }
                break;
        }
        pos.resize(base);
        return {};
    }
};

// ---- two versions, side by side ------------------------------------------------------------------

// New's changed nodes: descends new's trie, carrying old's cursor along only to tell whether the
// node at each position is the same.
struct ChangedNodesWalk {
    const trie::NodeStore& store;
    const PathRange& range;
    const PartialNodeVisitor& visit;

    Result<void> run(Cursor nw, Cursor old, Nibbles& pos) {
        if (nw.empty() || !trie::intersects(pos, range)) return {};
        if (nw.at_node() && old.at_node() && nw.ref == old.ref) return {};  // same subtree
        if (auto r = ensure_loaded(store, nw); !r) return r;
        if (nw.at_node() && trie::is_hash_reference(nw.ref)) visit(pos, to_hash(nw.ref), nw.loaded->rlp);
        if (nw.inside_leaf()) return {};  // nothing stored below a leaf
        if (pos.size() >= trie::kKeyNibbles) return tl::unexpected{PartialError::kBadNode};
        if (auto r = ensure_loaded(store, old); !r) return r;
        const unsigned mask = next_nibbles(nw);
        for (uint8_t i = 0; i < 16; ++i) {
            if ((mask & (1u << i)) == 0) continue;
            pos.push_back(i);
            auto r = run(step(nw, i), step(old, i), pos);
            pos.pop_back();
            if (!r) return r;
        }
        return {};
    }
};

struct ChangedLeavesWalk {
    const trie::NodeStore& store;
    const PathRange& range;
    Leaves& out;

    Result<void> run(Cursor to, Cursor from, Nibbles& pos) {
        if ((to.empty() && from.empty()) || !trie::intersects(pos, range)) return {};
        if (to.at_node() && from.at_node() && to.ref == from.ref) return {};  // same subtree
        if (auto r = ensure_loaded(store, to); !r) return r;
        if (auto r = ensure_loaded(store, from); !r) return r;
        if (to.terminal() || from.terminal()) {
            // A full key (intersects() above puts it in the range). With 32-byte keys nothing else
            // can sit at the same position.
            if (pos.size() != trie::kKeyNibbles) return tl::unexpected{PartialError::kBadNode};
            const ByteView tv = to.terminal() ? to.loaded->node.value : ByteView{};
            const ByteView fv = from.terminal() ? from.loaded->node.value : ByteView{};
            if (tv != fv) out.emplace_back(to_hash(pack_nibbles(pos)), Bytes{tv});
            return {};
        }
        if (pos.size() >= trie::kKeyNibbles) return tl::unexpected{PartialError::kBadNode};
        const unsigned mask = next_nibbles(to) | next_nibbles(from);
        for (uint8_t i = 0; i < 16; ++i) {
            if ((mask & (1u << i)) == 0) continue;
            pos.push_back(i);
            auto r = run(step(to, i), step(from, i), pos);
            pos.pop_back();
            if (!r) return r;
        }
        return {};
    }
};

// The stored nodes on the path from `root` towards `key` (unpacked, 64 nibbles).
Result<void> path_nodes(const trie::NodeStore& store, const Hash& root, ByteView key,
                        std::unordered_set<Hash, trie::HashHasher>& seen, std::vector<Bytes>& out) {
    Bytes ref{view(root)};
    std::size_t depth = 0;
    while (true) {
        auto l = load(store, ref);
        if (!l) return tl::unexpected{l.error()};
        if (trie::is_hash_reference(ref) && seen.insert(to_hash(ref)).second) out.push_back((*l)->rlp);
        const trie::Node& n = (*l)->node;
        if (n.kind == NodeKind::kLeaf) return {};
        if (n.kind == NodeKind::kExtension) {
            if (key.substr(depth, n.path.size()) != ByteView{n.path}) return {};
            depth += n.path.size();
            if (depth >= key.size()) return tl::unexpected{PartialError::kBadNode};
            ref = Bytes{n.children[0]};
            continue;
        }
        if (depth >= key.size()) return tl::unexpected{PartialError::kBadNode};
        const ByteView child = n.children[key[depth]];
        if (child.empty()) return {};
        ++depth;
        ref = Bytes{child};
    }
}

}  // namespace

tl::expected<void, PartialError> for_each_partial_node(const trie::NodeStore& store, const Hash& root,
                                                       const PathRange& range, const PartialNodeVisitor& visit) {
    if (root == trie::kEmptyRoot) return {};
    PartialWalk w{store, range, visit};
    Nibbles pos;
    return w.run(view(root), pos);
}

tl::expected<void, PartialError> for_each_changed_partial_node(const trie::NodeStore& store, const Hash& old_root,
                                                               const Hash& new_root, const PathRange& range,
                                                               const PartialNodeVisitor& visit) {
    ChangedNodesWalk w{store, range, visit};
    Nibbles pos;
    return w.run(root_cursor(new_root), root_cursor(old_root), pos);
}

tl::expected<std::vector<Bytes>, PartialError> changed_partial_nodes(const trie::NodeStore& store, const Hash& old_root,
                                                                     const Hash& new_root, const PathRange& range) {
    std::vector<Bytes> out;
    auto r = for_each_changed_partial_node(store, old_root, new_root, range,
                                           [&](ByteView, const Hash&, ByteView rlp) { out.emplace_back(rlp); });
    if (!r) return tl::unexpected{r.error()};
    return out;
}

tl::expected<Leaves, PartialError> leaves_in(const trie::NodeStore& store, const Hash& root, const PathRange& range,
                                             std::size_t max_leaves) {
    Leaves out;
    if (root == trie::kEmptyRoot) return out;
    LeafCollector w{store, range, trie::pad(range.from, 0), trie::pad(range.to, 0xf), max_leaves, out};
    Nibbles pos;
    if (auto r = w.run(view(root), pos); !r) return tl::unexpected{r.error()};
    return out;
}

tl::expected<bool, PartialError> has_leaf_in(const trie::NodeStore& store, const Hash& root, const PathRange& range) {
    auto first = leaves_in(store, root, range, 0);
    if (!first) return tl::unexpected{first.error()};
    return !first->empty();
}

tl::expected<Leaves, PartialError> changed_leaves(const trie::NodeStore& store, const Hash& from_root,
                                                  const Hash& to_root, const PathRange& range) {
    Leaves out;
    ChangedLeavesWalk w{store, range, out};
    Nibbles pos;
    if (auto r = w.run(root_cursor(to_root), root_cursor(from_root), pos); !r) return tl::unexpected{r.error()};
    return out;
}

tl::expected<std::vector<Bytes>, PartialError> range_proof(const trie::NodeStore& store, const Hash& root,
                                                           const PathRange& range) {
    std::vector<Bytes> out;
    if (root == trie::kEmptyRoot) return out;
    std::unordered_set<Hash, trie::HashHasher> seen;
    for (const Nibbles& key : {trie::pad(range.from, 0), trie::pad(range.to, 0xf)}) {
        if (auto r = path_nodes(store, root, key, seen, out); !r) return tl::unexpected{r.error()};
    }
    return out;
}

}  // namespace carousel::mgr
