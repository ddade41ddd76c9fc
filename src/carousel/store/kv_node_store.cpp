// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "kv_node_store.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace carousel::store {
namespace {

// Four probes from the hash itself: a Keccak output is uniform, so its words are independent.
constexpr int kProbes = 4;

uint64_t probe(const Hash& hash, int i) noexcept {
    uint64_t v;
    std::memcpy(&v, hash.data() + 8 * i, sizeof v);
    return v;
}

}  // namespace

KvNodeStore::KvNodeStore(KV& kv, KvNodeStoreOptions options) : kv_{kv}, options_{options} {
    const std::size_t bits = std::bit_ceil(std::max<std::size_t>(options_.filter_bytes, 64) * 8);
    bits_.assign(bits / 64, 0);
    mask_ = bits - 1;
    // A resumed sync: every hash already stored goes into the filter.
    auto it = kv_.new_iterator(Column::kTrieNodes);
    for (it->seek_to_first(); it->valid(); it->next()) {
        if (it->key().size() == 32) remember(to_hash(it->key()));
    }
    if (!it->status().ok()) status_ = it->status();
}

KvNodeStore::~KvNodeStore() { flush(); }

bool KvNodeStore::maybe_has(const Hash& hash) const noexcept {
    for (int i = 0; i < kProbes; ++i) {
        const uint64_t b = probe(hash, i) & mask_;
        if ((bits_[b / 64] & (uint64_t{1} << (b % 64))) == 0) return false;
    }
    return true;
}

void KvNodeStore::remember(const Hash& hash) noexcept {
    for (int i = 0; i < kProbes; ++i) {
        const uint64_t b = probe(hash, i) & mask_;
        bits_[b / 64] |= uint64_t{1} << (b % 64);
    }
}

std::optional<Bytes> KvNodeStore::get_node(const Hash& hash) const {
    if (!maybe_has(hash)) {
        ++filtered_gets_;
        return std::nullopt;
    }
    if (auto it = pending_.find(hash); it != pending_.end()) return it->second;
    ++kv_gets_;
    Bytes value;
    if (!kv_.get(Column::kTrieNodes, view(hash), value).ok()) return std::nullopt;
    return value;
}

void KvNodeStore::put_node(const Hash& hash, ByteView rlp) {
    if (!status_.ok()) return;
    if (!pending_.try_emplace(hash, rlp).second) return;
    pending_bytes_ += hash.size() + rlp.size();
    remember(hash);
    if (pending_bytes_ >= options_.flush_bytes) flush();
}

void KvNodeStore::flush() {
    if (pending_.empty()) return;
    // One atomic batch, so the order inside it does not matter for what a kill leaves; in key
    // order, RocksDB's memtable inserts each key next to the one before (its skip list reuses the
    // search path), which more than halves the cost of writing random hashes.
    std::vector<const std::pair<const Hash, Bytes>*> sorted;
    sorted.reserve(pending_.size());
    for (const auto& entry : pending_) sorted.push_back(&entry);
    std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
    WriteBatch batch;
    for (const auto* entry : sorted) batch.put(Column::kTrieNodes, view(entry->first), entry->second);
    if (status_.ok()) status_ = kv_.write(batch);
    pending_.clear();
    pending_bytes_ = 0;
}

std::optional<Bytes> KvCodeStore::get_code(const Hash& code_hash) const {
    Bytes value;
    if (!kv_.get(Column::kCode, view(code_hash), value).ok()) return std::nullopt;
    return value;
}

void KvCodeStore::put_code(const Hash& code_hash, ByteView code) {
    if (!status_.ok()) return;
    WriteBatch batch;
    batch.put(Column::kCode, view(code_hash), code);
    status_ = kv_.write(batch);
}

}  // namespace carousel::store
