// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Endpoint: how a sans-IO protocol core (prefix/, mgr/, dht/) meets whatever drives it.
//
// A core never opens a socket, reads a clock or sleeps. The driver — net::LocalNet in tests,
// the Asio TCP transport in processes, SimGrid in simulations — hands it frames, connection events
// and the current time, and takes from it the frames to send, the peers to drop and the time it
// next wants to be woken. Nothing in a core knows which driver runs it.
//
// Frames are `[u8 message type][RLP body]` (see prefix_messages.hpp). The driver delivers each frame
// whole, as the peer sent it, and at most kMaxFrameSize bytes long; a transport that frames a byte
// stream enforces that bound before allocating.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <carousel/core/bytes.hpp>

namespace carousel::proto {

// A peer as the driver names it: unique for the lifetime of the driver, never reused for another peer.
// TCP names each connection; LocalNet names each node, so a pair that reconnects meets the same id again.
using PeerId = uint64_t;

// Time on the driver's clock (a simulated clock in LocalNet and SimGrid; steady_clock over TCP).
using Time = std::chrono::microseconds;

// The largest frame any carousel message may take (type byte included).
inline constexpr std::size_t kMaxFrameSize = std::size_t{16} * 1024 * 1024;

struct OutgoingFrame {
    PeerId to{0};
    Bytes frame;
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

    // A frame from `from`. Malformed frames are the core's to judge (and usually to drop the peer for).
    virtual void on_frame(PeerId from, ByteView frame, Time now) = 0;

    // The driver calls on_timer() once `now` has reached next_deadline() (and may call it earlier).
    virtual std::optional<Time> next_deadline() const { return std::nullopt; }
    virtual void on_timer(Time now) { (void)now; }

    // What to send and whom to drop, in the order the core decided them; the driver drains both
    // after every call into the core.
    std::vector<OutgoingFrame> take_outbox() { return std::exchange(outbox_, {}); }
    std::vector<Disconnect> take_disconnects() { return std::exchange(disconnects_, {}); }

  protected:
    void send(PeerId to, Bytes frame) { outbox_.push_back({to, std::move(frame)}); }
    void disconnect(PeerId peer, std::string reason) { disconnects_.push_back({peer, std::move(reason)}); }

  private:
    std::vector<OutgoingFrame> outbox_;
    std::vector<Disconnect> disconnects_;
};

}  // namespace carousel::proto
