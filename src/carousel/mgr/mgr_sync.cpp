// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "mgr_sync.hpp"

#include <algorithm>

#include <carousel/core/keccak.hpp>
#include <carousel/state/account.hpp>
#include <carousel/trie/proof.hpp>
#include <carousel/trie/trie.hpp>

namespace carousel::mgr {

namespace {

ByteView view(const Hash& h) { return ByteView{h.data(), h.size()}; }

Nibbles nibbles_of(const Hash& h) { return unpack_nibbles(view(h)); }

// k + 1, or nullopt past the last key.
std::optional<Hash> next_key(Hash k) {
    for (std::size_t i = k.size(); i-- > 0;) {
        if (++k[i] != 0) return k;
    }
    return std::nullopt;
}

std::optional<state::Account> account_of(ByteView rlp) {
    ByteView in = rlp;
    auto a = state::decode_account(in);
    if (!a || !in.empty()) return std::nullopt;
    return *a;
}

}  // namespace

MgrSync::MgrSync(dht::Contact self, SyncOptions options, ChainView chain)
    : dht_(
          [&] {
              self.radius.bits = 0;  // a syncing client stores nothing for the network
              return self;
          }(),
          options.dht, [this](proto::PeerId to, Bytes frame) { send(to, std::move(frame)); },
          [this](proto::PeerId peer, std::string reason) { disconnect(peer, std::move(reason)); }),
      options_(options),
      chain_(std::move(chain)),
      tiles_(tile(options.region_bits)),
      account_tiles_(tiles_.size()),
      window_(options.initial_window) {}

bool MgrSync::window_open() const noexcept {
    return requests_.size() < options_.max_in_flight && (requests_.empty() || outstanding_ + next_budget() <= window_);
}

uint64_t MgrSync::next_budget() const noexcept {
    return std::clamp<uint64_t>(window_ / 4, 16 * 1024, options_.max_response_bytes);
}

proto::Time MgrSync::deadline_for(uint64_t budget, proto::Time now) const noexcept {
    // The receive rate so far (at least 1 KB/s): the outstanding bytes must get through first.
    double rate = 1024;
    if (first_request_.count() >= 0 && now > first_request_) {
        rate = std::max(rate, static_cast<double>(stats_.bytes_received) /
                                  std::chrono::duration<double>(now - first_request_).count());
    }
    const auto queue = std::chrono::duration<double>(static_cast<double>(outstanding_ + budget) / rate);
    return now + options_.request_timeout + std::chrono::duration_cast<proto::Time>(queue);
}

void MgrSync::track(uint64_t id, Request r, proto::Time now) {
    if (first_request_.count() < 0) first_request_ = now;
    r.deadline = deadline_for(r.budget, now);
    outstanding_ += r.budget;
    ++in_flight_[r.peer];
    requests_[id] = std::move(r);
}

std::optional<MgrSync::Request> MgrSync::take(uint64_t id, proto::PeerId from, uint8_t kind, std::size_t frame_bytes) {
    const auto it = requests_.find(id);
    if (it == requests_.end() || it->second.peer != from || static_cast<uint8_t>(it->second.kind) != kind) {
        return std::nullopt;
    }
    Request r = std::move(it->second);
    requests_.erase(it);
    --in_flight_[from];
    outstanding_ -= std::min(outstanding_, r.budget);
    window_ = std::min(options_.max_window, window_ + std::max<uint64_t>(frame_bytes, 1024));
    return r;
}

double MgrSync::progress() const {
    if (synced_) return 1.0;
    auto done = [](const std::vector<TileState>& tiles) {
        return static_cast<double>(
            std::count_if(tiles.begin(), tiles.end(), [](const TileState& t) { return t.started && !t.cursor; }));
    };
    const double accounts = done(account_tiles_) / static_cast<double>(tiles_.size());
    if (!accounts_done_) return 0.5 * accounts;
    double storage_done = 0;
    double storage_all = 0;
    for (const auto& [_, tiles] : storage_tiles_) {
        storage_done += done(tiles);
        storage_all += static_cast<double>(tiles.size());
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
    connected_.insert(peer);
    dht_.on_connect(peer, now);
}

void MgrSync::on_disconnect(proto::PeerId peer, proto::Time now) {
    connected_.erase(peer);
    dht_.on_disconnect(peer, now);
    // Its requests fail now.
    for (auto it = requests_.begin(); it != requests_.end();) {
        if (it->second.peer != peer) {
            ++it;
            continue;
        }
        if (it->second.whole) whole_pending_.erase(*it->second.account);
        release(it->second);
        outstanding_ -= std::min(outstanding_, it->second.budget);
        it = requests_.erase(it);
    }
    in_flight_.erase(peer);
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
        if (it->second.deadline > now) {
            ++it;
            continue;
        }
        ++stats_.timeouts;
        if (it->second.whole) whole_pending_.erase(*it->second.account);
        release(it->second);
        --in_flight_[it->second.peer];
        outstanding_ -= std::min(outstanding_, it->second.budget);
        window_ = std::max(options_.initial_window / 4, window_ / 2);
        strike(it->second.peer);
        it = requests_.erase(it);
    }
    if (now >= next_tick_) {
        next_tick_ = now + options_.tick;
        pump(now);
    }
}

MgrSync::TileState& MgrSync::state_of(const Request& r) {
    return r.account ? storage_tiles_.at(*r.account)[r.tile] : account_tiles_[r.tile];
}

bool MgrSync::live(const Request& r) const {
    if (r.kind == Request::Kind::kCode) return true;
    if (r.head) {
        if (!r.account) return r.tile < head_accounts_.size();
        const auto it = head_storage_.find(*r.account);
        return it != head_storage_.end() && r.tile < it->second.size();
    }
    return !r.account || storage_tiles_.contains(*r.account);
}

void MgrSync::release(const Request& r) {
    if (r.kind == Request::Kind::kCode || !live(r)) return;
    if (r.head) {
        head_tile_of(r).busy = false;
    } else {
        state_of(r).busy = false;
    }
}

MgrSync::HeadTile& MgrSync::head_tile_of(const Request& r) {
    if (!r.account) return head_accounts_.at(r.tile);
    return head_storage_.at(*r.account).at(r.tile);
}

MgrSync::Leaves& MgrSync::leaves_of(const std::optional<Hash>& account) {
    return account ? storage_[*account] : accounts_;
}

std::size_t MgrSync::tile_index_of(const Hash& position) const noexcept {
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
    if (++strikes_[peer] >= options_.strikes_to_ban && banned_.insert(peer).second) ++stats_.banned_peers;
}

std::optional<proto::PeerId> MgrSync::pick_peer(const Hash& position, proto::Time now) {
    std::vector<dht::Contact> candidates = dht_.table().covering(position);
    // The closest tile's lookup results add nodes the table does not hold.
    const std::size_t tile_index = tile_index_of(position);
    for (const dht::Contact& c : found_[tile_index]) {
        if (dht::covers(c.id, c.radius, position)) candidates.push_back(c);
    }
    std::optional<proto::PeerId> best;
    std::size_t best_load = options_.max_in_flight_per_peer;
    for (const dht::Contact& c : candidates) {
        if (banned_.contains(c.peer) || !connected_.contains(c.peer)) continue;
        if (const auto b = behind_.find(c.peer); b != behind_.end() && now < b->second) continue;
        const std::size_t load = in_flight_[c.peer];
        if (load < best_load) {
            best = c.peer;
            best_load = load;
        }
    }
    const auto last = last_lookup_.find(tile_index);
    const bool recently = last != last_lookup_.end() && now < last->second + std::chrono::seconds{2};
    if (!best && candidates.empty() && !looking_up_.contains(tile_index) && !recently) {
        last_lookup_[tile_index] = now;
        looking_up_.insert(tile_index);
        ++stats_.lookups;
        dht_.start_lookup(tiles_[tile_index].first, now, [this, tile_index](std::vector<dht::Contact> closest) {
            looking_up_.erase(tile_index);
            found_[tile_index] = std::move(closest);
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
    for (std::size_t i = 0; i < tiles_.size() && window_open(); ++i) {
        pump_tile(i, std::nullopt, account_tiles_[i], boundary, now);
    }
    accounts_done_ = std::all_of(account_tiles_.begin(), account_tiles_.end(), [&](const TileState& t) {
        return t.started && !t.cursor && t.anchor_number == boundary && !t.busy;
    });
    if (!accounts_done_) return;
    if (reconciled_ != boundary) {
        // The second lap, once per boundary on accounts current there: every account with storage,
        // every tile of its trie (tries of accounts gone or emptied are dropped); code of every account.
        reconciled_ = boundary;
        storage_roots_.clear();
        for (const auto& [key, rlp] : accounts_) {
            auto a = account_of(rlp);
            if (!a) continue;
            if (a->storage_root != trie::kEmptyRoot) {
                storage_roots_[key] = a->storage_root;
                if (!storage_tiles_.contains(key)) storage_tiles_[key].resize(tiles_.size());
            }
            if (a->code_hash != state::kEmptyCodeHash && !code_.contains(a->code_hash))
                code_wanted_.insert(a->code_hash);
        }
        for (auto it = storage_tiles_.begin(); it != storage_tiles_.end();) {
            if (storage_roots_.contains(it->first)) {
                ++it;
                continue;
            }
            storage_.erase(it->first);
            it = storage_tiles_.erase(it);
        }
    }
    for (auto& [account, tiles] : storage_tiles_) {
        if (!whole_tried_.contains(account)) {
            if (!window_open()) break;
            request_whole(account, now);
            continue;
        }
        if (whole_pending_.contains(account)) continue;
        for (std::size_t i = 0; i < tiles.size() && window_open(); ++i) {
            pump_tile(i, account, tiles[i], boundary, now);
        }
        if (!window_open()) break;
    }
    pump_code(now);
    check_done(now);
}

bool MgrSync::pump_tile(std::size_t tile, const std::optional<Hash>& account, TileState& state, uint64_t boundary,
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
    const Block block = account ? storage_block(tiles_[tile], *account) : tiles_[tile];
    // Which request: roll the held range forward, or fetch from the cursor.
    const bool roll = state.started && state.anchor_number != boundary && state.cursor != block.first;
    if (state.started && state.anchor_number != boundary && !roll) {
        state.anchor_number = boundary;  // nothing held yet: just start at the new root
        state.anchor_root = *root;
    }
    const auto peer = pick_peer(account ? tiles_[tile].first : block.first, now);
    if (!peer) return false;
    Request r;
    r.peer = *peer;
    r.budget = next_budget();
    r.tile = tile;
    r.account = account;
    r.root = *root;
    r.number = boundary;
    const uint64_t id = next_request_id_++;
    if (roll) {
        // Held: [block.first, cursor - 1] (or the whole block).
        r.kind = Request::Kind::kDiff;
        r.origin = block.first;
        r.limit = block_last(block);
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
        r.limit = block_last(block);
        proto::GetChunks get;
        get.request_id = id;
        get.root = *root;
        get.account = account;
        get.prefixes = {nibbles_of(r.origin), nibbles_of(r.limit)};
        get.is_range = true;
        get.max_size = r.budget;
        get.flags = proto::kFlagLeaves;
        send(*peer, proto::encode(get));
        ++stats_.chunk_requests;
    }
    state.busy = true;
    track(id, std::move(r), now);
    return true;
}

void MgrSync::request_whole(const Hash& account, proto::Time now) {
    const auto root = storage_roots_.find(account);
    if (root == storage_roots_.end()) return;
    // Every node holds its part of every storage trie: spread these over the tiles' nodes.
    const std::size_t tile = tile_index_of(account);
    const auto peer = pick_peer(tiles_[tile].first, now);
    if (!peer) return;
    whole_tried_.insert(account);
    whole_pending_.insert(account);
    Request r;
    r.kind = Request::Kind::kChunk;
    r.whole = true;
    r.peer = *peer;
    r.budget = next_budget();
    r.tile = 0;
    r.account = account;
    r.root = root->second;
    r.number = reconciled_;
    const uint64_t id = next_request_id_++;
    proto::GetChunks get;
    get.request_id = id;
    get.root = r.root;
    get.account = account;
    get.prefixes = {Nibbles{}};
    get.max_size = r.budget;
    get.flags = proto::kFlagLeaves;
    send(*peer, proto::encode(get));
    ++stats_.chunk_requests;
    track(id, std::move(r), now);
}

void MgrSync::on_whole(proto::PeerId from, const Request& r, const proto::ChunkEntry& e, proto::Time now) {
    whole_pending_.erase(*r.account);
    if (e.error) {
        // 0x1 is the expected answer for a trie too big for one node's partial trie: walk the tiles.
        if (*e.error == proto::ChunkError::kUnknownRoot) behind_[from] = now + std::chrono::seconds{5};
        return;
    }
    const auto root = storage_roots_.find(*r.account);
    if (root == storage_roots_.end() || root->second != r.root || e.stop_path) return;  // stale, or cut: tiles
    trie::Trie t;
    for (std::size_t i = 0; i < e.keys.size(); ++i) {
        if ((i > 0 && !(e.keys[i - 1] < e.keys[i])) || e.values.size() != e.keys.size() || e.values[i].empty()) {
            ++stats_.rejected_answers;
            strike(from);
            return;
        }
        (void)t.put(view(e.keys[i]), e.values[i]);
    }
    if (t.root() != r.root) {
        ++stats_.rejected_answers;
        strike(from);
        return;
    }
    Leaves& leaves = storage_[*r.account];
    leaves.clear();
    for (std::size_t i = 0; i < e.keys.size(); ++i) leaves[e.keys[i]] = e.values[i];
    for (TileState& tile : storage_tiles_.at(*r.account)) {
        if (tile.busy) continue;  // cannot be: tiles wait for the whole answer
        tile.started = true;
        tile.cursor.reset();
        tile.anchor_root = r.root;
        tile.anchor_number = r.number;
    }
}

void MgrSync::pump_code(proto::Time now) {
    // Code travels by hash: ask the node covering each hash, a few at a time.
    std::map<proto::PeerId, std::vector<Hash>> batches;
    std::set<Hash> asked;
    for (const auto& [_, r] : requests_) {
        asked.insert(r.code_hashes.begin(), r.code_hashes.end());
    }
    for (const Hash& h : code_wanted_) {
        if (asked.contains(h) || !window_open() || batches.size() >= 4) continue;
        const auto peer = pick_peer(h, now);
        if (!peer) continue;
        auto& batch = batches[*peer];
        if (batch.size() < 64) batch.push_back(h);
    }
    for (auto& [peer, hashes] : batches) {
        const uint64_t id = next_request_id_++;
        Request r;
        r.kind = Request::Kind::kCode;
        r.peer = peer;
        r.budget = next_budget();
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
    if (dht::Dht::handles(frame[0])) {
        dht_.on_frame(from, frame, now);
        return;
    }
    switch (static_cast<proto::MessageType>(frame[0])) {
        case proto::MessageType::kChunkData:
            on_chunk_data(from, frame, now);
            break;
        case proto::MessageType::kDiffData:
            on_diff_data(from, frame, now);
            break;
        case proto::MessageType::kCodeData:
            on_code_data(from, frame, now);
            break;
        case proto::MessageType::kOffer:
            // A client stores nothing for the network: it wants no gossip.
            if (auto offer = proto::decode_offer(frame))
                send(from, proto::encode(proto::Accept{offer->request_id, {}}));
            break;
        case proto::MessageType::kGetChunks:
        case proto::MessageType::kGetDiff:
        case proto::MessageType::kGetCode:
            break;  // it serves nothing: the peer's request times out
        default:
            disconnect(from, "mgr sync: unexpected message type " + std::to_string(frame[0]));
            return;
    }
    pump(now);
}

void MgrSync::on_chunk_data(proto::PeerId from, ByteView frame, proto::Time now) {
    auto data = proto::decode_chunk_data(frame);
    if (!data) {
        disconnect(from, std::string{"mgr sync: bad ChunkData: "} + std::string{proto::to_string(data.error())});
        return;
    }
    const auto taken = take(data->request_id, from, static_cast<uint8_t>(Request::Kind::kChunk), frame.size());
    if (!taken) return;
    const Request& r = *taken;
    if (r.whole) whole_pending_.erase(*r.account);
    if (!live(r)) return;  // the tile was dropped meanwhile (its trie emptied, or a new boundary)
    if (data->entries.size() != 1) {
        ++stats_.rejected_answers;
        strike(from);
        return;
    }
    if (r.whole) {
        on_whole(from, r, data->entries[0], now);
        return;
    }
    release(r);
    TileState& state = state_of(r);
    const proto::ChunkEntry& e = data->entries[0];
    if (e.error) {
        ++stats_.errors;
        // 0x0: the node has not reached this root yet (gossip is still spreading) or has fallen
        // behind: not an offence, but ask others for a while. 0x2: back off. Others are offences.
        if (*e.error == proto::ChunkError::kUnknownRoot || *e.error == proto::ChunkError::kBackOff) {
            behind_[from] = now + std::chrono::seconds{5};
        } else {
            strike(from);
        }
        return;
    }
    // The anchor may have moved while the request was out: an answer at the old root is stale.
    if (state.anchor_root != r.root || state.cursor != r.origin || !e.leaf_mode) {
        if (!e.leaf_mode) strike(from);
        return;
    }
    std::vector<Bytes> keys;
    keys.reserve(e.keys.size());
    for (const Hash& k : e.keys) keys.emplace_back(view(k));
    auto verified =
        e.stop_path ? trie::verify_range_proof(r.root, view(r.origin), keys, e.values, e.proof)
                    : trie::verify_bounded_range_proof(r.root, view(r.origin), view(r.limit), keys, e.values, e.proof);
    if (!verified || (e.stop_path && e.keys.empty())) {
        ++stats_.rejected_answers;
        strike(from);
        return;
    }
    Leaves& leaves = leaves_of(r.account);
    for (std::size_t i = 0; i < e.keys.size(); ++i) {
        if (e.keys[i] > r.limit) break;  // a cut answer proves up to its last key only
        leaves[e.keys[i]] = e.values[i];
    }
    if (!e.stop_path) {
        state.cursor.reset();
        return;
    }
    Hash last = e.keys.back();
    if (last >= r.limit) {
        state.cursor.reset();
        return;
    }
    state.cursor = next_key(last);
}

void MgrSync::on_diff_data(proto::PeerId from, ByteView frame, proto::Time now) {
    auto data = proto::decode_diff_data(frame);
    if (!data) {
        disconnect(from, std::string{"mgr sync: bad DiffData: "} + std::string{proto::to_string(data.error())});
        return;
    }
    const auto taken = take(data->request_id, from, static_cast<uint8_t>(Request::Kind::kDiff), frame.size());
    if (!taken) return;
    const Request& r = *taken;
    if (!live(r)) return;
    release(r);
    if (data->error) {
        ++stats_.errors;
        if (*data->error == proto::ChunkError::kUnknownRoot || *data->error == proto::ChunkError::kBackOff) {
            behind_[from] = now + std::chrono::seconds{5};
        } else {
            strike(from);
        }
        return;
    }
    // Apply the changes to a copy of the held leaves of the range, check the result against the new
    // root with the range proof, and keep it only then.
    static const Leaves kNone;
    const bool held = !r.account || storage_.contains(*r.account);
    const Leaves& leaves = held ? leaves_of(r.account) : kNone;  // a trie new since the anchor: none held
    Leaves range{leaves.lower_bound(r.origin), leaves.upper_bound(r.limit)};
    for (std::size_t i = 0; i < data->keys.size(); ++i) {
        const Hash& k = data->keys[i];
        if (k < r.origin || k > r.limit || (i > 0 && !(data->keys[i - 1] < k))) {
            ++stats_.rejected_answers;
            strike(from);
            return;
        }
        if (data->values[i].empty()) {
            range.erase(k);
        } else {
            range[k] = data->values[i];
        }
    }
    std::vector<Bytes> keys;
    std::vector<Bytes> values;
    for (const auto& [k, v] : range) {
        keys.emplace_back(view(k));
        values.push_back(v);
    }
    if (!trie::verify_bounded_range_proof(r.root, view(r.origin), view(r.limit), keys, values, data->proof)) {
        ++stats_.rejected_answers;
        strike(from);
        return;
    }
    if (r.head) {
        // Following: keep the changes beside the anchored leaves (the nodes diff from the boundary).
        HeadTile& head = head_tile_of(r);
        head.number = r.number;
        head.root = r.root;
        head.changes.clear();
        for (std::size_t i = 0; i < data->keys.size(); ++i) head.changes[data->keys[i]] = data->values[i];
        return;
    }
    TileState& state = state_of(r);
    Leaves& kept = leaves_of(r.account);
    kept.erase(kept.lower_bound(r.origin), kept.upper_bound(r.limit));
    kept.insert(range.begin(), range.end());
    state.anchor_root = r.root;
    state.anchor_number = r.number;
    ++stats_.rolls;
}

void MgrSync::on_code_data(proto::PeerId from, ByteView frame, proto::Time now) {
    (void)now;
    auto data = proto::decode_code_data(frame);
    if (!data) {
        disconnect(from, std::string{"mgr sync: bad CodeData: "} + std::string{proto::to_string(data.error())});
        return;
    }
    const auto taken = take(data->request_id, from, static_cast<uint8_t>(Request::Kind::kCode), frame.size());
    if (!taken) return;
    bool useful = false;
    for (const Bytes& code : data->codes) {
        const Hash h = keccak256(code);
        if (code_wanted_.erase(h) != 0) {
            code_[h] = code;
            useful = true;
        }
    }
    if (!useful) strike(from);
}

void MgrSync::check_done(proto::Time now) {
    if (synced_ || !accounts_done_ || !code_wanted_.empty() || !requests_.empty()) return;
    const uint64_t head = chain_.head();
    const uint64_t boundary = head / options_.epoch_length * options_.epoch_length;
    auto complete = [&](const TileState& t) { return t.started && !t.cursor && t.anchor_number == boundary; };
    if (!std::all_of(account_tiles_.begin(), account_tiles_.end(), complete)) return;
    for (const auto& [_, tiles] : storage_tiles_) {
        if (!std::all_of(tiles.begin(), tiles.end(), complete)) return;
    }
    // Every range verified against its root; rebuild the roots as a last check of the whole.
    for (const auto& [account, slots] : storage_) {
        trie::Trie t;
        for (const auto& [k, v] : slots) (void)t.put(view(k), v);
        if (storage_root_of(account) != t.root()) {
            failure_ = "storage root mismatch";
            return;
        }
    }
    trie::Trie state;
    for (const auto& [k, v] : accounts_) (void)state.put(view(k), v);
    if (state.root() != *chain_.state_root(boundary)) {
        failure_ = "state root mismatch";
        return;
    }
    anchor_number_ = boundary;
    synced_ = true;
    verified_number_ = boundary;
    state_root_ = state.root();
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
    // 1. Every account tile's changes from the boundary to the head, checked against the head root.
    head_accounts_.resize(tiles_.size());
    bool accounts_current = true;
    for (std::size_t i = 0; i < tiles_.size(); ++i) {
        if (head_accounts_[i].number == head) continue;
        accounts_current = false;
        if (!head_accounts_[i].busy && window_open())
            request_head_diff(i, std::nullopt, *anchor_root, *root, head, now);
    }
    if (!accounts_current) return;
    // 2. Every storage trie whose root moved: its tiles' changes, checked against its new root.
    std::set<Hash> moved;
    for (const HeadTile& t : head_accounts_) {
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
    for (const Hash& account : moved) {
        auto& tiles = head_storage_[account];
        tiles.resize(tiles_.size());
        const auto before = accounts_.find(account);
        const Hash from = before == accounts_.end()
                              ? trie::kEmptyRoot
                              : account_of(before->second).value_or(state::Account{}).storage_root;
        const auto after = head_account(account);
        const Hash to = after ? account_of(*after).value_or(state::Account{}).storage_root : trie::kEmptyRoot;
        for (std::size_t i = 0; i < tiles.size(); ++i) {
            if (tiles[i].number == head) continue;
            if (tiles[i].number != 0 && tiles[i].root == to) {
                tiles[i].number = head;  // the trie did not change since: the same changes hold
                continue;
            }
            storage_current = false;
            if (!tiles[i].busy && window_open()) request_head_diff(i, account, from, to, head, now);
        }
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
        account_tiles_[i].anchor_root = root;
        account_tiles_[i].anchor_number = boundary;
    }
    for (const auto& [account, tiles] : head_storage_) {
        Leaves& slots = storage_[account];
        for (const HeadTile& t : tiles) {
            for (const auto& [k, v] : t.changes) {
                if (v.empty()) {
                    slots.erase(k);
                } else {
                    slots[k] = v;
                }
            }
        }
    }
    // Every storage trie now held whole at the boundary: complete tiles anchored at its new root.
    for (auto it = storage_.begin(); it != storage_.end();) {
        const auto storage_root = storage_root_of(it->first);
        if (!storage_root || *storage_root == trie::kEmptyRoot) {
            storage_tiles_.erase(it->first);
            it = storage_.erase(it);
            continue;
        }
        auto& tiles = storage_tiles_[it->first];
        tiles.resize(tiles_.size());
        for (TileState& t : tiles) {
            t.started = true;
            t.cursor.reset();
            t.anchor_root = *storage_root;
            t.anchor_number = boundary;
        }
        ++it;
    }
    for (auto& [account, tiles] : storage_tiles_) {
        for (TileState& t : tiles) t.anchor_number = boundary;
    }
    head_accounts_.clear();
    head_storage_.clear();
    anchor_number_ = boundary;
}

void MgrSync::request_head_diff(std::size_t tile, const std::optional<Hash>& account, const Hash& from_root,
                                const Hash& to_root, uint64_t number, proto::Time now) {
    const Block block = account ? storage_block(tiles_[tile], *account) : tiles_[tile];
    const auto peer = pick_peer(tiles_[tile].first, now);
    if (!peer) return;
    Request r;
    r.kind = Request::Kind::kDiff;
    r.head = true;
    r.peer = *peer;
    r.budget = next_budget();
    r.tile = tile;
    r.account = account;
    r.root = to_root;
    r.number = number;
    r.origin = block.first;
    r.limit = block_last(block);
    const uint64_t id = next_request_id_++;
    send(*peer, proto::encode(proto::GetDiff{id, from_root, to_root, nibbles_of(r.origin), nibbles_of(r.limit)}));
    ++stats_.diff_requests;
    head_tile_of(r).busy = true;
    track(id, std::move(r), now);
}

std::optional<Bytes> MgrSync::head_account(const Hash& key) const {
    if (const std::size_t i = tile_index_of(key); i < head_accounts_.size()) {
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
    // Every tile verified against the head root; rebuild the head root (and every moved storage
    // root) from the anchored leaves and the changes as a last check of the whole.
    Leaves head_leaves = accounts_;
    for (const HeadTile& t : head_accounts_) {
        for (const auto& [k, v] : t.changes) {
            if (v.empty()) {
                head_leaves.erase(k);
            } else {
                head_leaves[k] = v;
            }
        }
    }
    for (const auto& [account, tiles] : head_storage_) {
        Leaves slots;
        if (const auto s = storage_.find(account); s != storage_.end()) slots = s->second;
        for (const HeadTile& t : tiles) {
            for (const auto& [k, v] : t.changes) {
                if (v.empty()) {
                    slots.erase(k);
                } else {
                    slots[k] = v;
                }
            }
        }
        trie::Trie t;
        for (const auto& [k, v] : slots) (void)t.put(view(k), v);
        const auto a = head_leaves.find(account);
        const Hash want =
            a == head_leaves.end() ? trie::kEmptyRoot : account_of(a->second).value_or(state::Account{}).storage_root;
        if (t.root() != want) {
            failure_ = "head storage root mismatch";
            return;
        }
    }
    trie::Trie state;
    for (const auto& [k, v] : head_leaves) (void)state.put(view(k), v);
    state_root_ = state.root();
    if (state_root_ != chain_.state_root(number)) {
        failure_ = "head state root mismatch";
        return;
    }
    verified_number_ = number;
}

}  // namespace carousel::mgr
