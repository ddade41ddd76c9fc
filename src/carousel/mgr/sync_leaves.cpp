// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "sync_leaves.hpp"

#include <iterator>

namespace carousel::mgr {

const MemorySyncLeaves::Leaves* MemorySyncLeaves::space(const LeafOwner& owner) const {
    if (!owner) return &accounts_;
    const auto it = storage_.find(*owner);
    return it == storage_.end() ? nullptr : &it->second;
}

void MemorySyncLeaves::drop_if_empty(const LeafOwner& owner) {
    if (!owner) return;
    const auto it = storage_.find(*owner);
    if (it != storage_.end() && it->second.empty()) storage_.erase(it);
}

std::optional<Bytes> MemorySyncLeaves::find(const LeafOwner& owner, const Hash& key) const {
    const Leaves* leaves = space(owner);
    if (leaves == nullptr) return std::nullopt;
    const auto it = leaves->find(key);
    if (it == leaves->end()) return std::nullopt;
    return it->second;
}

void MemorySyncLeaves::visit(const LeafOwner& owner, const Hash& first, const Hash& last, const Visitor& visit) const {
    const Leaves* leaves = space(owner);
    if (leaves == nullptr || last < first) return;
    for (auto it = leaves->lower_bound(first); it != leaves->end() && it->first <= last; ++it) {
        visit(it->first, it->second);
    }
}

std::size_t MemorySyncLeaves::count(const LeafOwner& owner, const Hash& first, const Hash& last) const {
    const Leaves* leaves = space(owner);
    if (leaves == nullptr || last < first) return 0;
    return static_cast<std::size_t>(std::distance(leaves->lower_bound(first), leaves->upper_bound(last)));
}

std::vector<Hash> MemorySyncLeaves::owners() const {
    std::vector<Hash> out;
    out.reserve(storage_.size());
    for (const auto& [owner, _] : storage_) out.push_back(owner);
    return out;
}

void MemorySyncLeaves::put(const LeafOwner& owner, const Hash& key, ByteView value) {
    Leaves& leaves = owner ? storage_[*owner] : accounts_;
    leaves.insert_or_assign(key, Bytes{value});
}

void MemorySyncLeaves::erase(const LeafOwner& owner, const Hash& key) {
    if (!owner) {
        accounts_.erase(key);
        return;
    }
    const auto it = storage_.find(*owner);
    if (it == storage_.end()) return;
    it->second.erase(key);
    if (it->second.empty()) storage_.erase(it);
}

void MemorySyncLeaves::erase_range(const LeafOwner& owner, const Hash& first, const Hash& last) {
    if (last < first) return;
    Leaves& leaves = owner ? storage_[*owner] : accounts_;
    leaves.erase(leaves.lower_bound(first), leaves.upper_bound(last));
    drop_if_empty(owner);
}

void MemorySyncLeaves::replace_range(const LeafOwner& owner, const Hash& first, const Hash& last,
                                     const std::map<Hash, Bytes>& leaves) {
    Leaves& held = owner ? storage_[*owner] : accounts_;
    if (first <= last) held.erase(held.lower_bound(first), held.upper_bound(last));
    held.insert(leaves.begin(), leaves.end());
    drop_if_empty(owner);
}

KvSyncLeaves::KvSyncLeaves(store::KV& kv) : kv_(kv) {
    // Start empty: the columns' last key bounds a range deletion of everything before it.
    store::WriteBatch batch;
    for (const store::Column c : {store::Column::kAccountLeaves, store::Column::kStorageLeaves}) {
        auto it = kv_.new_iterator(c);
        it->seek_to_last();
        if (it->valid()) {
            batch.del_range(c, ByteView{}, it->key());
            batch.del(c, it->key());
        }
        keep(it->status());
    }
    if (!batch.empty()) write(batch);
}

store::Column KvSyncLeaves::column(const LeafOwner& owner) noexcept {
    return owner ? store::Column::kStorageLeaves : store::Column::kAccountLeaves;
}

Bytes KvSyncLeaves::kv_key(const LeafOwner& owner, const Hash& key) {
    Bytes k;
    if (owner) k.assign(owner->begin(), owner->end());
    k.append(key.begin(), key.end());
    return k;
}

void KvSyncLeaves::keep(const Status& s) const {
    if (!s.ok() && status_.ok()) status_ = s;
}

void KvSyncLeaves::write(const store::WriteBatch& batch) { keep(kv_.write(batch)); }

std::unique_ptr<store::Iterator> KvSyncLeaves::range(const LeafOwner& owner, const Hash& first,
                                                     const Hash& last) const {
    // Every key is as long as kv_key makes it, so the keys up to kv_key(last) are those below its
    // successor (none past the column's last key: ff…ff).
    const Bytes upper = kv_key(owner, last);
    return kv_.new_iterator(column(owner), store::KeyRange{kv_key(owner, first), store::prefix_successor(upper)});
}

void KvSyncLeaves::erase_into(store::WriteBatch& batch, const LeafOwner& owner, const Hash& first, const Hash& last) {
    // [first, last) then last: kv_key(last) may have no successor to end a range at.
    const Bytes end = kv_key(owner, last);
    batch.del_range(column(owner), kv_key(owner, first), end);
    batch.del(column(owner), end);
}

std::optional<Bytes> KvSyncLeaves::find(const LeafOwner& owner, const Hash& key) const {
    Bytes value;
    const Status s = kv_.get(column(owner), kv_key(owner, key), value);
    if (s.ok()) return value;
    if (!s.is_not_found()) keep(s);
    return std::nullopt;
}

void KvSyncLeaves::visit(const LeafOwner& owner, const Hash& first, const Hash& last, const Visitor& visit) const {
    if (last < first) return;
    const std::size_t skip = owner ? owner->size() : 0;
    auto it = range(owner, first, last);
    for (it->seek_to_first(); it->valid(); it->next()) {
        const ByteView k = it->key();
        if (k.size() != skip + 32) continue;  // not a key of this layout
        visit(to_hash(k.substr(skip)), it->value());
    }
    keep(it->status());
}

std::size_t KvSyncLeaves::count(const LeafOwner& owner, const Hash& first, const Hash& last) const {
    if (last < first) return 0;
    const std::size_t size = (owner ? owner->size() : 0) + 32;
    std::size_t n = 0;
    auto it = range(owner, first, last);
    for (it->seek_to_first(); it->valid(); it->next()) {
        if (it->key().size() == size) ++n;
    }
    keep(it->status());
    return n;
}

std::vector<Hash> KvSyncLeaves::owners() const {
    std::vector<Hash> out;
    auto it = kv_.new_iterator(store::Column::kStorageLeaves);
    // One entry per owner: from each owner's first leaf, seek past its prefix.
    for (it->seek_to_first(); it->valid();) {
        const ByteView k = it->key();
        if (k.size() != 64) {
            it->next();
            continue;
        }
        out.push_back(to_hash(k.substr(0, 32)));
        const auto after = store::prefix_successor(k.substr(0, 32));
        if (!after) break;
        it->seek(*after);
    }
    keep(it->status());
    return out;
}

void KvSyncLeaves::put(const LeafOwner& owner, const Hash& key, ByteView value) {
    store::WriteBatch batch;
    batch.put(column(owner), kv_key(owner, key), value);
    write(batch);
}

void KvSyncLeaves::erase(const LeafOwner& owner, const Hash& key) {
    store::WriteBatch batch;
    batch.del(column(owner), kv_key(owner, key));
    write(batch);
}

void KvSyncLeaves::erase_range(const LeafOwner& owner, const Hash& first, const Hash& last) {
    if (last < first) return;
    store::WriteBatch batch;
    erase_into(batch, owner, first, last);
    write(batch);
}

void KvSyncLeaves::replace_range(const LeafOwner& owner, const Hash& first, const Hash& last,
                                 const std::map<Hash, Bytes>& leaves) {
    store::WriteBatch batch;
    if (first <= last) erase_into(batch, owner, first, last);
    for (const auto& [key, value] : leaves) batch.put(column(owner), kv_key(owner, key), value);
    write(batch);
}

}  // namespace carousel::mgr
