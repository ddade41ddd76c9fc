// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// Trie nodes from their RLP, by hash from the NodeStore or embedded in a parent (see trie_node.hpp).
#include "trie_node.hpp"

namespace carousel::trie::trie_detail {

namespace {

// A child reference from a decoded node: a hash becomes an unloaded ref, an embedded node is decoded.
Result<NodePtr> child_from_reference(ByteView ref) {
    if (ref.empty()) return NodePtr{};
    if (ref.size() == 32) return make_ref(ref.data());
    return node_from_rlp(ref);
}

}  // namespace

Result<NodePtr> node_from_rlp(ByteView rlp, const uint8_t* hash) {
    auto decoded = decode_node(rlp);
    if (!decoded) return tl::unexpected{TrieError::kBadNode};
    NodePtr n;
    switch (decoded->kind) {
        case NodeKind::kLeaf:
            n = make_leaf({}, decoded->value);
            n->path = std::move(decoded->path);  // the decoded path itself, not a copy
            break;
        case NodeKind::kExtension: {
            auto c = child_from_reference(decoded->children[0]);
            if (!c) return tl::unexpected{c.error()};
            n = make_extension({}, std::move(*c));
            n->path = std::move(decoded->path);
            break;
        }
        case NodeKind::kBranch:
            n = make_branch();
            n->value = Bytes{decoded->value};
            for (std::size_t i = 0; i < 16; ++i) {
                const ByteView ref = decoded->children[i];
                if (ref.empty()) continue;
                Children& kids = *n->kids;
                std::memcpy(kids.refs[i].data(), ref.data(), ref.size());
                kids.ref_len[i] = static_cast<uint8_t>(ref.size());
                if (ref.size() == 32) continue;  // loaded when a walk needs it
                auto c = node_from_rlp(ref);
                if (!c) return tl::unexpected{c.error()};
                kids.nodes[i] = std::move(*c);
            }
            break;
    }
    n->dirty = false;
    if (hash != nullptr && rlp.size() >= 32) {  // a short root keeps its embedded form, as before
        n->ref_len = 32;
        std::memcpy(n->ref, hash, 32);
    } else {
        n->ref_len = static_cast<uint8_t>(make_reference(rlp, n->ref));
    }
    return n;
}

// Loads the node with hash `hash` from the store.
Result<NodePtr> load(NodeStore* store, const uint8_t* hash, std::size_t& loaded) {
    if (store == nullptr) return tl::unexpected{TrieError::kMissingNode};
    Hash h;
    std::memcpy(h.data(), hash, 32);
    thread_local Bytes scratch;  // reused: node_from_rlp copies out what it keeps
    ByteView rlp;
    auto found = store->view_node(h, scratch, rlp);
    if (!found) return tl::unexpected{TrieError::kStoreError};
    if (!*found) return tl::unexpected{TrieError::kMissingNode};
    auto node = node_from_rlp(rlp, hash);
    if (!node) return tl::unexpected{node.error()};
    ++loaded;
    return node;
}

Bytes encode_node(const TNode& n) {
    Bytes rlp;
    encode_into(rlp, n);
    return rlp;
}

}  // namespace carousel::trie::trie_detail
