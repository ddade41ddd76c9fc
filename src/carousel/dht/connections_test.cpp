// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "connections.hpp"

#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace carousel::dht {
namespace {

using namespace std::chrono_literals;
using proto::Address;
using proto::PeerId;
using proto::Time;
using SendResult = Connections::SendResult;

NodeId node(uint8_t n) {
    NodeId id{};
    id[0] = n;
    return id;
}

Address address_of(uint8_t n) { return Address{{10, 0, 0, n}, 30303}; }

Bytes frame(uint8_t tag, std::size_t size = 1) {
    Bytes out(size, tag);  // not braces: those would make the two bytes {size, tag}
    return out;
}

// What the callbacks were asked, in order.
struct Calls {
    std::vector<std::pair<PeerId, Bytes>> sent;
    std::vector<std::pair<PeerId, std::string>> disconnects;
    std::vector<Address> dials;
    std::vector<std::pair<NodeId, Time>> unreachable;
    friend bool operator==(const Calls&, const Calls&) = default;
};

// A Connections for node `self` whose callbacks record into `calls`.
struct Harness {
    explicit Harness(ConnectionsOptions options, NodeId self = node(0x80))
        : connections(
              self, options, [this](PeerId to, Bytes f) { calls.sent.emplace_back(to, std::move(f)); },
              [this](PeerId peer, std::string reason) { calls.disconnects.emplace_back(peer, std::move(reason)); },
              [this](const Address& to) { calls.dials.push_back(to); },
              [this](const NodeId& n, Time now) { calls.unreachable.emplace_back(n, now); }) {}

    // The driver answers the dial to node n's address with connection `peer`, and its handshake
    // succeeds.
    void dialed_and_authenticated(uint8_t n, PeerId peer, Time now) {
        connections.on_dialed(address_of(n), peer, now);
        connections.on_connect(peer, now);
        connections.on_authenticated(peer, node(n), now);
    }

    // Reaches node n (dial, connect, authenticate) as connection 100 + n; returns its PeerId.
    PeerId establish(uint8_t n, Time now) {
        EXPECT_EQ(connections.connect(node(n), address_of(n), now), SendResult::kQueued);
        const PeerId peer = 100U + n;
        dialed_and_authenticated(n, peer, now);
        EXPECT_EQ(connections.peer_of(node(n)), peer);
        return peer;
    }

    Calls calls;
    Connections connections;
};

ConnectionsOptions small_cap(std::size_t max_peers) {
    ConnectionsOptions o;
    o.max_peers = max_peers;
    o.min_idle_to_evict = 1s;
    return o;
}

TEST(Connections, SendToAnUnknownNodeDialsOnceAndQueues) {
    Harness h{ConnectionsOptions{}};
    EXPECT_EQ(h.connections.send(node(1), address_of(1), frame(1), 0s), SendResult::kQueued);
    EXPECT_EQ(h.connections.send(node(1), address_of(1), frame(2), 1s), SendResult::kQueued);
    EXPECT_EQ(h.calls.dials, std::vector<Address>{address_of(1)});
    EXPECT_TRUE(h.calls.sent.empty());
    EXPECT_EQ(h.connections.queued_frames(node(1)), 2U);
    EXPECT_EQ(h.connections.size(), 1U);  // the dial holds a slot
    EXPECT_EQ(h.connections.stats().dials, 1U);
}

TEST(Connections, NoSecondDialWhileTheHandshakeRuns) {
    Harness h{ConnectionsOptions{}};
    h.connections.send(node(1), address_of(1), frame(1), 0s);
    h.connections.on_dialed(address_of(1), 7, 1s);
    h.connections.on_connect(7, 1s);
    EXPECT_EQ(h.connections.dialed_node(7), node(1));
    EXPECT_EQ(h.connections.node_of(7), std::nullopt);
    EXPECT_EQ(h.connections.send(node(1), address_of(1), frame(2), 2s), SendResult::kQueued);
    EXPECT_EQ(h.calls.dials.size(), 1U);
    EXPECT_EQ(h.connections.size(), 1U);
}

TEST(Connections, QueueIsFlushedInOrderOnAuthentication) {
    Harness h{ConnectionsOptions{}};
    for (uint8_t i = 1; i <= 3; ++i) h.connections.send(node(1), address_of(1), frame(i), 0s);
    h.dialed_and_authenticated(1, 7, 1s);
    const std::vector<std::pair<PeerId, Bytes>> flushed{{7, frame(1)}, {7, frame(2)}, {7, frame(3)}};
    EXPECT_EQ(h.calls.sent, flushed);
    EXPECT_EQ(h.connections.queued_frames(node(1)), 0U);
    EXPECT_EQ(h.connections.node_of(7), node(1));
    // Connected now: sent at once.
    EXPECT_EQ(h.connections.send(node(1), address_of(1), frame(4), 2s), SendResult::kSent);
    EXPECT_EQ(h.calls.sent.back(), (std::pair<PeerId, Bytes>{7, frame(4)}));
    EXPECT_EQ(h.calls.dials.size(), 1U);
    EXPECT_TRUE(h.calls.unreachable.empty());
}

TEST(Connections, DialFailureDropsTheQueueAndReportsTheNode) {
    Harness h{ConnectionsOptions{}};
    h.connections.send(node(1), address_of(1), frame(1), 0s);
    h.connections.send(node(1), address_of(1), frame(2), 0s);
    h.connections.on_dial_failed(address_of(1), 3s);
    EXPECT_EQ(h.calls.unreachable, (std::vector<std::pair<NodeId, Time>>{{node(1), 3s}}));
    EXPECT_EQ(h.connections.queued_frames(node(1)), 0U);
    EXPECT_EQ(h.connections.size(), 0U);
    EXPECT_EQ(h.connections.stats().dial_failures, 1U);
    EXPECT_EQ(h.connections.stats().frames_dropped, 2U);
    EXPECT_TRUE(h.calls.sent.empty());
    // Sends are refused for redial_backoff (10 s), then it tries again.
    EXPECT_EQ(h.connections.send(node(1), address_of(1), frame(3), 12s), SendResult::kUnreachable);
    EXPECT_EQ(h.calls.unreachable.back(), (std::pair<NodeId, Time>{node(1), 12s}));
    EXPECT_EQ(h.connections.send(node(1), address_of(1), frame(4), 13s), SendResult::kQueued);
    EXPECT_EQ(h.calls.dials.size(), 2U);
}

TEST(Connections, AConnectionFromANodeEndsItsBackOff) {
    Harness h{ConnectionsOptions{}};
    h.connections.send(node(1), address_of(1), frame(1), 0s);
    h.connections.on_dial_failed(address_of(1), 1s);
    h.connections.on_connect(50, 2s);
    h.connections.on_authenticated(50, node(1), 2s);
    h.connections.on_disconnect(50, 3s);
    EXPECT_EQ(h.connections.send(node(1), address_of(1), frame(2), 4s), SendResult::kQueued);
    EXPECT_EQ(h.calls.dials.size(), 2U);
}

TEST(Connections, DisconnectBeforeAuthenticationReportsTheNode) {
    Harness h{ConnectionsOptions{}};
    h.connections.send(node(1), address_of(1), frame(1), 0s);
    h.connections.on_dialed(address_of(1), 7, 1s);
    h.connections.on_connect(7, 1s);
    EXPECT_EQ(h.connections.on_disconnect(7, 2s), std::nullopt);
    EXPECT_EQ(h.calls.unreachable, (std::vector<std::pair<NodeId, Time>>{{node(1), 2s}}));
    EXPECT_EQ(h.connections.size(), 0U);
    EXPECT_EQ(h.connections.stats().frames_dropped, 1U);
}

TEST(Connections, AFrameToANodeWhoseConnectionDroppedRedials) {
    Harness h{ConnectionsOptions{}};
    const PeerId peer = h.establish(1, 0s);
    EXPECT_EQ(h.connections.on_disconnect(peer, 1s), node(1));
    EXPECT_EQ(h.connections.peer_of(node(1)), std::nullopt);
    EXPECT_TRUE(h.calls.unreachable.empty());  // nothing was waiting
    EXPECT_EQ(h.connections.send(node(1), address_of(1), frame(1), 2s), SendResult::kQueued);
    EXPECT_EQ(h.calls.dials, (std::vector<Address>{address_of(1), address_of(1)}));
    h.dialed_and_authenticated(1, 8, 3s);
    EXPECT_EQ(h.calls.sent, (std::vector<std::pair<PeerId, Bytes>>{{8, frame(1)}}));
}

// The unit test: with max_peers N, sends to N + k distinct nodes never hold more than N
// connections plus dials, evicting the least recently used idle connections.
TEST(Connections, DialingRespectsTheConnectionCap) {
    constexpr std::size_t kCap = 4;
    Harness h{small_cap(kCap)};
    Time now = 0s;
    for (uint8_t n = 1; n <= 3 * kCap; ++n) {
        now += 2s;  // every earlier connection is idle for at least min_idle_to_evict
        EXPECT_EQ(h.connections.send(node(n), address_of(n), frame(n), now), SendResult::kQueued);
        EXPECT_LE(h.connections.size(), kCap);
        h.dialed_and_authenticated(n, 100U + n, now);
        EXPECT_LE(h.connections.size(), kCap);
        EXPECT_EQ(h.calls.sent.back(), (std::pair<PeerId, Bytes>{100U + n, frame(n)}));
    }
    EXPECT_EQ(h.connections.size(), kCap);
    EXPECT_EQ(h.connections.stats().peak, kCap);
    EXPECT_EQ(h.connections.stats().evictions, 2 * kCap);
    // Evicted oldest first: the survivors are the last kCap nodes.
    ASSERT_EQ(h.calls.disconnects.size(), 2 * kCap);
    for (uint8_t n = 1; n <= 2 * kCap; ++n) {
        EXPECT_EQ(h.calls.disconnects[n - 1U], (std::pair<PeerId, std::string>{100U + n, "evicted: too many peers"}));
    }
    for (uint8_t n = 2 * kCap + 1; n <= 3 * kCap; ++n) EXPECT_EQ(h.connections.peer_of(node(n)), 100U + n);
    EXPECT_TRUE(h.calls.unreachable.empty());
}

TEST(Connections, EvictsTheLeastRecentlyUsed) {
    Harness h{small_cap(3)};
    h.establish(1, 0s);
    h.establish(2, 1s);
    h.establish(3, 2s);
    h.connections.touch(101, 5s);                              // a frame from node 1
    h.connections.send(node(2), address_of(2), frame(0), 6s);  // one to node 2
    EXPECT_EQ(h.connections.send(node(4), address_of(4), frame(4), 10s), SendResult::kQueued);
    EXPECT_EQ(h.calls.disconnects, (std::vector<std::pair<PeerId, std::string>>{{103, "evicted: too many peers"}}));
    EXPECT_EQ(h.connections.peer_of(node(3)), std::nullopt);
    EXPECT_EQ(h.connections.on_disconnect(103, 10s), std::nullopt);  // the driver's echo is ignored
}

TEST(Connections, PinnedConnectionsAreNeverEvictedAndAFullCapRefuses) {
    Harness h{small_cap(2)};
    h.establish(1, 0s);
    h.establish(2, 0s);
    h.connections.pin(node(1));
    h.connections.pin(node(2));
    h.connections.pin(node(2));  // pins nest
    EXPECT_EQ(h.connections.send(node(3), address_of(3), frame(3), 100s), SendResult::kUnreachable);
    EXPECT_EQ(h.calls.unreachable, (std::vector<std::pair<NodeId, Time>>{{node(3), 100s}}));
    EXPECT_EQ(h.calls.dials.size(), 2U);
    EXPECT_TRUE(h.calls.disconnects.empty());
    EXPECT_EQ(h.connections.stats().refused_sends, 1U);
    EXPECT_EQ(h.connections.stats().frames_dropped, 1U);
    EXPECT_EQ(h.connections.queued_frames(node(3)), 0U);

    h.connections.unpin(node(2));  // still pinned once
    EXPECT_EQ(h.connections.connect(node(3), address_of(3), 101s), SendResult::kUnreachable);
    h.connections.unpin(node(2));
    EXPECT_EQ(h.connections.send(node(3), address_of(3), frame(3), 102s), SendResult::kQueued);
    EXPECT_EQ(h.calls.disconnects, (std::vector<std::pair<PeerId, std::string>>{{102, "evicted: too many peers"}}));
    EXPECT_EQ(h.connections.peer_of(node(1)), 101U);
}

TEST(Connections, BusyConnectionsAndDialsAreNotEvicted) {
    Harness h{small_cap(3)};
    h.establish(1, 0s);
    h.connections.send(node(2), address_of(2), frame(2), 0s);  // a dial, never answered
    h.connections.on_connect(50, 0s);                          // an inbound connection, not authenticated
    h.connections.touch(101, 5s);
    // Node 1 was used 0.5 s ago (< min_idle_to_evict); the dial and the handshake hold their slots.
    EXPECT_EQ(h.connections.send(node(3), address_of(3), frame(3), 5500ms), SendResult::kUnreachable);
    EXPECT_TRUE(h.calls.disconnects.empty());
    EXPECT_EQ(h.connections.size(), 3U);
}

TEST(Connections, InboundAtTheCapEvictsOrIsRefused) {
    ConnectionsOptions o = small_cap(2);
    o.inbound_share = 1;
    Harness h{o};
    h.establish(1, 0s);
    h.establish(2, 1s);
    h.connections.on_connect(50, 10s);
    EXPECT_EQ(h.calls.disconnects, (std::vector<std::pair<PeerId, std::string>>{{101, "evicted: too many peers"}}));
    EXPECT_EQ(h.connections.size(), 2U);
    EXPECT_EQ(h.connections.dialed_node(50), std::nullopt);
    // Now the cap holds node 2 (pinned) and a connection still in its handshake: nothing to evict.
    h.connections.pin(node(2));
    h.connections.on_connect(51, 20s);
    EXPECT_EQ(h.calls.disconnects.back(), (std::pair<PeerId, std::string>{51, "too many peers"}));
    EXPECT_FALSE(h.connections.contains(51));
    EXPECT_TRUE(h.connections.contains(50));
    EXPECT_EQ(h.connections.stats().refused_inbound, 1U);
    EXPECT_EQ(h.connections.size(), 2U);
    EXPECT_EQ(h.connections.stats().peak, 2U);
}

TEST(Connections, InboundConnectionsLeaveSlotsForDials) {
    ConnectionsOptions o = small_cap(3);
    o.inbound_share = 2.0 / 3.0;
    Harness h{o};
    EXPECT_EQ(h.connections.max_inbound(), 2U);
    h.connections.on_connect(50, 0s);
    h.connections.on_authenticated(50, node(50), 0s);
    h.connections.on_connect(51, 1s);
    h.connections.on_authenticated(51, node(51), 1s);
    // The inbound share is full, not the cap: the least recently used inbound connection goes.
    h.connections.on_connect(52, 10s);
    EXPECT_EQ(h.calls.disconnects, (std::vector<std::pair<PeerId, std::string>>{{50, "evicted: too many peers"}}));
    EXPECT_EQ(h.connections.inbound(), 2U);
    // The third slot is this node's to dial with.
    h.establish(1, 10s);
    EXPECT_EQ(h.connections.size(), 3U);
    // With the inbound connections busy, an inbound one does not take the dialed connection's slot.
    h.connections.pin(node(51));
    h.connections.on_connect(53, 100s);
    EXPECT_EQ(h.calls.disconnects.back(), (std::pair<PeerId, std::string>{53, "too many peers"}));
    EXPECT_EQ(h.connections.peer_of(node(1)), 101U);
    // A send may evict an inbound connection: the cap is shared, the share bounds inbound only.
    h.connections.pin(node(1));
    h.connections.on_authenticated(52, node(52), 100s);
    EXPECT_EQ(h.connections.send(node(2), address_of(2), frame(2), 200s), SendResult::kQueued);
    EXPECT_EQ(h.calls.disconnects.back(), (std::pair<PeerId, std::string>{52, "evicted: too many peers"}));
    EXPECT_LE(h.connections.size(), 3U);
}

TEST(Connections, IdleConnectionsCloseButPinnedOnesStay) {
    ConnectionsOptions o;
    o.idle_timeout = 60s;
    Harness h{o};
    h.establish(1, 0s);
    h.establish(2, 0s);
    h.connections.pin(node(2));
    h.connections.touch(101, 30s);
    EXPECT_EQ(h.connections.next_deadline(), 90s);
    h.connections.on_timer(89s);
    EXPECT_TRUE(h.calls.disconnects.empty());
    h.connections.on_timer(90s);
    EXPECT_EQ(h.calls.disconnects, (std::vector<std::pair<PeerId, std::string>>{{101, "idle"}}));
    EXPECT_EQ(h.connections.stats().idle_closes, 1U);
    EXPECT_EQ(h.connections.next_deadline(), std::nullopt);  // only the pinned one is left
    h.connections.on_timer(1000s);
    EXPECT_EQ(h.connections.peer_of(node(2)), 102U);
    // Unpinned, it has been idle for long: it goes at the next timer.
    h.connections.unpin(node(2));
    EXPECT_EQ(h.connections.next_deadline(), 60s);
    h.connections.on_timer(1000s);
    EXPECT_EQ(h.connections.size(), 0U);
}

TEST(Connections, HandshakesAndDialsThatNeverFinishTimeOut) {
    ConnectionsOptions o;
    o.dial_timeout = 20s;
    o.handshake_timeout = 10s;
    Harness h{o};
    h.connections.send(node(1), address_of(1), frame(1), 0s);  // never answered
    h.connections.send(node(2), address_of(2), frame(2), 5s);
    h.connections.on_dialed(address_of(2), 7, 6s);
    h.connections.on_connect(7, 6s);   // never authenticates
    h.connections.on_connect(50, 8s);  // inbound, never authenticates
    EXPECT_EQ(h.connections.next_deadline(), 16s);
    h.connections.on_timer(16s);
    EXPECT_EQ(h.calls.disconnects, (std::vector<std::pair<PeerId, std::string>>{{7, "handshake timed out"}}));
    EXPECT_EQ(h.calls.unreachable, (std::vector<std::pair<NodeId, Time>>{{node(2), 16s}}));
    h.connections.on_timer(20s);
    EXPECT_EQ(h.calls.disconnects.back(), (std::pair<PeerId, std::string>{50, "handshake timed out"}));
    EXPECT_EQ(h.calls.unreachable.back(), (std::pair<NodeId, Time>{node(1), 20s}));
    EXPECT_EQ(h.connections.stats().handshake_timeouts, 2U);
    EXPECT_EQ(h.connections.stats().dial_failures, 1U);
    EXPECT_EQ(h.connections.size(), 0U);
    // The driver answers the abandoned dial late: a connection dialed by this side, expecting no one.
    h.connections.on_dialed(address_of(1), 9, 25s);
    h.connections.on_connect(9, 25s);
    EXPECT_EQ(h.connections.size(), 1U);
    EXPECT_EQ(h.connections.dialed_node(9), std::nullopt);
    h.connections.on_authenticated(9, node(1), 26s);
    EXPECT_EQ(h.connections.peer_of(node(1)), 9U);
}

TEST(Connections, DialedConnectionMustAuthenticateAsItsNode) {
    Harness h{ConnectionsOptions{}};
    h.connections.send(node(1), address_of(1), frame(1), 0s);
    h.connections.on_dialed(address_of(1), 7, 0s);
    h.connections.on_connect(7, 0s);
    h.connections.on_authenticated(7, node(2), 1s);
    EXPECT_EQ(h.calls.disconnects,
              (std::vector<std::pair<PeerId, std::string>>{{7, "authenticated as another node than the one dialed"}}));
    EXPECT_EQ(h.calls.unreachable, (std::vector<std::pair<NodeId, Time>>{{node(1), 1s}}));
    EXPECT_EQ(h.connections.peer_of(node(2)), std::nullopt);
    EXPECT_TRUE(h.calls.sent.empty());
}

TEST(Connections, AConnectionToItselfIsClosed) {
    Harness h{ConnectionsOptions{}, node(0x80)};
    h.connections.on_connect(50, 0s);
    h.connections.on_authenticated(50, node(0x80), 0s);
    EXPECT_EQ(h.calls.disconnects, (std::vector<std::pair<PeerId, std::string>>{{50, "connected to itself"}}));
    EXPECT_EQ(h.connections.send(node(0x80), address_of(1), frame(1), 0s), SendResult::kUnreachable);
    EXPECT_TRUE(h.calls.dials.empty());
}

TEST(Connections, AnInboundConnectionServesTheQueueOfANodeBeingDialed) {
    Harness h{ConnectionsOptions{}};
    h.connections.send(node(1), address_of(1), frame(1), 0s);
    h.connections.on_connect(50, 1s);
    h.connections.on_authenticated(50, node(1), 1s);
    EXPECT_EQ(h.calls.sent, (std::vector<std::pair<PeerId, Bytes>>{{50, frame(1)}}));
    // The dial that was under way fails later: nothing was waiting any more.
    h.connections.on_dial_failed(address_of(1), 2s);
    EXPECT_TRUE(h.calls.unreachable.empty());
    EXPECT_EQ(h.connections.peer_of(node(1)), 50U);
}

TEST(Connections, OneDialPerAddress) {
    Harness h{ConnectionsOptions{}};
    h.connections.send(node(1), address_of(1), frame(1), 0s);
    EXPECT_EQ(h.connections.send(node(2), address_of(1), frame(2), 0s), SendResult::kUnreachable);
    EXPECT_EQ(h.calls.unreachable, (std::vector<std::pair<NodeId, Time>>{{node(2), 0s}}));
    EXPECT_EQ(h.calls.dials.size(), 1U);
}

TEST(Connections, QueuesAreBounded) {
    ConnectionsOptions o;
    o.max_queued_frames = 3;
    o.max_queued_bytes = 10;
    Harness h{o};
    EXPECT_EQ(h.connections.send(node(1), address_of(1), frame(1, 4), 0s), SendResult::kQueued);
    EXPECT_EQ(h.connections.send(node(1), address_of(1), frame(2, 7), 0s), SendResult::kQueueFull);  // 11 bytes
    EXPECT_EQ(h.connections.send(node(1), address_of(1), frame(3, 6), 0s), SendResult::kQueued);     // 10 bytes
    EXPECT_EQ(h.connections.send(node(1), address_of(1), Bytes{}, 0s), SendResult::kQueued);         // 3 frames
    EXPECT_EQ(h.connections.send(node(1), address_of(1), Bytes{}, 0s), SendResult::kQueueFull);
    EXPECT_EQ(h.connections.queued_frames(node(1)), 3U);
    EXPECT_EQ(h.connections.stats().frames_dropped, 2U);
    h.dialed_and_authenticated(1, 7, 1s);
    const std::vector<std::pair<PeerId, Bytes>> flushed{{7, frame(1, 4)}, {7, frame(3, 6)}, {7, Bytes{}}};
    EXPECT_EQ(h.calls.sent, flushed);
}

TEST(Connections, PeakCountsDialsAndStaysAfterClosing) {
    Harness h{ConnectionsOptions{}};
    h.establish(1, 0s);
    h.connections.send(node(2), address_of(2), frame(2), 0s);
    h.connections.on_connect(50, 0s);
    EXPECT_EQ(h.connections.size(), 3U);
    h.connections.on_dial_failed(address_of(2), 1s);
    h.connections.on_disconnect(50, 1s);
    EXPECT_TRUE(h.connections.close(101, "done", 1s));
    EXPECT_EQ(h.connections.size(), 0U);
    EXPECT_EQ(h.connections.stats().peak, 3U);
}

// Nodes a (low id) and b (high id) dial each other at once. Connection X is a's dial (a's peer 1, b's
// peer 11), Y is b's (a's peer 2, b's peer 12). Whatever order the handshakes end in, both keep X.
struct DuplicatePair {
    Harness a{ConnectionsOptions{}, node(1)};
    Harness b{ConnectionsOptions{}, node(2)};

    DuplicatePair() {
        a.connections.send(node(2), address_of(2), frame(0xa), 0s);
        b.connections.send(node(1), address_of(1), frame(0xb), 0s);
        a.connections.on_dialed(address_of(2), 1, 1s);
        a.connections.on_connect(1, 1s);
        a.connections.on_connect(2, 1s);
        b.connections.on_dialed(address_of(1), 12, 1s);
        b.connections.on_connect(12, 1s);
        b.connections.on_connect(11, 1s);
    }
};

TEST(Connections, BothSidesKeepTheConnectionTheLowerIdDialed) {
    for (const bool dialed_first : {true, false}) {
        DuplicatePair p;
        if (dialed_first) {
            p.a.connections.on_authenticated(1, node(2), 2s);
            p.a.connections.on_authenticated(2, node(2), 2s);
            p.b.connections.on_authenticated(12, node(1), 2s);
            p.b.connections.on_authenticated(11, node(1), 2s);
        } else {
            p.a.connections.on_authenticated(2, node(2), 2s);
            p.a.connections.on_authenticated(1, node(2), 2s);
            p.b.connections.on_authenticated(11, node(1), 2s);
            p.b.connections.on_authenticated(12, node(1), 2s);
        }
        EXPECT_EQ(p.a.calls.disconnects, (std::vector<std::pair<PeerId, std::string>>{{2, "duplicate connection"}}));
        EXPECT_EQ(p.b.calls.disconnects, (std::vector<std::pair<PeerId, std::string>>{{12, "duplicate connection"}}));
        EXPECT_EQ(p.a.connections.peer_of(node(2)), 1U);
        EXPECT_EQ(p.b.connections.peer_of(node(1)), 11U);
        EXPECT_EQ(p.a.connections.stats().duplicates_closed, 1U);
        EXPECT_EQ(p.a.connections.size(), 1U);
        // Each queue went out once, on the first connection that authenticated.
        EXPECT_EQ(p.a.calls.sent.size(), 1U);
        EXPECT_EQ(p.b.calls.sent.size(), 1U);
        EXPECT_TRUE(p.a.calls.unreachable.empty());
        EXPECT_TRUE(p.b.calls.unreachable.empty());
    }
}

TEST(Connections, ADialTheDriverResolvesOntoAnExistingConnectionCarriesTheAttempt) {
    // LocalNet names a node, not a connection: a dial to a node already linked answers with its link.
    Harness h{ConnectionsOptions{}};
    h.connections.on_connect(5, 0s);  // inbound, handshake running
    h.connections.send(node(5), address_of(5), frame(5), 0s);
    h.connections.on_dialed(address_of(5), 5, 1s);
    h.connections.on_connect(5, 1s);
    EXPECT_EQ(h.connections.size(), 1U);
    EXPECT_EQ(h.connections.dialed_node(5), node(5));
    h.connections.on_authenticated(5, node(5), 2s);
    EXPECT_EQ(h.calls.sent, (std::vector<std::pair<PeerId, Bytes>>{{5, frame(5)}}));
}

// Calls in a random order from a fixed seed, as a driver and a core might make them: after every call
// the cap holds and each node's authenticated connection is known as that node; no frame is lost
// silently. The driver answers
// dials oldest first and echoes every disconnect the object asks for with on_disconnect.
TEST(Connections, TheCapHoldsWhateverTheOrderOfEvents) {
    constexpr std::size_t kCap = 5;
    ConnectionsOptions o = small_cap(kCap);
    o.idle_timeout = 8s;
    Harness h{o};
    std::mt19937 rng{20};  // NOLINT(cert-msc32-c,cert-msc51-cpp): a fixed seed, for a reproducible test
    const auto pick = [&](uint32_t n) { return static_cast<uint32_t>(rng() % n); };
    const auto some_node = [&] { return static_cast<uint8_t>(1 + pick(20)); };
    std::set<PeerId> live;
    PeerId next_peer = 1000;
    std::size_t dials_answered = 0;
    std::size_t disconnects_seen = 0;
    uint64_t frames = 0;
    Time now = 0s;
    for (int step = 0; step < 20000; ++step) {
        now += std::chrono::milliseconds{pick(1500)};
        const auto random_live = [&] { return *std::next(live.begin(), pick(static_cast<uint32_t>(live.size()))); };
        switch (pick(8)) {
            case 0:
            case 1: {
                const uint8_t n = some_node();
                h.connections.send(node(n), address_of(n), frame(n), now);
                ++frames;
                break;
            }
            case 2:
                if (dials_answered < h.calls.dials.size()) {
                    const Address to = h.calls.dials[dials_answered++];
                    if (pick(3) == 0) {
                        h.connections.on_dial_failed(to, now);
                    } else {
                        h.connections.on_dialed(to, next_peer, now);
                        h.connections.on_connect(next_peer, now);
                        live.insert(next_peer++);
                    }
                }
                break;
            case 3:
                h.connections.on_connect(next_peer, now);
                live.insert(next_peer++);
                break;
            case 4:
                if (!live.empty()) {
                    const PeerId peer = random_live();
                    h.connections.on_authenticated(peer, h.connections.dialed_node(peer).value_or(node(some_node())),
                                                   now);
                }
                break;
            case 5:
                if (!live.empty()) {
                    const PeerId peer = random_live();
                    live.erase(peer);
                    h.connections.on_disconnect(peer, now);
                }
                break;
            case 6:
                if (pick(2) == 0) {
                    h.connections.pin(node(some_node()));
                } else {
                    h.connections.unpin(node(some_node()));
                }
                break;
            default:
                h.connections.on_timer(now);
        }
        for (; disconnects_seen < h.calls.disconnects.size(); ++disconnects_seen) {
            const PeerId peer = h.calls.disconnects[disconnects_seen].first;
            if (live.erase(peer) > 0) {
                EXPECT_EQ(h.connections.on_disconnect(peer, now), std::nullopt);  // already forgotten
            }
        }
        ASSERT_LE(h.connections.size(), kCap) << "step " << step;
        for (const auto& [n, peer] : h.connections.peers()) ASSERT_EQ(h.connections.node_of(peer), n);
    }
    const ConnectionStats& stats = h.connections.stats();
    EXPECT_EQ(stats.peak, kCap);
    // No frame is lost silently: each was sent, is still queued, or was counted as dropped.
    uint64_t queued = 0;
    for (uint8_t n = 1; n <= 20; ++n) queued += h.connections.queued_frames(node(n));
    EXPECT_EQ(frames, h.calls.sent.size() + queued + stats.frames_dropped);
    // Every path was taken.
    EXPECT_GT(stats.evictions, 0U);
    EXPECT_GT(stats.refused_sends, 0U);
    EXPECT_GT(stats.refused_inbound, 0U);
    EXPECT_GT(stats.duplicates_closed, 0U);
    EXPECT_GT(stats.idle_closes, 0U);
    EXPECT_GT(stats.handshake_timeouts, 0U);
    EXPECT_GT(stats.dial_failures, 0U);
    EXPECT_GT(stats.authenticated, 0U);
    EXPECT_GT(stats.frames_dropped, 0U);
}

// A scripted run of every kind of event, twice: the same calls give the same callbacks.
Calls scripted_run() {
    Harness h{small_cap(3)};
    for (uint8_t n = 1; n <= 6; ++n) {
        const Time now = std::chrono::seconds{2 * n};
        h.connections.send(node(n), address_of(n), frame(n), now);
        if (n % 3 == 0) {
            h.connections.on_dial_failed(address_of(n), now);
        } else {
            h.dialed_and_authenticated(n, 100U + n, now);
        }
        h.connections.on_connect(200U + n, now);
        if (n % 2 == 0) h.connections.on_authenticated(200U + n, node(static_cast<uint8_t>(100U + n)), now);
    }
    h.connections.on_timer(1000s);
    return h.calls;
}

TEST(Connections, Deterministic) {
    const Calls first = scripted_run();
    EXPECT_FALSE(first.disconnects.empty());
    EXPECT_FALSE(first.unreachable.empty());
    EXPECT_EQ(first, scripted_run());
}

}  // namespace
}  // namespace carousel::dht
