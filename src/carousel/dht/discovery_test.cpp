// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "discovery.hpp"

#include <algorithm>
#include <deque>
#include <memory>

#include <gtest/gtest.h>

#include <carousel/core/keccak.hpp>
#include <carousel/proto/discovery_messages.hpp>

#include "discovery_packet.hpp"
#include "node_endpoint.hpp"

namespace carousel::dht {
namespace {

using namespace std::chrono_literals;

// Discovery nodes on a lossless datagram hub: every datagram arrives `latency` after it was sent,
// in send order; nodes are reached by the address in their record.
class Hub {
  public:
    struct Member {
        KeyPair key;
        std::unique_ptr<DiscoveryNode> node;
        proto::Address address;
    };

    Member& add(DiscoveryOptions options = {}) {
        const auto n = static_cast<uint8_t>(members_.size() + 1);
        Bytes secret(32, 0);
        secret[0] = 1;
        secret[30] = static_cast<uint8_t>(n >> 8U);
        secret[31] = n;
        Member m{KeyPair::from_secret(secret).value(), nullptr, {{10, 0, 0, n}, 30303}};
        m.node = std::make_unique<DiscoveryNode>(
            m.key, make_node_record(m.key, 1, {m.address.ip, 30303, 30304, Radius{250}}).value(), options);
        members_.push_back(std::move(m));
        return members_.back();
    }

    // Sends what `from` has queued.
    void drain(std::size_t from) {
        for (auto& d : members_[from].node->take_datagrams()) {
            in_flight_.push_back({now_ + latency, members_[from].address, d.to, std::move(d.datagram)});
        }
    }

    // Runs until nothing is in flight and no timer is due before `until`.
    void run_until(proto::Time until) {
        for (std::size_t i = 0; i < members_.size(); ++i) drain(i);
        while (true) {
            std::optional<proto::Time> next;
            if (!in_flight_.empty()) next = in_flight_.front().at;
            for (const Member& m : members_) {
                if (const auto d = m.node->next_deadline(); d && (!next || *d < *next)) next = *d;
            }
            if (!next || *next > until) break;
            now_ = std::max(now_, *next);
            if (!in_flight_.empty() && in_flight_.front().at <= now_) {
                Datagram d = std::move(in_flight_.front());
                in_flight_.pop_front();
                if (hook && !hook(d.from, d.to, d.bytes)) continue;
                for (std::size_t i = 0; i < members_.size(); ++i) {
                    if (members_[i].address == d.to && !silent.contains(i)) {
                        members_[i].node->on_datagram(d.from, d.bytes, now_);
                        drain(i);
                    }
                }
                continue;
            }
            for (std::size_t i = 0; i < members_.size(); ++i) {
                if (const auto dl = members_[i].node->next_deadline(); dl && *dl <= now_) {
                    members_[i].node->on_timer(now_);
                    drain(i);
                }
            }
        }
        now_ = std::max(now_, until);
    }

    Discovery& at(std::size_t i) { return members_[i].node->discovery(); }
    const NodeRecord& record(std::size_t i) { return at(i).record(); }
    const KeyPair& key(std::size_t i) { return members_[i].key; }
    [[nodiscard]] proto::Time now() const { return now_; }
    std::size_t size() const { return members_.size(); }

    proto::Time latency{10ms};
    // Sees each datagram before delivery; false drops it.
    std::function<bool(const proto::Address& from, const proto::Address& to, Bytes& bytes)> hook;
    std::set<std::size_t> silent;  // members that receive nothing (offline)

  private:
    struct Datagram {
        proto::Time at;
        proto::Address from;
        proto::Address to;
        Bytes bytes;
    };
    std::vector<Member> members_;
    std::deque<Datagram> in_flight_;
    proto::Time now_{0};
};

bool in_table(Discovery& d, const NodeId& id) { return d.table().find(id).has_value(); }

TEST(Discovery, OnePingBondsBothWays) {
    Hub hub;
    hub.add();
    hub.add();
    hub.at(0).ping(hub.record(1), hub.now());
    hub.run_until(1s);
    EXPECT_TRUE(in_table(hub.at(0), hub.record(1).node_id()));
    EXPECT_TRUE(in_table(hub.at(1), hub.record(0).node_id()));
    const auto e = hub.at(0).table().find(hub.record(1).node_id());
    ASSERT_TRUE(e && e->contact.record);
    EXPECT_EQ(e->contact.record->encoded(), hub.record(1).encoded());
    EXPECT_EQ(e->contact.radius, Radius{250});
    EXPECT_EQ(hub.at(0).stats().bad_packets + hub.at(1).stats().bad_packets, 0U);
}

// Every node joins through one bootnode and looks up its own id; then any lookup finds exactly
// the k closest nodes of the whole network.
TEST(Discovery, LookupsFindTheClosestNodesOfANetworkBootstrappedFromOneNode) {
    Hub hub;
    constexpr std::size_t kNodes = 40;
    for (std::size_t i = 0; i < kNodes; ++i) hub.add(DiscoveryOptions{.k = 8});
    for (std::size_t i = 1; i < kNodes; ++i) {
        hub.at(i).ping(hub.record(0), hub.now());
        hub.run_until(hub.now() + 1s);
        hub.at(i).start_lookup(hub.record(i).node_id(), hub.now(), [](auto) {});
        hub.run_until(hub.now() + 10s);
    }
    for (std::size_t t = 0; t < 8; ++t) {
        const Hash target = keccak256(Bytes{static_cast<uint8_t>(t)});
        std::vector<NodeId> all;
        for (std::size_t i = 0; i < kNodes; ++i) {
            if (i != 3) all.push_back(hub.record(i).node_id());
        }
        std::sort(all.begin(), all.end(), [&](const NodeId& a, const NodeId& b) { return closer(target, a, b); });
        all.resize(8);
        std::optional<std::vector<Contact>> found;
        hub.at(3).start_lookup(target, hub.now(), [&](std::vector<Contact> c) { found = std::move(c); });
        hub.run_until(hub.now() + 20s);
        ASSERT_TRUE(found) << "target " << t;
        std::vector<NodeId> ids;
        for (const Contact& c : *found) {
            ids.push_back(c.id);
            EXPECT_TRUE(c.record && udp_address(*c.record));
        }
        EXPECT_EQ(ids, all) << "target " << t;
    }
}

TEST(Discovery, ARecordThatIsNotTheSignersIsDroppedAndNothingBonds) {
    Hub hub;
    hub.add();
    hub.add();
    hub.add();
    // Node 2 pings node 0 carrying node 1's record: the record verifies, but it is not the
    // packet signer's.
    hub.hook = [&](const proto::Address& from, const proto::Address&, Bytes& bytes) {
        if (from.ip[3] != 3) return true;
        const auto opened = open(bytes).value();
        if (opened.frame[0] != static_cast<uint8_t>(proto::DiscoveryMessageType::kPing)) return true;
        auto ping = proto::decode_discovery_ping(opened.frame).value();
        ping.record = hub.record(1).encoded();
        bytes = seal(hub.key(2), proto::encode(ping)).value();
        return true;
    };
    hub.at(2).ping(hub.record(0), hub.now());
    hub.run_until(5s);
    EXPECT_EQ(hub.at(0).stats().bad_records, 1U);
    EXPECT_FALSE(in_table(hub.at(0), hub.record(2).node_id()));
    EXPECT_FALSE(in_table(hub.at(0), hub.record(1).node_id()));
    EXPECT_FALSE(in_table(hub.at(2), hub.record(0).node_id()));
}

TEST(Discovery, TamperedPacketsAreCountedAndDropped) {
    Hub hub;
    hub.add();
    hub.add();
    hub.hook = [](const proto::Address&, const proto::Address&, Bytes& bytes) {
        bytes[bytes.size() / 2] ^= 1;
        return true;
    };
    hub.at(0).ping(hub.record(1), hub.now());
    hub.run_until(5s);
    EXPECT_EQ(hub.at(1).stats().bad_packets, 1U);
    EXPECT_FALSE(in_table(hub.at(0), hub.record(1).node_id()));
    EXPECT_EQ(hub.at(0).stats().timeouts, 1U);
}

TEST(Discovery, AReplayedPongDoesNotAnswerANewPing) {
    Hub hub;
    hub.add();
    hub.add();
    Bytes first_pong;
    hub.hook = [&](const proto::Address& from, const proto::Address&, Bytes& bytes) {
        const auto opened = open(bytes).value();
        if (from.ip[3] == 2 && opened.frame[0] == static_cast<uint8_t>(proto::DiscoveryMessageType::kPong)) {
            if (first_pong.empty()) {
                first_pong = bytes;
            } else {
                bytes = first_pong;  // node 1 (or someone who saw it) answers with the old PONG
            }
        }
        return true;
    };
    hub.at(0).ping(hub.record(1), hub.now());
    hub.run_until(1s);
    ASSERT_FALSE(first_pong.empty());
    const uint64_t bonded = hub.at(0).stats().bonded;
    hub.at(0).announce(hub.now());  // a new PING to node 1
    hub.run_until(hub.now() + 5s);
    EXPECT_EQ(hub.at(0).stats().bonded, bonded);
    EXPECT_GE(hub.at(0).stats().unsolicited, 1U);
    EXPECT_GE(hub.at(0).stats().timeouts, 1U);
}

TEST(Discovery, FindNodesFromAStrangerIsAnsweredOnlyAfterItBonds) {
    Hub hub;
    for (int i = 0; i < 5; ++i) hub.add();
    // Node 0 knows nodes 1..3.
    for (std::size_t i = 1; i <= 3; ++i) hub.at(0).ping(hub.record(i), hub.now());
    hub.run_until(1s);
    ASSERT_EQ(hub.at(0).table().size(), 3U);
    // Node 4 bonds with node 0, but node 0's PING back is lost: node 0 has not bonded node 4.
    const auto bonded_before = hub.at(0).stats().bonded;
    std::optional<std::vector<Contact>> found;
    hub.at(4).ping(hub.record(0), hub.now());
    hub.hook = [](const proto::Address& from, const proto::Address&, Bytes& bytes) {
        // Node 0's PING back to node 4 is dropped: node 4 is in no table of node 0 yet.
        return !(from.ip[3] == 1 &&
                 open(bytes).value().frame[0] == static_cast<uint8_t>(proto::DiscoveryMessageType::kPing));
    };
    hub.run_until(hub.now() + 3s);  // past the lost PING's timeout: a pending PING would hold the answer
    hub.hook = nullptr;
    ASSERT_TRUE(in_table(hub.at(4), hub.record(0).node_id()));
    ASSERT_FALSE(in_table(hub.at(0), hub.record(4).node_id()));
    hub.at(4).start_lookup(hub.record(4).node_id(), hub.now(), [&](std::vector<Contact> c) { found = c; });
    hub.run_until(hub.now() + 20s);
    ASSERT_TRUE(found);
    // Node 0 bonded with node 4 first (a PING, held FINDNODES), then answered: node 4 found 1..3.
    EXPECT_GT(hub.at(0).stats().bonded, bonded_before);
    EXPECT_EQ(found->size(), 4U);
}

TEST(Discovery, ASilentContactFailsAndLeavesTheTable) {
    Hub hub;
    hub.add(DiscoveryOptions{.max_failures = 2, .revalidate_interval = 10s});
    hub.add();
    hub.at(0).ping(hub.record(1), hub.now());
    hub.run_until(1s);
    ASSERT_TRUE(in_table(hub.at(0), hub.record(1).node_id()));
    hub.silent.insert(1);
    hub.run_until(hub.now() + 60s);
    EXPECT_FALSE(in_table(hub.at(0), hub.record(1).node_id()));
    EXPECT_GE(hub.at(0).stats().revalidations, 2U);
}

TEST(Discovery, ANewerRecordReplacesTheOldOne) {
    Hub hub;
    hub.add();
    Hub::Member& b = hub.add();
    hub.at(0).ping(hub.record(1), hub.now());
    hub.run_until(1s);
    hub.at(1).set_record(make_node_record(b.key, 2, {b.address.ip, 30303, 30304, Radius{240}}).value());
    hub.at(1).announce(hub.now());
    hub.run_until(hub.now() + 1s);
    const auto e = hub.at(0).table().find(hub.record(1).node_id());
    ASSERT_TRUE(e && e->contact.record);
    EXPECT_EQ(e->contact.record->seq(), 2U);
    EXPECT_EQ(e->contact.radius, Radius{240});
}

}  // namespace
}  // namespace carousel::dht
