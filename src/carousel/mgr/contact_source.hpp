// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// ContactSource: what a Merry-Go-Round core's gossip routing (GossipRouter), the client's choice of a
// node (CoveringPeers) and a fill (RegionFill) need of the DHT: the routing table's contacts covering
// a key, and Kademlia lookups. MgrNode and MgrSync make one over their dht::Overlay (its Discovery's
// table and lookups); tests make one over a hand-filled dht::RoutingTable.
//
// Contract: every Contact given out carries its node's local handle in `peer` (dht::PeerHandles:
// the name the core's per-peer state and sends use) and its record when known. covering(key) is
// the table's covering(key), closest first. lookup(target, now, done) calls `done` exactly once with
// the k closest nodes that answered (from inside a later call of the core's, or from lookup itself
// when the table is empty); `done` may send, not start another lookup.

#include <functional>
#include <vector>

#include <carousel/core/bytes.hpp>
#include <carousel/dht/contact.hpp>
#include <carousel/proto/endpoint.hpp>

namespace carousel::mgr {

struct ContactSource {
    using LookupDone = std::function<void(std::vector<dht::Contact> closest)>;
    std::function<std::vector<dht::Contact>(const Hash& key)> covering;
    std::function<void(const Hash& target, proto::Time now, LookupDone done)> lookup;
};

}  // namespace carousel::mgr
