// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "dht.hpp"

#include <algorithm>

#include <carousel/core/assert.hpp>
#include <carousel/proto/dht_messages.hpp>

namespace carousel::dht {

namespace {

using proto::DhtMessageType;

std::string reason_of(std::string_view what, proto::DhtWireError e) {
    return std::string{"dht: malformed "} + std::string{what} + ": " + std::string{proto::to_string(e)};
}

}  // namespace

Dht::Dht(Contact self, Options options, SendFn send, DisconnectFn disconnect)
    : self_{self},
      options_{options},
      send_{std::move(send)},
      disconnect_{std::move(disconnect)},
      table_{self.id, std::clamp<std::size_t>(options.k, 1, proto::kMaxNodesPerReply), options.max_failures} {
    options_.k = table_.k();
    options_.alpha = std::max<std::size_t>(options_.alpha, 1);
    next_revalidation_ = options_.revalidate_interval;
    CAROUSEL_ASSERT(send_ && disconnect_, "a Dht is given both callbacks");
}

bool Dht::handles(uint8_t message_type) noexcept { return proto::is_dht_message(message_type); }

std::optional<NodeId> Dht::id_of(PeerId peer) const {
    const auto it = peer_ids_.find(peer);
    if (it == peer_ids_.end()) return std::nullopt;
    return it->second;
}

// ---- incoming -----------------------------------------------------------------------------------

void Dht::on_frame(PeerId from, ByteView frame, Time now) {
    if (frame.empty() || !handles(frame[0])) {
        misbehaved(from, "dht: not a DHT message", now);
        return;
    }
    switch (static_cast<DhtMessageType>(frame[0])) {
        case DhtMessageType::kPing:
            on_ping(from, frame, now);
            break;
        case DhtMessageType::kPong:
            on_pong(from, frame, now);
            break;
        case DhtMessageType::kFindNodes:
            on_find_nodes(from, frame, now);
            break;
        case DhtMessageType::kNodes:
            on_nodes(from, frame, now);
            break;
    }
}

void Dht::on_ping(PeerId from, ByteView frame, Time now) {
    auto m = proto::decode_ping(frame);
    if (!m) return misbehaved(from, reason_of("PING", m.error()), now);
    if (!learn(from, m->sender, m->radius_bits, now)) return;
    send_(from, proto::encode(proto::Pong{m->request_id, self_.id, self_.radius.bits}));
}

void Dht::on_pong(PeerId from, ByteView frame, Time now) {
    auto m = proto::decode_pong(frame);
    if (!m) return misbehaved(from, reason_of("PONG", m.error()), now);
    if (!take_request(m->request_id, from, Kind::kPing)) return;  // late or unsolicited: ignored
    learn(from, m->sender, m->radius_bits, now);
}

void Dht::on_find_nodes(PeerId from, ByteView frame, Time now) {
    auto m = proto::decode_find_nodes(frame);
    if (!m) return misbehaved(from, reason_of("FINDNODES", m.error()), now);
    touch(from, now);
    const std::optional<NodeId> requester = id_of(from);
    // One more than asked, so that leaving out the requester still leaves `count`.
    std::vector<Contact> closest = table_.closest(m->target, static_cast<std::size_t>(m->count) + 1);
    proto::Nodes reply{m->request_id, {}};
    for (const Contact& c : closest) {
        if (reply.nodes.size() >= m->count) break;
        if (requester && c.id == *requester) continue;
        reply.nodes.push_back({c.id, c.peer, c.radius.bits});
    }
    send_(from, proto::encode(reply));
    // A requester we cannot name yet is asked for its id and radius.
    if (!requester && !pinging(from)) ping(from, now);
}

void Dht::on_nodes(PeerId from, ByteView frame, Time now) {
    auto m = proto::decode_nodes(frame);
    if (!m) return misbehaved(from, reason_of("NODES", m.error()), now);
    const auto it = requests_.find(m->request_id);
    if (it == requests_.end() || it->second.peer != from || it->second.kind != Kind::kFindNodes) return;
    if (m->nodes.size() > it->second.count) return misbehaved(from, "dht: NODES reply longer than asked", now);
    const Request r = *take_request(m->request_id, from, Kind::kFindNodes);
    touch(from, now);
    // The table's failure count is cleared by a timely answer.
    if (const auto e = table_.find(r.queried); e && e->contact.peer == from) table_.update(e->contact, now);
    const auto l = lookups_.find(r.lookup);
    if (l == lookups_.end()) return;  // finished or cancelled meanwhile
    std::vector<Contact> contacts;
    contacts.reserve(m->nodes.size());
    for (const proto::NodeRecord& n : m->nodes) {
        if (n.id == self_.id) continue;
        contacts.push_back({n.id, n.address, Radius{n.radius_bits}});
    }
    l->second.lookup.on_nodes(r.queried, contacts);
    advance(r.lookup, now);
}

// ---- peers --------------------------------------------------------------------------------------

bool Dht::learn(PeerId peer, const NodeId& id, unsigned radius_bits, Time now) {
    if (id == self_.id) {
        misbehaved(peer, "dht: peer claims our node id", now);
        return false;
    }
    const auto it = peer_ids_.find(peer);
    if (it != peer_ids_.end() && it->second != id) {
        // The peer now claims another id: its old one is no longer reachable through it.
        if (const auto e = table_.find(it->second); e && e->contact.peer == peer) table_.remove(it->second);
    }
    peer_ids_[peer] = id;
    table_.update(Contact{id, peer, Radius{radius_bits}}, now);
    return true;
}

void Dht::touch(PeerId peer, Time now) {
    const auto it = peer_ids_.find(peer);
    if (it == peer_ids_.end()) return;
    const auto e = table_.find(it->second);
    if (e && e->contact.peer == peer) table_.update(e->contact, now);
}

void Dht::misbehaved(PeerId peer, const std::string& reason, Time now) {
    ++stats_.disconnects;
    disconnect_(peer, reason);
    forget(peer, now);
}

void Dht::on_connect(PeerId peer, Time now) {
    if (options_.ping_on_connect) ping(peer, now);
}

void Dht::on_disconnect(PeerId peer, Time now) { forget(peer, now); }

void Dht::forget(PeerId peer, Time now) {
    if (const auto it = peer_ids_.find(peer); it != peer_ids_.end()) {
        // Out of its bucket unless the id is now reached through another peer; out of the
        // replacements in any case (they are unverified).
        if (const auto e = table_.find(it->second); !e || e->contact.peer == peer) table_.remove(it->second);
        peer_ids_.erase(it);
    }
    std::vector<LookupId> touched;
    for (auto it = requests_.begin(); it != requests_.end();) {
        if (it->second.peer != peer) {
            ++it;
            continue;
        }
        const Request r = it->second;
        deadlines_.erase({r.deadline, it->first});
        it = requests_.erase(it);
        // Not counted against the table: the contact was removed above, or is another peer's.
        if (r.kind == Kind::kFindNodes) {
            if (const auto l = lookups_.find(r.lookup); l != lookups_.end()) {
                l->second.lookup.on_failure(r.queried);
                touched.push_back(r.lookup);
            }
        }
    }
    for (const LookupId id : touched) advance(id, now);
}

// ---- requests -----------------------------------------------------------------------------------

uint64_t Dht::add_request(Request r) {
    const uint64_t id = next_request_++;
    deadlines_.insert({r.deadline, id});
    requests_.emplace(id, r);
    ++stats_.requests_sent;
    return id;
}

std::optional<Dht::Request> Dht::take_request(uint64_t id, PeerId from, Kind kind) {
    const auto it = requests_.find(id);
    if (it == requests_.end() || it->second.peer != from || it->second.kind != kind) return std::nullopt;
    Request r = it->second;
    deadlines_.erase({r.deadline, id});
    requests_.erase(it);
    return r;
}

bool Dht::pinging(PeerId peer) const {
    return std::any_of(requests_.begin(), requests_.end(),
                       [&](const auto& r) { return r.second.kind == Kind::kPing && r.second.peer == peer; });
}

void Dht::ping(PeerId peer, Time now) {
    const uint64_t id = add_request(Request{Kind::kPing, peer, now + options_.request_timeout, 0, {}, 0});
    send_(peer, proto::encode(proto::Ping{id, self_.id, self_.radius.bits}));
}

void Dht::announce(Time now) {
    std::vector<PeerId> peers;
    peers.reserve(peer_ids_.size());
    for (const auto& [peer, id] : peer_ids_) peers.push_back(peer);
    for (const PeerId peer : peers) ping(peer, now);
}

std::optional<Time> Dht::next_deadline() const {
    std::optional<Time> at;
    if (!deadlines_.empty()) at = deadlines_.begin()->first;
    if (options_.revalidate_interval > Time{0} && (!at || next_revalidation_ < *at)) at = next_revalidation_;
    return at;
}

void Dht::revalidate(Time now) {
    if (options_.revalidate_interval <= Time{0} || now < next_revalidation_) return;
    next_revalidation_ = now + options_.revalidate_interval;
    // The least recently seen contact of the whole table (the first in bucket order on a tie).
    std::optional<Contact> oldest;
    Time oldest_seen{0};
    for (unsigned d = 1; d <= 256; ++d) {
        for (const RoutingTable::Entry& e : table_.bucket(d)) {
            if (!oldest || e.last_seen < oldest_seen) {
                oldest = e.contact;
                oldest_seen = e.last_seen;
            }
        }
    }
    if (!oldest || now - oldest_seen < options_.revalidate_interval || pinging(oldest->peer)) return;
    ++stats_.revalidations;
    ping(oldest->peer, now);
}

void Dht::fail(const Request& r, std::vector<LookupId>& touched) {
    if (r.kind == Kind::kPing) {
        if (const auto id = id_of(r.peer)) {
            if (const auto e = table_.find(*id); e && e->contact.peer == r.peer) table_.mark_failed(*id);
        }
        return;
    }
    if (const auto e = table_.find(r.queried); e && e->contact.peer == r.peer) table_.mark_failed(r.queried);
    if (const auto l = lookups_.find(r.lookup); l != lookups_.end()) {
        l->second.lookup.on_failure(r.queried);
        touched.push_back(r.lookup);
    }
}

void Dht::on_timer(Time now) {
    std::vector<LookupId> touched;
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
        const uint64_t id = deadlines_.begin()->second;
        deadlines_.erase(deadlines_.begin());
        const auto it = requests_.find(id);
        CAROUSEL_ASSERT(it != requests_.end(), "every deadline belongs to a pending request");
        const Request r = it->second;
        requests_.erase(it);
        ++stats_.timeouts;
        fail(r, touched);
    }
    for (const LookupId l : touched) advance(l, now);
    revalidate(now);
}

// ---- lookups ------------------------------------------------------------------------------------

LookupId Dht::start_lookup(const Hash& target, Time now, LookupDone done) {
    const LookupId id = next_lookup_++;
    lookups_.emplace(id, RunningLookup{Lookup{target, table_.closest(target, options_.k), options_.alpha, options_.k},
                                       std::move(done)});
    advance(id, now);
    return id;
}

bool Dht::cancel_lookup(LookupId id) { return lookups_.erase(id) > 0; }

void Dht::advance(LookupId id, Time now) {
    const auto it = lookups_.find(id);
    if (it == lookups_.end()) return;
    Lookup& lookup = it->second.lookup;
    for (const Contact& c : lookup.next_queries()) {
        const uint64_t req =
            add_request(Request{Kind::kFindNodes, c.peer, now + options_.request_timeout, id, c.id, options_.k});
        ++stats_.lookup_queries;
        send_(c.peer, proto::encode(proto::FindNodes{req, lookup.target(), options_.k}));
    }
    if (!lookup.done()) return;
    // Its requests still in flight stay pending: they time out as failures of their contacts, and
    // their answers refresh the table.
    std::vector<Contact> result = lookup.result();
    LookupDone done = std::move(it->second.done);
    lookups_.erase(it);
    ++stats_.lookups_done;
    if (done) done(std::move(result));
}

}  // namespace carousel::dht
