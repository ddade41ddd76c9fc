// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// GossipRouter driven by hand: a routing table filled by the test, lookups held, frames captured.
#include "gossip_router.hpp"

#include <gtest/gtest.h>

#include <carousel/core/keccak.hpp>
#include <carousel/dht/routing_table.hpp>

namespace carousel::mgr {
namespace {

using proto::PeerId;
using proto::Time;

struct Sent {
    PeerId to;
    Bytes frame;
};

Hash id_with_first_byte(uint8_t b) {
    Hash h{};
    h[0] = b;
    h[31] = 1;
    return h;
}

struct Rig {
    std::vector<Sent> sent;
    std::vector<std::pair<PeerId, std::string>> dropped;
    Region covered{id_with_first_byte(0x00), 253};  // the node's block: keys 0x00..0x1f...
    bool filling{false};
    dht::RoutingTable table{id_with_first_byte(0x01)};
    std::vector<ContactSource::LookupDone> lookups;  // running: never answered here
    GossipRouter router{ContactSource{[this](const Hash& key) { return table.covering(key); },
                                      [this](const Hash&, Time, ContactSource::LookupDone done) {
                                          lookups.push_back(std::move(done));
                                      }},
                        id_with_first_byte(0x01),
                        253,
                        std::chrono::seconds{60},
                        [this](PeerId to, Bytes f) {
                            sent.push_back({to, std::move(f)});
                            return true;
                        },
                        [this](PeerId p, std::string r) { dropped.emplace_back(p, std::move(r)); },
                        [this](const Hash&) { return filling; }};

    // Node `id`, named `peer`, covering 2^bits keys enters the table.
    void learn(PeerId peer, const Hash& id, unsigned bits) {
        table.update(dht::Contact{id, peer, dht::Radius{bits}}, Time{0});
    }
    std::vector<Sent> take() { return std::exchange(sent, {}); }
};

TEST(GossipRouter, OffersAnItemOnceToEachCoveringContactButItsSender) {
    Rig r;
    r.learn(7, id_with_first_byte(0x02), 253);  // covers the node's block
    r.learn(8, id_with_first_byte(0x03), 253);
    r.learn(9, id_with_first_byte(0x80), 253);  // elsewhere
    const Hash id = keccak256(Bytes{1, 2, 3});
    r.router.hold(id, Region{id_with_first_byte(0x00), 253}, 5, proto::ContentKind::kRegionItem, Bytes{1, 2, 3});
    EXPECT_EQ(r.router.offer(id, id_with_first_byte(0x00), 8, Time{0}), 2u);
    const auto first = r.take();
    ASSERT_EQ(first.size(), 1u) << "peer 8 sent it; peer 9 does not cover it";
    EXPECT_EQ(first[0].to, 7u);
    EXPECT_EQ(r.router.offer(id, id_with_first_byte(0x00), 0, Time{1}), 2u);
    EXPECT_TRUE(r.take().empty()) << "offered once per peer";
    EXPECT_EQ(r.router.stats().offers_sent, 1u);

    // 7 accepts index 0: it gets the Content; an index past the offer disconnects.
    auto offer = proto::decode_offer(first[0].frame);
    ASSERT_TRUE(offer);
    r.router.on_accept(7, proto::encode(proto::Accept{offer->request_id, {0}}));
    const auto content = r.take();
    ASSERT_EQ(content.size(), 1u);
    auto c = proto::decode_content(content[0].frame);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->payload, (Bytes{1, 2, 3}));
    r.router.on_accept(7, proto::encode(proto::Accept{offer->request_id, {0}}));
    EXPECT_TRUE(r.take().empty()) << "an Accept answered already is late: ignored";
    EXPECT_TRUE(r.dropped.empty());
}

TEST(GossipRouter, AcceptsOnlyUnseenIdsAndDropsABadAccept) {
    Rig r;
    const Hash a = keccak256(Bytes{1});
    const Hash b = keccak256(Bytes{2});
    r.router.mark_seen(a);
    r.router.on_offer(4, proto::encode(proto::Offer{11, {a, b}}));
    auto sent = r.take();
    ASSERT_EQ(sent.size(), 1u);
    auto accept = proto::decode_accept(sent[0].frame);
    ASSERT_TRUE(accept);
    EXPECT_EQ(accept->request_id, 11u);
    EXPECT_EQ(accept->indexes, (std::vector<uint64_t>{1}));
    r.router.unsee(a);
    EXPECT_FALSE(r.router.seen(a));

    r.learn(7, id_with_first_byte(0x02), 253);
    r.router.hold(b, Region{id_with_first_byte(0x00), 253}, 1, proto::ContentKind::kRegionItem, Bytes{2});
    ASSERT_EQ(r.router.offer(b, id_with_first_byte(0x00), 0, Time{0}), 1u);
    auto offer = proto::decode_offer(r.take().at(0).frame);
    ASSERT_TRUE(offer);
    r.router.on_accept(7, proto::encode(proto::Accept{offer->request_id, {3}}));
    ASSERT_EQ(r.dropped.size(), 1u);
    EXPECT_EQ(r.dropped[0].second, "mgr: Accept names an index past the offer");
    r.router.on_offer(5, Bytes{0xff});
    EXPECT_EQ(r.dropped.size(), 2u) << "an undecodable Offer disconnects";
}

TEST(GossipRouter, OffersNothingWhileFillingAndForgetsOldItems) {
    Rig r;
    r.learn(7, id_with_first_byte(0x02), 253);
    const Hash id = keccak256(Bytes{9});
    r.router.hold(id, Region{id_with_first_byte(0x00), 253}, 3, proto::ContentKind::kRegionItem, Bytes{9});
    r.filling = true;
    EXPECT_EQ(r.router.offer(id, id_with_first_byte(0x00), 0, Time{0}), 0u);
    EXPECT_TRUE(r.take().empty());
    r.filling = false;
    EXPECT_EQ(r.router.newest_number(), 3u);
    r.router.forget_old(3 + GossipRouter::kHeldBlocks);
    EXPECT_EQ(r.router.offer(id, id_with_first_byte(0x00), 0, Time{0}), 1u) << "kHeldBlocks behind: kept";
    r.take();
    r.router.hold(id, Region{id_with_first_byte(0x00), 253}, 3, proto::ContentKind::kRegionItem, Bytes{9});
    r.router.forget_old(4 + GossipRouter::kHeldBlocks);
    EXPECT_EQ(r.router.offer(id, id_with_first_byte(0x00), 0, Time{0}), 0u) << "forgotten";
    EXPECT_EQ(r.router.newest_number(), 0u);
}

TEST(GossipRouter, LooksUpWhoCoversARegionOutsideItsBlock) {
    Rig r;
    r.learn(7, id_with_first_byte(0x02), 253);
    const Hash far = id_with_first_byte(0xc0);
    const Hash id = keccak256(Bytes{5});
    r.router.hold(id, Region{far, 253}, 1, proto::ContentKind::kRegionItem, Bytes{5});
    EXPECT_EQ(r.router.offer(id, far, 0, Time{0}), 0u);
    EXPECT_TRUE(r.router.looking_up(region_of(far, dht::Radius{253}).first));
    EXPECT_FALSE(r.router.looking_up(far)) << "lookups are by a region's first key";
    EXPECT_EQ(r.router.stats().placement_lookups, 1u);
    r.learn(9, id_with_first_byte(0xc1), 253);  // the table now knows a node covering it
    EXPECT_EQ(r.router.offer(id, far, 0, Time{0}), 1u);
    r.router.keep_only(r.covered);
    EXPECT_EQ(r.router.offer(id, far, 0, Time{0}), 0u) << "dropped: outside the block";
}

TEST(GossipRouter, AHeaderGoesFirstWithTheFirstItemOfItsBlockToEachPeerButItsSender) {
    Rig r;
    r.learn(7, id_with_first_byte(0x02), 253);
    r.learn(8, id_with_first_byte(0x03), 253);
    const Bytes header{9, 9, 9};
    const Hash header_id = keccak256(header);
    r.router.hold_header(header_id, 5, header, 8);  // peer 8 sent the header
    const Hash a = keccak256(Bytes{1});
    const Hash b = keccak256(Bytes{2});
    const Hash other_block = keccak256(Bytes{3});
    r.router.hold(a, Region{id_with_first_byte(0x00), 253}, 5, proto::ContentKind::kRegionItem, Bytes{1});
    r.router.hold(b, Region{id_with_first_byte(0x00), 253}, 5, proto::ContentKind::kRegionItem, Bytes{2});
    r.router.hold(other_block, Region{id_with_first_byte(0x00), 253}, 6, proto::ContentKind::kRegionItem, Bytes{3});

    (void)r.router.offer(a, id_with_first_byte(0x00), 0, Time{0});
    auto sent = r.take();
    ASSERT_EQ(sent.size(), 2u);
    for (const Sent& s : sent) {
        const auto offer = proto::decode_offer(s.frame);
        ASSERT_TRUE(offer);
        if (s.to == 7) {
            EXPECT_EQ(offer->content_ids, (std::vector<Hash>{header_id, a})) << "the header first";
        } else {
            EXPECT_EQ(offer->content_ids, (std::vector<Hash>{a})) << "peer 8 sent the header";
        }
    }
    // The block's second item: the header went already. Another block's item: no header held.
    (void)r.router.offer(b, id_with_first_byte(0x00), 0, Time{1});
    (void)r.router.offer(other_block, id_with_first_byte(0x00), 0, Time{1});
    for (const Sent& s : r.take()) {
        const auto offer = proto::decode_offer(s.frame);
        ASSERT_TRUE(offer);
        EXPECT_EQ(offer->content_ids.size(), 1u);
    }

    // Accepting both indexes sends the header's Content before the item's.
    const auto offer = proto::decode_offer(sent[0].to == 7 ? sent[0].frame : sent[1].frame);
    r.router.on_accept(7, proto::encode(proto::Accept{offer->request_id, {0, 1}}));
    const auto contents = r.take();
    ASSERT_EQ(contents.size(), 2u);
    const auto first = proto::decode_content(contents[0].frame);
    const auto second = proto::decode_content(contents[1].frame);
    ASSERT_TRUE(first && second);
    EXPECT_EQ(first->kind, proto::ContentKind::kHeader);
    EXPECT_EQ(first->payload, header);
    EXPECT_EQ(second->kind, proto::ContentKind::kRegionItem);

    // Forgotten with its block.
    r.router.forget_old(5 + GossipRouter::kHeldBlocks + 1);
    const Hash late = keccak256(Bytes{4});
    r.router.hold(late, Region{id_with_first_byte(0x00), 253}, 5, proto::ContentKind::kRegionItem, Bytes{4});
    r.learn(10, id_with_first_byte(0x04), 253);
    (void)r.router.offer(late, id_with_first_byte(0x00), 0, Time{2});
    for (const Sent& s : r.take()) {
        const auto o = proto::decode_offer(s.frame);
        ASSERT_TRUE(o);
        EXPECT_EQ(o->content_ids, (std::vector<Hash>{late}));
    }
}

}  // namespace
}  // namespace carousel::mgr
