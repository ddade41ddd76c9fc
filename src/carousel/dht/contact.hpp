// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// A DHT node as another node knows it: its id, its record (how to reach it), and what it covers.

#include <memory>

#include <carousel/proto/endpoint.hpp>

#include "enr.hpp"
#include "node_id.hpp"

namespace carousel::dht {

struct Contact {
    NodeId id{};
    // A local name for the node that a core sets (dht::PeerHandles); 0 as Discovery gives contacts
    // out. Never a driver's PeerId: nodes are reached by their record.
    proto::PeerId peer{0};
    // The node stores the keys `covers(id, radius, key)` accepts.
    Radius radius{};
    // Its signed node record (Discovery, over datagrams): the addresses to reach it at; null where a
    // contact is made by hand (tests). Shared: tables and lookups copy contacts.
    std::shared_ptr<const NodeRecord> record{};
    friend bool operator==(const Contact&, const Contact&) = default;
};

}  // namespace carousel::dht
