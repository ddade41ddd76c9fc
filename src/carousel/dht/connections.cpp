// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "connections.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace carousel::dht {

namespace {

ConnectionsOptions checked(ConnectionsOptions options) {
    options.max_peers = std::max<std::size_t>(options.max_peers, 1);
    options.inbound_share = std::clamp(options.inbound_share, 0.0, 1.0);
    return options;
}

std::size_t inbound_slots(const ConnectionsOptions& options) {
    const double share = options.inbound_share * static_cast<double>(options.max_peers);
    return std::max<std::size_t>(static_cast<std::size_t>(share), 1);
}

}  // namespace

Connections::Connections(NodeId self, ConnectionsOptions options, SendFn send, DisconnectFn disconnect, DialFn dial,
                         UnreachableFn unreachable)
    : self_(self),
      options_(checked(options)),
      max_inbound_(inbound_slots(options_)),
      send_(std::move(send)),
      disconnect_(std::move(disconnect)),
      dial_(std::move(dial)),
      unreachable_(std::move(unreachable)) {}

Connections::SendResult Connections::send(const NodeId& node, const proto::Address& address, Bytes frame,
                                          proto::Time now) {
    if (const auto it = peers_.find(node); it != peers_.end()) {
        touch(it->second, now);
        send_(it->second, std::move(frame));
        return SendResult::kSent;
    }
    if (reach(node, address, now) == SendResult::kUnreachable) {
        ++stats_.frames_dropped;
        return SendResult::kUnreachable;
    }
    Attempt& attempt = attempts_.at(node);
    if (attempt.frames.size() >= options_.max_queued_frames ||
        frame.size() > options_.max_queued_bytes - attempt.bytes) {
        ++stats_.frames_dropped;
        return SendResult::kQueueFull;
    }
    attempt.bytes += frame.size();
    attempt.frames.push_back(std::move(frame));
    return SendResult::kQueued;
}

Connections::SendResult Connections::connect(const NodeId& node, const proto::Address& address, proto::Time now) {
    if (peers_.contains(node)) return SendResult::kSent;
    return reach(node, address, now);
}

Connections::SendResult Connections::reach(const NodeId& node, const proto::Address& address, proto::Time now) {
    if (!under_way(node)) {
        // Not under way, so a dial to this address is for another node: the driver's answer would
        // not say which of the two it is.
        if (node == self_ || backing_off(node, now) || dials_.contains(address) || !make_room(now)) {
            return refuse(node, now);
        }
        dials_.emplace(address, Dial{node, now});
        ++stats_.dials;
        record_peak();
        dial_(address);
    }
    attempts_.try_emplace(node);
    return SendResult::kQueued;
}

Connections::SendResult Connections::refuse(const NodeId& node, proto::Time now) {
    ++stats_.refused_sends;
    unreachable_(node, now);
    return SendResult::kUnreachable;
}

bool Connections::backing_off(const NodeId& node, proto::Time now) {
    const auto it = backoff_.find(node);
    if (it == backoff_.end()) return false;
    if (it->second > now) return true;
    backoff_.erase(it);
    return false;
}

bool Connections::under_way(const NodeId& node) const {
    const bool dialing =
        std::any_of(dials_.begin(), dials_.end(), [&](const auto& d) { return d.second.node == node; });
    return dialing || std::any_of(connections_.begin(), connections_.end(),
                                  [&](const auto& c) { return !c.second.node && c.second.expected == node; });
}

void Connections::settle(const NodeId& node, proto::Time now) {
    const auto it = attempts_.find(node);
    if (it == attempts_.end()) return;
    if (const auto peer = peers_.find(node); peer != peers_.end()) {
        Attempt attempt = std::move(it->second);
        attempts_.erase(it);
        if (!attempt.frames.empty()) touch(peer->second, now);
        for (Bytes& frame : attempt.frames) send_(peer->second, std::move(frame));
        return;
    }
    if (under_way(node)) return;
    stats_.frames_dropped += it->second.frames.size();
    attempts_.erase(it);
    if (options_.redial_backoff > proto::Time{0}) {
        // Only failures within the last back-off are kept.
        std::erase_if(backoff_, [&](const auto& b) { return b.second <= now; });
        backoff_[node] = now + options_.redial_backoff;
    }
    unreachable_(node, now);
}

bool Connections::evict(bool inbound_only, proto::Time now) {
    std::optional<proto::PeerId> victim;
    proto::Time oldest = proto::Time::max();
    for (const auto& [peer, c] : connections_) {
        if (!c.node || pinned(*c.node) || (inbound_only && c.dialed)) continue;
        if (now - c.last_used < options_.min_idle_to_evict) continue;
        // Strictly older only: of equals, the lowest PeerId (the map's first).
        if (c.last_used < oldest) {
            oldest = c.last_used;
            victim = peer;
        }
    }
    if (!victim) return false;
    ++stats_.evictions;
    close(*victim, "evicted: too many peers", now);
    return true;
}

bool Connections::make_room(proto::Time now) {
    while (size() >= options_.max_peers) {
        if (!evict(false, now)) return false;
    }
    return true;
}

void Connections::admit(proto::PeerId peer, bool dialed, proto::Time now) {
    const bool inbound_room = dialed || inbound() < max_inbound_ || evict(true, now);
    if (!inbound_room || !make_room(now)) {
        ++stats_.refused_inbound;
        disconnect_(peer, "too many peers");
        return;
    }
    connections_.emplace(peer, Connection{dialed, true, std::nullopt, std::nullopt, now, now});
    record_peak();
}

bool Connections::close(proto::PeerId peer, const std::string& reason, proto::Time now) {
    if (!connections_.contains(peer)) return false;
    disconnect_(peer, reason);
    forget(peer, now);
    return true;
}

std::optional<NodeId> Connections::forget(proto::PeerId peer, proto::Time now) {
    const auto it = connections_.find(peer);
    if (it == connections_.end()) return std::nullopt;
    const Connection c = it->second;
    connections_.erase(it);
    if (c.node) {
        if (const auto p = peers_.find(*c.node); p != peers_.end() && p->second == peer) peers_.erase(p);
        settle(*c.node, now);
        return c.node;
    }
    if (c.expected) settle(*c.expected, now);
    return std::nullopt;
}

void Connections::pin(const NodeId& node) { ++pins_[node]; }

void Connections::unpin(const NodeId& node) {
    const auto it = pins_.find(node);
    if (it != pins_.end() && --it->second == 0) pins_.erase(it);
}

void Connections::touch(proto::PeerId peer, proto::Time now) {
    if (const auto it = connections_.find(peer); it != connections_.end()) {
        it->second.last_used = std::max(it->second.last_used, now);
    }
}

std::optional<proto::PeerId> Connections::peer_of(const NodeId& node) const {
    const auto it = peers_.find(node);
    if (it == peers_.end()) return std::nullopt;
    return it->second;
}

std::optional<NodeId> Connections::node_of(proto::PeerId peer) const {
    const auto it = connections_.find(peer);
    if (it == connections_.end()) return std::nullopt;
    return it->second.node;
}

std::optional<NodeId> Connections::dialed_node(proto::PeerId peer) const {
    const auto it = connections_.find(peer);
    if (it == connections_.end()) return std::nullopt;
    return it->second.expected;
}

void Connections::on_dialed(const proto::Address& to, proto::PeerId peer, proto::Time now) {
    const auto it = dials_.find(to);
    if (it == dials_.end()) {
        unexpected_dials_.insert(peer);
        return;
    }
    const Dial dial = it->second;
    dials_.erase(it);
    if (const auto existing = connections_.find(peer); existing != connections_.end()) {
        // The driver resolved the dial onto a connection it already had (LocalNet names a node, not a
        // connection): that connection now carries the attempt, or ends it if it is someone else's.
        Connection& c = existing->second;
        if (!c.node && !c.expected) c.expected = dial.node;
        settle(dial.node, now);
        return;
    }
    connections_.emplace(peer, Connection{true, false, dial.node, std::nullopt, now, now});
}

void Connections::on_dial_failed(const proto::Address& to, proto::Time now) {
    const auto it = dials_.find(to);
    if (it == dials_.end()) return;
    const NodeId node = it->second.node;
    dials_.erase(it);
    ++stats_.dial_failures;
    settle(node, now);
}

void Connections::on_connect(proto::PeerId peer, proto::Time now) {
    if (const auto it = connections_.find(peer); it != connections_.end()) {
        if (!it->second.connected) {
            it->second.connected = true;
            it->second.since = now;
        }
        return;
    }
    const bool dialed = unexpected_dials_.erase(peer) > 0;
    admit(peer, dialed, now);
}

void Connections::on_authenticated(proto::PeerId peer, const NodeId& node, proto::Time now) {
    const auto it = connections_.find(peer);
    if (it == connections_.end() || it->second.node) return;
    Connection& c = it->second;
    if (node == self_) {
        close(peer, "connected to itself", now);
        return;
    }
    if (c.expected && *c.expected != node) {
        close(peer, "authenticated as another node than the one dialed", now);
        return;
    }
    c.node = node;
    c.last_used = std::max(c.last_used, now);
    ++stats_.authenticated;
    backoff_.erase(node);
    const auto [existing, inserted] = peers_.try_emplace(node, peer);
    if (!inserted) {
        // Both sides must keep the same connection, or each closes the one the other kept.
        const proto::PeerId other = existing->second;
        const auto dialer = [&](const Connection& conn) { return conn.dialed ? self_ : node; };
        const NodeId other_dialer = dialer(connections_.at(other));
        const NodeId this_dialer = dialer(c);
        const bool keep_other = other_dialer != this_dialer && other_dialer < this_dialer;
        existing->second = keep_other ? other : peer;
        ++stats_.duplicates_closed;
        close(keep_other ? peer : other, "duplicate connection", now);
    }
    settle(node, now);
}

std::optional<NodeId> Connections::on_disconnect(proto::PeerId peer, proto::Time now) {
    unexpected_dials_.erase(peer);
    return forget(peer, now);
}

std::optional<proto::Time> Connections::next_deadline() const {
    std::optional<proto::Time> earliest;
    const auto consider = [&](proto::Time t) {
        if (!earliest || t < *earliest) earliest = t;
    };
    for (const auto& [_, dial] : dials_) consider(dial.started + options_.dial_timeout);
    for (const auto& [_, c] : connections_) {
        if (!c.node) {
            consider(c.since + options_.handshake_timeout);
        } else if (options_.idle_timeout > proto::Time{0} && !pinned(*c.node)) {
            consider(c.last_used + options_.idle_timeout);
        }
    }
    return earliest;
}

void Connections::on_timer(proto::Time now) {
    // Collected first: closing settles attempts, which changes the maps.
    std::vector<proto::Address> dials_expired;
    std::vector<proto::PeerId> handshakes_expired;
    std::vector<proto::PeerId> idle;
    for (const auto& [address, dial] : dials_) {
        if (dial.started + options_.dial_timeout <= now) dials_expired.push_back(address);
    }
    for (const auto& [peer, c] : connections_) {
        if (!c.node) {
            if (c.since + options_.handshake_timeout <= now) handshakes_expired.push_back(peer);
        } else if (options_.idle_timeout > proto::Time{0} && !pinned(*c.node) &&
                   c.last_used + options_.idle_timeout <= now) {
            idle.push_back(peer);
        }
    }
    for (const proto::Address& address : dials_expired) on_dial_failed(address, now);
    for (const proto::PeerId peer : handshakes_expired) {
        if (close(peer, "handshake timed out", now)) ++stats_.handshake_timeouts;
    }
    for (const proto::PeerId peer : idle) {
        if (close(peer, "idle", now)) ++stats_.idle_closes;
    }
}

std::size_t Connections::inbound() const {
    return static_cast<std::size_t>(
        std::count_if(connections_.begin(), connections_.end(), [](const auto& c) { return !c.second.dialed; }));
}

std::size_t Connections::queued_frames(const NodeId& node) const {
    const auto it = attempts_.find(node);
    return it == attempts_.end() ? 0 : it->second.frames.size();
}

void Connections::record_peak() noexcept { stats_.peak = std::max(stats_.peak, size()); }

}  // namespace carousel::dht
