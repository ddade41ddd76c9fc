// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Connections: the bounded set of a node's connections, keyed by the node ids they authenticated
// as (issue 20: "a node keeps a bounded set of connections and dials the contacts it needs on
// demand, closing idle ones; no full mesh anywhere"). It is bookkeeping and policy only, embedded
// in a protocol core (through dht::Overlay): it does not authenticate (the core runs a Handshake on every
// connection and calls on_authenticated() when it succeeds), does not parse frames, and reaches
// the driver through the callbacks given at construction.
//
// Contract:
//  - The cap: size() counts every connection the driver has told of (inbound, dialed, authenticated
//    or not) plus every dial outstanding, and never exceeds max_peers after a call returns, so the
//    cap bounds sockets. When a slot is needed at the cap (a dial, or an inbound connection) the
//    least recently used authenticated connection that is not pinned and has been idle for at least
//    min_idle_to_evict is closed ("evicted"; ties: the lowest PeerId). If there is none, a send is
//    refused (unreachable) and an inbound connection is closed with "too many peers". Connections
//    that have not authenticated are never evicted: they close at handshake_timeout.
//  - Inbound share: connections peers opened hold at most max_inbound() slots (inbound_share of
//    max_peers, at least one); an inbound connection over it evicts an inbound connection by the
//    rule above or is refused. The rest is kept for this node's own dials, as go-ethereum keeps
//    MaxPeers / DialRatio: peers that dial it, honest or not, cannot take every slot and leave it
//    unable to reach its neighbours.
//  - Reaching a node: send(node, address, frame) sends at once over the node's authenticated
//    connection; otherwise it queues the frame and, unless a dial or a handshake of a dialed
//    connection to that node is under way, dials `address` (connect() does the same without a
//    frame). The attempt ends when a connection authenticates as the node: the queue is flushed on
//    it, in order. It fails when the dial fails (on_dial_failed), the dial or the handshake times out,
//    the connection closes before authenticating, or it authenticates as another node: the queue is
//    dropped and unreachable(node) is called, once per failed attempt, so the core fails its
//    requests at once instead of waiting for their timeouts. A refused send or connect calls
//    unreachable() as well. A connection that authenticates as the node by any route (an inbound one
//    too) serves its queue.
//  - Back-off: after an attempt to `node` failed, sends and connects to it are refused (unreachable)
//    for redial_backoff, so a dead contact that lookups keep returning does not hold a slot for a
//    dial timeout again and again. A connection that authenticates as the node ends the back-off.
//  - One dial per address: a send to a node whose address is being dialed for another node is
//    refused (unreachable); the driver answers a dial by its address alone.
//  - Queues: at most max_queued_frames frames and max_queued_bytes bytes wait per node; a frame
//    over either bound is dropped (kQueueFull), the attempt goes on.
//  - Idleness: an authenticated connection that is not pinned closes once it has carried no frame
//    (touch() for received ones, send() for sent ones) for idle_timeout. pin()/unpin() nest (a
//    count per node, kept whether or not the node is connected): the core pins the nodes it has
//    requests in flight with and its own neighbours.
//  - Duplicates: when a second connection authenticates as a node that already has one (both
//    sides dialed each other), both sides keep the same one: the connection dialed by the node with
//    the lower id; of two dialed by the same side, the newer. The other is closed ("duplicate
//    connection"). Frames in flight on the closed one may be lost, as on any abrupt close.
//  - Closing: every close this object decides (eviction, idleness, handshake timeout, duplicate,
//    refusal, close()) asks the driver to disconnect and forgets the connection at once; the
//    driver's on_disconnect for it is then ignored. A connection authenticating as the own id is
//    closed.
//  - Driver answers: on_dialed(address) for an address with no dial outstanding (one timed out)
//    gives a connection that needs a free slot like an inbound one (outside the inbound share) and
//    counts as dialed by this side for the duplicate rule. on_dial_failed for such an address is
//    ignored; an answer to a dial given up on may be taken for a later dial to the same address. A
//    dial the driver answers with a connection it already has (LocalNet names a node, not a
//    connection) hands the attempt to that connection.
//  - Sans-IO and deterministic: no clock, socket or randomness, only ordered containers; the same
//    calls give the same callbacks, in the same order. Times never go back.
//  - Callbacks may not call back into Connections.
//
// Embedding: the core forwards every driver event here first. After on_connect(peer) it starts its
// Handshake only if contains(peer) (a refused connection is already being closed), giving it
// dialed_node(peer); it calls on_authenticated() when the Handshake succeeds and close() when it
// fails; it ignores frames from peers it does not contain, and calls touch() for the others. It
// sends through send() and pins the nodes it is waiting on.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>

#include <carousel/core/bytes.hpp>
#include <carousel/proto/address.hpp>
#include <carousel/proto/endpoint.hpp>

#include "node_id.hpp"

namespace carousel::dht {

struct ConnectionsOptions {
    std::size_t max_peers{64};  // connections plus dials outstanding (--max-peers), at least 1
    // An authenticated, unpinned connection without frames for this long closes (0: never).
    proto::Time idle_timeout{std::chrono::seconds{60}};
    // At the cap, only connections idle at least this long are evicted (0: plain LRU).
    proto::Time min_idle_to_evict{std::chrono::seconds{10}};
    // The share of max_peers inbound connections may hold (see the contract).
    double inbound_share{2.0 / 3.0};
    // After a failed attempt, how long sends to the node are refused (0: off).
    proto::Time redial_backoff{std::chrono::seconds{10}};
    proto::Time dial_timeout{std::chrono::seconds{20}};       // dial() to on_dialed
    proto::Time handshake_timeout{std::chrono::seconds{10}};  // on_dialed / on_connect to authenticated
    // Frames waiting for a dial or handshake, per node.
    std::size_t max_queued_frames{256};
    std::size_t max_queued_bytes{std::size_t{4} * 1024 * 1024};
};

// Counters, for tests and reports.
struct ConnectionStats {
    std::size_t peak{0};        // the most size() ever was (the peak connection count)
    uint64_t dials{0};          // dial() calls
    uint64_t dial_failures{0};  // on_dial_failed and dial timeouts
    uint64_t authenticated{0};  // connections that authenticated
    uint64_t evictions{0};      // closed to make room at the cap
    uint64_t idle_closes{0};    // closed after idle_timeout
    uint64_t handshake_timeouts{0};
    uint64_t refused_sends{0};    // send/connect refused: no slot at the cap, address busy, own id
    uint64_t refused_inbound{0};  // connections closed with "too many peers"
    uint64_t duplicates_closed{0};
    uint64_t frames_dropped{0};  // queued frames dropped (failed attempts, full queues, refusals)
};

class Connections {
  public:
    using SendFn = std::function<void(proto::PeerId to, Bytes frame)>;
    using DisconnectFn = std::function<void(proto::PeerId peer, std::string reason)>;
    using DialFn = std::function<void(const proto::Address& to)>;
    using UnreachableFn = std::function<void(const NodeId& node, proto::Time now)>;

    enum class SendResult : uint8_t {
        kSent,         // over the node's authenticated connection
        kQueued,       // waiting for the dial or handshake under way (maybe started by this call)
        kQueueFull,    // dropped: the node's queue is at a bound; the attempt goes on
        kUnreachable,  // refused (no slot at the cap, back-off, address busy, own id); unreachable() was called
    };

    // `self` is this node's id (for the duplicate rule). Every callback must be set.
    Connections(NodeId self, ConnectionsOptions options, SendFn send, DisconnectFn disconnect, DialFn dial,
                UnreachableFn unreachable);
    Connections(const Connections&) = delete;
    Connections& operator=(const Connections&) = delete;

    // --- The core's calls.

    // Sends `frame` to `node`, reached at `address` if it must be dialed (see the contract).
    SendResult send(const NodeId& node, const proto::Address& address, Bytes frame, proto::Time now);
    // Makes sure `node` is connected or being reached, without a frame: kSent when it is connected.
    SendResult connect(const NodeId& node, const proto::Address& address, proto::Time now);
    // Closes `peer` with `reason` (a core that drops a misbehaving peer goes through here, so the
    // slot frees at once); an attempt it carried fails. False if the peer is unknown.
    bool close(proto::PeerId peer, const std::string& reason, proto::Time now);

    // Pinned nodes' connections are never closed for idleness nor evicted. Pins nest: each pin()
    // needs one unpin(); unpin() of an unpinned node does nothing.
    void pin(const NodeId& node);
    void unpin(const NodeId& node);
    [[nodiscard]] bool pinned(const NodeId& node) const { return pins_.contains(node); }

    // A frame came from `peer`: its connection is in use.
    void touch(proto::PeerId peer, proto::Time now);

    // Whether `peer` is one of the connections kept (false after on_connect when it was refused).
    [[nodiscard]] bool contains(proto::PeerId peer) const { return connections_.contains(peer); }
    // The authenticated connection of `node`, if any.
    [[nodiscard]] std::optional<proto::PeerId> peer_of(const NodeId& node) const;
    // The node `peer` authenticated as, if it did.
    [[nodiscard]] std::optional<NodeId> node_of(proto::PeerId peer) const;
    // The node a connection this side dialed must authenticate as (the core hands it to its
    // Handshake, which refuses another key); nullopt for inbound and unexpected connections.
    [[nodiscard]] std::optional<NodeId> dialed_node(proto::PeerId peer) const;

    // --- Driver and handshake events, forwarded by the core.

    void on_dialed(const proto::Address& to, proto::PeerId peer, proto::Time now);
    void on_dial_failed(const proto::Address& to, proto::Time now);
    void on_connect(proto::PeerId peer, proto::Time now);
    // The core's Handshake verified that `peer` holds the key of `node`. Flushes the node's queue, or
    // closes `peer` (own id, not the node it was dialed for, the losing duplicate).
    void on_authenticated(proto::PeerId peer, const NodeId& node, proto::Time now);
    // The driver closed `peer`. Returns the node it had authenticated as (nullopt if it had not, or
    // if this object had already forgotten it).
    std::optional<NodeId> on_disconnect(proto::PeerId peer, proto::Time now);

    // --- Timers: dial and handshake timeouts, idle connections.

    [[nodiscard]] std::optional<proto::Time> next_deadline() const;
    void on_timer(proto::Time now);

    // --- State.

    // Connections plus dials outstanding: what the cap bounds.
    [[nodiscard]] std::size_t size() const noexcept { return connections_.size() + dials_.size(); }
    [[nodiscard]] std::size_t dials_outstanding() const noexcept { return dials_.size(); }
    // Connections peers opened (authenticated or not).
    [[nodiscard]] std::size_t inbound() const;
    // The most inbound connections kept.
    [[nodiscard]] std::size_t max_inbound() const noexcept { return max_inbound_; }
    // Authenticated connections by node.
    [[nodiscard]] const std::map<NodeId, proto::PeerId>& peers() const noexcept { return peers_; }
    [[nodiscard]] std::size_t queued_frames(const NodeId& node) const;
    [[nodiscard]] const ConnectionsOptions& options() const noexcept { return options_; }
    [[nodiscard]] const ConnectionStats& stats() const noexcept { return stats_; }

  private:
    struct Connection {
        bool dialed{false};              // this side opened it
        bool connected{false};           // on_connect came (a dialed one is recorded at on_dialed)
        std::optional<NodeId> expected;  // dialed for this node
        std::optional<NodeId> node;      // authenticated as
        proto::Time since{0};            // the handshake bound starts here
        proto::Time last_used{0};        // last frame either way
    };
    struct Dial {
        NodeId node{};
        proto::Time started{0};
    };
    // A node being reached: what waits for its connection.
    struct Attempt {
        std::deque<Bytes> frames;
        std::size_t bytes{0};
    };

    // Starts reaching `node` (no authenticated connection): an Attempt, and a dial unless one is
    // under way. kUnreachable when refused.
    SendResult reach(const NodeId& node, const proto::Address& address, proto::Time now);
    SendResult refuse(const NodeId& node, proto::Time now);
    // Whether `node` failed within redial_backoff (forgets back-offs that ended).
    bool backing_off(const NodeId& node, proto::Time now);
    // Whether a dial, or a dialed connection's handshake, for `node` is under way.
    [[nodiscard]] bool under_way(const NodeId& node) const;
    // After an event that may end `node`'s attempt: flush its queue on its authenticated connection,
    // or drop it and call unreachable() when nothing is under way any more.
    void settle(const NodeId& node, proto::Time now);
    // Evicts the least recently used evictable connection (an inbound one if `inbound_only`); false
    // if there is none.
    bool evict(bool inbound_only, proto::Time now);
    // Frees a slot at the cap by evicting; false if none is evictable.
    bool make_room(proto::Time now);
    // Records a connection the driver told of (inbound, or dialed without a dial outstanding), if it
    // fits the cap and, inbound, the inbound share.
    void admit(proto::PeerId peer, bool dialed, proto::Time now);
    // Forgets `peer` and settles the node it was for; returns the node it had authenticated as.
    std::optional<NodeId> forget(proto::PeerId peer, proto::Time now);
    void record_peak() noexcept;

    NodeId self_;
    ConnectionsOptions options_;
    std::size_t max_inbound_;
    SendFn send_;
    DisconnectFn disconnect_;
    DialFn dial_;
    UnreachableFn unreachable_;

    std::map<proto::PeerId, Connection> connections_;
    // Ordered by (ip, port) through std::tie: clang-tidy 14 misreads Address's defaulted <=>.
    struct AddressOrder {
        bool operator()(const proto::Address& a, const proto::Address& b) const noexcept {
            return std::tie(a.ip, a.port) < std::tie(b.ip, b.port);
        }
    };

    std::map<proto::Address, Dial, AddressOrder> dials_;
    std::map<NodeId, proto::PeerId> peers_;  // authenticated connections
    std::map<NodeId, Attempt> attempts_;
    std::map<NodeId, unsigned> pins_;
    std::map<NodeId, proto::Time> backoff_;     // failed attempts: refused until then
    std::set<proto::PeerId> unexpected_dials_;  // on_dialed without a dial outstanding, before on_connect
    ConnectionStats stats_;
};

}  // namespace carousel::dht
