// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// MgrSync's bare storage (MGR.md's small tries): the walk over the owners of each region with
// GetBareStorage at the reconciled boundary, and settling a trie whose parts came bare by its
// rebuilt root: a trie that fails has its bare parts fetched again with proofs (or asked of
// another node when empty), and the senders of parts that differ from the proven ones are struck.
#include <algorithm>

#include <carousel/core/hex.hpp>
#include <carousel/trie/trie.hpp>

#include "mgr_sync.hpp"
#include "mgr_sync_parts.hpp"

namespace carousel::mgr {

using sync_parts::digest_of;
using sync_parts::view;

std::size_t MgrSync::part_size(const Hash& account, std::size_t region) const {
    const Region block = storage_region(regions_[region], account);
    return leaves_->count(account, block.first, last_key(block));
}

void MgrSync::forget_bare(const Hash& account, std::size_t region) {
    RegionState& t = storage_regions_.at(account)[region];
    const Region block = storage_region(regions_[region], account);
    leaves_->erase_range(account, block.first, last_key(block));
    t = RegionState{};
    BareWalk& w = bare_walks_[region];
    if (!w.from || account < *w.from) w.again.insert(account);
}

void MgrSync::pump_bare(std::size_t region, proto::Time now) {
    BareWalk& w = bare_walks_[region];
    if (w.busy) return;
    const auto root = chain_.state_root(reconciled_);
    if (!root) return;
    Request r;
    r.kind = Request::Kind::kBare;
    r.region = region;
    r.root = *root;
    r.number = reconciled_;
    // Owners asked by name first; the walk reaches the others.
    for (const Hash& a : w.again) {
        if (r.accounts.size() >= proto::kMaxBareAccounts) break;
        r.accounts.push_back(a);
    }
    if (r.accounts.empty()) {
        if (w.from && storage_roots_.lower_bound(*w.from) == storage_roots_.end()) w.from.reset();  // none left
        if (!w.from) return;
        r.origin = *w.from;
    }
    const auto peer = pick_peer(regions_[region].first, now, r.accounts.empty() ? std::set<proto::PeerId>{} : w.avoid);
    if (!peer) return;
    if (!r.accounts.empty()) w.avoid.clear();
    r.peer = *peer;
    r.budget = pool_.next_budget();
    const uint64_t id = pool_.next_id();
    send(*peer, proto::encode(proto::GetBareStorage{id, *root, regions_[region].first, options_.region_bits, r.origin,
                                                    r.accounts, r.budget}));
    ++stats_.bare_requests;
    w.busy = true;
    track(id, std::move(r), now);
}

void MgrSync::on_bare_storage(proto::PeerId from, ByteView frame, proto::Time now) {
    auto answer = take_answer(from, frame, Request::Kind::kBare, proto::decode_bare_storage, "BareStorage", now);
    if (!answer) return;
    const auto& [data, taken] = *answer;
    const Request& r = taken;
    release(r);
    if (data.error) {
        on_error(from, *data.error, now);
        return;
    }
    if (!r.head && r.number != reconciled_) return;  // asked at an older boundary: stale
    // The owners the answer covers, as this client knows them at the boundary: the named ones, or
    // its owners from the origin on, up to covered_to.
    std::vector<Hash> asked;
    if (!r.accounts.empty()) {
        for (const Hash& a : r.accounts) {
            if (!(data.covered_to < a)) asked.push_back(a);
        }
    } else {
        for (auto it = storage_roots_.lower_bound(r.origin);
             it != storage_roots_.end() && !(data.covered_to < it->first); ++it) {
            asked.push_back(it->first);
        }
    }
    // Check the whole answer before keeping any of it: progress, entries only for owners asked (in
    // order), and every key inside the owner's part of the region.
    const Hash& first_asked = r.accounts.empty() ? r.origin : r.accounts.front();
    bool ok = !(data.covered_to < first_asked);
    for (std::size_t e = 0, i = 0; ok && e < data.entries.size(); ++e) {
        const proto::BareEntry& entry = data.entries[e];
        while (i < asked.size() && asked[i] < entry.account) ++i;
        ok = i < asked.size() && asked[i] == entry.account;
        const Region block = storage_region(regions_[r.region], entry.account);
        for (const Hash& k : entry.keys) ok = ok && contains(block, k);
    }
    if (!ok) {
        ++stats_.rejected_answers;
        strike(from);
        return;
    }
    if (r.head) {
        on_head_bare(from, r, asked, data);
        return;
    }
    BareWalk& w = bare_walks_[r.region];
    std::size_t next_entry = 0;
    for (const Hash& account : asked) {
        const proto::BareEntry* entry = nullptr;
        if (next_entry < data.entries.size() && data.entries[next_entry].account == account)
            entry = &data.entries[next_entry++];
        w.again.erase(account);
        const auto regions = storage_regions_.find(account);
        if (regions == storage_regions_.end()) continue;  // no longer an owner here
        RegionState& t = regions->second[r.region];
        if (t.started || t.large) continue;  // held already, or walked with proofs
        if (entry != nullptr && entry->large) {
            t.large = true;
            continue;
        }
        if (entry != nullptr) {
            for (std::size_t k = 0; k < entry->keys.size(); ++k)
                leaves_->put(account, entry->keys[k], entry->values[k]);
        }
        t.started = true;
        t.cursor.reset();
        t.anchor_root = storage_roots_.at(account);
        t.anchor_number = r.number;
        t.bare = true;
        t.bare_peer = from;
        settle(account);
    }
    if (r.accounts.empty()) {
        const auto after = storage_roots_.upper_bound(data.covered_to);
        w.from = after == storage_roots_.end() ? std::nullopt : std::optional<Hash>{after->first};
    }
}

void MgrSync::settle(const Hash& account) {
    const auto regions = storage_regions_.find(account);
    const auto root = storage_roots_.find(account);
    if (regions == storage_regions_.end() || root == storage_roots_.end()) return;
    bool bare = false;
    for (const RegionState& t : regions->second) {
        if (!t.started || t.cursor || t.busy || t.anchor_number != reconciled_) return;
        bare = bare || t.bare;
    }
    if (!bare) return;
    trie::Trie rebuilt;
    leaves_->visit_all(account, [&rebuilt](const Hash& k, ByteView v) { (void)rebuilt.put(view(k), v); });
    if (rebuilt.root() == root->second) {
        // Every part is now known: what a failed round said of a part and differs was wrong.
        for (std::size_t i = 0; i < regions->second.size(); ++i) {
            RegionState& t = regions->second[i];
            if (!t.claims.empty()) {
                const Hash digest = digest_of(*leaves_, account, storage_region(regions_[i], account));
                for (const auto& [peer, said] : t.claims) {
                    if (said != digest) strike(peer);
                }
                t.claims.clear();
            }
            t.bare = false;
        }
        settle_rounds_.erase(account);
        return;
    }
    ++stats_.rejected_answers;
    if (++settle_rounds_[account] > kMaxSettleRounds && failure_.empty()) {
        failure_ = "the storage trie of account 0x" + to_hex(ByteView{account.data(), 4}) +
                   "… does not match its root after " + std::to_string(kMaxSettleRounds) +
                   " rounds of parts from its regions' nodes";
        return;
    }
    // Some bare part is wrong: a non-empty one is fetched again with proofs, an empty one asked again
    // by name of another node. Each keeps what it said, to strike its sender once the part is known.
    for (std::size_t i = 0; i < regions->second.size(); ++i) {
        RegionState& t = regions->second[i];
        if (!t.bare) continue;
        const Region block = storage_region(regions_[i], account);
        std::vector<std::pair<proto::PeerId, Hash>> claims = std::move(t.claims);
        if (t.bare_peer != 0) claims.emplace_back(t.bare_peer, digest_of(*leaves_, account, block));
        const bool empty = part_size(account, i) == 0;
        const proto::PeerId sender = t.bare_peer;
        if (empty) {
            forget_bare(account, i);
            if (sender != 0) bare_walks_[i].avoid.insert(sender);
        } else {
            leaves_->erase_range(account, block.first, last_key(block));
            t = RegionState{};
            t.large = true;
        }
        t.claims = std::move(claims);
    }
}

}  // namespace carousel::mgr
