// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "peer_handles.hpp"

#include <gtest/gtest.h>

#include <carousel/core/keccak.hpp>

#include "node_endpoint.hpp"

namespace carousel::dht {
namespace {

NodeId id_of(uint8_t n) { return keccak256(Bytes{n}); }

KeyPair key_of(uint8_t n) {
    Bytes secret(32, 0);
    secret[0] = 3;
    secret[31] = n;
    return KeyPair::from_secret(secret).value();
}

TEST(PeerHandles, NamesEachIdOnceCountingUpFromOne) {
    PeerHandles h;
    EXPECT_EQ(h.handle(id_of(1)), 1u);
    EXPECT_EQ(h.handle(id_of(2)), 2u);
    EXPECT_EQ(h.handle(id_of(1)), 1u);
    EXPECT_EQ(h.node(2), id_of(2));
    EXPECT_FALSE(h.node(3).has_value());
    EXPECT_EQ(h.record(1), nullptr);
    EXPECT_EQ(h.size(), 2u);
}

TEST(PeerHandles, NamedContactsKeepTheNewestRecord) {
    PeerHandles h;
    const KeyPair key = key_of(1);
    const auto old_record = std::make_shared<const NodeRecord>(
        make_node_record(key, 1, NodeEndpoint{{10, 0, 0, 1}, 1, 1, Radius{250}}).value());
    const auto new_record = std::make_shared<const NodeRecord>(
        make_node_record(key, 2, NodeEndpoint{{10, 0, 0, 1}, 1, 1, Radius{251}}).value());
    const Contact first = h.named(Contact{key.node_id, 0, Radius{251}, new_record});
    EXPECT_EQ(first.peer, 1u);
    (void)h.named(Contact{key.node_id, 0, Radius{250}, old_record});  // older: not kept
    ASSERT_NE(h.record(1), nullptr);
    EXPECT_EQ(h.record(1)->seq(), 2u);
    (void)h.named(Contact{key.node_id, 0, Radius{250}, nullptr});  // no record: the one held stays
    EXPECT_EQ(h.record(1)->seq(), 2u);
}

TEST(PeerHandles, ForgetsTheLeastRecentlyHandledAtItsCapacity) {
    PeerHandles h{2};
    EXPECT_EQ(h.handle(id_of(1)), 1u);
    EXPECT_EQ(h.handle(id_of(2)), 2u);
    EXPECT_EQ(h.handle(id_of(1)), 1u);  // 2 is now the least recently handled
    EXPECT_EQ(h.handle(id_of(3)), 3u);
    EXPECT_EQ(h.size(), 2u);
    EXPECT_FALSE(h.node(2).has_value());
    EXPECT_EQ(h.node(1), id_of(1));
    EXPECT_EQ(h.handle(id_of(2)), 4u) << "a forgotten id comes back under a new handle, never an old one";
}

}  // namespace
}  // namespace carousel::dht
