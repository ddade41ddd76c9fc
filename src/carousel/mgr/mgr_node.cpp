// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "mgr_node.hpp"

#include <algorithm>
#include <iterator>

#include <carousel/core/keccak.hpp>
#include <carousel/proto/prefix_messages.hpp>
#include <carousel/trie/trie.hpp>

namespace carousel::mgr {

namespace {
// The key a range starts at (packed), as a Hash.
Hash first_key(const trie::PathRange& range) {
    const Bytes k = trie::range_min_key(range);
    Hash h{};
    std::copy(k.begin(), k.end(), h.begin());
    return h;
}
Hash last_key(const trie::PathRange& range) {
    const Bytes k = trie::range_max_key(range);
    Hash h{};
    std::copy(k.begin(), k.end(), h.begin());
    return h;
}
}  // namespace

MgrNode::MgrNode(const dht::KeyPair& key, dht::NodeEndpoint endpoint, NodeOptions options, HeaderSource headers)
    : key_(key),
      endpoint_([&] {
          endpoint.radius.bits = options.origin_only ? 0 : std::max(endpoint.radius.bits, options.region_bits);
          return endpoint;
      }()),
      seq_(options.record_seq),
      options_(options),
      headers_(std::move(headers)),
      overlay_(
          key, dht::make_node_record(key, seq_, endpoint_).value(), options.overlay, driver(),
          dht::Overlay::Core{[this](const dht::NodeId& from, ByteView frame, proto::Time now) {
                                 on_node_frame(handles().handle(from), frame, now);
                             },
                             [this](const dht::NodeId& node, proto::Time) { lost_[handles().handle(node)] = true; }}),
      router_(
          contacts(), key.node_id, options.region_bits, options.placement_refresh,
          [this](proto::PeerId to, Bytes frame) { return send(to, std::move(frame)); },
          [this](proto::PeerId peer, const std::string& reason) { disconnect(peer, reason); },
          [this](const Hash& position) { return filling_key(position); },
          options.origin_only ? options.origin_fanout : 0, [this](proto::PeerId peer) { return connected(peer); }),
      item_log_(options.item_log_blocks.value_or(options.epoch_length), options.item_log_region_bytes) {
    covered_ = region_of(id(), endpoint_.radius);
    if (!options_.origin_only) (void)place_stores(covered_);  // one store per region of the block
}

void MgrNode::bootstrap(const dht::NodeRecord& bootnode, proto::Time now) {
    at(now);
    overlay_.bootstrap(bootnode, now);
}

void MgrNode::announce_radius(dht::Radius radius, proto::Time now) {
    endpoint_.radius = radius;
    covered_ = region_of(id(), radius);
    ++seq_;
    overlay_.set_record(dht::make_node_record(key_, seq_, endpoint_).value(), now);
    pin_neighbours();
}

void MgrNode::pin_neighbours() {
    if (options_.origin_only) return;
    std::set<dht::NodeId> wanted;
    const std::size_t most = std::max<std::size_t>(1, options_.overlay.connections.max_peers / 2);
    for (const dht::Contact& c : overlay_.discovery().table().covering(covered_.first)) {
        if (wanted.size() >= most) break;
        if (dht::covers(c.id, c.radius, last_key(covered_))) wanted.insert(c.id);
    }
    for (const dht::NodeId& n : neighbour_pins_) {
        if (!wanted.contains(n)) overlay_.unpin(n);
    }
    for (const dht::NodeId& n : wanted) {
        if (!neighbour_pins_.contains(n)) overlay_.pin(n);
    }
    neighbour_pins_ = std::move(wanted);
}

void MgrNode::unpin_fill_peers() {
    for (const dht::NodeId& n : fill_pins_) overlay_.unpin(n);
    fill_pins_.clear();
}

void MgrNode::take_lost(proto::Time now) {
    while (!lost_.empty()) {
        const auto [peer, unreachable] = *lost_.begin();
        lost_.erase(lost_.begin());
        if (fill_) fill_->on_disconnect(peer, unreachable, now);
        if (header_poll_) header_poll_->on_peer_gone(peer, now);
        router_.on_disconnect(peer);
    }
}

void MgrNode::on_node_disconnected(const dht::NodeId& node, proto::Time) {
    lost_.emplace(handles().handle(node), false);
}

tl::expected<void, std::string> MgrNode::seed(const trie::NodeStore& full, uint64_t number, const Hash& root,
                                              const std::vector<Bytes>& code) {
    auto owners = owners_of(full, root);
    if (!owners) return tl::unexpected{std::string{to_string(owners.error())}};
    return seed(full, number, root, *owners, code);
}

tl::expected<void, std::string> MgrNode::seed(const trie::NodeStore& full, uint64_t number, const Hash& root,
                                              const Owners& owners, const std::vector<Bytes>& code) {
    for (auto& s : stores_) {
        if (auto r = s.store->seed(full, number, root, owners); !r) {
            return tl::unexpected{std::string{to_string(r.error())}};
        }
    }
    for (const Bytes& c : code) {
        const Hash h = keccak256(c);
        if (contains(covered_, h)) keep_code(h, c);
    }
    return {};
}

tl::expected<void, std::string> MgrNode::adopt_stores(std::vector<std::unique_ptr<EpochStore>> stores,
                                                      const std::vector<Bytes>& code, state::CodeStore* durable_code) {
    for (const auto& s : stores) {
        if (s == nullptr || store_for(s->region()) == nullptr) {
            return tl::unexpected{std::string{"mgr: adopt_stores: a store for a region outside the node's block"}};
        }
        if (s->epoch_length() != options_.epoch_length) {
            return tl::unexpected{std::string{"mgr: adopt_stores: a store with another epoch length"}};
        }
    }
    for (auto& s : stores) {
        const auto it = std::find_if(stores_.begin(), stores_.end(),
                                     [&](const RegionStore& held) { return held.store->region() == s->region(); });
        *it = serve(std::move(s));
    }
    durable_code_ = durable_code;
    for (const Bytes& c : code) {
        const Hash h = keccak256(c);
        if (contains(covered_, h)) code_.put_code(h, c);
    }
    return {};
}

RegionStore MgrNode::serve(std::unique_ptr<EpochStore> store) const {
    const EpochStore* raw = store.get();
    auto server = std::make_unique<prefix::ChunkServer>(
        *raw, &code_, [raw] { return raw->epoch_root(); }, options_.server);
    return RegionStore{std::move(store), std::move(server)};
}

void MgrNode::keep_code(const Hash& hash, ByteView code) {
    code_.put_code(hash, code);
    if (durable_code_ != nullptr) durable_code_->put_code(hash, code);
}

EpochStore* MgrNode::store_for(const Region& region) {
    for (auto& s : stores_) {
        if (s.store->region() == region) return s.store.get();
    }
    return nullptr;
}

RegionStore* MgrNode::store_for_key(const std::optional<Hash>& account, const Hash& key) {
    for (auto& s : stores_) {
        const Region b = account ? storage_region(s.store->region(), *account) : s.store->region();
        if (contains(b, key)) return &s;
    }
    return nullptr;
}

std::optional<proto::Time> MgrNode::core_deadline() const {
    if (!lost_.empty()) return now();
    std::optional<proto::Time> t;
    if (!options_.origin_only) t = next_pin_refresh_;
    if (const auto f = fill_ ? fill_->next_deadline() : std::nullopt; f && (!t || *f < *t)) t = f;
    if (header_poll_ && overlay_.discovery().table().size() != 0 && (!t || header_poll_->next_deadline() < *t)) {
        t = header_poll_->next_deadline();
    }
    if (const auto r = resume_deadline(); r && (!t || *r < *t)) t = r;
    return t;
}

void MgrNode::on_core_timer(proto::Time now) {
    take_lost(now);
    if (!options_.origin_only && now >= next_pin_refresh_) {
        // The table changes as nodes come and go: the neighbours pinned follow it.
        pin_neighbours();
        next_pin_refresh_ = now + std::chrono::seconds{10};
    }
    poll_headers(now);
    pump_join(now);
}

void MgrNode::on_node_frame(proto::PeerId from, ByteView frame, proto::Time now) {
    take_lost(now);
    if (frame.empty()) {
        disconnect(from, "mgr: empty frame");
        return;
    }
    if (on_resume_frame(from, frame, now)) return;
    if (on_fill_frame(from, frame, now)) return;
    switch (static_cast<proto::MessageType>(frame[0])) {
        case proto::MessageType::kGetChunks:
            on_get_chunks(from, frame);
            return;
        case proto::MessageType::kGetDiff:
            on_get_diff(from, frame);
            return;
        case proto::MessageType::kGetCode:
            on_get_code(from, frame);
            return;
        case proto::MessageType::kGetBareStorage:
            on_get_bare_storage(from, frame);
            return;
        case proto::MessageType::kGetItems:
            on_get_items(from, frame);
            return;
        case proto::MessageType::kOffer:
            router_.on_offer(from, frame);
            return;
        case proto::MessageType::kAccept:
            router_.on_accept(from, frame);
            return;
        case proto::MessageType::kContent:
            on_content(from, frame, now);
            return;
        case proto::MessageType::kGetHeaders:
            on_get_headers(from, frame);
            return;
        case proto::MessageType::kHeaders:
            on_headers(from, frame, now);
            return;
        default:
            disconnect(from, "mgr: unexpected message type " + std::to_string(frame[0]));
    }
}

void MgrNode::on_get_chunks(proto::PeerId from, ByteView frame) {
    ++stats_.chunk_requests;
    auto request = decoded(from, proto::decode_get_chunks(frame), "GetChunks");
    if (!request) return;
    // The store that covers the request's first position answers it; positions outside every store
    // get 0x1 from a server whose store lacks them (any server: the nodes are not there).
    const RegionStore* covering = nullptr;
    if (!request->prefixes.empty()) {
        const trie::PathRange first{request->prefixes[0],
                                    request->is_range ? request->prefixes[1] : request->prefixes[0]};
        covering = store_for_key(request->account, first_key(first));
        if (covering != nullptr) {
            const Region region = covering->store->region();
            const Region b = request->account ? storage_region(region, *request->account) : region;
            if (!contains(b, last_key(first))) covering = nullptr;
        }
    }
    const EpochStore* store = covering != nullptr ? covering->store.get() : nullptr;
    // Not covered: 0x1 in every entry. Covered by a store being filled: 0x0 (it does not hold the
    // root yet), as a joining node answers.
    if (store == nullptr || filling(store->region())) {
        const proto::ChunkError error =
            store == nullptr ? proto::ChunkError::kNoChunk : proto::ChunkError::kUnknownRoot;
        proto::ChunkData answer{request->request_id, {}};
        for (std::size_t i = 0; i < request->prefixes.size(); i += request->is_range ? 2u : 1u) {
            proto::ChunkEntry e;
            e.prefix = request->prefixes[i];
            e.error = error;
            answer.entries.push_back(std::move(e));
        }
        send(from, proto::encode(answer));
        return;
    }
    send(from, proto::encode(covering->server->serve(*request)));
}

void MgrNode::on_get_diff(proto::PeerId from, ByteView frame) {
    ++stats_.diff_requests;
    auto request = decoded(from, proto::decode_get_diff(frame), "GetDiff");
    if (!request) return;
    proto::DiffData answer;
    answer.request_id = request->request_id;
    const trie::PathRange range{request->from, request->to};
    if (trie::pad(range.from, 0) > trie::pad(range.to, 0xf)) {
        answer.error = proto::ChunkError::kInvalidRequest;
        send(from, proto::encode(answer));
        return;
    }
    // The range may be in the account trie or in any storage trie (GetDiff names no account, so the
    // region cannot be told from the range): the store that keeps both roots and holds the range
    // answers. 0x1 (not here, an offence) only when every store knows both roots and none holds the
    // range; a store that does not know a root may be the range's own one a block behind the others
    // (gossip reaches regions at different times), and stores being filled do not hold it yet: then
    // 0x0, which asks the client to come back later.
    std::optional<mgr::DiffAnswer> found;
    bool held_elsewhere = false;
    bool behind = false;
    for (auto& s : stores_) {
        if (filling(s.store->region())) continue;
        auto d = s.store->diff(request->from_root, request->to_root, range);
        if (d) {
            found = std::move(*d);
            break;
        }
        if (d.error() == DiffServeError::kNotHeld) held_elsewhere = true;
        if (d.error() == DiffServeError::kUnknownRoot) behind = true;
    }
    if (!found) {
        answer.error = held_elsewhere && !behind && !filling() && !catching_up() ? proto::ChunkError::kNoChunk
                                                                                 : proto::ChunkError::kUnknownRoot;
        send(from, proto::encode(answer));
        return;
    }
    auto* diff = &*found;
    answer.keys = std::move(diff->keys);
    answer.values = std::move(diff->values);
    answer.proof = std::move(diff->proof);
    send(from, proto::encode(answer));
}

void MgrNode::on_get_bare_storage(proto::PeerId from, ByteView frame) {
    ++stats_.bare_requests;
    auto request = decoded(from, proto::decode_get_bare_storage(frame), "GetBareStorage");
    if (!request) return;
    proto::BareStorage answer;
    answer.request_id = request->request_id;
    const Region region{request->region_first, static_cast<unsigned>(request->region_bits)};
    const EpochStore* store = store_for(region);
    if (request->max_size == 0) {
        answer.error = proto::ChunkError::kInvalidRequest;
    } else if (store == nullptr) {
        answer.error = proto::ChunkError::kNoChunk;
    } else if (filling(region) || !store->keeps(request->state_root)) {
        answer.error = proto::ChunkError::kUnknownRoot;
    }
    if (answer.error) {
        send(from, proto::encode(answer));
        return;
    }
    // The owners asked: the listed accounts, or the owners (present here) from `from` on. Every
    // listed account costs a partial-trie walk even when it has nothing here: cap them per answer.
    constexpr std::size_t kMaxOwnersPerAnswer = proto::kMaxBareAccounts;
    Hash last_asked;  // the answer covers everything up to here once it takes every owner listed
    last_asked.fill(0xff);
    std::vector<std::pair<Hash, Hash>> owners;
    if (request->accounts.empty()) {
        owners = store->owners(request->state_root, request->from, kMaxOwnersPerAnswer);
        if (owners.size() == kMaxOwnersPerAnswer) last_asked = owners.back().first;
    } else {
        for (const Hash& a : request->accounts) owners.emplace_back(a, *store->storage_root(a, request->state_root));
        last_asked = request->accounts.back();
    }
    const std::size_t bare_max = std::min(options_.bare_leaves_max, proto::kMaxBareLeaves);
    const std::size_t budget = std::min<std::size_t>(request->max_size, options_.server.max_response_bytes);
    std::size_t size = 0;
    answer.covered_to = last_asked;
    for (std::size_t i = 0; i < owners.size(); ++i) {
        const auto& [account, root] = owners[i];
        if (root != trie::kEmptyRoot) {
            const Region block = storage_region(region, account);
            auto leaves = leaves_in(*store, root, path_range(block), bare_max);
            if (!leaves) continue;  // cannot be: every kept version resolves from the store
            proto::BareEntry entry;
            entry.account = account;
            if (leaves->size() > bare_max) {
                entry.large = true;
                size += 40;
            } else {
                for (auto& [key, value] : *leaves) {
                    size += key.size() + value.size() + 3;
                    entry.keys.push_back(key);
                    entry.values.push_back(std::move(value));
                }
            }
            if (entry.large || !entry.keys.empty()) answer.entries.push_back(std::move(entry));
        }
        if (size >= budget && i + 1 < owners.size()) {
            answer.covered_to = account;
            break;
        }
    }
    send(from, proto::encode(answer));
}

void MgrNode::on_get_items(proto::PeerId from, ByteView frame) {
    ++stats_.items_requests;
    auto request = decoded(from, proto::decode_get_items(frame), "GetItems");
    if (!request) return;
    proto::Items answer;
    answer.request_id = request->request_id;
    const Region region{request->region_first, static_cast<unsigned>(request->region_bits)};
    const EpochStore* store = store_for(region);
    if (request->max_size == 0) {
        answer.error = proto::ChunkError::kInvalidRequest;
    } else if (store == nullptr || filling(region) || !store->seeded()) {
        answer.error = proto::ChunkError::kNoChunk;
    } else {
        // One item is at most a Content payload, which fits a frame with the answer's framing.
        const uint64_t budget = std::min<uint64_t>(request->max_size, options_.server.max_response_bytes);
        auto items = item_log_.from(region.first, request->from_block, request->to_block, store->head_number(), budget);
        if (items) {
            if (items->size() > proto::kMaxItemsPerAnswer) items->resize(proto::kMaxItemsPerAnswer);
            answer.items = std::move(*items);
        } else {
            answer.error = proto::ChunkError::kNoChunk;
        }
    }
    send(from, proto::encode(answer));
}

void MgrNode::on_get_code(proto::PeerId from, ByteView frame) {
    ++stats_.code_requests;
    auto request = decoded(from, proto::decode_get_code(frame), "GetCode");
    if (!request) return;
    // Code in a region being filled is not served (a joining node serves none): it may be there
    // from gossip, but the node does not claim the region yet.
    std::erase_if(request->hashes, [&](const Hash& h) { return filling_key(h); });
    if (!stores_.empty()) send(from, proto::encode(stores_.front().server->serve(*request)));
}

void MgrNode::on_get_headers(proto::PeerId from, ByteView frame) {
    ++stats_.header_requests;
    auto request = decoded(from, proto::decode_get_headers(frame), "GetHeaders");
    if (!request) return;
    send(from, proto::encode(book_ != nullptr ? book_->answer(*request) : proto::Headers{request->request_id, {}, {}}));
}

void MgrNode::take_headers(HeaderBook& book, HeaderPollOptions poll) {
    book_ = &book;
    header_poll_.emplace(book, poll);
}

void MgrNode::poll_headers(proto::Time now) {
    if (!header_poll_ || now < header_poll_->next_deadline()) return;
    // Every contact of the table in turn (any node that follows the chain holds its headers; asking
    // round the whole table rather than the closest few also reaches past a neighbourhood that is
    // behind as a whole).
    header_poll_->pump(now, table_handles(),
                       [this](proto::PeerId peer, Bytes frame) { return send(peer, std::move(frame)); });
}

void MgrNode::on_headers(proto::PeerId from, ByteView frame, proto::Time now) {
    auto answer = decoded(from, proto::decode_headers(frame), "Headers");
    if (!answer || !header_poll_) return;
    const auto taken = header_poll_->on_answer(from, *answer, now);
    if (!taken) return;  // not the answer awaited: ignored
    if (!*taken) {
        ++stats_.headers_rejected;
        strike(from, std::string{"mgr: bad Headers: "} + std::string{to_string(taken->error())});
        return;
    }
    if (**taken == 0) return;
    stats_.headers_accepted += **taken;
    for (auto& s : stores_) apply_waiting(*s.store, now);
    pump_join(now);
}

void MgrNode::on_header(proto::PeerId from, const Hash& id, Bytes payload, proto::Time now) {
    if (book_ == nullptr) {
        ++stats_.items_ignored;
        return;
    }
    // Decoded once: the router holds it by its number. An undecodable one the book refuses (and counts).
    const auto header = decode_signed_header(payload);
    const auto verdict = header ? book_->accept(*header, payload) : book_->accept(payload);
    if (!verdict) {
        ++stats_.headers_rejected;
        strike(from, std::string{"mgr: bad header: "} + std::string{to_string(verdict.error())});
        return;
    }
    if (*verdict != HeaderVerdict::kNew) {
        ++stats_.items_ignored;
        return;
    }
    ++stats_.headers_accepted;
    router_.hold_header(id, header->header.number, std::move(payload), from);
    // Items of this block may be waiting for it.
    for (auto& s : stores_) apply_waiting(*s.store, now);
    pump_join(now);
}

void MgrNode::publish(const std::vector<RegionItem>& items, const std::vector<Bytes>& codes, proto::Time now,
                      ByteView header) {
    at(now);
    if (!header.empty()) {
        const Hash id = keccak256(header);
        router_.mark_seen(id);
        if (const auto decoded_header = decode_signed_header(header)) {
            if (book_ != nullptr) (void)book_->accept(*decoded_header, header);
            router_.hold_header(id, decoded_header->header.number, Bytes{header.begin(), header.end()});
        }
    }
    for (const RegionItem& item : items) {
        Bytes payload = encode_region_item(item);
        const Hash id = keccak256(payload);
        router_.hold(id, item.region, item.block_number, proto::ContentKind::kRegionItem, std::move(payload));
        router_.mark_seen(id);
        if (router_.offer(id, item.region.first, 0, now) == 0 &&
            (contains(covered_, item.region.first) || !router_.looking_up(item.region.first))) {
            ++stats_.items_unplaced;  // neither the table nor a lookup knows a node covering it
        }
        router_.forget_old(item.block_number);
    }
    for (const Bytes& code : codes) {
        const Hash id = keccak256(code);
        router_.hold(id, Region{id, 0}, router_.newest_number(), proto::ContentKind::kCode, code);
        router_.mark_seen(id);
        router_.offer(id, id, 0, now);
    }
}

void MgrNode::on_content(proto::PeerId from, ByteView frame, proto::Time now) {
    auto content = decoded(from, proto::decode_content(frame), "Content");
    if (!content) return;
    stats_.content_bytes_received += frame.size();
    on_content_payload(from, content->kind, std::move(content->payload), now);
}

void MgrNode::deliver(const std::vector<RegionItem>& items, const std::vector<Bytes>& codes, proto::Time now,
                      ByteView header) {
    at(now);
    take_lost(now);
    if (!header.empty()) on_content_payload(0, proto::ContentKind::kHeader, Bytes{header.begin(), header.end()}, now);
    for (const RegionItem& item : items) {
        on_content_payload(0, proto::ContentKind::kRegionItem, encode_region_item(item), now);
    }
    for (const Bytes& code : codes) on_content_payload(0, proto::ContentKind::kCode, code, now);
}

void MgrNode::on_content_payload(proto::PeerId from, proto::ContentKind kind, Bytes payload, proto::Time now) {
    const Hash id = keccak256(payload);
    if (router_.seen(id)) {
        ++stats_.items_ignored;
        return;
    }
    router_.mark_seen(id);
    if (kind == proto::ContentKind::kCode) {
        // Self-verifying: the id is the code hash, its position.
        if (!contains(covered_, id)) {
            ++stats_.items_ignored;
            return;
        }
        keep_code(id, payload);
        ++stats_.code_kept;
        router_.hold(id, Region{id, 0}, 0, proto::ContentKind::kCode, std::move(payload));
        router_.offer(id, id, from, now);
        return;
    }
    if (kind == proto::ContentKind::kHeader) {
        on_header(from, id, std::move(payload), now);
        return;
    }
    on_region_item(from, id, std::move(payload), now);
}

void MgrNode::on_region_item(proto::PeerId from, const Hash& id, Bytes payload, proto::Time now) {
    auto item = decode_region_item(payload);
    if (!item) {
        ++stats_.items_rejected;
        strike(from, std::string{"mgr: undecodable region item: "} + std::string{to_string(item.error())});
        return;
    }
    EpochStore* store = store_for(item->region);
    if (store == nullptr || item->block_number <= store->head_number()) {
        ++stats_.items_ignored;
        return;
    }
    if (waiting_.size() >= options_.max_waiting_items) {
        ++stats_.items_ignored;
        router_.unsee(id);  // may be offered again later
        return;
    }
    router_.hold(id, item->region, item->block_number, proto::ContentKind::kRegionItem, std::move(payload));
    waiting_[{store->region().first, item->block_number}] = {from, std::move(*item)};
    apply_waiting(*store, now);
    pump_join(now);
}

void MgrNode::apply_waiting(EpochStore& store, proto::Time now) {
    if (filling(store.region())) return;  // items wait until the fill is adopted
    for (;;) {
        const auto it = waiting_.find({store.region().first, store.head_number() + 1});
        if (it == waiting_.end()) return;
        const std::optional<Hash> root = headers_(it->first.second);
        if (!root) return;  // the header is not known yet: wait
        auto [from, item] = std::move(it->second);
        waiting_.erase(it);
        Bytes encoded = encode_region_item(item);
        const Hash id = keccak256(encoded);
        if (auto r = store.apply(item, *root); !r) {
            ++stats_.items_rejected;
            router_.drop(id);
            strike(from, std::string{"mgr: region item fails verification: "} + std::string{to_string(r.error())});
            continue;
        }
        ++stats_.items_applied;
        router_.offer(id, item.region.first, from, now);
        router_.forget_old(item.block_number);
        item_log_.record(item.region.first, item.block_number, std::move(encoded));
    }
}

bool MgrNode::filling_key(const Hash& key) const {
    if (filling_.empty() && catching_.empty()) return false;
    // The region of `key` is the aligned block of 2^region_bits keys holding it.
    const Hash first = region_of(key, dht::Radius{options_.region_bits}).first;
    return filling_.contains(first) || catching_.contains(first);
}

uint64_t MgrNode::store_bytes() const noexcept {
    uint64_t sum = 0;
    for (const auto& s : stores_) sum += s.store->byte_size();
    return sum;
}

void MgrNode::strike(proto::PeerId peer, const std::string& reason) {
    if (peer == 0) return;
    if (++strikes_[peer] >= options_.strikes_to_drop) disconnect(peer, reason);
}

NodeStats MgrNode::stats() const noexcept {
    NodeStats s = stats_;
    const GossipStats& g = router_.stats();
    s.offers_sent = g.offers_sent;
    s.content_sent = g.content_sent;
    s.content_bytes_sent = g.content_bytes_sent;
    s.placement_lookups = g.placement_lookups;
    return s;
}

}  // namespace carousel::mgr
