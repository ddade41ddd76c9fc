// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "overlay.hpp"

#include <algorithm>
#include <type_traits>
#include <utility>

#include "node_endpoint.hpp"

namespace carousel::dht {

Overlay::Overlay(const KeyPair& key, NodeRecord record, OverlayOptions options, Driver driver, Core core)
    : driver_{std::move(driver)},
      core_{std::move(core)},
      discovery_{key, record, options.discovery,
                 [this](const Address& to, Bytes datagram) { driver_.send_datagram(to, std::move(datagram)); }},
      handshake_{key,
                 std::move(record),
                 options.handshake,
                 [this](PeerId to, Bytes frame) { driver_.send_frame(to, std::move(frame)); },
                 [this](PeerId peer, const std::string& reason) { handshake_failed(peer, reason); },
                 [this](PeerId peer, const NodeRecord& r, Time now) {
                     now_ = now;
                     authenticated(peer, r);
                 }},
      connections_{key.node_id,
                   options.connections,
                   [this](PeerId to, Bytes frame) { driver_.send_frame(to, std::move(frame)); },
                   [this](PeerId peer, std::string reason) { driver_.disconnect(peer, std::move(reason)); },
                   [this](const Address& to) { driver_.dial(to); },
                   [this](const NodeId& node, Time now) { unreachable_.emplace_back(node, now); }} {}

template <typename Fn>
auto Overlay::call(Time now, Fn&& fn) {
    now_ = now;
    ++depth_;
    if constexpr (std::is_void_v<decltype(fn())>) {
        fn();
        --depth_;
        deliver_notices();
    } else {
        auto result = fn();
        --depth_;
        deliver_notices();
        return result;
    }
}

// Notices go out once the outermost call has left every part, so the core may call back in; a call
// made from a notice (or from a lookup's callback) leaves its notices to this same loop.
void Overlay::deliver_notices() {
    if (depth_ > 0 || delivering_) return;
    delivering_ = true;
    while (!unreachable_.empty()) {
        const auto [node, at] = unreachable_.front();
        unreachable_.pop_front();
        ++stats_.unreachable;
        if (core_.unreachable) core_.unreachable(node, at);
    }
    delivering_ = false;
}

Connections::SendResult Overlay::send(const NodeRecord& to, Bytes frame, Time now) {
    return call(now, [&] {
        const auto address = tcp_address(to);
        if (frame.empty() || Handshake::handles(frame[0])) ++stats_.bad_sends;
        if (!address || frame.empty() || Handshake::handles(frame[0])) {
            unreachable_.emplace_back(to.node_id(), now);
            return Connections::SendResult::kUnreachable;
        }
        return connections_.send(to.node_id(), *address, std::move(frame), now);
    });
}

Connections::SendResult Overlay::reply(const NodeId& node, Bytes frame, Time now) {
    return call(now, [&] {
        const bool bad = frame.empty() || Handshake::handles(frame[0]);
        if (bad) ++stats_.bad_sends;
        const auto peer = connections_.peer_of(node);
        if (bad || !peer) return Connections::SendResult::kUnreachable;
        // Connected: Connections sends at once and never dials, so the address is not used.
        return connections_.send(node, Address{}, std::move(frame), now);
    });
}

bool Overlay::disconnect(const NodeId& node, const std::string& reason, Time now) {
    return call(now, [&] {
        const auto peer = connections_.peer_of(node);
        return peer && connections_.close(*peer, reason, now);
    });
}

void Overlay::set_record(NodeRecord record, Time now) {
    call(now, [&] {
        handshake_.set_record(record);
        discovery_.set_record(std::move(record));
        discovery_.announce(now);
    });
}

void Overlay::bootstrap(const NodeRecord& bootnode, Time now) {
    call(now, [&] { discovery_.ping(bootnode, now); });
}

void Overlay::on_connect(PeerId peer, Time now) {
    call(now, [&] {
        connections_.on_connect(peer, now);
        if (!connections_.contains(peer)) return;  // refused: being closed
        expect_dialed_node(peer);
        handshake_.on_connect(peer, now);
    });
}

void Overlay::on_disconnect(PeerId peer, Time now) {
    call(now, [&] {
        connections_.on_disconnect(peer, now);
        handshake_.on_disconnect(peer, now);
    });
}

void Overlay::on_dialed(const Address& to, PeerId peer, Time now) {
    call(now, [&] {
        connections_.on_dialed(to, peer, now);
        // A driver that names nodes (LocalNet) may answer with a connection whose handshake runs
        // already: it must now reach the dialed node too.
        expect_dialed_node(peer);
    });
}

void Overlay::on_dial_failed(const Address& to, Time now) {
    call(now, [&] { connections_.on_dial_failed(to, now); });
}

void Overlay::on_frame(PeerId from, ByteView frame, Time now) {
    call(now, [&] {
        if (!connections_.contains(from)) {
            ++stats_.frames_ignored;
            return;
        }
        connections_.touch(from, now);
        const bool handshake_frame = !frame.empty() && Handshake::handles(frame[0]);
        if (!handshake_.admit(from, frame, now)) {
            if (!handshake_frame) ++stats_.frames_refused;
            return;
        }
        const auto node = connections_.node_of(from);
        if (!node) {  // authenticated, but Connections closed it (a duplicate): gone
            ++stats_.frames_ignored;
            return;
        }
        ++stats_.frames_delivered;
        core_.on_frame(*node, frame, now);
    });
}

void Overlay::on_datagram(const Address& from, ByteView datagram, Time now) {
    call(now, [&] { discovery_.on_datagram(from, datagram, now); });
}

void Overlay::on_timer(Time now) {
    call(now, [&] {
        discovery_.on_timer(now);
        handshake_.on_timer(now);
        connections_.on_timer(now);
    });
}

std::optional<Time> Overlay::next_deadline() const {
    std::optional<Time> earliest;
    for (const auto& d : {discovery_.next_deadline(), handshake_.next_deadline(), connections_.next_deadline()}) {
        if (d && (!earliest || *d < *earliest)) earliest = d;
    }
    return earliest;
}

void Overlay::authenticated(PeerId peer, const NodeRecord& record) {
    connections_.on_authenticated(peer, record.node_id(), now_);
}

void Overlay::handshake_failed(PeerId peer, const std::string& reason) {
    // Connections forgets the connection and asks the driver to disconnect; false if it had closed
    // it already (and asked then).
    connections_.close(peer, reason, now_);
}

void Overlay::expect_dialed_node(PeerId peer) {
    if (const auto node = connections_.dialed_node(peer)) handshake_.expect(peer, *node);
}

}  // namespace carousel::dht
