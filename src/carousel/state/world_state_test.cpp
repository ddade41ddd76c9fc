// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include <map>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include <carousel/core/keccak.hpp>
#include <carousel/state/roots.hpp>
#include <carousel/state/world_state.hpp>
#include <carousel/testing/values.hpp>
#include <carousel/trie/hash_builder.hpp>

namespace carousel::state {
namespace {

using carousel::testing::random_hash;
// A slot's leaf value: the RLP of a non-zero word.
Bytes slot_value(uint64_t v) { return carousel::testing::rlp_uint(v); }

// A model of the state: accounts and their slots, in hashed-key space.
struct Model {
    std::map<Hash, Account> accounts;
    std::map<Hash, std::map<Hash, Bytes>> storage;

    // The state root computed from scratch with HashBuilder.
    Hash root() const {
        trie::HashBuilder hb;
        for (auto [key, account] : accounts) {
            auto st = storage.find(key);
            if (st != storage.end() && !st->second.empty()) {
                trie::HashBuilder shb;
                for (const auto& [slot, value] : st->second) shb.add_leaf(view(slot), value);
                account.storage_root = shb.root();
            }
            hb.add_leaf(view(key), encode_account(account));
        }
        return hb.root();
    }
};

// A random block against `model`: creations, updates, deletions (with all their slots cleared),
// slot writes and clears. Storage roots and the state root are left for seal_and_apply().
StateDiff random_block(std::mt19937_64& rng, Model& model, uint64_t block) {
    StateDiff diff;
    diff.block = block;
    std::map<Hash, AccountChange> changes;
    std::map<std::pair<Hash, Hash>, SlotChange> slots;
    auto touch = [&](const Hash& key) -> AccountChange& {
        auto it = changes.find(key);
        if (it != changes.end()) return it->second;
        AccountChange c{key, std::nullopt, std::nullopt};
        auto m = model.accounts.find(key);
        if (m != model.accounts.end()) c.before = c.after = m->second;
        return changes.emplace(key, c).first->second;
    };
    const int n = 1 + static_cast<int>(rng() % 30);
    for (int i = 0; i < n; ++i) {
        const uint64_t kind = rng() % 10;
        if (kind < 2 || model.accounts.empty()) {  // create
            AccountChange& c = touch(random_hash(rng));
            c.after = Account{};
            c.after->nonce = 1;
            c.after->balance = U256{rng() % 1000};
            if (rng() % 3 == 0) {
                const Bytes code = {0x60, static_cast<uint8_t>(rng()), 0x00};
                c.after->code_hash = keccak256(code);
                diff.code.push_back(code);
            }
            continue;
        }
        auto it = model.accounts.begin();
        std::advance(it, static_cast<std::ptrdiff_t>(rng() % model.accounts.size()));
        AccountChange& c = touch(it->first);
        if (!c.after) continue;                        // deleted earlier in this block
        if (kind == 2 && model.accounts.size() > 5) {  // delete, clearing every slot
            c.after.reset();
            for (auto it2 = slots.lower_bound({c.key, Hash{}}); it2 != slots.end() && it2->first.first == c.key;) {
                it2 = slots.erase(it2);  // writes earlier in the block are undone by the deletion
            }
            for (const auto& [slot, value] : model.storage[c.key]) slots[{c.key, slot}] = {c.key, slot, value, {}};
            continue;
        }
        if (kind < 6) {
            c.after->balance = U256{rng() % 100000};
            c.after->nonce += 1;
            continue;
        }
        // Storage: write new or existing slots, sometimes clear one.
        auto& st = model.storage[c.key];
        for (int k = 0; k < 1 + static_cast<int>(rng() % 5); ++k) {
            Hash slot = random_hash(rng);
            if (!st.empty() && rng() % 2 == 0) {
                auto s = st.begin();
                std::advance(s, static_cast<std::ptrdiff_t>(rng() % st.size()));
                slot = s->first;
            }
            const Bytes before = st.count(slot) != 0 ? st.at(slot) : Bytes{};  // as it was before the block
            const Bytes after = (rng() % 4 == 0) ? Bytes{} : slot_value(1 + rng() % 1'000'000);
            if (before != after) {
                slots[{c.key, slot}] = {c.key, slot, before, after};
            } else {
                slots.erase({c.key, slot});
            }
        }
    }
    // Drop no-op changes; an account whose storage changes is changed (its storage root will be).
    for (auto& [key, c] : changes) {
        bool has_slots = false;
        for (auto it = slots.lower_bound({key, Hash{}}); it != slots.end() && it->first.first == key; ++it) {
            has_slots = true;
        }
        if (c.before == c.after && !has_slots) continue;
        if (c.before == c.after && c.after) c.after->nonce += 1;  // keep the change non-trivial
        diff.accounts.push_back(c);
    }
    for (auto& [k, s] : slots) {
        bool kept = false;
        for (const auto& a : diff.accounts) kept = kept || a.key == s.account_key;
        if (kept) diff.slots.push_back(s);
    }
    return diff;
}

void apply_to_model(Model& model, const StateDiff& diff) {
    for (const auto& s : diff.slots) {
        if (s.after.empty()) {
            model.storage[s.account_key].erase(s.slot_key);
        } else {
            model.storage[s.account_key][s.slot_key] = s.after;
        }
    }
    for (const auto& a : diff.accounts) {
        if (a.after) {
            model.accounts[a.key] = *a.after;
        } else {
            model.accounts.erase(a.key);
            model.storage.erase(a.key);
        }
    }
}

struct Chain {
    trie::MemoryNodeStore nodes;
    MemoryCodeStore code;
    std::vector<StateDiff> blocks;
    Model model;
    Hash head{trie::kEmptyRoot};

    explicit Chain(uint64_t seed, int length) {
        std::mt19937_64 rng{seed};
        WorldState ws{nodes, code};
        for (int b = 0; b < length; ++b) {
            StateDiff d = random_block(rng, model, static_cast<uint64_t>(b));
            auto r = ws.seal_and_apply(d);
            EXPECT_TRUE(r) << "block " << b << ": " << to_string(r.error());
            apply_to_model(model, d);
            blocks.push_back(std::move(d));
        }
        head = ws.root();
    }
};

TEST(WorldState, BlocksMatchRootFromScratch) {
    Chain chain{1, 60};
    EXPECT_EQ(chain.head, chain.model.root());
    // Replaying the sealed blocks on a fresh state reaches the same root, each block checked.
    trie::MemoryNodeStore nodes;
    MemoryCodeStore code;
    WorldState ws{nodes, code};
    for (const auto& d : chain.blocks) {
        auto r = ws.apply(d);
        ASSERT_TRUE(r) << to_string(r.error());
    }
    EXPECT_EQ(ws.root(), chain.head);
}

TEST(WorldState, InverseRestoresEveryRoot) {
    Chain chain{2, 40};
    WorldState ws{chain.nodes, chain.code, chain.head};
    for (auto it = chain.blocks.rbegin(); it != chain.blocks.rend(); ++it) {
        auto r = ws.apply(it->inverse());
        ASSERT_TRUE(r) << "block " << it->block << ": " << to_string(r.error());
        EXPECT_EQ(*r, it->parent_root);
    }
    EXPECT_EQ(ws.root(), trie::kEmptyRoot);
}

TEST(WorldState, ReadsAccountsAndSlotsAtAnyCommittedRoot) {
    Chain chain{3, 30};
    WorldState ws{chain.nodes, chain.code, chain.head};
    for (const auto& [key, account] : chain.model.accounts) {
        auto a = ws.account(key);
        ASSERT_TRUE(a && *a);
        EXPECT_EQ((*a)->nonce, account.nonce);
        for (const auto& [slot, value] : chain.model.storage[key]) {
            auto v = ws.storage(key, slot);
            ASSERT_TRUE(v);
            EXPECT_EQ(*v, value);
        }
        if (account.code_hash != kEmptyCodeHash) {
            EXPECT_TRUE(chain.code.get_code(account.code_hash));
        }
    }
}

TEST(WorldState, RejectsDiffsThatDoNotFit) {
    Chain chain{4, 20};
    StateDiff next = chain.blocks.back();  // already applied: its befores no longer hold
    next.parent_root = chain.head;
    WorldState ws{chain.nodes, chain.code, chain.head};
    auto r = ws.apply(next);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), DiffError::kBeforeMismatch);

    WorldState fresh{chain.nodes, chain.code, chain.blocks[5].parent_root};
    StateDiff wrong_root = chain.blocks[5];
    wrong_root.root[0] ^= 1;
    EXPECT_EQ(fresh.apply(wrong_root).error(), DiffError::kRootMismatch);

    WorldState fresh2{chain.nodes, chain.code, chain.blocks[5].parent_root};
    StateDiff wrong_parent = chain.blocks[6];
    EXPECT_EQ(fresh2.apply(wrong_parent).error(), DiffError::kBeforeMismatch);
}

// Storage tries stay open from block to block within the cache bounds; tight bounds (closing tries
// every block) and loose ones reach the same roots, forwards and back.
TEST(WorldState, StorageTriesStayOpenWithinTheirBounds) {
    Chain chain{7, 60};
    for (const StorageCacheLimits limits :
         {StorageCacheLimits{1, 4}, StorageCacheLimits{4, 1 << 10}, StorageCacheLimits{}}) {
        trie::MemoryNodeStore nodes;
        MemoryCodeStore code;
        WorldState ws{nodes, code, trie::kEmptyRoot, limits};
        for (const auto& d : chain.blocks) {
            auto r = ws.apply(d);
            ASSERT_TRUE(r) << "block " << d.block << ": " << to_string(r.error());
            EXPECT_LE(ws.open_storage_tries(), limits.max_open_tries);
        }
        EXPECT_EQ(ws.root(), chain.head);
        for (auto it = chain.blocks.rbegin(); it != chain.blocks.rend(); ++it) {
            auto r = ws.apply(it->inverse());
            ASSERT_TRUE(r) << "block " << it->block << ": " << to_string(r.error());
        }
        EXPECT_EQ(ws.root(), trie::kEmptyRoot);
    }
}

// A block that fails after writing storage tries closes them all: nothing of it is kept.
TEST(WorldState, FailedBlockClosesItsStorageTries) {
    Chain chain{8, 20};
    WorldState ws{chain.nodes, chain.code};
    for (std::size_t b = 0; b + 1 < chain.blocks.size(); ++b) ASSERT_TRUE(ws.apply(chain.blocks[b]));
    ASSERT_GT(ws.open_storage_tries(), 0U);
    StateDiff last = chain.blocks.back();
    ASSERT_FALSE(last.slots.empty());
    last.root[0] ^= 1;
    EXPECT_EQ(ws.apply(last).error(), DiffError::kRootMismatch);
    EXPECT_EQ(ws.open_storage_tries(), 0U);
    WorldState reopened{chain.nodes, chain.code, chain.blocks.back().parent_root};
    auto r = reopened.apply(chain.blocks.back());
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, chain.head);
}

// seal_and_apply takes a change to an account's storage alone, its `after` equal to its `before`:
// the storage root it fills in is the change. Without slot changes such an account is a no-op, and
// apply() (roots given) still rejects a change whose before equals its after.
TEST(WorldState, SealsStorageOnlyChanges) {
    trie::MemoryNodeStore nodes;
    MemoryCodeStore code;
    WorldState ws{nodes, code};
    const Hash contract = keccak256(view("contract"));
    const Hash other = keccak256(view("other"));
    StateDiff genesis;
    genesis.accounts.push_back({contract, std::nullopt, Account{}});
    genesis.accounts.back().after->nonce = 1;
    ASSERT_TRUE(ws.seal_and_apply(genesis));

    StateDiff block;
    block.block = 1;
    block.accounts.push_back({contract, genesis.accounts[0].after, genesis.accounts[0].after});
    block.slots.push_back({contract, keccak256(view("slot")), {}, slot_value(7)});
    StateDiff unsealed = block;
    auto r = ws.seal_and_apply(block);
    ASSERT_TRUE(r) << to_string(r.error());
    EXPECT_NE(block.accounts[0].after->storage_root, trie::kEmptyRoot);
    EXPECT_TRUE(validate(block));  // sealed, it is an ordinary diff

    Model model;
    model.accounts[contract] = *genesis.accounts[0].after;
    model.storage[contract][block.slots[0].slot_key] = slot_value(7);
    EXPECT_EQ(*r, model.root());

    unsealed.parent_root = block.root;
    EXPECT_EQ(validate(unsealed).error(), DiffError::kNoOpChange);
    StateDiff no_slots;
    no_slots.block = 2;
    no_slots.accounts.push_back({contract, block.accounts[0].after, block.accounts[0].after});
    EXPECT_EQ(ws.seal_and_apply(no_slots).error(), DiffError::kNoOpChange);
    // A deletion that is a no-op (absent before and after) stays one, slots or not.
    StateDiff absent;
    absent.accounts.push_back({other, std::nullopt, std::nullopt});
    EXPECT_EQ(validate(absent, /*sealing=*/true).error(), DiffError::kNoOpChange);
}

TEST(StateDiff, ValidatesShape) {
    Chain chain{5, 10};
    const StateDiff& good = chain.blocks[3];
    ASSERT_TRUE(validate(good));
    ASSERT_GE(good.accounts.size(), 2U);
    StateDiff bad = good;
    std::swap(bad.accounts[0], bad.accounts[1]);
    EXPECT_EQ(validate(bad).error(), DiffError::kNotSorted);
    bad = good;
    bad.accounts[0].after = bad.accounts[0].before;
    EXPECT_EQ(validate(bad).error(), DiffError::kNoOpChange);
    bad = good;
    bad.slots.push_back({Hash{0xff, 0xff}, Hash{}, {}, slot_value(5)});
    EXPECT_EQ(validate(bad).error(), DiffError::kOrphanSlot);
    if (!good.slots.empty()) {
        bad = good;
        bad.slots[0].after = Bytes{0x81, 0x01};  // non-canonical single byte
        EXPECT_EQ(validate(bad).error(), DiffError::kBadSlotValue);
    }
}

TEST(StateDiff, RlpRoundTripAndStrictDecode) {
    Chain chain{6, 25};
    for (const auto& d : chain.blocks) {
        const Bytes enc = encode_state_diff(d);
        auto dec = decode_state_diff(enc);
        ASSERT_TRUE(dec) << to_string(dec.error());
        EXPECT_EQ(*dec, d);
        for (std::size_t len = 0; len < enc.size(); len += 1 + enc.size() / 50) {
            EXPECT_FALSE(decode_state_diff(ByteView{enc}.substr(0, len)));
        }
        EXPECT_FALSE(decode_state_diff(enc + Bytes{0x00}));
    }
}

// A genesis (block 0) is a whole state: it decodes past the per-block caps, within kStateDiffLimits;
// any other block keeps the per-block caps; explicit limits apply as given.
TEST(StateDiff, DecodeLimitsDependOnTheBlock) {
    StateDiff big;
    for (std::size_t i = 0; i <= kBlockDiffLimits.code; ++i) {
        Bytes c(3, 0);
        c[0] = static_cast<uint8_t>(i);
        c[1] = static_cast<uint8_t>(i >> 8);
        big.code.push_back(std::move(c));
    }
    big.block = 0;
    auto genesis = decode_state_diff(encode_state_diff(big));
    ASSERT_TRUE(genesis) << to_string(genesis.error());
    EXPECT_EQ(genesis->code.size(), kBlockDiffLimits.code + 1);
    big.block = 1;
    EXPECT_EQ(decode_state_diff(encode_state_diff(big)).error(), DiffError::kTooLarge);
    EXPECT_TRUE(decode_state_diff(encode_state_diff(big), kStateDiffLimits));

    big.block = 0;
    DiffLimits tight = kStateDiffLimits;
    tight.code = 100;
    EXPECT_EQ(decode_state_diff(encode_state_diff(big), tight).error(), DiffError::kTooLarge);
    tight = kStateDiffLimits;
    tight.code_size = 2;
    EXPECT_EQ(decode_state_diff(encode_state_diff(big), tight).error(), DiffError::kTooLarge);

    Chain chain{9, 5};
    const Bytes enc = encode_state_diff(chain.blocks[2]);
    DiffLimits few = kBlockDiffLimits;
    few.accounts = chain.blocks[2].accounts.size() - 1;
    EXPECT_EQ(decode_state_diff(enc, few).error(), DiffError::kTooLarge);
    if (!chain.blocks[2].slots.empty()) {
        few = kBlockDiffLimits;
        few.slots = chain.blocks[2].slots.size() - 1;
        EXPECT_EQ(decode_state_diff(enc, few).error(), DiffError::kTooLarge);
    }
    EXPECT_EQ(decode_state_diff(Bytes{0xc0}).error(), DiffError::kBadEncoding);  // no block number
}

TEST(DiffProof, VerifiesEveryBlockAndRejectsEveryMutation) {
    Chain chain{7, 30};
    // Rebuild block by block so that each block's proof is taken at its own root.
    trie::MemoryNodeStore nodes;
    MemoryCodeStore code;
    WorldState ws{nodes, code};
    std::mt19937_64 rng{99};
    int mutations = 0;
    for (const auto& d : chain.blocks) {
        ASSERT_TRUE(ws.apply(d));
        auto proof = ws.prove(d);
        ASSERT_TRUE(proof);
        auto ok = verify_diff_proof(d, *proof, d.root);
        ASSERT_TRUE(ok) << "block " << d.block << ": " << trie::to_string(ok.error());

        // Wrong root.
        Hash other = d.root;
        other[31] ^= 1;
        EXPECT_FALSE(verify_diff_proof(d, *proof, other));
        // A changed account value.
        for (std::size_t i = 0; i < d.accounts.size(); ++i) {
            StateDiff bad = d;
            if (bad.accounts[i].after) {
                bad.accounts[i].after->balance = U256{123456789};
            } else {
                bad.accounts[i].after = Account{};
            }
            EXPECT_FALSE(verify_diff_proof(bad, *proof, d.root));
            ++mutations;
        }
        // A changed slot value or key.
        for (std::size_t i = 0; i < d.slots.size(); ++i) {
            StateDiff bad = d;
            bad.slots[i].after = bad.slots[i].after.empty() ? slot_value(7) : Bytes{};
            if (bad.slots[i].after == bad.slots[i].before) continue;
            EXPECT_FALSE(verify_diff_proof(bad, *proof, d.root));
            // A written slot's key moved: the proof shows the new key absent or holding another value.
            // (A cleared slot's key moved to another absent key is still a true statement: the proof of
            // a diff proves the values it names, not that nothing else changed; see diff_proof.hpp.)
            StateDiff bad_key = d;
            bad_key.slots[i].slot_key[31] ^= 1;
            if (!d.slots[i].after.empty() && validate(bad_key)) {
                EXPECT_FALSE(verify_diff_proof(bad_key, *proof, d.root));
            }
            ++mutations;
        }
        // A changed account key.
        StateDiff bad_key = d;
        bad_key.accounts[0].key[31] ^= 1;
        if (d.accounts[0].after && validate(bad_key)) {
            EXPECT_FALSE(verify_diff_proof(bad_key, *proof, d.root));
        }
        // Every node byte (sampled).
        for (std::size_t n = 0; n < proof->account_nodes.size(); ++n) {
            DiffProof bad = *proof;
            Bytes& node = bad.account_nodes[n];
            node[rng() % node.size()] ^= 0x40;
            EXPECT_FALSE(verify_diff_proof(d, bad, d.root));
            DiffProof dropped = *proof;
            dropped.account_nodes.erase(dropped.account_nodes.begin() + static_cast<std::ptrdiff_t>(n));
            EXPECT_FALSE(verify_diff_proof(d, dropped, d.root));
            ++mutations;
        }
        for (std::size_t a = 0; a < proof->storage_nodes.size(); ++a) {
            for (std::size_t n = 0; n < proof->storage_nodes[a].second.size(); ++n) {
                DiffProof bad = *proof;
                Bytes& node = bad.storage_nodes[a].second[n];
                node[rng() % node.size()] ^= 0x40;
                EXPECT_FALSE(verify_diff_proof(d, bad, d.root));
                ++mutations;
            }
            DiffProof no_storage = *proof;
            no_storage.storage_nodes.erase(no_storage.storage_nodes.begin() + static_cast<std::ptrdiff_t>(a));
            EXPECT_FALSE(verify_diff_proof(d, no_storage, d.root));
        }
    }
    EXPECT_GT(mutations, 200);
}

}  // namespace
}  // namespace carousel::state

namespace carousel::state {
namespace {

// An account written with a code hash whose code is neither in the store nor in the diff is
// refused (kMissingCode); with the code in the diff, the same block applies.
TEST(WorldState, RefusesAccountsWhoseCodeIsMissing) {
    const Bytes code = to_bytes("contract code");
    StateDiff diff;
    diff.block = 1;
    diff.parent_root = trie::kEmptyRoot;
    Account a;
    a.nonce = 1;
    a.code_hash = keccak256(code);
    diff.accounts.push_back({keccak256(to_bytes("address")), std::nullopt, a});

    trie::MemoryNodeStore nodes;
    MemoryCodeStore store;
    EXPECT_FALSE(store.has_code(a.code_hash));
    WorldState ws{nodes, store};
    StateDiff without_code = diff;
    auto r = ws.seal_and_apply(without_code);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), DiffError::kMissingCode);

    WorldState fresh{nodes, store};
    StateDiff with_code = diff;
    with_code.code.push_back(code);
    ASSERT_TRUE(fresh.seal_and_apply(with_code));
    EXPECT_TRUE(store.has_code(a.code_hash));
    EXPECT_EQ(fresh.root(), with_code.root);
}

}  // namespace
}  // namespace carousel::state
