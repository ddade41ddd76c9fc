// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Overlay: a node's place in the Merry-Go-Round network (issue 20). It composes the three sans-IO
// parts that each do one thing, so that a protocol core (MgrNode) addresses other nodes by node id
// and never sees PeerIds, handshakes or dials:
//  - Discovery (discovery.hpp) finds nodes and their signed records over datagrams;
//  - Handshake (handshake.hpp) proves, on every connection, the key of the node id the peer claims;
//  - Connections (connections.hpp) keeps the bounded set of connections keyed by those ids, dialing
//    on demand, queueing, evicting, closing idle ones.
// It does nothing the parts do; it only wires them, as their headers ask, and adds no policy of its
// own beyond what is stated here.
//
// Contract:
//  - Driver side: the embedding core (a proto::Endpoint, or anything that drives one) forwards
//    every driver event: on_connect, on_disconnect, on_dialed, on_dial_failed, on_frame,
//    on_datagram, on_timer (once `now` reaches next_deadline(), the earliest of the three parts').
//    The Overlay answers through the Driver callbacks.
//  - Wiring (the parts' "Embedding" rules): every connection event goes to Connections first; the
//    Handshake starts on a connection only if Connections kept it, and a connection dialed for a node
//    must authenticate as that node (Handshake::expect with Connections::dialed_node, so a peer
//    whose key is not the record's is dropped). A successful handshake is reported to Connections
//    (which flushes what waits for that node, or closes a duplicate); a failed one closes the
//    connection through Connections, so its slot frees at once. Handshake failures are counted in
//    handshake().stats().
//  - Frames: every frame of a kept connection counts as use (Connections::touch); handshake frames
//    are the Handshake's; any other frame reaches Core::on_frame with the node id its connection
//    authenticated as, and only then: a frame before authentication drops the peer
//    (Handshake::admit), a frame from a connection Connections does not keep is ignored. Each is
//    counted in stats().
//  - Sending: send(record, frame) reaches the record's node at its TCP address
//    (Connections::send: at once if connected, else queued behind a dial). A record without a TCP
//    address, or a frame that is empty or a handshake message, is refused (kUnreachable; the
//    latter is the caller's bug and also counted). Whenever Connections gives up on a node
//    (dial failure or timeout, handshake failure, refusal, back-off), Core::unreachable(node) runs.
//  - Replying: reply(node, frame) sends over the node's authenticated connection, and only there
//    (a request's answer goes back the way the request came: an inbound peer's record need not be
//    known, nor its address dialable); a node without one gets nothing (kUnreachable, no notice: the
//    requester times out). disconnect(node, reason) closes that connection (a core dropping a
//    misbehaving node); the node may connect again, its standing is the core's to keep.
//  - Own record: set_record() takes a newer record (higher seq; a new radius or address) for
//    Discovery and the Handshake, and PINGs the routing table's contacts at once so that they
//    learn it (Discovery::announce); nodes that hold this one but are not in its table learn it at
//    their next PING or handshake with it.
//  - The cap: Connections bounds connections plus dials by connections.max_peers. A driver links an
//    inbound connection before the Overlay hears of it and can refuse it or make room, so the links
//    a driver counts (LocalNet's peak_connections) reach max_peers + 1 for an instant at the cap.
//    To bound a node's sockets by N, give max_peers = N - 1.
//  - Re-entrancy: Core callbacks never run inside a part's call. on_frame runs after the parts
//    have handled the frame; unreachable() notices are queued and delivered before the outermost
//    Overlay call that caused them returns. So the core may call anything from its callbacks. A
//    Discovery lookup's `done` runs inside Discovery's call: from it the core may call send(),
//    pin() and unpin() (they do not enter Discovery), not discovery(). Driver callbacks may not
//    call back into the Overlay.
//  - Sans-IO and deterministic: no clock, socket or randomness of its own (the Handshake's nonces
//    come from HandshakeOptions::nonce_seed; processes seed it as handshake.hpp says).
//  - Not built: the address a peer dialed from is not checked against its record; records learned
//    through handshakes do not feed the routing table (only Discovery's bonds do).

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include <carousel/core/bytes.hpp>
#include <carousel/proto/address.hpp>
#include <carousel/proto/endpoint.hpp>

#include "connections.hpp"
#include "discovery.hpp"
#include "enr.hpp"
#include "handshake.hpp"
#include "node_id.hpp"
#include "node_key.hpp"

namespace carousel::dht {

struct OverlayOptions {
    DiscoveryOptions discovery{};
    HandshakeOptions handshake{};
    ConnectionsOptions connections{};
};

// The Overlay's own counters; the parts keep theirs (discovery(), handshake(), connections()).
struct OverlayStats {
    uint64_t frames_delivered{0};  // frames handed to Core::on_frame
    uint64_t frames_ignored{0};    // frames from connections Connections does not keep
    uint64_t frames_refused{0};    // non-handshake frames from peers not authenticated (admit() said no)
    uint64_t bad_sends{0};         // send() of an empty frame or a handshake message
    uint64_t unreachable{0};       // Core::unreachable notices
};

class Overlay {
  public:
    // What the Overlay asks of the driver (all must be set).
    struct Driver {
        std::function<void(proto::PeerId to, Bytes frame)> send_frame;
        std::function<void(proto::PeerId peer, std::string reason)> disconnect;
        std::function<void(const proto::Address& to)> dial;
        std::function<void(const proto::Address& to, Bytes datagram)> send_datagram;
    };
    // What the Overlay tells the core (on_frame must be set; unreachable may be empty).
    struct Core {
        std::function<void(const NodeId& from, ByteView frame, proto::Time now)> on_frame;
        std::function<void(const NodeId& node, proto::Time now)> unreachable;
    };

    // `record` must be signed by `key` and name the node's UDP and TCP addresses (the parts assert
    // the key; a record without addresses makes a node nobody can reach).
    Overlay(const KeyPair& key, NodeRecord record, OverlayOptions options, Driver driver, Core core);
    Overlay(const Overlay&) = delete;
    Overlay& operator=(const Overlay&) = delete;

    // --- The core's calls.

    // Sends `frame` ([type][RLP], not a handshake message) to `to`'s node (see the contract).
    Connections::SendResult send(const NodeRecord& to, Bytes frame, proto::Time now);
    // Sends `frame` over `node`'s authenticated connection, if it has one (see the contract).
    Connections::SendResult reply(const NodeId& node, Bytes frame, proto::Time now);
    // Closes `node`'s authenticated connection with `reason`; false if it has none.
    bool disconnect(const NodeId& node, const std::string& reason, proto::Time now);
    // Whether `node` has an authenticated connection.
    [[nodiscard]] bool connected(const NodeId& node) const { return connections_.peer_of(node).has_value(); }
    // A newer own record (see the contract); it must be the key's, with a higher seq.
    void set_record(NodeRecord record, proto::Time now);
    // Keeps the node's connection open (no idle close, no eviction) while pinned; pins nest.
    void pin(const NodeId& node) { connections_.pin(node); }
    void unpin(const NodeId& node) { connections_.unpin(node); }
    // PINGs a node whose record was given (a bootnode) so that it bonds and enters the table; a
    // lookup of the own id afterwards fills the table (Kademlia's join).
    void bootstrap(const NodeRecord& bootnode, proto::Time now);

    // Discovery's lookups and routing table (contacts carry records to send() to).
    [[nodiscard]] Discovery& discovery() noexcept { return discovery_; }
    [[nodiscard]] const Discovery& discovery() const noexcept { return discovery_; }
    [[nodiscard]] const Handshake& handshake() const noexcept { return handshake_; }
    [[nodiscard]] const Connections& connections() const noexcept { return connections_; }
    [[nodiscard]] const OverlayStats& stats() const noexcept { return stats_; }
    [[nodiscard]] const NodeId& id() const noexcept { return handshake_.id(); }
    [[nodiscard]] const NodeRecord& record() const noexcept { return handshake_.record(); }

    // --- Driver events, forwarded by the embedding core.

    void on_connect(proto::PeerId peer, proto::Time now);
    void on_disconnect(proto::PeerId peer, proto::Time now);
    void on_dialed(const proto::Address& to, proto::PeerId peer, proto::Time now);
    void on_dial_failed(const proto::Address& to, proto::Time now);
    void on_frame(proto::PeerId from, ByteView frame, proto::Time now);
    void on_datagram(const proto::Address& from, ByteView datagram, proto::Time now);
    void on_timer(proto::Time now);
    [[nodiscard]] std::optional<proto::Time> next_deadline() const;

  private:
    // Runs one call into the parts at `now`, then delivers the unreachable() notices it queued.
    template <typename Fn>
    auto call(proto::Time now, Fn&& fn);
    void deliver_notices();
    // The Handshake authenticated `peer` with `record`.
    void authenticated(proto::PeerId peer, const NodeRecord& record);
    // The Handshake dropped `peer`: close it through Connections (a no-op if it was closed already).
    void handshake_failed(proto::PeerId peer, const std::string& reason);
    // A dialed connection must authenticate as the node it was dialed for.
    void expect_dialed_node(proto::PeerId peer);

    Driver driver_;
    Core core_;
    Discovery discovery_;
    Handshake handshake_;
    Connections connections_;
    proto::Time now_{0};  // of the call under way: the Handshake's callbacks carry no time
    std::deque<std::pair<NodeId, proto::Time>> unreachable_;
    int depth_{0};  // Overlay calls under way (a lookup's callback may call send())
    bool delivering_{false};
    OverlayStats stats_;
};

}  // namespace carousel::dht
