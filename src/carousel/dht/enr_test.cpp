// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "enr.hpp"

#include <gtest/gtest.h>

#include <carousel/core/hex.hpp>
#include <carousel/core/rlp.hpp>

namespace carousel::dht {
namespace {

// EIP-778's example record and the key that signed it.
constexpr std::string_view kExample =
    "enr:-"
    "IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4MHcBFZntXNFrdvJjX04jRzjzCBOonrkTfj499SZuOh8R33Ls8RRcy5wBgmlkgnY0gmlwhH8AAAG"
    "Jc2VjcDI1NmsxoQPKY0yuDUmstAHYpMa2_oxVtw0RW_QAdpzBQA8yWM0xOIN1ZHCCdl8";
constexpr std::string_view kSecret = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291";
constexpr std::string_view kNodeId = "a448f24c6d18e575453db13171562b71999873db5b286df957af199ec94617f7";

TEST(NodeRecord, DecodesTheEipExample) {
    const auto r = NodeRecord::from_text(kExample);
    ASSERT_TRUE(r) << to_string(r.error());
    EXPECT_EQ(r->seq(), 1u);
    EXPECT_EQ(to_hex(ByteView{r->node_id().data(), 32}), kNodeId);
    EXPECT_EQ(r->uint_value("udp"), 30303u);
    EXPECT_EQ(r->string_value("ip"), (Bytes{127, 0, 0, 1}));
    EXPECT_EQ(r->to_text(), kExample);
}

TEST(NodeRecord, SigningTheExampleGivesTheEipText) {
    const auto key = KeyPair::from_secret(*from_hex(kSecret));
    ASSERT_TRUE(key);
    EXPECT_EQ(to_hex(ByteView{key->node_id.data(), 32}), kNodeId);
    const auto example = NodeRecord::from_text(kExample);
    ASSERT_TRUE(example);
    const auto r = NodeRecord::sign(1, {{"ip", example->pairs().at("ip")}, {"udp", example->pairs().at("udp")}}, *key);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->to_text(), kExample);  // RFC 6979 signatures are deterministic
}

TEST(NodeRecord, HostileRecordsAreRefusedByName) {
    const Bytes good = NodeRecord::from_text(kExample)->encoded();
    // Every single-byte change fails somewhere: encoding, order, identity, key or signature.
    for (std::size_t i = 0; i < good.size(); ++i) {
        Bytes bad = good;
        bad[i] ^= 0x01;
        EXPECT_FALSE(NodeRecord::decode(bad)) << "byte " << i;
    }
    EXPECT_EQ(NodeRecord::decode(Bytes(301, 0xc0)).error(), EnrError::kTooLarge);
    EXPECT_EQ(NodeRecord::decode(Bytes{}).error(), EnrError::kBadEncoding);
    Bytes trailing = good;
    trailing.push_back(0x00);
    EXPECT_EQ(NodeRecord::decode(trailing).error(), EnrError::kBadEncoding);
    EXPECT_EQ(NodeRecord::from_text("enode://abc").error(), EnrError::kBadText);
    EXPECT_EQ(NodeRecord::from_text("enr:***").error(), EnrError::kBadText);
    EXPECT_EQ(NodeRecord::from_text(std::string{"enr:"} + std::string(500, 'A')).error(), EnrError::kBadText);
    // The example's contents under another key's signature: it does not verify.
    const auto other = KeyPair::from_secret(Bytes(32, 0x11));
    ASSERT_TRUE(other);
    const auto example = NodeRecord::from_text(kExample);
    const auto by_other = NodeRecord::sign(1, {}, *other);
    ASSERT_TRUE(example && by_other);
    ByteView in = by_other->encoded();
    ByteView body = *rlp::decode_list(in);
    const ByteView other_signature = *rlp::decode_string(body);
    Bytes payload;
    rlp::encode(payload, other_signature);
    rlp::encode(payload, uint64_t{1});
    for (const auto& [k, v] : example->pairs()) {
        rlp::encode(payload, Bytes{k.begin(), k.end()});
        payload += v;
    }
    Bytes forged;
    rlp::encode_header(forged, {true, payload.size()});
    forged += payload;
    EXPECT_EQ(NodeRecord::decode(forged).error(), EnrError::kBadSignature);
}

TEST(NodeRecord, KeysOutOfOrderAreRefused) {
    // [sig, seq, "udp", 1, "id", "v4"]: a well-formed list whose keys are not sorted.
    Bytes payload;
    rlp::encode(payload, Bytes(64, 1));
    rlp::encode(payload, uint64_t{1});
    rlp::encode(payload, Bytes{'u', 'd', 'p'});
    rlp::encode(payload, uint64_t{1});
    rlp::encode(payload, Bytes{'i', 'd'});
    rlp::encode(payload, Bytes{'v', '4'});
    Bytes list;
    rlp::encode_header(list, {true, payload.size()});
    list += payload;
    EXPECT_EQ(NodeRecord::decode(list).error(), EnrError::kKeysNotSorted);
}

TEST(Base64Url, RoundTripsAndRefusesNonCanonicalText) {
    for (std::size_t n = 0; n < 10; ++n) {
        Bytes b(n, 0);
        for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(i * 37 + 200);
        EXPECT_EQ(base64url_decode(base64url_encode(b)), b);
    }
    EXPECT_FALSE(base64url_decode("A"));
    EXPECT_FALSE(base64url_decode("AB"));  // leftover bits set
    EXPECT_FALSE(base64url_decode("AA=="));
    EXPECT_TRUE(base64url_decode("AA"));
}

}  // namespace
}  // namespace carousel::dht
