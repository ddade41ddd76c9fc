// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "gossip_router.hpp"

#include <algorithm>

namespace carousel::mgr {

GossipRouter::GossipRouter(ContactSource contacts, const dht::NodeId& self, unsigned region_bits,
                           proto::Time placement_refresh, SendFn send, DisconnectFn disconnect, FillingFn filling,
                           std::size_t fanout, ConnectedFn connected)
    : contacts_(std::move(contacts)),
      self_(self),
      region_bits_(region_bits),
      placement_refresh_(placement_refresh),
      send_(std::move(send)),
      disconnect_(std::move(disconnect)),
      filling_(std::move(filling)),
      fanout_(fanout),
      connected_(std::move(connected)) {}

void GossipRouter::hold(const Hash& id, const Region& region, uint64_t number, proto::ContentKind kind, Bytes payload) {
    held_[id] = Held{region, number, kind, std::move(payload)};
}

void GossipRouter::hold_header(const Hash& id, uint64_t number, Bytes payload, proto::PeerId from) {
    // Region bits 0: the whole key space, so keep_only() never drops it.
    held_[id] = Held{Region{Hash{}, 0}, number, proto::ContentKind::kHeader, std::move(payload)};
    if (from != 0) held_[id].offered.insert(from);
    headers_[number] = id;
}

void GossipRouter::keep_only(const Region& block) {
    std::erase_if(held_, [&](const auto& h) { return !contains(block, h.second.region.first); });
}

uint64_t GossipRouter::newest_number() const noexcept {
    uint64_t newest = 0;
    for (const auto& [_, h] : held_) newest = std::max(newest, h.number);
    return newest;
}

void GossipRouter::forget_old(uint64_t head) {
    if (head <= kHeldBlocks) return;
    for (auto it = held_.begin(); it != held_.end();) {
        it = it->second.number + kHeldBlocks < head ? held_.erase(it) : std::next(it);
    }
    std::erase_if(headers_, [&](const auto& h) { return !held_.contains(h.second); });
}

Hash GossipRouter::position_of(const Hash& id, const Held& held) {
    return held.kind == proto::ContentKind::kCode ? id : held.region.first;
}

std::size_t GossipRouter::offer(const Hash& id, const Hash& position, proto::PeerId except, proto::Time now) {
    if (filling_(position)) return 0;  // nothing is offered for a region being filled
    const auto held = held_.find(id);
    if (held == held_.end()) return 0;
    std::vector<dht::Contact> targets = covering(position, now);
    if (except != 0) held->second.offered.insert(except);
    std::erase_if(targets, [&](const dht::Contact& c) { return c.id == self_; });
    if (fanout_ > 0 && connected_) {
        // Connected contacts first, each side in the order given (closest first).
        std::stable_partition(targets.begin(), targets.end(),
                              [&](const dht::Contact& c) { return connected_(c.peer); });
    }
    std::size_t offered = 0;
    for (const dht::Contact& c : targets) {
        if (held->second.offered.contains(c.peer)) {
            ++offered;
            continue;
        }
        if (fanout_ > 0 && offered >= fanout_) break;
        // The block's header first, to a peer not offered it yet.
        std::vector<Hash> ids;
        Held* header = nullptr;
        if (held->second.kind == proto::ContentKind::kRegionItem) {
            if (const auto h = headers_.find(held->second.number); h != headers_.end()) {
                const auto hh = held_.find(h->second);
                if (hh != held_.end() && !hh->second.offered.contains(c.peer)) {
                    header = &hh->second;
                    ids.push_back(h->second);
                }
            }
        }
        ids.push_back(id);
        const uint64_t request_id = next_request_id_++;
        if (!send_(c.peer, proto::encode(proto::Offer{request_id, ids}))) continue;  // refused: maybe later
        held->second.offered.insert(c.peer);
        if (header != nullptr) header->offered.insert(c.peer);
        offers_[{c.peer, request_id}] = std::move(ids);
        ++stats_.offers_sent;
        ++offered;
    }
    return targets.size();
}

std::vector<dht::Contact> GossipRouter::covering(const Hash& position, proto::Time now) {
    std::vector<dht::Contact> found = contacts_.covering(position);
    // The table holds at most k nodes per bucket, and over Discovery only those bonded with: outside
    // the own block it may know none of a region's nodes, inside it need not know every other copy.
    // The DHT is asked who covers the region.
    const Hash region_first = region_of(position, dht::Radius{region_bits_}).first;
    look_up_placement(region_first, now);
    for (const dht::Contact& c : placement_[region_first].found) {
        const bool known = std::any_of(found.begin(), found.end(), [&](const dht::Contact& f) { return f.id == c.id; });
        if (!known && dht::covers(c.id, c.radius, position)) found.push_back(c);
    }
    return found;
}

bool GossipRouter::looking_up(const Hash& region_first) const {
    const auto it = placement_.find(region_first);
    return it != placement_.end() && it->second.looking;
}

void GossipRouter::look_up_placement(const Hash& region_first, proto::Time now) {
    Placement& p = placement_[region_first];
    if (p.looking || (p.asked_at && now < *p.asked_at + placement_refresh_)) return;
    p.looking = true;
    p.asked_at = now;
    ++stats_.placement_lookups;
    contacts_.lookup(region_first, now, [this, region_first, now](std::vector<dht::Contact> closest) {
        Placement& done = placement_[region_first];
        done.looking = false;
        done.found = std::move(closest);
        // The items of the region held meanwhile go to what the lookup found.
        std::vector<std::pair<Hash, Hash>> pending;
        for (const auto& [id, held] : held_) {
            const Hash position = position_of(id, held);
            if (region_of(position, dht::Radius{region_bits_}).first == region_first) {
                pending.emplace_back(id, position);
            }
        }
        for (const auto& [id, position] : pending) offer(id, position, 0, now);
    });
}

void GossipRouter::on_offer(proto::PeerId from, ByteView frame) {
    auto offer = proto::decode_offer(frame);
    if (!offer) {
        disconnect_(from, std::string{"mgr: bad Offer: "} + std::string{proto::to_string(offer.error())});
        return;
    }
    proto::Accept accept{offer->request_id, {}};
    for (std::size_t i = 0; i < offer->content_ids.size(); ++i) {
        if (!seen_.contains(offer->content_ids[i])) accept.indexes.push_back(i);
    }
    send_(from, proto::encode(accept));
}

void GossipRouter::on_accept(proto::PeerId from, ByteView frame) {
    auto accept = proto::decode_accept(frame);
    if (!accept) {
        disconnect_(from, std::string{"mgr: bad Accept: "} + std::string{proto::to_string(accept.error())});
        return;
    }
    const auto it = offers_.find({from, accept->request_id});
    if (it == offers_.end()) return;  // late or unknown: not an offence
    const std::vector<Hash> ids = std::move(it->second);
    offers_.erase(it);
    for (uint64_t i : accept->indexes) {
        if (i >= ids.size()) {
            disconnect_(from, "mgr: Accept names an index past the offer");
            return;
        }
        const auto held = held_.find(ids[i]);
        if (held == held_.end()) continue;  // forgotten since
        Bytes out = proto::encode(proto::Content{held->second.kind, held->second.payload});
        stats_.content_bytes_sent += out.size();
        ++stats_.content_sent;
        send_(from, std::move(out));
    }
}

void GossipRouter::on_disconnect(proto::PeerId peer) {
    for (auto it = offers_.begin(); it != offers_.end();) {
        it = it->first.first == peer ? offers_.erase(it) : std::next(it);
    }
}

}  // namespace carousel::mgr
