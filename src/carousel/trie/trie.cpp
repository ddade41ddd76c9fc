// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// Trie's reads (get, proofs, in-order walks) and its life cycle. The rest of the class: its nodes
// (trie_node.hpp, .cpp), updates (trie_update.cpp), hashing (trie_hash.cpp) and prefetch
// (trie_prefetch.cpp).
#include "trie.hpp"

#include <functional>
#include <unordered_set>

#include <carousel/core/keccak.hpp>
#include <carousel/core/nibbles.hpp>

#include "trie_node.hpp"

namespace carousel::trie {

const Hash kEmptyRoot = keccak256(ByteView{reinterpret_cast<const uint8_t*>("\x80"), 1});  // NOLINT

std::string_view to_string(TrieError e) noexcept {
    switch (e) {
        case TrieError::kMissingNode:
            return "trie node missing from the store";
        case TrieError::kBadNode:
            return "stored trie node does not decode";
        case TrieError::kStoreError:
            return "the node store failed to read a node";
    }
    return "unknown trie error";
}

using namespace trie_detail;  // the Trie's own internals (trie_node.hpp)

namespace {

// In-order walk. `path` holds the nibbles from the root to `n`. `visit` returns false to stop.
// `direction` +1 visits increasing keys, -1 decreasing. `skip(path)` prunes subtrees.
struct Walk {
    NodeStore* store;
    std::size_t& loaded;
    int direction;
    std::function<bool(ByteView prefix)> skip;                        // true: no wanted key below
    std::function<bool(ByteView key_nibbles, ByteView value)> visit;  // false: stop
    bool stopped{false};

    Result<void> run(NodePtr& n, Nibbles& path) {
        if (!n || stopped) return {};
        if (auto r = resolve(store, n, loaded); !r) return r;
        const std::size_t base = path.size();
        TNode& node = *n;
        if (node.kind != NodeKind::kBranch) path += node.path;
        if (skip(path)) {
            path.resize(base);
            return {};
        }
        switch (node.kind) {
            case NodeKind::kLeaf:
                if (!visit(path, node.value)) stopped = true;
                break;
            case NodeKind::kExtension:
                if (auto r = run(node.child, path); !r) return r;
                break;
            case NodeKind::kBranch: {
                if (direction > 0 && !node.value.empty() && !visit(path, node.value)) stopped = true;
                for (int k = 0; k < 16 && !stopped; ++k) {
                    const auto i = static_cast<uint8_t>(direction > 0 ? k : 15 - k);
                    if (!node.kids->has(i)) continue;
                    auto c = child(store, *node.kids, i, loaded);
                    if (!c) return tl::unexpected{c.error()};
                    path.push_back(i);
                    if (auto r = run(**c, path); !r) return r;
                    path.pop_back();
                }
                if (direction < 0 && !stopped && !node.value.empty() && !visit(path, node.value)) stopped = true;
                break;
            }
        }
        path.resize(base);
        return {};
    }
};

}  // namespace

Trie::Trie(NodeStore* store, const Hash& root) : store_{store} {
    if (root != kEmptyRoot) root_ = make_ref(root.data());
}
Trie::~Trie() = default;
Trie::Trie(Trie&&) noexcept = default;
Trie& Trie::operator=(Trie&&) noexcept = default;

tl::expected<std::optional<Bytes>, TrieError> Trie::get(ByteView key) {
    const KeyPath path{key};
    ByteView rest = path.view();
    NodePtr* cur = &root_;
    while (*cur) {
        if (auto r = resolve(store_, *cur, loaded_); !r) return tl::unexpected{r.error()};
        TNode& n = **cur;
        switch (n.kind) {
            case NodeKind::kLeaf:
                if (ByteView{n.path} == rest) return std::optional<Bytes>{n.value};
                return std::optional<Bytes>{};
            case NodeKind::kExtension:
                if (rest.substr(0, n.path.size()) != ByteView{n.path}) return std::optional<Bytes>{};
                rest.remove_prefix(n.path.size());
                cur = &n.child;
                break;
            case NodeKind::kBranch:
                if (rest.empty()) {
                    if (n.value.empty()) return std::optional<Bytes>{};
                    return std::optional<Bytes>{n.value};
                }
                auto c = child(store_, *n.kids, rest[0], loaded_);
                if (!c) return tl::unexpected{c.error()};
                cur = *c;
                rest.remove_prefix(1);
                break;
        }
    }
    return std::optional<Bytes>{};
}

tl::expected<std::vector<Bytes>, TrieError> Trie::prove(ByteView key) {
    const Bytes keys[1] = {Bytes{key}};
    return prove(keys);
}

tl::expected<std::vector<Bytes>, TrieError> Trie::prove(std::span<const Bytes> keys) {
    root();
    std::vector<Bytes> proof;
    std::unordered_set<const TNode*> seen;
    for (const Bytes& key : keys) {
        const Nibbles path = unpack_nibbles(key);
        ByteView rest = path;
        NodePtr* cur = &root_;
        bool is_root = true;
        while (*cur) {
            if (auto r = resolve(store_, *cur, loaded_); !r) return tl::unexpected{r.error()};
            TNode& n = **cur;
            // Embedded nodes travel inside their parent; the root is always given.
            if ((is_root || n.ref_len == 32) && seen.insert(&n).second) proof.push_back(encode_node(n));
            is_root = false;
            if (n.kind == NodeKind::kLeaf) break;
            if (n.kind == NodeKind::kExtension) {
                if (rest.substr(0, n.path.size()) != ByteView{n.path}) break;
                rest.remove_prefix(n.path.size());
                cur = &n.child;
            } else {
                if (rest.empty()) break;
                auto c = child(store_, *n.kids, rest[0], loaded_);
                if (!c) return tl::unexpected{c.error()};
                cur = *c;
                rest.remove_prefix(1);
            }
        }
    }
    return proof;
}

tl::expected<void, TrieError> Trie::for_each(const std::function<void(ByteView key, ByteView value)>& visit) {
    Walk w{store_, loaded_, +1, [](ByteView) { return false; },
           [&](ByteView key_nibbles, ByteView value) {
               visit(pack_nibbles(key_nibbles), value);
               return true;
           }};
    Nibbles path;
    return w.run(root_, path);
}

tl::expected<void, TrieError> Trie::for_each_from(ByteView from,
                                                  const std::function<bool(ByteView key, ByteView value)>& visit) {
    const Nibbles target = unpack_nibbles(from);
    Walk w{store_, loaded_, +1,
           [&](ByteView prefix) {
               const ByteView t = ByteView{target}.substr(0, prefix.size());
               return prefix.compare(t) < 0;
           },
           [&](ByteView key_nibbles, ByteView value) {
               if (key_nibbles.compare(target) < 0) return true;
               return visit(pack_nibbles(key_nibbles), value);
           }};
    Nibbles path;
    return w.run(root_, path);
}

tl::expected<std::optional<Bytes>, TrieError> Trie::next_key(ByteView key) {
    const Nibbles target = unpack_nibbles(key);
    std::optional<Bytes> found;
    // Skip a subtree when every key in it is <= target: its prefix sorts before target's prefix of
    // the same length, or it is a whole-key match of target (its keys below are longer, so greater).
    Walk w{store_, loaded_, +1,
           [&](ByteView prefix) {
               const ByteView t = ByteView{target}.substr(0, prefix.size());
               return prefix.compare(t) < 0;
           },
           [&](ByteView key_nibbles, ByteView) {
               if (key_nibbles.compare(target) <= 0) return true;
               found = pack_nibbles(key_nibbles);
               return false;
           }};
    Nibbles path;
    if (auto r = w.run(root_, path); !r) return tl::unexpected{r.error()};
    return found;
}

tl::expected<std::optional<Bytes>, TrieError> Trie::prev_key(ByteView key) {
    const Nibbles target = unpack_nibbles(key);
    std::optional<Bytes> found;
    Walk w{store_, loaded_, -1,
           [&](ByteView prefix) {
               const ByteView t = ByteView{target}.substr(0, prefix.size());
               return prefix.compare(t) > 0;
           },
           [&](ByteView key_nibbles, ByteView) {
               if (key_nibbles.compare(target) >= 0) return true;
               found = pack_nibbles(key_nibbles);
               return false;
           }};
    Nibbles path;
    if (auto r = w.run(root_, path); !r) return tl::unexpected{r.error()};
    return found;
}

}  // namespace carousel::trie
