// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// The secure-trie roots (HashBuilder over sorted hashed keys) against trie::Trie, an independent
// implementation, fed the same leaves in another order.
#include "roots.hpp"

#include <algorithm>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include <carousel/core/keccak.hpp>
#include <carousel/testing/values.hpp>
#include <carousel/trie/trie.hpp>

namespace carousel::state {
namespace {

using carousel::testing::random_hash;

// The storage trie of `slots` built with trie::Trie, one put per slot in the given order.
Hash storage_root_by_trie(const std::vector<StorageSlot>& slots) {
    trie::Trie t;
    for (const StorageSlot& s : slots) {
        if (s.value.is_zero()) continue;
        Bytes leaf;
        rlp::encode(leaf, ByteView{s.value.to_big_endian()});
        EXPECT_TRUE(t.put(view(keccak256(view(s.key))), leaf));
    }
    return t.root();
}

TEST(Roots, StorageRootMatchesATrieOfHashedSlotKeys) {
    std::mt19937_64 rng{5};
    for (const std::size_t n : {1U, 2U, 3U, 17U, 300U}) {
        std::vector<StorageSlot> slots;
        for (std::size_t i = 0; i < n; ++i) {
            StorageSlot s;
            s.key = random_hash(rng);
            // Small and large words, and zeros (absent slots) among them.
            switch (rng() % 4) {
                case 0:
                    s.value = U256{};
                    break;
                case 1:
                    s.value = U256{rng() % 256};
                    break;
                case 2:
                    s.value = U256{rng()};
                    break;
                default:
                    s.value = *U256::from_big_endian(view(random_hash(rng)));
                    break;
            }
            slots.push_back(s);
        }
        EXPECT_EQ(storage_root(slots), storage_root_by_trie(slots)) << n << " slots";
    }
}

TEST(Roots, StorageRootOfTheLargestWordAndOfOneByte) {
    StorageSlot max;
    max.value = *U256::from_big_endian(Bytes(32, 0xff));
    StorageSlot one;
    one.key[31] = 1;
    one.value = U256{1};
    const std::vector<StorageSlot> slots{max, one};
    EXPECT_EQ(storage_root(slots), storage_root_by_trie(slots));
    EXPECT_NE(storage_root(slots), storage_root(std::vector<StorageSlot>{one}));
    // A zero value is the slot's absence, whatever its key.
    StorageSlot zero;
    zero.key[0] = 9;
    EXPECT_EQ(storage_root(std::vector<StorageSlot>{one, zero}), storage_root(std::vector<StorageSlot>{one}));
}

TEST(Roots, AccountTrieRootMatchesATrieOfHashedAddresses) {
    std::mt19937_64 rng{6};
    std::vector<std::pair<Address, Account>> accounts;
    trie::Trie t;
    for (int i = 0; i < 200; ++i) {
        Address address{};
        for (auto& b : address) b = static_cast<uint8_t>(rng());
        Account a;
        a.nonce = rng() % 3;
        a.balance = U256{rng() % 2 == 0 ? 0 : rng()};
        if (rng() % 4 == 0) a.storage_root = random_hash(rng);
        if (rng() % 4 == 0) a.code_hash = random_hash(rng);
        accounts.emplace_back(address, a);  // empty accounts too: every account is a leaf
        ASSERT_TRUE(t.put(view(keccak256(ByteView{address.data(), address.size()})), encode_account(a)));
        if (i == 0 || i == 1 || i == 199) {
            EXPECT_EQ(account_trie_root(accounts), t.root()) << i + 1 << " accounts";
        }
    }
    // The order of the input does not matter.
    std::reverse(accounts.begin(), accounts.end());
    EXPECT_EQ(account_trie_root(accounts), t.root());
    EXPECT_NE(account_trie_root(accounts), kEmptyTrieRoot);
}

}  // namespace
}  // namespace carousel::state
