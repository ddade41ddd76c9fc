// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// libFuzzer harness: dht::open(), the discovery packet envelope, on arbitrary bytes. The first byte
// picks the mode: even, the rest is opened as it is (so mostly refused by the hash); odd, the rest's
// hash is made right first, so that the signature recovery sees the fuzzer's bytes. Checked: open()
// never crashes; what it accepts is 98..1,280 bytes, its hash is the packet's first 32 bytes, its
// frame the bytes after the signature, its sender id that of its sender key; what it refuses has a
// named error that fits (too short, too large, hash, signature).
#include <carousel/core/keccak.hpp>
#include <carousel/dht/discovery_packet.hpp>

#include "fuzz_util.hpp"

using namespace carousel;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    const bool fix_hash = (data[0] & 1) != 0;
    Bytes packet{data + 1, size - 1};
    if (fix_hash && packet.size() >= dht::kPacketHashSize) {
        keccak256(ByteView{packet}.substr(dht::kPacketHashSize), packet.data());
    }
    const auto opened = dht::open(packet);
    if (opened) {
        CHECK(packet.size() > dht::kPacketHeaderSize && packet.size() <= proto::kMaxDatagramSize);
        CHECK(view(opened->hash) == ByteView{packet}.substr(0, dht::kPacketHashSize));
        CHECK(opened->frame == ByteView{packet}.substr(dht::kPacketHeaderSize));
        CHECK(opened->frame.data() == packet.data() + dht::kPacketHeaderSize);
        CHECK(dht::node_id_of(view(opened->sender_key)) == opened->sender_id);
        return 0;
    }
    switch (opened.error()) {
        case dht::PacketError::kTooShort:
            CHECK(packet.size() <= dht::kPacketHeaderSize);
            break;
        case dht::PacketError::kTooLarge:
            CHECK(packet.size() > proto::kMaxDatagramSize);
            break;
        case dht::PacketError::kHashMismatch:
            CHECK(!fix_hash);
            break;
        case dht::PacketError::kBadSignature:
            break;
    }
    return 0;
}
