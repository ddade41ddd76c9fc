// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// UdpSocket: the UDP part of a driver (net::TcpTransport owns one): one IPv4 socket on the driver's
// io_context, its receive loop, a bounded send queue and the counters. It never calls an endpoint
// and keeps no timer of its own: the driver hands it what the endpoint sends (send()) and is handed
// each valid datagram received (the Receive callback), and does the endpoint calls, the draining
// and the endpoint's timer itself.
//
// Wire: one datagram is one message of the endpoint, at most proto::kMaxDatagramSize (1,280) bytes,
// as it was handed over: no framing, no retransmission, no ordering.
//
// Bounded whatever peers do: a datagram is received into a buffer of kMaxDatagramSize + 1 bytes, so
// a larger one is seen truncated to that and dropped, as an empty one is; the datagrams waiting to
// be sent are at most max_queued_datagrams (beyond it new ones are dropped). Nothing else is held
// per peer: the socket keeps no state about senders.
//
// Threading: bind() and stats() may be called from any thread; everything else, the Receive
// callback and the log callback run on the driver's thread (the one inside io_context::run()).
//
// Dropped and counted (UdpStats), never fatal: received datagrams that are empty or over
// kMaxDatagramSize; datagrams handed to send() that are empty or over it (logged: a bug of the
// endpoint's), or that find the send queue full; sends the socket refuses (an unreachable or invalid
// address, a full socket buffer), of which at most one a second is logged. Datagrams from peers are
// counted, not logged, so that a flood cannot flood the log. A receive error is counted; unless it
// reports an unreachable peer (an ICMP error about an earlier send) it is also logged and the loop
// pauses 50 ms before the next read. Datagrams handed to send() before bind() wait in the queue;
// those queued at close(), or handed over after it, are discarded.
//
// Limitations: IPv4 only (proto::Address); no rate limit per sender (the endpoint's to keep: it
// sees every datagram's source); one socket.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <tl/expected.hpp>

#include <carousel/core/bytes.hpp>
#include <carousel/proto/endpoint.hpp>

#include "driver_log.hpp"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace carousel::net {

// Totals since construction; read from any thread.
struct UdpStats {
    uint64_t datagrams_sent{0};       // handed to the socket whole
    uint64_t bytes_sent{0};           // their bytes
    uint64_t datagrams_received{0};   // handed to the endpoint
    uint64_t bytes_received{0};       // their bytes
    uint64_t received_oversize{0};    // received over kMaxDatagramSize: dropped
    uint64_t received_empty{0};       // received empty: dropped
    uint64_t receive_errors{0};       // the socket failed a read
    uint64_t sends_out_of_bounds{0};  // the endpoint's datagrams empty or over kMaxDatagramSize: dropped
    uint64_t sends_queue_full{0};     // the endpoint's datagrams over max_queued_datagrams: dropped
    uint64_t send_errors{0};          // refused by the socket: dropped
};

class UdpSocket {
  public:
    // A valid datagram (1..kMaxDatagramSize bytes) from `from`; the view lives only during the call.
    using Receive = std::function<void(const proto::Address& from, ByteView datagram)>;

    // `ioc` and whatever `receive` and `log` refer to must outlive the socket; max_queued_datagrams
    // counts the datagram being sent.
    UdpSocket(boost::asio::io_context& ioc, std::size_t max_queued_datagrams, LogCallback log, Receive receive);
    ~UdpSocket();
    UdpSocket(const UdpSocket&) = delete;
    UdpSocket& operator=(const UdpSocket&) = delete;

    // Binds to host:port (an IPv4 literal or a name with an IPv4 address; port 0: a free port) and
    // receives from then on, once the driver's thread gets to it. Returns the bound port, or why it
    // could not bind (also when already bound or closed). A failed bind may be tried again.
    tl::expected<uint16_t, std::string> bind(const std::string& host, uint16_t port);

    // Queues a datagram of the endpoint's (see above for what is dropped). Driver's thread.
    void send(proto::OutgoingDatagram datagram);

    // Closes the socket and discards what is queued; final. Driver's thread.
    void close();

    [[nodiscard]] UdpStats stats() const noexcept;

  private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace carousel::net
