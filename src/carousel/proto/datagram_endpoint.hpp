// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// DatagramEndpoint: how a sans-IO core that speaks in datagrams (Merry-Go-Round discovery, as
// discv4 and discv5 do over UDP) meets its driver: net::UdpTransport in processes, LocalNet in tests,
// SimGrid in simulations. The same rules as Endpoint (endpoint.hpp): the core never opens a socket,
// reads a clock or sleeps; the driver hands it datagrams and the time, drains take_datagrams() after
// every call into it, and calls on_timer() once now() reaches next_deadline().
//
// Datagrams are unreliable: a driver may drop, and a real network may also reorder or duplicate
// them. A datagram is at most kMaxDatagramSize bytes (discv5's bound, under any path's MTU): the
// driver drops larger ones, both those it receives and those the core sends, and counts them.
// `from` is the address the datagram came from as the driver saw it (UDP's source address, which
// a sender can forge: a core proves an address by a round trip, not by trusting it).

#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

#include <carousel/core/bytes.hpp>

#include "address.hpp"
#include "endpoint.hpp"

namespace carousel::proto {

inline constexpr std::size_t kMaxDatagramSize = 1280;

struct OutgoingDatagram {
    Address to;
    Bytes datagram;
};

class DatagramEndpoint {
  public:
    virtual ~DatagramEndpoint() = default;

    virtual void on_datagram(const Address& from, ByteView datagram, Time now) = 0;

    virtual std::optional<Time> next_deadline() const { return std::nullopt; }
    virtual void on_timer(Time now) { (void)now; }

    std::vector<OutgoingDatagram> take_datagrams() { return std::exchange(outbox_, {}); }

  protected:
    void send_datagram(const Address& to, Bytes datagram) { outbox_.push_back({to, std::move(datagram)}); }

  private:
    std::vector<OutgoingDatagram> outbox_;
};

}  // namespace carousel::proto
