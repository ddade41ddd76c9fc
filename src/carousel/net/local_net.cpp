// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "local_net.hpp"

#include <algorithm>
#include <stdexcept>

#include <carousel/core/assert.hpp>

namespace carousel::net {

namespace {

constexpr uint64_t kNanosPerSecond = 1'000'000'000;
constexpr uint64_t kNanosPerMicro = 1'000;

// Nanoseconds a frame of `bytes` occupies a link of `rate` bytes/s, rounded up (0: unlimited).
// bytes <= kMaxFrameSize (2^24) keeps bytes * 1e9 far below 2^64.
uint64_t serialization_ns(std::size_t bytes, uint64_t rate) noexcept {
    if (rate == 0) return 0;
    return (static_cast<uint64_t>(bytes) * kNanosPerSecond + rate - 1) / rate;
}

uint64_t to_ns(Time t) noexcept { return static_cast<uint64_t>(t.count()) * kNanosPerMicro; }

Time ceil_to_time(uint64_t ns) noexcept {
    return Time{static_cast<Time::rep>((ns + kNanosPerMicro - 1) / kNanosPerMicro)};
}

constexpr uint8_t kDefaultNetwork = 10;  // 10.0.0.0/8
constexpr uint16_t kDefaultPort = 30303;
constexpr PeerId kAddressableIds = PeerId{1} << 24;

// The id whose default address `address` is, if it is of that form (0 is no node's).
std::optional<PeerId> default_owner(const Address& address) noexcept {
    if (address.ip[0] != kDefaultNetwork || address.port != kDefaultPort) return std::nullopt;
    return (PeerId{address.ip[1]} << 16) | (PeerId{address.ip[2]} << 8) | PeerId{address.ip[3]};
}

}  // namespace

Address default_address(PeerId id) {
    if (id == 0 || id >= kAddressableIds) {
        throw std::out_of_range("LocalNet: no default address for id " + std::to_string(id));
    }
    return {.ip = {kDefaultNetwork, static_cast<uint8_t>(id >> 16), static_cast<uint8_t>(id >> 8),
                   static_cast<uint8_t>(id)},
            .port = kDefaultPort};
}

FrameHook on_nth_frame(PeerId from, PeerId to, uint64_t n, std::function<void(Bytes& frame)> action) {
    return [from, to, n, action = std::move(action), seen = uint64_t{0}](PeerId f, PeerId t, Bytes& frame) mutable {
        if (f != from || t != to) return;
        if (++seen == n) action(frame);
    };
}

LocalNet::Node& LocalNet::node(PeerId id) {
    if (!valid(id)) throw std::out_of_range("LocalNet: no node " + std::to_string(id));
    return nodes_[id - 1];
}

const LocalNet::Node& LocalNet::node(PeerId id) const {
    if (!valid(id)) throw std::out_of_range("LocalNet: no node " + std::to_string(id));
    return nodes_[id - 1];
}

PeerId LocalNet::add(Endpoint& endpoint, NodeSettings settings) {
    const PeerId id = nodes_.size() + 1;
    Node n;
    n.endpoint = &endpoint;
    n.settings = settings;
    n.address = default_address(id);
    nodes_.push_back(std::move(n));
    addresses_[nodes_.back().address] = id;
    update_timer(id);
    return id;
}

bool LocalNet::set_address(PeerId id, const Address& to) {
    Node& n = node(id);
    const auto held = addresses_.find(to);
    if (held != addresses_.end()) return held->second == id;
    if (const auto owner = default_owner(to); owner && *owner != id) return false;
    addresses_.erase(n.address);
    n.address = to;
    addresses_[to] = id;
    return true;
}

Address LocalNet::address(PeerId id) const { return node(id).address; }

std::optional<PeerId> LocalNet::node_at(const Address& at) const {
    const auto it = addresses_.find(at);
    if (it == addresses_.end()) return std::nullopt;
    return it->second;
}

bool LocalNet::connect(PeerId a, PeerId b, LinkSettings link) {
    if (!valid(a) || !valid(b) || a == b) return false;
    if (!node(a).online || !node(b).online) return false;
    if (connected(a, b)) return false;
    open_link(a, b, link);
    return true;
}

void LocalNet::open_link(PeerId a, PeerId b, LinkSettings link) {
    Link& l = links_[key(a, b)];
    l.connected = true;
    l.settings = link;
    ++l.generation;
    for (const auto& [self, other] : {std::pair{a, b}, std::pair{b, a}}) {
        Node& n = node(self);
        n.peers.insert(other);
        n.peak_peers = std::max(n.peak_peers, n.peers.size());
    }
    schedule(now_, EventKind::kConnect, a, b, l.generation);
    schedule(now_, EventKind::kConnect, b, a, l.generation);
}

bool LocalNet::disconnect(PeerId a, PeerId b, std::string reason) {
    if (!connected(a, b)) return false;
    cut(0, a, b, std::move(reason));
    return true;
}

void LocalNet::set_online(PeerId id, bool is_online) {
    Node& n = node(id);
    if (n.online == is_online) return;
    n.online = is_online;
    if (is_online) return;
    // Copy: cut() edits the set.
    const std::vector<PeerId> cut_peers(n.peers.begin(), n.peers.end());
    for (const PeerId peer : cut_peers) cut(0, id, peer, "node " + std::to_string(id) + " went offline");
}

void LocalNet::post(PeerId id, std::function<void()> fn, Time at) {
    (void)node(id);  // throws for an unknown node
    Event event;
    event.at = std::max(at, now_);
    event.kind = EventKind::kCall;
    event.node = id;
    event.call = std::move(fn);
    push(std::move(event));
}

bool LocalNet::online(PeerId id) const { return node(id).online; }

bool LocalNet::connected(PeerId a, PeerId b) const {
    const auto it = links_.find(key(a, b));
    return it != links_.end() && it->second.connected;
}

std::vector<PeerId> LocalNet::peers(PeerId id) const {
    const Node& n = node(id);
    return {n.peers.begin(), n.peers.end()};
}

std::size_t LocalNet::connection_count(PeerId id) const { return node(id).peers.size(); }

std::size_t LocalNet::peak_connections(PeerId id) const { return node(id).peak_peers; }

const Metrics& LocalNet::metrics(PeerId id) const { return node(id).metrics; }

const Metrics& LocalNet::datagram_metrics(PeerId id) const { return node(id).datagram_metrics; }

Metrics LocalNet::link_metrics(PeerId from, PeerId to) const {
    const auto it = link_metrics_.find({from, to});
    return it == link_metrics_.end() ? Metrics{} : it->second;
}

void LocalNet::run_until(Time t) {
    while (!events_.empty() && events_.front().at <= t) step();
    if (t != kForever) now_ = std::max(now_, t);
}

bool LocalNet::run_until(const std::function<bool()>& done, Time limit) {
    if (done()) return true;
    while (!events_.empty() && events_.front().at <= limit) {
        step();
        if (done()) return true;
    }
    if (limit != kForever) now_ = std::max(now_, limit);
    return false;
}

bool LocalNet::run_until_idle(Time limit) {
    while (!events_.empty() && events_.front().at <= limit) step();
    return events_.empty();
}

bool LocalNet::step() {
    if (events_.empty()) return false;
    std::pop_heap(events_.begin(), events_.end(), EventLater{});
    Event event = std::move(events_.back());
    events_.pop_back();
    process(event);
    return true;
}

void LocalNet::schedule(Time at, EventKind kind, PeerId node_id, PeerId peer, uint64_t generation, Bytes frame) {
    Event event;
    event.at = at;
    event.kind = kind;
    event.node = node_id;
    event.peer = peer;
    event.generation = generation;
    event.frame = std::move(frame);
    push(std::move(event));
}

void LocalNet::push(Event event) {
    event.seq = next_seq_++;
    events_.push_back(std::move(event));
    std::push_heap(events_.begin(), events_.end(), EventLater{});
}

void LocalNet::process(const Event& event) {
    CAROUSEL_ASSERT(event.at >= now_, "events are processed in time order");
    Node& n = node(event.node);
    // A timer re-armed or disarmed since it was scheduled is not an event: it does not move the clock.
    if (event.kind == EventKind::kTimer && event.generation != n.timer.generation) return;
    now_ = event.at;
    switch (event.kind) {
        case EventKind::kConnect:
            ++events_processed_;
            trace(TraceEntry::Kind::kConnect, event.node, event.peer);
            n.endpoint->on_connect(event.peer, now_);
            break;
        case EventKind::kDisconnect:
            ++events_processed_;
            trace(TraceEntry::Kind::kDisconnect, event.node, event.peer);
            n.endpoint->on_disconnect(event.peer, now_);
            break;
        case EventKind::kFrame: {
            ++events_processed_;
            const auto it = links_.find(key(event.node, event.peer));
            if (it == links_.end() || !it->second.connected || it->second.generation != event.generation) {
                // Cut in flight: counted as sent already, now as dropped too.
                drop(event.peer, event.node, event.frame);
                return;
            }
            n.metrics.received.add(event.frame);
            link_metrics_[{event.peer, event.node}].received.add(event.frame);
            total_.received.add(event.frame);
            trace(TraceEntry::Kind::kFrame, event.node, event.peer, event.frame);
            n.endpoint->on_frame(event.peer, event.frame, now_);
            break;
        }
        case EventKind::kTimer:
            ++events_processed_;
            n.timer.at.reset();
            ++n.timer.generation;
            trace(TraceEntry::Kind::kTimer, event.node, 0);
            n.endpoint->on_timer(now_);
            break;
        case EventKind::kCall:
            ++events_processed_;
            if (event.call) event.call();
            break;
        case EventKind::kDial:
            ++events_processed_;
            finish_dial(event);
            break;
        case EventKind::kDatagram:
            ++events_processed_;
            deliver_datagram(event);
            break;
    }
    drain(event.node);
}

void LocalNet::drain(PeerId id) {
    Endpoint& endpoint = *node(id).endpoint;
    for (auto& out : endpoint.take_outbox()) send(id, out.to, std::move(out.frame));
    for (auto& d : endpoint.take_disconnects()) {
        if (connected(id, d.peer)) cut(id, id, d.peer, std::move(d.reason));
    }
    for (const Address& to : endpoint.take_dials()) start_dial(id, to);
    for (auto& out : endpoint.take_datagrams()) send_datagram(id, out.to, std::move(out.datagram));
    update_timer(id);
}

Time LocalNet::transmit(Node& sender, Node& receiver, Time latency, std::size_t bytes) {
    // The bytes' time on the sender's uplink, then on the receiver's downlink (see the header).
    const uint64_t latency_ns = to_ns(latency);
    const uint64_t up_start = std::max(to_ns(now_), sender.uplink_free_ns);
    const uint64_t up_done = up_start + serialization_ns(bytes, sender.settings.uplink_bytes_per_second);
    sender.uplink_free_ns = up_done;
    const uint64_t down_start = std::max(up_start + latency_ns, receiver.downlink_free_ns);
    const uint64_t down_done = std::max(
        down_start + serialization_ns(bytes, receiver.settings.downlink_bytes_per_second), up_done + latency_ns);
    receiver.downlink_free_ns = down_done;
    return ceil_to_time(down_done);
}

void LocalNet::send(PeerId from, PeerId to, Bytes frame) {
    if (!connected(from, to) || frame.empty() || frame.size() > proto::kMaxFrameSize) {
        drop(from, to, frame);
        return;
    }
    if (hook_) {
        const Bytes original = frame;
        hook_(from, to, frame);
        if (frame.empty() || frame.size() > proto::kMaxFrameSize) {
            drop(from, to, original);
            return;
        }
    }
    const Link& link = links_.at(key(from, to));
    Node& sender = node(from);
    const Time arrival = transmit(sender, node(to), link.settings.latency, frame.size());
    sender.metrics.sent.add(frame);
    link_metrics_[{from, to}].sent.add(frame);
    total_.sent.add(frame);
    schedule(arrival, EventKind::kFrame, to, from, link.generation, std::move(frame));
}

void LocalNet::drop(PeerId from, PeerId to, ByteView frame) {
    if (valid(from)) node(from).metrics.dropped.add(frame);
    link_metrics_[{from, to}].dropped.add(frame);
    total_.dropped.add(frame);
    trace(TraceEntry::Kind::kDrop, from, to, frame);
}

void LocalNet::cut(PeerId by, PeerId a, PeerId b, std::string reason) {
    Link& link = links_.at(key(a, b));
    link.connected = false;
    node(a).peers.erase(b);
    node(b).peers.erase(a);
    disconnects_.push_back({.at = now_, .by = by, .a = a, .b = b, .reason = std::move(reason)});
    schedule(now_, EventKind::kDisconnect, a, b, link.generation);
    schedule(now_, EventKind::kDisconnect, b, a, link.generation);
}

void LocalNet::start_dial(PeerId from, const Address& to) {
    // The handshake's outcome is known once it is over; a dial that cannot complete waits out the
    // timeout, as a SYN that nobody answers does.
    Event dial;
    dial.kind = EventKind::kDial;
    dial.node = from;
    dial.address = to;
    dial.give_up = now_ + dial_timeout_;
    dial.at = dial.give_up;
    const std::optional<PeerId> target = node_at(to);
    if (target && *target != from && node(from).online && node(*target).online) {
        const Time round_trip = 2 * link_model_(from, *target).latency;
        if (round_trip <= dial_timeout_) {
            dial.peer = *target;
            dial.at = now_ + round_trip;
        }
    }
    trace(TraceEntry::Kind::kDial, from, dial.peer, {}, to);
    push(std::move(dial));
}

void LocalNet::finish_dial(const Event& dial) {
    const PeerId from = dial.node;
    const PeerId to = dial.peer;
    if (to != 0 && node(from).online && node(to).online) {
        // Already linked: no second link and no second on_connect (see the header).
        if (!connected(from, to)) open_link(from, to, link_model_(from, to));
        trace(TraceEntry::Kind::kDialed, from, to, {}, dial.address);
        node(from).endpoint->on_dialed(dial.address, to, now_);
        return;
    }
    if (now_ < dial.give_up) {
        // An end went offline during the handshake: the dial fails once the timeout has passed.
        Event retry = dial;
        retry.peer = 0;
        retry.at = dial.give_up;
        push(std::move(retry));
        return;
    }
    trace(TraceEntry::Kind::kDialFailed, from, 0, {}, dial.address);
    node(from).endpoint->on_dial_failed(dial.address, now_);
}

void LocalNet::send_datagram(PeerId from, const Address& to, Bytes datagram) {
    const std::optional<PeerId> found = node_at(to);
    const PeerId receiver_id = found.value_or(0);
    const auto valid_size = [](const Bytes& d) { return !d.empty() && d.size() <= proto::kMaxDatagramSize; };
    if (!valid_size(datagram) || !node(from).online || !found || receiver_id == from || !node(receiver_id).online) {
        drop_datagram(from, receiver_id, to, datagram);
        return;
    }
    if (datagram_hook_) {
        const Bytes original = datagram;
        datagram_hook_(from, to, datagram);
        if (!valid_size(datagram)) {
            drop_datagram(from, receiver_id, to, original);
            return;
        }
    }
    Node& sender = node(from);
    const Time arrival = transmit(sender, node(receiver_id), link_model_(from, receiver_id).latency, datagram.size());
    sender.datagram_metrics.sent.add(datagram);
    total_datagrams_.sent.add(datagram);
    Event event;
    event.at = arrival;
    event.kind = EventKind::kDatagram;
    event.node = receiver_id;
    event.peer = from;
    event.frame = std::move(datagram);
    event.address = sender.address;
    push(std::move(event));
}

void LocalNet::deliver_datagram(const Event& event) {
    Node& receiver = node(event.node);
    if (!receiver.online) {
        // Went offline in flight: counted as sent already, now as dropped too.
        drop_datagram(event.peer, event.node, receiver.address, event.frame);
        return;
    }
    receiver.datagram_metrics.received.add(event.frame);
    total_datagrams_.received.add(event.frame);
    trace(TraceEntry::Kind::kDatagram, event.node, event.peer, event.frame, event.address);
    receiver.endpoint->on_datagram(event.address, event.frame, now_);
}

void LocalNet::drop_datagram(PeerId from, PeerId to, const Address& address, ByteView datagram) {
    node(from).datagram_metrics.dropped.add(datagram);
    total_datagrams_.dropped.add(datagram);
    trace(TraceEntry::Kind::kDatagramDrop, from, to, datagram, address);
}

void LocalNet::update_timer(PeerId id) {
    Timer& timer = node(id).timer;
    const std::optional<Time> deadline = node(id).endpoint->next_deadline();
    if (deadline == timer.at) return;
    ++timer.generation;
    timer.at = deadline;
    if (deadline) schedule(std::max(*deadline, now_), EventKind::kTimer, id, 0, timer.generation);
}

void LocalNet::trace(TraceEntry::Kind kind, PeerId node_id, PeerId peer, ByteView frame, const Address& address) {
    if (!trace_) return;
    trace_({.at = now_,
            .kind = kind,
            .node = node_id,
            .peer = peer,
            .bytes = frame.size(),
            .type = frame.empty() ? uint8_t{0} : frame[0],
            .address = address});
}

}  // namespace carousel::net
