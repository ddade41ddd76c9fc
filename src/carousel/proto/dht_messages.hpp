// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// The wire messages of the DHT (Kademlia over XOR distance, dht/) and their codecs.
//
// A frame is `[u8 type][RLP body]`, as every carousel message (messages.hpp). Decoders take peer
// bytes: strict RLP (non-canonical input is an error), exact item counts, every count and number
// checked against its cap, and a named error for what is wrong.
//
//   PING      0x01  [reqId, senderId, radiusBits]
//   PONG      0x02  [reqId, senderId, radiusBits]
//   FINDNODES 0x03  [reqId, target, count]
//   NODES     0x04  [reqId, [[id, address, radiusBits]...]]
//
// Ids and targets are 32-byte strings (big-endian 256-bit numbers); reqId, count, address and
// radiusBits are RLP integers. A radius of `radiusBits` means 2^radiusBits - 1: the node covers the
// aligned block of keys sharing its first 256 - radiusBits bits (dht/node_id.hpp).
//
// Decisions:
//  - FINDNODES asks for the `count` nodes closest to a 256-bit target, not for whole buckets by log
//    distance (discv5's FINDNODE). Lookups here are for content keys (the walk's missing key L, a
//    region of the key space), not node ids: a target-based query returns the nodes closest to the
//    key in one reply, where a distance-based one returns the responder's bucket around *its own* id,
//    which may hold none of the nodes closest to the key. discv5 asks by distance so that a requester
//    can check every returned node lies at that distance; that check matters for signed node records
//    and adds nothing while addresses are unsigned, as here.
//  - `address` is the driver's proto::PeerId of the node (LocalNet names each node by it). It is a
//    placeholder for a real transport address: over TCP a PeerId names a connection and means
//    nothing to another node.
//  - PING carries the sender's id and radius, so one PING/PONG exchange teaches both sides each
//    other's id and radius. FINDNODES does not: a node answers it from any peer.
//  - `count` is 1..kMaxNodesPerReply; a NODES reply holds at most kMaxNodesPerReply records.

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include <carousel/core/bytes.hpp>

#include "endpoint.hpp"

namespace carousel::proto {

enum class DhtMessageType : uint8_t {
    kPing = 0x01,
    kPong = 0x02,
    kFindNodes = 0x03,
    kNodes = 0x04,
};

// Whether a frame type byte is a DHT message (0x01..0x04).
constexpr bool is_dht_message(uint8_t type) noexcept {
    return type >= static_cast<uint8_t>(DhtMessageType::kPing) && type <= static_cast<uint8_t>(DhtMessageType::kNodes);
}

// Hard caps: k, the Kademlia bucket size, is the most nodes a reply may carry; a radius has at most
// 256 bits.
inline constexpr std::size_t kMaxNodesPerReply = 16;
inline constexpr unsigned kMaxRadiusBits = 256;

// PING and PONG: the sender's own id and radius. A PONG echoes the PING's request id.
struct Ping {
    uint64_t request_id{0};
    Hash sender{};
    unsigned radius_bits{0};
    friend bool operator==(const Ping&, const Ping&) = default;
};

struct Pong {
    uint64_t request_id{0};
    Hash sender{};
    unsigned radius_bits{0};
    friend bool operator==(const Pong&, const Pong&) = default;
};

// Asks for the `count` nodes the responder knows that are closest to `target` under XOR distance.
struct FindNodes {
    uint64_t request_id{0};
    Hash target{};
    uint64_t count{0};  // 1..kMaxNodesPerReply
    friend bool operator==(const FindNodes&, const FindNodes&) = default;
};

// One node as a NODES reply names it.
struct NodeRecord {
    Hash id{};
    PeerId address{0};
    unsigned radius_bits{0};
    friend bool operator==(const NodeRecord&, const NodeRecord&) = default;
};

// The answer to FINDNODES: at most kMaxNodesPerReply records, closest first (the decoder does not
// check the order; the requester sorts).
struct Nodes {
    uint64_t request_id{0};
    std::vector<NodeRecord> nodes;
    friend bool operator==(const Nodes&, const Nodes&) = default;
};

enum class [[nodiscard]] DhtWireError{
    kEmptyFrame = 1,  // no type byte
    kWrongType,       // the type byte is not the message the decoder reads
    kMalformed,       // not the message's RLP shape (strict RLP, exact item counts)
    kBadIdLength,     // an id or target that is not exactly 32 bytes
    kBadRadius,       // a radius over kMaxRadiusBits
    kBadCount,        // a FINDNODES count of 0 or over kMaxNodesPerReply
    kTooManyNodes,    // a NODES reply with more than kMaxNodesPerReply records
};
std::string_view to_string(DhtWireError e) noexcept;

template <class T>
using DhtResult = tl::expected<T, DhtWireError>;

// Frames (type byte included). The encoders do not check the caps: encoding a message the decoder
// would reject (radius_bits > 256, too many records) gives a frame peers reject.
Bytes encode(const Ping& m);
Bytes encode(const Pong& m);
Bytes encode(const FindNodes& m);
Bytes encode(const Nodes& m);

// Decoders take the whole frame (type byte included) and check it is the expected type.
DhtResult<Ping> decode_ping(ByteView frame);
DhtResult<Pong> decode_pong(ByteView frame);
DhtResult<FindNodes> decode_find_nodes(ByteView frame);
DhtResult<Nodes> decode_nodes(ByteView frame);

}  // namespace carousel::proto
