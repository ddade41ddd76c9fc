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

namespace carousel::mgr {
namespace {

using proto::PeerId;
using proto::Time;

// A minimal driver (net/ is a layer below mgr/): frames are delivered in order, each after a fixed
// delay; when none is in flight the clock jumps to the earliest deadline. `hook` sees every frame.
class Wire {
  public:
    PeerId add(proto::Endpoint& e) {
        ends_.push_back(&e);
        return ends_.size();
    }
    void connect(PeerId a, PeerId b) {
        call(a, [&](proto::Endpoint& e) { e.on_connect(b, now_); });
        call(b, [&](proto::Endpoint& e) { e.on_connect(a, now_); });
    }
    std::function<void(PeerId from, PeerId to, Bytes& frame)> hook;

    bool run_until(const std::function<bool()>& done, Time limit) {
        while (!done()) {
            if (!queue_.empty()) {
                auto [at, from, to, frame] = std::move(queue_.front());
                queue_.pop_front();
                now_ = std::max(now_, at);
                if (now_ > limit) return false;
                call(to, [&](proto::Endpoint& e) { e.on_frame(from, frame, now_); });
                continue;
            }
            std::optional<Time> next;
            std::size_t who = 0;
            for (std::size_t i = 0; i < ends_.size(); ++i) {
                const auto d = ends_[i]->next_deadline();
                if (d && (!next || *d < *next)) {
                    next = d;
                    who = i + 1;
                }
            }
            if (!next || *next > limit) return false;
            now_ = std::max(now_, *next);
            call(who, [&](proto::Endpoint& e) { e.on_timer(now_); });
        }
        return true;
    }
    Time now() const { return now_; }

    // Calls into an endpoint (as a driver does) and sends what it sent.
    void call(PeerId id, const std::function<void(proto::Endpoint&)>& f) {
        proto::Endpoint& e = *ends_[id - 1];
        f(e);
        for (auto& out : e.take_outbox()) {
            if (hook) hook(id, out.to, out.frame);
            if (!out.frame.empty()) queue_.push_back({now_ + kDelay, id, out.to, std::move(out.frame)});
        }
        (void)e.take_disconnects();  // the tests here do not need links to go away
    }

  private:
    static constexpr Time kDelay{std::chrono::milliseconds{10}};
    struct Frame {
        Time at;
        PeerId from;
        PeerId to;
        Bytes frame;
    };
    std::vector<proto::Endpoint*> ends_;
    std::deque<Frame> queue_;
    Time now_{0};
};

// An id in quarter q of the key space (region_bits 254), made distinct by `n`.
dht::NodeId id_in(unsigned q, uint8_t n) {
    const uint8_t in[2] = {static_cast<uint8_t>(q), n};
    Hash h = keccak256(ByteView{in, 2});
    h[0] = static_cast<uint8_t>((q << 6) | (h[0] & 0x3f));
    return h;
}

// Two seeded nodes per quarter, and a joiner in quarter 1, all at genesis.
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
        for (unsigned q = 0; q < 4; ++q) {
            for (uint8_t n = 0; n < 2; ++n) {
                nodes.push_back(
                    std::make_unique<MgrNode>(dht::Contact{id_in(q, n), 0, dht::Radius{254}}, options, headers));
                EXPECT_TRUE(nodes.back()->seed(gen->node_store(), 0, root, code).has_value());
                peers.push_back(wire.add(*nodes.back()));
            }
        }
        joiner = std::make_unique<MgrNode>(dht::Contact{id_in(1, 7), 0, dht::Radius{254}}, options, headers);
        joiner_peer = wire.add(*joiner);
        for (PeerId p : peers) wire.connect(joiner_peer, p);
    }
    // The seeded neighbour covering the joiner's region.
    const EpochStore& reference() const { return *nodes[2]->stores().front().store; }
    bool fill(FillOptions fill_options = {}) {
        wire.call(joiner_peer, [&](proto::Endpoint&) { joiner->join(wire.now(), fill_options); });
        return wire.run_until([&] { return !joiner->filling(); }, Time{std::chrono::seconds{120}});
    }

    std::unique_ptr<state::ChainGenerator> gen;
    Hash root{};
    NodeOptions options;
    Wire wire;
    std::vector<std::unique_ptr<MgrNode>> nodes;
    std::vector<PeerId> peers;
    std::unique_ptr<MgrNode> joiner;
    PeerId joiner_peer{0};
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
    net.wire.hook = [&](PeerId from, PeerId to, Bytes& frame) {
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
    };
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
    net.wire.hook = [&](PeerId from, PeerId to, Bytes& frame) {
        if (from != bad || to != net.joiner_peer || frame.empty() ||
            frame[0] != static_cast<uint8_t>(proto::MessageType::kChunkData))
            return;
        auto d = proto::decode_chunk_data(frame);
        if (!d || d->entries.size() != 1 || d->entries[0].leaf_mode || d->entries[0].error) return;
        d->entries[0].nodes.push_back(foreign);
        ++forged;
        frame = proto::encode(*d);
    };
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
    net.wire.hook = [&](PeerId, PeerId to, Bytes& frame) {
        if (to == net.joiner_peer && !frame.empty() && frame[0] == static_cast<uint8_t>(proto::MessageType::kChunkData))
            frame.clear();
    };
    net.joiner->join(net.wire.now());
    const Region region = net.joiner->stores().front().store->region();
    const trie::PathRange range = path_range(region);
    proto::GetChunks get;
    get.request_id = 77;
    get.root = net.root;
    get.prefixes = {range.from, range.to};
    get.is_range = range.from != range.to;
    get.max_size = 1 << 20;
    get.flags = proto::kFlagLeaves;
    net.joiner->on_frame(net.peers[0], proto::encode(get), net.wire.now());
    proto::GetDiff diff{78, net.root, net.root, range.from, range.to};
    net.joiner->on_frame(net.peers[0], proto::encode(diff), net.wire.now());
    std::size_t chunk_refusals = 0;
    std::size_t diff_refusals = 0;
    for (auto& out : net.joiner->take_outbox()) {
        if (out.frame[0] == static_cast<uint8_t>(proto::MessageType::kChunkData)) {
            auto d = proto::decode_chunk_data(out.frame);
            ASSERT_TRUE(d.has_value());
            if (d->request_id == 77) {
                ASSERT_EQ(d->entries.size(), 1u);
                EXPECT_EQ(d->entries[0].error, proto::ChunkError::kUnknownRoot);
                ++chunk_refusals;
            }
        } else if (out.frame[0] == static_cast<uint8_t>(proto::MessageType::kDiffData)) {
            auto d = proto::decode_diff_data(out.frame);
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
// quarters 0 and 1. Connects it to the other seeded nodes (the fill walks every quarter's account
// leaves) and lets the PINGs settle.
void connect_grower(Network& net) {
    for (std::size_t i = 0; i < net.peers.size(); ++i) {
        if (i != 2) net.wire.connect(net.peers[2], net.peers[i]);
    }
    (void)net.wire.run_until([] { return false; }, net.wire.now() + Time{std::chrono::seconds{1}});
}

// A node that grows fills exactly the new region's store (the one a seeded node of that quarter
// holds) and the code of the added part, and keeps its old store as it was.
TEST(RegionFill, GrownNodeFillsExactlyItsNewRegion) {
    Network net;
    connect_grower(net);
    MgrNode& node = *net.nodes[2];
    net.wire.call(net.peers[2], [&](proto::Endpoint&) { node.set_radius(dht::Radius{255}, net.wire.now()); });
    EXPECT_EQ(node.covered().bits, 255u);
    EXPECT_EQ(node.dht().self().radius.bits, 255u);
    ASSERT_EQ(node.stores().size(), 2u);
    EXPECT_TRUE(node.filling(net.nodes[0]->stores().front().store->region()));
    EXPECT_FALSE(node.filling(net.nodes[3]->stores().front().store->region()));
    ASSERT_TRUE(net.wire.run_until([&] { return !node.filling(); }, Time{std::chrono::seconds{120}}));
    // Its neighbours learnt the new radius from its PING.
    const auto seen = net.nodes[0]->dht().table().find(node.dht().self().id);
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
    connect_grower(net);
    MgrNode& node = *net.nodes[2];
    // Keep it filling: its neighbours' answers never arrive.
    net.wire.hook = [&](PeerId, PeerId to, Bytes& frame) {
        if (to == net.peers[2] && !frame.empty() && frame[0] == static_cast<uint8_t>(proto::MessageType::kChunkData))
            frame.clear();
    };
    net.wire.call(net.peers[2], [&](proto::Endpoint&) { node.set_radius(dht::Radius{255}, net.wire.now()); });
    ASSERT_TRUE(node.filling());
    (void)node.take_outbox();
    const Region fresh = net.nodes[0]->stores().front().store->region();
    const Region old = net.nodes[3]->stores().front().store->region();
    uint64_t id = 100;
    for (const Region& region : {fresh, old}) {
        const trie::PathRange range = path_range(region);
        proto::GetChunks get;
        get.request_id = id++;
        get.root = net.root;
        get.prefixes = {range.from, range.to};
        get.is_range = range.from != range.to;
        get.max_size = 1 << 20;
        get.flags = proto::kFlagLeaves;
        node.on_frame(net.peers[0], proto::encode(get), net.wire.now());
        node.on_frame(net.peers[0], proto::encode(proto::GetDiff{id++, net.root, net.root, range.from, range.to}),
                      net.wire.now());
        proto::GetBareStorage bare;
        bare.request_id = id++;
        bare.state_root = net.root;
        bare.region_first = region.first;
        bare.region_bits = region.bits;
        bare.max_size = 1 << 20;
        node.on_frame(net.peers[0], proto::encode(bare), net.wire.now());
    }
    std::map<uint64_t, std::optional<proto::ChunkError>> errors;  // by request id
    for (auto& out : node.take_outbox()) {
        if (out.frame[0] == static_cast<uint8_t>(proto::MessageType::kChunkData)) {
            auto d = proto::decode_chunk_data(out.frame);
            ASSERT_TRUE(d && d->entries.size() == 1);
            errors[d->request_id] = d->entries[0].error;
            if (!d->entries[0].error) {
                EXPECT_TRUE(d->entries[0].leaf_mode);
                EXPECT_FALSE(d->entries[0].keys.empty());
            }
        } else if (out.frame[0] == static_cast<uint8_t>(proto::MessageType::kDiffData)) {
            auto d = proto::decode_diff_data(out.frame);
            ASSERT_TRUE(d.has_value());
            errors[d->request_id] = d->error;
        } else if (out.frame[0] == static_cast<uint8_t>(proto::MessageType::kBareStorage)) {
            auto d = proto::decode_bare_storage(out.frame);
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
    net.wire.call(net.joiner_peer, [&](proto::Endpoint&) {
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
    connect_grower(net);
    MgrNode& node = *net.nodes[2];
    net.wire.call(net.peers[2], [&](proto::Endpoint&) {
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
    MgrNode node(dht::Contact{id_in(1, 9), 0, dht::Radius{255}}, net.options, [&](uint64_t n) -> std::optional<Hash> {
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
    EXPECT_EQ(node.dht().self().radius.bits, 254u);
    expect_same_store(*node.stores().front().store, *net.nodes[3]->stores().front().store);
    EXPECT_LT(node.store_bytes(), both);
    EXPECT_EQ(node.code().size(), net.nodes[3]->code().size());
    EXPECT_FALSE(node.filling());
}

}  // namespace
}  // namespace carousel::mgr
