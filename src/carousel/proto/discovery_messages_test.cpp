// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "discovery_messages.hpp"

#include <gtest/gtest.h>

#include <carousel/core/rlp.hpp>

namespace carousel::proto {
namespace {

Hash hash_of(uint8_t b) {
    Hash h{};
    h.fill(b);
    return h;
}

TEST(DiscoveryMessages, RoundTrip) {
    const DiscoveryPing ping{7, Bytes(300, 0xaa)};
    EXPECT_EQ(decode_discovery_ping(encode(ping)), ping);
    const DiscoveryPong pong{7, hash_of(1), Bytes(120, 0xbb)};
    EXPECT_EQ(decode_discovery_pong(encode(pong)), pong);
    const DiscoveryFindNodes find{~uint64_t{0}, hash_of(2), 16};
    EXPECT_EQ(decode_discovery_find_nodes(encode(find)), find);
    const DiscoveryNodes nodes{3, 2, {Bytes(10, 1), Bytes(300, 2), Bytes{}}};
    EXPECT_EQ(decode_discovery_nodes(encode(nodes)), nodes);
    const DiscoveryNodes empty{3, 1, {}};
    EXPECT_EQ(decode_discovery_nodes(encode(empty)), empty);
}

TEST(DiscoveryMessages, BoundsAreNamed) {
    EXPECT_EQ(decode_discovery_ping(Bytes{}).error(), DiscoveryWireError::kEmptyFrame);
    EXPECT_EQ(decode_discovery_ping(encode(DiscoveryFindNodes{1, {}, 1})).error(), DiscoveryWireError::kWrongType);
    EXPECT_EQ(decode_discovery_ping(encode(DiscoveryPing{1, Bytes(301, 0)})).error(),
              DiscoveryWireError::kRecordTooLarge);
    EXPECT_EQ(decode_discovery_find_nodes(encode(DiscoveryFindNodes{1, {}, 0})).error(), DiscoveryWireError::kBadCount);
    EXPECT_EQ(decode_discovery_find_nodes(encode(DiscoveryFindNodes{1, {}, 17})).error(),
              DiscoveryWireError::kBadCount);
    EXPECT_EQ(decode_discovery_nodes(encode(DiscoveryNodes{1, 0, {}})).error(), DiscoveryWireError::kBadTotal);
    EXPECT_EQ(decode_discovery_nodes(encode(DiscoveryNodes{1, 9, {}})).error(), DiscoveryWireError::kBadTotal);
    EXPECT_EQ(decode_discovery_nodes(encode(DiscoveryNodes{1, 1, std::vector<Bytes>(17, Bytes(1, 1))})).error(),
              DiscoveryWireError::kTooManyRecords);
    // A 31-byte ping hash.
    Bytes payload;
    rlp::encode(payload, uint64_t{1});
    rlp::encode(payload, Bytes(31, 0));
    rlp::encode(payload, Bytes{});
    Bytes frame{static_cast<uint8_t>(DiscoveryMessageType::kPong)};
    rlp::encode_header(frame, {true, payload.size()});
    frame += payload;
    EXPECT_EQ(decode_discovery_pong(frame).error(), DiscoveryWireError::kBadHashLength);
}

TEST(DiscoveryMessages, EveryTruncationOrExtraByteIsRefused) {
    const Bytes frames[] = {encode(DiscoveryPing{5, Bytes(40, 3)}), encode(DiscoveryPong{5, hash_of(4), Bytes(9, 1)}),
                            encode(DiscoveryFindNodes{5, hash_of(5), 4}),
                            encode(DiscoveryNodes{5, 1, {Bytes(30, 6), Bytes(31, 7)}})};
    for (const Bytes& f : frames) {
        for (std::size_t n = 0; n < f.size(); ++n) {
            const ByteView cut{f.data(), n};
            EXPECT_FALSE(decode_discovery_ping(cut) || decode_discovery_pong(cut) || decode_discovery_find_nodes(cut) ||
                         decode_discovery_nodes(cut))
                << "type " << int{f[0]} << " cut at " << n;
        }
        Bytes longer = f;
        longer.push_back(0);
        EXPECT_FALSE(decode_discovery_ping(longer) || decode_discovery_pong(longer) ||
                     decode_discovery_find_nodes(longer) || decode_discovery_nodes(longer));
    }
}

TEST(DiscoveryMessages, RecordsThatFitKeepEveryNodesPacketInADatagram) {
    const std::vector<Bytes> records(16, Bytes(300, 0x5a));
    std::size_t first = 0;
    std::size_t packets = 0;
    while (first < records.size()) {
        const std::size_t n = records_that_fit(records, first);
        ASSERT_GT(n, 0U);
        const DiscoveryNodes m{~uint64_t{0},
                               8,
                               {records.begin() + static_cast<std::ptrdiff_t>(first),
                                records.begin() + static_cast<std::ptrdiff_t>(first + n)}};
        EXPECT_LE(encode(m).size() + kDiscoveryEnvelope, kMaxDatagramSize);
        // One more would not have fitted.
        if (first + n < records.size()) {
            DiscoveryNodes more = m;
            more.records.push_back(records[first + n]);
            EXPECT_GT(encode(more).size() + kDiscoveryEnvelope, kMaxDatagramSize - 40);
        }
        first += n;
        ++packets;
    }
    EXPECT_LE(packets, kMaxNodesPackets);
    EXPECT_EQ(records_that_fit(std::vector<Bytes>(20, Bytes(3, 1)), 0), kMaxFindNodesCount);
}

}  // namespace
}  // namespace carousel::proto
