// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// GossipRouter: where a Merry-Go-Round node sends the gossip it holds (Portal's OFFER/ACCEPT, per
// block; docs/MGR.md, "Gossip, per block"), sans-IO. MgrNode owns one; it verifies and keeps what
// comes in, the router decides who is offered what and answers the offer protocol.
//
//  - Held content: a region item (by its region and block) or a code blob (its position is its hash),
//    each under its content id (keccak256 of the payload). Items of blocks more than kHeldBlocks behind
//    the newest seen are forgotten.
//  - offer(): a held item goes to every contact whose block covers its position, at most once per
//    peer: those in the routing table and those a DHT lookup of the region's first key found (inside
//    the node's own block too: over Discovery the table holds only the nodes it bonded with, not
//    necessarily every other copy of a region) (one lookup per region, redone after `placement_refresh`;
//    items held while it runs are offered when it ends). A routing table holds at most k contacts per
//    bucket, so without the lookup a region far from the publisher would be offered to nobody.
//    Nothing is offered at a position the node is filling. With a `fanout` (a gossip origin: the
//    bridge) an item goes to at most that many covering contacts, those already connected first
//    (connections are bounded: an origin that offered every block to every covering node would
//    churn through them); the nodes it reaches offer it on to the rest of their region. A send
//    the Overlay refuses (no slot, back-off) does not count: the item goes to the next contact and
//    may be offered to the refused one later.
//  - A block's signed header (held with hold_header) travels with the block's items: the first offer
//    of an item of block N to a peer lists N's header first when it is held and that peer was not
//    offered it yet, so a node that is offered an item can take the header that proves it (Content
//    is sent in the order of the offer's ids, so the header comes first). Headers are never offered
//    alone: a node that gets no items asks for headers (GetHeaders) instead.
//  - Contacts come from a ContactSource (contact_source.hpp) and are named by their handle
//    (`peer`); frames go to handles through SendFn, which says whether the frame went or was queued.
//  - Offer in: accept the ids not seen. Accept in: send the Content of each accepted id still held;
//    an index past the offer disconnects the peer; an unknown or late Accept is ignored.

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <carousel/core/bytes.hpp>
#include <carousel/proto/endpoint.hpp>
#include <carousel/proto/mgr_messages.hpp>

#include "contact_source.hpp"
#include "placement.hpp"

namespace carousel::mgr {

struct GossipStats {
    uint64_t offers_sent{0};
    uint64_t content_sent{0};        // Content frames
    uint64_t content_bytes_sent{0};  // their bytes
    uint64_t placement_lookups{0};   // lookups of who covers a region
};

class GossipRouter {
  public:
    // Sends a frame to a handle; false if the Overlay refused it (nothing went, nothing is queued).
    using SendFn = std::function<bool(proto::PeerId to, Bytes frame)>;
    // Whether the node a handle names is connected now (may be empty: none is).
    using ConnectedFn = std::function<bool(proto::PeerId peer)>;
    using DisconnectFn = std::function<void(proto::PeerId peer, std::string reason)>;
    // Whether the node is filling the region holding `position` (it then offers nothing there).
    using FillingFn = std::function<bool(const Hash& position)>;

    // Items of blocks this far behind the newest seen are forgotten (their ids too).
    static constexpr uint64_t kHeldBlocks = 8;

    // `self` is the node's id.
    // `fanout` 0: every covering contact.
    GossipRouter(ContactSource contacts, const dht::NodeId& self, unsigned region_bits, proto::Time placement_refresh,
                 SendFn send, DisconnectFn disconnect, FillingFn filling, std::size_t fanout = 0,
                 ConnectedFn connected = {});

    // Content ids received or rejected are not accepted again; unsee() lets one be offered again.
    bool seen(const Hash& id) const { return seen_.contains(id); }
    void mark_seen(const Hash& id) { seen_.insert(id); }
    void unsee(const Hash& id) { seen_.erase(id); }

    // Holds content to offer on: a region item of block `number`, or a code blob (region: {hash, 0}).
    void hold(const Hash& id, const Region& region, uint64_t number, proto::ContentKind kind, Bytes payload);
    // Holds the signed header of block `number` (content id `id`, kind kHeader), offered with that
    // block's items from now on (not to `from`, which sent it; 0: none). Forgotten with them
    // (forget_old).
    void hold_header(const Hash& id, uint64_t number, Bytes payload, proto::PeerId from = 0);
    void drop(const Hash& id) { held_.erase(id); }
    // Drops what lies outside `block` (the node shrank).
    void keep_only(const Region& block);
    // The newest block of any held item (0 if none).
    uint64_t newest_number() const noexcept;
    // Forgets items of blocks more than kHeldBlocks behind `head`.
    void forget_old(uint64_t head);

    // Offers held item `id` (at `position`) to every covering contact but `except` not offered it yet.
    // Returns how many contacts cover it (offered now or before).
    std::size_t offer(const Hash& id, const Hash& position, proto::PeerId except, proto::Time now);
    // The contacts covering `position`: the table's and those the region's placement lookup found
    // (started here when none is running or recent). A fill asks these too.
    std::vector<dht::Contact> covering(const Hash& position, proto::Time now);
    // Whether a lookup of who covers the region starting at `region_first` is running.
    bool looking_up(const Hash& region_first) const;

    void on_offer(proto::PeerId from, ByteView frame);
    void on_accept(proto::PeerId from, ByteView frame);
    void on_disconnect(proto::PeerId peer);

    const GossipStats& stats() const noexcept { return stats_; }

  private:
    struct Held {
        Region region;
        uint64_t number{0};
        proto::ContentKind kind{proto::ContentKind::kRegionItem};
        Bytes payload;
        std::set<proto::PeerId> offered{};  // peers it was offered to (or came from)
    };
    // Who covers one region, as a lookup of its first key found them.
    struct Placement {
        std::vector<dht::Contact> found;
        std::optional<proto::Time> asked_at;
        bool looking{false};
    };

    // The position a held item is offered at: a region item's region, a code blob's hash.
    static Hash position_of(const Hash& id, const Held& held);
    // Starts a lookup of who covers `region_first` unless one runs or a recent answer is known; when
    // it ends, the held items of that region are offered to what it found.
    void look_up_placement(const Hash& region_first, proto::Time now);

    ContactSource contacts_;
    dht::NodeId self_;
    unsigned region_bits_;
    proto::Time placement_refresh_;
    SendFn send_;
    DisconnectFn disconnect_;
    FillingFn filling_;
    std::size_t fanout_;
    ConnectedFn connected_;
    std::map<Hash, Held> held_;            // by content id
    std::map<uint64_t, Hash> headers_;     // held headers' ids, by block number
    std::map<Hash, Placement> placement_;  // by region first key
    std::set<Hash> seen_;
    std::map<std::pair<proto::PeerId, uint64_t>, std::vector<Hash>> offers_;  // offers awaiting Accept
    uint64_t next_request_id_{1};
    GossipStats stats_;
};

}  // namespace carousel::mgr
