// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// PeerHandles: stable local names (proto::PeerId values) for the node ids a core deals with over a
// dht::Overlay, and the newest record known of each. The Overlay names nodes by NodeId; the parts
// of a core that keep per-peer state in small keys (dht::PeerPool's windows and standing,
// RegionFill's requests, GossipRouter's offers, strikes) keep it under the node's handle, so that
// state is per node id, across its connections. A handle is not a driver's PeerId and never reaches
// a driver.
//
// Contract:
//  - handle(id) gives the id's handle, assigning the next one (from 1 up, never reused) the first
//    time; node(handle) and record(handle) look back. A Contact's record, when given, is kept if it
//    is newer (higher seq) than the one held.
//  - Bounded: at most `capacity` ids are named; naming one more forgets the id named longest ago
//    (least recently handled). A forgotten node that comes back gets a new handle, so the state a core
//    kept under the old one (its standing) no longer applies: the bound is far above what a core
//    talks to (its connections are bounded by max_peers, its contacts by its routing table), so only
//    an id flood forgets anything.
//  - Deterministic: ordered containers only.

#include <cstddef>
#include <map>
#include <memory>
#include <optional>

#include <carousel/proto/endpoint.hpp>

#include "contact.hpp"
#include "enr.hpp"
#include "node_id.hpp"

namespace carousel::dht {

class PeerHandles {
  public:
    explicit PeerHandles(std::size_t capacity = 4096) : capacity_{capacity < 1 ? 1 : capacity} {}

    // The handle of `id` (see the contract).
    proto::PeerId handle(const NodeId& id);
    // The handle of `c`'s node, keeping its record if newer; `c` with its `peer` set to the handle.
    Contact named(Contact c);
    // The node and the newest record known of a handle (nullopt / null if unknown or forgotten).
    [[nodiscard]] std::optional<NodeId> node(proto::PeerId handle) const;
    [[nodiscard]] std::shared_ptr<const NodeRecord> record(proto::PeerId handle) const;
    [[nodiscard]] std::size_t size() const noexcept { return ids_.size(); }

  private:
    struct Entry {
        NodeId id{};
        std::shared_ptr<const NodeRecord> record;
        uint64_t used{0};  // the use counter when last handled
    };
    // Forgets the least recently handled id.
    void forget_oldest();

    std::size_t capacity_;
    std::map<NodeId, proto::PeerId> ids_;
    std::map<proto::PeerId, Entry> entries_;
    std::map<uint64_t, proto::PeerId> by_use_;  // use counter -> handle, least recent first
    proto::PeerId next_{1};
    uint64_t uses_{0};
};

}  // namespace carousel::dht
