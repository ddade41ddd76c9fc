// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "discovery.hpp"

#include <algorithm>
#include <memory>

#include <gtest/gtest.h>

#include <carousel/core/keccak.hpp>
#include <carousel/net/local_net.hpp>
#include <carousel/proto/discovery_messages.hpp>

#include "discovery_packet.hpp"
#include "node_endpoint.hpp"

namespace carousel::dht {
namespace {

using namespace std::chrono_literals;
using proto::PeerId;

// Discovery nodes on net::LocalNet's datagrams (10 ms one way): each is a LocalNet node whose
// endpoint is its DiscoveryNode and whose record names its LocalNet address. Calls into a node go
// through LocalNet's post() so that what it queues is sent. Member i is LocalNet node i + 1.
class Hub {
  public:
    Hub() {
        net.set_link_model([](PeerId, PeerId) { return net::LinkSettings{10ms}; });
    }

    void add(DiscoveryOptions options = {}) {
        auto m = std::make_unique<Member>();
        // The id and address LocalNet gives the node added next: every node is a member.
        const auto id = static_cast<PeerId>(members_.size() + 1);
        Bytes secret(32, 0);
        secret[0] = 1;
        secret[30] = static_cast<uint8_t>(id >> 8U);
        secret[31] = static_cast<uint8_t>(id);
        m->key = KeyPair::from_secret(secret).value();
        m->address = net::default_address(id);
        m->node = std::make_unique<DiscoveryNode>(
            m->key, make_node_record(m->key, 1, {m->address.ip, m->address.port, 0, Radius{250}}).value(), options);
        EXPECT_EQ(net.add(*m->node), id);
        members_.push_back(std::move(m));
    }

    // Runs `fn` on member i's Discovery as node i's event now.
    void call(std::size_t i, std::function<void(Discovery&, proto::Time)> fn) {
        net.post(static_cast<PeerId>(i + 1), [this, i, fn = std::move(fn)] { fn(at(i), net.now()); });
    }
    void ping(std::size_t from, std::size_t to) {
        call(from, [r = record(to)](Discovery& d, proto::Time now) { d.ping(r, now); });
    }
    void run_for(proto::Time t) { net.run_until(net.now() + t); }

    // Sees each datagram a member sends; returning false drops it.
    void hook(std::function<bool(std::size_t from_member, Bytes& datagram)> keep) {
        if (!keep) return net.set_datagram_hook(nullptr);
        net.set_datagram_hook([keep = std::move(keep)](PeerId from, const proto::Address&, Bytes& d) {
            if (!keep(from - 1, d)) d.clear();
        });
    }
    void set_online(std::size_t i, bool online) { net.set_online(static_cast<PeerId>(i + 1), online); }

    Discovery& at(std::size_t i) { return members_[i]->node->discovery(); }
    const NodeRecord& record(std::size_t i) { return at(i).record(); }
    const KeyPair& key(std::size_t i) { return members_[i]->key; }
    const proto::Address& address(std::size_t i) { return members_[i]->address; }
    [[nodiscard]] std::size_t size() const { return members_.size(); }

    net::LocalNet net;

  private:
    struct Member {
        KeyPair key;
        proto::Address address;
        std::unique_ptr<DiscoveryNode> node;
    };
    std::vector<std::unique_ptr<Member>> members_;
};

bool in_table(Discovery& d, const NodeId& id) { return d.table().find(id).has_value(); }

uint8_t type_of(Bytes& datagram) { return open(datagram).value().frame[0]; }
constexpr auto kPingType = static_cast<uint8_t>(proto::DiscoveryMessageType::kPing);
constexpr auto kPongType = static_cast<uint8_t>(proto::DiscoveryMessageType::kPong);

TEST(Discovery, OnePingBondsBothWays) {
    Hub hub;
    hub.add();
    hub.add();
    hub.ping(0, 1);
    hub.run_for(1s);
    EXPECT_TRUE(in_table(hub.at(0), hub.record(1).node_id()));
    EXPECT_TRUE(in_table(hub.at(1), hub.record(0).node_id()));
    const auto e = hub.at(0).table().find(hub.record(1).node_id());
    ASSERT_TRUE(e && e->contact.record);
    EXPECT_EQ(e->contact.record->encoded(), hub.record(1).encoded());
    EXPECT_EQ(e->contact.radius, Radius{250});
    EXPECT_EQ(hub.at(0).stats().bad_packets + hub.at(1).stats().bad_packets, 0U);
}

// Every node joins through one bootnode and looks up its own id (Kademlia's join); then lookups
// from any node find exactly the k closest nodes of the whole network, each with a record to reach
// it by. Every datagram stays within the 1,280-byte bound (LocalNet drops and counts larger ones).
TEST(Discovery, LookupsFindTheClosestNodesOfANetworkBootstrappedFromOneNode) {
    Hub hub;
    constexpr std::size_t kNodes = 64;
    constexpr std::size_t kK = 8;
    for (std::size_t i = 0; i < kNodes; ++i) hub.add(DiscoveryOptions{.k = kK});
    for (std::size_t i = 1; i < kNodes; ++i) {
        hub.ping(i, 0);
        hub.run_for(1s);
        hub.call(i, [](Discovery& d, proto::Time now) { d.start_lookup(d.id(), now, [](auto) {}); });
        hub.run_for(10s);
    }
    for (std::size_t t = 0; t < 16; ++t) {
        const std::size_t from = (t * 7) % kNodes;
        const Hash target = keccak256(Bytes{static_cast<uint8_t>(t)});
        std::vector<NodeId> expected;
        for (std::size_t i = 0; i < kNodes; ++i) {
            if (i != from) expected.push_back(hub.record(i).node_id());
        }
        std::sort(expected.begin(), expected.end(),
                  [&](const NodeId& a, const NodeId& b) { return closer(target, a, b); });
        expected.resize(kK);
        std::optional<std::vector<Contact>> found;
        hub.call(from, [&](Discovery& d, proto::Time now) {
            d.start_lookup(target, now, [&](std::vector<Contact> c) { found = std::move(c); });
        });
        hub.run_for(20s);
        ASSERT_TRUE(found) << "target " << t;
        std::vector<NodeId> ids;
        for (const Contact& c : *found) {
            ids.push_back(c.id);
            EXPECT_TRUE(c.record && udp_address(*c.record));
        }
        EXPECT_EQ(ids, expected) << "target " << t << " from " << from;
    }
    EXPECT_EQ(hub.net.total_datagram_metrics().dropped.total.frames, 0U);
}

TEST(Discovery, ARecordThatIsNotTheSignersIsDroppedAndNothingBonds) {
    Hub hub;
    for (int i = 0; i < 3; ++i) hub.add();
    // Member 2 pings member 0 carrying member 1's record: the record verifies, but it is not the
    // packet signer's.
    hub.hook([&](std::size_t from, Bytes& bytes) {
        if (from != 2 || type_of(bytes) != kPingType) return true;
        auto ping = proto::decode_discovery_ping(open(bytes).value().frame).value();
        ping.record = hub.record(1).encoded();
        bytes = seal(hub.key(2), proto::encode(ping)).value();
        return true;
    });
    hub.ping(2, 0);
    hub.run_for(5s);
    EXPECT_EQ(hub.at(0).stats().bad_records, 1U);
    EXPECT_FALSE(in_table(hub.at(0), hub.record(2).node_id()));
    EXPECT_FALSE(in_table(hub.at(0), hub.record(1).node_id()));
    EXPECT_FALSE(in_table(hub.at(2), hub.record(0).node_id()));
}

TEST(Discovery, TamperedPacketsAreCountedAndDropped) {
    Hub hub;
    hub.add();
    hub.add();
    hub.hook([](std::size_t, Bytes& bytes) {
        bytes[bytes.size() / 2] ^= 1;
        return true;
    });
    hub.ping(0, 1);
    hub.run_for(5s);
    EXPECT_EQ(hub.at(1).stats().bad_packets, 1U);
    EXPECT_FALSE(in_table(hub.at(0), hub.record(1).node_id()));
    EXPECT_EQ(hub.at(0).stats().timeouts, 1U);
}

TEST(Discovery, AReplayedPongDoesNotAnswerANewPing) {
    Hub hub;
    hub.add();
    hub.add();
    Bytes first_pong;
    hub.hook([&](std::size_t from, Bytes& bytes) {
        if (from == 1 && type_of(bytes) == kPongType) {
            if (first_pong.empty()) {
                first_pong = bytes;
            } else {
                bytes = first_pong;  // member 1's old PONG, as anyone who saw it could replay it
            }
        }
        return true;
    });
    hub.ping(0, 1);
    hub.run_for(1s);
    ASSERT_FALSE(first_pong.empty());
    const uint64_t bonded = hub.at(0).stats().bonded;
    hub.call(0, [](Discovery& d, proto::Time now) { d.announce(now); });  // a new PING to member 1
    hub.run_for(5s);
    EXPECT_EQ(hub.at(0).stats().bonded, bonded);
    EXPECT_GE(hub.at(0).stats().unsolicited, 1U);
    EXPECT_GE(hub.at(0).stats().timeouts, 1U);
}

TEST(Discovery, FindNodesFromAStrangerIsAnsweredOnlyAfterItBonds) {
    Hub hub;
    for (int i = 0; i < 5; ++i) hub.add();
    for (std::size_t i = 1; i <= 3; ++i) hub.ping(0, i);
    hub.run_for(1s);
    ASSERT_EQ(hub.at(0).table().size(), 3U);
    // Member 4 bonds with member 0, but member 0's PING back is lost: member 0 has not bonded 4.
    hub.hook([](std::size_t from, Bytes& bytes) { return !(from == 0 && type_of(bytes) == kPingType); });
    hub.ping(4, 0);
    hub.run_for(3s);  // past the lost PING's timeout: a PING still pending would hold the answer
    hub.hook(nullptr);
    ASSERT_TRUE(in_table(hub.at(4), hub.record(0).node_id()));
    ASSERT_FALSE(in_table(hub.at(0), hub.record(4).node_id()));
    const auto bonded_before = hub.at(0).stats().bonded;
    std::optional<std::vector<Contact>> found;
    hub.call(4, [&](Discovery& d, proto::Time now) {
        d.start_lookup(d.id(), now, [&](std::vector<Contact> c) { found = std::move(c); });
    });
    hub.run_for(20s);
    ASSERT_TRUE(found);
    // Member 0 held the FINDNODES, PINGed member 4, and answered once it bonded: 4 found 0..3.
    EXPECT_GT(hub.at(0).stats().bonded, bonded_before);
    EXPECT_EQ(found->size(), 4U);
}

// A FINDNODES captured from a bonded node and sent again from another address (a replay, or a
// forged source) is answered at the address the bond proved, never at the sender's.
TEST(Discovery, AReplayedFindNodesIsAnsweredOnlyAtTheBondedAddress) {
    Hub hub;
    for (int i = 0; i < 4; ++i) hub.add();
    hub.ping(0, 1);
    hub.ping(0, 3);
    hub.run_for(1s);
    ASSERT_TRUE(in_table(hub.at(1), hub.record(0).node_id()));
    Bytes captured;
    hub.hook([&](std::size_t from, Bytes& bytes) {
        const uint8_t type = type_of(bytes);
        if (from == 1 && type == static_cast<uint8_t>(proto::DiscoveryMessageType::kFindNodes)) captured = bytes;
        if (from == 2 && type == kPingType && !captured.empty()) bytes = captured;  // member 2 replays it
        return true;
    });
    hub.call(1, [](Discovery& d, proto::Time now) { d.start_lookup(d.id(), now, [](auto) {}); });
    hub.run_for(5s);
    ASSERT_FALSE(captured.empty());
    const uint64_t sent_by_0 = hub.at(0).stats().packets_sent;
    const auto received_by_2 = hub.net.datagram_metrics(3).received.total.frames;
    hub.ping(2, 0);  // its PING is replaced by the captured FINDNODES
    hub.run_for(5s);
    // Member 0 answered (NODES went out) but member 2 received nothing from it.
    EXPECT_GT(hub.at(0).stats().packets_sent, sent_by_0);
    EXPECT_EQ(hub.net.datagram_metrics(3).received.total.frames, received_by_2);
}

TEST(Discovery, ASilentContactFailsAndLeavesTheTable) {
    Hub hub;
    hub.add(DiscoveryOptions{.max_failures = 2, .revalidate_interval = 10s});
    hub.add();
    hub.ping(0, 1);
    hub.run_for(1s);
    ASSERT_TRUE(in_table(hub.at(0), hub.record(1).node_id()));
    hub.set_online(1, false);
    hub.run_for(60s);
    EXPECT_FALSE(in_table(hub.at(0), hub.record(1).node_id()));
    EXPECT_GE(hub.at(0).stats().revalidations, 2U);
}

// A PING from a bonded node is answered and not PINGed back (unless its record is newer): PINGing
// back by table membership instead made two nodes left out of each other's full buckets PING each
// other for ever.
TEST(Discovery, APingFromABondedNodeIsNotPingedBack) {
    Hub hub;
    hub.add();
    hub.add();
    hub.ping(0, 1);
    hub.run_for(1s);
    ASSERT_TRUE(in_table(hub.at(1), hub.record(0).node_id()));
    const uint64_t requests_of_1 = hub.at(1).stats().requests_sent;
    for (int i = 0; i < 3; ++i) {
        hub.call(0, [](Discovery& d, proto::Time now) { d.announce(now); });
        hub.run_for(1s);
    }
    EXPECT_EQ(hub.at(1).stats().requests_sent, requests_of_1);
    EXPECT_EQ(hub.at(0).stats().timeouts, 0U);
}

TEST(Discovery, ANewerRecordReplacesTheOldOne) {
    Hub hub;
    hub.add();
    hub.add();
    hub.ping(0, 1);
    hub.run_for(1s);
    const NodeRecord newer =
        make_node_record(hub.key(1), 2, {hub.address(1).ip, hub.address(1).port, 0, Radius{240}}).value();
    hub.call(1, [newer](Discovery& d, proto::Time now) {
        d.set_record(newer);
        d.announce(now);
    });
    hub.run_for(1s);
    const auto e = hub.at(0).table().find(hub.record(1).node_id());
    ASSERT_TRUE(e && e->contact.record);
    EXPECT_EQ(e->contact.record->seq(), 2U);
    EXPECT_EQ(e->contact.radius, Radius{240});
}

}  // namespace
}  // namespace carousel::dht
