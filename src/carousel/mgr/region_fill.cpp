// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "region_fill.hpp"

#include <algorithm>

#include <carousel/core/keccak.hpp>
#include <carousel/proto/mgr_messages.hpp>
#include <carousel/proto/prefix_messages.hpp>
#include <carousel/state/account.hpp>
#include <carousel/trie/leaf_range.hpp>
#include <carousel/trie/node.hpp>
#include <carousel/trie/proof.hpp>
#include <carousel/trie/trie.hpp>

#include "partial_trie.hpp"

namespace carousel::mgr {

namespace {

ByteView view(const Hash& h) { return ByteView{h.data(), h.size()}; }

// The verified pool as one fetch sees it: only the nodes this fetch stored. Its TrieSync takes a node
// in its store for a complete subtree of its range; another fetch's node may be complete only for
// another range of the same trie (the stems the regions share).
class FetchStore final : public trie::NodeStore {
  public:
    FetchStore(trie::MemoryNodeStore& pool, std::unordered_set<Hash, trie::HashHasher>& held)
        : pool_(pool), held_(held) {}
    std::optional<Bytes> get_node(const Hash& hash) const override {
        if (!own_.contains(hash)) return std::nullopt;
        return pool_.get_node(hash);
    }
    void put_node(const Hash& hash, ByteView rlp) override {
        own_.insert(hash);
        if (held_.insert(hash).second) pool_.put_node(hash, rlp);
    }

  private:
    trie::MemoryNodeStore& pool_;
    std::unordered_set<Hash, trie::HashHasher>& held_;
    std::unordered_set<Hash, trie::HashHasher> own_;
};

}  // namespace

RegionFill::TrieFetch RegionFill::make_fetch(std::optional<Hash> account, const Hash& root, trie::PathRange range,
                                             const Hash& position) {
    TrieFetch f;
    f.account = account;
    f.root = root;
    f.range = std::move(range);
    f.position = position;
    f.complete = root == trie::kEmptyRoot;
    if (f.complete) return f;
    f.store = std::make_unique<FetchStore>(verified_->pool, verified_->held);
    f.sync = std::make_unique<trie::TrieSync>(*f.store, root);
    f.sync->restrict_to(f.range);
    return f;
}

RegionFill::RegionFill(std::vector<Region> regions, std::vector<Region> code_regions, unsigned region_bits,
                       uint64_t number, const Hash& root, FillOptions options, SendFn send, PeersFn peers,
                       StrikeFn strike, uint64_t first_request_id)
    : regions_(std::move(regions)),
      code_regions_(std::move(code_regions)),
      region_bits_(region_bits),
      number_(number),
      root_(root),
      options_(options),
      send_(std::move(send)),
      peers_(std::move(peers)),
      strike_(std::move(strike)),
      pool_(pool_options(options, first_request_id)) {
    for (const Region& r : regions_) tries_.push_back(make_fetch(std::nullopt, root_, path_range(r), r.first));
    for (const Region& t : all_regions(region_bits_)) {
        const bool own = std::any_of(regions_.begin(), regions_.end(), [&](const Region& r) { return r == t; });
        if (!own) walks_.push_back(AccountWalk{t, t.first, false});
    }
    presence_.resize(regions_.size());
    if (root_ == trie::kEmptyRoot) {
        for (PresenceWalk& w : presence_) w.from.reset();
    }
}

bool RegionFill::done() const noexcept {
    return storage_started_ && first_open_ == tries_.size() && code_wanted_.empty() && requests_.empty() &&
           std::all_of(presence_.begin(), presence_.end(), [](const PresenceWalk& w) { return !w.from; });
}

dht::PeerPoolOptions RegionFill::pool_options(const FillOptions& options, uint64_t first_request_id) {
    dht::PeerPoolOptions o;
    o.first_request_id = first_request_id;
    // A fixed window per peer: a fill asks few peers for a short while, each as much as the cap.
    o.initial_window = o.min_window = o.max_window = options.max_in_flight_per_peer;
    o.request_timeout = options.request_timeout;
    o.queue_deadlines = true;  // every request's budget is max_response_bytes
    o.min_rate = options.min_rate;
    o.ban_standing = -1;           // one wrong answer and the peer is not asked again in this fill
    o.require_connection = false;  // the candidates come from the node's routing table
    return o;
}

std::optional<proto::PeerId> RegionFill::pick(const Hash& position, proto::Time now) const {
    if (!pumping_) return pool_.choose(peers_(position), now).peer;
    auto it = pump_covering_.find(position);
    if (it == pump_covering_.end()) it = pump_covering_.emplace(position, peers_(position)).first;
    return pool_.choose(it->second, now).peer;
}

void RegionFill::track(uint64_t id, Request r, proto::Time now) {
    r.ticket = pool_.issue(id, r.peer, now, options_.max_response_bytes);
    requests_.emplace(id, std::move(r));
}

void RegionFill::release(const Request& r) {
    pool_.failed(r.ticket);  // frees its slot (the window is fixed: nothing to learn from the answer)
    switch (r.kind) {
        case Request::Kind::kTrie:
            tries_[r.index].busy = false;
            break;
        case Request::Kind::kLeaves:
            walks_[r.index].busy = false;
            break;
        case Request::Kind::kCode:
            for (const Hash& h : r.codes) code_asked_.erase(h);
            break;
        case Request::Kind::kPresence:
            presence_[r.index].busy = false;
            break;
    }
}

void RegionFill::reject(proto::PeerId peer, const std::string& reason) {
    ++stats_.rejected_answers;
    (void)pool_.strike(peer);
    if (strike_) strike_(peer, reason);
}

void RegionFill::pump(proto::Time now) {
    const bool outermost = !pumping_;
    pumping_ = true;
    pump_round(now);
    if (outermost) {
        pumping_ = false;
        pump_covering_.clear();
    }
}

void RegionFill::pump_round(proto::Time now) {
    const auto room = [&] { return requests_.size() < options_.max_in_flight; };
    while (first_open_ < tries_.size() && tries_[first_open_].complete) ++first_open_;
    // Positions no peer can take a request for now: the storage fetches of a region all share its
    // position, so one failed pick skips the rest (thousands of owners) in this round.
    std::set<Hash> blocked;
    for (std::size_t i = first_open_; i < tries_.size() && room(); ++i) {
        if (tries_[i].complete || tries_[i].busy || blocked.contains(tries_[i].position)) continue;
        if (!send_trie(i, now)) blocked.insert(tries_[i].position);
    }
    for (std::size_t i = 0; i < walks_.size() && room(); ++i) {
        if (walks_[i].cursor && !walks_[i].busy) (void)send_leaves(i, now);
    }
    if (!storage_started_) {
        const bool accounts_done =
            std::all_of(tries_.begin(), tries_.end(), [](const auto& t) { return t.complete; }) &&
            std::all_of(walks_.begin(), walks_.end(), [](const auto& w) { return !w.cursor; });
        if (accounts_done) {
            start_storage();
            pump_round(now);
            return;
        }
    }
    for (std::size_t i = 0; i < presence_.size() && room(); ++i) {
        if (presence_[i].from && !presence_[i].busy) (void)send_presence(i, now);
    }
    while (room() && send_code(now)) {
    }
    next_tick_ = now + options_.tick;
}

bool RegionFill::send_trie(std::size_t index, proto::Time now) {
    TrieFetch& f = tries_[index];
    const auto peer = pick(f.position, now);
    if (!peer) return false;
    proto::GetChunks get;
    get.request_id = pool_.next_id();
    get.root = f.root;
    get.account = f.account;
    const Nibbles from = f.from.value_or(f.range.from);
    if (from == f.range.to) {
        get.prefixes = {from};
    } else {
        get.prefixes = {from, f.range.to};
        get.is_range = true;
    }
    get.max_size = options_.max_response_bytes;
    get.flags = f.from ? proto::kFlagSkipStem : 0;
    Bytes frame = proto::encode(get);
    stats_.bytes_sent += frame.size();
    ++stats_.chunk_requests;
    send_(*peer, std::move(frame));
    f.busy = true;
    track(get.request_id, Request{Request::Kind::kTrie, *peer, {}, index, {}, {}, {}}, now);
    return true;
}

bool RegionFill::send_leaves(std::size_t index, proto::Time now) {
    AccountWalk& w = walks_[index];
    const auto peer = pick(w.region.first, now);
    if (!peer) return false;
    Request r{Request::Kind::kLeaves, *peer, {}, index, *w.cursor, last_key(w.region), {}};
    proto::GetChunks get;
    get.request_id = pool_.next_id();
    get.root = root_;
    get.prefixes = {nibbles_of(r.origin), nibbles_of(r.limit)};
    get.is_range = true;
    get.max_size = options_.max_response_bytes;
    get.flags = proto::kFlagLeaves;
    Bytes frame = proto::encode(get);
    stats_.bytes_sent += frame.size();
    ++stats_.chunk_requests;
    send_(*peer, std::move(frame));
    w.busy = true;
    track(get.request_id, std::move(r), now);
    return true;
}

bool RegionFill::send_code(proto::Time now) {
    // The first wanted hash not asked for; then every other one the same peer covers.
    for (auto it = code_wanted_.begin(); it != code_wanted_.end();) {
        const Hash h = *it;
        if (code_asked_.contains(h)) {
            ++it;
            continue;
        }
        const auto& tried = code_tried_[h];
        const auto covering = peers_(h);
        if (!covering.empty() && std::all_of(covering.begin(), covering.end(),
                                             [&](const dht::Contact& c) { return tried.contains(c.peer); })) {
            ++stats_.code_unavailable;
            code_tried_.erase(h);
            it = code_wanted_.erase(it);
            continue;
        }
        ++it;
        std::optional<dht::Contact> peer;
        for (const dht::Contact& c : covering) {
            if (tried.contains(c.peer) || !pool_.choose(std::span{&c, 1}, now).peer) continue;
            peer = c;
            break;
        }
        if (!peer) continue;
        const Region theirs = region_of(peer->id, peer->radius);
        proto::GetCode get;
        get.request_id = pool_.next_id();
        get.max_size = options_.max_response_bytes;
        for (const Hash& k : code_wanted_) {
            if (get.hashes.size() >= options_.max_code_hashes_per_request) break;
            if (!code_asked_.contains(k) && contains(theirs, k)) get.hashes.push_back(k);
        }
        if (get.hashes.empty()) continue;
        for (const Hash& k : get.hashes) code_asked_.insert(k);
        Bytes frame = proto::encode(get);
        stats_.bytes_sent += frame.size();
        ++stats_.code_requests;
        send_(peer->peer, std::move(frame));
        Request r{Request::Kind::kCode, peer->peer, {}, 0, {}, {}, get.hashes};
        track(get.request_id, std::move(r), now);
        return true;
    }
    return false;
}

bool RegionFill::on_frame(proto::PeerId from, ByteView frame, proto::Time now) {
    if (frame.empty()) return false;
    const auto type = static_cast<proto::MessageType>(frame[0]);
    std::optional<uint64_t> id;
    if (type == proto::MessageType::kChunkData) {
        auto d = proto::decode_chunk_data(frame);
        if (d) id = d->request_id;
    } else if (type == proto::MessageType::kCodeData) {
        auto d = proto::decode_code_data(frame);
        if (d) id = d->request_id;
    } else if (type == proto::MessageType::kBareStorage) {
        auto d = proto::decode_bare_storage(frame);
        if (d) id = d->request_id;
    } else {
        return false;
    }
    if (!id) {
        // Ours or not, it does not decode: a peer we asked that sends garbage is wrong.
        for (auto it = requests_.begin(); it != requests_.end(); ++it) {
            if (it->second.peer == from) {
                const Request r = it->second;
                requests_.erase(it);
                release(r);
                reject(from, "mgr fill: answer does not decode");
                return true;
            }
        }
        return false;
    }
    const auto it = requests_.find(*id);
    if (it == requests_.end() || it->second.peer != from) return false;
    const Request r = it->second;
    requests_.erase(it);
    release(r);
    stats_.bytes_received += frame.size();
    pool_.received(frame.size());
    const auto answers = [&](Request::Kind kind) {
        switch (kind) {
            case Request::Kind::kCode:
                return proto::MessageType::kCodeData;
            case Request::Kind::kPresence:
                return proto::MessageType::kBareStorage;
            default:
                return proto::MessageType::kChunkData;
        }
    };
    if (type != answers(r.kind)) {
        reject(from, "mgr fill: an answer of another type than its request");
    } else if (r.kind == Request::Kind::kCode) {
        on_code_data(from, r, frame, now);
    } else if (r.kind == Request::Kind::kPresence) {
        on_bare_storage(from, r, frame, now);
    } else {
        on_chunk_data(from, r, frame, now);
    }
    pump(now);
    return true;
}

void RegionFill::on_chunk_data(proto::PeerId from, const Request& r, ByteView frame, proto::Time now) {
    auto data = proto::decode_chunk_data(frame);
    if (!data || data->entries.size() != 1) {
        reject(from, "mgr fill: ChunkData with other than one entry");
        return;
    }
    const proto::ChunkEntry& e = data->entries[0];
    if (e.error) {
        // The peer lacks the root (not there yet, or swept) or the range, or backs off: not an
        // offence; ask others for a while.
        ++stats_.errors;
        pool_.pause(from, now + options_.retry_after);
        return;
    }
    if (r.kind == Request::Kind::kTrie) {
        on_trie_entry(from, r, frame, now);
    } else {
        on_leaf_entry(from, r, frame, now);
    }
}

void RegionFill::on_trie_entry(proto::PeerId from, const Request& r, ByteView frame, proto::Time now) {
    (void)now;
    auto data = proto::decode_chunk_data(frame);
    const proto::ChunkEntry& e = data->entries[0];
    TrieFetch& f = tries_[r.index];
    if (f.complete) return;  // done by another answer meanwhile
    if (e.leaf_mode) {
        reject(from, "mgr fill: leaf answer to a full-mode request");
        return;
    }
    const Nibbles from_path = f.from.value_or(f.range.from);
    if (e.stop_path) {
        // It must move forward in pre-order (a longer path below `from` comes after it, so compare the
        // paths themselves, not their padded keys) and stay inside the range. Nodes already held may
        // come again (a range restarted after an incomplete answer), so that is no offence.
        if (*e.stop_path <= from_path || trie::pad(*e.stop_path, 0) > trie::pad(f.range.to, 0xf)) {
            reject(from, "mgr fill: a stopPath that does not move forward");
            return;
        }
    }
    // The acceptor checks the whole answer before keeping any of it: every node is referenced by a
    // verified node (or an earlier one of this answer) and decodes.
    const auto accepted = f.sync->accept(e.nodes);
    if (!accepted) {
        reject(from, "mgr fill: " + std::string{trie::to_string(accepted.error())});
        return;
    }
    stats_.nodes_accepted += *accepted;
    if (e.stop_path) {
        f.from = *e.stop_path;
        return;
    }
    // The server says the range is complete: every node of the partial trie must be held.
    if (!f.sync->complete()) {
        ++stats_.incomplete;
        f.from.reset();  // from the start, with another neighbour (what is held is not fetched twice)
        reject(from, "mgr fill: a range called complete that is not");
        return;
    }
    f.complete = true;
}

void RegionFill::on_leaf_entry(proto::PeerId from, const Request& r, ByteView frame, proto::Time now) {
    (void)now;
    auto data = proto::decode_chunk_data(frame);
    const proto::ChunkEntry& e = data->entries[0];
    AccountWalk& w = walks_[r.index];
    if (w.cursor != r.origin) return;  // moved on meanwhile
    if (!e.leaf_mode || e.keys.size() != e.values.size()) {
        reject(from, "mgr fill: not a leaf answer");
        return;
    }
    const auto in_range = trie::verify_leaf_range(root_, view(r.origin), view(r.limit), e.keys, e.values, e.proof,
                                                  e.stop_path.has_value());
    if (!in_range) {
        reject(from, "mgr fill: account leaves fail their range proof");
        return;
    }
    for (std::size_t i = 0; i < *in_range; ++i) {
        if (!note_account(e.keys[i], e.values[i])) {
            reject(from, "mgr fill: an account leaf that does not decode");
            return;
        }
    }
    if (!e.stop_path || e.keys.back() >= r.limit) {
        w.cursor.reset();
        return;
    }
    w.cursor = next_key(e.keys.back());
}

bool RegionFill::note_account(const Hash& key, ByteView value) {
    ByteView in = value;
    auto a = state::decode_account(in);
    if (!a || !in.empty()) return false;
    if (a->storage_root != trie::kEmptyRoot) owners_[key] = a->storage_root;
    const bool wanted = std::any_of(code_regions_.begin(), code_regions_.end(),
                                    [&](const Region& b) { return contains(b, a->code_hash); });
    if (a->code_hash != state::kEmptyCodeHash && wanted && !code_.contains(a->code_hash)) {
        code_wanted_.insert(a->code_hash);
    }
    return true;
}

void RegionFill::start_storage() {
    storage_started_ = true;
    // The owners inside the node's regions: their leaves are in the verified account partial tries.
    for (std::size_t i = 0; i < regions_.size(); ++i) {
        auto leaves = leaves_in(verified_->pool, root_, tries_[i].range);
        if (!leaves) continue;  // cannot happen: the walk found the partial trie complete
        for (const auto& [key, value] : *leaves) (void)note_account(key, value);
    }
    stats_.owners = owners_.size();
    for (std::size_t i = 0; i < presence_.size(); ++i) {
        for (const Hash& account : presence_[i].present) add_storage_fetch(i, account);
    }
}

void RegionFill::add_storage_fetch(std::size_t region, const Hash& account) {
    const auto owner = owners_.find(account);
    if (owner == owners_.end()) return;  // named present by a neighbour, but has no storage at the root
    tries_.push_back(make_fetch(account, owner->second, path_range(storage_region(regions_[region], account)),
                                regions_[region].first));
}

bool RegionFill::send_presence(std::size_t region, proto::Time now) {
    PresenceWalk& w = presence_[region];
    const auto peer = pick(regions_[region].first, now);
    if (!peer) return false;
    proto::GetBareStorage get;
    get.request_id = pool_.next_id();
    get.state_root = root_;
    get.region_first = regions_[region].first;
    get.region_bits = regions_[region].bits;
    get.from = *w.from;
    get.max_size = options_.max_response_bytes;
    Bytes frame = proto::encode(get);
    stats_.bytes_sent += frame.size();
    ++stats_.bare_requests;
    Request r;
    r.kind = Request::Kind::kPresence;
    r.peer = *peer;
    r.index = region;
    track(get.request_id, std::move(r), now);
    w.busy = true;
    send_(*peer, std::move(frame));
    return true;
}

void RegionFill::on_bare_storage(proto::PeerId from, const Request& r, ByteView frame, proto::Time now) {
    auto data = proto::decode_bare_storage(frame);
    if (!data) {
        reject(from, "mgr fill: bad BareStorage");
        return;
    }
    if (data->error) {
        ++stats_.errors;
        pool_.pause(from, now + options_.retry_after);
        return;
    }
    PresenceWalk& w = presence_[r.index];
    if (!w.from) return;
    // The answer must cover at least the walk's position, and name accounts from there on only.
    if (data->covered_to < *w.from || (!data->entries.empty() && data->entries.front().account < *w.from)) {
        reject(from, "mgr fill: BareStorage outside the walk");
        return;
    }
    for (const proto::BareEntry& e : data->entries) {
        if (w.present.insert(e.account).second && storage_started_) add_storage_fetch(r.index, e.account);
    }
    w.from = next_key(data->covered_to);
}

void RegionFill::on_code_data(proto::PeerId from, const Request& r, ByteView frame, proto::Time now) {
    auto data = proto::decode_code_data(frame);
    if (!data) {
        reject(from, "mgr fill: bad CodeData");
        return;
    }
    bool useful = false;
    for (const Bytes& c : data->codes) {
        const Hash h = keccak256(c);
        if (std::find(r.codes.begin(), r.codes.end(), h) == r.codes.end()) {
            reject(from, "mgr fill: code that was not asked for");
            return;
        }
    }
    for (const Bytes& c : data->codes) {
        const Hash h = keccak256(c);
        if (code_wanted_.erase(h) != 0) {
            stats_.code_bytes += c.size();
            code_.emplace(h, c);
            useful = true;
        }
    }
    // Missing blobs go to another peer; one that sent none is asked later.
    for (const Hash& h : r.codes) {
        if (code_wanted_.contains(h)) code_tried_[h].insert(from);
    }
    if (!useful) pool_.pause(from, now + options_.retry_after);
}

void RegionFill::on_disconnect(proto::PeerId peer, bool unreachable, proto::Time now) {
    if (unreachable) pool_.pause(peer, now + options_.retry_after);
    for (auto it = requests_.begin(); it != requests_.end();) {
        if (it->second.peer == peer) {
            const Request r = it->second;
            it = requests_.erase(it);
            release(r);
        } else {
            ++it;
        }
    }
}

std::optional<proto::Time> RegionFill::next_deadline() const {
    if (done()) return std::nullopt;
    proto::Time t = next_tick_;
    for (const auto& [_, r] : requests_) t = std::min(t, r.ticket.deadline);
    return t;
}

void RegionFill::on_timer(proto::Time now) {
    for (auto it = requests_.begin(); it != requests_.end();) {
        if (it->second.ticket.deadline <= now) {
            const Request r = it->second;
            it = requests_.erase(it);
            release(r);
            ++stats_.timeouts;
            pool_.pause(r.peer, now + options_.retry_after);
        } else {
            ++it;
        }
    }
    if (!done()) pump(now);
}

std::vector<Bytes> RegionFill::partial_nodes(const Hash& root, const trie::PathRange& range) const {
    std::vector<Bytes> out;
    (void)for_each_partial_node(verified_->pool, root, range,
                                [&](ByteView, const Hash&, ByteView rlp) { out.emplace_back(rlp); });
    return out;
}

std::vector<FilledRegion> RegionFill::take_regions() const {
    std::vector<FilledRegion> out;
    for (std::size_t i = 0; i < regions_.size(); ++i) {
        FilledRegion r;
        r.region = regions_[i];
        for (const Hash& a : presence_[i].present) r.owners.emplace_back(a, owners_.at(a));
        std::unordered_set<Hash, trie::HashHasher> seen;
        for (Bytes& n : partial_nodes(root_, tries_[i].range)) {
            if (seen.insert(keccak256(n)).second) r.account_nodes.push_back(std::move(n));
        }
        seen.clear();
        for (const auto& [account, storage_root] : r.owners) {
            for (Bytes& n : partial_nodes(storage_root, path_range(storage_region(regions_[i], account)))) {
                if (seen.insert(keccak256(n)).second) r.storage_nodes.push_back(std::move(n));
            }
        }
        out.push_back(std::move(r));
    }
    return out;
}

std::vector<Bytes> RegionFill::take_code() {
    std::vector<Bytes> out;
    for (auto& [_, c] : code_) out.push_back(std::move(c));
    code_.clear();
    return out;
}

}  // namespace carousel::mgr
