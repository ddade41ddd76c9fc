// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// OverlayHost: the driver side of a Merry-Go-Round core that runs on a dht::Overlay (MgrNode,
// MgrSync, the scenario's prober). It is the one place where the driver's events meet the Overlay:
// every connection event, frame and datagram goes to overlay() as the Overlay's contract asks, and
// the Overlay's Driver callbacks (driver()) go out through this endpoint's outboxes. The core adds
// its own timer (core_deadline, on_core_timer) and hears when an authenticated connection the driver
// closed was a node's (on_node_disconnected); everything else it gets from the Overlay's Core
// callbacks.
//
// It also names nodes for the core (dht::PeerHandles: a stable local handle per node id, which the
// core's per-peer state is keyed by) and reaches them by handle:
//  - send_to(handle, frame): to the node's newest known record through Overlay::send (over its
//    connection, else dialing it); a node whose record is not known (an inbound peer that is in no
//    table or lookup of this core) only over its connection (Overlay::reply: answers to requests).
//  - drop(handle, reason): closes the node's connection (Overlay::disconnect).
//  - contacts(): a ContactSource over the Overlay's Discovery (its table and lookups), every contact
//    named by its handle.
// now() is the time of the driver call under way (or the core's own call: at(now)); sends carry it.
//
// It is the core's one proto::Endpoint: frames, datagrams and the timer of the Overlay and of the
// core all reach the driver through it (one driver per node: LocalNet, TcpTransport, SimGridNet).

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <carousel/dht/overlay.hpp>
#include <carousel/dht/peer_handles.hpp>
#include <carousel/proto/endpoint.hpp>

#include "contact_source.hpp"

namespace carousel::mgr {

using dht::NodeId;
using dht::Overlay;

class OverlayHost : public proto::Endpoint {
  public:
    void on_connect(proto::PeerId peer, proto::Time now) final {
        at(now);
        overlay().on_connect(peer, now);
    }
    void on_disconnect(proto::PeerId peer, proto::Time now) final {
        at(now);
        const auto node = overlay().connections().node_of(peer);  // before the Overlay forgets it
        overlay().on_disconnect(peer, now);
        if (node) on_node_disconnected(*node, now);
    }
    void on_dialed(const proto::Address& to, proto::PeerId peer, proto::Time now) final {
        at(now);
        overlay().on_dialed(to, peer, now);
    }
    void on_dial_failed(const proto::Address& to, proto::Time now) final {
        at(now);
        overlay().on_dial_failed(to, now);
    }
    void on_frame(proto::PeerId from, ByteView frame, proto::Time now) final {
        at(now);
        overlay().on_frame(from, frame, now);
    }
    void on_datagram(const proto::Address& from, ByteView datagram, proto::Time now) final {
        at(now);
        overlay().on_datagram(from, datagram, now);
    }
    [[nodiscard]] std::optional<proto::Time> next_deadline() const final {
        auto at = overlay().next_deadline();
        if (const auto core = core_deadline(); core && (!at || *core < *at)) at = core;
        return at;
    }
    void on_timer(proto::Time now) final {
        at(now);
        overlay().on_timer(now);
        on_core_timer(now);
    }

    [[nodiscard]] virtual Overlay& overlay() = 0;
    [[nodiscard]] virtual const Overlay& overlay() const = 0;

  protected:
    // The Overlay's Driver: frames, disconnects, dials and datagrams through proto::Endpoint.
    Overlay::Driver driver() {
        return Overlay::Driver{
            [this](proto::PeerId to, Bytes frame) { proto::Endpoint::send(to, std::move(frame)); },
            [this](proto::PeerId peer, std::string reason) { proto::Endpoint::disconnect(peer, std::move(reason)); },
            [this](const proto::Address& to) { proto::Endpoint::dial(to); },
            [this](const proto::Address& to, Bytes datagram) {
                proto::Endpoint::send_datagram(to, std::move(datagram));
            }};
    }
    [[nodiscard]] virtual std::optional<proto::Time> core_deadline() const { return std::nullopt; }
    virtual void on_core_timer(proto::Time now) { (void)now; }
    // The driver closed the authenticated connection of `node` (closes the Overlay decides itself,
    // eviction and idleness, never pinned nodes', are not reported: the node is simply not connected).
    virtual void on_node_disconnected(const NodeId& node, proto::Time now) {
        (void)node;
        (void)now;
    }

    [[nodiscard]] proto::Time now() const noexcept { return now_; }
    // The core's own entry points (not driver events) give their time here first.
    void at(proto::Time now) noexcept { now_ = std::max(now_, now); }
    [[nodiscard]] dht::PeerHandles& handles() noexcept { return handles_; }
    [[nodiscard]] const dht::PeerHandles& handles() const noexcept { return handles_; }
    // See the header comment. send_to: false if the Overlay refused the frame (unknown handle, no
    // slot, back-off; Core::unreachable has been told for a refused send) or the node is not
    // connected and its record is not known.
    bool send_to(proto::PeerId handle, Bytes frame);
    bool drop(proto::PeerId handle, const std::string& reason);
    [[nodiscard]] bool connected(proto::PeerId handle) const;
    ContactSource contacts();
    // Every contact of the routing table, as its handle (named with its record, so that send_to can
    // dial it): whom a node or a client asks in turn for headers.
    std::vector<proto::PeerId> table_handles();

  private:
    dht::PeerHandles handles_;
    proto::Time now_{0};
};

}  // namespace carousel::mgr
