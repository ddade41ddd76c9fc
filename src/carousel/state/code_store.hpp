// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Contract code by its Keccak-256 hash.

#include <optional>
#include <unordered_map>

#include <carousel/core/bytes.hpp>
#include <carousel/trie/node_store.hpp>

namespace carousel::state {

class CodeStore {
  public:
    virtual ~CodeStore() = default;
    // The code whose hash is `code_hash`, or nullopt.
    virtual std::optional<Bytes> get_code(const Hash& code_hash) const = 0;
    // Stores `code` under `code_hash`; the caller guarantees code_hash == keccak256(code).
    virtual void put_code(const Hash& code_hash, ByteView code) = 0;
    // Whether the store has the code whose hash is `code_hash` (WorldState::apply checks this for
    // every account it writes: a store can answer without copying the code out).
    virtual bool has_code(const Hash& code_hash) const { return get_code(code_hash).has_value(); }
};

class MemoryCodeStore final : public CodeStore {
  public:
    std::optional<Bytes> get_code(const Hash& code_hash) const override {
        auto it = code_.find(code_hash);
        if (it == code_.end()) return std::nullopt;
        return it->second;
    }
    void put_code(const Hash& code_hash, ByteView code) override { code_.try_emplace(code_hash, code); }
    bool has_code(const Hash& code_hash) const override { return code_.contains(code_hash); }
    std::size_t size() const noexcept { return code_.size(); }
    // Drops the code whose hash satisfies `drop`; returns how many blobs went.
    template <class Pred>
    std::size_t erase_if(Pred drop) {
        return std::erase_if(code_, [&](const auto& entry) { return drop(entry.first); });
    }

  private:
    std::unordered_map<Hash, Bytes, trie::HashHasher> code_;
};

}  // namespace carousel::state
