// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Discovery messages: the Merry-Go-Round DHT as it runs over datagrams (UDP in processes), each
// message inside a signed discovery packet (dht/discovery_packet.hpp) that names its sender's node
// id. Frames are `[u8 type][RLP body]` as everywhere; a frame plus the packet's 98-byte envelope
// fits in proto::kMaxDatagramSize.
//
//   PING      0x30  rlp([request_id, record])
//   PONG      0x31  rlp([request_id, ping_hash, record])
//   FINDNODES 0x32  rlp([request_id, target, count])
//   NODES     0x33  rlp([request_id, total, [record, ...]])
//
// Decisions:
//  - PING and PONG carry the sender's whole node record (EIP-778, at most kMaxRecordSize bytes)
//    rather than its sequence number (discv4 with EIP-868 sends the number and a separate ENRREQUEST
//    fetches the record): one round trip bonds two nodes and gives each the other's current record,
//    for at most 300 bytes more per PING.
//  - A PONG echoes the hash of the PING packet it answers, as discv4's does: the PING's packet is
//    signed by the pinger, so an old PONG cannot be replayed as the answer to a new PING.
//  - FINDNODES asks for the `count` nodes closest to a 256-bit target (a content key), not for a
//    log distance as discv5's does: what a Merry-Go-Round lookup wants is the nodes covering one
//    point of the key space, and a distance bucket is far wider than that at any useful size.
//  - A NODES answer may need several packets (16 records of up to 300 bytes do not fit in one):
//    each carries the request id and `total`, the number of NODES packets of the answer
//    (1..kMaxNodesPackets); the requester collects them until it has `total` or its timeout.
//  - Records are opaque bytes here (proto does not depend on dht); the receiver decodes and verifies
//    each one and drops those that fail.

#include <cstdint>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include <carousel/core/bytes.hpp>

#include "endpoint.hpp"

namespace carousel::proto {

enum class DiscoveryMessageType : uint8_t {
    kPing = 0x30,
    kPong = 0x31,
    kFindNodes = 0x32,
    kNodes = 0x33,
};

constexpr bool is_discovery_message(uint8_t type) noexcept {
    return type >= static_cast<uint8_t>(DiscoveryMessageType::kPing) &&
           type <= static_cast<uint8_t>(DiscoveryMessageType::kNodes);
}

// EIP-778's cap on an encoded node record (dht::kMaxRecordBytes is the same number).
inline constexpr std::size_t kMaxRecordSize = 300;
// The signed packet's envelope: hash (32) + recoverable signature (65) + type byte (1).
inline constexpr std::size_t kDiscoveryEnvelope = 32 + 65;
// The most nodes one FINDNODES may ask for, and the most NODES packets one answer may take.
inline constexpr std::size_t kMaxFindNodesCount = 16;
inline constexpr std::size_t kMaxNodesPackets = 8;

struct DiscoveryPing {
    uint64_t request_id{0};
    Bytes record;
    friend bool operator==(const DiscoveryPing&, const DiscoveryPing&) = default;
};

struct DiscoveryPong {
    uint64_t request_id{0};
    Hash ping_hash{};
    Bytes record;
    friend bool operator==(const DiscoveryPong&, const DiscoveryPong&) = default;
};

struct DiscoveryFindNodes {
    uint64_t request_id{0};
    Hash target{};
    uint64_t count{0};  // 1..kMaxFindNodesCount
    friend bool operator==(const DiscoveryFindNodes&, const DiscoveryFindNodes&) = default;
};

struct DiscoveryNodes {
    uint64_t request_id{0};
    uint64_t total{1};  // 1..kMaxNodesPackets
    std::vector<Bytes> records;
    friend bool operator==(const DiscoveryNodes&, const DiscoveryNodes&) = default;
};

enum class [[nodiscard]] DiscoveryWireError{
    kEmptyFrame = 1,  // no type byte
    kWrongType,       // the type byte is not the message the decoder reads
    kMalformed,       // not the message's RLP shape (strict RLP, exact item counts)
    kBadHashLength,   // a target or ping hash that is not exactly 32 bytes
    kRecordTooLarge,  // a record over kMaxRecordSize
    kBadCount,        // a FINDNODES count of 0 or over kMaxFindNodesCount
    kBadTotal,        // a NODES total of 0 or over kMaxNodesPackets
    kTooManyRecords,  // more records in one NODES packet than kMaxFindNodesCount
};
std::string_view to_string(DiscoveryWireError e) noexcept;

template <class T>
using DiscoveryResult = tl::expected<T, DiscoveryWireError>;

// Frames (type byte included). The encoders do not check the caps.
Bytes encode(const DiscoveryPing& m);
Bytes encode(const DiscoveryPong& m);
Bytes encode(const DiscoveryFindNodes& m);
Bytes encode(const DiscoveryNodes& m);

// Decoders take the whole frame and check its type byte.
DiscoveryResult<DiscoveryPing> decode_discovery_ping(ByteView frame);
DiscoveryResult<DiscoveryPong> decode_discovery_pong(ByteView frame);
DiscoveryResult<DiscoveryFindNodes> decode_discovery_find_nodes(ByteView frame);
DiscoveryResult<DiscoveryNodes> decode_discovery_nodes(ByteView frame);

// How many records of the given encoded sizes fit, in order, into one NODES frame that stays within
// a datagram with its envelope; the caller splits an answer with it.
std::size_t records_that_fit(const std::vector<Bytes>& records, std::size_t first);

}  // namespace carousel::proto
