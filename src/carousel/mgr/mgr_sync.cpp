// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "mgr_sync.hpp"

#include <algorithm>

#include <carousel/core/hex.hpp>
#include <carousel/core/keccak.hpp>
#include <carousel/state/account.hpp>
#include <carousel/trie/leaf_range.hpp>
#include <carousel/trie/proof.hpp>
#include <carousel/trie/trie.hpp>

namespace carousel::mgr {

namespace {

ByteView view(const Hash& h) { return ByteView{h.data(), h.size()}; }

std::optional<state::Account> account_of(ByteView rlp) {
    ByteView in = rlp;
    auto a = state::decode_account(in);
    if (!a || !in.empty()) return std::nullopt;
    return *a;
}

}  // namespace

MgrSync::MgrSync(dht::Contact self, MgrSyncOptions options, ChainView chain)
    : dht_(
          [&] {
              self.radius.bits = 0;  // a syncing client stores nothing for the network
              return self;
          }(),
          options.dht, [this](proto::PeerId to, Bytes frame) { send(to, std::move(frame)); },
          [this](proto::PeerId peer, std::string reason) { disconnect(peer, std::move(reason)); }),
      options_(options),
      chain_(std::move(chain)),
      regions_(all_regions(options.region_bits)),
      account_regions_(regions_.size()),
      bare_walks_(regions_.size()),
      pool_(pool_options(options)) {}

dht::PeerPoolOptions MgrSync::pool_options(const MgrSyncOptions& o) {
    dht::PeerPoolOptions p;
    // A fixed window per peer: the link, not the peers, is what limits a client.
    p.initial_window = o.max_in_flight_per_peer;
    p.min_window = o.max_in_flight_per_peer;
    p.max_window = o.max_in_flight_per_peer;
    p.max_in_flight = o.max_in_flight;
    p.request_timeout = o.request_timeout;
    p.queue_deadlines = true;
    p.min_rate = 1024;
    p.link_window = o.initial_window;
    p.max_link_window = o.max_window;
    p.queue_target = o.queue_target;
    p.min_budget = 16 * 1024;
    p.max_budget = o.max_response_bytes;
    p.ban_standing = -static_cast<int>(o.strikes_to_ban);
    return p;
}

void MgrSync::track(uint64_t id, Request r, proto::Time now) {
    r.ticket = pool_.issue(id, r.peer, now, r.budget, r.small);
    requests_[id] = std::move(r);
}

std::optional<MgrSync::Request> MgrSync::take(uint64_t id, proto::PeerId from, uint8_t kind, std::size_t frame_bytes,
                                              proto::Time now) {
    const auto it = requests_.find(id);
    if (it == requests_.end() || it->second.peer != from || static_cast<uint8_t>(it->second.kind) != kind) {
        return std::nullopt;
    }
    Request r = std::move(it->second);
    requests_.erase(it);
    pool_.answered(r.ticket, now, frame_bytes);
    return r;
}

double MgrSync::progress() const {
    if (synced_) return 1.0;
    auto done = [](const std::vector<RegionState>& regions) {
        return static_cast<double>(
            std::count_if(regions.begin(), regions.end(), [](const RegionState& t) { return t.started && !t.cursor; }));
    };
    const double accounts = done(account_regions_) / static_cast<double>(regions_.size());
    if (!accounts_done_) return 0.5 * accounts;
    double storage_done = 0;
    double storage_all = 0;
    for (const auto& [_, regions] : storage_regions_) {
        storage_done += done(regions);
        storage_all += static_cast<double>(regions.size());
    }
    const double storage = storage_all == 0 ? 1.0 : storage_done / storage_all;
    return 0.5 + 0.45 * storage + (code_wanted_.empty() ? 0.05 : 0.0);
}

uint64_t MgrSync::raw_bytes() const {
    uint64_t n = 0;
    for (const auto& [_, v] : accounts_) n += 32 + v.size();
    for (const auto& [_, s] : storage_) {
        for (const auto& [__, v] : s) n += 32 + v.size();
    }
    for (const auto& [_, c] : code_) n += c.size();
    return n;
}

std::size_t MgrSync::slots() const {
    std::size_t n = 0;
    for (const auto& [_, s] : storage_) n += s.size();
    return n;
}

void MgrSync::on_connect(proto::PeerId peer, proto::Time now) {
    pool_.add(peer);
    dht_.on_connect(peer, now);
}

void MgrSync::on_disconnect(proto::PeerId peer, proto::Time now) {
    dht_.on_disconnect(peer, now);
    // Its requests fail now.
    for (auto it = requests_.begin(); it != requests_.end();) {
        if (it->second.peer != peer) {
            ++it;
            continue;
        }
        release(it->second);
        pool_.failed(it->second.ticket);
        it = requests_.erase(it);
    }
    pool_.remove(peer);
    for (auto& [_, contacts] : found_) {
        std::erase_if(contacts, [&](const dht::Contact& c) { return c.peer == peer; });
    }
}

std::optional<proto::Time> MgrSync::next_deadline() const {
    std::optional<proto::Time> t = dht_.next_deadline();
    if (!t || next_tick_ < *t) t = next_tick_;
    return t;
}

void MgrSync::on_timer(proto::Time now) {
    dht_.on_timer(now);
    for (auto it = requests_.begin(); it != requests_.end();) {
        if (it->second.ticket.deadline > now) {
            ++it;
            continue;
        }
        ++stats_.timeouts;
        release(it->second);
        pool_.timed_out(it->second.ticket);
        strike(it->second.peer);
        it = requests_.erase(it);
    }
    if (now >= next_tick_) {
        next_tick_ = now + options_.tick;
        pump(now);
    }
}

MgrSync::RegionState& MgrSync::state_of(const Request& r) {
    return r.account ? storage_regions_.at(*r.account)[r.region] : account_regions_[r.region];
}

bool MgrSync::live(const Request& r) const {
    if (r.kind == Request::Kind::kCode || r.kind == Request::Kind::kBare) return true;
    if (r.head) {
        if (!r.account) return r.region < head_accounts_.size();
        const auto it = head_storage_.find(*r.account);
        return it != head_storage_.end() && r.region < it->second.size();
    }
    return !r.account || storage_regions_.contains(*r.account);
}

void MgrSync::release(const Request& r) {
    if (r.kind == Request::Kind::kCode || !live(r)) return;
    if (r.kind == Request::Kind::kBare && r.head) {
        for (const Hash& a : r.accounts) {
            const auto it = head_storage_.find(a);
            if (it != head_storage_.end() && r.region < it->second.size()) it->second[r.region].busy = false;
        }
    } else if (r.kind == Request::Kind::kBare) {
        bare_walks_[r.region].busy = false;
    } else if (r.head) {
        head_region_of(r).busy = false;
    } else {
        state_of(r).busy = false;
    }
}

MgrSync::HeadRegion& MgrSync::head_region_of(const Request& r) {
    if (!r.account) return head_accounts_.at(r.region);
    return head_storage_.at(*r.account).at(r.region);
}

MgrSync::Leaves& MgrSync::leaves_of(const std::optional<Hash>& account) {
    return account ? storage_[*account] : accounts_;
}

std::size_t MgrSync::region_index_of(const Hash& position) const noexcept {
    // Tiles are the aligned blocks of 2^region_bits keys in order: the index is the top bits.
    const unsigned count_bits = 256 - options_.region_bits;
    if (count_bits == 0) return 0;
    const uint32_t top = (uint32_t{position[0]} << 8) | position[1];
    return top >> (16 - count_bits);
}

std::optional<Hash> MgrSync::storage_root_of(const Hash& account) const {
    const auto it = accounts_.find(account);
    if (it == accounts_.end()) return std::nullopt;
    auto a = account_of(it->second);
    if (!a) return std::nullopt;
    return a->storage_root;
}

void MgrSync::strike(proto::PeerId peer) {
    if (pool_.strike(peer)) ++stats_.banned_peers;
}

std::optional<proto::PeerId> MgrSync::pick_peer(const Hash& position, proto::Time now,
                                                const std::set<proto::PeerId>& avoid) {
    std::vector<dht::Contact> candidates = dht_.table().covering(position);
    // The closest region's lookup results add nodes the table does not hold.
    const std::size_t region_index = region_index_of(position);
    for (const dht::Contact& c : found_[region_index]) {
        if (dht::covers(c.id, c.radius, position)) candidates.push_back(c);
    }
    const dht::PeerPool::Choice choice = pool_.choose(candidates, now, avoid);
    const std::optional<proto::PeerId>& best = choice.peer;
    const bool usable = choice.usable;
    if (usable) {
        unserved_since_.erase(region_index);
    } else {
        const proto::Time since = unserved_since_.try_emplace(region_index, now).first->second;
        if (now >= since + options_.unserved_timeout && failure_.empty()) {
            // What became of the covering nodes, each counted once (the table's and the lookup's).
            std::set<proto::PeerId> known;
            std::size_t banned = 0;
            std::size_t behind = 0;
            for (const dht::Contact& c : candidates) {
                if (!known.insert(c.peer).second) continue;
                if (pool_.banned(c.peer)) {
                    ++banned;
                } else if (pool_.connected(c.peer) && pool_.paused(c.peer, now)) {
                    ++behind;
                }
            }
            const Region& region = regions_[region_index];
            failure_ = "no honest node serves region 0x" + to_hex(ByteView{region.first.data(), 4}) + "…/" +
                       std::to_string(region.bits) + " (" + std::to_string(known.size()) +
                       " covering nodes known: " + std::to_string(banned) + " banned, " + std::to_string(behind) +
                       " behind the chain, " + std::to_string(known.size() - banned - behind) + " unreachable) for " +
                       std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now - since).count()) + " s";
        }
    }
    const auto last = last_lookup_.find(region_index);
    const bool recently = last != last_lookup_.end() && now < last->second + std::chrono::seconds{2};
    if (!best && candidates.empty() && !looking_up_.contains(region_index) && !recently) {
        last_lookup_[region_index] = now;
        looking_up_.insert(region_index);
        ++stats_.lookups;
        dht_.start_lookup(regions_[region_index].first, now, [this, region_index](std::vector<dht::Contact> closest) {
            looking_up_.erase(region_index);
            found_[region_index] = std::move(closest);
        });
    }
    return best;
}

void MgrSync::pump(proto::Time now) {
    const uint64_t head = chain_.head();
    const uint64_t boundary = head / options_.epoch_length * options_.epoch_length;
    if (!chain_.state_root(boundary)) return;
    if (synced_) {
        follow_head(now);
        return;
    }
    for (std::size_t i = 0; i < regions_.size() && pool_.link_open(); ++i) {
        pump_region(i, std::nullopt, account_regions_[i], boundary, now);
    }
    accounts_done_ = std::all_of(account_regions_.begin(), account_regions_.end(), [&](const RegionState& t) {
        return t.started && !t.cursor && t.anchor_number == boundary && !t.busy;
    });
    if (!accounts_done_) return;
    if (reconciled_ != boundary) {
        // The second lap, once per boundary on accounts current there: every account with storage,
        // every region of its trie (tries of accounts gone or emptied are dropped); code of every account.
        reconciled_ = boundary;
        storage_roots_.clear();
        for (const auto& [key, rlp] : accounts_) {
            auto a = account_of(rlp);
            if (!a) continue;
            if (a->storage_root != trie::kEmptyRoot) {
                storage_roots_[key] = a->storage_root;
                if (!storage_regions_.contains(key)) storage_regions_[key].resize(regions_.size());
            }
            if (a->code_hash != state::kEmptyCodeHash && !code_.contains(a->code_hash))
                code_wanted_.insert(a->code_hash);
        }
        for (auto it = storage_regions_.begin(); it != storage_regions_.end();) {
            if (storage_roots_.contains(it->first)) {
                ++it;
                continue;
            }
            storage_.erase(it->first);
            it = storage_regions_.erase(it);
        }
        // Bare parts at the new boundary: those of a trie that moved are asked again by name, or,
        // when verified and more than a few leaves, rolled with GetDiff (its changes and a proof of
        // about a kilobyte cost less than the whole part again); those anchored at an unchanged root
        // move on, verified or not (the same trie, the same leaves).
        for (BareWalk& w : bare_walks_) {
            std::erase_if(w.again, [&](const Hash& a) { return !storage_roots_.contains(a); });
            w.avoid.clear();
        }
        settle_rounds_.clear();
        for (auto& [account, regions] : storage_regions_) {
            const Hash& root = storage_roots_.at(account);
            for (std::size_t i = 0; i < regions.size(); ++i) {
                RegionState& t = regions[i];
                t.claims.clear();  // a proven replacement would be at another root now
                if (t.large) continue;
                if (!t.started) {
                    if (!bare_walks_[i].from || account < *bare_walks_[i].from) bare_walks_[i].again.insert(account);
                } else if (t.anchor_root != root && !t.bare && part_size(account, i) > kBareRefetchMax) {
                    t.large = true;  // verified: rolled with GetDiff and its proof, like a large part
                } else if (t.anchor_root != root) {
                    forget_bare(account, i);
                } else {
                    t.anchor_number = boundary;
                }
            }
        }
    }
    for (std::size_t i = 0; i < regions_.size() && pool_.link_open(); ++i) pump_bare(i, now);
    for (auto& [account, regions] : storage_regions_) {
        for (std::size_t i = 0; i < regions.size() && pool_.link_open(); ++i) {
            if (regions[i].large) pump_region(i, account, regions[i], boundary, now);
        }
        if (!pool_.link_open()) break;
    }
    pump_code(now);
    check_done(now);
}

std::size_t MgrSync::part_size(const Hash& account, std::size_t region) const {
    const auto held = storage_.find(account);
    if (held == storage_.end()) return 0;
    const Region block = storage_region(regions_[region], account);
    return static_cast<std::size_t>(
        std::distance(held->second.lower_bound(block.first), held->second.upper_bound(last_key(block))));
}

void MgrSync::forget_bare(const Hash& account, std::size_t region) {
    RegionState& t = storage_regions_.at(account)[region];
    const Region block = storage_region(regions_[region], account);
    Leaves& slots = storage_[account];
    slots.erase(slots.lower_bound(block.first), slots.upper_bound(last_key(block)));
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
            Leaves& slots = storage_[account];
            for (std::size_t k = 0; k < entry->keys.size(); ++k) slots[entry->keys[k]] = entry->values[k];
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

namespace {
// The digest of a region's leaves: Keccak of every key and length-prefixed value in order (without the
// lengths, one leaf whose value holds the next key and value would digest the same as the two).
Hash digest_of(const std::map<Hash, Bytes>& leaves, const Region& block) {
    Bytes all;
    for (auto it = leaves.lower_bound(block.first); it != leaves.end() && it->first <= last_key(block); ++it) {
        all.append(it->first.data(), it->first.size());
        const auto n = static_cast<uint32_t>(it->second.size());
        const uint8_t length[4] = {static_cast<uint8_t>(n >> 24), static_cast<uint8_t>(n >> 16),
                                   static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)};
        all.append(length, sizeof length);
        all.append(it->second);
    }
    return keccak256(all);
}
}  // namespace

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
    Leaves& slots = storage_[account];
    for (const auto& [k, v] : slots) (void)rebuilt.put(view(k), v);
    if (rebuilt.root() == root->second) {
        // Every part is now known: what a failed round said of a part and differs was wrong.
        for (std::size_t i = 0; i < regions->second.size(); ++i) {
            RegionState& t = regions->second[i];
            if (!t.claims.empty()) {
                const Hash digest = digest_of(slots, storage_region(regions_[i], account));
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
        if (t.bare_peer != 0) claims.emplace_back(t.bare_peer, digest_of(slots, block));
        const bool empty = part_size(account, i) == 0;
        const proto::PeerId sender = t.bare_peer;
        if (empty) {
            forget_bare(account, i);
            if (sender != 0) bare_walks_[i].avoid.insert(sender);
        } else {
            slots.erase(slots.lower_bound(block.first), slots.upper_bound(last_key(block)));
            t = RegionState{};
            t.large = true;
        }
        t.claims = std::move(claims);
    }
}

bool MgrSync::pump_region(std::size_t region, const std::optional<Hash>& account, RegionState& state, uint64_t boundary,
                          proto::Time now) {
    if (state.busy) return false;
    if (state.started && state.anchor_number == boundary && !state.cursor) return false;  // complete
    std::optional<Hash> root;
    if (account) {
        const auto it = storage_roots_.find(*account);
        if (it == storage_roots_.end()) return false;
        root = it->second;
    } else {
        root = chain_.state_root(boundary);
    }
    if (!root) return false;
    const Region block = account ? storage_region(regions_[region], *account) : regions_[region];
    if (state.started && state.anchor_number + options_.epoch_length < boundary) {
        // Anchored before the previous boundary: nodes no longer keep that root, so no diff can
        // roll it. Fetch the range again at the new root.
        Leaves& held = leaves_of(account);
        held.erase(held.lower_bound(block.first), held.upper_bound(last_key(block)));
        state.started = false;
        state.cursor.reset();
    }
    // Which request: roll the held range forward, or fetch from the cursor.
    const bool roll = state.started && state.anchor_number != boundary && state.cursor != block.first;
    if (state.started && state.anchor_number != boundary && !roll) {
        state.anchor_number = boundary;  // nothing held yet: just start at the new root
        state.anchor_root = *root;
    }
    const auto peer = pick_peer(account ? regions_[region].first : block.first, now);
    if (!peer) return false;
    Request r;
    r.peer = *peer;
    r.budget = pool_.next_budget();
    r.region = region;
    r.account = account;
    r.root = *root;
    r.number = boundary;
    const uint64_t id = pool_.next_id();
    if (roll) {
        // Held: [block.first, cursor - 1] (or the whole block).
        r.kind = Request::Kind::kDiff;
        r.small = true;
        r.origin = block.first;
        r.limit = last_key(block);
        if (state.cursor) {
            Hash last = *state.cursor;
            for (std::size_t i = last.size(); i-- > 0;) {
                if (last[i]-- != 0) break;
            }
            r.limit = last;
        }
        proto::GetDiff get{id, state.anchor_root, *root, nibbles_of(r.origin), nibbles_of(r.limit)};
        if (state.anchor_root == *root) {
            // The trie did not change: nothing to ask.
            state.anchor_number = boundary;
            return true;
        }
        send(*peer, proto::encode(get));
        ++stats_.diff_requests;
    } else {
        r.kind = Request::Kind::kChunk;
        if (!state.started) {
            state.started = true;
            state.anchor_number = boundary;
            state.anchor_root = *root;
            state.cursor = block.first;
        }
        r.origin = *state.cursor;
        r.limit = last_key(block);
        send(*peer, leaf_range_request(id, r));
        ++stats_.chunk_requests;
    }
    state.busy = true;
    track(id, std::move(r), now);
    return true;
}

void MgrSync::pump_code(proto::Time now) {
    // Code travels by hash: ask the node covering each hash, a few at a time.
    std::map<proto::PeerId, std::vector<Hash>> batches;
    std::set<Hash> asked;
    for (const auto& [_, r] : requests_) {
        asked.insert(r.code_hashes.begin(), r.code_hashes.end());
    }
    for (const Hash& h : code_wanted_) {
        if (asked.contains(h) || !pool_.link_open() || batches.size() >= 4) continue;
        const auto peer = pick_peer(h, now);
        if (!peer) continue;
        auto& batch = batches[*peer];
        if (batch.size() < 64) batch.push_back(h);
    }
    for (auto& [peer, hashes] : batches) {
        const uint64_t id = pool_.next_id();
        Request r;
        r.kind = Request::Kind::kCode;
        r.peer = peer;
        r.budget = pool_.next_budget();
        r.code_hashes = hashes;
        send(peer, proto::encode(proto::GetCode{id, hashes, r.budget}));
        ++stats_.code_requests;
        track(id, std::move(r), now);
    }
}

void MgrSync::on_frame(proto::PeerId from, ByteView frame, proto::Time now) {
    if (frame.empty()) {
        disconnect(from, "mgr sync: empty frame");
        return;
    }
    stats_.bytes_received += frame.size();
    pool_.received(frame.size());
    if (dht::Dht::handles(frame[0])) {
        dht_.on_frame(from, frame, now);
        return;
    }
    switch (static_cast<proto::MessageType>(frame[0])) {
        case proto::MessageType::kChunkData:
            stats_.chunk_bytes += frame.size();
            on_chunk_data(from, frame, now);
            break;
        case proto::MessageType::kDiffData:
            stats_.diff_bytes += frame.size();
            on_diff_data(from, frame, now);
            break;
        case proto::MessageType::kCodeData:
            stats_.code_bytes += frame.size();
            on_code_data(from, frame, now);
            break;
        case proto::MessageType::kBareStorage:
            stats_.bare_bytes += frame.size();
            on_bare_storage(from, frame, now);
            break;
        case proto::MessageType::kOffer:
            // A client stores nothing for the network: it wants no gossip.
            if (auto offer = proto::decode_offer(frame))
                send(from, proto::encode(proto::Accept{offer->request_id, {}}));
            break;
        case proto::MessageType::kGetChunks:
        case proto::MessageType::kGetDiff:
        case proto::MessageType::kGetCode:
        case proto::MessageType::kGetBareStorage:
            break;  // it serves nothing: the peer's request times out
        default:
            disconnect(from, "mgr sync: unexpected message type " + std::to_string(frame[0]));
            return;
    }
    pump(now);
}

template <class Message>
std::optional<std::pair<Message, MgrSync::Request>> MgrSync::take_answer(proto::PeerId from, ByteView frame,
                                                                         Request::Kind kind,
                                                                         proto::WireResult<Message> (*decode)(ByteView),
                                                                         std::string_view name, proto::Time now) {
    auto data = decode(frame);
    if (!data) {
        disconnect(from, "mgr sync: bad " + std::string{name} + ": " + std::string{proto::to_string(data.error())});
        return std::nullopt;
    }
    auto taken = take(data->request_id, from, static_cast<uint8_t>(kind), frame.size(), now);
    if (!taken) return std::nullopt;
    return std::pair<Message, Request>{std::move(*data), std::move(*taken)};
}

void MgrSync::on_error(proto::PeerId from, proto::ChunkError error, proto::Time now) {
    ++stats_.errors;
    // 0x0: the node has not reached this root yet (gossip is still spreading) or has fallen behind:
    // not an offence, but ask others for a while. 0x2: back off. Others are offences.
    if (error == proto::ChunkError::kUnknownRoot || error == proto::ChunkError::kBackOff) {
        pool_.pause(from, now + std::chrono::seconds{5});
    } else {
        strike(from);
    }
}

namespace {
// A leaf-mode answer to a range from `origin` to `limit` at `root`, checked (trie/leaf_range.hpp):
// how many of its leading keys lie in the range.
tl::expected<std::size_t, trie::LeafRangeError> verify_leaves(const Hash& root, const Hash& origin, const Hash& limit,
                                                              const proto::ChunkEntry& e) {
    return trie::verify_leaf_range(root, view(origin), view(limit), e.keys, e.values, e.proof, e.stop_path.has_value());
}
}  // namespace

void MgrSync::on_chunk_data(proto::PeerId from, ByteView frame, proto::Time now) {
    auto answer = take_answer(from, frame, Request::Kind::kChunk, proto::decode_chunk_data, "ChunkData", now);
    if (!answer) return;
    const auto& [data, taken] = *answer;
    const Request& r = taken;
    if (!live(r)) return;  // the region was dropped meanwhile (its trie emptied, or a new boundary)
    release(r);
    if (data.entries.size() != 1) {
        ++stats_.rejected_answers;
        strike(from);
        return;
    }
    const proto::ChunkEntry& e = data.entries[0];
    if (r.head) {
        if (e.error && *e.error != proto::ChunkError::kUnknownRoot) {
            on_error(from, *e.error, now);
            return;
        }
        if (e.error) ++stats_.errors;
        on_head_part(from, r, e);
        return;
    }
    RegionState& state = state_of(r);
    if (e.error) {
        const Hash first = r.account ? storage_region(regions_[r.region], *r.account).first : regions_[r.region].first;
        if (*e.error == proto::ChunkError::kUnknownRoot && r.account && !state.claims.empty() &&
            state.anchor_root == r.root && state.cursor == first && r.origin == first) {
            // A part fetched with proofs after its bare answer failed, from a node that does not hold
            // the trie: nodes keep only the storage tries present in their region, so take the part
            // as empty, which the rebuilt root checks. Nobody to blame if not: a node behind the
            // chain answers the same.
            ++stats_.errors;
            state.cursor.reset();
            state.large = false;
            state.bare = true;
            state.bare_peer = 0;
            settle(*r.account);
            return;
        }
        on_error(from, *e.error, now);
        return;
    }
    // The anchor may have moved while the request was out: an answer at the old root is stale.
    if (state.anchor_root != r.root || state.cursor != r.origin || !e.leaf_mode) {
        if (!e.leaf_mode) strike(from);
        return;
    }
    const auto in_range = verify_leaves(r.root, r.origin, r.limit, e);
    if (!in_range) {
        ++stats_.rejected_answers;
        strike(from);
        return;
    }
    Leaves& leaves = leaves_of(r.account);
    for (std::size_t i = 0; i < *in_range; ++i) leaves[e.keys[i]] = e.values[i];
    const Hash last = e.keys.empty() ? r.limit : e.keys.back();
    if (e.stop_path && last < r.limit) {
        state.cursor = next_key(last);
        return;
    }
    state.cursor.reset();
    if (!r.account) return;
    if (!state.claims.empty()) {
        // The proven part replaces bare ones that failed its trie's root: which were different?
        const Hash digest = digest_of(leaves, storage_region(regions_[r.region], *r.account));
        for (const auto& [peer, said] : state.claims) {
            if (said != digest) strike(peer);
        }
        state.claims.clear();
    }
    settle(*r.account);
}

void MgrSync::on_diff_data(proto::PeerId from, ByteView frame, proto::Time now) {
    auto answer = take_answer(from, frame, Request::Kind::kDiff, proto::decode_diff_data, "DiffData", now);
    if (!answer) return;
    const auto& [data, taken] = *answer;
    const Request& r = taken;
    if (!live(r)) return;
    release(r);
    if (data.error) {
        if (r.head && r.delta && *data.error == proto::ChunkError::kUnknownRoot) head_region_of(r).no_delta = true;
        on_error(from, *data.error, now);
        return;
    }
    // Apply the changes to a copy of the held leaves of the range, check the result against the new
    // root with the range proof, and keep it only then.
    static const Leaves kNone;
    const bool held = !r.account || storage_.contains(*r.account);
    const Leaves& leaves = held ? leaves_of(r.account) : kNone;  // a trie new since the anchor: none held
    Leaves range{leaves.lower_bound(r.origin), leaves.upper_bound(r.limit)};
    if (r.head) {
        // Following: the diff starts at the anchor, or at the block the region was verified at (its
        // changes so far are then part of what the diff applies to). Stale if either moved since.
        HeadRegion& head = head_region_of(r);
        if (r.delta ? head.number != r.from_number : anchor_number_ != r.from_number) return;
        if (r.delta) {
            for (auto it = head.changes.lower_bound(r.origin); it != head.changes.end() && it->first <= r.limit; ++it) {
                if (it->second.empty()) {
                    range.erase(it->first);
                } else {
                    range[it->first] = it->second;
                }
            }
        }
    }
    for (std::size_t i = 0; i < data.keys.size(); ++i) {
        const Hash& k = data.keys[i];
        if (k < r.origin || k > r.limit || (i > 0 && !(data.keys[i - 1] < k))) {
            ++stats_.rejected_answers;
            strike(from);
            return;
        }
        if (data.values[i].empty()) {
            range.erase(k);
        } else {
            range[k] = data.values[i];
        }
    }
    std::vector<Bytes> keys;
    std::vector<Bytes> values;
    for (const auto& [k, v] : range) {
        keys.emplace_back(view(k));
        values.push_back(v);
    }
    if (!trie::verify_bounded_range_proof(r.root, view(r.origin), view(r.limit), keys, values, data.proof)) {
        ++stats_.rejected_answers;
        strike(from);
        return;
    }
    if (r.head) {
        // Following: keep the changes since the anchor beside the anchored leaves.
        HeadRegion& head = head_region_of(r);
        head.number = r.number;
        head.root = r.root;
        head.no_delta = false;
        if (!r.delta) head.changes.clear();
        for (std::size_t i = 0; i < data.keys.size(); ++i) head.changes[data.keys[i]] = data.values[i];
        return;
    }
    RegionState& state = state_of(r);
    Leaves& kept = leaves_of(r.account);
    kept.erase(kept.lower_bound(r.origin), kept.upper_bound(r.limit));
    kept.insert(range.begin(), range.end());
    state.anchor_root = r.root;
    state.anchor_number = r.number;
    ++stats_.rolls;
    if (r.account) settle(*r.account);
}

void MgrSync::on_code_data(proto::PeerId from, ByteView frame, proto::Time now) {
    (void)now;
    auto answer = take_answer(from, frame, Request::Kind::kCode, proto::decode_code_data, "CodeData", now);
    if (!answer) return;
    const auto& [data, r] = *answer;
    bool useful = false;
    bool asked = true;
    for (const Bytes& code : data.codes) {
        const Hash h = keccak256(code);
        asked = asked && std::find(r.code_hashes.begin(), r.code_hashes.end(), h) != r.code_hashes.end();
        if (code_wanted_.erase(h) != 0) {
            code_[h] = code;
            useful = true;
        }
    }
    if (!asked) ++stats_.rejected_answers;  // a blob whose hash was not asked: altered, or padding
    if (!useful || !asked) strike(from);
}

void MgrSync::check_done(proto::Time now) {
    if (synced_ || !accounts_done_ || !code_wanted_.empty() || !requests_.empty()) return;
    const uint64_t head = chain_.head();
    const uint64_t boundary = head / options_.epoch_length * options_.epoch_length;
    auto complete = [&](const RegionState& t) { return t.started && !t.cursor && t.anchor_number == boundary; };
    if (!std::all_of(account_regions_.begin(), account_regions_.end(), complete)) return;
    const auto bare = [](const RegionState& t) { return t.bare; };
    for (const auto& [account, regions] : storage_regions_) {
        if (!std::all_of(regions.begin(), regions.end(), complete)) return;
        if (std::any_of(regions.begin(), regions.end(), bare)) settle(account);
        if (std::any_of(regions.begin(), regions.end(), bare) || !std::all_of(regions.begin(), regions.end(), complete))
            return;
    }
    // Every range verified against its root; rebuild the roots as a last check of the whole.
    const auto built = rebuild_anchor_tries();
    if (!built) return;
    if (*built != *chain_.state_root(boundary)) {
        failure_ = "state root mismatch";
        return;
    }
    anchor_number_ = boundary;
    synced_ = true;
    verified_number_ = boundary;
    state_root_ = *built;
    if (!ever_synced_) {
        ever_synced_ = true;
        synced_at_ = now;
    }
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
            const auto before = accounts_.find(key);
            const Hash old_root = before == accounts_.end()
                                      ? trie::kEmptyRoot
                                      : account_of(before->second).value_or(state::Account{}).storage_root;
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
        const auto before = accounts_.find(account);
        const Hash from = before == accounts_.end()
                              ? trie::kEmptyRoot
                              : account_of(before->second).value_or(state::Account{}).storage_root;
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
                accounts_.erase(k);
            } else {
                accounts_[k] = v;
            }
        }
        account_regions_[i].anchor_root = root;
        account_regions_[i].anchor_number = boundary;
    }
    for (const auto& [account, regions] : head_storage_) {
        Leaves& slots = storage_[account];
        for (const HeadRegion& t : regions) {
            for (const auto& [k, v] : t.changes) {
                if (v.empty()) {
                    slots.erase(k);
                } else {
                    slots[k] = v;
                }
            }
        }
    }
    // Every storage trie now held whole at the boundary: complete regions anchored at its new root.
    for (auto it = storage_.begin(); it != storage_.end();) {
        const auto storage_root = storage_root_of(it->first);
        if (!storage_root || *storage_root == trie::kEmptyRoot) {
            storage_regions_.erase(it->first);
            it = storage_.erase(it);
            continue;
        }
        auto& regions = storage_regions_[it->first];
        regions.resize(regions_.size());
        for (RegionState& t : regions) {
            t.started = true;
            t.cursor.reset();
            t.anchor_root = *storage_root;
            t.anchor_number = boundary;
            t.bare = false;  // check_head rebuilt this root
        }
        ++it;
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
    for (const auto& [account, slots] : storage_) {
        trie::Trie t{&anchor_nodes_};
        for (const auto& [k, v] : slots) (void)t.put(view(k), v);
        if (storage_root_of(account) != t.root()) {
            failure_ = "storage root mismatch";
            return std::nullopt;
        }
    }
    trie::Trie state{&anchor_nodes_};
    for (const auto& [k, v] : accounts_) (void)state.put(view(k), v);
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
    Request r;
    r.kind = Request::Kind::kBare;
    r.head = true;
    r.peer = *peer;
    r.budget = pool_.next_budget();
    r.small = true;
    r.region = region;
    r.root = *root;
    r.number = number;
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
    static const Leaves kNone;
    const Region block = storage_region(regions_[region], account);
    const auto held = storage_.find(account);
    const Leaves& anchored = held == storage_.end() ? kNone : held->second;
    t.changes.clear();
    for (auto it = anchored.lower_bound(block.first); it != anchored.end() && it->first <= last_key(block); ++it) {
        if (!now.contains(it->first)) t.changes[it->first] = Bytes{};
    }
    for (const auto& [k, v] : now) {
        const auto a = anchored.find(k);
        if (a == anchored.end() || a->second != v) t.changes[k] = v;
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

Bytes MgrSync::leaf_range_request(uint64_t id, const Request& r) {
    proto::GetChunks get;
    get.request_id = id;
    get.root = r.root;
    get.account = r.account;
    get.prefixes = {nibbles_of(r.origin), nibbles_of(r.limit)};
    get.is_range = true;
    get.max_size = r.budget;
    get.flags = proto::kFlagLeaves;
    return proto::encode(get);
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
    if (const std::size_t i = region_index_of(key); i < head_accounts_.size()) {
        const auto c = head_accounts_[i].changes.find(key);
        if (c != head_accounts_[i].changes.end()) {
            if (c->second.empty()) return std::nullopt;
            return c->second;
        }
    }
    const auto it = accounts_.find(key);
    if (it == accounts_.end()) return std::nullopt;
    return it->second;
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
        failure_ = "head state root mismatch";
        return;
    }
    verified_number_ = number;
}

}  // namespace carousel::mgr
