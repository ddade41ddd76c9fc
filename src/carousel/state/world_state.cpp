// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "world_state.hpp"

#include <algorithm>
#include <vector>

#include <carousel/core/keccak.hpp>
#include <carousel/trie/proof.hpp>

namespace carousel::state {

WorldState::WorldState(trie::NodeStore& nodes, CodeStore& code, const Hash& root, const StorageCacheLimits& limits)
    : nodes_{nodes}, code_{code}, root_{root}, accounts_{&nodes, root}, limits_{limits} {}

tl::expected<std::optional<Account>, DiffError> WorldState::account(const Hash& account_key) {
    auto v = accounts_.get(view(account_key));
    if (!v) return tl::unexpected{DiffError::kMissingNode};
    if (!*v) return std::optional<Account>{};
    ByteView in = **v;
    auto a = decode_account(in);
    if (!a || !in.empty()) return tl::unexpected{DiffError::kMissingNode};  // a stored leaf that does not decode
    return std::optional<Account>{*a};
}

WorldState::OpenStorage& WorldState::storage_trie(const Hash& account_key, const Hash& storage_root) {
    auto it = storage_.find(account_key);
    if (it == storage_.end()) {
        it = storage_.emplace(account_key, OpenStorage{trie::Trie{&nodes_, storage_root}, storage_root, 0}).first;
    } else if (it->second.root != storage_root) {
        // A trie left at another root (it should not be: apply() closes them all when it fails) is
        // reopened rather than trusted.
        storage_loaded_ -= it->second.trie.loaded_nodes();
        it->second = OpenStorage{trie::Trie{&nodes_, storage_root}, storage_root, 0};
    }
    it->second.last_used = applies_;
    return it->second;
}

void WorldState::trim_storage_tries() {
    if (storage_.size() <= limits_.max_open_tries && storage_loaded_ <= limits_.max_nodes_loaded) return;
    // Down to three quarters of the bounds, so that this sort runs now and then, not every block.
    const std::size_t max_tries = limits_.max_open_tries / 4 * 3;
    const std::size_t max_loaded = limits_.max_nodes_loaded / 4 * 3;
    std::vector<std::pair<uint64_t, Hash>> by_age;
    by_age.reserve(storage_.size());
    for (const auto& [key, open] : storage_) by_age.emplace_back(open.last_used, key);
    std::sort(by_age.begin(), by_age.end());
    for (const auto& [last_used, key] : by_age) {
        if (storage_.size() <= max_tries && storage_loaded_ <= max_loaded) break;
        close_storage_trie(key);
    }
}

void WorldState::close_storage_trie(const Hash& account_key) {
    auto it = storage_.find(account_key);
    if (it == storage_.end()) return;
    storage_loaded_ -= it->second.trie.loaded_nodes();
    storage_.erase(it);
}

tl::expected<Bytes, DiffError> WorldState::storage(const Hash& account_key, const Hash& slot_key) {
    auto a = account(account_key);
    if (!a) return tl::unexpected{a.error()};
    if (!*a) return Bytes{};
    trie::Trie t{&nodes_, (*a)->storage_root};
    auto v = t.get(view(slot_key));
    if (!v) return tl::unexpected{DiffError::kMissingNode};
    return v->value_or(Bytes{});
}

tl::expected<Hash, DiffError> WorldState::apply(const StateDiff& diff) { return apply_impl(diff, nullptr); }

tl::expected<Hash, DiffError> WorldState::seal_and_apply(StateDiff& diff) {
    diff.parent_root = root_;
    return apply_impl(diff, &diff);
}

tl::expected<Hash, DiffError> WorldState::apply_impl(const StateDiff& diff, StateDiff* seal) {
    auto r = apply_changes(diff, seal);
    if (!r) {  // tries the failed block wrote are not at any state's roots
        storage_.clear();
        storage_loaded_ = 0;
    }
    return r;
}

tl::expected<Hash, DiffError> WorldState::apply_changes(const StateDiff& diff, StateDiff* seal) {
    if (auto r = validate(diff, /*sealing=*/seal != nullptr); !r) return tl::unexpected{r.error()};
    if (diff.parent_root != root_) return tl::unexpected{DiffError::kBeforeMismatch};
    ++applies_;

    for (const Bytes& c : diff.code) code_.put_code(keccak256(c), c);

    // Keys are walked in groups, the paths of a group prefetched together (trie::Trie::prefetch: their
    // cache misses overlap) right before the group is updated, while the paths are still in cache.
    constexpr std::size_t kGroup = 128;
    std::vector<trie::Trie::KeyOf> keys;
    keys.reserve(kGroup);

    // 1. Open the storage tries the block writes.
    std::vector<trie::Trie*> tries;    // the storage tries written, in account order
    std::vector<OpenStorage*> opened;  // and where each is kept (stable: storage_ is node-based)
    std::vector<std::size_t> trie_of;  // per account: its index in `tries`, or kNone
    std::vector<std::size_t> loaded_before;
    std::vector<std::size_t> account_of(diff.slots.size());  // per slot: its account's index
    constexpr std::size_t kNone = ~std::size_t{0};
    trie_of.assign(diff.accounts.size(), kNone);
    for (std::size_t ai = 0, si = 0; ai < diff.accounts.size(); ++ai) {
        const AccountChange& change = diff.accounts[ai];
        if (si == diff.slots.size() || diff.slots[si].account_key != change.key) continue;
        const Hash old_storage_root = change.before ? change.before->storage_root : trie::kEmptyRoot;
        OpenStorage& open = storage_trie(change.key, old_storage_root);
        trie_of[ai] = tries.size();
        tries.push_back(&open.trie);
        opened.push_back(&open);
        loaded_before.push_back(open.trie.loaded_nodes());
        for (; si < diff.slots.size() && diff.slots[si].account_key == change.key; ++si) account_of[si] = ai;
    }

    // 2. The slot changes, each checked against its storage trie as it was: one walk per slot, which
    // returns the value it replaces. A storage trie that cannot be read may have been opened at a
    // root the account never had: then the account's `before` (checked in 4) is what is wrong.
    auto storage_error = [this](const AccountChange& change) {
        auto current = account(change.key);
        if (!current) return current.error();
        return *current != change.before ? DiffError::kBeforeMismatch : DiffError::kMissingNode;
    };
    Bytes old;
    for (std::size_t group = 0; group < diff.slots.size(); group += kGroup) {
        const std::size_t end = std::min(diff.slots.size(), group + kGroup);
        keys.clear();
        for (std::size_t si = group; si < end; ++si) {
            keys.push_back({tries[trie_of[account_of[si]]], view(diff.slots[si].slot_key)});
        }
        trie::Trie::prefetch(keys);
        for (std::size_t si = group; si < end; ++si) {
            const SlotChange& s = diff.slots[si];
            const AccountChange& change = diff.accounts[account_of[si]];
            if (!tries[trie_of[account_of[si]]]->exchange(view(s.slot_key), s.after, old)) {
                return tl::unexpected{storage_error(change)};
            }
            if (old != s.before) return tl::unexpected{DiffError::kBeforeMismatch};
        }
    }
    for (std::size_t i = 0; i < tries.size(); ++i) storage_loaded_ += tries[i]->loaded_nodes() - loaded_before[i];

    // 3. The new storage roots, hashed together.
    std::vector<Hash> storage_roots(tries.size());
    trie::Trie::roots(tries, storage_roots);

    // 4. The accounts, each checked against its `before` by the value its update replaces.
    Bytes value;
    for (std::size_t ai = 0; ai < diff.accounts.size(); ++ai) {
        if (ai % kGroup == 0) {
            keys.clear();
            for (std::size_t i = ai; i < std::min(diff.accounts.size(), ai + kGroup); ++i) {
                keys.push_back({&accounts_, view(diff.accounts[i].key)});
            }
            trie::Trie::prefetch(keys);
        }
        const AccountChange& change = diff.accounts[ai];
        Hash new_storage_root = change.before ? change.before->storage_root : trie::kEmptyRoot;
        if (trie_of[ai] != kNone) {
            new_storage_root = storage_roots[trie_of[ai]];
            opened[trie_of[ai]]->root = new_storage_root;
        }
        value.clear();
        if (change.after) {
            Account after = *change.after;
            after.storage_root = new_storage_root;  // a mismatch with the diff's fails below
            encode_account(value, after);
        }
        if (!accounts_.exchange(view(change.key), value, old)) return tl::unexpected{DiffError::kMissingNode};
        std::optional<Account> current;
        if (!old.empty()) {
            ByteView in = old;
            auto a = decode_account(in);
            // A stored leaf that does not decode.
            if (!a || !in.empty()) return tl::unexpected{DiffError::kMissingNode};
            current = *a;
        }
        if (current != change.before) return tl::unexpected{DiffError::kBeforeMismatch};
        if (change.after) {
            if (seal != nullptr) seal->accounts[ai].after->storage_root = new_storage_root;
            if (new_storage_root != change.after->storage_root) return tl::unexpected{DiffError::kStorageRootMismatch};
            if (change.after->code_hash != kEmptyCodeHash && !code_.has_code(change.after->code_hash)) {
                return tl::unexpected{DiffError::kMissingCode};
            }
        } else {
            // A deleted account takes its storage along: the diff must clear every slot.
            if (new_storage_root != trie::kEmptyRoot) return tl::unexpected{DiffError::kStorageRootMismatch};
            close_storage_trie(change.key);
        }
    }
    root_ = accounts_.root();
    if (seal != nullptr) seal->root = root_;
    if (root_ != diff.root) return tl::unexpected{DiffError::kRootMismatch};
    trim_storage_tries();
    return root_;
}

tl::expected<DiffProof, DiffError> WorldState::prove(const StateDiff& diff) {
    DiffProof proof;
    std::vector<Bytes> keys;
    keys.reserve(diff.accounts.size());
    for (const auto& a : diff.accounts) keys.emplace_back(view(a.key));
    auto nodes = accounts_.prove(keys);
    if (!nodes) return tl::unexpected{DiffError::kMissingNode};
    proof.account_nodes = std::move(*nodes);

    std::size_t si = 0;
    for (const auto& a : diff.accounts) {
        std::vector<Bytes> slot_keys;
        for (; si < diff.slots.size() && diff.slots[si].account_key == a.key; ++si) {
            slot_keys.emplace_back(view(diff.slots[si].slot_key));
        }
        if (slot_keys.empty() || !a.after) continue;
        trie::Trie t{&nodes_, a.after->storage_root};
        auto storage_nodes = t.prove(slot_keys);
        if (!storage_nodes) return tl::unexpected{DiffError::kMissingNode};
        proof.storage_nodes.emplace_back(a.key, std::move(*storage_nodes));
    }
    return proof;
}

}  // namespace carousel::state
