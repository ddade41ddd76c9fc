// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// LocalNet: a deterministic, single-threaded, discrete-event driver for proto::Endpoint cores: each
// node is one endpoint, which gets that node's frames, connection events, dial outcomes, datagrams
// and timer.
//
// Tests and benchmarks add endpoints as nodes, connect pairs of nodes with a one-way latency, give
// each node an uplink and a downlink bandwidth, and run the simulated clock. Nothing reads a real
// clock, spawns a thread or draws a random number: the same calls give the same run, bit for bit.
//
// The model and its assumptions:
//  - Time is the simulated clock in microseconds (proto::Time), starting at 0. It only moves when an
//    event is processed or run_until(t) reaches t.
//  - Events are ordered by (time, sequence number); the sequence number is the order in which the
//    events were scheduled. Equal times are never broken by anything else (no addresses, no hashes).
//  - A node's PeerId is its id in the net, the same one every other node uses for it; ids start at 1
//    and are never reused for another node. A pair that disconnects and connects again meets the
//    same PeerId again (TCP, by contrast, names each connection).
//  - Links are point to point between two nodes, symmetric, with a fixed one-way latency.
//  - Bandwidth is a property of a node: an uplink rate for what it sends and a downlink rate for
//    what it receives, in bytes per second (0: unlimited). A frame of n bytes occupies the sender's
//    uplink for n / uplink and the receiver's downlink for n / downlink. Each of the two is a FIFO:
//    a frame starts on the uplink when the frames the node sent before it are through, and starts on
//    the receiver's downlink when its first byte arrives (uplink start + latency) or when the frames
//    that reached that downlink before it are through, whichever is later. The frame is delivered
//    when its last byte is through the downlink, which is never before its last byte left the uplink
//    plus the latency (cut-through, not store-and-forward). So with both ends at B bytes/s and
//    latency L, a lone frame of n bytes arrives at n / B + L, and k frames sent at once arrive at
//    i * n / B + L for i = 1..k. Links share a node's uplink and downlink in FIFO order, not fairly.
//  - Serialization times are kept in nanoseconds, each frame rounded up to a whole nanosecond; a
//    delivery happens at its nanosecond time rounded up to a whole microsecond.
//  - No loss, reordering or duplication unless a fault is injected. Frames on one link arrive in the
//    order they were sent.
//  - connect(a, b) calls a's and then b's on_connect at now() (as events, before any frame on the
//    link can arrive). A disconnect, whoever asks for it, is abrupt: the link is cut at once, frames
//    still in flight on it in either direction are dropped (and counted), and both ends get
//    on_disconnect at now(), the side that asked first. Every on_connect is followed by exactly one
//    on_disconnect if the link is ever cut. Bandwidth a dropped frame had reserved is not returned.
//  - Frames an endpoint sends to a peer it is not connected to (unknown, never connected or already
//    cut), empty frames and frames over kMaxFrameSize are dropped and counted; they are not sent.
//  - After every call into an endpoint the driver drains take_outbox() (frames in order), then
//    take_disconnects(), then take_dials() and then take_datagrams() (below), and asks
//    next_deadline(); on_timer(now) is called once now() reaches it (a deadline in the past fires at
//    now()). Each node has one timer. The endpoint is never called re-entrantly.
//  - An offline node keeps running (its timers fire) but has no links: going offline cuts all of its
//    links as above, and connect() refuses it until it is back online.
//
// Addresses and dialing (proto::Endpoint::dial):
//  - Every node has a proto::Address, by default default_address(id) = 10.a.b.c:30303 where a.b.c
//    are the id's three low bytes (so ids stop at 2^24 - 1); set_address() moves it. Addresses are
//    unique, and an address of that default form is reserved for the node whose id it spells.
//  - A dial resolves its address when it is made. When it names another node, both ends are online
//    and the round trip (twice the latency the link model, set_link_model(), gives for (dialer,
//    dialed)) fits in the dial timeout, the handshake ends one round trip later (a TCP SYN and
//    SYN-ACK): if both ends are still online then, the link is made with the model's LinkSettings
//    and the dialer gets on_dialed(address, dialed) at once, then on_connect(dialed), and the dialed
//    node on_connect(dialer), as events at that time as connect() schedules them. The dialed node
//    hears of it when the dialer does, half a round trip before a TCP accept would, so that no frame
//    and no cut can come before either on_connect. Otherwise (no such node, the dialer's own
//    address, an end offline, a round trip over the timeout) the dialer gets
//    on_dial_failed(address) once the dial timeout has passed since the dial.
//  - A node names a peer by its node id, so a pair has at most one link. A dial whose handshake ends
//    while the pair is already linked (connect() or an earlier dial made the link, or both ends
//    dialed at once) adds nothing: the dialer gets on_dialed(address, peer) and no second
//    on_connect. The link's one on_connect(peer) came before, or, when the other end's handshake
//    ended at the same instant and made the link, comes right after it, at the same time.
//  - Each node's current and peak number of links is kept (connection_count, peak_connections),
//    whoever made them.
//
// Datagrams (proto::Endpoint::send_datagram and on_datagram; every node receives them, and an
// endpoint that keeps the default on_datagram ignores them):
//  - A datagram needs no link. It goes from the sender's node to the node at its address, through
//    the same uplink and downlink FIFOs as frames, with the latency of the link model for
//    (sender, receiver) whether or not the two are linked. It is delivered with the sender's
//    address as `from`.
//  - Dropped and counted (datagram_metrics), never sent: empty or over kMaxDatagramSize, from an
//    offline node, to an address of no node, of the sender itself or of an offline node, or cleared
//    by the datagram hook. One whose receiver is offline when it arrives is dropped then (counted as
//    sent and as dropped). No loss, reordering or duplication otherwise: datagrams between two nodes
//    arrive in the order they were sent.
//
// Endpoints are not owned: each must outlive the LocalNet (or at least its last run call).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <carousel/core/bytes.hpp>
#include <carousel/proto/address.hpp>
#include <carousel/proto/endpoint.hpp>

#include "traffic.hpp"

namespace carousel::net {

using proto::Address;
using proto::Endpoint;
using proto::PeerId;
using proto::Time;

// A time later than any run will reach.
inline constexpr Time kForever = Time::max();

// What a node's links can carry. Rates are bytes per second; 0 means unlimited.
struct NodeSettings {
    uint64_t uplink_bytes_per_second{0};
    uint64_t downlink_bytes_per_second{0};
};

// One link between two nodes.
struct LinkSettings {
    Time latency{0};  // one way, the same in both directions
};

// The link a dial from `dialer` to `dialed` makes, and the latency of datagrams from the first to
// the second. Must be a pure function of its arguments (LocalNet may ask more than once).
using LinkModel = std::function<LinkSettings(PeerId dialer, PeerId dialed)>;

// The address a node has unless set_address() moves it: 10.a.b.c:30303, a.b.c the id's low three
// bytes (ids 1 to 2^24 - 1).
Address default_address(PeerId id);

// Counters of a node or of one direction of a link.
//  sent:     frames that entered a link (after the frame hook, at the size it left them).
//  received: frames delivered to the receiving endpoint.
//  dropped:  frames that never reached an endpoint: refused at send time (no such link, invalid size,
//            cleared by the frame hook; at the size the sender gave) or cut in flight by a disconnect
//            (then also counted in sent).
// For a node, sent and dropped count what it sent and received what it received.
// Datagrams are counted apart in the same shape (datagram_metrics), by their first byte too.
struct Metrics {
    TrafficCounters sent;
    TrafficCounters received;
    TrafficCounters dropped;
};

// One line of the run's trace, in the order things happened.
struct TraceEntry {
    enum class Kind : uint8_t {
        kConnect,       // node's on_connect(peer)
        kDisconnect,    // node's on_disconnect(peer)
        kFrame,         // node's on_frame(peer, ...), `bytes` long with message type `type`
        kDrop,          // a frame from node to peer was dropped, `bytes` long
        kTimer,         // node's on_timer
        kDial,          // node dialed `address` (node `peer`, or 0 if the dial can only fail)
        kDialed,        // node's on_dialed(address, peer)
        kDialFailed,    // node's on_dial_failed(address)
        kDatagram,      // node's on_datagram from `address` (node `peer`), `bytes` long with first byte `type`
        kDatagramDrop,  // a datagram from node to `address` (node `peer`, or 0) was dropped, `bytes` long
    };
    Time at{0};
    Kind kind{Kind::kTimer};
    PeerId node{0};
    PeerId peer{0};
    std::size_t bytes{0};
    uint8_t type{0};
    Address address{};  // dials and datagrams only

    friend bool operator==(const TraceEntry&, const TraceEntry&) = default;
};

// A link that was cut, why, and by whom (0: by LocalNet itself, or by the test).
struct DisconnectRecord {
    Time at{0};
    PeerId by{0};
    PeerId a{0};
    PeerId b{0};
    std::string reason;
};

// Sees every frame an endpoint sends to a connected peer, before it enters the link; may change it
// or clear it (a cleared frame is dropped). Called in send order.
using FrameHook = std::function<void(PeerId from, PeerId to, Bytes& frame)>;

// Sees every datagram that is about to be sent (valid, to a node that can receive it), in send
// order; may change it or clear it (a cleared datagram, or one it makes oversize, is dropped).
using DatagramHook = std::function<void(PeerId from, const Address& to, Bytes& datagram)>;

// A FrameHook that calls `action` on the n-th frame (counting from 1) sent from `from` to `to`
// and lets every other frame through.
FrameHook on_nth_frame(PeerId from, PeerId to, uint64_t n, std::function<void(Bytes& frame)> action);

class LocalNet {
  public:
    LocalNet() = default;
    LocalNet(const LocalNet&) = delete;
    LocalNet& operator=(const LocalNet&) = delete;

    // Adds a node driven by `endpoint` and returns its id. Asks its next_deadline() at once.
    PeerId add(Endpoint& endpoint, NodeSettings settings = {});

    // Connects two distinct online nodes that are not connected; false (and nothing happens)
    // otherwise. Both get on_connect at now().
    bool connect(PeerId a, PeerId b, LinkSettings link = {});

    // Cuts the link between a and b as if a had asked for it; false if they are not connected.
    bool disconnect(PeerId a, PeerId b, std::string reason = "disconnected by the test");

    // Moves `node` to `address`; false (and nothing changes) if another node has it, or it is the
    // default address of another id. Dials and datagrams already under way keep the node they found.
    bool set_address(PeerId node, const Address& address);
    [[nodiscard]] Address address(PeerId node) const;
    // The node at `address`, if any.
    [[nodiscard]] std::optional<PeerId> node_at(const Address& address) const;

    // The link model of dials and datagrams (default: LinkSettings{} for every pair), and how long a
    // dial that cannot complete takes to fail (default 5 s; finite; for dials made from then on).
    void set_link_model(LinkModel model) { link_model_ = std::move(model); }
    void set_dial_timeout(Time timeout) { dial_timeout_ = timeout; }

    // Takes a node off the network (cutting all of its links) or lets it back on.
    void set_online(PeerId node, bool online);
    [[nodiscard]] bool online(PeerId node) const;

    // Whether a and b are connected now.
    [[nodiscard]] bool connected(PeerId a, PeerId b) const;
    // The nodes `node` is connected to, in increasing order.
    [[nodiscard]] std::vector<PeerId> peers(PeerId node) const;
    // How many links `node` has now, and the most it ever had at once.
    [[nodiscard]] std::size_t connection_count(PeerId node) const;
    [[nodiscard]] std::size_t peak_connections(PeerId node) const;

    // Calls `fn` as node `id`'s event at `at` (now() if earlier), then drains that node as after any
    // call into its endpoint: how a test or a scenario calls into a core (start a sync, send a
    // request). Runs in order with the other events of that time.
    void post(PeerId id, std::function<void()> fn, Time at = Time{0});

    // Replace the frame hook and the datagram hook (an empty function removes one).
    void set_frame_hook(FrameHook hook) { hook_ = std::move(hook); }
    void set_datagram_hook(DatagramHook hook) { datagram_hook_ = std::move(hook); }
    // Receives every trace entry as it happens (an empty function stops tracing).
    void set_trace(std::function<void(const TraceEntry&)> trace) { trace_ = std::move(trace); }

    // Processes every event due at or before `t`, then sets now() to `t` (if later).
    void run_until(Time t);
    // Processes events until `done()` holds (checked before the first event and after each one) or
    // the next event is later than `limit`; true if `done()` held. On false, now() is `limit`
    // (unless it was kForever), otherwise the time of the event after which `done()` held.
    bool run_until(const std::function<bool()>& done, Time limit);
    // Processes events until none is left or the next is later than `limit`; true if none is left.
    // now() stays at the last event's time when idle.
    bool run_until_idle(Time limit = kForever);
    // Processes the next event if there is one; false if there is none.
    bool step();

    [[nodiscard]] Time now() const noexcept { return now_; }
    // Events processed so far (stale timers not counted).
    [[nodiscard]] uint64_t events_processed() const noexcept { return events_processed_; }

    // Counters of a node, of the direction from -> to of a link, and of the whole net.
    [[nodiscard]] const Metrics& metrics(PeerId node) const;
    [[nodiscard]] Metrics link_metrics(PeerId from, PeerId to) const;
    [[nodiscard]] const Metrics& total_metrics() const noexcept { return total_; }
    // Datagram counters of a node and of the whole net.
    [[nodiscard]] const Metrics& datagram_metrics(PeerId node) const;
    [[nodiscard]] const Metrics& total_datagram_metrics() const noexcept { return total_datagrams_; }

    // Every link that was cut, in order.
    [[nodiscard]] const std::vector<DisconnectRecord>& disconnects() const noexcept { return disconnects_; }

  private:
    struct Timer {
        std::optional<Time> at;  // the deadline a pending timer event stands for
        uint64_t generation{0};  // bumped whenever that event goes stale
    };
    struct Node {
        Endpoint* endpoint{nullptr};
        NodeSettings settings;
        Address address;
        bool online{true};
        std::set<PeerId> peers;
        std::size_t peak_peers{0};
        uint64_t uplink_free_ns{0};    // when the frames queued on the uplink are through
        uint64_t downlink_free_ns{0};  // when the frames queued on the downlink are through
        Timer timer;                   // the endpoint's
        Metrics metrics;
        Metrics datagram_metrics;
    };
    struct Link {
        LinkSettings settings;
        bool connected{false};
        uint64_t generation{0};  // bumped at every connect; frames of an older one are dropped
    };
    enum class EventKind : uint8_t { kConnect, kDisconnect, kFrame, kTimer, kCall, kDial, kDatagram };
    struct Event {
        Time at{0};
        uint64_t seq{0};
        EventKind kind{EventKind::kTimer};
        PeerId node{0};              // whose endpoint is called
        PeerId peer{0};              // the other end (the sender for frames and datagrams, the dialed node)
        uint64_t generation{0};      // of the link (frames) or of the node's timer (timers)
        Bytes frame;                 // or datagram
        std::function<void()> call;  // kCall
        Address address;             // dialed (kDial), or where a datagram came from (kDatagram)
        Time give_up{0};             // when the dial fails if it cannot complete (kDial)
    };
    struct EventLater {
        bool operator()(const Event& x, const Event& y) const noexcept {
            return x.at != y.at ? x.at > y.at : x.seq > y.seq;
        }
    };
    using LinkKey = std::pair<PeerId, PeerId>;  // (smaller id, larger id)

    Node& node(PeerId id);
    const Node& node(PeerId id) const;
    [[nodiscard]] bool valid(PeerId id) const noexcept { return id >= 1 && id <= nodes_.size(); }
    static LinkKey key(PeerId a, PeerId b) noexcept { return a < b ? LinkKey{a, b} : LinkKey{b, a}; }

    void schedule(Time at, EventKind kind, PeerId node_id, PeerId peer, uint64_t generation, Bytes frame = {});
    void push(Event event);
    void process(const Event& event);
    void drain(PeerId id);
    void open_link(PeerId a, PeerId b, LinkSettings link);
    Time transmit(Node& sender, Node& receiver, Time latency, std::size_t bytes);
    void send(PeerId from, PeerId to, Bytes frame);
    void drop(PeerId from, PeerId to, ByteView frame);
    void cut(PeerId by, PeerId a, PeerId b, std::string reason);
    void start_dial(PeerId from, const Address& to);
    void finish_dial(const Event& dial);
    void send_datagram(PeerId from, const Address& to, Bytes datagram);
    void deliver_datagram(const Event& event);
    void drop_datagram(PeerId from, PeerId to, const Address& address, ByteView datagram);
    void update_timer(PeerId id);
    void trace(TraceEntry::Kind kind, PeerId node, PeerId peer, ByteView frame = {}, const Address& address = {});

    std::vector<Node> nodes_;  // node id i at index i - 1
    std::map<LinkKey, Link> links_;
    std::map<LinkKey, Metrics> link_metrics_;  // keyed (from, to), one per direction
    Metrics total_;
    Metrics total_datagrams_;
    std::map<Address, PeerId> addresses_;
    LinkModel link_model_ = [](PeerId, PeerId) { return LinkSettings{}; };
    Time dial_timeout_{5'000'000};
    std::vector<Event> events_;  // a heap under EventLater
    uint64_t next_seq_{0};
    uint64_t events_processed_{0};
    Time now_{0};
    FrameHook hook_;
    DatagramHook datagram_hook_;
    std::function<void(const TraceEntry&)> trace_;
    std::vector<DisconnectRecord> disconnects_;
};

}  // namespace carousel::net
