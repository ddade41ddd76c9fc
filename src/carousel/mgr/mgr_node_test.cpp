// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// MgrNode's gossip routing on net::LocalNet: who a published item reaches when the publisher's
// routing table cannot hold every node (issue 17), and an item for a region no node covers.
// The nodes are not seeded and no header is known, so items are received and held, not applied:
// what is measured is who receives them (Content bytes), not what they do to a store.

#include "mgr_node.hpp"

#include <algorithm>
#include <memory>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include <carousel/core/hex.hpp>
#include <carousel/net/local_net.hpp>

namespace carousel::mgr {
namespace {

using namespace std::chrono_literals;

constexpr unsigned kRegionBits = 251;  // 32 regions: more than a bucket of the publisher holds

Hash random_hash(std::mt19937_64& rng) {
    Hash h{};
    for (auto& b : h) b = static_cast<uint8_t>(rng());
    return h;
}

struct Network {
    net::LocalNet net;
    std::vector<std::unique_ptr<MgrNode>> nodes;
    std::vector<proto::PeerId> peers;
    std::unique_ptr<MgrNode> bridge;
    proto::PeerId bridge_peer{0};

    // `ids` for the storage nodes; every node, the bridge included, keeps `k` contacts per bucket.
    Network(const std::vector<Hash>& ids, std::size_t k) {
        NodeOptions options;
        options.region_bits = kRegionBits;
        options.dht.k = k;
        const HeaderSource no_headers = [](uint64_t) -> std::optional<Hash> { return std::nullopt; };
        for (const Hash& id : ids) {
            nodes.push_back(
                std::make_unique<MgrNode>(dht::Contact{id, 0, dht::Radius{kRegionBits}}, options, no_headers));
            peers.push_back(net.add(*nodes.back()));
        }
        std::mt19937_64 rng{99};
        NodeOptions origin = options;
        origin.origin_only = true;
        bridge = std::make_unique<MgrNode>(dht::Contact{random_hash(rng), 0, dht::Radius{0}}, origin, no_headers);
        bridge_peer = net.add(*bridge);
        const net::LinkSettings link{10ms};
        for (std::size_t i = 0; i < peers.size(); ++i) {
            net.connect(bridge_peer, peers[i], link);
            for (std::size_t j = i + 1; j < peers.size(); ++j) net.connect(peers[i], peers[j], link);
        }
        net.run_until(proto::Time{1s});  // PING/PONG on connect: every table as full as k lets it be
    }

    // One item per region (no nodes in it: nobody applies it without a header anyway).
    void publish(uint64_t number) {
        std::vector<RegionItem> items;
        for (const Region& region : all_regions(kRegionBits)) {
            RegionItem item;
            item.block_number = number;
            item.region = region;
            items.push_back(std::move(item));
        }
        net.post(bridge_peer, [this, items = std::move(items)] { bridge->publish(items, {}, net.now()); });
        net.run_until(net.now() + 10s);
    }
};

TEST(MgrNodeGossip, ReachesEveryRegionWhenThePublisherTableHoldsFewNodes) {
    // With two contacts per bucket the bridge knows two of the ~20 nodes in the far half of the key
    // space: offering only to its table's covering contacts left most regions without their item.
    std::mt19937_64 rng{7};
    std::vector<Hash> ids;
    for (int i = 0; i < 48; ++i) ids.push_back(random_hash(rng));
    Network n{ids, 2};
    n.publish(1);
    // Every region that has a node gets its item at one of them at least (the nodes forward a region's
    // item among themselves once they have applied it; here nothing is applied).
    for (const Region& region : all_regions(kRegionBits)) {
        bool has_node = false;
        bool reached = false;
        for (const auto& node : n.nodes) {
            if (node->covered() != region) continue;
            has_node = true;
            reached = reached || node->stats().content_bytes_received > 0;
            EXPECT_EQ(node->stats().items_rejected, 0u);
        }
        EXPECT_TRUE(!has_node || reached) << "no node of region " << to_hex(view(region.first)).substr(0, 4);
    }
    EXPECT_GT(n.bridge->stats().placement_lookups, 0u);
    EXPECT_EQ(n.bridge->stats().items_unplaced, 0u);
}

TEST(MgrNodeGossip, ItemForARegionNoNodeCoversIsCountedNotSent) {
    // Every node in the lower half of the key space: the upper half's regions have no node.
    std::mt19937_64 rng{8};
    std::vector<Hash> ids;
    for (int i = 0; i < 12; ++i) {
        Hash id = random_hash(rng);
        id[0] &= 0x7f;
        ids.push_back(id);
    }
    Network n{ids, 16};
    n.publish(1);  // starts the lookups
    const uint64_t before = n.bridge->stats().items_unplaced;
    EXPECT_EQ(before, 0u);  // the lookups had not answered
    n.publish(2);           // their answers known: the items of regions without a node have nowhere to go
    std::size_t empty = 0;
    for (const Region& region : all_regions(kRegionBits)) {
        empty +=
            std::none_of(n.nodes.begin(), n.nodes.end(), [&](const auto& node) { return node->covered() == region; });
    }
    EXPECT_GE(empty, 16u);  // the upper half, and the lower half's regions no id fell in
    EXPECT_EQ(n.bridge->stats().items_unplaced - before, empty);
    for (std::size_t i = 0; i < n.nodes.size(); ++i) {
        EXPECT_GT(n.nodes[i]->stats().content_bytes_received, 0u) << "node " << i;
        EXPECT_EQ(n.nodes[i]->stats().items_rejected, 0u);
    }
}

}  // namespace
}  // namespace carousel::mgr
