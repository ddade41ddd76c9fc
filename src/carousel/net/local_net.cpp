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

}  // namespace

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
    Node n;
    n.endpoint = &endpoint;
    n.settings = settings;
    nodes_.push_back(std::move(n));
    const PeerId id = nodes_.size();
    update_timer(id);
    return id;
}

bool LocalNet::connect(PeerId a, PeerId b, LinkSettings link) {
    if (!valid(a) || !valid(b) || a == b) return false;
    if (!node(a).online || !node(b).online) return false;
    Link& l = links_[key(a, b)];
    if (l.connected) return false;
    l.connected = true;
    l.settings = link;
    ++l.generation;
    node(a).peers.insert(b);
    node(b).peers.insert(a);
    schedule(now_, EventKind::kConnect, a, b, l.generation);
    schedule(now_, EventKind::kConnect, b, a, l.generation);
    return true;
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

const Metrics& LocalNet::metrics(PeerId id) const { return node(id).metrics; }

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
    if (event.kind == EventKind::kTimer && event.generation != n.timer_generation) return;
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
            n.timer_at.reset();
            ++n.timer_generation;
            trace(TraceEntry::Kind::kTimer, event.node, 0);
            n.endpoint->on_timer(now_);
            break;
        case EventKind::kCall:
            ++events_processed_;
            if (event.call) event.call();
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
    update_timer(id);
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
    Node& receiver = node(to);

    // The frame's time on the sender's uplink, then on the receiver's downlink (see the header).
    const uint64_t latency_ns = to_ns(link.settings.latency);
    const uint64_t up_start = std::max(to_ns(now_), sender.uplink_free_ns);
    const uint64_t up_done = up_start + serialization_ns(frame.size(), sender.settings.uplink_bytes_per_second);
    sender.uplink_free_ns = up_done;
    const uint64_t down_start = std::max(up_start + latency_ns, receiver.downlink_free_ns);
    const uint64_t down_done = std::max(
        down_start + serialization_ns(frame.size(), receiver.settings.downlink_bytes_per_second), up_done + latency_ns);
    receiver.downlink_free_ns = down_done;

    sender.metrics.sent.add(frame);
    link_metrics_[{from, to}].sent.add(frame);
    total_.sent.add(frame);
    schedule(ceil_to_time(down_done), EventKind::kFrame, to, from, link.generation, std::move(frame));
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

void LocalNet::update_timer(PeerId id) {
    Node& n = node(id);
    const std::optional<Time> deadline = n.endpoint->next_deadline();
    if (deadline == n.timer_at) return;
    ++n.timer_generation;
    n.timer_at = deadline;
    if (deadline) {
        schedule(std::max(*deadline, now_), EventKind::kTimer, id, 0, n.timer_generation);
    }
}

void LocalNet::trace(TraceEntry::Kind kind, PeerId node_id, PeerId peer, ByteView frame) {
    if (!trace_) return;
    trace_({.at = now_,
            .kind = kind,
            .node = node_id,
            .peer = peer,
            .bytes = frame.size(),
            .type = frame.empty() ? uint8_t{0} : frame[0]});
}

}  // namespace carousel::net
