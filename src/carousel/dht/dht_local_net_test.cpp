// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// DhtNode on net::LocalNet: bootstrap, lookups against a brute-force oracle, dead, silent and lying
// nodes, determinism. Every pair of nodes is linked (LocalNet drops frames between unlinked nodes);
// the routing tables still decide whom a node knows and asks, since nodes do not PING on connect here.

#include <algorithm>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <carousel/net/local_net.hpp>
#include <carousel/proto/dht_messages.hpp>
#include <carousel/testing/dht_test_util.hpp>

#include "dht_node.hpp"

namespace carousel::dht {
namespace {

using namespace std::chrono_literals;
using test::ids_of;
using test::names;

constexpr Time kLimit = 3600s;

struct Scenario {
    std::mt19937_64 rng;
    net::LocalNet net;
    std::vector<std::unique_ptr<DhtNode>> nodes;  // node i has LocalNet id i + 1
    std::vector<NodeId> ids;
    std::vector<net::TraceEntry> trace;

    Scenario(std::size_t n, uint64_t seed, Options options = {}) : rng{seed} {
        options.ping_on_connect = false;
        for (std::size_t i = 0; i < n; ++i) {
            ids.push_back(test::random_hash(rng));
            nodes.push_back(std::make_unique<DhtNode>(Contact{ids[i], i + 1, Radius{250}}, options));
            EXPECT_EQ(net.add(*nodes[i]), i + 1);
        }
        net.set_trace([this](const net::TraceEntry& e) { trace.push_back(e); });
        for (std::size_t a = 0; a < n; ++a) {
            for (std::size_t b = a + 1; b < n; ++b) {
                net.connect(a + 1, b + 1, net::LinkSettings{Time{5000 + static_cast<int64_t>(rng() % 20000)}});
            }
        }
        net.run_until(Time{0});  // the connects (nodes do not PING on connect here)
    }

    Dht& dht(std::size_t i) { return nodes[i]->dht(); }

    // Node i joins through 1..3 seeds among the nodes before it, one node every 50 ms: it PINGs
    // them, then looks up its own id (Kademlia's join).
    void bootstrap() {
        const Time base = net.now();
        for (std::size_t i = 1; i < nodes.size(); ++i) {
            const Time at = base + Time{static_cast<int64_t>(i) * 50'000};
            const std::size_t seeds = std::min<std::size_t>(i, 1 + rng() % 3);
            std::set<std::size_t> chosen;
            while (chosen.size() < seeds) chosen.insert(rng() % i);
            net.post(
                i + 1,
                [this, i, chosen] {
                    for (std::size_t s : chosen) dht(i).ping(s + 1, net.now());
                },
                at);
            net.post(
                i + 1, [this, i] { dht(i).start_lookup(ids[i], net.now(), [](std::vector<Contact>) {}); }, at + 100ms);
        }
        // With revalidation on, the net is never idle: run for a while instead.
        if (dht(0).options().revalidate_interval > Time{0}) {
            net.run_until(base + Time{static_cast<int64_t>(nodes.size()) * 50'000} + 60s);
        } else {
            ASSERT_TRUE(net.run_until_idle(kLimit));
        }
    }

    // A lookup of `target` from node i, run to its end.
    std::vector<Contact> lookup(std::size_t i, const Hash& target) {
        std::optional<std::vector<Contact>> result;
        net.post(i + 1, [&] {
            dht(i).start_lookup(target, net.now(), [&](std::vector<Contact> r) { result = std::move(r); });
        });
        EXPECT_TRUE(net.run_until([&] { return result.has_value(); }, net.now() + kLimit));
        return result.value_or(std::vector<Contact>{});
    }

    // The k ids closest to `target` among the nodes for which `include` holds.
    template <class Pred>
    std::vector<NodeId> oracle(const Hash& target, Pred include, std::size_t k = 16) const {
        std::vector<NodeId> all;
        for (std::size_t j = 0; j < ids.size(); ++j) {
            if (include(j)) all.push_back(ids[j]);
        }
        return test::brute_force_closest(all, target, k);
    }

    bool in_table(std::size_t i, std::size_t of) { return nodes[i]->dht().table().find(ids[of]).has_value(); }
};

TEST(DhtLocalNet, BootstrappedNodesFindTheTrueClosest) {
    Scenario s{64, 1};
    s.bootstrap();
    std::size_t total = 0;
    for (std::size_t i = 0; i < 64; ++i) {
        EXPECT_GE(s.dht(i).table().size(), 16u) << i;
        total += s.dht(i).table().size();
    }
    // Nobody knows everyone: the tables are Kademlia's, sparse far away (about 29 of 63 on average
    // with this seed).
    EXPECT_LT(total, 64u * 40u);
    for (int t = 0; t < 40; ++t) {
        const Hash target = test::random_hash(s.rng);
        const std::size_t from = s.rng() % 64;
        const auto got = s.lookup(from, target);
        EXPECT_EQ(names(ids_of(got)), names(s.oracle(target, [&](std::size_t j) { return j != from; })))
            << "lookup " << t << " from node " << from;
    }
    // Looking up a node's own id finds it first.
    const auto got = s.lookup(3, s.ids[40]);
    ASSERT_FALSE(got.empty());
    EXPECT_EQ(got[0], (Contact{s.ids[40], 41, Radius{250}}));
}

TEST(DhtLocalNet, DeadNodesLeaveTablesAndLookupsStillSucceed) {
    Scenario s{64, 2};
    s.bootstrap();
    std::set<std::size_t> dead;
    while (dead.size() < 10) dead.insert(s.rng() % 64);
    for (std::size_t d : dead) s.net.set_online(d + 1, false);
    s.net.run_until_idle(s.net.now() + kLimit);
    for (std::size_t i = 0; i < 64; ++i) {
        if (dead.count(i)) continue;
        for (std::size_t d : dead) {
            EXPECT_FALSE(s.in_table(i, d)) << "node " << i << " still has dead node " << d;
            for (unsigned b = 1; b <= 256; ++b) {
                for (const Contact& c : s.dht(i).table().replacements(b)) EXPECT_NE(c.id, s.ids[d]);
            }
        }
    }
    for (int t = 0; t < 30; ++t) {
        const Hash target = test::random_hash(s.rng);
        std::size_t from = s.rng() % 64;
        while (dead.count(from)) from = (from + 1) % 64;
        const auto got = s.lookup(from, target);
        EXPECT_EQ(names(ids_of(got)),
                  names(s.oracle(target, [&](std::size_t j) { return j != from && dead.count(j) == 0; })))
            << "lookup " << t;
    }
}

// Nodes that stay linked but never answer: their requests time out, they leave the tables of the
// nodes that asked them, and lookups still find the closest nodes that answer.
TEST(DhtLocalNet, SilentNodesTimeOutAndLeave) {
    Scenario s{64, 3, Options{.max_failures = 1}};
    s.bootstrap();
    std::set<std::size_t> silent;
    while (silent.size() < 6) silent.insert(s.rng() % 64);
    std::vector<uint64_t> asked_before(64 * 64);
    for (std::size_t i = 0; i < 64; ++i) {
        for (std::size_t x : silent) asked_before[i * 64 + x] = s.net.link_metrics(i + 1, x + 1).sent.total.frames;
    }
    s.net.set_frame_hook([&](PeerId from, PeerId, Bytes& frame) {
        if (silent.count(from - 1)) frame.clear();
    });
    const Time start = s.net.now();
    for (int t = 0; t < 30; ++t) {
        // Aim at the silent nodes' neighbourhoods too, so that they are asked.
        Hash target = test::random_hash(s.rng);
        if (t % 2 == 0) {
            auto it = silent.begin();
            std::advance(it, static_cast<std::ptrdiff_t>(s.rng() % silent.size()));
            target = s.ids[*it];
            target[31] ^= 1;
        }
        std::size_t from = s.rng() % 64;
        while (silent.count(from)) from = (from + 1) % 64;
        const auto got = s.lookup(from, target);
        EXPECT_EQ(names(ids_of(got)),
                  names(s.oracle(target, [&](std::size_t j) { return j != from && silent.count(j) == 0; })))
            << "lookup " << t;
    }
    EXPECT_GE(s.net.now() - start, 2s);  // the timeouts were waited for
    s.net.run_until_idle(s.net.now() + kLimit);
    std::size_t asked = 0;
    for (std::size_t i = 0; i < 64; ++i) {
        if (silent.count(i)) continue;
        for (std::size_t x : silent) {
            if (s.net.link_metrics(i + 1, x + 1).sent.total.frames == asked_before[i * 64 + x]) continue;
            ++asked;
            EXPECT_FALSE(s.in_table(i, x)) << "node " << i << " still has silent node " << x;
        }
    }
    EXPECT_GT(asked, 10u);
    std::uint64_t timeouts = 0;
    for (std::size_t i = 0; i < 64; ++i) timeouts += s.dht(i).stats().timeouts;
    EXPECT_GE(timeouts, asked);
}

// With revalidation on, silent nodes leave every table even if no lookup ever asks them.
TEST(DhtLocalNet, RevalidationEvictsSilentNodesNobodyAsks) {
    Scenario s{64, 5, Options{.max_failures = 2, .revalidate_interval = 1s}};
    s.bootstrap();
    std::set<std::size_t> silent;
    while (silent.size() < 6) silent.insert(s.rng() % 64);
    std::size_t holders = 0;
    for (std::size_t i = 0; i < 64; ++i) {
        for (std::size_t x : silent) holders += s.in_table(i, x) ? 1u : 0u;
    }
    EXPECT_GT(holders, 50u);
    std::vector<std::vector<Contact>> before(64);
    for (std::size_t i = 0; i < 64; ++i) before[i] = s.dht(i).table().contacts();
    s.net.set_frame_hook([&](PeerId from, PeerId, Bytes& frame) {
        if (silent.count(from - 1)) frame.clear();
    });
    // About 30 contacts per table, one PING a second, two failures each: two minutes is plenty.
    s.net.run_until(s.net.now() + 120s);
    for (std::size_t i = 0; i < 64; ++i) {
        if (silent.count(i)) continue;
        for (std::size_t x : silent) EXPECT_FALSE(s.in_table(i, x)) << "node " << i << " still has silent node " << x;
        // Every contact that answers stayed.
        for (const Contact& c : before[i]) {
            if (silent.count(c.peer - 1) == 0) {
                EXPECT_TRUE(s.dht(i).table().find(c.id)) << "node " << i;
            }
        }
    }
    // The liveness checks did run, about one per node per second.
    std::size_t revalidations = 0;
    for (std::size_t i = 0; i < 64; ++i) revalidations += s.dht(i).stats().revalidations;
    EXPECT_GT(revalidations, 64u * 30u);
}

// A node whose every frame is garbage (right type byte, broken body), or not a DHT message at all,
// is disconnected by whoever hears it, with a reason; nobody crashes and lookups go on.
TEST(DhtLocalNet, GarbageAnsweringNodeIsDisconnected) {
    Scenario s{64, 4};
    s.bootstrap();
    const std::size_t liar = 17;
    const std::size_t stranger = 33;
    s.net.set_frame_hook([&](PeerId from, PeerId, Bytes& frame) {
        if (from == liar + 1) frame = Bytes{frame[0], 0xc0};
        if (from == stranger + 1) frame = Bytes{0x10, 0xc0};
    });
    const std::size_t asker = 5;
    const auto got = s.lookup(asker, s.ids[liar]);
    const auto got2 = s.lookup(asker, s.ids[stranger]);
    s.net.run_until_idle(s.net.now() + kLimit);
    EXPECT_EQ(names(ids_of(got)),
              names(s.oracle(s.ids[liar], [&](std::size_t j) { return j != asker && j != liar && j != stranger; })));
    EXPECT_EQ(
        names(ids_of(got2)),
        names(s.oracle(s.ids[stranger], [&](std::size_t j) { return j != asker && j != liar && j != stranger; })));
    bool liar_dropped = false;
    bool stranger_dropped = false;
    for (const net::DisconnectRecord& d : s.net.disconnects()) {
        if (d.by == asker + 1 && (d.a == liar + 1 || d.b == liar + 1)) {
            liar_dropped = true;
            EXPECT_EQ(d.reason, "dht: malformed NODES: malformed message");
        }
        if (d.by == asker + 1 && (d.a == stranger + 1 || d.b == stranger + 1)) {
            stranger_dropped = true;
            EXPECT_EQ(d.reason, "dht node: not a DHT message");
        }
    }
    EXPECT_TRUE(liar_dropped);
    EXPECT_TRUE(stranger_dropped);
    EXPECT_FALSE(s.in_table(asker, liar));
    EXPECT_FALSE(s.in_table(asker, stranger));
    EXPECT_FALSE(s.net.connected(asker + 1, liar + 1));
}

// Same seed, same run: the LocalNet trace and the lookup results are identical; another seed differs.
TEST(DhtLocalNet, SameSeedSameTrace) {
    auto run = [](uint64_t seed) {
        Scenario s{32, seed};
        s.bootstrap();
        std::vector<std::vector<NodeId>> results;
        for (int t = 0; t < 8; ++t) {
            const Hash target = test::random_hash(s.rng);
            results.push_back(ids_of(s.lookup(s.rng() % 32, target)));
        }
        return std::make_pair(s.trace, results);
    };
    const auto a = run(7);
    const auto b = run(7);
    const auto c = run(8);
    EXPECT_GT(a.first.size(), 1000u);
    EXPECT_TRUE(a.first == b.first);
    EXPECT_EQ(a.second, b.second);
    EXPECT_FALSE(a.first == c.first);
}

}  // namespace
}  // namespace carousel::dht
