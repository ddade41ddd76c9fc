// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// SimGridNet: drives many proto::Endpoints, one per simulated node, on SimGrid's S4U engine: the
// driver for networks far larger than LocalNet's (issue 21: 10,000 nodes). The cores are the ones
// TcpTransport and LocalNet drive; only the clock, the links and the sharing of bandwidth are
// SimGrid's.
//
// Platform: a star. Node i's host has an uplink and a downlink of its own (NodeLink: bandwidth and
// one-way latency each), and a transfer from a to b crosses a's uplink, then b's downlink, sharing
// both with the other flows on them as SimGrid's network model shares links. The model and its
// factors are SimGrid's configuration (SimGridOptions::config, "name:value" as `--cfg=`); say which
// in any figure. The engine is made by the constructor (one SimGridNet at a time per process: SimGrid
// has one engine); time 0 is its clock when the constructor ran (a second engine in one process
// goes on from the first's clock).
//
// Nodes: add_node() before the first run(). Node i (from 0) is at 10.a.b.c:30303, a.b.c the 24 bits of i + 1,
// for both TCP and UDP. One actor per node, on its host, makes every call into its endpoint, one at
// a time, and drains it after each call (outbox, disconnects, dials, datagrams, as endpoint.hpp
// says). A node is online from its `join` time until its `leave` time (NodeOptions): at its join it
// gets nothing but time (it starts by its own dials and datagrams, or by a scheduled call); at its
// leave it closes every connection as an OS closes a process's sockets (what it sent still goes
// out, then the FIN), and is gone. An offline node takes no datagrams (dropped and counted; one on
// its way when the node leaves is lost) and answers no dial (the dialer times out). leave(node)
// between runs makes the node leave at now(), as if its leave time were now().
//
// Connections (the TCP side of Endpoint's contract, named per connection as TcpTransport names them):
//  - A dial costs a round trip: a SYN to the dialed node and its SYN-ACK back (kControlBytes each).
//    The dialed node gets on_connect(c) when the SYN arrives; the dialer gets on_dialed(address, c)
//    and on_connect(c) when the SYN-ACK does. With no SYN-ACK within connect_timeout (offline, or
//    late) the dialer gets on_dial_failed(address) and a late SYN-ACK is answered with a FIN. Every
//    dial is a new connection; both ends name it by the same PeerId, unique in the run.
//  - Frames keep their order: the sending side of a connection queues them and puts one at a time on
//    the links, so a frame starts to travel only after the one before it arrived (one frame in
//    flight per direction; a model of TCP's ordering, not of its window). On the links a frame
//    costs its size plus 4 bytes (the length prefix TcpTransport writes); TCP/IP headers are not
//    counted. Frames that are empty or over kMaxFrameSize, or for a connection not open at the
//    sender, are dropped and counted. The frame hook (set_frame_hook) sees each frame about to go
//    on an open connection, as its sender's actor sends it, and may alter it; a frame it empties or
//    makes oversize is dropped and counted (at the size it had before the hook).
//  - disconnect(c) and a node's leave: the closing side gets on_disconnect(c) at once and receives
//    nothing more on c; a FIN follows its last frame on c, and the other side gets on_disconnect(c)
//    when it arrives (after every frame sent before it). Frames a side sends after the FIN are
//    dropped, and so are those it had queued for c when the other side's FIN arrived. (Each side
//    sends a FIN; the closing side takes and drops what arrives on c until the other's.)
// Datagrams: 1..kMaxDatagramSize bytes (else dropped and counted), plus kUdpHeaderBytes on the
// links, to the online node at the address (else dropped and counted). Datagrams, SYNs and
// SYN-ACKs to a node travel side by side as soon as sent (its inbox is SimGrid's permanent
// receiver mailbox), sharing its downlink, not one after another as a connection's frames do. `from` is the sender's
// own address: nothing here forges one. Timers: a node's actor waits for whichever comes first, its next arrival, its
// next_deadline() or its next scheduled call, and calls on_timer(now) once now reaches the deadline. Calls:
// schedule(node, t, fn) runs the caller's closure fn on the node's actor at time t (now() if earlier) and drains the
// endpoint after; it may be called between runs (before the first, or after any), or from inside a call on that same
// node. A call due before the node joins runs when it joins; one due after it left never runs. Slices: run(until) may
// be called again and again with times that do not decrease; the actors persist from one run to the next. Each actor's
// waits end at the run's `until`, and it stops there once nothing more is due at that time (SimGrid's suspend), so
// between runs the caller may schedule calls on any node, make nodes leave and read or change the endpoints (each actor
// asks its endpoint's next_deadline() again when the next run starts). An arrival at exactly `until` may be taken in
// that run or at the start of the next, at the same simulated time. finish() (or the destructor) ends the actors: each
// withdraws what it has under way and returns; nodes stay as they are. Every node wakes at every run's end, so a run
// costs one wake per node beside its traffic. Counters: per node, frames and datagrams sent and received by type, and
// the peak of connections open at once (both directions, dials not counted).
//
// Not thread-safe; everything runs on SimGrid's actors, one at a time, or between runs.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <carousel/proto/address.hpp>
#include <carousel/proto/endpoint.hpp>

#include "traffic.hpp"

namespace carousel::net {

// A node's access link, each direction with its own bandwidth; latency one way, per direction.
struct NodeLink {
    double up_bytes_per_second{12.5e6};    // 100 Mbit/s
    double down_bytes_per_second{12.5e6};  // 100 Mbit/s
    std::chrono::microseconds latency{std::chrono::milliseconds{10}};
};

struct SimNodeOptions {
    NodeLink link{};
    proto::Time join{0};
    std::optional<proto::Time> leave{};
};

// Sees a frame node `from` sends to node `to` on a connection; may alter it or clear it (dropped).
using SimFrameHook = std::function<void(std::size_t from, std::size_t to, Bytes& frame)>;

struct SimGridOptions {
    std::chrono::microseconds connect_timeout{std::chrono::seconds{5}};
    // SimGrid configuration, "name:value" each (as --cfg=name:value), set before the platform.
    std::vector<std::string> config{};
};

inline constexpr std::size_t kControlBytes = 64;    // a SYN, SYN-ACK or FIN on the links
inline constexpr std::size_t kUdpHeaderBytes = 28;  // IPv4 + UDP

struct SimNodeCounters {
    TrafficCounters frames_sent;
    TrafficCounters frames_received;
    TrafficCounters frames_dropped;  // refused at send time (size, connection not open)
    TrafficCounters datagrams_sent;
    TrafficCounters datagrams_received;
    TrafficCounters datagrams_dropped;  // size, or no online node at the address
    uint64_t dials{0};
    uint64_t dials_failed{0};
    std::size_t connections{0};  // open now
    std::size_t peak_connections{0};
};

class SimGridNet {
  public:
    using NodeIndex = std::size_t;

    explicit SimGridNet(SimGridOptions options = {});
    ~SimGridNet();
    SimGridNet(const SimGridNet&) = delete;
    SimGridNet& operator=(const SimGridNet&) = delete;

    // Adds a node driving `endpoint` (which must outlive the net). Before the first run() only.
    NodeIndex add_node(proto::Endpoint& endpoint, const SimNodeOptions& options = {});
    [[nodiscard]] proto::Address address(NodeIndex node) const;
    [[nodiscard]] static proto::Address address_of(NodeIndex node);

    // Runs `fn` on `node`'s actor at time `at` (see the contract), then drains its endpoint.
    void schedule(NodeIndex node, proto::Time at, std::function<void()> fn);

    // Makes `node` leave at now() (no-op if it left already). Between runs only.
    void leave(NodeIndex node);
    // Whether `node` is online now: joined and not left (or told to leave).
    [[nodiscard]] bool online(NodeIndex node) const;

    // Replaces the frame hook (an empty function removes it). Between runs, or before the first.
    void set_frame_hook(SimFrameHook hook);

    // Runs the simulation until simulated time `until`, no earlier than the last run's.
    void run(proto::Time until);
    // Ends the actors (see the contract); no run() after it. The destructor calls it.
    void finish();

    // The simulated time now: inside calls the time of the call; between runs the last run's
    // `until` (0 before the first).
    [[nodiscard]] proto::Time now() const;
    [[nodiscard]] const SimNodeCounters& counters(NodeIndex node) const;
    [[nodiscard]] std::size_t size() const noexcept;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace carousel::net
