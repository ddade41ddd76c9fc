// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Dht: the sans-IO DHT component. It owns the routing table, answers PING and FINDNODES, and runs
// iterative lookups with request ids and timeouts. It is meant to be embedded: a protocol core
// (mgr/) that is itself a proto::Endpoint hands it the DHT frames (`handles(type)`), connection
// events and timer calls, and forwards what it emits (frames, disconnects) through the callbacks
// given at construction. DhtNode (dht_node.hpp) is the standalone Endpoint around it.
//
// Contract:
//  - Who is in the table: a peer enters the table only with the id and radius it claims itself, in a
//    PING or PONG, and is refreshed by every well-formed DHT frame it sends. On connect the DHT PINGs
//    the peer (Options::ping_on_connect); a peer that sends FINDNODES before it is known is PINGed
//    back. Contacts learned from NODES replies only feed lookups: a third party's word never puts a
//    node in the table.
//  - Who leaves it: a peer that disconnects, or sends a malformed DHT frame, leaves at once (its
//    replacement takes the slot); a peer whose requests time out `max_failures` times in a row
//    leaves then.
//  - Misbehaviour: a frame that does not decode, a PING/PONG claiming the own id, or a NODES reply
//    longer than asked, makes the DHT ask for a disconnect with a reason ("dht: ..."), never throw.
//    Replies with unknown request ids, or from another peer than the one asked, are ignored: a reply
//    that arrives after its timeout is not an offence.
//  - Requests time out after Options::request_timeout (a failure, as above). next_deadline() is the
//    earliest pending timeout (or revalidation, Options::revalidate_interval); the embedder calls
//    on_timer(now) once `now` reaches it.
//  - Lookups: start_lookup() seeds a Lookup with the k closest contacts of the table, queries up to
//    alpha at a time, and calls `done` with the k closest nodes that answered, closest first (the
//    own node is never in it). `done` is called exactly once, from inside whichever call finished
//    the lookup (start_lookup itself if the table is empty), unless the lookup is cancelled.
//  - Frames are sent to a contact's `peer`: the driver must be able to reach it (in LocalNet, the
//    two nodes must be connected; a frame to an unconnected peer is dropped and times out).
//  - Sans-IO and deterministic: no clock, socket, thread or randomness; request and lookup ids count
//    up from 1. The same calls give the same frames, in the same order.
//  - Callbacks may not call back into the Dht (`done` may: the lookup is gone when it runs).

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <carousel/core/bytes.hpp>
#include <carousel/proto/endpoint.hpp>

#include "contact.hpp"
#include "lookup.hpp"
#include "node_id.hpp"
#include "routing_table.hpp"

namespace carousel::dht {

using proto::PeerId;
using proto::Time;

struct Options {
    std::size_t k{16};     // bucket size, nodes per reply and per lookup result (1..16)
    std::size_t alpha{3};  // lookup queries in flight
    Time request_timeout{std::chrono::seconds{2}};
    unsigned max_failures{3};    // timeouts in a row before a contact leaves the table
    bool ping_on_connect{true};  // PING every peer on connect (off: only ping() and unknown requesters)
    // Liveness checks (discv4's revalidation): every interval, PING the least recently seen contact
    // if it has not been heard from for an interval; a timeout counts as a failure. Zero: off (then
    // the DHT has no timer of its own while idle, and a dead contact that is never asked and never
    // disconnects stays in the table).
    Time revalidate_interval{0};
};

using LookupId = uint64_t;

// Counters, for tests and reports.
struct DhtStats {
    uint64_t requests_sent{0};   // PING and FINDNODES
    uint64_t timeouts{0};        // requests that timed out
    uint64_t disconnects{0};     // peers dropped for misbehaviour
    uint64_t lookups_done{0};    // lookups that finished (not cancelled)
    uint64_t lookup_queries{0};  // FINDNODES sent for lookups
    uint64_t revalidations{0};   // liveness PINGs
};

class Dht {
  public:
    using SendFn = std::function<void(PeerId to, Bytes frame)>;
    using DisconnectFn = std::function<void(PeerId peer, std::string reason)>;
    using LookupDone = std::function<void(std::vector<Contact> closest)>;

    // `self.id` and `self.radius` are what this node announces; `self.peer` is informational (a node
    // does not send its own address). `send` and `disconnect` must be set.
    Dht(Contact self, Options options, SendFn send, DisconnectFn disconnect);
    Dht(const Dht&) = delete;
    Dht& operator=(const Dht&) = delete;

    // Whether frames of this message type are the DHT's (PING, PONG, FINDNODES, NODES).
    [[nodiscard]] static bool handles(uint8_t message_type) noexcept;

    // A DHT frame from `from` (the type byte must satisfy handles(); otherwise the peer is dropped).
    void on_frame(PeerId from, ByteView frame, Time now);
    // A peer became reachable: PING it (if Options::ping_on_connect).
    void on_connect(PeerId peer, Time now);
    // A peer is gone: it leaves the table and its pending requests fail at once.
    void on_disconnect(PeerId peer, Time now);
    // Expires the requests whose deadline is at or before `now`.
    void on_timer(Time now);
    // The earliest pending request deadline, if any.
    [[nodiscard]] std::optional<Time> next_deadline() const;

    // Starts an iterative lookup of the k nodes closest to `target` (see the contract).
    LookupId start_lookup(const Hash& target, Time now, LookupDone done);
    // Stops a lookup without calling its `done`; false if it is not running.
    bool cancel_lookup(LookupId id);
    [[nodiscard]] std::size_t active_lookups() const noexcept { return lookups_.size(); }

    // Sends a PING to `peer` (to learn or refresh its id and radius).
    void ping(PeerId peer, Time now);

    // Changes the radius this node announces (from its next PING or PONG on).
    void set_radius(Radius radius) noexcept { self_.radius = radius; }
    // PINGs every peer that has told this node its id (PING or PONG) and is still connected: every
    // peer that may hold this node in its table, not only the contacts in this node's table, learns
    // what it announces now (a new radius). A peer left out would go on routing by the old radius
    // and answer lookups with it.
    void announce(Time now);

    [[nodiscard]] const Contact& self() const noexcept { return self_; }
    [[nodiscard]] const Options& options() const noexcept { return options_; }
    [[nodiscard]] const RoutingTable& table() const noexcept { return table_; }
    [[nodiscard]] const DhtStats& stats() const noexcept { return stats_; }
    // The id `peer` claimed in its last PING or PONG, if any.
    [[nodiscard]] std::optional<NodeId> id_of(PeerId peer) const;

  private:
    enum class Kind : uint8_t { kPing, kFindNodes };
    struct Request {
        Kind kind{Kind::kPing};
        PeerId peer{0};
        Time deadline{0};
        LookupId lookup{0};  // FINDNODES for a lookup
        NodeId queried{};    // FINDNODES: the id the lookup asked
        uint64_t count{0};   // FINDNODES: how many nodes were asked for
    };
    struct RunningLookup {
        Lookup lookup;
        LookupDone done;
    };

    void on_ping(PeerId from, ByteView frame, Time now);
    void on_pong(PeerId from, ByteView frame, Time now);
    void on_find_nodes(PeerId from, ByteView frame, Time now);
    void on_nodes(PeerId from, ByteView frame, Time now);

    // Records `peer`'s own claim of id and radius; false if it claimed the own id (and was dropped).
    bool learn(PeerId peer, const NodeId& id, unsigned radius_bits, Time now);
    // Refreshes the table entry of a known peer.
    void touch(PeerId peer, Time now);
    // Drops a misbehaving peer with a reason.
    void misbehaved(PeerId peer, const std::string& reason, Time now);
    // Forgets a peer: out of the table, its pending requests failed.
    void forget(PeerId peer, Time now);

    uint64_t add_request(Request r);
    std::optional<Request> take_request(uint64_t id, PeerId from, Kind kind);
    // The request failed (timeout or disconnect): count it against the contact, tell its lookup.
    void fail(const Request& r, std::vector<LookupId>& touched);
    // Sends the lookup's next queries, or finishes it.
    void advance(LookupId id, Time now);
    [[nodiscard]] bool pinging(PeerId peer) const;
    // PINGs the least recently seen contact if it is due.
    void revalidate(Time now);

    Contact self_;
    Options options_;
    SendFn send_;
    DisconnectFn disconnect_;
    RoutingTable table_;
    std::map<PeerId, NodeId> peer_ids_;
    std::map<uint64_t, Request> requests_;
    std::set<std::pair<Time, uint64_t>> deadlines_;  // (deadline, request id)
    std::map<LookupId, RunningLookup> lookups_;
    uint64_t next_request_{1};
    LookupId next_lookup_{1};
    Time next_revalidation_{0};
    DhtStats stats_;
};

}  // namespace carousel::dht
