// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "node_key.hpp"

#include <gtest/gtest.h>

#include <carousel/core/hex.hpp>
#include <carousel/core/keccak.hpp>

namespace carousel::dht {
namespace {

// EIP-778's example key and the node id the EIP gives for it.
constexpr std::string_view kSecret = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291";
constexpr std::string_view kNodeId = "a448f24c6d18e575453db13171562b71999873db5b286df957af199ec94617f7";

KeyPair example_key() { return KeyPair::from_secret(*from_hex(kSecret)).value(); }

TEST(NodeKey, TheExampleKeyGivesTheEipsNodeId) {
    const KeyPair key = example_key();
    EXPECT_EQ(to_hex(key.node_id), kNodeId);
    EXPECT_EQ(node_id_of(view(key.public_key)), key.node_id);
}

TEST(NodeKey, SecretsOutOfRangeAreRefused) {
    EXPECT_EQ(KeyPair::from_secret(Bytes(32, 0)).error(), KeyError::kBadSecretKey);
    EXPECT_EQ(KeyPair::from_secret(Bytes(31, 1)).error(), KeyError::kBadSecretKey);
    // The curve order n itself is not a secret key.
    const auto n = from_hex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
    EXPECT_EQ(KeyPair::from_secret(*n).error(), KeyError::kBadSecretKey);
    EXPECT_FALSE(node_id_of(Bytes(33, 0)));
    EXPECT_FALSE(node_id_of(Bytes(32, 2)));
}

TEST(NodeKey, SignaturesVerifyOnlyForTheirKeyAndDigest) {
    const KeyPair key = example_key();
    const KeyPair other = KeyPair::from_secret(Bytes(32, 0x11)).value();
    const Hash digest = keccak256(Bytes{1, 2, 3});
    const Signature sig = sign(key, digest);
    EXPECT_TRUE(verify(view(key.public_key), digest, view(sig)));
    EXPECT_FALSE(verify(view(other.public_key), digest, view(sig)));
    EXPECT_FALSE(verify(view(key.public_key), keccak256(Bytes{1, 2, 4}), view(sig)));
    EXPECT_FALSE(verify(view(key.public_key), digest, ByteView{sig.data(), 63}));
    for (std::size_t i = 0; i < sig.size(); ++i) {
        Signature bad = sig;
        bad[i] ^= 0x01;
        EXPECT_FALSE(verify(view(key.public_key), digest, view(bad))) << "byte " << i;
    }
}

TEST(NodeKey, RecoverGivesTheSignersKeyAndRefusesTheMalleatedForm) {
    const KeyPair key = example_key();
    const Hash digest = keccak256(Bytes{9, 9});
    const RecoverableSignature sig = sign_recoverable(key, digest);
    EXPECT_EQ(recover(digest, view(sig)), key.public_key);
    EXPECT_NE(recover(keccak256(Bytes{9, 8}), view(sig)), key.public_key);
    EXPECT_FALSE(recover(digest, ByteView{sig.data(), 64}));
    RecoverableSignature bad_v = sig;
    bad_v[64] = 4;
    EXPECT_FALSE(recover(digest, view(bad_v)));
    // s -> n - s (and the recovery id's parity flipped) recovers the same key on a lax
    // verifier; we refuse it.
    const Bytes n = *from_hex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
    RecoverableSignature high = sig;
    int borrow = 0;
    for (int i = 31; i >= 0; --i) {
        const int d = int{n[static_cast<std::size_t>(i)]} - int{sig[32 + static_cast<std::size_t>(i)]} - borrow;
        high[32 + static_cast<std::size_t>(i)] = static_cast<uint8_t>(d & 0xff);
        borrow = d < 0 ? 1 : 0;
    }
    high[64] = sig[64] ^ 1;
    EXPECT_FALSE(recover(digest, view(high)));
}

}  // namespace
}  // namespace carousel::dht
