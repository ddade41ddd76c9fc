// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// MgrSync after the sync: following the head block by block (each region's changes since the
// block it was last verified at, moved storage tries bare first), checking each head's state root
// from the anchored tries and the changes, and re-anchoring at a boundary.
#include <algorithm>

#include <carousel/core/hex.hpp>
#include <carousel/trie/proof.hpp>
#include <carousel/trie/trie.hpp>

#include "mgr_sync.hpp"
#include "mgr_sync_parts.hpp"

namespace carousel::mgr {

using sync_parts::account_of;
using sync_parts::verify_leaves;
using sync_parts::view;

MgrSync::HeadRegion& MgrSync::head_region_of(const Request& r) {
    if (!r.account) return head_accounts_.at(r.region);
    return head_storage_.at(*r.account).at(r.region);
}

void MgrSync::follow_head(proto::Time now) {
    uint64_t head = chain_.head();
    const uint64_t boundary = head / options_.epoch_length * options_.epoch_length;
    if (boundary > anchor_number_ + options_.epoch_length) {
        // Two boundaries passed: the nodes no longer keep the anchor; roll as during the walk.
        synced_ = false;
        head_accounts_.clear();
        head_storage_.clear();
        return;
    }
    // A new boundary is followed like any block (the nodes keep the old one as their previous
    // epoch), and once reached the client re-anchors there without asking anything more.
    if (boundary > anchor_number_) head = boundary;
    if (head == anchor_number_ || verified_number_ == head) return;
    const auto root = chain_.state_root(head);
    const auto anchor_root = chain_.state_root(anchor_number_);
    if (!root || !anchor_root) return;
    // 1. Every account region's changes from the boundary to the head, checked against the head root.
    head_accounts_.resize(regions_.size());
    bool accounts_current = true;
    for (std::size_t i = 0; i < regions_.size(); ++i) {
        if (head_accounts_[i].number == head) continue;
        accounts_current = false;
        if (!head_accounts_[i].busy && pool_.link_open(pool_.small_reserve()))
            request_head_diff(i, std::nullopt, *anchor_root, *root, head, now);
    }
    if (!accounts_current) return;
    // 2. Every storage trie whose root moved: its regions' changes, checked against its new root.
    std::set<Hash> moved;
    for (const HeadRegion& t : head_accounts_) {
        for (const auto& [key, value] : t.changes) {
            const auto before = leaves_->find(std::nullopt, key);
            const Hash old_root =
                !before ? trie::kEmptyRoot : account_of(*before).value_or(state::Account{}).storage_root;
            const Hash new_root =
                value.empty() ? trie::kEmptyRoot : account_of(value).value_or(state::Account{}).storage_root;
            if (old_root != new_root) moved.insert(key);
            if (!value.empty()) {
                const auto a = account_of(value);
                if (a && a->code_hash != state::kEmptyCodeHash && !code_.contains(a->code_hash))
                    code_wanted_.insert(a->code_hash);
            }
        }
    }
    std::erase_if(head_storage_, [&](const auto& kv) { return !moved.contains(kv.first); });
    bool storage_current = true;
    std::map<std::size_t, std::vector<Hash>> bare;  // region -> moved tries to ask bare there
    for (const Hash& account : moved) {
        auto& regions = head_storage_[account];
        regions.resize(regions_.size());
        const auto before = leaves_->find(std::nullopt, account);
        const Hash from = !before ? trie::kEmptyRoot : account_of(*before).value_or(state::Account{}).storage_root;
        const auto after = head_account(account);
        const Hash to = after ? account_of(*after).value_or(state::Account{}).storage_root : trie::kEmptyRoot;
        for (std::size_t i = 0; i < regions.size(); ++i) {
            if (regions[i].number == head) continue;
            if (regions[i].number != 0 && regions[i].root == to) {
                regions[i].number = head;  // the trie did not change since: the same changes hold
                continue;
            }
            if (to == trie::kEmptyRoot && !regions[i].busy) {
                set_head_part(regions[i], account, i, Leaves{}, head);  // emptied: nothing to ask
                continue;
            }
            storage_current = false;
            if (regions[i].busy || !pool_.link_open(pool_.small_reserve())) continue;
            if (regions[i].prove) {
                request_head_part(i, account, to, head, now);
                continue;
            }
            // Moved again since its part was verified: a part that came bare (small) is asked bare
            // again at the new head, batched with the region's other moved tries, rather than as one
            // diff with a proof per trie and region; a hot trie of a few slots otherwise costs a proven
            // diff in every region at every block.
            if (regions[i].number != 0 && !regions[i].no_bare && to != trie::kEmptyRoot) regions[i] = HeadRegion{};
            if (regions[i].number == 0 && !regions[i].no_bare && to != trie::kEmptyRoot) {
                bare[i].push_back(account);
            } else {
                request_head_diff(i, account, from, to, head, now);
            }
        }
    }
    for (auto& [region, accounts] : bare) {
        if (pool_.link_open(pool_.small_reserve())) request_head_bare(region, std::move(accounts), head, now);
    }
    pump_code(now);
    if (!storage_current || !code_wanted_.empty()) return;
    check_head(head);
    if (verified_number_ == head && head % options_.epoch_length == 0) reanchor(head);
}

void MgrSync::reanchor(uint64_t boundary) {
    const Hash root = *chain_.state_root(boundary);
    for (std::size_t i = 0; i < head_accounts_.size(); ++i) {
        for (const auto& [k, v] : head_accounts_[i].changes) {
            if (v.empty()) {
                leaves_->erase(std::nullopt, k);
            } else {
                leaves_->put(std::nullopt, k, v);
            }
        }
        account_regions_[i].anchor_root = root;
        account_regions_[i].anchor_number = boundary;
    }
    for (const auto& [account, regions] : head_storage_) {
        for (const HeadRegion& t : regions) {
            for (const auto& [k, v] : t.changes) {
                if (v.empty()) {
                    leaves_->erase(account, k);
                } else {
                    leaves_->put(account, k, v);
                }
            }
        }
    }
    // Every storage trie now held whole at the boundary: complete regions anchored at its new root.
    // The tries gone there (emptied, or their account deleted) are dropped: their leaves went with
    // the changes above, so they are found among the tries the client walked or followed.
    const std::vector<Hash> held = leaves_->owners();
    std::set<Hash> tries{held.begin(), held.end()};
    for (const auto& [account, _] : storage_regions_) tries.insert(account);
    for (const auto& [account, _] : head_storage_) tries.insert(account);
    for (const Hash& owner : tries) {
        const auto storage_root = storage_root_of(owner);
        if (!storage_root || *storage_root == trie::kEmptyRoot) {
            storage_regions_.erase(owner);
            leaves_->erase_all(owner);
            continue;
        }
        auto& regions = storage_regions_[owner];
        regions.resize(regions_.size());
        for (RegionState& t : regions) {
            t.started = true;
            t.cursor.reset();
            t.anchor_root = *storage_root;
            t.anchor_number = boundary;
            t.bare = false;  // check_head rebuilt this root
        }
    }
    for (auto& [account, regions] : storage_regions_) {
        for (RegionState& t : regions) t.anchor_number = boundary;
    }
    head_accounts_.clear();
    head_storage_.clear();
    anchor_number_ = boundary;
    // check_head built the boundary's tries into anchor_nodes_ and verified them against `root`
    // just now: they are the new anchor. The nodes they replaced stay behind; once those outgrow the
    // live ones, the tries are rebuilt from the leaves (a difference there is a bug, not a peer's).
    anchor_state_root_ = state_root_;
    if (anchor_nodes_.size() > 2 * anchor_nodes_live_) {
        if (const auto built = rebuild_anchor_tries(); built && *built != root) failure_ = "state root mismatch";
    }
}

std::optional<Hash> MgrSync::rebuild_anchor_tries() {
    anchor_nodes_ = trie::MemoryNodeStore{};
    anchor_nodes_live_ = 0;
    const auto put = [](trie::Trie& t) { return [&t](const Hash& k, ByteView v) { (void)t.put(view(k), v); }; };
    for (const Hash& account : leaves_->owners()) {
        trie::Trie t{&anchor_nodes_};
        leaves_->visit_all(account, put(t));
        if (storage_root_of(account) != t.root()) {
            if (!leaves_failed()) failure_ = "storage root mismatch";
            return std::nullopt;
        }
    }
    trie::Trie state{&anchor_nodes_};
    leaves_->visit_all(std::nullopt, put(state));
    if (leaves_failed()) return std::nullopt;
    anchor_state_root_ = state.root();
    anchor_nodes_live_ = anchor_nodes_.size();
    return anchor_state_root_;
}

void MgrSync::request_head_diff(std::size_t region, const std::optional<Hash>& account, const Hash& anchor_from,
                                const Hash& to_root, uint64_t number, proto::Time now) {
    const auto peer = pick_peer(regions_[region].first, now);
    if (!peer) return;
    Request r;
    r.kind = Request::Kind::kDiff;
    r.head = true;
    // The nodes keep the heads since their latest boundary, and the one before it until the block
    // after the boundary.
    const HeadRegion& held = account ? head_storage_.at(*account).at(region) : head_accounts_.at(region);
    const uint64_t latest = number / options_.epoch_length * options_.epoch_length;
    r.delta = held.number != 0 && !held.no_delta &&
              (held.number >= latest || (held.number + 1 == latest && number == latest));
    r.from_number = r.delta ? held.number : anchor_number_;
    const Hash from_root = r.delta ? held.root : anchor_from;
    set_head_range(r, *peer, region, account, to_root, number);
    const uint64_t id = pool_.next_id();
    send(*peer, proto::encode(proto::GetDiff{id, from_root, to_root, nibbles_of(r.origin), nibbles_of(r.limit)}));
    ++stats_.diff_requests;
    head_region_of(r).busy = true;
    track(id, std::move(r), now);
}

Hash MgrSync::head_storage_root(const Hash& account) const {
    const auto after = head_account(account);
    return after ? account_of(*after).value_or(state::Account{}).storage_root : trie::kEmptyRoot;
}

void MgrSync::request_head_bare(std::size_t region, std::vector<Hash> accounts, uint64_t number, proto::Time now) {
    const auto root = chain_.state_root(number);
    const auto peer = pick_peer(regions_[region].first, now);
    if (!root || !peer) return;
    if (accounts.size() > proto::kMaxBareAccounts) accounts.resize(proto::kMaxBareAccounts);
    Request r = new_request(Request::Kind::kBare, *peer, region, *root, number);
    r.head = true;
    r.small = true;
    r.from_number = anchor_number_;
    r.accounts = std::move(accounts);
    const uint64_t id = pool_.next_id();
    send(*peer, proto::encode(proto::GetBareStorage{
                    id, *root, regions_[region].first, options_.region_bits, {}, r.accounts, r.budget}));
    ++stats_.bare_requests;
    for (const Hash& a : r.accounts) head_storage_.at(a).at(region).busy = true;
    track(id, std::move(r), now);
}

void MgrSync::on_head_bare(proto::PeerId from, const Request& r, const std::vector<Hash>& asked,
                           const proto::BareStorage& data) {
    if (anchor_number_ != r.from_number) return;  // re-anchored meanwhile
    // The storage roots below are read from the account regions: they must still be at the block asked.
    for (const HeadRegion& t : head_accounts_) {
        if (t.number != r.number) return;
    }
    std::size_t next_entry = 0;
    for (const Hash& account : asked) {
        const proto::BareEntry* entry = nullptr;
        if (next_entry < data.entries.size() && data.entries[next_entry].account == account)
            entry = &data.entries[next_entry++];
        const auto regions = head_storage_.find(account);
        if (regions == head_storage_.end() || r.region >= regions->second.size()) continue;
        HeadRegion& t = regions->second[r.region];
        if (t.number != 0) continue;
        if (entry != nullptr && entry->large) {
            t.no_bare = true;
            continue;
        }
        Leaves now;
        if (entry != nullptr) {
            for (std::size_t k = 0; k < entry->keys.size(); ++k) now[entry->keys[k]] = entry->values[k];
        }
        set_head_part(t, account, r.region, now, r.number);
        t.bare = true;
        t.bare_peer = from;
    }
}

void MgrSync::set_head_part(HeadRegion& t, const Hash& account, std::size_t region, const Leaves& now,
                            uint64_t number) {
    const Region block = storage_region(regions_[region], account);
    t.changes.clear();
    leaves_->visit(account, block.first, last_key(block), [&](const Hash& k, ByteView) {
        if (!now.contains(k)) t.changes[k] = Bytes{};
    });
    for (const auto& [k, v] : now) {
        const auto a = leaves_->find(account, k);
        if (!a || *a != v) t.changes[k] = v;
    }
    t.number = number;
    t.root = head_storage_root(account);
}

void MgrSync::set_head_range(Request& r, proto::PeerId peer, std::size_t region, const std::optional<Hash>& account,
                             const Hash& to_root, uint64_t number) {
    const Region block = account ? storage_region(regions_[region], *account) : regions_[region];
    r.peer = peer;
    r.budget = pool_.next_budget();
    r.small = true;  // a diff, or a small part's leaves
    r.region = region;
    r.account = account;
    r.root = to_root;
    r.number = number;
    r.origin = block.first;
    r.limit = last_key(block);
}

void MgrSync::request_head_part(std::size_t region, const Hash& account, const Hash& to_root, uint64_t number,
                                proto::Time now) {
    const auto peer = pick_peer(regions_[region].first, now);
    if (!peer) return;
    Request r;
    r.kind = Request::Kind::kChunk;
    r.head = true;
    r.from_number = anchor_number_;
    set_head_range(r, *peer, region, account, to_root, number);
    const uint64_t id = pool_.next_id();
    send(*peer, leaf_range_request(id, r));
    ++stats_.chunk_requests;
    head_region_of(r).busy = true;
    track(id, std::move(r), now);
}

void MgrSync::on_head_part(proto::PeerId from, const Request& r, const proto::ChunkEntry& e) {
    if (anchor_number_ != r.from_number) return;  // re-anchored meanwhile
    HeadRegion& t = head_region_of(r);
    if (t.number != 0 || head_storage_root(*r.account) != r.root) return;  // the trie moved again meanwhile
    if (e.error) {
        // The node does not hold the trie at the head (or not yet): take the part as empty there;
        // check_head() checks it, and nobody is struck for it (see HeadSuspect).
        if (*e.error == proto::ChunkError::kUnknownRoot) {
            set_head_part(t, *r.account, r.region, Leaves{}, r.number);
            t.bare = true;
            t.bare_peer = 0;
        }
        return;
    }
    if (!e.leaf_mode || !verify_leaves(r.root, r.origin, r.limit, e)) {
        ++stats_.rejected_answers;
        strike(from);
        return;
    }
    if (e.stop_path) {
        // Cut: more leaves than one answer holds, so not a small part after all. Ask its changes as
        // a diff with a proof.
        t.prove = false;
        return;
    }
    Leaves now;
    for (std::size_t i = 0; i < e.keys.size(); ++i) now[e.keys[i]] = e.values[i];
    set_head_part(t, *r.account, r.region, now, r.number);
    t.prove = false;
    t.no_bare = false;  // small: when the trie moves again, this part is asked bare again
}

std::optional<Bytes> MgrSync::head_account(const Hash& key) const {
    if (const std::size_t i = region_index(key, options_.region_bits); i < head_accounts_.size()) {
        const auto c = head_accounts_[i].changes.find(key);
        if (c != head_accounts_[i].changes.end()) {
            if (c->second.empty()) return std::nullopt;
            return c->second;
        }
    }
    return leaves_->find(std::nullopt, key);
}

void MgrSync::check_head(uint64_t number) {
    // Every region verified against the head root; recompute the head root (and every moved storage
    // root) as a last check of the whole: the anchored tries (anchor_nodes_) with the changes
    // applied. Only the changed paths are read and hashed. What root() writes is dropped, except at
    // a boundary: there the tries built are the next anchor (reanchor keeps them).
    trie::ReadOnlyNodeStore read_only{anchor_nodes_};
    trie::NodeStore& anchored = number % options_.epoch_length == 0 ? static_cast<trie::NodeStore&>(anchor_nodes_)
                                                                    : static_cast<trie::NodeStore&>(read_only);
    const auto apply = [](trie::Trie& t, const Leaves& changes) {
        for (const auto& [k, v] : changes) (void)(v.empty() ? t.erase(view(k)) : t.put(view(k), v));
    };
    for (auto& [account, regions] : head_storage_) {
        trie::Trie t{&anchored, storage_root_of(account).value_or(trie::kEmptyRoot)};
        for (const HeadRegion& h : regions) apply(t, h.changes);
        const auto a = head_account(account);
        const Hash want = a ? account_of(*a).value_or(state::Account{}).storage_root : trie::kEmptyRoot;
        if (t.root() != want) {
            if (leaves_failed()) return;
            if (std::none_of(regions.begin(), regions.end(), [](const HeadRegion& h) { return h.bare; })) {
                failure_ = "head storage root mismatch";
                return;
            }
            // A bare part is wrong: ask those parts again with proofs (check_head runs again then).
            ++stats_.rejected_answers;
            for (HeadRegion& h : regions) {
                if (!h.bare) continue;
                HeadRegion fresh;
                fresh.no_bare = true;
                fresh.prove = true;
                fresh.claims = std::move(h.claims);
                if (h.bare_peer != 0) fresh.claims.push_back(HeadSuspect{h.bare_peer, number, std::move(h.changes)});
                h = std::move(fresh);
            }
            return;
        }
    }
    // Every part is now known: a failed bare answer for this block that said otherwise was wrong.
    for (auto& [_, regions] : head_storage_) {
        for (HeadRegion& h : regions) {
            h.bare = false;
            for (const HeadSuspect& c : h.claims) {
                if (c.number == number && c.changes != h.changes) strike(c.peer);
            }
            h.claims.clear();
        }
    }
    trie::Trie state{&anchored, anchor_state_root_};
    for (const HeadRegion& h : head_accounts_) apply(state, h.changes);
    state_root_ = state.root();
    if (state_root_ != chain_.state_root(number)) {
        if (!leaves_failed()) failure_ = "head state root mismatch";
        return;
    }
    verified_number_ = number;
}

}  // namespace carousel::mgr
