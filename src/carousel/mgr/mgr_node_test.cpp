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
#include <vector>

#include <gtest/gtest.h>

#include <carousel/core/hex.hpp>
#include <carousel/net/local_net.hpp>

#include "overlay_testing.hpp"

namespace carousel::mgr {
namespace {

using namespace std::chrono_literals;

constexpr unsigned kRegionBits = 251;  // 32 regions: more than a bucket of the publisher holds

struct Network {
    testing::OverlayNet overlay_net{10ms};
    net::LocalNet& net = overlay_net.net;
    std::vector<std::unique_ptr<HeaderBook>> books;  // with_books: one per node, before the nodes (outlive them)
    std::vector<std::unique_ptr<MgrNode>> nodes;
    std::vector<proto::PeerId> peers;
    std::unique_ptr<MgrNode> bridge;
    proto::PeerId bridge_peer{0};

    // Storage nodes of `keys`; the bridge keeps `k` contacts per bucket (and finds k nodes per
    // lookup), the nodes Discovery's default. No connection is made by hand: each node meets the
    // bridge and looks up its own id (twice: the second finds those that had not joined at the
    // first). (With the connection-based DHT every node kept k: nodes learnt each other from PINGs
    // over a full mesh. Over Discovery a node is known only through bonds made by lookups, and with
    // two contacts per bucket everywhere, some nodes are in no table but the bridge's replacements.)
    // `with_books`: each node takes gossiped headers into a HeaderBook trusting the bridge's key.
    Network(const std::vector<dht::KeyPair>& keys, std::size_t k, bool with_books = false) {
        NodeOptions options;
        options.region_bits = kRegionBits;
        const HeaderSource no_headers = [](uint64_t) -> std::optional<Hash> { return std::nullopt; };
        NodeOptions origin = options;
        origin.overlay.discovery.k = k;
        origin.origin_only = true;
        // Every covering node is offered each item: nothing is applied here, so nodes do not forward.
        origin.origin_fanout = 0;
        bridge = std::make_unique<MgrNode>(testing::test_key(99), overlay_net.next_endpoint(0), origin, no_headers);
        bridge_peer = overlay_net.add(*bridge);
        for (const dht::KeyPair& key : keys) {
            nodes.push_back(
                std::make_unique<MgrNode>(key, overlay_net.next_endpoint(kRegionBits), options, no_headers));
            peers.push_back(overlay_net.add(*nodes.back()));
            MgrNode* node = nodes.back().get();
            if (with_books) {
                books.push_back(std::make_unique<HeaderBook>(testing::test_key(99).public_key, 16));
                node->take_headers(*books.back());
            }
            net.post(peers.back(), [this, node] { node->bootstrap(bridge->record(), net.now()); });
        }
        for (int round = 0; round < 2; ++round) {
            overlay_net.run_for(1s);
            for (std::size_t i = 0; i < nodes.size(); ++i) {
                MgrNode* node = nodes[i].get();
                net.post(peers[i], [this, node] { node->look_up_self(net.now()); });
            }
        }
        overlay_net.run_for(2s);
    }

    // One item per region (no nodes in it: nobody applies it without a header anyway).
    // With `header`, the block's signed header goes with the items; `lower_half`: items only for the
    // regions below key 0x80…
    void publish(uint64_t number, Bytes header = {}, bool lower_half = false) {
        std::vector<RegionItem> items;
        for (const Region& region : all_regions(kRegionBits)) {
            if (lower_half && region.first[0] >= 0x80) continue;
            RegionItem item;
            item.block_number = number;
            item.region = region;
            items.push_back(std::move(item));
        }
        net.post(bridge_peer, [this, items = std::move(items), header = std::move(header)] {
            bridge->publish(items, {}, net.now(), header);
        });
        net.run_until(net.now() + 10s);
    }
};

TEST(MgrNodeGossip, ReachesEveryRegionWhenThePublisherTableHoldsFewNodes) {
    // With two contacts per bucket the bridge knows two of the ~20 nodes in the far half of the key
    // space: offering only to its table's covering contacts left most regions without their item.
    std::vector<dht::KeyPair> keys;
    for (uint64_t i = 0; i < 48; ++i) keys.push_back(testing::test_key(7000 + i));
    Network n{keys, 2};
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
    std::vector<dht::KeyPair> keys;
    uint64_t next = 8000;
    for (int i = 0; i < 12; ++i)
        keys.push_back(testing::test_key_where(next, [](const dht::NodeId& id) { return id[0] < 0x80; }));
    Network n{keys, 16};
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

TEST(MgrNodeGossip, AHeaderTravelsWithItsBlocksItemsAndAForgedOneIsRefused) {
    std::vector<dht::KeyPair> keys;
    for (uint64_t i = 0; i < 24; ++i) keys.push_back(testing::test_key(9000 + i));
    Network n{keys, 16, /*with_books=*/true};
    Hash root{};
    root.fill(0xab);
    n.publish(1, encode(sign_header(testing::test_key(99), Header{1, root})), /*lower_half=*/true);
    std::size_t reached = 0;
    for (std::size_t i = 0; i < n.nodes.size(); ++i) {
        if (n.nodes[i]->stats().content_bytes_received == 0) continue;
        ++reached;
        EXPECT_EQ(n.books[i]->root(1), root) << "node " << i << " got an item of block 1, not its header";
        EXPECT_EQ(n.nodes[i]->stats().headers_rejected, 0u);
    }
    EXPECT_GT(reached, 0u);
    EXPECT_LT(reached, n.nodes.size()) << "the test wants nodes that no item reached";
    // Those ask their table's contacts in turn (HeaderPoll, every 6 s): after ten rounds every book
    // holds it (an upper-half node's first contacts are upper-half nodes, without it at first).
    n.overlay_net.run_for(60s);
    for (std::size_t i = 0; i < n.nodes.size(); ++i) {
        EXPECT_EQ(n.books[i]->root(1), root) << "node " << i << " did not ask for the header";
    }
    // A header signed by another key: every node offered it refuses it and drops the sender.
    Hash other{};
    other.fill(0xcd);
    n.publish(2, encode(sign_header(testing::test_key(98), Header{2, other})));
    uint64_t rejected = 0;
    for (std::size_t i = 0; i < n.nodes.size(); ++i) {
        rejected += n.nodes[i]->stats().headers_rejected;
        EXPECT_FALSE(n.books[i]->root(2)) << "node " << i;
    }
    EXPECT_GT(rejected, 0u);
}

}  // namespace
}  // namespace carousel::mgr
