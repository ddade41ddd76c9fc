// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "signed_header.hpp"

#include <gtest/gtest.h>

#include <carousel/core/hex.hpp>
#include <carousel/core/keccak.hpp>

namespace carousel::mgr {
namespace {

dht::KeyPair bridge() { return dht::KeyPair::from_secret(Bytes(32, 0x07)).value(); }

TEST(SignedHeader, VerifiesOnlyForTheBridgeKeyAndTheSignedContent) {
    const Header h{1234, keccak256(Bytes{1})};
    const SignedHeader s = sign_header(bridge(), h);
    EXPECT_TRUE(verify_header(s, bridge().public_key));
    const auto other = dht::KeyPair::from_secret(Bytes(32, 0x08)).value();
    EXPECT_FALSE(verify_header(s, other.public_key));
    EXPECT_FALSE(verify_header(sign_header(other, h), bridge().public_key));
    SignedHeader moved = s;
    moved.header.number = 1235;
    EXPECT_FALSE(verify_header(moved, bridge().public_key));
    SignedHeader rerooted = s;
    rerooted.header.state_root[0] ^= 1;
    EXPECT_FALSE(verify_header(rerooted, bridge().public_key));
}

TEST(SignedHeader, RoundTripsAndEveryTamperingFails) {
    const SignedHeader s = sign_header(bridge(), {99, keccak256(Bytes{2})});
    const Bytes encoded = encode(s);
    EXPECT_EQ(decode_signed_header(encoded), s);
    for (std::size_t i = 0; i < encoded.size(); ++i) {
        Bytes bad = encoded;
        bad[i] ^= 0x01;
        const auto d = decode_signed_header(bad);
        EXPECT_FALSE(d && verify_header(*d, bridge().public_key)) << "byte " << i;
    }
    for (std::size_t n = 0; n < encoded.size(); ++n) {
        EXPECT_FALSE(decode_signed_header(ByteView{encoded.data(), n})) << "cut at " << n;
    }
    Bytes longer = encoded;
    longer.push_back(0);
    EXPECT_EQ(decode_signed_header(longer).error(), HeaderError::kMalformed);
}

TEST(SignedHeader, TrustBridgeKeysParseStrictly) {
    const std::string text = "0x" + to_hex(view(bridge().public_key));
    EXPECT_EQ(parse_public_key(text), bridge().public_key);
    EXPECT_FALSE(parse_public_key(text.substr(2)));
    EXPECT_FALSE(parse_public_key(text + "00"));
    EXPECT_FALSE(parse_public_key("0x" + std::string(66, '0')));  // not a point
    EXPECT_FALSE(parse_public_key("0x" + std::string(66, 'g')));
}

}  // namespace
}  // namespace carousel::mgr
