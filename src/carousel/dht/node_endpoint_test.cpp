// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "node_endpoint.hpp"

#include <gtest/gtest.h>

#include <carousel/core/rlp.hpp>

namespace carousel::dht {
namespace {

KeyPair key() { return KeyPair::from_secret(Bytes(32, 0x42)).value(); }

TEST(NodeEndpoint, RecordCarriesAddressesAndRadius) {
    const NodeRecord r = make_node_record(key(), 3, {{127, 0, 0, 1}, 30303, 30304, Radius{251}}).value();
    const NodeRecord back = NodeRecord::decode(r.encoded()).value();
    EXPECT_EQ(back.node_id(), key().node_id);
    EXPECT_EQ(back.seq(), 3U);
    EXPECT_EQ(udp_address(back), (proto::Address{{127, 0, 0, 1}, 30303}));
    EXPECT_EQ(tcp_address(back), (proto::Address{{127, 0, 0, 1}, 30304}));
    EXPECT_EQ(radius_of(back), Radius{251});
    // A full record stays within EIP-778's 300 bytes.
    EXPECT_LE(r.encoded().size(), kMaxRecordBytes);
}

TEST(NodeEndpoint, MissingOrMalformedKeysReadAsAbsent) {
    const NodeRecord no_ports = make_node_record(key(), 1, {{10, 0, 0, 1}, 0, 0, Radius{0}}).value();
    EXPECT_FALSE(udp_address(no_ports));
    EXPECT_FALSE(tcp_address(no_ports));
    EXPECT_EQ(radius_of(no_ports), Radius{0});
    Bytes bad_ip;
    rlp::encode(bad_ip, Bytes{1, 2, 3});
    Bytes port;
    rlp::encode(port, uint64_t{70000});
    Bytes rad;
    rlp::encode(rad, uint64_t{257});
    const NodeRecord bad = NodeRecord::sign(1, {{"ip", bad_ip}, {"udp", port}, {"rad", rad}}, key()).value();
    EXPECT_FALSE(udp_address(bad));
    EXPECT_FALSE(radius_of(bad));
}

}  // namespace
}  // namespace carousel::dht
