// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// Trie::prefetch and the cursors it steps (see trie_prefetch.hpp).
#include "trie_prefetch.hpp"

namespace carousel::trie {
namespace trie_detail {

bool PrefetchCursor::step() {
    switch (stage) {
        case Stage::kNode:
            return visit();
        case Stage::kKid: {
            NodePtr& c = kids->nodes[kid];
            if (c) {
                slot = &c;
                prefetch_node_memory(c.get());
                stage = Stage::kNode;
                return true;
            }
            if (kids->ref_len[kid] != 32 || store == nullptr) return false;
            store->prefetch_node(to_hash(kids->ref(kid)));
            stage = Stage::kFetchKid;
            return true;
        }
        case Stage::kFetchNode:
            if (!slot->get()->is_ref) return visit();  // another path loaded it
            store->prefetch_node_rlp(to_hash(slot->get()->reference()));
            stage = Stage::kLoadNode;
            return true;
        case Stage::kFetchKid:
            if (kids->nodes[kid]) {  // another path loaded it
                stage = Stage::kKid;
                return step();
            }
            store->prefetch_node_rlp(to_hash(kids->ref(kid)));
            stage = Stage::kLoadKid;
            return true;
        case Stage::kLoadNode:
            if (!resolve(store, *slot, *loaded)) return false;
            return visit();
        case Stage::kLoadKid: {
            auto c = child(store, *kids, kid, *loaded);  // another path may have loaded it
            if (!c) return false;
            slot = *c;
            return visit();
        }
    }
    return false;
}

bool PrefetchCursor::visit() {
    TNode* n = slot->get();
    if (n == nullptr) return false;
    if (n->is_ref) {
        if (store == nullptr) return false;
        store->prefetch_node(to_hash(n->reference()));
        stage = Stage::kFetchNode;
        return true;
    }
    switch (n->kind) {
        case NodeKind::kLeaf:
            prefetch_node_contents(*n);  // the get that follows compares the path, copies the value
            return false;
        case NodeKind::kExtension:
            if (rest_len < n->path.size() || ByteView{rest, n->path.size()} != ByteView{n->path}) return false;
            rest += n->path.size();
            rest_len -= n->path.size();
            slot = &n->child;
            prefetch_node_memory(n->child.get());
            stage = Stage::kNode;
            return true;
        case NodeKind::kBranch:
            if (rest_len == 0) return false;
            kids = n->kids.get();
            kid = *rest++;
            --rest_len;
            __builtin_prefetch(&kids->nodes[kid]);
            __builtin_prefetch(&kids->refs[kid]);
            __builtin_prefetch(&kids->ref_len[kid]);
            stage = Stage::kKid;
            return true;
    }
    return false;
}

void run_prefetch(std::vector<PrefetchCursor>& active) {
    while (!active.empty()) {
        std::size_t kept = 0;
        for (PrefetchCursor& c : active) {
            if (c.step()) active[kept++] = c;
        }
        active.resize(kept);
    }
}

}  // namespace trie_detail

void Trie::prefetch(std::span<const KeyOf> keys) {
    std::size_t nibbles = 0;
    for (const KeyOf& k : keys) nibbles += 2 * k.key.size();
    Bytes buffer(nibbles, 0);
    std::vector<trie_detail::PrefetchCursor> active;
    active.reserve(keys.size());
    std::size_t at = 0;
    for (const KeyOf& k : keys) {
        uint8_t* path = buffer.data() + at;
        unpack_nibbles(k.key, path);
        at += 2 * k.key.size();
        active.push_back({k.trie->store_, &k.trie->loaded_, &k.trie->root_, nullptr, path, 2 * k.key.size(), 0,
                          trie_detail::PrefetchCursor::Stage::kNode});
    }
    trie_detail::run_prefetch(active);
}

}  // namespace carousel::trie
