// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "world_state.hpp"

#include <algorithm>
#include <vector>

#include <carousel/core/keccak.hpp>
#include <carousel/trie/proof.hpp>

namespace carousel::state {

namespace {
// A block's changes (or slot changes) below this are done on the caller alone: fewer are not worth a
// wake-up of the helper thread.
constexpr std::size_t kMinParallelChanges = 64;
}  // namespace

WorldState::WorldState(trie::NodeStore& nodes, CodeStore& code, const Hash& root, const StorageCacheLimits& limits,
                       bool parallel)
    : fork_{std::make_unique<ForkJoin>(parallel)},
      nodes_{nodes},
      code_{code},
      root_{root},
      accounts_{&nodes, root},
      limits_{limits} {}

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
    std::vector<trie::Trie> closing;
    for (const auto& [last_used, key] : by_age) {
        if (storage_.size() <= max_tries && storage_loaded_ <= max_loaded) break;
        if (auto t = take_storage_trie(key)) closing.push_back(std::move(*t));
    }
    // Freeing their nodes (tens of thousands) is most of the work: every other trie on the helper
    // thread. A closed trie touches no store.
    auto free_every_other = [&closing](std::size_t first) {
        for (std::size_t i = first; i < closing.size(); i += 2) closing[i] = trie::Trie{};
    };
    fork_->run([&] { free_every_other(0); }, [&] { free_every_other(1); });
}

std::optional<trie::Trie> WorldState::take_storage_trie(const Hash& account_key) {
    auto it = storage_.find(account_key);
    if (it == storage_.end()) return std::nullopt;
    storage_loaded_ -= it->second.trie.loaded_nodes();
    trie::Trie t = std::move(it->second.trie);
    storage_.erase(it);
    return t;
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

std::optional<WorldState::SlotFailure> WorldState::change_slots(const StateDiff& diff, std::size_t begin,
                                                                std::size_t end,
                                                                std::span<trie::Trie* const> slot_tries) {
    // Keys are walked in groups, the paths of a group prefetched together (trie::Trie::prefetch: their
    // cache misses overlap) right before the group is updated, while the paths are still in cache.
    constexpr std::size_t kGroup = 128;
    std::vector<trie::Trie::KeyOf> keys;
    keys.reserve(kGroup);
    Bytes old;
    for (std::size_t group = begin; group < end; group += kGroup) {
        const std::size_t group_end = std::min(end, group + kGroup);
        keys.clear();
        for (std::size_t si = group; si < group_end; ++si)
            keys.push_back({slot_tries[si], view(diff.slots[si].slot_key)});
        trie::Trie::prefetch(keys);
        for (std::size_t si = group; si < group_end; ++si) {
            const SlotChange& s = diff.slots[si];
            if (!slot_tries[si]->exchange(view(s.slot_key), s.after, old)) return SlotFailure{si, true};
            if (old != s.before) return SlotFailure{si, false};
        }
    }
    return std::nullopt;
}

tl::expected<Hash, DiffError> WorldState::apply_changes(const StateDiff& diff, StateDiff* seal) {
    // 1. Open the storage tries the block writes, while the helper validates the diff (both only read
    // it, and the first touches of its memory are most of either's cost; the steady 1M-account block
    // of chain_apply_block, 6 alternating pairs: 4.04 -> 3.73 ms median). Opening needs no valid
    // diff: the tries an invalid one opens are closed with the rest when apply() fails.
    ++applies_;
    std::vector<trie::Trie*> tries;    // the storage tries written, in account order
    std::vector<OpenStorage*> opened;  // and where each is kept (stable: storage_ is node-based)
    std::vector<std::size_t> trie_of;  // per account: its index in `tries`, or kNone
    std::vector<std::size_t> loaded_before;
    std::vector<std::size_t> account_of(diff.slots.size());  // per slot: its account's index
    std::vector<trie::Trie*> slot_tries(diff.slots.size());  // per slot: its storage trie
    std::vector<std::size_t> first_slot;                     // per trie: its first slot
    constexpr std::size_t kNone = ~std::size_t{0};
    auto open_tries = [&] {
        trie_of.assign(diff.accounts.size(), kNone);
        for (std::size_t ai = 0, si = 0; ai < diff.accounts.size(); ++ai) {
            const AccountChange& change = diff.accounts[ai];
            if (si == diff.slots.size() || diff.slots[si].account_key != change.key) continue;
            const Hash old_storage_root = change.before ? change.before->storage_root : trie::kEmptyRoot;
            OpenStorage& open = storage_trie(change.key, old_storage_root);
            trie_of[ai] = tries.size();
            tries.push_back(&open.trie);
            opened.push_back(&open);
            first_slot.push_back(si);
            loaded_before.push_back(open.trie.loaded_nodes());
            for (; si < diff.slots.size() && diff.slots[si].account_key == change.key; ++si) {
                account_of[si] = ai;
                slot_tries[si] = &open.trie;
            }
        }
    };
    tl::expected<void, DiffError> valid;
    auto check = [&] { valid = validate(diff, /*sealing=*/seal != nullptr); };
    if (diff.accounts.size() + diff.slots.size() >= kMinParallelChanges) {
        fork_->run(open_tries, check);
    } else if (check(); valid) {
        open_tries();
    }
    if (!valid) return tl::unexpected{valid.error()};
    if (diff.parent_root != root_) return tl::unexpected{DiffError::kBeforeMismatch};

    for (const Bytes& c : diff.code) code_.put_code(keccak256(c), c);

    // 2. The slot changes, each checked against its storage trie as it was (one walk per slot, which
    // returns the value it replaces), and 3. the new storage roots, hashed together. With two threads,
    // the tries are split in two groups of about half the slots each (a trie's slots are contiguous).
    // Both threads read the store while they change slots; then, hashing, they read none, and both
    // write their new nodes to it, one batch at a time.
    std::vector<Hash> storage_roots(tries.size());
    std::size_t split = tries.size();  // the first trie of the second group
    if (fork_->parallel() && nodes_.concurrent_reads() && diff.slots.size() >= kMinParallelChanges) {
        split = 1;
        while (split + 1 < tries.size() && first_slot[split] < diff.slots.size() / 2) ++split;
    }
    std::optional<SlotFailure> failure;
    if (split < tries.size()) {
        const std::size_t middle = first_slot[split];
        std::optional<SlotFailure> second_failure;
        fork_->run([&] { failure = change_slots(diff, 0, middle, slot_tries); },
                   [&] { second_failure = change_slots(diff, middle, diff.slots.size(), slot_tries); });
        if (!failure) failure = second_failure;
        if (!failure) {
            const std::span<trie::Trie* const> all{tries};
            const std::span<Hash> roots{storage_roots};
            trie::LockedNodeStore writes{nodes_};
            fork_->run([&] { trie::Trie::roots(all.first(split), roots.first(split), writes); },
                       [&] { trie::Trie::roots(all.subspan(split), roots.subspan(split), writes); });
        }
    } else {
        failure = change_slots(diff, 0, diff.slots.size(), slot_tries);
        if (!failure) trie::Trie::roots(tries, storage_roots);
    }
    for (std::size_t i = 0; i < tries.size(); ++i) storage_loaded_ += tries[i]->loaded_nodes() - loaded_before[i];
    if (failure) {
        if (!failure->unreadable) return tl::unexpected{DiffError::kBeforeMismatch};
        // A storage trie that cannot be read may have been opened at a root the account never had:
        // then the account's `before` is what is wrong.
        const AccountChange& change = diff.accounts[account_of[failure->slot]];
        auto current = account(change.key);
        if (!current) return tl::unexpected{current.error()};
        return tl::unexpected{*current != change.before ? DiffError::kBeforeMismatch : DiffError::kMissingNode};
    }

    // 4. The accounts, each checked against its `before` by the value its update replaces.
    auto new_storage_root = [&](std::size_t ai) -> const Hash& {
        const AccountChange& change = diff.accounts[ai];
        if (trie_of[ai] != kNone) return storage_roots[trie_of[ai]];
        return change.before ? change.before->storage_root : trie::kEmptyRoot;
    };
    std::vector<std::size_t> value_end(diff.accounts.size());
    account_values_.clear();
    for (std::size_t ai = 0; ai < diff.accounts.size(); ++ai) {
        const AccountChange& change = diff.accounts[ai];
        if (trie_of[ai] != kNone) opened[trie_of[ai]]->root = storage_roots[trie_of[ai]];
        if (change.after) {
            Account after = *change.after;
            after.storage_root = new_storage_root(ai);  // a mismatch with the diff's fails below
            encode_account(account_values_, after);
        }
        value_end[ai] = account_values_.size();
    }
    replaced_values_.resize(std::max(replaced_values_.size(), diff.accounts.size()));
    std::vector<trie::Trie::Update> updates(diff.accounts.size());
    for (std::size_t ai = 0, at = 0; ai < diff.accounts.size(); at = value_end[ai++]) {
        updates[ai] = {view(diff.accounts[ai].key), ByteView{account_values_}.substr(at, value_end[ai] - at),
                       &replaced_values_[ai]};
    }
    auto made = accounts_.exchange_all(updates, *fork_);
    const std::size_t checked = made ? diff.accounts.size() : made.error().index;
    for (std::size_t ai = 0; ai < checked; ++ai) {
        const AccountChange& change = diff.accounts[ai];
        std::optional<Account> current;
        if (const Bytes& old = replaced_values_[ai]; !old.empty()) {
            ByteView in = old;
            auto a = decode_account(in);
            // A stored leaf that does not decode.
            if (!a || !in.empty()) return tl::unexpected{DiffError::kMissingNode};
            current = *a;
        }
        if (current != change.before) return tl::unexpected{DiffError::kBeforeMismatch};
        const Hash storage_root = new_storage_root(ai);
        if (change.after) {
            if (seal != nullptr) seal->accounts[ai].after->storage_root = storage_root;
            if (storage_root != change.after->storage_root) return tl::unexpected{DiffError::kStorageRootMismatch};
            // Code is checked when an account's code hash is new (the code of the one it had was).
            const bool new_code = !change.before || change.before->code_hash != change.after->code_hash;
            if (new_code && change.after->code_hash != kEmptyCodeHash && !code_.has_code(change.after->code_hash)) {
                return tl::unexpected{DiffError::kMissingCode};
            }
        } else {
            // A deleted account takes its storage along: the diff must clear every slot.
            if (storage_root != trie::kEmptyRoot) return tl::unexpected{DiffError::kStorageRootMismatch};
            (void)take_storage_trie(change.key);  // closes it (freed here)
        }
    }
    if (!made) return tl::unexpected{DiffError::kMissingNode};
    root_ = accounts_.root(*fork_);
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
