// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "lookup.hpp"

#include <algorithm>
#include <map>
#include <random>

#include <gtest/gtest.h>

#include <carousel/testing/dht_test_util.hpp>

#include "routing_table.hpp"

namespace carousel::dht {
namespace {

using test::ids_of;

// A network without IO in the state Kademlia converges to: every node has offered every other node
// to its routing table (in a random order), which kept k per bucket. A query is answered at once
// with the answering node's 16 closest.
struct World {
    std::vector<NodeId> ids;
    std::map<NodeId, RoutingTable> tables;

    World(std::size_t n, uint64_t seed) {
        std::mt19937_64 rng{seed};
        for (std::size_t i = 0; i < n; ++i) ids.push_back(test::random_hash(rng));
        for (std::size_t i = 0; i < n; ++i) {
            RoutingTable t{ids[i]};
            std::vector<std::size_t> order(n);
            for (std::size_t j = 0; j < n; ++j) order[j] = j;
            std::shuffle(order.begin(), order.end(), rng);
            for (const std::size_t other : order) t.update(Contact{ids[other], other + 1, {}}, proto::Time{0});
            tables.emplace(ids[i], std::move(t));
        }
    }

    std::vector<Contact> answer(const NodeId& who, const Hash& target) const {
        return tables.at(who).closest(target, 16);
    }
};

TEST(Lookup, FindsTheTrueClosestNodes) {
    const World w{500, 11};
    std::mt19937_64 rng{5};
    for (int i = 0; i < 30; ++i) {
        const Hash target = test::random_hash(rng);
        const NodeId& start = w.ids[rng() % w.ids.size()];
        Lookup l{target, w.tables.at(start).closest(target, 16), 3, 16};
        std::size_t rounds = 0;
        while (!l.done()) {
            const auto queries = l.next_queries();
            ASSERT_FALSE(queries.empty());
            ASSERT_LE(l.in_flight(), 3u);
            for (const Contact& q : queries) l.on_nodes(q.id, w.answer(q.id, target));
            ASSERT_LT(++rounds, 500u);
        }
        std::vector<NodeId> all = w.ids;
        EXPECT_EQ(test::names(ids_of(l.result())), test::names(test::brute_force_closest(all, target, 16)))
            << "target " << i;
        EXPECT_LT(l.queried(), 200u);  // a lookup touches a small part of the network
    }
}

TEST(Lookup, KeepsAlphaInFlight) {
    std::mt19937_64 rng{2};
    const Hash target = test::random_hash(rng);
    std::vector<Contact> seeds;
    for (uint64_t i = 0; i < 10; ++i) seeds.push_back({test::random_hash(rng), i + 1, {}});
    Lookup l{target, seeds, 3, 4};
    auto first = l.next_queries();
    ASSERT_EQ(first.size(), 3u);
    EXPECT_TRUE(l.next_queries().empty());
    // Closest first.
    const auto order = test::brute_force_closest(ids_of(seeds), target, 10);
    EXPECT_EQ(ids_of(first), (std::vector<NodeId>{order[0], order[1], order[2]}));
    l.on_nodes(first[0].id, {});
    auto second = l.next_queries();
    ASSERT_EQ(second.size(), 1u);
    EXPECT_EQ(second[0].id, order[3]);
    // Only the k = 4 closest are ever asked: with them pending, nothing more goes out.
    l.on_nodes(first[1].id, {});
    EXPECT_TRUE(l.next_queries().empty());
    EXPECT_FALSE(l.done());
    // A failure lets the fifth closest in.
    l.on_failure(first[2].id);
    auto third = l.next_queries();
    ASSERT_EQ(third.size(), 1u);
    EXPECT_EQ(third[0].id, order[4]);
    l.on_nodes(second[0].id, {});
    l.on_nodes(third[0].id, {});
    EXPECT_TRUE(l.done());
    EXPECT_EQ(ids_of(l.result()), (std::vector<NodeId>{order[0], order[1], order[3], order[4]}));
}

TEST(Lookup, IgnoresAnswersNotInFlight) {
    std::mt19937_64 rng{4};
    const Hash target = test::random_hash(rng);
    const Contact a{test::random_hash(rng), 1, {}};
    const Contact b{test::random_hash(rng), 2, {}};
    const Contact stranger{test::random_hash(rng), 3, {}};
    Lookup l{target, {a}, 3, 16};
    // Not asked yet: an answer from a, or from a stranger, changes nothing.
    l.on_nodes(a.id, {b});
    l.on_nodes(stranger.id, {b});
    ASSERT_EQ(l.next_queries(), std::vector<Contact>{a});
    l.on_failure(a.id);
    // A late answer after the failure is ignored too.
    l.on_nodes(a.id, {b});
    EXPECT_TRUE(l.next_queries().empty());
    EXPECT_TRUE(l.done());
    EXPECT_TRUE(l.result().empty());
}

TEST(Lookup, EmptySeedsAreDoneAtOnce) {
    Lookup l{Hash{}, {}, 3, 16};
    EXPECT_TRUE(l.done());
    EXPECT_TRUE(l.next_queries().empty());
    EXPECT_TRUE(l.result().empty());
}

TEST(Lookup, DuplicateContactsAreOneCandidate) {
    std::mt19937_64 rng{6};
    const Hash target = test::random_hash(rng);
    const Contact a{test::random_hash(rng), 1, {}};
    const Contact a_elsewhere{a.id, 99, {}};
    Lookup l{target, {a, a_elsewhere, a}, 3, 16};
    const auto q = l.next_queries();
    ASSERT_EQ(q, std::vector<Contact>{a});  // the first address seen wins
    l.on_nodes(a.id, {a_elsewhere, a});
    EXPECT_TRUE(l.done());
    EXPECT_EQ(l.result(), std::vector<Contact>{a});
}

}  // namespace
}  // namespace carousel::dht
