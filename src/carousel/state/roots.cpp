// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "roots.hpp"

#include <algorithm>
#include <vector>

#include <carousel/core/keccak.hpp>
#include <carousel/core/rlp.hpp>
#include <carousel/trie/hash_builder.hpp>

namespace carousel::state {
namespace {

// HashBuilder wants strictly increasing keys; distinct inputs give distinct hashes (short of a
// Keccak collision), so sorting is enough.
Hash root_of(std::vector<std::pair<Hash, Bytes>>& leaves) {
    std::sort(leaves.begin(), leaves.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    trie::HashBuilder builder;
    for (const auto& [key, value] : leaves) builder.add_leaf(view(key), value);
    return builder.root();
}

}  // namespace

Hash storage_root(std::span<const StorageSlot> slots) {
    std::vector<std::pair<Hash, Bytes>> leaves;
    leaves.reserve(slots.size());
    for (const StorageSlot& s : slots) {
        if (s.value.is_zero()) continue;
        Bytes value;
        rlp::encode(value, ByteView{s.value.to_big_endian()});
        leaves.emplace_back(keccak256(view(s.key)), std::move(value));
    }
    return root_of(leaves);
}

Hash account_trie_root(std::span<const std::pair<Address, Account>> accounts) {
    std::vector<std::pair<Hash, Bytes>> leaves;
    leaves.reserve(accounts.size());
    for (const auto& [address, account] : accounts) {
        leaves.emplace_back(keccak256(ByteView{address.data(), address.size()}), encode_account(account));
    }
    return root_of(leaves);
}

}  // namespace carousel::state
