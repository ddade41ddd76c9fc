// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Internal to StateStore (state_store*.cpp): what the store remembers of trie nodes to spare KV
// reads. Not part of the library's API: include state_store.hpp.
//
// - StateStore::NodeCache: committed nodes with their reference counts, bounded by
//   Options::node_cache_bytes; a hint, never the truth: an entry is what the KV held or was last
//   committed with, and a miss is read from the KV.
// - ImportFilter: the nodes a genesis import has written so far, as a Bloom filter; "not seen" is
//   certain (the store was empty when the import began), "seen" may be a false positive (about 1%).
//
// Neither is thread-safe: only the store's writing thread uses them.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <unordered_map>
#include <vector>

#include <carousel/core/bytes.hpp>
#include <carousel/trie/node_store.hpp>

#include "state_store.hpp"

namespace carousel::store {

// Committed trie nodes the store wrote or read lately: count and RLP (count 0: known to be absent).
// Blocks touch the same paths again and again (hot accounts and contracts, the top levels), and
// WorldState reopens storage tries every block, so this saves most of their KV reads. Bounded, with
// two generations: lookups promote from the old one; when the young one fills half the budget, it
// becomes the old one (an approximate LRU at O(1) per operation). Only the store's own thread uses it.
class StateStore::NodeCache {
  public:
    struct Entry {
        uint64_t count{0};
        Bytes rlp;
    };

    explicit NodeCache(std::size_t max_bytes) : max_bytes_{max_bytes} {}

    // The entry of `hash`, or null. The pointer lives until the next put() or find().
    const Entry* find(const Hash& hash) {
        if (auto it = young_.find(hash); it != young_.end()) return &it->second;
        auto it = old_.find(hash);
        if (it == old_.end()) return nullptr;
        Entry e = std::move(it->second);
        old_.erase(it);
        return put(hash, e.count, std::move(e.rlp));
    }

    const Entry* put(const Hash& hash, uint64_t count, Bytes rlp) {
        if (max_bytes_ == 0) {
            scratch_ = Entry{count, std::move(rlp)};
            return &scratch_;
        }
        if (young_bytes_ > max_bytes_ / 2) {
            old_ = std::move(young_);
            young_.clear();
            young_bytes_ = 0;
        }
        young_bytes_ += rlp.size() + kOverhead;
        auto [it, inserted] = young_.insert_or_assign(hash, Entry{count, std::move(rlp)});
        (void)inserted;
        return &it->second;
    }

    void clear() {
        young_.clear();
        old_.clear();
        young_bytes_ = 0;
    }

  private:
    static constexpr std::size_t kOverhead = 96;  // key, entry and hash-table node, roughly
    std::size_t max_bytes_;
    std::size_t young_bytes_{0};
    std::unordered_map<Hash, Entry, trie::HashHasher> young_, old_;
    Entry scratch_;
};

// ---- the import filter ---------------------------------------------------------------------------------

// A Bloom filter of the nodes a genesis import has written so far. The store was empty when the
// import began, so a node the filter has never seen is certainly not stored, and its count needs no
// KV read: only repeated nodes (equal storage tries) and false positives (about 1%) are looked up.
// Keys are Keccak hashes, uniform already: the probes come from the hash's own bytes.
class ImportFilter {
  public:
    explicit ImportFilter(std::size_t expected) {
        std::size_t words = 1;
        while (words * 64 < expected * 20) words *= 2;  // 20 bits per leaf: about 10 per node
        bits_.assign(words, 0);
    }
    void add(const Hash& h) noexcept {
        for (unsigned i = 0; i < kProbes; ++i) {
            const uint64_t b = probe(h, i);
            bits_[b / 64] |= uint64_t{1} << (b % 64);
        }
    }
    [[nodiscard]] bool may_contain(const Hash& h) const noexcept {
        for (unsigned i = 0; i < kProbes; ++i) {
            const uint64_t b = probe(h, i);
            if ((bits_[b / 64] & (uint64_t{1} << (b % 64))) == 0) return false;
        }
        return true;
    }

  private:
    static constexpr unsigned kProbes = 7;
    [[nodiscard]] uint64_t probe(const Hash& h, unsigned i) const noexcept {
        uint64_t a = 0, b = 0;
        std::memcpy(&a, h.data(), 8);
        std::memcpy(&b, h.data() + 8, 8);
        return (a + i * (b | 1)) & (bits_.size() * 64 - 1);  // double hashing
    }
    std::vector<uint64_t> bits_;
};

}  // namespace carousel::store
