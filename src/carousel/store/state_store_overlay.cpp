// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// StateStore's overlay and its NodeStore and CodeStore views (see state_store_overlay.hpp).
#include "state_store_overlay.hpp"

#include "state_store_format.hpp"

namespace carousel::store {

using state_format::decode_node_value;
using state_format::malformed_node;

Status StateStore::Pending::slot(const KV& kv, NodeCache& cache, const Hash& hash, Node*& out) {
    auto [it, inserted] = nodes.try_emplace(hash);
    out = &it->second;
    if (!inserted) return {};
    if (import != nullptr && !import->may_contain(hash)) return {};
    if (const NodeCache::Entry* e = cache.find(hash)) {
        out->count = e->count;
        out->rlp = e->rlp;
        return {};
    }
    Bytes v;
    Status s = kv.get(Column::kTrieNodes, view(hash), v);
    if (s.is_not_found()) return {};
    if (!s.ok()) {
        nodes.erase(it);
        return s;
    }
    auto decoded = decode_node_value(v);
    if (!decoded) {
        nodes.erase(it);
        return malformed_node(hash);
    }
    out->count = decoded->count;
    out->rlp = Bytes{decoded->rlp};
    return {};
}

trie::NodeRead StateStore::NodeAdapter::find_node(const Hash& hash) const {
    if (auto it = pending_.nodes.find(hash); it != pending_.nodes.end()) {
        if (it->second.count == 0) return std::nullopt;
        return it->second.rlp;
    }
    if (const NodeCache::Entry* e = cache_.find(hash)) {
        if (e->count == 0) return std::nullopt;
        return e->rlp;
    }
    Bytes v;
    Status s = kv_.get(Column::kTrieNodes, view(hash), v);
    if (s.is_not_found()) return std::nullopt;
    if (s.ok()) {
        auto decoded = decode_node_value(v);
        if (decoded) return cache_.put(hash, decoded->count, Bytes{decoded->rlp})->rlp;
        s = malformed_node(hash);
    }
    pending_.note(s);
    return tl::unexpected{std::move(s)};
}

void StateStore::NodeAdapter::put_node(const Hash& hash, ByteView rlp) {
    Pending::Node* n = nullptr;
    if (Status s = pending_.slot(kv_, cache_, hash, n); !s.ok()) {
        pending_.note(s);
        return;
    }
    if (n->count == 0) {
        n->rlp = Bytes{rlp};
        pending_.bytes += rlp.size() + 48;
    }
    ++n->count;
    n->dirty = true;
}

std::optional<Bytes> StateStore::CodeAdapter::get_code(const Hash& code_hash) const {
    if (auto it = pending_.code.find(code_hash); it != pending_.code.end()) return it->second;
    Bytes v;
    Status s = kv_.get(Column::kCode, view(code_hash), v);
    if (!s.ok()) {
        if (!s.is_not_found()) pending_.note(s);
        return std::nullopt;
    }
    return v;
}

trie::NodeRead StateStore::ReadNodes::find_node(const Hash& hash) const {
    Bytes v;
    auto found = read_node(hash, v);
    if (!found) return tl::unexpected{std::move(found.error())};
    if (!*found) return std::nullopt;
    return v;
}

trie::NodeFound StateStore::ReadNodes::read_node(const Hash& hash, Bytes& out) const {
    Status s = kv_.get(Column::kTrieNodes, view(hash), out);
    if (s.is_not_found()) return false;
    if (!s.ok()) return tl::unexpected{std::move(s)};
    auto decoded = decode_node_value(out);
    if (!decoded) return tl::unexpected{malformed_node(hash)};
    out.erase(0, static_cast<std::size_t>(decoded->rlp.data() - out.data()));
    return true;
}

std::optional<Bytes> StateStore::ReadCode::get_code(const Hash& code_hash) const {
    Bytes v;
    if (!kv_.get(Column::kCode, view(code_hash), v).ok()) return std::nullopt;
    return v;
}

}  // namespace carousel::store
