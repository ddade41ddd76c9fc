// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// The signed envelope every Merry-Go-Round discovery datagram travels in, with discv4's layout
// (go-ethereum p2p/discover/v4wire):
//
//     packet    = hash (32) || signature (65) || frame
//     frame     = type (1) || RLP body
//     signature = sign_recoverable(key, keccak256(frame))      r || s || v, low S (node_key.hpp)
//     hash      = keccak256(signature || frame)
//
// What open() proves: the frame was signed by the holder of the secret key whose public key it
// returns, hence by the node of the node id it returns. Recovery cannot tell a forged packet from a
// genuine one of another node: a frame changed and re-hashed by anyone opens as from whatever key
// recovers from the old signature (or from none). The receiver learns who sent a packet from
// open(), and checks that it is the node it expects (a reply from the node asked) when that
// matters. The hash only names the packet (a reply echoes it, as discv4's PONG echoes its PING's
// hash) and catches damage cheaply; it proves nothing by itself.
//
// What it does not prove:
//  - freshness: a packet replays as often as anyone likes. Messages carry an expiration (as discv4's
//    do) or answer a request id the receiver chose.
//  - the source address: UDP's source address is forged freely; a round trip (PING answered by a
//    PONG that echoes it, at the address) proves a node is reachable there.
//  - the body: open() does not decode it (the message codecs do).
//
// Bounds: a packet is at most proto::kMaxDatagramSize bytes, so a frame at most
// kMaxDiscoveryFrameSize; a frame is at least its type byte. open() takes peer bytes: it checks
// them in the order of the errors below, reads nothing past them and never throws.

#include <array>
#include <cstddef>
#include <string_view>

#include <tl/expected.hpp>

#include <carousel/core/bytes.hpp>
#include <carousel/proto/endpoint.hpp>

#include "node_key.hpp"

namespace carousel::dht {

inline constexpr std::size_t kPacketHashSize = 32;
inline constexpr std::size_t kPacketSignatureSize = std::tuple_size_v<RecoverableSignature>;
inline constexpr std::size_t kPacketHeaderSize = kPacketHashSize + kPacketSignatureSize;
// The largest frame (type and body) one packet carries: 1,183 bytes.
inline constexpr std::size_t kMaxDiscoveryFrameSize = proto::kMaxDatagramSize - kPacketHeaderSize;

enum class [[nodiscard]] PacketError{
    kTooShort = 1,  // no room for the hash, the signature and a type byte (seal: an empty frame)
    kTooLarge,      // over proto::kMaxDatagramSize (seal: a frame over kMaxDiscoveryFrameSize)
    kHashMismatch,  // the hash is not keccak256 of the rest
    kBadSignature,  // no public key recovers from the signature (malformed, high S, v over 3)
};
std::string_view to_string(PacketError e) noexcept;

// An opened packet. `frame` views the bytes given to open(): it lives as long as they do.
struct OpenedPacket {
    Hash sender_id{};        // node id of the key that signed
    PublicKey sender_key{};  // that key, compressed
    Hash hash{};             // the packet's hash, for a reply to echo
    ByteView frame;          // type || RLP body
};

// The packet carrying `frame` (type || body), signed by `key`. Deterministic (RFC 6979).
tl::expected<Bytes, PacketError> seal(const KeyPair& key, ByteView frame);

// Checks a received packet's size, hash and signature and says who signed it.
tl::expected<OpenedPacket, PacketError> open(ByteView packet);

}  // namespace carousel::dht
