// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// verify_diff_proof on a small hand-built state: what a proof must carry and what it must not.
// (world_state_test.cpp mutates the proofs of random chains byte by byte.)
#include "diff_proof.hpp"

#include <algorithm>
#include <tuple>

#include <gtest/gtest.h>

#include <carousel/state/code_store.hpp>
#include <carousel/state/world_state.hpp>
#include <carousel/testing/values.hpp>
#include <carousel/trie/node_store.hpp>

namespace carousel::state {
namespace {

using trie::ProofError;

Hash key(uint8_t first) {
    Hash h{};
    h[0] = first;
    h[31] = static_cast<uint8_t>(first * 7);
    return h;
}

// A storage leaf value: RLP of the minimal big-endian word.
Bytes word(uint64_t v) { return carousel::testing::rlp_uint(v); }

Account account(uint64_t nonce) { return Account{nonce, U256{}, kEmptyTrieRoot, kEmptyCodeHash}; }

void sort_slots(StateDiff& d) {
    std::sort(d.slots.begin(), d.slots.end(), [](const SlotChange& a, const SlotChange& b) {
        return std::tie(a.account_key, a.slot_key) < std::tie(b.account_key, b.slot_key);
    });
}

// A state built block by block; each block's roots filled in by seal_and_apply.
class DiffProofTest : public ::testing::Test {
  protected:
    // Applies `d` (roots filled in) and returns it with its proof.
    std::pair<StateDiff, DiffProof> apply(StateDiff d) {
        sort_slots(d);
        auto r = ws_.seal_and_apply(d);
        EXPECT_TRUE(r) << to_string(r.error());
        auto proof = ws_.prove(d);
        EXPECT_TRUE(proof) << to_string(proof.error());
        return {d, proof ? *proof : DiffProof{}};
    }

    // Block 1: accounts 1 (slots 1, 2), 2 (slot 3) and 3 created.
    std::pair<StateDiff, DiffProof> genesis() {
        StateDiff d;
        d.block = 1;
        d.accounts = {
            {key(1), std::nullopt, account(1)}, {key(2), std::nullopt, account(2)}, {key(3), std::nullopt, account(3)}};
        d.slots = {{key(1), key(11), {}, word(1)}, {key(1), key(12), {}, word(2)}, {key(2), key(13), {}, word(3)}};
        return apply(d);
    }

    // Block 2 after genesis(): account 1's slot 11 changed and slot 12 cleared, account 2's nonce
    // changed (its storage not), account 3 deleted, account 4 created with slot 14.
    std::pair<StateDiff, DiffProof> second() {
        const Account a1 = *ws_.account(key(1)).value();
        const Account a2 = *ws_.account(key(2)).value();
        const Account a3 = *ws_.account(key(3)).value();
        Account a2_next = a2;
        a2_next.nonce = 20;
        StateDiff d;
        d.block = 2;
        d.accounts = {
            {key(1), a1, a1}, {key(2), a2, a2_next}, {key(3), a3, std::nullopt}, {key(4), std::nullopt, account(4)}};
        d.slots = {
            {key(1), key(11), word(1), word(100)}, {key(1), key(12), word(2), {}}, {key(4), key(14), {}, word(4)}};
        return apply(d);
    }

    trie::MemoryNodeStore nodes_;
    MemoryCodeStore code_;
    WorldState ws_{nodes_, code_};
};

TEST_F(DiffProofTest, ProofsOfEachBlockVerifyAtTheirRoot) {
    auto [d1, p1] = genesis();
    ASSERT_TRUE(verify_diff_proof(d1, p1, d1.root));
    EXPECT_EQ(p1.storage_nodes.size(), 2U);  // accounts 1 and 2
    auto [d2, p2] = second();
    ASSERT_TRUE(verify_diff_proof(d2, p2, d2.root));
    ASSERT_EQ(p2.storage_nodes.size(), 2U);  // accounts 1 and 4; 2's storage did not change
    EXPECT_EQ(p2.storage_nodes[0].first, key(1));
    EXPECT_EQ(p2.storage_nodes[1].first, key(4));
    // A proof is of its own root: the other block's root fails.
    EXPECT_FALSE(verify_diff_proof(d2, p2, d1.root));
    EXPECT_FALSE(verify_diff_proof(d1, p1, d2.root));
}

TEST_F(DiffProofTest, ADiffOfTheWrongShapeIsRefused) {
    genesis();
    auto [d, p] = second();
    StateDiff unsorted = d;
    std::swap(unsorted.accounts[0], unsorted.accounts[1]);
    EXPECT_EQ(verify_diff_proof(unsorted, p, d.root).error(), ProofError::kBadNode);
}

TEST_F(DiffProofTest, StorageProofsMustBeThereInAccountOrderAndNoMore) {
    genesis();
    auto [d, p] = second();
    DiffProof missing = p;
    missing.storage_nodes.pop_back();  // account 4's
    EXPECT_EQ(verify_diff_proof(d, missing, d.root).error(), ProofError::kMissingNode);
    DiffProof swapped = p;
    std::swap(swapped.storage_nodes[0], swapped.storage_nodes[1]);
    EXPECT_EQ(verify_diff_proof(d, swapped, d.root).error(), ProofError::kMissingNode);
    DiffProof extra = p;
    extra.storage_nodes.emplace_back(key(5), p.storage_nodes[0].second);
    EXPECT_EQ(verify_diff_proof(d, extra, d.root).error(), ProofError::kUnusedNode);
    DiffProof no_accounts = p;
    no_accounts.account_nodes.clear();
    EXPECT_FALSE(verify_diff_proof(d, no_accounts, d.root));
}

// A deleted account's cleared slots need no storage proof (its storage trie is gone with it); one
// given anyway is off every proven path.
TEST_F(DiffProofTest, ADeletedAccountsSlotsNeedNoStorageProof) {
    genesis();
    second();
    const Account a1 = *ws_.account(key(1)).value();
    StateDiff d;
    d.block = 3;
    d.accounts = {{key(1), a1, std::nullopt}};
    d.slots = {{key(1), key(11), word(100), {}}};
    auto [d3, p3] = apply(d);
    EXPECT_TRUE(p3.storage_nodes.empty());
    ASSERT_TRUE(verify_diff_proof(d3, p3, d3.root));
    DiffProof extra = p3;
    extra.storage_nodes.emplace_back(key(1), std::vector<Bytes>{});
    EXPECT_EQ(verify_diff_proof(d3, extra, d3.root).error(), ProofError::kUnusedNode);
}

// The proof proves the values the diff names: any other value for a key it covers fails.
TEST_F(DiffProofTest, ADiffNamingOtherValuesFails) {
    genesis();
    auto [d, p] = second();
    StateDiff other_slot = d;
    other_slot.slots[0].after = word(101);
    EXPECT_EQ(verify_diff_proof(other_slot, p, d.root).error(), ProofError::kRootMismatch);
    StateDiff not_cleared = d;
    not_cleared.slots[1].after = word(2);  // slot 12 was cleared
    not_cleared.slots[1].before = word(3);
    EXPECT_EQ(verify_diff_proof(not_cleared, p, d.root).error(), ProofError::kRootMismatch);
    StateDiff not_deleted = d;
    not_deleted.accounts[2].after = account(33);  // account 3 was deleted
    EXPECT_EQ(verify_diff_proof(not_deleted, p, d.root).error(), ProofError::kRootMismatch);
    StateDiff deleted = d;
    deleted.accounts[1].after = std::nullopt;  // account 2 still exists
    EXPECT_EQ(verify_diff_proof(deleted, p, d.root).error(), ProofError::kRootMismatch);
}

}  // namespace
}  // namespace carousel::state
