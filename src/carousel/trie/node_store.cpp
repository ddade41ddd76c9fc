// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "node_store.hpp"

#include <algorithm>
#include <limits>
#include <new>

#ifdef __linux__
#include <sys/mman.h>
#endif

namespace carousel::trie {

namespace {
constexpr std::size_t kHugePage = std::size_t{2} << 20;
constexpr std::size_t kChunkBytes = kHugePage;                   // the largest chunk (a store of many nodes)
constexpr std::size_t kFirstChunkBytes = std::size_t{64} << 10;  // chunks double from this (small stores)
constexpr std::size_t kMinSlots = 1024;

// Whether two hashes are equal, in four word compares (operator== on a Hash calls memcmp).
inline bool same_hash(const Hash& a, const Hash& b) noexcept {
    uint64_t x[4];
    uint64_t y[4];
    std::memcpy(x, a.data(), 32);
    std::memcpy(y, b.data(), 32);
    return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3])) == 0;
}

// Fetches every cache line of an index slot into the cache (a slot may straddle two of them).
template <class Slot>
inline void prefetch_slot(const Slot* s) noexcept {
    const auto* p = reinterpret_cast<const char*>(s);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
    __builtin_prefetch(p);
    __builtin_prefetch(p + sizeof(Slot) - 1);
}
}  // namespace

namespace detail {

void* allocate_large(std::size_t bytes) {
    void* p = nullptr;
    if (bytes >= kHugePage) {
        p = std::aligned_alloc(kHugePage, (bytes + kHugePage - 1) / kHugePage * kHugePage);
#ifdef __linux__
        if (p != nullptr) (void)madvise(p, bytes, MADV_HUGEPAGE);  // a hint: no huge pages is no error
#endif
    } else {
        p = std::malloc(bytes == 0 ? 1 : bytes);
    }
    if (p == nullptr) throw std::bad_alloc{};
    return p;
}

}  // namespace detail

MemoryNodeStore::MemoryNodeStore(const MemoryNodeStore& other) {
    reserve(other.size_);
    for (const Slot& s : other.slots_) {
        if (s.size != 0) put_node(s.hash, other.rlp(s));
    }
}

MemoryNodeStore& MemoryNodeStore::operator=(const MemoryNodeStore& other) {
    if (this != &other) *this = MemoryNodeStore{other};
    return *this;
}

const MemoryNodeStore::Slot* MemoryNodeStore::find(const Hash& hash) const noexcept {
    if (slots_.empty()) return nullptr;
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = HashHasher{}(hash)&mask;; i = (i + 1) & mask) {
        const Slot& s = slots_[i];
        if (s.size == 0) return nullptr;
        if (same_hash(s.hash, hash)) return &s;
    }
}

std::optional<Bytes> MemoryNodeStore::get_node(const Hash& hash) const {
    const Slot* s = find(hash);
    if (s == nullptr) return std::nullopt;
    return Bytes{rlp(*s)};
}

NodeFound MemoryNodeStore::read_node(const Hash& hash, Bytes& out) const {
    const Slot* s = find(hash);
    if (s == nullptr) return false;
    out.assign(rlp(*s));
    return true;
}

NodeFound MemoryNodeStore::view_node(const Hash& hash, Bytes& /*scratch*/, ByteView& out) const {
    const Slot* s = find(hash);
    if (s == nullptr) return false;
    out = rlp(*s);
    return true;
}

void MemoryNodeStore::prefetch_node(const Hash& hash) const noexcept {
    if (!slots_.empty()) prefetch_slot(&slots_[HashHasher{}(hash) & (slots_.size() - 1)]);
}

void MemoryNodeStore::prefetch_node_rlp(const Hash& hash) const noexcept {
    const Slot* s = find(hash);
    if (s == nullptr) return;
    const ByteView r = rlp(*s);
    // Every cache line of the node (a branch is up to 532 bytes): decoding reads all of it.
    const auto start = reinterpret_cast<std::uintptr_t>(r.data()) & ~std::uintptr_t{63};
    for (std::uintptr_t p = start; p < reinterpret_cast<std::uintptr_t>(r.data() + r.size()); p += 64) {
        __builtin_prefetch(reinterpret_cast<const void*>(p));  // NOLINT(performance-no-int-to-ptr): only prefetched
    }
}

void MemoryNodeStore::reserve(std::size_t nodes) {
    std::size_t want = kMinSlots;
    while (want / 10 * 7 < nodes) want *= 2;
    if (want > slots_.size()) rehash(want);
}

void MemoryNodeStore::rehash(std::size_t slot_count) {
    std::vector<Slot, detail::LargeAllocator<Slot>> old(slot_count);
    old.swap(slots_);
    const std::size_t mask = slots_.size() - 1;
    for (const Slot& s : old) {
        if (s.size == 0) continue;
        std::size_t i = HashHasher{}(s.hash) & mask;
        while (slots_[i].size != 0) i = (i + 1) & mask;
        slots_[i] = s;
    }
}

void MemoryNodeStore::put_node(const Hash& hash, ByteView rlp_bytes) {
    if (rlp_bytes.empty() || rlp_bytes.size() > std::numeric_limits<uint32_t>::max()) return;  // not a node
    if ((size_ + 1) * 10 > slots_.size() * 7) rehash(std::max(kMinSlots, slots_.size() * 2));
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = HashHasher{}(hash)&mask;
    for (; slots_[i].size != 0; i = (i + 1) & mask) {
        if (same_hash(slots_[i].hash, hash)) return;  // already there: the same RLP
    }
    if (chunk_capacity_ - chunk_used_ < rlp_bytes.size()) {
        // A new chunk; a node larger than a chunk gets one of its own.
        const std::size_t next = chunks_.empty() ? kFirstChunkBytes : std::min(kChunkBytes, 2 * chunk_capacity_);
        chunk_capacity_ = std::max(next, rlp_bytes.size());
        chunks_.emplace_back(static_cast<uint8_t*>(detail::allocate_large(chunk_capacity_)));
        chunk_used_ = 0;
    }
    std::memcpy(chunks_.back().get() + chunk_used_, rlp_bytes.data(), rlp_bytes.size());
    slots_[i] = Slot{hash, static_cast<uint32_t>(chunks_.size() - 1), static_cast<uint32_t>(chunk_used_),
                     static_cast<uint32_t>(rlp_bytes.size())};
    chunk_used_ += rlp_bytes.size();
    ++size_;
}

void MemoryNodeStore::put_nodes(std::span<const Hash> hashes, std::span<const ByteView> rlps) {
    // Grow first, then prefetch each node's first slot a few nodes ahead: the lookups of a state
    // of millions of nodes miss the cache, and this overlaps the misses.
    reserve(size_ + hashes.size());
    constexpr std::size_t kAhead = 16;
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = 0; i < hashes.size() && i < kAhead; ++i) {
        prefetch_slot(&slots_[HashHasher{}(hashes[i]) & mask]);
    }
    for (std::size_t i = 0; i < hashes.size(); ++i) {
        if (i + kAhead < hashes.size()) prefetch_slot(&slots_[HashHasher{}(hashes[i + kAhead]) & mask]);
        put_node(hashes[i], rlps[i]);
    }
}

}  // namespace carousel::trie
