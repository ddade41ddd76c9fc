// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "kv_node_store.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

namespace carousel::store {
namespace {

// Four probes from the hash itself: a Keccak output is uniform, so its words are independent.
// The filter is blocked (Putze, Sanders, Singler 2007): word 0 picks a 64-byte block and word 1
// gives the four bits inside it, so a lookup or a put costs one cache miss instead of four.
constexpr unsigned kProbes = 4;
constexpr unsigned kBitInBlockBits = 9;  // 512 bits a block

uint64_t probe(const Hash& hash, int i) noexcept {
    uint64_t v;
    std::memcpy(&v, hash.data() + 8 * i, sizeof v);
    return v;
}

// The bits `hash` sets in its filter block, as one mask per word of the block.
std::array<uint64_t, 8> block_masks(const Hash& hash) noexcept {
    std::array<uint64_t, 8> masks{};
    const uint64_t bits = probe(hash, 1);
    for (unsigned i = 0; i < kProbes; ++i) {
        const uint64_t b = (bits >> (kBitInBlockBits * i)) & 511;
        masks[b / 64] |= uint64_t{1} << (b % 64);
    }
    return masks;
}

}  // namespace

KvNodeStore::KvNodeStore(KV& kv, KvNodeStoreOptions options) : kv_{kv}, options_{options} {
    const std::size_t blocks = std::bit_ceil(std::max<std::size_t>(options_.filter_bytes, 64) / sizeof(FilterBlock));
    filter_.assign(blocks, FilterBlock{});
    block_mask_ = blocks - 1;
    // A resumed sync: every hash already stored goes into the filter.
    auto it = kv_.new_iterator(Column::kTrieNodes);
    for (it->seek_to_first(); it->valid(); it->next()) {
        if (it->key().size() == 32) remember(to_hash(it->key()));
    }
    if (!it->status().ok()) status_ = it->status();
}

KvNodeStore::~KvNodeStore() { flush(); }

bool KvNodeStore::maybe_has(const Hash& hash) const noexcept {
    const FilterBlock& block = filter_[probe(hash, 0) & block_mask_];
    const auto masks = block_masks(hash);
    for (std::size_t w = 0; w < masks.size(); ++w) {
        if ((block.words[w] & masks[w]) != masks[w]) return false;
    }
    return true;
}

void KvNodeStore::remember(const Hash& hash) noexcept {
    FilterBlock& block = filter_[probe(hash, 0) & block_mask_];
    const auto masks = block_masks(hash);
    for (std::size_t w = 0; w < masks.size(); ++w) block.words[w] |= masks[w];
}

const KvNodeStore::Pending* KvNodeStore::find_pending(const Hash& hash) const noexcept {
    if (index_.empty()) return nullptr;
    const std::size_t mask = index_.size() - 1;
    for (std::size_t slot = probe(hash, 0) & mask; index_[slot] != 0; slot = (slot + 1) & mask) {
        const Pending& p = pending_[index_[slot] - 1];
        if (p.hash == hash) return &p;
    }
    return nullptr;
}

void KvNodeStore::index_pending(std::size_t position) noexcept {
    const std::size_t mask = index_.size() - 1;
    std::size_t slot = probe(pending_[position].hash, 0) & mask;
    while (index_[slot] != 0) slot = (slot + 1) & mask;
    index_[slot] = static_cast<uint32_t>(position + 1);
}

void KvNodeStore::grow_index() {
    index_.assign(std::max<std::size_t>(1024, 2 * index_.size()), 0);
    for (std::size_t i = 0; i < pending_.size(); ++i) index_pending(i);
}

trie::NodeRead KvNodeStore::find_node(const Hash& hash) const {
    if (!maybe_has(hash)) {
        ++filtered_gets_;
        return std::nullopt;
    }
    if (const Pending* p = find_pending(hash)) return Bytes{ByteView{pending_rlp_}.substr(p->offset, p->size)};
    ++kv_gets_;
    Bytes value;
    Status s = kv_.get(Column::kTrieNodes, view(hash), value);
    if (s.is_not_found()) return std::nullopt;
    if (!s.ok()) {
        if (status_.ok()) status_ = s;
        return tl::unexpected{std::move(s)};
    }
    return value;
}

void KvNodeStore::put_node(const Hash& hash, ByteView rlp) {
    if (!status_.ok()) return;
    if (maybe_has(hash) && find_pending(hash) != nullptr) return;  // put before, not written yet
    if (2 * (pending_.size() + 1) > index_.size()) grow_index();
    pending_.push_back({hash, pending_rlp_.size(), rlp.size()});
    pending_rlp_ += rlp;
    index_pending(pending_.size() - 1);
    pending_bytes_ += hash.size() + rlp.size();
    remember(hash);
    if (pending_bytes_ >= options_.flush_bytes) flush();
}

void KvNodeStore::flush() {
    if (pending_.empty()) return;
    // One all-or-nothing write, so the order inside it does not matter for what a kill leaves; in key
    // order, as KV::put_sorted wants (RocksKV writes it as a table file: no memtable inserts, which
    // cost most of a batch of random hashes). The puts are distinct (put_node drops a repeat).
    std::sort(pending_.begin(), pending_.end(), [](const Pending& a, const Pending& b) { return a.hash < b.hash; });
    keys_.clear();
    values_.clear();
    const ByteView rlps{pending_rlp_};
    for (const Pending& p : pending_) {
        keys_.push_back(view(p.hash));
        values_.push_back(rlps.substr(p.offset, p.size));
    }
    if (status_.ok()) status_ = kv_.put_sorted(Column::kTrieNodes, keys_, values_);
    pending_.clear();
    pending_rlp_.clear();
    std::fill(index_.begin(), index_.end(), 0);
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
