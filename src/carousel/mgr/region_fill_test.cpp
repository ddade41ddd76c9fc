// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "region_fill.hpp"

#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <memory>

#include <gtest/gtest.h>

#include <carousel/core/keccak.hpp>
#include <carousel/proto/mgr_messages.hpp>
#include <carousel/proto/prefix_messages.hpp>
#include <carousel/state/chain_generator.hpp>
#include <carousel/trie/node.hpp>

#include "mgr_node.hpp"
#include "overlay_testing.hpp"

namespace carousel::mgr {
namespace {

using proto::PeerId;
using proto::Time;

// A key whose node id lies in quarter q of the key space (region_bits 254); `next` counts the keys tried.
dht::KeyPair key_in(unsigned q, uint64_t& next) {
    return testing::test_key_where(next, [q](const dht::NodeId& id) { return (id[0] >> 6) == q; });
}

// Two seeded nodes per quarter, a joiner in quarter 1 and an asker (a scripted node that sends
// requests), all at genesis, on LocalNet. Nobody is connected by hand: every member meets nodes[0]
// and looks up its own id; connections are dialed as the fills need them.
struct Network {
    // `with_code`: the seeded nodes hold the genesis code of their block (else none).
    explicit Network(uint64_t accounts = 400, bool with_code = true) {
        state::GeneratorConfig config;
        config.seed = 9;
        config.accounts = accounts;
        config.max_contract_slots = 500;
        gen = std::make_unique<state::ChainGenerator>(config);
        EXPECT_TRUE(gen->genesis().has_value());
        root = gen->root();
        options.region_bits = 254;
        options.epoch_length = 8;
        const HeaderSource headers = [this](uint64_t n) -> std::optional<Hash> {
            if (n != 0) return std::nullopt;
            return root;
        };
        std::vector<Bytes> code;
        gen->for_each_account([&](const Hash&, const state::Account& a, std::span<const std::pair<Hash, Bytes>>) {
            if (!with_code || a.code_hash == state::kEmptyCodeHash) return;
            if (auto c = gen->code_store().get_code(a.code_hash)) code.push_back(std::move(*c));
        });
        uint64_t next = 3000;
        for (unsigned q = 0; q < 4; ++q) {
            for (uint8_t n = 0; n < 2; ++n) {
                nodes.push_back(std::make_unique<MgrNode>(key_in(q, next), onet.next_endpoint(254), options, headers));
                EXPECT_TRUE(nodes.back()->seed(gen->node_store(), 0, root, code).has_value());
                peers.push_back(onet.add(*nodes.back()));
            }
        }
        joiner = std::make_unique<MgrNode>(key_in(1, next), onet.next_endpoint(254), options, headers);
        joiner_peer = onet.add(*joiner);
        asker = std::make_unique<testing::ScriptedNode>(testing::test_key(next), onet.next_endpoint(0));
        asker_peer = onet.add(*asker);
        std::vector<std::pair<PeerId, MgrNode*>> members;
        for (std::size_t i = 0; i < nodes.size(); ++i) members.emplace_back(peers[i], nodes[i].get());
        members.emplace_back(joiner_peer, joiner.get());
        for (std::size_t i = 1; i < members.size(); ++i) {
            call(members[i].first,
                 [this, node = members[i].second] { node->bootstrap(nodes[0]->record(), wire.now()); });
        }
        for (int round = 0; round < 2; ++round) {
            onet.run_for(std::chrono::seconds{1});
            for (const auto& [peer, node] : members) {
                call(peer, [this, node = node] { node->look_up_self(wire.now()); });
            }
        }
        onet.run_for(std::chrono::seconds{2});
    }
    // Runs `f` as member `peer`'s event now (as a driver calls into it) and what it sends goes out.
    void call(PeerId peer, std::function<void()> f) {
        wire.post(peer, std::move(f));
        wire.run_until(wire.now());
    }
    // The asker sends `frames` to `to` and waits a second: the answers it got (every frame, in order).
    std::vector<Bytes> ask(const MgrNode& to, std::vector<Bytes> frames) {
        asker->received.clear();
        call(asker_peer, [&] {
            for (Bytes& f : frames) asker->send(to.record(), std::move(f), wire.now());
        });
        onet.run_for(std::chrono::seconds{1});
        std::vector<Bytes> out;
        for (auto& r : asker->received) out.push_back(std::move(r.frame));
        return out;
    }
    // The seeded neighbour covering the joiner's region.
    const EpochStore& reference() const { return *nodes[2]->stores().front().store; }
    bool fill(FillOptions fill_options = {}) {
        call(joiner_peer, [&] { joiner->join(wire.now(), fill_options); });
        return wire.run_until([&] { return !joiner->filling(); }, Time{std::chrono::seconds{120}});
    }

    std::unique_ptr<state::ChainGenerator> gen;
    Hash root{};
    NodeOptions options;
    testing::OverlayNet onet;
    net::LocalNet& wire = onet.net;
    std::vector<std::unique_ptr<MgrNode>> nodes;
    std::vector<PeerId> peers;
    std::unique_ptr<MgrNode> joiner;
    PeerId joiner_peer{0};
    std::unique_ptr<testing::ScriptedNode> asker;
    PeerId asker_peer{0};
};

void expect_same_store(const EpochStore& a, const EpochStore& b) {
    EXPECT_EQ(a.region(), b.region());
    EXPECT_EQ(a.head_root(), b.head_root());
    EXPECT_EQ(a.owners(a.head_root()), b.owners(b.head_root()));
    EXPECT_EQ(a.node_count(), b.node_count());
    EXPECT_EQ(a.byte_size(), b.byte_size());
    const auto leaves_a = leaves_in(a, a.head_root(), path_range(a.region()));
    const auto leaves_b = leaves_in(b, b.head_root(), path_range(b.region()));
    ASSERT_TRUE(leaves_a && leaves_b);
    EXPECT_EQ(*leaves_a, *leaves_b);
}

TEST(RegionFill, JoinerFillsExactlyTheStoreASeededNodeHolds) {
    Network net;
    ASSERT_TRUE(net.fill());
    const FillRecord s = *net.joiner->join_stats();
    ASSERT_TRUE(s.filled_at.has_value());
    EXPECT_EQ(s.fills, 1u);
    EXPECT_EQ(s.fill.rejected_answers, 0u);
    EXPECT_GT(s.fill.owners, 0u);
    EXPECT_GT(s.fill.code_bytes, 0u);
    EXPECT_EQ(s.fill.code_unavailable, 0u);
    // The neighbour's store was seeded from the whole state: the joiner's, from the network alone,
    // holds the same nodes.
    expect_same_store(*net.joiner->stores().front().store, net.reference());
    std::printf("fill: %llu bytes received for a store of %llu bytes (%.2fx), %llu requests\n",
                static_cast<unsigned long long>(s.fill.bytes_received), static_cast<unsigned long long>(s.store_bytes),
                static_cast<double>(s.fill.bytes_received) / static_cast<double>(s.store_bytes),
                static_cast<unsigned long long>(s.fill.chunk_requests + s.fill.code_requests));
}

// Answers cut at 1 KiB: every range is fetched in many pieces, each continued from the stopPath of
// the last with kFlagSkipStem; the result is the same store.
TEST(RegionFill, CutAnswersAreContinuedFromTheirStopPath) {
    Network net;
    FillOptions small;
    small.max_response_bytes = 1024;
    ASSERT_TRUE(net.fill(small));
    const FillRecord s = *net.joiner->join_stats();
    EXPECT_EQ(s.fill.rejected_answers, 0u);
    EXPECT_GT(s.fill.chunk_requests, 100u);  // about 40 with whole answers
    expect_same_store(*net.joiner->stores().front().store, net.reference());
}

// Code no neighbour has (here: none was ever given to them) is given up once every covering
// neighbour was asked, so the fill still ends; the tries are complete all the same.
TEST(RegionFill, CodeNoNeighbourHoldsIsGivenUp) {
    Network net(400, false);
    ASSERT_TRUE(net.fill());
    const FillRecord s = *net.joiner->join_stats();
    EXPECT_GT(s.fill.code_unavailable, 0u);
    EXPECT_EQ(s.fill.code_bytes, 0u);
    expect_same_store(*net.joiner->stores().front().store, net.reference());
}

// A neighbour that leaves the last node out of full-mode answers it calls complete: every node
// it sends links, so only the walk over the range finds the gap. The joiner rejects those answers
// and fills from the other neighbour.
TEST(RegionFill, AnswerCalledCompleteWithANodeMissingIsRejected) {
    Network net;
    const PeerId bad = net.peers[2];
    uint64_t cut = 0;
    net.wire.set_frame_hook([&](PeerId from, PeerId to, Bytes& frame) {
        if (from != bad || to != net.joiner_peer || frame.empty() ||
            frame[0] != static_cast<uint8_t>(proto::MessageType::kChunkData))
            return;
        auto d = proto::decode_chunk_data(frame);
        if (!d || d->entries.size() != 1) return;
        auto& e = d->entries[0];
        if (e.leaf_mode || e.error || e.stop_path || e.nodes.size() < 2) return;
        e.nodes.pop_back();
        ++cut;
        frame = proto::encode(*d);
    });
    // Small answers: after an incomplete one the range starts again from its first position, and
    // the honest neighbour's answers then bring nodes the joiner holds already: no offence.
    FillOptions small;
    small.max_response_bytes = 4096;
    ASSERT_TRUE(net.fill(small));
    const FillRecord s = *net.joiner->join_stats();
    EXPECT_GT(cut, 0u);
    EXPECT_GT(s.fill.incomplete, 0u);
    EXPECT_GT(s.fill.rejected_answers, 0u);
    expect_same_store(*net.joiner->stores().front().store, net.reference());
}

// A neighbour that answers with nodes of another trie (real, hashed right, but referenced by
// nothing the joiner verified) is rejected whole.
TEST(RegionFill, UnreferencedNodesAreRejected) {
    Network net;
    const PeerId bad = net.peers[3];
    Bytes foreign;
    {
        // A node of another trie: the root node of a fresh two-leaf trie.
        Bytes leaf;
        Bytes value(40, 0x11);
        trie::encode_leaf(leaf, Bytes(1, 0x20), value);
        foreign = leaf;
    }
    uint64_t forged = 0;
    net.wire.set_frame_hook([&](PeerId from, PeerId to, Bytes& frame) {
        if (from != bad || to != net.joiner_peer || frame.empty() ||
            frame[0] != static_cast<uint8_t>(proto::MessageType::kChunkData))
            return;
        auto d = proto::decode_chunk_data(frame);
        if (!d || d->entries.size() != 1 || d->entries[0].leaf_mode || d->entries[0].error) return;
        d->entries[0].nodes.push_back(foreign);
        ++forged;
        frame = proto::encode(*d);
    });
    ASSERT_TRUE(net.fill());
    const FillRecord s = *net.joiner->join_stats();
    EXPECT_GT(forged, 0u);
    EXPECT_GT(s.fill.rejected_answers, 0u);
    expect_same_store(*net.joiner->stores().front().store, net.reference());
}

// While it fills, the joiner refuses: GetChunks and GetDiff get 0x0, GetCode no code.
TEST(RegionFill, NodeRefusesToServeWhileFilling) {
    Network net(100);
    // Keep it filling: its neighbours' answers never arrive.
    net.wire.set_frame_hook([&](PeerId, PeerId to, Bytes& frame) {
        if (to == net.joiner_peer && !frame.empty() && frame[0] == static_cast<uint8_t>(proto::MessageType::kChunkData))
            frame.clear();
    });
    net.call(net.joiner_peer, [&] { net.joiner->join(net.wire.now()); });
    const Region region = net.joiner->stores().front().store->region();
    const trie::PathRange range = path_range(region);
    proto::GetChunks get;
    get.request_id = 77;
    get.root = net.root;
    get.prefixes = {range.from, range.to};
    get.is_range = range.from != range.to;
    get.max_size = 1 << 20;
    get.flags = proto::kFlagLeaves;
    const proto::GetDiff diff{78, net.root, net.root, range.from, range.to};
    std::size_t chunk_refusals = 0;
    std::size_t diff_refusals = 0;
    for (auto& out : net.ask(*net.joiner, {proto::encode(get), proto::encode(diff)})) {
        if (out[0] == static_cast<uint8_t>(proto::MessageType::kChunkData)) {
            auto d = proto::decode_chunk_data(out);
            ASSERT_TRUE(d.has_value());
            if (d->request_id == 77) {
                ASSERT_EQ(d->entries.size(), 1u);
                EXPECT_EQ(d->entries[0].error, proto::ChunkError::kUnknownRoot);
                ++chunk_refusals;
            }
        } else if (out[0] == static_cast<uint8_t>(proto::MessageType::kDiffData)) {
            auto d = proto::decode_diff_data(out);
            ASSERT_TRUE(d.has_value());
            EXPECT_EQ(d->error, proto::ChunkError::kUnknownRoot);
            ++diff_refusals;
        }
    }
    EXPECT_EQ(chunk_refusals, 1u);
    EXPECT_EQ(diff_refusals, 1u);
    EXPECT_TRUE(net.joiner->filling());
    EXPECT_FALSE(net.joiner->stores().front().store->seeded());
}

// Radius change (MgrNode::set_radius). nodes[2] covers quarter 1; with one bit more it covers
// quarters 0 and 1 (the fill walks every quarter's account leaves: its table knows them all).

// A node that grows fills exactly the new region's store (the one a seeded node of that quarter
// holds) and the code of the added part, and keeps its old store as it was.
TEST(RegionFill, GrownNodeFillsExactlyItsNewRegion) {
    Network net;
    MgrNode& node = *net.nodes[2];
    net.call(net.peers[2], [&] { node.set_radius(dht::Radius{255}, net.wire.now()); });
    EXPECT_EQ(node.covered().bits, 255u);
    EXPECT_EQ(node.radius().bits, 255u);
    ASSERT_EQ(node.stores().size(), 2u);
    EXPECT_TRUE(node.filling(net.nodes[0]->stores().front().store->region()));
    EXPECT_FALSE(node.filling(net.nodes[3]->stores().front().store->region()));
    ASSERT_TRUE(net.wire.run_until([&] { return !node.filling(); }, Time{std::chrono::seconds{120}}));
    // Its neighbours learnt the new radius from its PING (its record, re-signed with seq + 1).
    const auto seen = net.nodes[0]->overlay().discovery().table().find(node.id());
    ASSERT_TRUE(seen.has_value());
    EXPECT_EQ(seen->contact.radius.bits, 255u);
    const FillRecord s = *node.grow_stats();
    ASSERT_TRUE(s.filled_at.has_value());
    EXPECT_EQ(s.fills, 1u);
    EXPECT_EQ(s.fill.rejected_answers, 0u);
    ASSERT_EQ(s.regions.size(), 1u);
    EXPECT_EQ(s.regions[0], net.nodes[0]->stores().front().store->region());
    EXPECT_GT(s.fill.code_bytes, 0u);
    EXPECT_EQ(s.fill.code_unavailable, 0u);
    EXPECT_FALSE(node.join_stats().has_value());
    expect_same_store(*node.stores()[0].store, *net.nodes[0]->stores().front().store);
    expect_same_store(*node.stores()[1].store, *net.nodes[3]->stores().front().store);
    // The code of both quarters, and nothing else.
    EXPECT_EQ(node.code().size(), net.nodes[0]->code().size() + net.nodes[3]->code().size());
    std::printf("growth: %llu bytes received for a new store of %llu bytes (%.2fx), %llu requests\n",
                static_cast<unsigned long long>(s.fill.bytes_received), static_cast<unsigned long long>(s.store_bytes),
                static_cast<double>(s.fill.bytes_received) / static_cast<double>(s.store_bytes),
                static_cast<unsigned long long>(s.fill.chunk_requests + s.fill.code_requests));
}

// While its new region fills, a growing node refuses requests for it (0x0, as a joining node does)
// and answers for its old region as before.
TEST(RegionFill, GrowingNodeRefusesOnlyItsNewRegion) {
    Network net(100);
    MgrNode& node = *net.nodes[2];
    // Keep it filling: its neighbours' answers never arrive.
    net.wire.set_frame_hook([&](PeerId, PeerId to, Bytes& frame) {
        if (to == net.peers[2] && !frame.empty() && frame[0] == static_cast<uint8_t>(proto::MessageType::kChunkData))
            frame.clear();
    });
    net.call(net.peers[2], [&] { node.set_radius(dht::Radius{255}, net.wire.now()); });
    ASSERT_TRUE(node.filling());
    const Region fresh = net.nodes[0]->stores().front().store->region();
    const Region old = net.nodes[3]->stores().front().store->region();
    uint64_t id = 100;
    std::vector<Bytes> asks;
    for (const Region& region : {fresh, old}) {
        const trie::PathRange range = path_range(region);
        proto::GetChunks get;
        get.request_id = id++;
        get.root = net.root;
        get.prefixes = {range.from, range.to};
        get.is_range = range.from != range.to;
        get.max_size = 1 << 20;
        get.flags = proto::kFlagLeaves;
        asks.push_back(proto::encode(get));
        asks.push_back(proto::encode(proto::GetDiff{id++, net.root, net.root, range.from, range.to}));
        proto::GetBareStorage bare;
        bare.request_id = id++;
        bare.state_root = net.root;
        bare.region_first = region.first;
        bare.region_bits = region.bits;
        bare.max_size = 1 << 20;
        asks.push_back(proto::encode(bare));
    }
    std::map<uint64_t, std::optional<proto::ChunkError>> errors;  // by request id
    for (auto& out : net.ask(node, std::move(asks))) {
        if (out[0] == static_cast<uint8_t>(proto::MessageType::kChunkData)) {
            auto d = proto::decode_chunk_data(out);
            ASSERT_TRUE(d && d->entries.size() == 1);
            errors[d->request_id] = d->entries[0].error;
            if (!d->entries[0].error) {
                EXPECT_TRUE(d->entries[0].leaf_mode);
                EXPECT_FALSE(d->entries[0].keys.empty());
            }
        } else if (out[0] == static_cast<uint8_t>(proto::MessageType::kDiffData)) {
            auto d = proto::decode_diff_data(out);
            ASSERT_TRUE(d.has_value());
            errors[d->request_id] = d->error;
        } else if (out[0] == static_cast<uint8_t>(proto::MessageType::kBareStorage)) {
            auto d = proto::decode_bare_storage(out);
            ASSERT_TRUE(d.has_value());
            errors[d->request_id] = d->error;
        }
    }
    ASSERT_EQ(errors.size(), 6u);
    // The new region: GetChunks, GetDiff and GetBareStorage refused with 0x0.
    EXPECT_EQ(errors[100], proto::ChunkError::kUnknownRoot);
    EXPECT_EQ(errors[101], proto::ChunkError::kUnknownRoot);
    EXPECT_EQ(errors[102], proto::ChunkError::kUnknownRoot);
    // The old region: all answered.
    EXPECT_EQ(errors[103], std::nullopt);
    EXPECT_EQ(errors[104], std::nullopt);
    EXPECT_EQ(errors[105], std::nullopt);
    EXPECT_FALSE(node.stores()[0].store->seeded());
    EXPECT_TRUE(node.stores()[1].store->seeded());
}

// A node that grows while its join's fill runs: the join's fill is abandoned (a restart) and one
// fill takes both regions; both stores then equal the seeded nodes'.
TEST(RegionFill, GrowthDuringAJoinFillsEveryRegionOnce) {
    Network net;
    MgrNode& node = *net.joiner;
    net.call(net.joiner_peer, [&] {
        node.join(net.wire.now());
        node.set_radius(dht::Radius{255}, net.wire.now());
    });
    ASSERT_EQ(node.stores().size(), 2u);
    EXPECT_TRUE(node.filling(node.stores()[0].store->region()));
    EXPECT_TRUE(node.filling(node.stores()[1].store->region()));
    ASSERT_TRUE(net.wire.run_until([&] { return !node.filling(); }, Time{std::chrono::seconds{120}}));
    const FillRecord join = *node.join_stats();
    const FillRecord grow = *node.grow_stats();
    EXPECT_EQ(join.restarts, 1u);
    EXPECT_TRUE(join.filled_at.has_value());
    EXPECT_EQ(grow.fills, 1u);
    EXPECT_EQ(grow.fills_adopted, 1u);
    EXPECT_TRUE(grow.filled_at.has_value());
    expect_same_store(*node.stores()[0].store, *net.nodes[0]->stores().front().store);
    expect_same_store(*node.stores()[1].store, *net.nodes[3]->stores().front().store);
    // The code of the whole block: the join's (quarter 1) and the growth's (quarter 0).
    EXPECT_EQ(node.code().size(), net.nodes[0]->code().size() + net.nodes[3]->code().size());
}

// A growth undone before its fill ends: the new store goes, the fill is abandoned (its late answers
// are dropped), and the old store is as it was.
TEST(RegionFill, ShrinkBackDuringAGrowthAbandonsItsFill) {
    Network net;
    MgrNode& node = *net.nodes[2];
    net.call(net.peers[2], [&] {
        node.set_radius(dht::Radius{255}, net.wire.now());
        node.set_radius(dht::Radius{254}, net.wire.now());
    });
    EXPECT_FALSE(node.filling());
    ASSERT_EQ(node.stores().size(), 1u);
    (void)net.wire.run_until([] { return false; }, net.wire.now() + Time{std::chrono::seconds{10}});
    EXPECT_FALSE(node.filling());
    const FillRecord s = *node.grow_stats();
    EXPECT_EQ(s.restarts, 1u);
    EXPECT_EQ(s.fills, 1u);
    EXPECT_FALSE(s.filled_at.has_value());
    expect_same_store(*node.stores().front().store, *net.nodes[3]->stores().front().store);
    EXPECT_EQ(node.code().size(), net.nodes[3]->code().size());
}

// A node covering two quarters shrinks to one: the other store and the code outside its block go.
// shrink_to_fit never goes below one region, and a budget that fits changes nothing.
TEST(RegionFill, ShrinkDropsTheStoresAndCodeOutsideTheBlock) {
    Network net;
    std::vector<Bytes> code;
    net.gen->for_each_account([&](const Hash&, const state::Account& a, std::span<const std::pair<Hash, Bytes>>) {
        if (a.code_hash == state::kEmptyCodeHash) return;
        if (auto c = net.gen->code_store().get_code(a.code_hash)) code.push_back(std::move(*c));
    });
    uint64_t next = 9000;
    MgrNode node(key_in(1, next), net.onet.next_endpoint(255), net.options, [&](uint64_t n) -> std::optional<Hash> {
        return n == 0 ? std::optional<Hash>{net.root} : std::nullopt;
    });
    ASSERT_TRUE(node.seed(net.gen->node_store(), 0, net.root, code).has_value());
    ASSERT_EQ(node.stores().size(), 2u);
    const uint64_t both = node.store_bytes();
    EXPECT_EQ(node.shrink_to_fit(both, Time{0}).bits, 255u);  // fits: unchanged
    EXPECT_EQ(node.stores().size(), 2u);
    EXPECT_EQ(node.shrink_to_fit(0, Time{0}).bits, 254u);  // never below one region
    ASSERT_EQ(node.stores().size(), 1u);
    EXPECT_EQ(node.covered().bits, 254u);
    EXPECT_EQ(node.radius().bits, 254u);
    expect_same_store(*node.stores().front().store, *net.nodes[3]->stores().front().store);
    EXPECT_LT(node.store_bytes(), both);
    EXPECT_EQ(node.code().size(), net.nodes[3]->code().size());
    EXPECT_FALSE(node.filling());
}

}  // namespace
}  // namespace carousel::mgr
