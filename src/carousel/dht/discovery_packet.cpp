// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "discovery_packet.hpp"

#include <carousel/core/keccak.hpp>

namespace carousel::dht {

std::string_view to_string(PacketError e) noexcept {
    switch (e) {
        case PacketError::kTooShort:
            return "packet too short";
        case PacketError::kTooLarge:
            return "packet too large";
        case PacketError::kHashMismatch:
            return "packet hash mismatch";
        case PacketError::kBadSignature:
            return "no key recovers from the packet's signature";
    }
    return "unknown packet error";
}

tl::expected<Bytes, PacketError> seal(const KeyPair& key, ByteView frame) {
    if (frame.empty()) return tl::unexpected{PacketError::kTooShort};
    if (frame.size() > kMaxDiscoveryFrameSize) return tl::unexpected{PacketError::kTooLarge};
    const RecoverableSignature signature = sign_recoverable(key, keccak256(frame));
    // The hash goes in front once the rest is there: room for it first, so nothing moves.
    Bytes packet(kPacketHashSize, 0);
    packet.reserve(kPacketHeaderSize + frame.size());
    packet += view(signature);
    packet += frame;
    keccak256(ByteView{packet}.substr(kPacketHashSize), packet.data());
    return packet;
}

tl::expected<OpenedPacket, PacketError> open(ByteView packet) {
    if (packet.size() <= kPacketHeaderSize) return tl::unexpected{PacketError::kTooShort};
    if (packet.size() > proto::kMaxDatagramSize) return tl::unexpected{PacketError::kTooLarge};
    // The hash first: it is cheap and catches damage before a public key is recovered.
    const Hash hash = to_hash(packet.substr(0, kPacketHashSize));
    if (keccak256(packet.substr(kPacketHashSize)) != hash) return tl::unexpected{PacketError::kHashMismatch};
    const ByteView frame = packet.substr(kPacketHeaderSize);
    const auto key = recover(keccak256(frame), packet.substr(kPacketHashSize, kPacketSignatureSize));
    if (!key) return tl::unexpected{PacketError::kBadSignature};
    const auto id = node_id_of(view(*key));
    // recover() gives a valid point, so it has an id.
    if (!id) return tl::unexpected{PacketError::kBadSignature};
    return OpenedPacket{.sender_id = *id, .sender_key = *key, .hash = hash, .frame = frame};
}

}  // namespace carousel::dht
