// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "kv_node_store.hpp"

namespace carousel::store {
namespace {

std::optional<Bytes> get(const KV& kv, Column column, const Hash& key) {
    Bytes value;
    if (!kv.get(column, view(key), value).ok()) return std::nullopt;
    return value;
}

void put(KV& kv, Status& status, Column column, const Hash& key, ByteView value) {
    if (!status.ok()) return;
    WriteBatch batch;
    batch.put(column, view(key), value);
    status = kv.write(batch);
}

}  // namespace

std::optional<Bytes> KvNodeStore::get_node(const Hash& hash) const { return get(kv_, Column::kTrieNodes, hash); }
void KvNodeStore::put_node(const Hash& hash, ByteView rlp) { put(kv_, status_, Column::kTrieNodes, hash, rlp); }

std::optional<Bytes> KvCodeStore::get_code(const Hash& code_hash) const { return get(kv_, Column::kCode, code_hash); }
void KvCodeStore::put_code(const Hash& code_hash, ByteView code) { put(kv_, status_, Column::kCode, code_hash, code); }

}  // namespace carousel::store
