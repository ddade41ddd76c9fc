// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// UdpTransport: drives one proto::DatagramEndpoint over one UDP socket with Boost.Asio, on one
// io_context thread: what Merry-Go-Round discovery (PING/PONG/FINDNODES/NODES) runs on.
//
// Wire: one datagram is one message of the endpoint, at most proto::kMaxDatagramSize (1,280) bytes,
// as it was handed over: no framing, no retransmission, no ordering.
//
// Bounded whatever peers do: a datagram is received into a buffer of kMaxDatagramSize + 1 bytes, so
// a larger one is seen truncated to that and dropped, as an empty one is; the datagrams waiting to
// be sent are at most max_queued_datagrams (beyond it the endpoint's new ones are dropped). Nothing
// else is held per peer: the transport keeps no state about senders.
//
// Threading: every call into the endpoint, every socket and timer operation and the log callback run
// on the thread inside run() / run_for() (the transport thread). bind(), post(), stop(), now() and
// stats() may be called from any thread; the endpoint must not be touched from other threads except
// through post().
//
// Contract with the endpoint (proto/datagram_endpoint.hpp):
//  - Each datagram received from address `from` (IPv4, as UDP's source address says: forgeable) is
//    handed to on_datagram(from, datagram, now()); the view lives only during the call.
//  - After every call into the endpoint the transport drains take_datagrams() into the send queue
//    and arms one steady_timer at next_deadline(); on_timer(now) is called once now() reaches it.
//    The endpoint is never called re-entrantly.
//  - Time is microseconds of steady_clock since the transport was constructed.
//  - Dropped and counted (UdpStats), never fatal: received datagrams that are empty or over
//    kMaxDatagramSize; datagrams the endpoint sends that are empty or over it (logged: a bug of the
//    endpoint's), or that find the send queue full; sends the socket refuses (an unreachable or
//    invalid address, a full socket buffer), of which at most one a second is logged. Datagrams
//    from peers are counted, not logged, so that a flood cannot flood the log.
//  - A call into the endpoint that throws is logged and the datagram is lost; the receive loop goes
//    on. A receive error is counted; unless it reports an unreachable peer (an ICMP error about an
//    earlier send) it is also logged and the loop pauses 50 ms before the next read.
//  - Datagrams the endpoint sends before bind() wait in the send queue; those still queued at stop()
//    are discarded.
//
// Limitations: IPv4 only (proto::Address); no rate limit per sender (the endpoint's to keep: it
// sees every datagram's source); one socket per transport.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include <carousel/proto/datagram_endpoint.hpp>

namespace carousel::net {

struct UdpOptions {
    // Datagrams that may wait to be sent, counting the one being sent; the endpoint's datagrams
    // beyond it are dropped. At kMaxDatagramSize each, the default holds at most 1.3 MB.
    std::size_t max_queued_datagrams{1024};
    // Where log lines go (on the transport thread); empty: standard error, prefixed "[net] ".
    std::function<void(std::string_view)> log{};
};

// Totals since construction; read with stats() from any thread.
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

class UdpTransport {
  public:
    explicit UdpTransport(proto::DatagramEndpoint& endpoint, UdpOptions options = {});
    // Stops if needed. Must not run while another thread is inside run() / run_for().
    ~UdpTransport();
    UdpTransport(const UdpTransport&) = delete;
    UdpTransport& operator=(const UdpTransport&) = delete;

    // Binds the socket to host:port (an IPv4 literal or a name with an IPv4 address; port 0: a free
    // port) and receives from then on. Returns the bound port, or why it could not bind (also when
    // already bound or stopped). Call once, before or during run().
    tl::expected<uint16_t, std::string> bind(const std::string& host, uint16_t port);

    // Runs the transport on the calling thread until stop(). Call at most once.
    void run();
    // Runs for at most `duration` (or until stop()); may be called repeatedly until stop().
    void run_for(std::chrono::milliseconds duration);
    // Closes the socket, discards what is queued and makes run() return once that is done.
    // Thread-safe, idempotent; final.
    void stop();

    // Runs `fn` on the transport thread, then drains the endpoint as after any call into it: the way
    // to call the endpoint from outside. Dropped if the transport has stopped.
    void post(std::function<void()> fn);

    // The transport's clock (see above).
    [[nodiscard]] proto::Time now() const noexcept;
    [[nodiscard]] UdpStats stats() const noexcept;

  private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace carousel::net
