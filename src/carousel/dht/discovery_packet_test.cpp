// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "discovery_packet.hpp"

#include <string_view>

#include <gtest/gtest.h>

#include <carousel/core/hex.hpp>
#include <carousel/core/keccak.hpp>

namespace carousel::dht {
namespace {

// The key go-ethereum's discv4 test packets are signed with (the same as EIP-778's example), and its
// node id.
constexpr std::string_view kGethSecret = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291";
constexpr std::string_view kGethNodeId = "a448f24c6d18e575453db13171562b71999873db5b286df957af199ec94617f7";

// go-ethereum p2p/discover/v4wire/v4wire_test.go, `testPackets` (EIP-8's discv4 vectors): a PING, a
// PING with extra fields, a FINDNODE and a NEIGHBORS. Only the envelope is checked here.
constexpr std::string_view kGethPackets[] = {
    "71dbda3a79554728d4f94411e42ee1f8b0d561c10e1e5f5893367948c6a7d70bb87b235fa28a77070271b6c164a2dce8c7e13a5739b53b5e9"
    "6f2e5acb0e458a02902f5965d55ecbeb2ebb6cabb8b2b232896a36b737666c55265ad0a68412f250001ea04cb847f000001820cfa8215a8d7"
    "90000000000000000000000000000000018208ae820d058443b9a355",
    "e9614ccfd9fc3e74360018522d30e1419a143407ffcce748de3e22116b7e8dc92ff74788c0b6663aaa3d67d641936511c8f8d6ad8698b820a"
    "7cf9e1be7155e9a241f556658c55428ec0563514365799a4be2be5a685a80971ddcfa80cb422cdd0101ec04cb847f000001820cfa8215a8d7"
    "90000000000000000000000000000000018208ae820d058443b9a3550102",
    "c7c44041b9f7c7e41934417ebac9a8e1a4c6298f74553f2fcfdcae6ed6fe53163eb3d2b52e39fe91831b8a927bf4fc222c3902202027e5e9e"
    "b812195f95d20061ef5cd31d502e47ecb61183f74a504fe04c51e73df81f25c4d506b26db4517490103f84eb840ca634cae0d49acb401d8a4"
    "c6b6fe8c55b70d115bf400769cc1400f3258cd31387574077f301b421bc84df7266c44e9e6d569fc56be00812904767bf5ccd1fc7f8443b9"
    "a35582999983999999280dc62cc8255c73471e0a61da0c89acdc0e035e260add7fc0c04ad9ebf3919644c91cb247affc82b69bd2ca235c71e"
    "ab8e49737c937a2c396",
    "c679fc8fe0b8b12f06577f2e802d34f6fa257e6137a995f6f4cbfc9ee50ed3710faf6e66f932c4c8d81d64343f429651328758b47d3dbc02c"
    "4042f0fff6946a50f4a49037a72bb550f3a7872363a83e1b9ee6469856c24eb4ef80b7535bcf99c0004f9015bf90150f84d84632116378211"
    "5c82115db8403155e1427f85f10a5c9a7755877748041af1bcd8d474ec065eb33df57a97babf54bfd2103575fa829115d224c523596b40106"
    "5a97f74010610fce76382c0bf32f84984010203040101b840312c55512422cf9b8a4097e9a6ad79402e87a15ae909a4bfefa22398f03d2095"
    "1933beea1e4dfa6f968212385e829f04c2d314fc2d4e255e0d3bc08792b069dbf8599020010db83c4d001500000000abcdef12820d05820d0"
    "5b84038643200b172dcfef857492156971f0e6aa2c538d8b74010f8e140811d53b98c765dd2d96126051913f44582e8c199ad7c6d6819e9a5"
    "6483f637feaac9448aacf8599020010db885a308d313198a2e037073488203e78203e8b8408dcab8618c3253b558d459da53bd8fa68935a7"
    "19aff8b811197101a4b2b47dd2d47295286fc00cc081bb542d760717d1bdd6bec2c37cd72eca367d6dd3b9df738443b9a355010203b525a1"
    "38aa34383fec3d2719a0",
};

KeyPair key_of(uint8_t fill) { return *KeyPair::from_secret(Bytes(32, fill)); }

// A frame of `size` bytes: a type byte and arbitrary body bytes (the envelope does not read them).
Bytes frame_of(std::size_t size) {
    Bytes f(size, 0);
    for (std::size_t i = 0; i < size; ++i) f[i] = static_cast<uint8_t>(i * 31 + 7);
    return f;
}

TEST(DiscoveryPacket, RoundTrip) {
    const KeyPair key = key_of(0x11);
    const Bytes frame = frame_of(40);
    const auto packet = seal(key, frame);
    ASSERT_TRUE(packet);
    EXPECT_EQ(packet->size(), kPacketHeaderSize + frame.size());
    const auto opened = open(*packet);
    ASSERT_TRUE(opened) << to_string(opened.error());
    EXPECT_EQ(opened->sender_id, key.node_id);
    EXPECT_EQ(opened->sender_key, key.public_key);
    EXPECT_EQ(opened->frame, ByteView{frame});
    EXPECT_EQ(opened->hash, to_hash(ByteView{*packet}.substr(0, 32)));
    // The layout: hash = keccak256(signature || frame), signature over keccak256(frame).
    EXPECT_EQ(opened->hash, keccak256(ByteView{*packet}.substr(32)));
    EXPECT_EQ(ByteView{*packet}.substr(32, 65), view(sign_recoverable(key, keccak256(frame))));
    // Deterministic: the same key and frame give the same packet.
    EXPECT_EQ(*seal(key, frame), *packet);
    // The smallest frame, a bare type byte.
    const auto smallest = seal(key, Bytes{0x01});
    ASSERT_TRUE(smallest);
    EXPECT_EQ(open(*smallest)->frame, (Bytes{0x01}));
}

TEST(DiscoveryPacket, EverySingleByteChangeIsRefused) {
    const KeyPair key = key_of(0x22);
    const Bytes packet = *seal(key, frame_of(60));
    for (std::size_t i = 0; i < packet.size(); ++i) {
        for (const uint8_t flip : {0x01, 0x80}) {
            Bytes bad = packet;
            bad[i] ^= flip;
            const auto opened = open(bad);
            ASSERT_FALSE(opened) << "byte " << i;
            EXPECT_EQ(opened.error(), PacketError::kHashMismatch) << "byte " << i;
        }
    }
}

// Whoever changes a byte after the hash and re-hashes the packet gets past the hash, never past the
// signature: no key recovers, or another key does (another sender), never the original one.
TEST(DiscoveryPacket, ARehashedChangeNeverOpensAsTheSigner) {
    const KeyPair key = key_of(0x23);
    const Bytes packet = *seal(key, frame_of(60));
    for (std::size_t i = kPacketHashSize; i < packet.size(); ++i) {
        Bytes bad = packet;
        bad[i] ^= 0x01;
        keccak256(ByteView{bad}.substr(kPacketHashSize), bad.data());
        const auto opened = open(bad);
        if (opened) {
            EXPECT_NE(opened->sender_id, key.node_id) << "byte " << i;
        } else {
            EXPECT_EQ(opened.error(), PacketError::kBadSignature) << "byte " << i;
        }
    }
    // A recovery id over 3 is refused outright.
    Bytes bad_v = packet;
    bad_v[kPacketHeaderSize - 1] = 4;
    keccak256(ByteView{bad_v}.substr(kPacketHashSize), bad_v.data());
    EXPECT_EQ(open(bad_v).error(), PacketError::kBadSignature);
}

TEST(DiscoveryPacket, SizeBounds) {
    const KeyPair key = key_of(0x33);
    EXPECT_EQ(kMaxDiscoveryFrameSize, 1183u);
    const auto largest = seal(key, frame_of(kMaxDiscoveryFrameSize));
    ASSERT_TRUE(largest);
    EXPECT_EQ(largest->size(), proto::kMaxDatagramSize);
    EXPECT_TRUE(open(*largest));
    EXPECT_EQ(seal(key, frame_of(kMaxDiscoveryFrameSize + 1)).error(), PacketError::kTooLarge);
    EXPECT_EQ(seal(key, Bytes{}).error(), PacketError::kTooShort);

    // Received: too short (down to nothing), too large (even with a valid hash and signature).
    EXPECT_EQ(open(Bytes{}).error(), PacketError::kTooShort);
    EXPECT_EQ(open(Bytes(kPacketHeaderSize, 0)).error(), PacketError::kTooShort);
    EXPECT_EQ(open(ByteView{*largest}.substr(0, kPacketHeaderSize)).error(), PacketError::kTooShort);
    Bytes over = *largest;
    over.push_back(0);
    keccak256(ByteView{over}.substr(kPacketHashSize), over.data());
    EXPECT_EQ(open(over).error(), PacketError::kTooLarge);
}

TEST(DiscoveryPacket, TheSignerIsWhoeverSigned) {
    const KeyPair alice = key_of(0x44);
    const KeyPair bob = key_of(0x55);
    const Bytes frame = frame_of(100);
    const Bytes sealed = *seal(alice, frame);
    const auto from_alice = open(sealed);
    ASSERT_TRUE(from_alice);
    EXPECT_EQ(from_alice->sender_id, alice.node_id);
    // Bob re-signs Alice's frame: the packet opens, as Bob's.
    const Bytes resigned = *seal(bob, from_alice->frame);
    const auto from_bob = open(resigned);
    ASSERT_TRUE(from_bob);
    EXPECT_EQ(from_bob->sender_id, bob.node_id);
    EXPECT_NE(from_bob->sender_id, alice.node_id);
    EXPECT_NE(from_bob->hash, from_alice->hash);
}

// Our envelope opens go-ethereum's packets: the same hash, the signer's node id.
TEST(DiscoveryPacket, OpensGethDiscv4Packets) {
    const KeyPair key = *KeyPair::from_secret(*from_hex(kGethSecret));
    ASSERT_EQ(to_hex(key.node_id), kGethNodeId);
    for (const std::string_view text : kGethPackets) {
        const Bytes packet = *from_hex(text);
        const auto opened = open(packet);
        ASSERT_TRUE(opened) << to_string(opened.error()) << " for " << text.substr(0, 16);
        EXPECT_EQ(to_hex(opened->sender_id), kGethNodeId);
        EXPECT_EQ(opened->sender_key, key.public_key);
        EXPECT_EQ(view(opened->hash), ByteView{packet}.substr(0, 32));
        EXPECT_EQ(opened->frame, ByteView{packet}.substr(kPacketHeaderSize));
        // Not compared: our packet re-sealing the frame. These EIP-8 vectors were not signed with
        // RFC 6979 nonces, so their signatures (and hashes) differ from ours.
    }
}

}  // namespace
}  // namespace carousel::dht
