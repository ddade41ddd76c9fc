// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "dht.hpp"

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <carousel/proto/dht_messages.hpp>
#include <carousel/testing/dht_test_util.hpp>

namespace carousel::dht {
namespace {

using namespace std::chrono_literals;

// A Dht with its callbacks recorded: no driver, the test plays the peers.
struct Harness {
    std::vector<std::pair<PeerId, Bytes>> sent;
    std::vector<std::pair<PeerId, std::string>> dropped;
    Dht dht;

    explicit Harness(const NodeId& id, Options options = {})
        : dht{Contact{id, 0, Radius{10}}, options, [this](PeerId to, Bytes f) { sent.emplace_back(to, std::move(f)); },
              [this](PeerId p, std::string reason) { dropped.emplace_back(p, std::move(reason)); }} {}

    // The frames sent since the last call.
    std::vector<std::pair<PeerId, Bytes>> take() { return std::exchange(sent, {}); }
};

NodeId id_n(uint8_t n) {
    NodeId id{};
    id[0] = n;
    return id;
}

TEST(Dht, AnswersPingAndLearnsThePeer) {
    Harness h{id_n(0)};
    h.dht.on_frame(7, proto::encode(proto::Ping{42, id_n(0x80), 5}), 1s);
    const auto out = h.take();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].first, 7u);
    auto pong = proto::decode_pong(out[0].second);
    ASSERT_TRUE(pong);
    EXPECT_EQ(*pong, (proto::Pong{42, id_n(0), 10}));
    const auto e = h.dht.table().find(id_n(0x80));
    ASSERT_TRUE(e);
    EXPECT_EQ(e->contact, (Contact{id_n(0x80), 7, Radius{5}}));
    EXPECT_EQ(e->last_seen, 1s);
    EXPECT_EQ(h.dht.id_of(7), id_n(0x80));
}

TEST(Dht, PingsOnConnectAndLearnsFromPong) {
    Harness h{id_n(0)};
    h.dht.on_connect(3, 0s);
    auto out = h.take();
    ASSERT_EQ(out.size(), 1u);
    auto ping = proto::decode_ping(out[0].second);
    ASSERT_TRUE(ping);
    EXPECT_EQ(ping->sender, id_n(0));
    EXPECT_EQ(ping->radius_bits, 10u);
    EXPECT_EQ(h.dht.next_deadline(), 2s);
    // A PONG with another request id, or from another peer, is ignored.
    h.dht.on_frame(3, proto::encode(proto::Pong{ping->request_id + 1, id_n(0x40), 0}), 1s);
    h.dht.on_frame(4, proto::encode(proto::Pong{ping->request_id, id_n(0x40), 0}), 1s);
    EXPECT_EQ(h.dht.table().size(), 0u);
    h.dht.on_frame(3, proto::encode(proto::Pong{ping->request_id, id_n(0x40), 0}), 1s);
    EXPECT_TRUE(h.dht.table().find(id_n(0x40)));
    EXPECT_FALSE(h.dht.next_deadline());
    EXPECT_TRUE(h.dropped.empty());
    // With ping_on_connect off, connecting sends nothing.
    Harness quiet{id_n(0), Options{.ping_on_connect = false}};
    quiet.dht.on_connect(3, 0s);
    EXPECT_TRUE(quiet.take().empty());
}

TEST(Dht, AnswersFindNodesAndPingsUnknownRequesters) {
    Harness h{id_n(0)};
    for (uint8_t i = 1; i <= 20; ++i)
        h.dht.on_frame(i, proto::encode(proto::Ping{1, id_n(static_cast<uint8_t>(i * 8)), 0}), 0s);
    h.take();
    // Peer 1 (known: id 8) asks for 4 nodes closest to id 8: itself is left out.
    h.dht.on_frame(1, proto::encode(proto::FindNodes{9, id_n(8), 4}), 1s);
    auto out = h.take();
    ASSERT_EQ(out.size(), 1u);
    auto nodes = proto::decode_nodes(out[0].second);
    ASSERT_TRUE(nodes);
    EXPECT_EQ(nodes->request_id, 9u);
    std::vector<Hash> got;
    for (const auto& n : nodes->nodes) got.push_back(n.id);
    EXPECT_EQ(got, (std::vector<Hash>{id_n(0x18), id_n(0x10), id_n(0x28), id_n(0x20)}));  // XOR 0x10, 0x18, 0x20, 0x28
    EXPECT_EQ(nodes->nodes[0].address, 3u);
    // An unknown peer gets its answer and a PING, once.
    h.dht.on_frame(99, proto::encode(proto::FindNodes{1, id_n(0), 16}), 1s);
    h.dht.on_frame(99, proto::encode(proto::FindNodes{2, id_n(0), 16}), 1s);
    out = h.take();
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(proto::decode_nodes(out[0].second)->nodes.size(), 16u);
    EXPECT_TRUE(proto::decode_ping(out[1].second));
    EXPECT_TRUE(proto::decode_nodes(out[2].second));
}

TEST(Dht, MalformedFramesDropThePeer) {
    const std::vector<std::pair<Bytes, std::string>> cases = {
        {Bytes{0x01}, "dht: malformed PING: malformed message"},
        {Bytes{0x02, 0xc0}, "dht: malformed PONG: malformed message"},
        {proto::encode(proto::FindNodes{1, id_n(1), 17}),
         "dht: malformed FINDNODES: FINDNODES count is 0 or over the cap"},
        {Bytes{0x04, 0xc2, 0x01, 0x05}, "dht: malformed NODES: malformed message"},
        {Bytes{0x10, 0xc0}, "dht: not a DHT message"},
        {proto::encode(proto::Ping{1, id_n(0), 0}), "dht: peer claims our node id"},
    };
    for (const auto& [frame, reason] : cases) {
        Harness h{id_n(0)};
        h.dht.on_frame(5, proto::encode(proto::Ping{1, id_n(0x55), 0}), 0s);
        ASSERT_TRUE(h.dht.table().find(id_n(0x55)));
        h.dht.on_frame(5, frame, 1s);
        ASSERT_EQ(h.dropped.size(), 1u) << reason;
        EXPECT_EQ(h.dropped[0], (std::pair<PeerId, std::string>{5, reason}));
        EXPECT_FALSE(h.dht.table().find(id_n(0x55))) << reason;
        EXPECT_FALSE(h.dht.id_of(5));
        EXPECT_EQ(h.dht.stats().disconnects, 1u);
    }
}

TEST(Dht, TimeoutsCountAsFailuresUntilTheContactLeaves) {
    Harness h{id_n(0), Options{.request_timeout = 2s, .max_failures = 2}};
    h.dht.on_frame(5, proto::encode(proto::Ping{1, id_n(0x55), 0}), 0s);
    h.take();
    h.dht.ping(5, 10s);
    EXPECT_EQ(h.dht.next_deadline(), 12s);
    h.dht.on_timer(11s);  // early: nothing expires
    EXPECT_EQ(h.dht.stats().timeouts, 0u);
    h.dht.on_timer(12s);
    EXPECT_EQ(h.dht.stats().timeouts, 1u);
    EXPECT_EQ(h.dht.table().find(id_n(0x55))->failures, 1u);
    EXPECT_FALSE(h.dht.next_deadline());
    // A PONG after the timeout is ignored (no offence, no refresh).
    const auto ping = proto::decode_ping(h.take().at(0).second);
    h.dht.on_frame(5, proto::encode(proto::Pong{ping->request_id, id_n(0x55), 0}), 13s);
    EXPECT_TRUE(h.dropped.empty());
    EXPECT_EQ(h.dht.table().find(id_n(0x55))->failures, 1u);
    h.dht.ping(5, 20s);
    h.dht.on_timer(30s);
    EXPECT_FALSE(h.dht.table().find(id_n(0x55)));
    EXPECT_EQ(h.dht.table().size(), 0u);
}

TEST(Dht, RevalidationPingsTheLeastRecentlySeen) {
    Harness h{id_n(0), Options{.request_timeout = 2s, .max_failures = 1, .revalidate_interval = 10s}};
    EXPECT_EQ(h.dht.next_deadline(), 10s);
    h.dht.on_frame(1, proto::encode(proto::Ping{1, id_n(0x80), 0}), 1s);
    h.dht.on_frame(2, proto::encode(proto::Ping{1, id_n(0x40), 0}), 4s);
    h.take();
    // At 10 s nobody has been silent for 10 s yet.
    h.dht.on_timer(10s);
    EXPECT_TRUE(h.take().empty());
    EXPECT_EQ(h.dht.next_deadline(), 20s);
    // At 20 s peer 1 (seen at 1 s) is asked first; it answers.
    h.dht.on_timer(20s);
    auto out = h.take();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].first, 1u);
    EXPECT_EQ(h.dht.next_deadline(), 22s);
    h.dht.on_frame(1, proto::encode(proto::Pong{proto::decode_ping(out[0].second)->request_id, id_n(0x80), 0}), 21s);
    // At 30 s peer 2 (seen at 4 s) is asked; it stays silent and leaves the table at 32 s.
    h.dht.on_timer(30s);
    out = h.take();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].first, 2u);
    h.dht.on_timer(32s);
    EXPECT_FALSE(h.dht.table().find(id_n(0x40)));
    EXPECT_TRUE(h.dht.table().find(id_n(0x80)));
    EXPECT_EQ(h.dht.stats().revalidations, 2u);
}

TEST(Dht, LookupOverScriptedPeers) {
    Harness h{id_n(0), Options{.k = 2, .alpha = 1}};
    // Known: peer 1 (id 0x80). It will point at peer 2 (id 0x41), which points at peer 3 (id 0x40).
    h.dht.on_frame(1, proto::encode(proto::Ping{1, id_n(0x80), 0}), 0s);
    h.take();
    std::vector<Contact> result;
    bool finished = false;
    h.dht.start_lookup(id_n(0x40), 0s, [&](std::vector<Contact> r) {
        result = std::move(r);
        finished = true;
    });
    auto out = h.take();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].first, 1u);
    auto q1 = proto::decode_find_nodes(out[0].second);
    ASSERT_TRUE(q1);
    EXPECT_EQ(q1->target, id_n(0x40));
    EXPECT_EQ(q1->count, 2u);
    // Peer 1 answers with peer 2 and with the asking node itself (left out).
    h.dht.on_frame(1, proto::encode(proto::Nodes{q1->request_id, {{id_n(0x41), 2, 3}, {id_n(0), 0, 0}}}), 1s);
    out = h.take();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].first, 2u);
    auto q2 = proto::decode_find_nodes(out[0].second);
    h.dht.on_frame(2, proto::encode(proto::Nodes{q2->request_id, {{id_n(0x40), 3, 0}}}), 2s);
    out = h.take();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].first, 3u);
    // Peer 3 never answers: after the timeout the lookup ends with the two that did.
    EXPECT_FALSE(finished);
    h.dht.on_timer(*h.dht.next_deadline());
    ASSERT_TRUE(finished);
    EXPECT_EQ(test::ids_of(result), (std::vector<NodeId>{id_n(0x41), id_n(0x80)}));
    EXPECT_EQ(result[0].radius, Radius{3});
    EXPECT_EQ(h.dht.active_lookups(), 0u);
    EXPECT_EQ(h.dht.stats().lookups_done, 1u);
    // A third-party contact never entered the table.
    EXPECT_FALSE(h.dht.table().find(id_n(0x41)));
}

TEST(Dht, DisconnectFailsPendingQueriesAtOnce) {
    Harness h{id_n(0), Options{.k = 2, .alpha = 3}};
    h.dht.on_frame(1, proto::encode(proto::Ping{1, id_n(0x80), 0}), 0s);
    h.dht.on_frame(2, proto::encode(proto::Ping{1, id_n(0x81), 0}), 0s);
    h.take();
    std::optional<std::vector<Contact>> result;
    h.dht.start_lookup(id_n(0x80), 0s, [&](std::vector<Contact> r) { result = std::move(r); });
    ASSERT_EQ(h.take().size(), 2u);
    h.dht.on_disconnect(1, 1s);
    EXPECT_FALSE(h.dht.table().find(id_n(0x80)));
    EXPECT_FALSE(result);
    h.dht.on_disconnect(2, 1s);
    ASSERT_TRUE(result);
    EXPECT_TRUE(result->empty());
    EXPECT_FALSE(h.dht.next_deadline());
}

TEST(Dht, NodesLongerThanAskedDropsThePeer) {
    Harness h{id_n(0), Options{.k = 2}};
    h.dht.on_frame(1, proto::encode(proto::Ping{1, id_n(0x80), 0}), 0s);
    h.take();
    h.dht.start_lookup(id_n(0x80), 0s, [](std::vector<Contact>) {});
    auto q = proto::decode_find_nodes(h.take().at(0).second);
    h.dht.on_frame(1, proto::encode(proto::Nodes{q->request_id, {{id_n(1), 1, 0}, {id_n(2), 1, 0}, {id_n(3), 1, 0}}}),
                   1s);
    ASSERT_EQ(h.dropped.size(), 1u);
    EXPECT_EQ(h.dropped[0].second, "dht: NODES reply longer than asked");
}

TEST(Dht, EmptyTableLookupEndsAtOnceAndCancelWorks) {
    Harness h{id_n(0)};
    bool called = false;
    h.dht.start_lookup(id_n(1), 0s, [&](std::vector<Contact> r) {
        called = true;
        EXPECT_TRUE(r.empty());
    });
    EXPECT_TRUE(called);
    h.dht.on_frame(1, proto::encode(proto::Ping{1, id_n(0x80), 0}), 0s);
    h.take();
    bool cancelled_called = false;
    const LookupId id = h.dht.start_lookup(id_n(1), 0s, [&](std::vector<Contact>) { cancelled_called = true; });
    EXPECT_TRUE(h.dht.cancel_lookup(id));
    EXPECT_FALSE(h.dht.cancel_lookup(id));
    h.dht.on_timer(10s);
    EXPECT_FALSE(cancelled_called);
}

}  // namespace
}  // namespace carousel::dht
