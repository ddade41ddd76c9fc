// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "discovery.hpp"

#include <algorithm>

#include <carousel/core/assert.hpp>
#include <carousel/proto/discovery_messages.hpp>

#include "discovery_packet.hpp"
#include "node_endpoint.hpp"

namespace carousel::dht {

using proto::DiscoveryMessageType;

namespace {

Hash hash_of_packet(const Bytes& packet) { return to_hash(ByteView{packet}.substr(0, kPacketHashSize)); }

}  // namespace

Discovery::Discovery(const KeyPair& key, NodeRecord self, DiscoveryOptions options, SendFn send)
    : key_{key},
      self_{std::make_shared<const NodeRecord>(std::move(self))},
      options_{options},
      send_{std::move(send)},
      table_{key.node_id, std::clamp<std::size_t>(options.k, 1, proto::kMaxFindNodesCount), options.max_failures} {
    options_.k = table_.k();
    options_.alpha = std::max<std::size_t>(options_.alpha, 1);
    next_revalidation_ = options_.revalidate_interval;
    CAROUSEL_ASSERT(send_, "a Discovery is given a send callback");
    CAROUSEL_ASSERT(self_->node_id() == key_.node_id, "a Discovery's record is its key's");
}

// ---- packets ------------------------------------------------------------------------------------

void Discovery::send_packet(const Address& to, const Bytes& frame) {
    auto packet = seal(key_, frame);
    // Our own frames are built to fit (records_that_fit); one that does not is a bug, not peer input.
    CAROUSEL_ASSERT(packet.has_value(), "a discovery frame fits in a datagram");
    ++stats_.packets_sent;
    send_(to, std::move(*packet));
}

void Discovery::on_datagram(const Address& from, ByteView datagram, Time now) {
    ++stats_.packets_received;
    const auto packet = open(datagram);
    if (!packet) {
        ++stats_.bad_packets;
        return;
    }
    const ByteView frame = packet->frame;
    if (frame.empty() || !proto::is_discovery_message(frame[0]) || packet->sender_id == key_.node_id) {
        ++stats_.malformed;
        return;
    }
    switch (static_cast<DiscoveryMessageType>(frame[0])) {
        case DiscoveryMessageType::kPing:
            on_ping(packet->sender_id, from, packet->hash, frame, now);
            break;
        case DiscoveryMessageType::kPong:
            on_pong(packet->sender_id, frame, now);
            break;
        case DiscoveryMessageType::kFindNodes:
            on_find_nodes(packet->sender_id, from, frame, now);
            break;
        case DiscoveryMessageType::kNodes:
            on_nodes(packet->sender_id, frame, now);
            break;
    }
}

std::shared_ptr<const NodeRecord> Discovery::record_from(const NodeId& from, ByteView encoded) {
    auto record = NodeRecord::decode(encoded);
    if (!record || record->node_id() != from) {
        ++stats_.bad_records;
        return nullptr;
    }
    // The one we hold, if it is as new: contacts keep sharing it.
    if (const auto held = table_.find(from);
        held && held->contact.record && held->contact.record->seq() >= record->seq()) {
        return held->contact.record;
    }
    return std::make_shared<const NodeRecord>(std::move(*record));
}

// ---- incoming -----------------------------------------------------------------------------------

void Discovery::on_ping(const NodeId& from, const Address& source, const Hash& packet_hash, ByteView frame, Time now) {
    const auto m = proto::decode_discovery_ping(frame);
    if (!m) {
        ++stats_.malformed;
        return;
    }
    const auto record = record_from(from, m->record);
    if (!record) return;
    send_packet(source, proto::encode(proto::DiscoveryPong{m->request_id, packet_hash, self_->encoded()}));
    // PING back by the header's rule: an unbonded sender, or a newer record. Not by table membership:
    // a node whose bucket is full stays out of the table, and two such nodes would PING each other
    // back for ever.
    const auto held = table_.find(from);
    const bool newer = held && held->contact.record && held->contact.record->seq() < record->seq();
    if (!bonded(from) || newer) ping_record(record, now);
}

void Discovery::on_pong(const NodeId& from, ByteView frame, Time now) {
    const auto m = proto::decode_discovery_pong(frame);
    if (!m) {
        ++stats_.malformed;
        return;
    }
    const auto it = requests_.find(m->request_id);
    if (it == requests_.end() || it->second.kind != Kind::kPing || it->second.node != from ||
        it->second.ping_hash != m->ping_hash) {
        ++stats_.unsolicited;
        return;
    }
    const auto record = record_from(from, m->record);
    if (!record) return;  // the request stays pending and times out: the node did not prove itself
    const Address proven = it->second.to;
    deadlines_.erase({it->second.deadline, it->first});
    requests_.erase(it);
    const auto radius = radius_of(*record);
    table_.update(Contact{from, 0, radius.value_or(Radius{0}), record}, now);
    bond(from, proven, now);
    ++stats_.bonded;
    // A FINDNODES held until this node bonded is answered now.
    if (const auto h = held_.find(from); h != held_.end()) {
        const HeldRequest r = h->second;
        held_.erase(h);
        answer_find_nodes(from, proven, r.request_id, r.target, r.count);
    }
}

void Discovery::on_find_nodes(const NodeId& from, const Address& source, ByteView frame, Time now) {
    const auto m = proto::decode_discovery_find_nodes(frame);
    if (!m) {
        ++stats_.malformed;
        return;
    }
    if (const auto b = bonds_.find(from); b != bonds_.end()) {
        if (const auto e = table_.find(from)) table_.update(e->contact, now);
        answer_find_nodes(from, b->second.address, m->request_id, m->target, m->count);
        return;
    }
    // Not bonded: hold the request and PING the sender at the address it came from. Its PONG names
    // its record, and the answer goes out then.
    if (!held_.contains(from) && held_.size() >= options_.max_held_requests) {
        ++stats_.held_requests_dropped;
        return;
    }
    held_[from] = HeldRequest{m->request_id, m->target, m->count};
    ping_at(from, source, now);
}

void Discovery::answer_find_nodes(const NodeId& requester, const Address& to, uint64_t request_id, const Hash& target,
                                  uint64_t count) {
    std::vector<Bytes> records;
    for (const Contact& c : table_.closest(target, static_cast<std::size_t>(count) + 1)) {
        if (records.size() >= count) break;
        if (c.id == requester || !c.record) continue;
        records.push_back(c.record->encoded());
    }
    // As many packets as the records need (records_that_fit keeps each in a datagram), at least one.
    std::vector<proto::DiscoveryNodes> packets;
    for (std::size_t first = 0; packets.empty() || first < records.size();) {
        const std::size_t n = first < records.size() ? proto::records_that_fit(records, first) : 0;
        proto::DiscoveryNodes m{request_id, 0, {}};
        for (std::size_t i = first; i < first + n; ++i) m.records.push_back(std::move(records[i]));
        packets.push_back(std::move(m));
        if (n == 0) break;
        first += n;
    }
    for (proto::DiscoveryNodes& m : packets) {
        m.total = packets.size();
        send_packet(to, proto::encode(m));
    }
}

void Discovery::on_nodes(const NodeId& from, ByteView frame, Time now) {
    const auto m = proto::decode_discovery_nodes(frame);
    if (!m) {
        ++stats_.malformed;
        return;
    }
    const auto it = requests_.find(m->request_id);
    if (it == requests_.end() || it->second.kind != Kind::kFindNodes || it->second.node != from ||
        (it->second.total != 0 && it->second.total != m->total) || it->second.packets >= m->total) {
        ++stats_.unsolicited;
        return;
    }
    Request& r = it->second;
    r.total = m->total;
    ++r.packets;
    for (const Bytes& encoded : m->records) {
        if (r.found.size() >= r.count) break;
        auto record = NodeRecord::decode(encoded);
        if (!record || !udp_address(*record)) {
            ++stats_.bad_records;
            continue;
        }
        if (record->node_id() == key_.node_id) continue;
        const auto radius = radius_of(*record).value_or(Radius{0});
        const NodeId id = record->node_id();
        r.found.push_back(Contact{id, 0, radius, std::make_shared<const NodeRecord>(std::move(*record))});
    }
    if (r.packets == r.total) complete_find_nodes(m->request_id, now);
}

void Discovery::complete_find_nodes(uint64_t request_id, Time now) {
    const auto it = requests_.find(request_id);
    const Request r = std::move(it->second);
    deadlines_.erase({r.deadline, request_id});
    requests_.erase(it);
    // A timely answer clears the contact's failures.
    if (const auto e = table_.find(r.node)) table_.update(e->contact, now);
    const auto l = lookups_.find(r.lookup);
    if (l == lookups_.end()) return;  // finished or cancelled meanwhile
    l->second.lookup.on_nodes(r.node, r.found);
    advance(r.lookup, now);
}

// ---- requests -----------------------------------------------------------------------------------

uint64_t Discovery::add_request(Request r) {
    const uint64_t id = next_request_++;
    deadlines_.insert({r.deadline, id});
    requests_.emplace(id, std::move(r));
    ++stats_.requests_sent;
    return id;
}

bool Discovery::pinging(const NodeId& node) const {
    return std::any_of(requests_.begin(), requests_.end(),
                       [&](const auto& r) { return r.second.kind == Kind::kPing && r.second.node == node; });
}

void Discovery::ping(const NodeRecord& record, Time now) {
    if (record.node_id() == key_.node_id) return;
    ping_record(std::make_shared<const NodeRecord>(record), now);
}

void Discovery::ping_record(const std::shared_ptr<const NodeRecord>& record, Time now) {
    if (const auto to = udp_address(*record)) ping_at(record->node_id(), *to, now);
}

void Discovery::ping_at(const NodeId& node, const Address& to, Time now) {
    if (pinging(node)) return;
    Request r;
    r.kind = Kind::kPing;
    r.node = node;
    r.deadline = now + options_.request_timeout;
    r.to = to;
    const uint64_t id = add_request(r);
    auto packet = seal(key_, proto::encode(proto::DiscoveryPing{id, self_->encoded()}));
    CAROUSEL_ASSERT(packet.has_value(), "a PING fits in a datagram");
    requests_.at(id).ping_hash = hash_of_packet(*packet);
    ++stats_.packets_sent;
    send_(to, std::move(*packet));
}

bool Discovery::bonded(const NodeId& node) const { return bonds_.contains(node); }

void Discovery::bond(const NodeId& node, const Address& address, Time now) {
    if (const auto it = bonds_.find(node); it != bonds_.end()) {
        bond_ages_.erase({it->second.at, node});
    } else if (bonds_.size() >= options_.max_bonds) {
        // Forget the oldest bond: that node PINGs again (one round trip) before we answer it.
        bonds_.erase(bond_ages_.begin()->second);
        bond_ages_.erase(bond_ages_.begin());
    }
    bonds_[node] = Bond{now, address};
    bond_ages_.insert({now, node});
}

void Discovery::set_record(NodeRecord record) {
    CAROUSEL_ASSERT(record.node_id() == key_.node_id && record.seq() > self_->seq(),
                    "a Discovery's new record is its key's, with a higher seq");
    self_ = std::make_shared<const NodeRecord>(std::move(record));
}

void Discovery::announce(Time now) {
    for (const Contact& c : table_.contacts()) {
        if (c.record) ping_record(c.record, now);
    }
}

std::optional<Time> Discovery::next_deadline() const {
    std::optional<Time> at;
    if (!deadlines_.empty()) at = deadlines_.begin()->first;
    if (options_.revalidate_interval > Time{0} && (!at || next_revalidation_ < *at)) at = next_revalidation_;
    return at;
}

void Discovery::revalidate(Time now) {
    if (options_.revalidate_interval <= Time{0} || now < next_revalidation_) return;
    next_revalidation_ = now + options_.revalidate_interval;
    std::optional<RoutingTable::Entry> oldest;
    for (unsigned d = 1; d <= 256; ++d) {
        for (const RoutingTable::Entry& e : table_.bucket(d)) {
            if (!oldest || e.last_seen < oldest->last_seen) oldest = e;
        }
    }
    if (!oldest || now - oldest->last_seen < options_.revalidate_interval || !oldest->contact.record) return;
    ++stats_.revalidations;
    ping_record(oldest->contact.record, now);
}

void Discovery::fail(const Request& r, std::vector<LookupId>& touched) {
    if (r.kind == Kind::kPing) {
        if (table_.find(r.node)) table_.mark_failed(r.node);
        held_.erase(r.node);
        return;
    }
    if (table_.find(r.node)) table_.mark_failed(r.node);
    if (const auto l = lookups_.find(r.lookup); l != lookups_.end()) {
        l->second.lookup.on_failure(r.node);
        touched.push_back(r.lookup);
    }
}

void Discovery::on_timer(Time now) {
    std::vector<LookupId> touched;
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
        const uint64_t id = deadlines_.begin()->second;
        const auto it = requests_.find(id);
        CAROUSEL_ASSERT(it != requests_.end(), "every deadline belongs to a pending request");
        if (it->second.kind == Kind::kFindNodes && it->second.packets > 0) {
            // Part of a NODES answer came: the lookup takes what arrived.
            complete_find_nodes(id, now);
            continue;
        }
        deadlines_.erase(deadlines_.begin());
        const Request r = std::move(it->second);
        requests_.erase(it);
        ++stats_.timeouts;
        fail(r, touched);
    }
    for (const LookupId l : touched) advance(l, now);
    revalidate(now);
}

// ---- lookups ------------------------------------------------------------------------------------

Discovery::LookupId Discovery::start_lookup(const Hash& target, Time now, LookupDone done) {
    const LookupId id = next_lookup_++;
    lookups_.emplace(id, RunningLookup{Lookup{target, table_.closest(target, options_.k), options_.alpha, options_.k},
                                       std::move(done)});
    advance(id, now);
    return id;
}

bool Discovery::cancel_lookup(LookupId id) { return lookups_.erase(id) > 0; }

void Discovery::advance(LookupId id, Time now) {
    const auto it = lookups_.find(id);
    if (it == lookups_.end()) return;
    Lookup& lookup = it->second.lookup;
    // A contact without a UDP address fails at once, and the lookup asks the next one.
    for (bool again = true; again;) {
        again = false;
        for (const Contact& c : lookup.next_queries()) {
            const auto to = c.record ? udp_address(*c.record) : std::nullopt;
            if (!to) {
                lookup.on_failure(c.id);
                again = true;
                continue;
            }
            Request r;
            r.kind = Kind::kFindNodes;
            r.node = c.id;
            // The node may PING us before it answers (it has not bonded with us): a round trip more.
            r.deadline = now + 2 * options_.request_timeout;
            r.lookup = id;
            r.count = options_.k;
            const uint64_t req = add_request(std::move(r));
            ++stats_.lookup_queries;
            send_packet(*to, proto::encode(proto::DiscoveryFindNodes{req, lookup.target(), options_.k}));
        }
    }
    if (!lookup.done()) return;
    std::vector<Contact> result = lookup.result();
    LookupDone done = std::move(it->second.done);
    lookups_.erase(it);
    ++stats_.lookups_done;
    if (done) done(std::move(result));
}

// ---- DiscoveryNode ------------------------------------------------------------------------------

DiscoveryNode::DiscoveryNode(const KeyPair& key, NodeRecord self, DiscoveryOptions options)
    : discovery_{key, std::move(self), options,
                 [this](const Address& to, Bytes datagram) { send_datagram(to, std::move(datagram)); }} {}

void DiscoveryNode::on_frame(proto::PeerId from, ByteView frame, Time now) {
    (void)frame;
    (void)now;
    // Discovery has nothing to say over a connection: whoever opened one is not speaking to it.
    disconnect(from, "a discovery node takes no frames");
}

}  // namespace carousel::dht
