// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "epoch_nodes.hpp"

#include <algorithm>
#include <memory>

#include <carousel/core/assert.hpp>

namespace carousel::mgr {

trie::NodeRead MemoryEpochNodes::find(const Hash& hash) const {
    const auto it = nodes_.find(hash);
    if (it == nodes_.end()) return std::nullopt;
    return it->second;
}

trie::NodeFound MemoryEpochNodes::view(const Hash& hash, Bytes&, ByteView& out) const {
    const auto it = nodes_.find(hash);
    if (it == nodes_.end()) return false;
    out = it->second;
    return true;
}

bool MemoryEpochNodes::add(const Hash& hash, ByteView rlp) { return nodes_.try_emplace(hash, rlp).second; }

std::size_t MemoryEpochNodes::keep_only(const HashSet& live) {
    std::size_t dropped = 0;
    for (auto it = nodes_.begin(); it != nodes_.end();) {
        if (live.count(it->first) == 0) {
            dropped += it->second.size();
            it = nodes_.erase(it);
        } else {
            ++it;
        }
    }
    return dropped;
}

KvEpochNodes::KvEpochNodes(store::KV& kv, const Region& region) : kv_(kv) {
    prefix_.assign(region.first.begin(), region.first.end());
    prefix_.push_back(static_cast<uint8_t>(region.bits >> 8));  // bits <= 256: two bytes, big-endian
    prefix_.push_back(static_cast<uint8_t>(region.bits));
    // What an earlier run left under the prefix is the region's (a node reopening its store).
    auto it = kv_.new_iterator(store::Column::kTrieNodes, store::KeyRange::with_prefix(prefix_));
    for (it->seek_to_first(); it->valid(); it->next()) ++size_;
    if (!it->status().ok()) status_ = it->status();
}

Bytes KvEpochNodes::key(const Hash& hash) const {
    Bytes k = prefix_;
    k.append(hash.begin(), hash.end());
    return k;
}

bool KvEpochNodes::write(const store::WriteBatch& batch) {
    const Status s = kv_.write(batch);
    if (s.ok()) return true;
    if (status_.ok()) status_ = s;
    return false;
}

trie::NodeRead KvEpochNodes::find(const Hash& hash) const {
    Bytes value;
    const Status s = kv_.get(store::Column::kTrieNodes, key(hash), value);
    if (s.ok()) return value;
    if (s.is_not_found()) return std::nullopt;
    return tl::unexpected{s};
}

trie::NodeFound KvEpochNodes::view(const Hash& hash, Bytes& scratch, ByteView& out) const {
    const Status s = kv_.get(store::Column::kTrieNodes, key(hash), scratch);
    if (s.is_not_found()) return false;
    if (!s.ok()) return tl::unexpected{s};
    out = scratch;
    return true;
}

bool KvEpochNodes::add(const Hash& hash, ByteView rlp) {
    const Bytes k = key(hash);
    Bytes value;
    const Status held = kv_.get(store::Column::kTrieNodes, k, value);
    if (held.ok()) return false;
    if (!held.is_not_found()) {
        if (status_.ok()) status_ = held;
        return false;
    }
    store::WriteBatch batch;
    batch.put(store::Column::kTrieNodes, k, rlp);
    if (!write(batch)) return false;
    ++size_;
    return true;
}

void KvEpochNodes::replace(const NodeMap& nodes) {
    store::WriteBatch batch;
    const store::KeyRange all = store::KeyRange::with_prefix(prefix_);
    CAROUSEL_ASSERT(all.upper.has_value(), "a prefix ending in a bit count <= 256 has a successor");
    batch.del_range(store::Column::kTrieNodes, all.lower, *all.upper);
    for (const auto& [hash, rlp] : nodes) batch.put(store::Column::kTrieNodes, key(hash), rlp);
    if (write(batch)) size_ = nodes.size();
}

std::size_t KvEpochNodes::keep_only(const HashSet& live) {
    store::WriteBatch batch;
    std::size_t dropped = 0;
    std::size_t gone = 0;
    auto it = kv_.new_iterator(store::Column::kTrieNodes, store::KeyRange::with_prefix(prefix_));
    for (it->seek_to_first(); it->valid(); it->next()) {
        const ByteView k = it->key();
        if (k.size() != prefix_.size() + 32) continue;
        Hash h{};
        std::copy(k.begin() + static_cast<std::ptrdiff_t>(prefix_.size()), k.end(), h.begin());
        if (live.count(h) != 0) continue;
        batch.del(store::Column::kTrieNodes, k);
        dropped += it->value().size();
        ++gone;
    }
    if (!it->status().ok()) {
        if (status_.ok()) status_ = it->status();
        return 0;
    }
    if (batch.empty() || !write(batch)) return 0;
    size_ -= gone;
    return dropped;
}

}  // namespace carousel::mgr
