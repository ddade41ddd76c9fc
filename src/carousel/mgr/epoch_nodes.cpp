// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "epoch_nodes.hpp"

#include <algorithm>
#include <memory>
#include <vector>

#include <carousel/core/assert.hpp>
#include <carousel/core/hex.hpp>
#include <carousel/core/keccak.hpp>

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

Bytes region_key_prefix(const Region& region) {
    Bytes prefix{view(region.first)};
    prefix.push_back(static_cast<uint8_t>(region.bits >> 8));  // bits <= 256: two bytes, big-endian
    prefix.push_back(static_cast<uint8_t>(region.bits));
    return prefix;
}

KvEpochNodes::KvEpochNodes(store::KV& kv, const Region& region) : kv_(kv), prefix_{region_key_prefix(region)} {
    auto it = kv_.new_iterator(store::Column::kTrieNodes, store::KeyRange::with_prefix(prefix_));
    for (it->seek_to_first(); it->valid(); it->next()) ++size_;
    if (!it->status().ok()) status_ = it->status();
}

Bytes KvEpochNodes::key(const Hash& hash) const {
    Bytes k = prefix_;
    k.append(hash.begin(), hash.end());
    return k;
}

void KvEpochNodes::fail(const Status& s) {
    if (status_.ok()) status_ = s;
}

trie::NodeFound KvEpochNodes::held_before(const Hash& hash, Bytes& scratch) const {
    if (replaced_ || dropped_.contains(hash)) return false;
    const Status s = kv_.get(store::Column::kTrieNodes, key(hash), scratch);
    if (s.is_not_found()) return false;
    if (!s.ok()) return tl::unexpected{s};
    return true;
}

trie::NodeRead KvEpochNodes::find(const Hash& hash) const {
    if (const auto it = added_.find(hash); it != added_.end()) return it->second;
    Bytes value;
    const auto held = held_before(hash, value);
    if (!held) return tl::unexpected{held.error()};
    if (!*held) return std::nullopt;
    return value;
}

trie::NodeFound KvEpochNodes::view(const Hash& hash, Bytes& scratch, ByteView& out) const {
    if (const auto it = added_.find(hash); it != added_.end()) {
        out = it->second;
        return true;
    }
    auto held = held_before(hash, scratch);
    if (held && *held) out = scratch;
    return held;
}

bool KvEpochNodes::add(const Hash& hash, ByteView rlp) {
    if (added_.contains(hash)) return false;
    Bytes value;
    const auto held = held_before(hash, value);
    if (!held) {
        fail(held.error());
        return false;
    }
    if (*held) return false;
    batch_.put(store::Column::kTrieNodes, key(hash), rlp);
    added_.try_emplace(hash, rlp);
    dropped_.erase(hash);
    ++size_;
    return true;
}

void KvEpochNodes::replace(const NodeMap& nodes) {
    batch_.clear();
    const store::KeyRange all = store::KeyRange::with_prefix(prefix_);
    CAROUSEL_ASSERT(all.upper.has_value(), "a prefix ending in a bit count <= 256 has a successor");
    batch_.del_range(store::Column::kTrieNodes, all.lower, *all.upper);
    for (const auto& [hash, rlp] : nodes) batch_.put(store::Column::kTrieNodes, key(hash), rlp);
    added_ = nodes;
    dropped_.clear();
    replaced_ = true;
    size_ = nodes.size();
}

std::size_t KvEpochNodes::keep_only(const HashSet& live) {
    std::size_t dropped = 0;
    std::size_t gone = 0;
    std::vector<Hash> drop;
    if (!replaced_) {
        auto it = kv_.new_iterator(store::Column::kTrieNodes, store::KeyRange::with_prefix(prefix_));
        for (it->seek_to_first(); it->valid(); it->next()) {
            const ByteView k = it->key();
            if (k.size() != prefix_.size() + 32) continue;
            const Hash h = to_hash(k.substr(prefix_.size()));
            if (live.contains(h) || dropped_.contains(h) || added_.contains(h)) continue;
            drop.push_back(h);
            dropped += it->value().size();
        }
        if (!it->status().ok()) {
            fail(it->status());
            return 0;
        }
    }
    for (const Hash& h : drop) {
        batch_.del(store::Column::kTrieNodes, key(h));
        dropped_.insert(h);
        ++gone;
    }
    for (auto it = added_.begin(); it != added_.end();) {
        if (live.contains(it->first)) {
            ++it;
            continue;
        }
        batch_.del(store::Column::kTrieNodes, key(it->first));  // after its put: the later write wins
        dropped += it->second.size();
        ++gone;
        it = added_.erase(it);
    }
    size_ -= gone;
    return dropped;
}

void KvEpochNodes::commit(const store::WriteBatch& records) {
    batch_.append(records);
    if (!batch_.empty()) {
        const Status s = kv_.write(batch_);
        if (!s.ok()) fail(s);
    }
    batch_.clear();
    added_.clear();
    dropped_.clear();
    replaced_ = false;
}

tl::expected<std::size_t, Status> KvEpochNodes::check_hashes() const {
    std::size_t bytes = 0;
    auto it = kv_.new_iterator(store::Column::kTrieNodes, store::KeyRange::with_prefix(prefix_));
    for (it->seek_to_first(); it->valid(); it->next()) {
        const ByteView k = it->key();
        if (k.size() != prefix_.size() + 32 || keccak256(it->value()) != to_hash(k.substr(prefix_.size()))) {
            return tl::unexpected{
                Status::corruption("trie node under a key that is not its hash: " + to_hex(k.substr(prefix_.size())))};
        }
        bytes += it->value().size();
    }
    if (!it->status().ok()) return tl::unexpected{it->status()};
    return bytes;
}

}  // namespace carousel::mgr
