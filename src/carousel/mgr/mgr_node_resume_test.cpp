// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// MgrNode::resume on net::LocalNet: a node on a datadir is stopped, the chain goes on, and the node
// comes back on its reopened stores and catches up (the items it missed from a neighbour's log, else
// GetDiff within the window, else a refill).

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <carousel/proto/mgr_messages.hpp>
#include <carousel/state/chain_generator.hpp>
#include <carousel/testing/temp_dir.hpp>

#include "bridge.hpp"
#include "header_book.hpp"
#include "mgr_node.hpp"
#include "node_datadir.hpp"
#include "overlay_testing.hpp"
#include "signed_header.hpp"

namespace carousel::mgr {
namespace {

using proto::PeerId;
using proto::Time;
using namespace std::chrono_literals;

constexpr unsigned kRegionBits = 254;  // 4 regions
constexpr uint64_t kEpoch = 8;

dht::KeyPair key_in(unsigned q, uint64_t& next) {
    return testing::test_key_where(next, [q](const dht::NodeId& id) { return (id[0] >> 6) == q; });
}

// Two seeded nodes per quarter and a bridge that gossips each block, and the node under test in
// quarter 1, on a datadir. The state has no storage (contract_share 0) unless `with_storage`; every
// node keeps `item_log_blocks` blocks of items (unset: an epoch; 0: none, so that the diff route is taken).
struct Network {
    explicit Network(bool with_storage = false, std::optional<uint64_t> item_log_blocks = std::nullopt) {
        state::GeneratorConfig config;
        config.seed = 11;
        config.accounts = 600;
        config.max_contract_slots = 50;
        if (!with_storage) config.contract_share = 0;
        config.accounts_per_block = 40;
        gen = std::make_unique<state::ChainGenerator>(config);
        EXPECT_TRUE(gen->genesis().has_value());
        roots.push_back(gen->root());
        options.region_bits = kRegionBits;
        options.epoch_length = kEpoch;
        options.item_log_blocks = item_log_blocks;
        headers = [this](uint64_t n) -> std::optional<Hash> {
            return n < roots.size() ? std::optional<Hash>{roots[n]} : std::nullopt;
        };
        bridge = std::make_unique<Bridge>(testing::test_key(99), onet.next_endpoint(0), options, headers);
        bridge_peer = onet.add(bridge->node());
        uint64_t next = 5000;
        for (unsigned q = 0; q < 4; ++q) {
            for (int n = 0; n < 2; ++n) {
                nodes.push_back(
                    std::make_unique<MgrNode>(key_in(q, next), onet.next_endpoint(kRegionBits), options, headers));
                EXPECT_TRUE(nodes.back()->seed(gen->node_store(), 0, roots[0], {}).has_value());
                peers.push_back(onet.add(*nodes.back()));
            }
        }
        key = key_in(1, next);
        auto opened = NodeDatadir::open(dir.path());
        EXPECT_TRUE(opened);
        datadir = std::move(*opened);
        node = std::make_unique<MgrNode>(key, home_endpoint(), options, headers);
        EXPECT_TRUE(datadir->write_node_record(NodeRecord{node->covered(), kRegionBits, kEpoch}));
        std::vector<std::unique_ptr<EpochStore>> stores;
        for (const Region& r : regions_in(node->covered(), kRegionBits))
            stores.push_back(datadir->new_store(r, kEpoch));
        EXPECT_TRUE(node->adopt_stores(std::move(stores), {}, &datadir->code_store()));
        EXPECT_TRUE(node->seed(gen->node_store(), 0, roots[0], {}).has_value());
        node_peer = onet.add(*node);
        EXPECT_TRUE(wire.set_address(node_peer, kHome));
        std::vector<std::pair<PeerId, MgrNode*>> members;
        for (std::size_t i = 0; i < nodes.size(); ++i) members.emplace_back(peers[i], nodes[i].get());
        members.emplace_back(node_peer, node.get());
        for (const auto& [peer, m] : members) {
            call(peer, [this, m = m] { m->bootstrap(bridge->node().record(), wire.now()); });
        }
        for (int round = 0; round < 2; ++round) {
            onet.run_for(1s);
            for (const auto& [peer, m] : members) call(peer, [this, m = m] { m->look_up_self(wire.now()); });
        }
        onet.run_for(2s);
    }
    void call(PeerId peer, std::function<void()> f) {
        wire.post(peer, std::move(f));
        wire.run_until(wire.now());
    }
    // The next block, gossiped by the bridge.
    void block() {
        const Hash old_root = roots.back();
        auto diff = gen->next_block();
        ASSERT_TRUE(diff.has_value());
        const uint64_t number = roots.size();
        roots.push_back(gen->root());
        auto gossip = bridge->cut(gen->node_store(), number, old_root, roots.back(), *diff);
        ASSERT_TRUE(gossip.has_value());
        call(bridge_peer, [this, g = std::move(*gossip)] { bridge->publish(g, wire.now()); });
        onet.run_for(2s);
    }
    // Stops the node (off the network; its datadir closed), as a kill would.
    void stop() {
        wire.set_online(node_peer, false);
        ASSERT_TRUE(
            wire.set_address(node_peer, proto::Address{{10, 200, 0, static_cast<uint8_t>(2 + stopped.size())}, 40404}));
        std::vector<std::unique_ptr<EpochStore>> empty;
        for (const Region& r : regions_in(node->covered(), kRegionBits))
            empty.push_back(std::make_unique<EpochStore>(r, kEpoch));
        ASSERT_TRUE(node->adopt_stores(std::move(empty), {}, nullptr));  // lets go of the datadir's stores
        stopped.push_back(std::move(node));
        datadir.reset();
    }
    // The node follows the chain to block `stopped_at`, is stopped, and the chain goes on to `head`.
    void stop_between(int stopped_at, int head) {
        for (int b = 0; b < stopped_at; ++b) block();
        stop();
        for (int b = stopped_at; b < head; ++b) block();
    }
    // A new process of the same node: its datadir reopened, on the network again, resumed. With
    // `with_book` its headers come from a HeaderBook (as a process's do) that the test fills (sign()).
    void restart(FillOptions fill = {}, bool with_book = false) {
        auto opened = NodeDatadir::open(dir.path());
        ASSERT_TRUE(opened);
        datadir = std::move(*opened);
        auto record = datadir->node_record();
        ASSERT_TRUE(record && record->has_value());
        auto stores = datadir->open_stores(**record);
        ASSERT_TRUE(stores) << stores.error().message;
        if (with_book) {
            book = std::make_unique<HeaderBook>(testing::test_key(99).public_key, 64);
            node = std::make_unique<MgrNode>(key, home_endpoint(), options, book->source());
            node->take_headers(*book, HeaderPollOptions{std::chrono::hours{1}, std::chrono::seconds{10}});
        } else {
            node = std::make_unique<MgrNode>(key, home_endpoint(), options, headers);
        }
        ASSERT_TRUE(node->adopt_stores(std::move(*stores), {}, &datadir->code_store()));
        node_peer = onet.add(*node);
        ASSERT_TRUE(wire.set_address(node_peer, kHome));  // a restart keeps its address
        call(node_peer, [this] { node->bootstrap(bridge->node().record(), wire.now()); });
        onet.run_for(1s);
        call(node_peer, [this, fill] { node->resume(wire.now(), fill); });
    }
    // The header of block `number`, signed by the bridge's key, into the book.
    void sign(uint64_t number) {
        ASSERT_TRUE(book->accept(encode(sign_header(testing::test_key(99), Header{number, roots[number]}))));
    }
    bool run_until_resumed() {
        return wire.run_until(
            [this] {
                const auto s = node->resume_stats();
                return s && s->filled_at.has_value();
            },
            wire.now() + Time{std::chrono::seconds{120}});
    }
    std::string why() const {
        const auto s = node->resume_stats();
        std::string out = "head " + std::to_string(node->stores().front().store->head_number()) + " of " +
                          std::to_string(roots.size() - 1) + ", catching " + std::to_string(node->catching_up()) +
                          ", filling " + std::to_string(node->filling());
        if (s) {
            out += ", items asked " + std::to_string(s->catch_up.items_requests) + " applied " +
                   std::to_string(s->catch_up.items_applied) + " bytes " +
                   std::to_string(s->catch_up.items_bytes_received) + " lacking " +
                   std::to_string(s->catch_up.items_lacking) + ", diffs " + std::to_string(s->catch_up.diff_requests) +
                   " presence " + std::to_string(s->catch_up.presence_requests) + " errors " +
                   std::to_string(s->catch_up.errors) + " timeouts " + std::to_string(s->catch_up.timeouts) +
                   " rejected " + std::to_string(s->catch_up.rejected_answers) + " refilled " +
                   std::to_string(s->catch_up.refilled) + " fills " + std::to_string(s->fills) + " chunk requests " +
                   std::to_string(s->fill.chunk_requests);
        }
        return out;
    }
    // The node's address, the same across its restarts (not a LocalNet default one).
    static constexpr proto::Address kHome{{10, 200, 0, 1}, 40404};
    static dht::NodeEndpoint home_endpoint() {
        return dht::NodeEndpoint{kHome.ip, kHome.port, kHome.port, dht::Radius{kRegionBits}};
    }
    // The seeded neighbour covering the node's region.
    const EpochStore& reference() const { return *nodes[2]->stores().front().store; }

    std::unique_ptr<state::ChainGenerator> gen;
    std::vector<Hash> roots;
    NodeOptions options;
    HeaderSource headers;
    testing::OverlayNet onet;
    net::LocalNet& wire = onet.net;
    std::unique_ptr<Bridge> bridge;
    PeerId bridge_peer{0};
    std::vector<std::unique_ptr<MgrNode>> nodes;
    std::vector<PeerId> peers;
    store::TempDir dir{"carousel-resume-"};
    std::unique_ptr<NodeDatadir> datadir;
    dht::KeyPair key;
    std::unique_ptr<HeaderBook> book;  // restart(with_book); before the node: outlives it
    std::unique_ptr<MgrNode> node;
    std::vector<std::unique_ptr<MgrNode>> stopped;  // kept: LocalNet still names them
    PeerId node_peer{0};
};

void expect_at_head(const Network& n) {
    const EpochStore& s = *n.node->stores().front().store;
    EXPECT_EQ(s.head_number(), n.roots.size() - 1);
    EXPECT_EQ(s.head_root(), n.roots.back());
    EXPECT_EQ(n.reference().head_root(), n.roots.back());
    const auto mine = leaves_in(s, s.head_root(), path_range(s.region()));
    const auto theirs = leaves_in(n.reference(), s.head_root(), path_range(s.region()));
    ASSERT_TRUE(mine && theirs);
    EXPECT_EQ(*mine, *theirs);
    EXPECT_FALSE(n.node->filling(s.region()));
}

TEST(MgrNodeResume, CatchesUpByDiffWithinTheEpochWhenNoNeighbourKeepsItems) {
    Network n{/*with_storage=*/false, /*item_log_blocks=*/0};
    for (int b = 0; b < 9; ++b) n.block();  // block 9: the epoch from 8
    ASSERT_EQ(n.node->stores().front().store->head_number(), 9U);
    n.stop();
    for (int b = 0; b < 4; ++b) n.block();  // the network at 13, the same epoch
    n.restart();
    ASSERT_EQ(n.node->stores().front().store->head_number(), 9U);  // reopened where it stopped
    ASSERT_TRUE(n.run_until_resumed()) << n.why();
    expect_at_head(n);
    const FillRecord s = *n.node->resume_stats();
    EXPECT_GT(s.catch_up.items_lacking, 0U);  // asked first
    EXPECT_EQ(s.catch_up.items_applied, 0U);
    EXPECT_GT(s.catch_up.diff_requests, 0U);
    EXPECT_GT(s.catch_up.diff_bytes_received, 0U);
    EXPECT_EQ(s.catch_up.caught_up, 1U);
    EXPECT_EQ(s.catch_up.refilled, 0U);
    EXPECT_EQ(s.catch_up.rejected_answers, 0U);
    EXPECT_EQ(s.fills, 0U);
    EXPECT_EQ(s.fill.chunk_requests, 0U);
    // It follows gossip again from there.
    n.block();
    expect_at_head(n);
}

TEST(MgrNodeResume, RefillsWhenMoreThanAnEpochBehind) {
    Network n;
    n.stop_between(3, 13);  // root(3) swept from the neighbours
    n.restart();
    ASSERT_TRUE(n.run_until_resumed()) << n.why();
    expect_at_head(n);
    const FillRecord s = *n.node->resume_stats();
    EXPECT_GT(s.catch_up.items_lacking, 0U);  // the neighbours keep the items of the last epoch only
    EXPECT_EQ(s.catch_up.items_applied, 0U);
    EXPECT_EQ(s.catch_up.diff_requests, 0U);
    EXPECT_EQ(s.catch_up.refilled, 1U);
    EXPECT_GE(s.fills_adopted, 1U);
    EXPECT_GT(s.fill.chunk_requests, 0U);
}

TEST(MgrNodeResume, ACorruptedDiffIsStruckAndAnotherNeighbourServes) {
    Network n{/*with_storage=*/false, /*item_log_blocks=*/0};
    n.stop_between(9, 13);
    // The first DiffData to the node is altered on the way: a changed value, or a proof node less.
    PeerId liar = 0;
    n.wire.set_frame_hook([&](PeerId from, PeerId to, Bytes& frame) {
        if (liar != 0 || to != n.node_peer || frame.empty() ||
            frame[0] != static_cast<uint8_t>(proto::MessageType::kDiffData)) {
            return;
        }
        auto d = proto::decode_diff_data(frame);
        if (!d || d->error) return;
        if (!d->values.empty() && !d->values[0].empty()) {
            d->values[0].back() ^= 1;
        } else if (!d->proof.empty()) {
            d->proof.pop_back();
        } else {
            return;
        }
        liar = from;
        frame = proto::encode(*d);
    });
    n.restart();
    ASSERT_TRUE(n.run_until_resumed()) << n.why();
    ASSERT_NE(liar, 0U);
    expect_at_head(n);
    const FillRecord s = *n.node->resume_stats();
    EXPECT_EQ(s.catch_up.rejected_answers, 1U);
    EXPECT_GE(s.catch_up.diff_requests, 2U);
    EXPECT_EQ(s.catch_up.caught_up, 1U);
    EXPECT_EQ(s.catch_up.refilled, 0U);
}

TEST(MgrNodeResume, CatchesUpByItemsStorageIncluded) {
    Network n{/*with_storage=*/true};
    for (int b = 0; b < 9; ++b) n.block();
    ASSERT_FALSE(n.node->stores().front().store->owners(n.roots.back(), Hash{}, 1).empty());
    n.stop();
    for (int b = 0; b < 4; ++b) n.block();
    n.restart();
    ASSERT_TRUE(n.run_until_resumed()) << n.why();
    expect_at_head(n);
    EXPECT_EQ(n.node->stores().front().store->owners(n.roots.back()), n.reference().owners(n.roots.back()));
    const FillRecord s = *n.node->resume_stats();
    EXPECT_EQ(s.catch_up.items_applied, 4U);
    EXPECT_EQ(s.catch_up.items_requests, 1U);  // the four fit in one answer
    EXPECT_GT(s.catch_up.items_bytes_received, 0U);
    EXPECT_EQ(s.catch_up.caught_up, 1U);
    EXPECT_EQ(s.catch_up.diff_requests, 0U);
    EXPECT_EQ(s.catch_up.refilled, 0U);
    EXPECT_EQ(s.fills, 0U);
    // It follows gossip again, and serves the items it caught up with to the next one that asks.
    n.block();
    expect_at_head(n);
}

TEST(MgrNodeResume, ItemsAreAskedOnlyForBlocksWhoseHeadersAreKnown) {
    // A restarted process's book learns the latest header (gossip) before the ones between (its
    // poll): items it could not apply yet are not fetched, only to be fetched again.
    Network n{/*with_storage=*/true};
    n.stop_between(9, 13);
    n.restart({}, /*with_book=*/true);
    n.sign(13);  // the head, from gossip
    n.onet.run_for(std::chrono::seconds{5});
    EXPECT_EQ(n.node->resume_stats()->catch_up.items_requests, 0U) << n.why();
    n.sign(10);
    n.sign(11);
    n.onet.run_for(std::chrono::seconds{5});
    EXPECT_EQ(n.node->stores().front().store->head_number(), 11U) << n.why();
    EXPECT_EQ(n.node->resume_stats()->catch_up.items_requests, 1U) << n.why();
    n.sign(12);
    ASSERT_TRUE(n.run_until_resumed()) << n.why();
    expect_at_head(n);
    const FillRecord s = *n.node->resume_stats();
    EXPECT_EQ(s.catch_up.items_applied, 4U);
    EXPECT_EQ(s.catch_up.items_requests, 2U);
    EXPECT_EQ(s.catch_up.refilled, 0U);
}

TEST(MgrNodeResume, ItemsComeInAsManyAnswersAsTheSizeAsked) {
    Network n{/*with_storage=*/true};
    n.stop_between(9, 13);
    FillOptions fill;
    fill.max_response_bytes = 1;  // one item per answer
    n.restart(fill);
    ASSERT_TRUE(n.run_until_resumed()) << n.why();
    expect_at_head(n);
    const FillRecord s = *n.node->resume_stats();
    EXPECT_EQ(s.catch_up.items_applied, 4U);
    EXPECT_GE(s.catch_up.items_requests, 4U);
    EXPECT_EQ(s.catch_up.refilled, 0U);
}

TEST(MgrNodeResume, ACorruptedItemIsStruckAndAnotherNeighbourServes) {
    Network n{/*with_storage=*/true};
    n.stop_between(9, 13);
    // The first Items answer to the node is altered on the way: one byte of its last item.
    PeerId liar = 0;
    n.wire.set_frame_hook([&](PeerId from, PeerId to, Bytes& frame) {
        if (liar != 0 || to != n.node_peer || frame.empty() ||
            frame[0] != static_cast<uint8_t>(proto::MessageType::kItems)) {
            return;
        }
        auto d = proto::decode_items(frame);
        if (!d || d->items.empty()) return;
        d->items.back()[d->items.back().size() / 2] ^= 0x01;
        liar = from;
        frame = proto::encode(*d);
    });
    n.restart();
    ASSERT_TRUE(n.run_until_resumed()) << n.why();
    ASSERT_NE(liar, 0U);
    expect_at_head(n);
    const FillRecord s = *n.node->resume_stats();
    EXPECT_EQ(s.catch_up.rejected_answers, 1U);
    EXPECT_GE(s.catch_up.items_requests, 2U);
    EXPECT_EQ(s.catch_up.items_applied, 4U);
    EXPECT_EQ(s.catch_up.caught_up, 1U);
    EXPECT_EQ(s.catch_up.refilled, 0U);
}

TEST(MgrNodeResume, AnUnansweredRequestTimesOutOnTheNodesOwnTimer) {
    Network n{/*with_storage=*/true};
    n.stop_between(9, 13);
    // The first GetItems is lost; no block comes meanwhile, so no frame wakes the node: only its
    // timer (core_deadline) sees the request expire, request_timeout later, and asks another neighbour.
    bool dropped = false;
    n.wire.set_frame_hook([&](PeerId from, PeerId, Bytes& frame) {
        if (dropped || from != n.node_peer || frame.empty() ||
            frame[0] != static_cast<uint8_t>(proto::MessageType::kGetItems)) {
            return;
        }
        dropped = true;
        frame.clear();
    });
    n.restart();
    ASSERT_TRUE(n.run_until_resumed()) << n.why();
    ASSERT_TRUE(dropped);
    expect_at_head(n);
    const FillRecord s = *n.node->resume_stats();
    EXPECT_EQ(s.catch_up.timeouts, 1U);
    EXPECT_EQ(s.catch_up.items_applied, 4U);
    const FillOptions defaults;
    EXPECT_LT(*s.filled_at - s.started_at, defaults.request_timeout + Time{std::chrono::seconds{2}}) << n.why();
}

TEST(MgrNodeResume, AStoreWithStorageIsRefilledWhenNoNeighbourKeepsItems) {
    // The diff route cannot carry storage tries (MgrNode::resume): without items such a store is refilled.
    Network n{/*with_storage=*/true, /*item_log_blocks=*/0};
    for (int b = 0; b < 9; ++b) n.block();
    ASSERT_FALSE(n.node->stores().front().store->owners(n.roots.back(), Hash{}, 1).empty());
    n.stop();
    for (int b = 0; b < 4; ++b) n.block();
    n.restart();
    ASSERT_TRUE(n.run_until_resumed()) << n.why();
    expect_at_head(n);
    EXPECT_EQ(n.node->stores().front().store->owners(n.roots.back()), n.reference().owners(n.roots.back()));
    const FillRecord s = *n.node->resume_stats();
    EXPECT_GT(s.catch_up.items_lacking, 0U);
    EXPECT_EQ(s.catch_up.refilled, 1U);
}

}  // namespace
}  // namespace carousel::mgr
