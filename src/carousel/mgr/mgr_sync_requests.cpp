// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// MgrSync's requests and peers: the pool's options, tracking a request and taking its answer,
// error entries and strikes, and the choice of a covering node. The flow control itself (windows,
// reservations, deadlines, bans) is dht::PeerPool's; CoveringPeers finds the candidates.
#include "mgr_sync.hpp"
#include "mgr_sync_parts.hpp"

namespace carousel::mgr {

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
    p.min_budget = uint64_t{16} * 1024;
    p.max_budget = o.max_response_bytes;
    p.ban_standing = -static_cast<int>(o.strikes_to_ban);
    return p;
}

MgrSync::Request MgrSync::new_request(Request::Kind kind, proto::PeerId peer, std::size_t region, const Hash& root,
                                      uint64_t number) const {
    Request r;
    r.kind = kind;
    r.peer = peer;
    r.budget = pool_.next_budget();
    r.region = region;
    r.root = root;
    r.number = number;
    return r;
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
    if (answered_by_.insert(from).second) stats_.peers_used = answered_by_.size();
    return r;
}

void MgrSync::strike(proto::PeerId peer) {
    if (pool_.strike(peer)) ++stats_.banned_peers;
}

std::optional<proto::PeerId> MgrSync::pick_peer(const Hash& position, proto::Time now,
                                                const std::set<proto::PeerId>& avoid) {
    const auto peer = covering_.pick(position, now, avoid);
    stats_.lookups = covering_.lookups();
    if (failure_.empty()) failure_ = covering_.failure();
    return peer;
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

}  // namespace carousel::mgr
