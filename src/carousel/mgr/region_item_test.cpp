// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "region_item.hpp"

#include <functional>

#include <gtest/gtest.h>

#include <carousel/core/keccak.hpp>
#include <carousel/core/rlp_item.hpp>
#include <carousel/trie/trie.hpp>

namespace carousel::mgr {
namespace {

Hash key_of(uint64_t i) {
    Bytes b;
    for (int s = 56; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(i >> s));
    return keccak256(b);
}

// Real trie nodes (all 32 bytes or longer) from a small trie.
std::vector<Bytes> some_nodes(std::size_t want) {
    trie::MemoryNodeStore store;
    trie::Trie t{&store};
    for (uint64_t i = 0; i < 64; ++i) EXPECT_TRUE(t.put(view(key_of(i)), Bytes(40, static_cast<uint8_t>(i + 1))));
    std::vector<Bytes> keys;
    for (uint64_t i = 0; i < 64; ++i) keys.emplace_back(view(key_of(i)));
    auto proof = t.prove(keys);
    EXPECT_TRUE(proof.has_value());
    proof->resize(std::min(want, proof->size()));
    return *proof;
}

RegionItem sample_item() {
    RegionItem item;
    item.block_number = 1234;
    item.state_root = key_of(1);
    item.region = all_regions(250)[17];
    const auto nodes = some_nodes(12);
    item.account_nodes = {nodes[0], nodes[1], nodes[2]};
    item.owners = {key_of(2), key_of(3)};
    std::sort(item.owners.begin(), item.owners.end());
    item.owner_proof = {nodes[3], nodes[4]};
    item.storage_nodes = {{nodes[5]}, {nodes[6], nodes[7]}};
    return item;
}

TEST(RegionItem, RoundTrips) {
    const RegionItem item = sample_item();
    const Bytes enc = encode_region_item(item);
    auto dec = decode_region_item(enc);
    ASSERT_TRUE(dec.has_value()) << to_string(dec.error());
    EXPECT_EQ(*dec, item);
    EXPECT_EQ(content_id(item), keccak256(enc));
    EXPECT_EQ(encode_region_item(*dec), enc);

    RegionItem empty;  // no nodes, no owners, the whole key space
    auto dec_empty = decode_region_item(encode_region_item(empty));
    ASSERT_TRUE(dec_empty.has_value());
    EXPECT_EQ(*dec_empty, empty);
    EXPECT_NE(content_id(empty), content_id(item));
}

// The item as an RLP tree, to break one piece at a time.
rlp::Item tree_of(const RegionItem& item) { return *rlp::decode_item(encode_region_item(item)); }

rlp::Item str(ByteView b) { return rlp::Item::string(b); }

TEST(RegionItem, EveryMalformedInputHasItsError) {
    const RegionItem good = sample_item();
    const auto nodes = some_nodes(12);
    Bytes short_node = nodes[0].substr(0, 20);  // not even a node; too short anyway
    Bytes junk_node(40, 0x11);                  // 40 bytes that are not RLP of a node

    struct Case {
        const char* name;
        std::function<void(rlp::Item&)> mangle;
        GossipError error;
    };
    const std::vector<Case> cases = {
        {"top level is a string",
         [](rlp::Item& t) {
             t = str(Bytes{1, 2, 3});
         },
         GossipError::kMalformed},
        {"one item missing", [](rlp::Item& t) { t.items.pop_back(); }, GossipError::kMalformed},
        {"one item extra", [](rlp::Item& t) { t.items.push_back(str({})); }, GossipError::kMalformed},
        {"block number is a list", [](rlp::Item& t) { t.items[0] = rlp::Item::make_list({}); },
         GossipError::kMalformed},
        {"block number over 64 bits", [](rlp::Item& t) { t.items[0] = str(Bytes(9, 1)); }, GossipError::kMalformed},
        {"state root of 31 bytes", [](rlp::Item& t) { t.items[1] = str(Bytes(31, 1)); }, GossipError::kMalformed},
        {"region not a list", [](rlp::Item& t) { t.items[2] = str(Bytes(32, 0)); }, GossipError::kMalformed},
        {"region with an extra item", [](rlp::Item& t) { t.items[2].items.push_back(str({})); },
         GossipError::kMalformed},
        {"region bits over 256",
         [](rlp::Item& t) {
             t.items[2].items[1] = str(Bytes{1, 1});
         },
         GossipError::kBadRegion},
        {"region first not aligned",
         [](rlp::Item& t) {
             Bytes first(32, 0);
             first[31] = 1;
             t.items[2].items[0] = str(first);
         },
         GossipError::kBadRegion},
        {"account nodes not a list", [](rlp::Item& t) { t.items[3] = str({}); }, GossipError::kMalformed},
        {"account node is a list", [](rlp::Item& t) { t.items[3].items[0] = rlp::Item::make_list({}); },
         GossipError::kMalformed},
        {"account node too short", [&](rlp::Item& t) { t.items[3].items[0] = str(short_node); }, GossipError::kBadNode},
        {"account node not a node", [&](rlp::Item& t) { t.items[3].items[0] = str(junk_node); }, GossipError::kBadNode},
        {"account node over the cap", [](rlp::Item& t) { t.items[3].items[0] = str(Bytes(kMaxNodeSize + 1, 0)); },
         GossipError::kTooLarge},
        {"too many account nodes", [&](rlp::Item& t) { t.items[3].items.assign(kMaxItemNodes + 1, str(nodes[0])); },
         GossipError::kTooLarge},
        {"owners not a list", [](rlp::Item& t) { t.items[4] = str({}); }, GossipError::kMalformed},
        {"owner of 31 bytes", [](rlp::Item& t) { t.items[4].items[0] = str(Bytes(31, 0)); }, GossipError::kMalformed},
        {"owners decreasing", [](rlp::Item& t) { std::swap(t.items[4].items[0], t.items[4].items[1]); },
         GossipError::kOwnersNotIncreasing},
        {"owner repeated", [](rlp::Item& t) { t.items[4].items[1] = t.items[4].items[0]; },
         GossipError::kOwnersNotIncreasing},
        {"too many owners",
         [](rlp::Item& t) {
             t.items[4].items.clear();
             for (uint64_t i = 0; i <= kMaxItemOwners; ++i) {
                 Bytes h(32, 0);
                 h[30] = static_cast<uint8_t>(i >> 8);
                 h[31] = static_cast<uint8_t>(i);
                 t.items[4].items.push_back(str(h));
             }
         },
         GossipError::kTooLarge},
        {"owner proof node not a node", [&](rlp::Item& t) { t.items[5].items[0] = str(junk_node); },
         GossipError::kBadNode},
        {"storage lists fewer than owners", [](rlp::Item& t) { t.items[6].items.pop_back(); },
         GossipError::kLengthMismatch},
        {"storage lists more than owners", [](rlp::Item& t) { t.items[6].items.push_back(rlp::Item::make_list({})); },
         GossipError::kLengthMismatch},
        {"storage list not a list", [](rlp::Item& t) { t.items[6].items[0] = str({}); }, GossipError::kMalformed},
        {"storage node too short", [&](rlp::Item& t) { t.items[6].items[1].items[0] = str(short_node); },
         GossipError::kBadNode},
    };
    for (const Case& c : cases) {
        rlp::Item t = tree_of(good);
        c.mangle(t);
        auto dec = decode_region_item(rlp::encode(t));
        ASSERT_FALSE(dec.has_value()) << c.name;
        EXPECT_EQ(dec.error(), c.error) << c.name << ": " << to_string(dec.error());
    }

    // Byte-level breakage: trailing bytes, truncation, non-canonical RLP, the whole-input cap.
    const Bytes enc = encode_region_item(good);
    EXPECT_EQ(decode_region_item(enc + Bytes{0x00}).error(), GossipError::kMalformed);
    EXPECT_EQ(decode_region_item(enc.substr(0, enc.size() - 1)).error(), GossipError::kMalformed);
    EXPECT_EQ(decode_region_item({}).error(), GossipError::kMalformed);
    {
        rlp::Item t = tree_of(good);
        t.items[0] = str(Bytes{0x00, 0x04, 0xd2});
        EXPECT_EQ(decode_region_item(rlp::encode(t)).error(), GossipError::kMalformed);
    }
    EXPECT_EQ(decode_region_item(Bytes(kMaxRegionItemSize + 1, 0xc0)).error(), GossipError::kTooLarge);
}

TEST(RegionItem, MangledBytesNeverCrash) {
    const Bytes enc = encode_region_item(sample_item());
    for (std::size_t i = 0; i < enc.size(); ++i) {
        for (uint8_t x : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xff}}) {
            Bytes m = enc;
            m[i] ^= x;
            auto dec = decode_region_item(m);
            if (dec) {
                EXPECT_EQ(encode_region_item(*dec), m);  // accepted only if canonical
            }
        }
    }
}

}  // namespace
}  // namespace carousel::mgr
