// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// TcpTransport: drives one proto::Endpoint over TCP and, once bind_udp() is called, over one UDP
// socket too, with Boost.Asio, on one io_context thread: a process's one driver. Frames and
// datagrams reach the same endpoint, which has one timer.
//
// Wire: each frame travels as a u32 big-endian length followed by the frame (`[u8 type][RLP body]`).
// A length of 0 or over proto::kMaxFrameSize closes that connection with a logged reason before
// anything is allocated for it; the buffer of a valid frame grows as its bytes arrive, so a peer
// that announces 16 MiB and sends nothing costs nothing (net/frame_reader.hpp).
//
// Bounded whatever peers do (TcpOptions): at most max_inbound accepted connections (at the cap a
// new one evicts the accepted connection longest without a complete frame); a frame, once begun,
// must not stall and must arrive at min_frame_rate after a grace of frame_timeout; an accepted connection that
// sends no frame for idle_timeout is closed; and all partly received frames together hold at most
// max_partial_bytes (over it, the connection holding the largest one is closed).
//
// Datagrams (net/udp_socket.hpp has the details): one datagram is one message of the endpoint,
// 1..proto::kMaxDatagramSize bytes, as it was handed over (no framing, retransmission or ordering).
// Received ones are read into a buffer of kMaxDatagramSize + 1 bytes; at most max_queued_datagrams
// wait to be sent; nothing is held per sender.
//
// Threading: every call into the endpoint, every socket and timer operation and the log callback run
// on the thread inside run() / run_for() (the transport thread). listen(), bind_udp(), connect(),
// post(), stop(), stats() and udp_stats() may be called from any thread; the endpoint must not be
// touched from other threads except through post().
//
// Contract with the endpoint (the same as LocalNet's):
//  - Each accepted or connected socket is one peer, with a PeerId never reused by this transport.
//    The endpoint gets on_connect once the socket is up and exactly one on_disconnect when it goes,
//    whoever closed it (the peer, an error, a timeout, the endpoint's own disconnect(), stop()).
//  - After every call into the endpoint the transport drains take_outbox(), take_disconnects(),
//    take_dials() and then take_datagrams(), and arms one steady_timer at next_deadline();
//    on_timer(now) is called once now() reaches it. The endpoint is never called re-entrantly.
//  - Dials: each address the endpoint dials is connected to asynchronously (IPv4, no resolver),
//    like connect_async(). Once the socket is up the endpoint gets on_dialed(address, peer), then
//    on_connect(peer), before any frame from it (and on_connect even if on_dialed made it drop the
//    peer, so that on_disconnect always follows an on_connect). If the connection is refused, fails
//    or is not up within connect_timeout, or the transport stops first, it gets
//    on_dial_failed(address), logged with the reason. Every dial is a new connection and a new
//    PeerId, even to an address already connected. Dials the endpoint makes once the transport is
//    stopping (from its last on_disconnect calls, say) are discarded unanswered. Dialed connections
//    do not count toward max_inbound, and there is no cap on them here: the core keeps its own.
//  - Time is microseconds of steady_clock since the transport was constructed.
//  - Frames to an unknown or closed peer, empty frames and frames over kMaxFrameSize are dropped and
//    counted. A disconnect is abrupt: frames still queued for that peer are discarded.
//  - A peer is dropped, with a logged reason, when: it closes or resets the connection; it sends a
//    length of 0 or over kMaxFrameSize; a write to it does not finish within send_timeout; the bytes
//    queued for it would pass max_queued_bytes; the endpoint throws from on_frame for it; it misses
//    a read deadline; it is evicted at max_inbound or over max_partial_bytes (above). One peer's
//    failure never ends another peer's receive loop.
//  - Each datagram received from address `from` (IPv4, as UDP's source address says: forgeable) is
//    handed to on_datagram(from, datagram, now()); the view lives only during the call. A call that
//    throws is logged and that datagram is lost; receiving goes on.
//  - Dropped and counted (UdpStats), never fatal: received datagrams that are empty or over
//    kMaxDatagramSize; datagrams the endpoint sends that are empty or over it (logged: a bug of the
//    endpoint's), or that find max_queued_datagrams full; sends the socket refuses (an unreachable
//    or invalid address, a full socket buffer), of which at most one a second is logged. Datagrams
//    from peers are counted, not logged, so that a flood cannot flood the log. Datagrams the
//    endpoint sends before bind_udp() wait in the queue; those still queued at stop() are discarded.
//  - TcpOptions::on_close, if set, learns why each connection closed (on the transport thread, from
//    inside the transport: it must not call the endpoint; post() to do that), and whether the peer
//    broke the framing (a length outside 1..kMaxFrameSize, or the connection closed in the middle
//    of a frame): what a driver that redials needs to judge the peer.
//
// Limitations: no handshake, encryption or peer identity (a PeerId names a connection, not a node,
// so the transport cannot tell that a dial reached a node it is connected to already); no
// reconnection here (net::Redialer, above this, redials the peers a client named); connect() and
// connect_async() take IPv4 and IPv6 literals or names resolvable by the system resolver, dials
// only IPv4 addresses (proto::Address); UDP is IPv4 only, one socket, with no rate limit per sender
// (the endpoint's to keep: it sees every datagram's source).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include <carousel/proto/endpoint.hpp>

#include "udp_socket.hpp"

namespace carousel::net {

struct TcpOptions {
    // A write to a peer (one frame) must finish within this, or the peer is dropped.
    std::chrono::milliseconds send_timeout{10'000};
    // connect(), connect_async() and dials give up after this.
    std::chrono::milliseconds connect_timeout{5'000};
    // Bytes (frames plus their length prefixes) that may wait for one peer, counting the frame being
    // written; a send that would pass it drops the peer.
    std::size_t max_queued_bytes{std::size_t{64} << 20};
    // Accepted connections open at once (0: no cap); at the cap a new one evicts the accepted
    // connection that has gone longest without a complete frame. Connections this side opened
    // are not counted.
    std::size_t max_inbound{256};
    // An accepted connection with no frame in progress that receives no frame for this long is
    // closed (0: never).
    std::chrono::milliseconds idle_timeout{120'000};
    // Read deadlines of a frame whose first byte (of its length) has arrived: no byte for
    // frame_timeout closes the connection (stalled), and so does receiving less than min_frame_rate
    // bytes per second since its first byte, after a grace of frame_timeout (too slow: a slow-loris).
    // frame_timeout 0: no deadlines; min_frame_rate 0: only the stall. Both directions.
    std::chrono::milliseconds frame_timeout{10'000};
    std::size_t min_frame_rate{std::size_t{64} << 10};
    // Bytes all connections' partly received frames may hold together (0: no budget). A frame that
    // would pass it closes the connection holding the largest partial frame (itself, if that).
    std::size_t max_partial_bytes{std::size_t{64} << 20};
    // Datagrams that may wait to be sent, counting the one being sent; the endpoint's datagrams
    // beyond it are dropped. At kMaxDatagramSize each, the default holds at most 1.3 MB.
    std::size_t max_queued_datagrams{1024};
    // Told of every connection that closes, with the logged reason and whether the peer broke the
    // framing (see above). On the transport thread, before the endpoint's on_disconnect.
    std::function<void(proto::PeerId, const std::string& reason, bool violation)> on_close{};
    // Where log lines go (on the transport thread); empty: standard error, prefixed "[net] ".
    std::function<void(std::string_view)> log{};
};

// Totals since construction; read with stats() from any thread.
struct TcpStats {
    uint64_t frames_sent{0};  // frames written to a socket completely
    uint64_t bytes_sent{0};   // frame bytes of those (length prefixes not counted)
    uint64_t frames_received{0};
    uint64_t bytes_received{0};
    uint64_t frames_dropped{0};  // frames the endpoint sent that were never written completely
    uint64_t connections_opened{0};
    uint64_t connections_closed{0};
    uint64_t connections_evicted{0};    // closed at max_inbound for a new one
    uint64_t read_deadlines_missed{0};  // closed by idle_timeout or frame_timeout
    uint64_t partial_budget_closes{0};  // closed over max_partial_bytes
};

class TcpTransport {
  public:
    using ConnectHandler = std::function<void(tl::expected<proto::PeerId, std::string>)>;

    explicit TcpTransport(proto::Endpoint& endpoint, TcpOptions options = {});
    // Stops if needed. Must not run while another thread is inside run() / run_for().
    ~TcpTransport();
    TcpTransport(const TcpTransport&) = delete;
    TcpTransport& operator=(const TcpTransport&) = delete;

    // Binds and listens on host:port (port 0: a free port) and accepts connections from then on.
    // Returns the bound port, or why it could not bind.
    tl::expected<uint16_t, std::string> listen(const std::string& host, uint16_t port);

    // Binds the UDP socket to host:port (an IPv4 literal or a name with an IPv4 address; port 0: a
    // free port) and receives datagrams from then on. Returns the bound port, or why it could not
    // bind (also when already bound or stopped; a failed bind may be tried again). Call once, before
    // or during run().
    tl::expected<uint16_t, std::string> bind_udp(const std::string& host, uint16_t port);

    // Connects to host:port, blocking the calling thread for the TCP handshake (up to connect_timeout),
    // and returns the new peer's id. The endpoint's on_connect follows on the transport thread, before
    // any frame from that peer (unless the transport stops first: then the id is never used). Works before run() and
    // from any thread; from the transport thread it stalls every other peer for the handshake, so prefer
    // connect_async() there.
    tl::expected<proto::PeerId, std::string> connect(const std::string& host, uint16_t port);
    // Connects without blocking, as the endpoint's dials do (but without on_dialed or
    // on_dial_failed); `done` runs on the transport thread after the endpoint's on_connect, or with
    // the reason it failed.
    void connect_async(const std::string& host, uint16_t port, ConnectHandler done);

    // Runs the transport on the calling thread until stop(). Call at most once.
    void run();
    // Runs for at most `duration` (or until stop()); may be called repeatedly until stop().
    void run_for(std::chrono::milliseconds duration);
    // Closes the listeners and every connection (the endpoint sees each on_disconnect) and makes
    // run() return once that is done. Thread-safe, idempotent; final.
    void stop();

    // Runs `fn` on the transport thread, then drains the endpoint as after any call into it: the way
    // to call the endpoint from outside. Dropped if the transport has stopped.
    void post(std::function<void()> fn);

    // The transport's clock (see above).
    [[nodiscard]] proto::Time now() const noexcept;
    [[nodiscard]] TcpStats stats() const noexcept;
    // The UDP socket's counters (those of the endpoint's sends count from construction, bound or not).
    [[nodiscard]] UdpStats udp_stats() const noexcept;

  private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

// Listens on host:port (port 0: a free port) and binds the UDP socket to the same port: one address
// for a node's discovery and its data, as its record names them. Returns the port, or why not
// ("cannot listen on HOST:PORT: ..." or "cannot bind UDP HOST:PORT: ...").
tl::expected<uint16_t, std::string> listen_tcp_and_udp(TcpTransport& transport, const std::string& host, uint16_t port);

}  // namespace carousel::net
