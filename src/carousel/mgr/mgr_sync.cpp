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

#include "mgr_sync_parts.hpp"

namespace carousel::mgr {

using sync_parts::account_of;
using sync_parts::digest_of;
using sync_parts::verify_leaves;
using sync_parts::view;

MgrSync::MgrSync(const dht::KeyPair& key, dht::NodeEndpoint endpoint, MgrSyncOptions options, ChainView chain)
    : overlay_(
          key,
          [&] {
              endpoint.radius.bits = 0;  // a syncing client stores nothing for the network
              return dht::make_node_record(key, 1, endpoint).value();
          }(),
          options.overlay, driver(),
          dht::Overlay::Core{[this](const dht::NodeId& from, ByteView frame, proto::Time now) {
                                 on_node_frame(handles().handle(from), frame, now);
                             },
                             [this](const dht::NodeId& node, proto::Time) { lost_[handles().handle(node)] = true; }}),
      options_(options),
      chain_(std::move(chain)),
      regions_(all_regions(options.region_bits)),
      account_regions_(regions_.size()),
      leaves_(options.leaf_kv != nullptr ? std::unique_ptr<SyncLeaves>{std::make_unique<KvSyncLeaves>(*options.leaf_kv)}
                                         : std::make_unique<MemorySyncLeaves>()),
      bare_walks_(regions_.size()),
      pool_(pool_options(options)),
      covering_(
          pool_contacts(), pool_, regions_, options.region_bits, options.unserved_timeout,
          [this](proto::PeerId peer) { return connected(peer); },
          [this] { return overlay_.connections().size() < overlay_.connections().options().max_peers; }) {}

void MgrSync::bootstrap(const dht::NodeRecord& bootnode, proto::Time now) {
    at(now);
    overlay_.bootstrap(bootnode, now);
    self_lookup_at_ = now + std::chrono::seconds{1};
}

ContactSource MgrSync::pool_contacts() {
    ContactSource overlay_contacts = contacts();
    const auto admit = [this](std::vector<dht::Contact>& found) {
        for (const dht::Contact& c : found) {
            const auto paused = unreachable_until_.find(c.peer);
            if (paused != unreachable_until_.end()) {
                if (now() < paused->second) continue;
                unreachable_until_.erase(paused);
            }
            pool_.add(c.peer);
        }
    };
    return ContactSource{
        [covering = overlay_contacts.covering, admit](const Hash& key) {
            auto found = covering(key);
            admit(found);
            return found;
        },
        [lookup = overlay_contacts.lookup, admit](const Hash& target, proto::Time now, ContactSource::LookupDone done) {
            lookup(target, now, [admit, done = std::move(done)](std::vector<dht::Contact> found) {
                admit(found);
                done(std::move(found));
            });
        }};
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
    const auto add = [&n](const Hash&, ByteView value) { n += 32 + value.size(); };
    leaves_->visit_all(std::nullopt, add);
    for (const Hash& owner : leaves_->owners()) leaves_->visit_all(owner, add);
    for (const auto& [_, c] : code_) n += c.size();
    return n;
}

std::size_t MgrSync::accounts() const { return leaves_->count_all(std::nullopt); }

std::size_t MgrSync::slots() const {
    std::size_t n = 0;
    for (const Hash& owner : leaves_->owners()) n += leaves_->count_all(owner);
    return n;
}

void MgrSync::on_node_disconnected(const dht::NodeId& node, proto::Time) {
    lost_.emplace(handles().handle(node), false);
}

void MgrSync::take_lost(proto::Time now) {
    while (!lost_.empty()) {
        const auto [peer, unreachable] = *lost_.begin();
        lost_.erase(lost_.begin());
        lost(peer, unreachable, now);
    }
}

void MgrSync::lost(proto::PeerId peer, bool unreachable, proto::Time now) {
    if (unreachable) unreachable_until_[peer] = now + options_.unserved_timeout;
    if (header_poll_) header_poll_->on_peer_gone(peer, now);  // the next goes at once
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
    // A closed connection is routine (idle, evicted): the node is dialed again when asked. One that
    // could not be reached leaves the lookup results.
    if (unreachable) covering_.forget(peer);
}

std::optional<proto::Time> MgrSync::core_deadline() const {
    if (!lost_.empty()) return now();
    std::optional<proto::Time> t = next_tick_;
    if (self_lookup_at_ && *self_lookup_at_ < *t) t = self_lookup_at_;
    // The poll asks the table's contacts: with none, its deadline waits for one.
    if (header_poll_ && overlay_.discovery().table().size() != 0 && header_poll_->next_deadline() < *t) {
        t = header_poll_->next_deadline();
    }
    return t;
}

void MgrSync::on_core_timer(proto::Time now) {
    take_lost(now);
    if (self_lookup_at_ && now >= *self_lookup_at_) {
        self_lookup_at_.reset();
        overlay_.discovery().start_lookup(overlay_.id(), now, [](const std::vector<dht::Contact>&) {});
    }
    poll_headers(now);
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

std::optional<Hash> MgrSync::storage_root_of(const Hash& account) const {
    const auto rlp = leaves_->find(std::nullopt, account);
    if (!rlp) return std::nullopt;
    auto a = account_of(*rlp);
    if (!a) return std::nullopt;
    return a->storage_root;
}

bool MgrSync::leaves_failed() {
    const Status& s = leaves_->status();
    if (s.ok()) return false;
    if (failure_.empty()) failure_ = "leaf store: " + s.to_string();
    return true;
}

void MgrSync::pump(proto::Time now) {
    if (leaves_failed()) return;
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
        leaves_->visit_all(std::nullopt, [&](const Hash& key, ByteView rlp) {
            auto a = account_of(rlp);
            if (!a) return;
            if (a->storage_root != trie::kEmptyRoot) {
                storage_roots_[key] = a->storage_root;
                if (!storage_regions_.contains(key)) storage_regions_[key].resize(regions_.size());
            }
            if (a->code_hash != state::kEmptyCodeHash && !code_.contains(a->code_hash))
                code_wanted_.insert(a->code_hash);
        });
        for (auto it = storage_regions_.begin(); it != storage_regions_.end();) {
            if (storage_roots_.contains(it->first)) {
                ++it;
                continue;
            }
            leaves_->erase_all(it->first);
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
        leaves_->erase_range(account, block.first, last_key(block));
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
    Request r = new_request(Request::Kind::kChunk, *peer, region, *root, boundary);
    r.account = account;
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

void MgrSync::on_node_frame(proto::PeerId from, ByteView frame, proto::Time now) {
    take_lost(now);
    if (frame.empty()) {
        disconnect(from, "mgr sync: empty frame");
        return;
    }
    stats_.bytes_received += frame.size();
    pool_.received(frame.size());
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
        case proto::MessageType::kGetHeaders:
            on_get_headers(from, frame);
            return;
        case proto::MessageType::kHeaders:
            on_headers(from, frame, now);
            break;
        default:
            disconnect(from, "mgr sync: unexpected message type " + std::to_string(frame[0]));
            return;
    }
    pump(now);
}

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
    for (std::size_t i = 0; i < *in_range; ++i) leaves_->put(r.account, e.keys[i], e.values[i]);
    const Hash last = e.keys.empty() ? r.limit : e.keys.back();
    if (e.stop_path && last < r.limit) {
        state.cursor = next_key(last);
        return;
    }
    state.cursor.reset();
    if (!r.account) return;
    if (!state.claims.empty()) {
        // The proven part replaces bare ones that failed its trie's root: which were different?
        const Hash digest = digest_of(*leaves_, r.account, storage_region(regions_[r.region], *r.account));
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
    Leaves range;  // none held of a trie new since the anchor
    leaves_->visit(r.account, r.origin, r.limit,
                   [&range](const Hash& k, ByteView v) { range.emplace_hint(range.end(), k, Bytes{v}); });
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
    leaves_->replace_range(r.account, r.origin, r.limit, range);
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

}  // namespace carousel::mgr
