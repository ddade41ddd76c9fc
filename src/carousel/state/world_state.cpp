// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "world_state.hpp"

#include <carousel/core/keccak.hpp>
#include <carousel/trie/proof.hpp>

namespace carousel::state {

WorldState::WorldState(trie::NodeStore& nodes, CodeStore& code, const Hash& root)
    : nodes_{nodes}, code_{code}, root_{root}, accounts_{&nodes, root} {}

tl::expected<std::optional<Account>, DiffError> WorldState::account(const Hash& account_key) {
    auto v = accounts_.get(view(account_key));
    if (!v) return tl::unexpected{DiffError::kMissingNode};
    if (!*v) return std::optional<Account>{};
    ByteView in = **v;
    auto a = decode_account(in);
    if (!a || !in.empty()) return tl::unexpected{DiffError::kMissingNode};  // a stored leaf that does not decode
    return std::optional<Account>{*a};
}

tl::expected<trie::Trie*, DiffError> WorldState::storage_trie(const Hash& account_key, const Hash& storage_root) {
    auto it = storage_.find(account_key);
    if (it == storage_.end()) it = storage_.emplace(account_key, trie::Trie{&nodes_, storage_root}).first;
    return &it->second;
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
    if (auto r = validate(diff); !r) return tl::unexpected{r.error()};
    if (diff.parent_root != root_) return tl::unexpected{DiffError::kBeforeMismatch};
    storage_.clear();

    for (const Bytes& c : diff.code) code_.put_code(keccak256(c), c);

    std::size_t si = 0;
    for (std::size_t ai = 0; ai < diff.accounts.size(); ++ai) {
        const AccountChange& change = diff.accounts[ai];
        auto current = account(change.key);
        if (!current) return tl::unexpected{current.error()};
        if (*current != change.before) return tl::unexpected{DiffError::kBeforeMismatch};

        // This account's slot changes, against its storage trie as it was.
        const Hash old_storage_root = change.before ? change.before->storage_root : trie::kEmptyRoot;
        Hash new_storage_root = old_storage_root;
        if (si < diff.slots.size() && diff.slots[si].account_key == change.key) {
            auto t = storage_trie(change.key, old_storage_root);
            if (!t) return tl::unexpected{t.error()};
            for (; si < diff.slots.size() && diff.slots[si].account_key == change.key; ++si) {
                const SlotChange& s = diff.slots[si];
                auto v = (*t)->get(view(s.slot_key));
                if (!v) return tl::unexpected{DiffError::kMissingNode};
                if (v->value_or(Bytes{}) != s.before) return tl::unexpected{DiffError::kBeforeMismatch};
                if (!(*t)->put(view(s.slot_key), s.after)) return tl::unexpected{DiffError::kMissingNode};
            }
            new_storage_root = (*t)->root();
        }

        if (change.after) {
            if (seal != nullptr) seal->accounts[ai].after->storage_root = new_storage_root;
            if (new_storage_root != change.after->storage_root) return tl::unexpected{DiffError::kStorageRootMismatch};
            if (change.after->code_hash != kEmptyCodeHash && !code_.get_code(change.after->code_hash)) {
                return tl::unexpected{DiffError::kMissingCode};
            }
            if (!accounts_.put(view(change.key), encode_account(*change.after))) {
                return tl::unexpected{DiffError::kMissingNode};
            }
        } else {
            // A deleted account takes its storage along: the diff must clear every slot.
            if (new_storage_root != trie::kEmptyRoot) return tl::unexpected{DiffError::kStorageRootMismatch};
            if (!accounts_.erase(view(change.key))) return tl::unexpected{DiffError::kMissingNode};
        }
    }
    root_ = accounts_.root();
    if (seal != nullptr) seal->root = root_;
    if (root_ != diff.root) return tl::unexpected{DiffError::kRootMismatch};
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
