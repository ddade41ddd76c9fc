// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// StateStore's checks of its own data: at open (load: the import marker, the "state" record, the
// window roots; check_flat_index: the flat index against the head trie at a few probes and the head
// block's diff) and verify(), the full check.
#include <string>
#include <unordered_set>

#include <carousel/core/hex.hpp>
#include <carousel/core/keccak.hpp>
#include <carousel/trie/hash_builder.hpp>
#include <carousel/trie/trie.hpp>

#include "state_store.hpp"
#include "state_store_format.hpp"
#include "state_store_overlay.hpp"

namespace carousel::store {

using namespace state_format;  // the store's own format (state_store_format.hpp)

Status StateStore::load() {
    Bytes v;
    Status s = kv_.get(Column::kMeta, view(kImportKey), v);
    if (s.ok()) {
        // A genesis import that did not finish: nothing of it was ever a committed state. (Both a
        // marker and a state record cannot come from a StateStore: refuse rather than wipe a state.)
        s = kv_.get(Column::kMeta, view(kStateKey), v);
        if (s.ok()) {
            return Status::corruption(
                R"(column meta holds both a "state" record and an "import" marker: the state store is damaged)");
        }
        if (!s.is_not_found()) return s;
        if (Status w = wipe(); !w.ok()) return w;
    } else if (!s.is_not_found()) {
        return s;
    }

    s = kv_.get(Column::kMeta, view(kStateKey), v);
    if (s.is_not_found()) {
        for (Column c : kOwnColumns) {
            auto it = kv_.new_iterator(c);
            it->seek_to_first();
            if (it->valid()) {
                return Status::corruption("no \"state\" record in column meta, but column " +
                                          std::string{to_string(c)} +
                                          " holds data: not a carousel state store, or one that lost its meta record");
            }
            if (!it->status().ok()) return it->status();
        }
        reset_world();
        return {};
    }
    if (!s.ok()) return s;
    if (s = decode_state(v, head_, window_); !s.ok()) return s;

    for (const auto& br : window_) {
        if (br.root == trie::kEmptyRoot) continue;
        s = kv_.get(Column::kTrieNodes, view(br.root), v);
        const std::string which = br.block == *head_.block ? "the head root " : "the window root ";
        if (s.is_not_found()) {
            return Status::corruption(which + hex(br.root) + " of block " + std::to_string(br.block) +
                                      " is missing from column trie_nodes");
        }
        if (!s.ok()) return s;
        if (!decode_node_value(v)) return malformed_node(br.root);
    }
    reset_world();
    return check_flat_index();
}

// The cheap consistency check of the flat index against the head trie (see Options::open_probes).
Status StateStore::check_flat_index() {
    const std::string at =
        " (head block " + std::to_string(head_.block.value_or(0)) + ", root " + hex(head_.root) + ")";
    auto disagree = [&](const std::string& what) {
        return Status::corruption("the flat index disagrees with the head state" + at + ": " + what);
    };
    auto missing = [&](trie::TrieError e) {
        return Status::corruption("the head state" + at + " cannot be read: " + std::string{to_string(e)});
    };

    if (head_.root == trie::kEmptyRoot) {
        for (Column c : {Column::kAccountLeaves, Column::kStorageLeaves}) {
            auto it = kv_.new_iterator(c);
            it->seek_to_first();
            if (it->valid()) return disagree("the state is empty but column " + std::string{to_string(c)} + " is not");
            if (!it->status().ok()) return it->status();
        }
        return {};
    }

    // Probes: the first leaf after a pseudo-random key, in the trie and in the flat index.
    trie::Trie accounts{read_nodes_.get(), head_.root};
    auto flat_accounts = kv_.new_iterator(Column::kAccountLeaves);
    for (uint32_t i = 0; i < options_.open_probes; ++i) {
        Bytes seed{view(head_.root)};
        put_be(seed, i, 4);
        const Hash probe = keccak256(seed);
        auto want = accounts.next_key(view(probe));
        if (!want) return missing(want.error());
        flat_accounts->seek(view(probe));
        if (flat_accounts->valid() && flat_accounts->key() == view(probe)) flat_accounts->next();
        if (!flat_accounts->status().ok()) return flat_accounts->status();
        const std::optional<Bytes> got =
            flat_accounts->valid() ? std::optional<Bytes>{flat_accounts->key()} : std::nullopt;
        if (got != *want) {
            return disagree("the first account after " + hex(probe) + " is " +
                            (*want ? to_hex_prefixed(**want) : std::string{"none"}) + " in the trie but " +
                            (got ? to_hex_prefixed(*got) : std::string{"none"}) + " in the flat index");
        }
        if (!got) continue;
        auto value = accounts.get(*got);
        if (!value) return missing(value.error());
        if (!*value || **value != flat_accounts->value()) {
            return disagree("account " + to_hex_prefixed(*got) + " differs between the trie and the flat index");
        }
        ByteView in = **value;
        auto account = state::decode_account(in);
        if (!account || !in.empty()) return disagree("account " + to_hex_prefixed(*got) + " does not decode");
        if (account->storage_root == trie::kEmptyRoot) continue;

        // The account's storage at a probe too.
        const Hash account_key = to_hash(*got);
        const Hash slot_probe = keccak256(view(probe));
        trie::Trie storage{read_nodes_.get(), account->storage_root};
        auto want_slot = storage.next_key(view(slot_probe));
        if (!want_slot) return missing(want_slot.error());
        auto flat_slots = kv_.new_iterator(Column::kStorageLeaves, KeyRange::with_prefix(view(account_key)));
        flat_slots->seek(slot_leaf_key(account_key, slot_probe));
        if (!flat_slots->status().ok()) return flat_slots->status();
        std::optional<Bytes> got_slot;
        if (flat_slots->valid()) got_slot = Bytes{flat_slots->key().substr(32)};
        if (got_slot != *want_slot) {
            return disagree("the first slot of account " + hex(account_key) + " after " + hex(slot_probe) + " is " +
                            (*want_slot ? to_hex_prefixed(**want_slot) : std::string{"none"}) + " in the trie but " +
                            (got_slot ? to_hex_prefixed(*got_slot) : std::string{"none"}) + " in the flat index");
        }
        if (got_slot) {
            auto slot_value = storage.get(*got_slot);
            if (!slot_value) return missing(slot_value.error());
            if (!*slot_value || **slot_value != flat_slots->value()) {
                return disagree("slot " + to_hex_prefixed(*got_slot) + " of account " + hex(account_key) +
                                " differs between the trie and the flat index");
            }
        }
    }

    // The head block's own changes, where a torn write would show first.
    auto d = diff(*head_.block);
    if (!d) return d.error();
    if (!*d) return {};
    for (const auto& a : (*d)->accounts) {
        auto got = account(a.key);
        if (!got) return got.error();
        if (*got != a.after) {
            return disagree("account " + hex(a.key) + " changed by block " + std::to_string(*head_.block) +
                            " does not hold the block's value in the flat index");
        }
    }
    for (const auto& sc : (*d)->slots) {
        auto got = storage(sc.account_key, sc.slot_key);
        if (!got) return got.error();
        if (*got != sc.after) {
            return disagree("slot " + hex(sc.slot_key) + " of account " + hex(sc.account_key) + " changed by block " +
                            std::to_string(*head_.block) + " does not hold the block's value in the flat index");
        }
    }
    return {};
}

// ---- verify -------------------------------------------------------------------------------------------------

Status StateStore::verify() const {
    const std::string at = " (head block " + (head_.block ? std::to_string(*head_.block) : std::string{"none"}) +
                           ", root " + hex(head_.root) + ")";
    auto bad = [&](const std::string& what) { return Status::corruption("verify" + at + ": " + what); };

    auto accounts = kv_.new_iterator(Column::kAccountLeaves);
    auto slots = kv_.new_iterator(Column::kStorageLeaves);
    accounts->seek_to_first();
    slots->seek_to_first();
    trie::HashBuilder hb;
    trie::HashBuilder shb;
    uint64_t n_accounts = 0, n_slots = 0;
    std::unordered_set<Hash, trie::HashHasher> codes_seen;
    for (; accounts->valid(); accounts->next()) {
        const ByteView key = accounts->key();
        if (key.size() != 32) return bad("account leaf key " + to_hex_prefixed(key) + " is not 32 bytes");
        ByteView in = accounts->value();
        auto account = state::decode_account(in);
        if (!account || !in.empty()) return bad("account leaf " + to_hex_prefixed(key) + " does not decode");
        if (slots->valid() && slots->key().substr(0, 32) < key) {
            return bad("storage leaf " + to_hex_prefixed(slots->key()) + " belongs to no account");
        }
        bool has_slots = false;
        for (; slots->valid() && slots->key().substr(0, 32) == key; slots->next()) {
            if (slots->key().size() != 64)
                return bad("storage leaf key " + to_hex_prefixed(slots->key()) + " is not 64 bytes");
            if (slots->value().empty()) return bad("storage leaf " + to_hex_prefixed(slots->key()) + " is empty");
            shb.add_leaf(slots->key().substr(32), slots->value());
            has_slots = true;
            ++n_slots;
        }
        if (!slots->status().ok()) return slots->status();
        const Hash storage_root = has_slots ? shb.root() : trie::kEmptyRoot;
        if (storage_root != account->storage_root) {
            return bad("account " + to_hex_prefixed(key) + " has storage root " + hex(account->storage_root) +
                       " but its storage leaves give " + hex(storage_root));
        }
        if (account->code_hash != state::kEmptyCodeHash && codes_seen.insert(account->code_hash).second) {
            Bytes c;
            Status s = kv_.get(Column::kCode, view(account->code_hash), c);
            if (s.is_not_found())
                return bad("the code " + hex(account->code_hash) + " of account " + to_hex_prefixed(key) +
                           " is missing");
            if (!s.ok()) return s;
            if (keccak256(c) != account->code_hash)
                return bad("the code stored under " + hex(account->code_hash) + " has another hash");
        }
        hb.add_leaf(key, accounts->value());
        ++n_accounts;
    }
    if (!accounts->status().ok()) return accounts->status();
    if (slots->valid()) return bad("storage leaf " + to_hex_prefixed(slots->key()) + " belongs to no account");
    if (!slots->status().ok()) return slots->status();

    const Hash root = hb.root();
    if (root != head_.root) return bad("the flat index's accounts give the root " + hex(root));
    if (n_accounts != head_.accounts || n_slots != head_.slots) {
        return bad("the flat index holds " + std::to_string(n_accounts) + " accounts and " + std::to_string(n_slots) +
                   " slots; the state record says " + std::to_string(head_.accounts) + " and " +
                   std::to_string(head_.slots));
    }
    for (const auto& br : window_) {
        if (br.root == trie::kEmptyRoot) continue;
        auto n = node(br.root);
        if (!n) return n.error();
        if (!*n) return bad("the root " + hex(br.root) + " of block " + std::to_string(br.block) + " is missing");
    }
    return {};
}

}  // namespace carousel::store
