// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Endpoint: how a sans-IO protocol core (prefix/, mgr/, dht/) meets whatever drives it.
//
// A core never opens a socket, reads a clock or sleeps. The driver — net::LocalNet in tests,
// net::TcpTransport (TCP, and UDP once bound) in processes, SimGrid in simulations — hands it frames,
// datagrams, connection events and the current time, and takes from it the frames and datagrams to
// send, the peers to drop and the time it next wants to be woken. Nothing in a core knows which
// driver runs it. A process runs one core on one driver: frames and datagrams reach the same
// endpoint, one call at a time, with one timer.
//
// Frames are `[u8 message type][RLP body]` (see prefix_messages.hpp). The driver delivers each frame
// whole, as the peer sent it, and at most kMaxFrameSize bytes long; a transport that frames a byte
// stream enforces that bound before allocating.
//
// Datagrams (Merry-Go-Round discovery, as discv4 and discv5 do over UDP) need no connection: a core
// sends one to an address with send_datagram() and gets those sent to it in on_datagram(). They are
// unreliable: a driver may drop them, and a real network may also reorder or duplicate them. A
// datagram is 1..kMaxDatagramSize bytes (discv5's bound, under any path's MTU): the driver drops and
// counts empty and larger ones, both those it receives and those the core sends. `from` is the
// address the datagram came from as the driver saw it (UDP's source address, which a sender can
// forge: a core proves an address by a round trip, not by trusting it). A core that speaks no
// datagrams keeps the default on_datagram(), which ignores them.
//
// Draining: after every call into the core the driver takes, in this order, take_outbox(),
// take_disconnects(), take_dials() and take_datagrams(), then asks next_deadline().
//
// Dialing: a core that wants a connection to an address asks for it with dial(). The driver drains
// take_dials() after the outbox and the disconnects and answers each dial once: either it opens a
// connection and calls on_dialed(address, peer) and then on_connect(peer) (in that order, before
// any frame from that peer), or it calls on_dial_failed(address) once it gave up (a driver that is
// stopping may leave dials unanswered). Connections a peer opened to this core get on_connect
// alone. A driver that names each connection (TCP) opens a new one, with a new PeerId, for every
// dial, even to an address it is connected to already. A driver that names each node (LocalNet)
// keeps one connection per pair: a dial that reaches a node already connected gets
// on_dialed(address, peer) and no second on_connect (the connection's one on_connect came before,
// or, when both ends dialed each other at the same instant, comes right after it). The core decides
// how many connections it keeps; the driver only adds its own caps (TCP's max_inbound).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <carousel/core/bytes.hpp>

#include "address.hpp"

namespace carousel::proto {

// A peer as the driver names it: unique for the lifetime of the driver, never reused for another peer.
// TCP names each connection; LocalNet names each node, so a pair that reconnects meets the same id again.
using PeerId = uint64_t;

// Time on the driver's clock (a simulated clock in LocalNet and SimGrid; steady_clock over TCP).
using Time = std::chrono::microseconds;

// The largest frame any carousel message may take (type byte included).
inline constexpr std::size_t kMaxFrameSize = std::size_t{16} * 1024 * 1024;

// The largest datagram a driver carries (discv5's bound, under any path's MTU).
inline constexpr std::size_t kMaxDatagramSize = 1280;

struct OutgoingFrame {
    PeerId to{0};
    Bytes frame;
};

struct OutgoingDatagram {
    Address to;
    Bytes datagram;
};

struct Disconnect {
    PeerId peer{0};
    std::string reason;  // logged by the driver
};

class Endpoint {
  public:
    virtual ~Endpoint() = default;

    // A peer became reachable / stopped being reachable.
    virtual void on_connect(PeerId peer, Time now) {
        (void)peer;
        (void)now;
    }
    virtual void on_disconnect(PeerId peer, Time now) {
        (void)peer;
        (void)now;
    }

    // A connection this core asked for with dial(`to`) is up as `peer`; on_connect(peer) follows.
    virtual void on_dialed(const Address& to, PeerId peer, Time now) {
        (void)to;
        (void)peer;
        (void)now;
    }
    // A dial() the driver gave up on (refused, unreachable, timed out, or the driver's cap).
    virtual void on_dial_failed(const Address& to, Time now) {
        (void)to;
        (void)now;
    }

    // A frame from `from`. Malformed frames are the core's to judge (and usually to drop the peer for).
    virtual void on_frame(PeerId from, ByteView frame, Time now) = 0;

    // A datagram from `from` (forgeable, see above); the view lives only during the call. Default:
    // ignored.
    virtual void on_datagram(const Address& from, ByteView datagram, Time now) {
        (void)from;
        (void)datagram;
        (void)now;
    }

    // The driver calls on_timer() once `now` has reached next_deadline() (and may call it earlier).
    virtual std::optional<Time> next_deadline() const { return std::nullopt; }
    virtual void on_timer(Time now) { (void)now; }

    // What to send, whom to drop, where to dial and which datagrams to send, in the order the core
    // decided them; the driver drains all four after every call into the core (outbox, then
    // disconnects, then dials, then datagrams).
    std::vector<OutgoingFrame> take_outbox() { return std::exchange(outbox_, {}); }
    std::vector<Disconnect> take_disconnects() { return std::exchange(disconnects_, {}); }
    std::vector<Address> take_dials() { return std::exchange(dials_, {}); }
    std::vector<OutgoingDatagram> take_datagrams() { return std::exchange(datagrams_, {}); }

  protected:
    void send(PeerId to, Bytes frame) { outbox_.push_back({to, std::move(frame)}); }
    void disconnect(PeerId peer, std::string reason) { disconnects_.push_back({peer, std::move(reason)}); }
    void dial(const Address& to) { dials_.push_back(to); }
    void send_datagram(const Address& to, Bytes datagram) { datagrams_.push_back({to, std::move(datagram)}); }

  private:
    std::vector<OutgoingFrame> outbox_;
    std::vector<Disconnect> disconnects_;
    std::vector<Address> dials_;
    std::vector<OutgoingDatagram> datagrams_;
};

}  // namespace carousel::proto
