// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "node_datadir.hpp"

#include <random>

#include <gtest/gtest.h>

#include <carousel/core/keccak.hpp>
#include <carousel/state/chain_generator.hpp>
#include <carousel/testing/temp_dir.hpp>

#include "bridge.hpp"
#include "mgr_node.hpp"
#include "overlay_testing.hpp"

namespace carousel::mgr {
namespace {

constexpr uint64_t kEpoch = 4;
constexpr uint64_t kBlocks = 6;  // a boundary at 4, a head past it
constexpr unsigned kRegionBits = 253;

struct Chain {
    std::unique_ptr<state::ChainGenerator> gen;
    std::vector<Hash> roots;
    std::vector<state::StateDiff> diffs;
};

const Chain& chain() {
    static const Chain kChain = [] {
        state::GeneratorConfig cfg;
        cfg.seed = 20;
        cfg.accounts = 600;
        cfg.accounts_per_block = 20;
        cfg.slots_per_block = 40;
        Chain ch;
        ch.gen = std::make_unique<state::ChainGenerator>(cfg);
        auto g = ch.gen->genesis();
        EXPECT_TRUE(g);
        ch.roots.push_back(ch.gen->root());
        ch.diffs.push_back(g.value_or(state::StateDiff{}));
        for (uint64_t b = 1; b <= kBlocks; ++b) {
            auto d = ch.gen->next_block();
            EXPECT_TRUE(d);
            ch.roots.push_back(ch.gen->root());
            ch.diffs.push_back(d.value_or(state::StateDiff{}));
        }
        return ch;
    }();
    return kChain;
}

const dht::KeyPair& node_key() {
    static const dht::KeyPair kKey = testing::test_key(5);
    return kKey;
}
Hash node_id() { return node_key().node_id; }

// Two regions of 2^253 keys.
NodeRecord record() { return {region_of(node_id(), dht::Radius{kRegionBits + 1}), kRegionBits, kEpoch}; }

// Code blobs, a quarter of them (by hash) in the record's block.
std::vector<Bytes> blobs() {
    std::mt19937 rng{3};  // NOLINT(cert-msc32-c,cert-msc51-cpp): a fixed seed, for the same blobs every run
    std::vector<Bytes> out;
    for (int i = 0; i < 40; ++i) {
        Bytes b(static_cast<std::size_t>(1 + rng() % 100), 0);
        for (auto& x : b) x = static_cast<uint8_t>(rng());
        out.push_back(b);
    }
    return out;
}

// A datadir whose stores were seeded at genesis and followed to `head`, with every blob of blobs().
void fill(const std::filesystem::path& dir, uint64_t head) {
    auto datadir = NodeDatadir::open(dir);
    ASSERT_TRUE(datadir) << datadir.error().message;
    ASSERT_TRUE((*datadir)->write_node_record(record()));
    const std::vector<Region> regions = regions_in(record().covered, kRegionBits);
    std::vector<std::unique_ptr<EpochStore>> stores;
    for (const Region& r : regions) {
        stores.push_back((*datadir)->new_store(r, kEpoch));
        ASSERT_TRUE(stores.back()->seed(chain().gen->node_store(), 0, chain().roots[0]));
    }
    for (uint64_t b = 1; b <= head; ++b) {
        auto items = build_region_items(chain().gen->node_store(), b, chain().roots[b - 1], chain().roots[b],
                                        chain().diffs[b], regions);
        ASSERT_TRUE(items);
        for (std::size_t i = 0; i < stores.size(); ++i) ASSERT_TRUE(stores[i]->apply((*items)[i], chain().roots[b]));
    }
    for (const Bytes& c : blobs()) (*datadir)->code_store().put_code(keccak256(c), c);
    ASSERT_TRUE((*datadir)->code_store().status().ok());
}

TEST(NodeDatadir, ReopensTheStoresAndCodeItHeld) {
    store::TempDir tmp{"carousel-datadir-"};
    {
        auto fresh = NodeDatadir::open(tmp.path());
        ASSERT_TRUE(fresh);
        auto none = (*fresh)->node_record();
        ASSERT_TRUE(none);
        EXPECT_FALSE(none->has_value());
        auto no_regions = (*fresh)->regions();
        ASSERT_TRUE(no_regions);
        EXPECT_TRUE(no_regions->empty());
    }
    fill(tmp.path(), kBlocks);
    auto datadir = NodeDatadir::open(tmp.path());
    ASSERT_TRUE(datadir) << datadir.error().message;
    // A second writer is refused while this one holds the datadir.
    auto second = NodeDatadir::open(tmp.path());
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().kind, DatadirError::Kind::kDatabase);
    EXPECT_TRUE(second.error().status.is_io_error()) << second.error().message;

    auto held = (*datadir)->node_record();
    ASSERT_TRUE(held && held->has_value());
    EXPECT_EQ(**held, record());
    auto regions = (*datadir)->regions();
    ASSERT_TRUE(regions);
    EXPECT_EQ(*regions, regions_in(record().covered, kRegionBits));
    auto stores = (*datadir)->open_stores(**held);
    ASSERT_TRUE(stores) << stores.error().message;
    ASSERT_EQ(stores->size(), 2U);
    for (const auto& s : *stores) {
        EXPECT_EQ(s->head_number(), kBlocks);
        EXPECT_EQ(s->head_root(), chain().roots[kBlocks]);
        EXPECT_EQ(s->epoch_number(), 4U);
        EXPECT_EQ(s->previous_epoch_number(), std::optional<uint64_t>{0});
    }
    auto code = (*datadir)->code();
    ASSERT_TRUE(code);
    EXPECT_EQ(code->size(), blobs().size());

    // A region dropped is gone from the listing, and reopens empty.
    ASSERT_TRUE((*datadir)->drop_region((*regions)[1]));
    auto left = (*datadir)->regions();
    ASSERT_TRUE(left);
    EXPECT_EQ(*left, std::vector<Region>{(*regions)[0]});
    stores = (*datadir)->open_stores(**held);
    ASSERT_TRUE(stores) << stores.error().message;
    EXPECT_TRUE((*stores)[0]->seeded());
    EXPECT_FALSE((*stores)[1]->seeded());
}

TEST(NodeDatadir, DamageIsNamed) {
    store::TempDir tmp{"carousel-datadir-"};
    fill(tmp.path(), 3);
    auto datadir = NodeDatadir::open(tmp.path());
    ASSERT_TRUE(datadir);
    store::KV& kv = (*datadir)->kv();
    const Region second = regions_in(record().covered, kRegionBits)[1];

    // A node of the second region's head deleted.
    Bytes key = region_key_prefix(second);
    key += view(chain().roots[3]);
    Bytes node;
    ASSERT_TRUE(kv.get(store::Column::kTrieNodes, key, node).ok());
    ASSERT_TRUE(kv.del(store::Column::kTrieNodes, key).ok());
    auto stores = (*datadir)->open_stores(record());
    ASSERT_FALSE(stores);
    EXPECT_EQ(stores.error().kind, DatadirError::Kind::kDamagedStore);
    EXPECT_EQ(stores.error().region, std::optional<Region>{second});
    EXPECT_EQ(stores.error().store_error, std::optional<ReopenError>{ReopenError::kIncomplete});
    EXPECT_NE(stores.error().message.find("damaged"), std::string::npos) << stores.error().message;
    ASSERT_TRUE(kv.put(store::Column::kTrieNodes, key, node).ok());
    ASSERT_TRUE((*datadir)->open_stores(record()));

    // The node record truncated.
    ASSERT_TRUE(kv.put(store::Column::kMeta, view("mgr/node"), encode_node_record(record()).substr(1)).ok());
    auto bad = (*datadir)->node_record();
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().kind, DatadirError::Kind::kBadNodeRecord);

    // Code under another hash.
    Hash wrong{};
    wrong[5] = 1;
    ASSERT_TRUE(kv.put(store::Column::kCode, view(wrong), view("not its code")).ok());
    auto code = (*datadir)->code();
    ASSERT_FALSE(code);
    EXPECT_EQ(code.error().kind, DatadirError::Kind::kBadCode);
}

TEST(NodeDatadir, NodeRecordsRoundTripAndRefuseNonsense) {
    EXPECT_EQ(decode_node_record(encode_node_record(record())), record());
    NodeRecord unaligned = record();
    unaligned.covered.first[31] = 1;  // not the block's first key
    NodeRecord too_wide = record();
    too_wide.region_bits = 200;
    NodeRecord no_epoch = record();
    no_epoch.epoch_length = 0;
    for (const NodeRecord& r : {unaligned, too_wide, no_epoch}) {
        EXPECT_FALSE(decode_node_record(encode_node_record(r)));
    }
    Bytes longer = encode_node_record(record());
    longer.push_back(0);
    EXPECT_FALSE(decode_node_record(longer));
}

// A node on a datadir: seeded on durable stores, then a new node over the reopened datadir holds the
// same versions and the code of its block.
TEST(MgrNodeDatadir, ANodeRestartsOnItsStores) {
    store::TempDir tmp{"carousel-datadir-"};
    NodeOptions options;
    options.region_bits = kRegionBits;
    options.epoch_length = kEpoch;
    const HeaderSource headers = [](uint64_t b) -> std::optional<Hash> {
        return b < chain().roots.size() ? std::optional<Hash>{chain().roots[b]} : std::nullopt;
    };
    const dht::NodeEndpoint self{{127, 0, 0, 1}, 30303, 30303, dht::Radius{kRegionBits + 1}};
    std::size_t in_block = 0;
    for (const Bytes& c : blobs()) in_block += contains(record().covered, keccak256(c)) ? 1U : 0U;
    ASSERT_GT(in_block, 0U);
    {
        auto datadir = NodeDatadir::open(tmp.path());
        ASSERT_TRUE(datadir);
        MgrNode node{node_key(), self, options, headers};
        ASSERT_EQ(node.covered(), record().covered);
        ASSERT_TRUE((*datadir)->write_node_record(record()));
        std::vector<std::unique_ptr<EpochStore>> stores;
        for (const Region& r : regions_in(node.covered(), kRegionBits))
            stores.push_back((*datadir)->new_store(r, kEpoch));
        ASSERT_TRUE(node.adopt_stores(std::move(stores), {}, &(*datadir)->code_store()));
        ASSERT_TRUE(node.seed(chain().gen->node_store(), 0, chain().roots[0], blobs()));
        EXPECT_EQ(node.code().size(), in_block);
    }
    auto datadir = NodeDatadir::open(tmp.path());
    ASSERT_TRUE(datadir);
    auto held = (*datadir)->node_record();
    ASSERT_TRUE(held && held->has_value());
    auto stores = (*datadir)->open_stores(**held);
    ASSERT_TRUE(stores) << stores.error().message;
    auto code = (*datadir)->code();
    ASSERT_TRUE(code);
    EXPECT_EQ(code->size(), in_block);
    MgrNode node{node_key(), self, options, headers};
    // A store for a region outside the block, or of another epoch length, is refused.
    std::vector<std::unique_ptr<EpochStore>> outside;
    outside.push_back(std::make_unique<EpochStore>(Region{Hash{}, kRegionBits}, kEpoch));
    EXPECT_FALSE(node.adopt_stores(std::move(outside), {}, nullptr));
    std::vector<std::unique_ptr<EpochStore>> other_length;
    other_length.push_back(std::make_unique<EpochStore>(node.stores()[0].store->region(), kEpoch + 1));
    EXPECT_FALSE(node.adopt_stores(std::move(other_length), {}, nullptr));

    ASSERT_TRUE(node.adopt_stores(std::move(*stores), *code, &(*datadir)->code_store()));
    ASSERT_EQ(node.stores().size(), 2U);
    for (const RegionStore& s : node.stores()) {
        EXPECT_TRUE(s.store->seeded());
        EXPECT_EQ(s.store->head_number(), 0U);
        EXPECT_EQ(s.store->head_root(), chain().roots[0]);
        EXPECT_NE(s.server, nullptr);
    }
    EXPECT_EQ(node.code().size(), in_block);
}

}  // namespace
}  // namespace carousel::mgr
