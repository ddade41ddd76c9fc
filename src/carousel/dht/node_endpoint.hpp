// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// What a Merry-Go-Round node's record says besides EIP-778's "id" and "secp256k1": where to reach it
// and what it stores. The keys are EIP-778's "ip" (4 bytes), "udp" and "tcp" (ports), and ours,
// "rad": the radius in bits (0..256; the node stores the keys `covers(id, radius, key)` accepts).
// Readers take a verified record from a peer: a missing or malformed key reads as absent, never as
// a default that could route traffic somewhere.

#include <cstdint>
#include <optional>

#include <tl/expected.hpp>

#include <carousel/proto/address.hpp>

#include "enr.hpp"
#include "node_id.hpp"

namespace carousel::dht {

struct NodeEndpoint {
    std::array<uint8_t, 4> ip{};
    uint16_t udp_port{0};  // discovery; 0: none
    uint16_t tcp_port{0};  // data; 0: none
    Radius radius{};
};

// The record of `endpoint` at `seq`, signed by `key`.
tl::expected<NodeRecord, EnrError> make_node_record(const KeyPair& key, uint64_t seq, const NodeEndpoint& endpoint);

// The record's discovery (UDP) and data (TCP) addresses, if it names an IPv4 address and that port.
std::optional<proto::Address> udp_address(const NodeRecord& record);
std::optional<proto::Address> tcp_address(const NodeRecord& record);
// The record's radius, if it carries a valid one.
std::optional<Radius> radius_of(const NodeRecord& record);

}  // namespace carousel::dht
