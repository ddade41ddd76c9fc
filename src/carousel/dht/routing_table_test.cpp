// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "routing_table.hpp"

#include <random>

#include <gtest/gtest.h>

#include <carousel/testing/dht_test_util.hpp>

namespace carousel::dht {
namespace {

using namespace std::chrono_literals;
using test::at_distance;
using test::ids_of;

Contact contact(const NodeId& id, proto::PeerId peer, unsigned radius = 0) { return Contact{id, peer, Radius{radius}}; }

TEST(RoutingTable, BucketsByLogDistance) {
    std::mt19937_64 rng{1};
    const NodeId self = test::random_hash(rng);
    RoutingTable t{self};
    for (unsigned d : {1u, 2u, 9u, 100u, 255u, 256u}) {
        EXPECT_EQ(t.update(contact(at_distance(self, d), d), Time{d}), RoutingTable::Update::kAdded);
    }
    EXPECT_EQ(t.size(), 6u);
    for (unsigned d : {1u, 2u, 9u, 100u, 255u, 256u}) {
        ASSERT_EQ(t.bucket(d).size(), 1u) << d;
        EXPECT_EQ(t.bucket(d)[0].contact.peer, d);
        EXPECT_EQ(t.bucket(d)[0].last_seen, Time{d});
        EXPECT_EQ(log_distance(self, t.bucket(d)[0].contact.id), d);
    }
    EXPECT_TRUE(t.bucket(3).empty());
    EXPECT_EQ(t.update(contact(self, 99), Time{0}), RoutingTable::Update::kIgnored);
    EXPECT_EQ(t.size(), 6u);
    EXPECT_FALSE(t.find(self));
}

TEST(RoutingTable, RefreshMovesToTheBackAndTakesNewFields) {
    const NodeId self{};
    RoutingTable t{self, 4};
    const NodeId a = at_distance(self, 200, 1);
    const NodeId b = at_distance(self, 200, 2);
    EXPECT_EQ(t.update(contact(a, 1), 1s), RoutingTable::Update::kAdded);
    EXPECT_EQ(t.update(contact(b, 2), 2s), RoutingTable::Update::kAdded);
    EXPECT_EQ(t.update(contact(a, 7, 12), 3s), RoutingTable::Update::kRefreshed);
    ASSERT_EQ(t.bucket(200).size(), 2u);
    EXPECT_EQ(t.bucket(200)[0].contact.id, b);  // least recently seen first
    EXPECT_EQ(t.bucket(200)[1].contact, contact(a, 7, 12));
    EXPECT_EQ(t.bucket(200)[1].last_seen, 3s);
    EXPECT_EQ(t.size(), 2u);
}

TEST(RoutingTable, FullBucketKeepsOldEntriesAndRemembersReplacements) {
    const NodeId self{};
    RoutingTable t{self, 2};
    const NodeId a = at_distance(self, 256, 1);
    const NodeId b = at_distance(self, 256, 2);
    const NodeId c = at_distance(self, 256, 3);
    const NodeId d = at_distance(self, 256, 4);
    const NodeId e = at_distance(self, 256, 5);
    t.update(contact(a, 1), 1s);
    t.update(contact(b, 2), 2s);
    EXPECT_EQ(t.update(contact(c, 3), 3s), RoutingTable::Update::kReplacement);
    EXPECT_EQ(t.size(), 2u);
    EXPECT_FALSE(t.find(c));
    EXPECT_EQ(t.replacements(256), std::vector<Contact>{contact(c, 3)});
    // Refreshing a replacement moves it to the most recent end; beyond k the oldest is dropped.
    t.update(contact(d, 4), 4s);
    t.update(contact(c, 3), 5s);
    EXPECT_EQ(ids_of(t.replacements(256)), (std::vector<NodeId>{d, c}));
    t.update(contact(e, 5), 6s);
    EXPECT_EQ(ids_of(t.replacements(256)), (std::vector<NodeId>{c, e}));
    // The live entries were never displaced.
    EXPECT_TRUE(t.find(a));
    EXPECT_TRUE(t.find(b));
    // Other buckets are not affected.
    EXPECT_EQ(t.update(contact(at_distance(self, 255), 9), 7s), RoutingTable::Update::kAdded);
}

TEST(RoutingTable, FailingContactLeavesAndReplacementTakesItsSlot) {
    const NodeId self{};
    RoutingTable t{self, 2, 3};
    const NodeId a = at_distance(self, 256, 1);
    const NodeId b = at_distance(self, 256, 2);
    const NodeId c = at_distance(self, 256, 3);
    const NodeId d = at_distance(self, 256, 4);
    t.update(contact(a, 1), 1s);
    t.update(contact(b, 2), 2s);
    t.update(contact(c, 3), 3s);
    t.update(contact(d, 4), 4s);
    EXPECT_FALSE(t.mark_failed(a));
    EXPECT_FALSE(t.mark_failed(a));
    EXPECT_EQ(t.find(a)->failures, 2u);
    // An answer clears the count.
    t.update(contact(a, 1), 5s);
    EXPECT_EQ(t.find(a)->failures, 0u);
    EXPECT_FALSE(t.mark_failed(a));
    EXPECT_FALSE(t.mark_failed(a));
    EXPECT_TRUE(t.mark_failed(a));
    EXPECT_FALSE(t.find(a));
    // The most recently seen replacement (d) took the slot.
    EXPECT_TRUE(t.find(d));
    EXPECT_EQ(t.size(), 2u);
    EXPECT_EQ(ids_of(t.replacements(256)), std::vector<NodeId>{c});
    // remove() is immediate; the last replacement moves in.
    EXPECT_TRUE(t.remove(b));
    EXPECT_TRUE(t.find(c));
    EXPECT_TRUE(t.replacements(256).empty());
    EXPECT_EQ(t.size(), 2u);
    // With no replacement left the bucket shrinks.
    EXPECT_TRUE(t.remove(c));
    EXPECT_EQ(t.size(), 1u);
    EXPECT_FALSE(t.remove(c));
    EXPECT_FALSE(t.mark_failed(c));
}

TEST(RoutingTable, FailedOrRemovedReplacementIsDropped) {
    const NodeId self{};
    RoutingTable t{self, 1};
    const NodeId a = at_distance(self, 256, 1);
    const NodeId b = at_distance(self, 256, 2);
    const NodeId c = at_distance(self, 256, 3);
    t.update(contact(a, 1), 1s);
    t.update(contact(b, 2), 2s);
    t.update(contact(c, 3), 3s);
    // k = 1 replacement: c pushed b out.
    EXPECT_EQ(ids_of(t.replacements(256)), std::vector<NodeId>{c});
    EXPECT_FALSE(t.remove(b));
    EXPECT_TRUE(t.mark_failed(c));
    EXPECT_TRUE(t.replacements(256).empty());
    t.update(contact(b, 2), 4s);
    EXPECT_TRUE(t.remove(b));
    EXPECT_TRUE(t.replacements(256).empty());
    EXPECT_TRUE(t.remove(a));
    EXPECT_EQ(t.size(), 0u);
}

TEST(RoutingTable, ClosestMatchesBruteForce) {
    std::mt19937_64 rng{3};
    const NodeId self = test::random_hash(rng);
    RoutingTable t{self, 16};
    for (uint64_t i = 0; i < 500; ++i) t.update(contact(test::random_hash(rng), i + 1), Time{0});
    // Random ids fill the far buckets: 16 + 16 + 16 + ... far fewer than 500 stay.
    EXPECT_LT(t.size(), 500u);
    EXPECT_EQ(t.bucket(256).size(), 16u);
    for (int i = 0; i < 50; ++i) {
        const Hash target = test::random_hash(rng);
        for (std::size_t n : {0u, 1u, 16u, 1000u}) {
            const auto got = t.closest(target, n);
            EXPECT_EQ(ids_of(got), test::brute_force_closest(ids_of(t.contacts()), target, n));
        }
    }
}

TEST(RoutingTable, CoveringFollowsRadius) {
    const NodeId self{};
    RoutingTable t{self};
    // a covers the 2^8 keys sharing its first 248 bits; b only itself; c the upper half of the space.
    const NodeId a = at_distance(self, 100, 0x11);
    const NodeId b = at_distance(self, 50, 0x22);
    NodeId c{};
    c[0] = 0x80;
    c[31] = 0x33;
    t.update(contact(a, 1, 8), Time{0});
    t.update(contact(b, 2, 0), Time{0});
    t.update(contact(c, 3, 255), Time{0});
    NodeId key = a;
    key[31] = 0xff;
    EXPECT_EQ(ids_of(t.covering(key)), std::vector<NodeId>{a});
    EXPECT_EQ(ids_of(t.covering(b)), std::vector<NodeId>{b});
    NodeId high{};
    high.fill(0xff);
    EXPECT_EQ(ids_of(t.covering(high)), std::vector<NodeId>{c});
    // Closest to the key first when several cover it.
    t.update(contact(at_distance(c, 3), 4, 255), Time{0});
    EXPECT_EQ(ids_of(t.covering(c)), (std::vector<NodeId>{c, at_distance(c, 3)}));
    EXPECT_TRUE(t.covering(NodeId{}).empty());
}

TEST(RoutingTable, CoveringBitsGrowsToTheHighestEmptyBucket) {
    std::mt19937_64 rng{3};
    const NodeId self = test::random_hash(rng);
    RoutingTable t{self};
    // Buckets 240..256 all hold a node but 250 and 252: a node at radius 248 must cover up to 252.
    for (unsigned d = 240; d <= 256; ++d) {
        if (d != 250 && d != 252) t.update(contact(at_distance(self, d), d), Time{0});
    }
    EXPECT_EQ(t.covering_bits(248), 252u);
    EXPECT_EQ(t.covering_bits(252), 252u);
    EXPECT_EQ(t.covering_bits(253), 253u);
    t.update(contact(at_distance(self, 252), 252), Time{0});
    EXPECT_EQ(t.covering_bits(248), 250u);
    // An empty table: the node is alone and covers everything.
    EXPECT_EQ(RoutingTable{self}.covering_bits(250), 256u);
    // A contact that stores nothing (a client, a bridge: a radius under storing_bits) is no node there.
    RoutingTable with_client{self};
    for (unsigned d = 240; d <= 256; ++d)
        with_client.update(contact(at_distance(self, d), d, d == 251 ? 0 : 248), Time{0});
    EXPECT_EQ(with_client.covering_bits(248, 248), 251u);
    EXPECT_EQ(with_client.covering_bits(248), 248u);
}

// With every node in every table (a connected network), the blocks the nodes cover after growing
// leave no key without a node: each aligned block of 2^bits keys holds a covering node. Brute force
// over random networks, sparse and dense.
TEST(RoutingTable, CoveringBitsLeavesNoBlockUncovered) {
    std::mt19937_64 rng{4};
    for (const auto& [nodes, bits] : {std::pair{8u, 252u}, {64u, 251u}, {64u, 250u}, {200u, 249u}, {5u, 254u}}) {
        std::vector<NodeId> ids;
        for (unsigned i = 0; i < nodes; ++i) ids.push_back(test::random_hash(rng));
        std::vector<Contact> covering;
        for (const NodeId& self : ids) {
            RoutingTable t{self, 256};
            for (const NodeId& other : ids) t.update(contact(other, 1), Time{0});
            covering.push_back(contact(self, 1, t.covering_bits(bits)));
        }
        // Every block at `bits`: its first key, its last key and a middle key are covered.
        for (uint64_t b = 0; b < (uint64_t{1} << (256 - bits)); ++b) {
            Hash first{};
            first[0] = static_cast<uint8_t>(b << (bits - 248));
            for (const uint8_t low : {uint8_t{0x00}, uint8_t{0x5a}, uint8_t{0xff}}) {
                Hash key = first;
                key[0] = static_cast<uint8_t>(key[0] | (low >> (256 - bits)));
                for (std::size_t i = 1; i < key.size(); ++i) key[i] = low;
                const bool covered = std::any_of(covering.begin(), covering.end(),
                                                 [&](const Contact& c) { return covers(c.id, c.radius, key); });
                EXPECT_TRUE(covered) << nodes << " nodes, bits " << bits << ", block " << b;
            }
        }
    }
}

}  // namespace
}  // namespace carousel::dht
