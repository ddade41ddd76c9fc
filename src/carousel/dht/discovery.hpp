// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Discovery: the Merry-Go-Round DHT over datagrams (UDP in processes), the way nodes of a real
// network find each other. Sans-IO: it is handed datagrams, their source addresses and the time, and
// gives back datagrams to send (DiscoveryNode, below, is the proto::Endpoint around it).
// Every datagram is a signed discovery packet (discovery_packet.hpp) carrying one message of
// proto/discovery_messages.hpp, so every message names its sender's node id and nobody can speak for
// an id without its key.
//
// Contract:
//  - Bonding: a node enters the routing table only once it has answered, with a PONG signed by its
//    key and echoing our PING's packet hash, a PING we sent to the UDP address its own record names.
//    That proves the id (the key) and the address (the round trip). PING and PONG carry each side's
//    whole record; a record whose node id is not the packet's signer, or that does not verify, is
//    dropped. A newer record (higher seq) replaces the one held.
//  - A PING is answered at once, to the address it came from; if its sender is not bonded, or its
//    record is newer than the one held, it is PINGed back at its record's address.
//  - FINDNODES is answered only to a bonded requester, at the address its bond proved (not the
//    source address of the request: a captured FINDNODES replayed from elsewhere, or with a forged
//    source, still sends NODES only there) (a node whose PONG to our PING bonded it; the
//    last Options::max_bonds are remembered) (as discv4 does, so that a forged source
//    address cannot make us send NODES to a victim); from anyone else it is held (one per node,
//    at most Options::max_held_requests in all), the sender is PINGed, and the answer goes out once it
//    has bonded (or never, if it does not answer).
//  - NODES answers come in `total` packets; the request completes when all have arrived, or at its
//    timeout with the records received so far if any packet came (else it fails). Records in them
//    feed lookups only; they never enter the table (a third party's word is not a bond).
//  - Failures: a request that times out counts against its contact (`max_failures` in a row and it
//    leaves the table). Packets that do not open, messages that do not decode, answers nobody asked
//    for, and bad records are counted and dropped: over UDP there is no connection to cut.
//  - Lookups: as Dht's (dht.hpp): alpha queries in flight, `done` once with the k closest nodes that
//    answered, closest first, never the own node; start_lookup calls `done` itself when the table is
//    empty.
//  - Deterministic: no clock, socket or randomness; request ids count up from 1.
//  - Not built: rate limits per source address, and learning the own external address from PONGs
//    (the own record's address is given).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include <carousel/core/bytes.hpp>
#include <carousel/proto/endpoint.hpp>

#include "contact.hpp"
#include "enr.hpp"
#include "lookup.hpp"
#include "node_id.hpp"
#include "node_key.hpp"
#include "routing_table.hpp"

namespace carousel::dht {

using proto::Address;
using proto::Time;

struct DiscoveryOptions {
    std::size_t k{16};     // bucket size, nodes per answer and per lookup result (1..16)
    std::size_t alpha{3};  // lookup queries in flight
    // A request's timeout; a FINDNODES to a node that has not bonded with us yet takes a round trip
    // more (the node PINGs us first).
    Time request_timeout{std::chrono::seconds{2}};
    unsigned max_failures{3};
    // discv4's revalidation: every interval, PING the least recently seen contact (0: off).
    Time revalidate_interval{0};
    // FINDNODES held for requesters that have not bonded yet, at most, in all.
    std::size_t max_held_requests{64};
    // Nodes remembered as bonded (their PONG proved key and address), at most; the oldest bond is
    // forgotten first. A node in the table but forgotten here PINGs again before it is answered.
    std::size_t max_bonds{4096};
};

struct DiscoveryStats {
    uint64_t packets_received{0};
    uint64_t packets_sent{0};
    uint64_t bad_packets{0};    // did not open (hash, signature, size)
    uint64_t malformed{0};      // opened, but the message did not decode
    uint64_t bad_records{0};    // records that did not verify, or not the signer's
    uint64_t unsolicited{0};    // answers to no request of ours (late ones included)
    uint64_t requests_sent{0};  // PING and FINDNODES
    uint64_t timeouts{0};
    uint64_t bonded{0};  // PONGs that bonded (or re-bonded) a node
    uint64_t lookups_done{0};
    uint64_t lookup_queries{0};
    uint64_t revalidations{0};
    uint64_t held_requests_dropped{0};  // FINDNODES from unbonded nodes dropped at the cap
};

class Discovery {
  public:
    using SendFn = std::function<void(const Address& to, Bytes datagram)>;
    using LookupId = uint64_t;
    using LookupDone = std::function<void(std::vector<Contact> closest)>;

    // `self` must be `key`'s record. `send` must be set.
    Discovery(const KeyPair& key, NodeRecord self, DiscoveryOptions options, SendFn send);
    Discovery(const Discovery&) = delete;
    Discovery& operator=(const Discovery&) = delete;

    void on_datagram(const Address& from, ByteView datagram, Time now);
    void on_timer(Time now);
    [[nodiscard]] std::optional<Time> next_deadline() const;

    // PINGs a node whose record we were given (a bootnode, a contact from a lookup) to bond with it.
    // A record without a UDP address is ignored.
    void ping(const NodeRecord& record, Time now);

    LookupId start_lookup(const Hash& target, Time now, LookupDone done);
    bool cancel_lookup(LookupId id);
    [[nodiscard]] std::size_t active_lookups() const noexcept { return lookups_.size(); }

    // A newer own record (its seq must be higher: a new radius or address), sent from the next PING
    // or PONG on; announce() PINGs every contact in the table so they learn it now.
    void set_record(NodeRecord record);
    void announce(Time now);

    [[nodiscard]] const NodeRecord& record() const noexcept { return *self_; }
    [[nodiscard]] const NodeId& id() const noexcept { return key_.node_id; }
    [[nodiscard]] const RoutingTable& table() const noexcept { return table_; }
    [[nodiscard]] const DiscoveryStats& stats() const noexcept { return stats_; }
    [[nodiscard]] const DiscoveryOptions& options() const noexcept { return options_; }

  private:
    enum class Kind : uint8_t { kPing, kFindNodes };
    struct Request {
        Kind kind{Kind::kPing};
        NodeId node{};
        Time deadline{0};
        Hash ping_hash{};    // PING: the packet hash its PONG must echo
        Address to{};        // PING: where it went (the address a PONG to it proves)
        LookupId lookup{0};  // FINDNODES for a lookup
        uint64_t count{0};   // FINDNODES: nodes asked for
        uint64_t total{0};   // FINDNODES: NODES packets announced (0: none arrived yet)
        uint64_t packets{0};
        std::vector<Contact> found;
    };
    struct RunningLookup {
        Lookup lookup;
        LookupDone done;
    };
    struct HeldRequest {
        uint64_t request_id{0};
        Hash target{};
        uint64_t count{0};
    };
    struct Bond {
        Time at{0};
        Address address{};  // the address the bonding PING went to: where answers go
    };

    void on_ping(const NodeId& from, const Address& source, const Hash& packet_hash, ByteView frame, Time now);
    void on_pong(const NodeId& from, ByteView frame, Time now);
    void on_find_nodes(const NodeId& from, const Address& source, ByteView frame, Time now);
    void on_nodes(const NodeId& from, ByteView frame, Time now);

    // The record in a PING or PONG from `from`, verified and its signer's; nullptr (counted) if not.
    std::shared_ptr<const NodeRecord> record_from(const NodeId& from, ByteView encoded);
    // Sends `frame` in a signed packet.
    void send_packet(const Address& to, const Bytes& frame);
    // PINGs `record`'s node at its UDP address (if it has one and is not being PINGed already).
    void ping_record(const std::shared_ptr<const NodeRecord>& record, Time now);
    // PINGs `node` at `to` unless a PING to it is pending.
    void ping_at(const NodeId& node, const Address& to, Time now);
    [[nodiscard]] bool bonded(const NodeId& node) const;
    void bond(const NodeId& node, const Address& address, Time now);
    void answer_find_nodes(const NodeId& requester, const Address& to, uint64_t request_id, const Hash& target,
                           uint64_t count);
    uint64_t add_request(Request r);
    void complete_find_nodes(uint64_t request_id, Time now);
    void fail(const Request& r, std::vector<LookupId>& touched);
    void advance(LookupId id, Time now);
    [[nodiscard]] bool pinging(const NodeId& node) const;
    void revalidate(Time now);

    KeyPair key_;
    std::shared_ptr<const NodeRecord> self_;
    DiscoveryOptions options_;
    SendFn send_;
    RoutingTable table_;
    std::map<uint64_t, Request> requests_;
    std::set<std::pair<Time, uint64_t>> deadlines_;
    std::map<LookupId, RunningLookup> lookups_;
    std::map<NodeId, HeldRequest> held_;
    std::map<NodeId, Bond> bonds_;                 // node -> when and where it last bonded
    std::set<std::pair<Time, NodeId>> bond_ages_;  // the same, oldest first
    uint64_t next_request_{1};
    LookupId next_lookup_{1};
    Time next_revalidation_{0};
    DiscoveryStats stats_;
};

// A proto::Endpoint that is only a discovery node: for tests, the simulator and processes that run
// discovery alone. It speaks datagrams only: a peer that sends it a frame is dropped.
class DiscoveryNode final : public proto::Endpoint {
  public:
    DiscoveryNode(const KeyPair& key, NodeRecord self, DiscoveryOptions options = {});

    [[nodiscard]] Discovery& discovery() noexcept { return discovery_; }
    [[nodiscard]] const Discovery& discovery() const noexcept { return discovery_; }

    void on_datagram(const Address& from, ByteView datagram, Time now) override {
        discovery_.on_datagram(from, datagram, now);
    }
    void on_frame(proto::PeerId from, ByteView frame, Time now) override;
    [[nodiscard]] std::optional<Time> next_deadline() const override { return discovery_.next_deadline(); }
    void on_timer(Time now) override { discovery_.on_timer(now); }

  private:
    Discovery discovery_;
};

}  // namespace carousel::dht
