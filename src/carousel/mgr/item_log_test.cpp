// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "item_log.hpp"

#include <cstdint>

#include <gtest/gtest.h>

namespace carousel::mgr {
namespace {

Hash region(uint8_t b) {
    Hash h{};
    h[0] = b;
    return h;
}

Bytes item(uint64_t block, std::size_t size = 10) { return Bytes(size, static_cast<uint8_t>(block)); }

constexpr uint64_t kAll = UINT64_MAX;  // no last block asked

TEST(ItemLog, AnswersConsecutiveBlocksUpToTheHead) {
    ItemLog log{8, 1 << 20};
    for (uint64_t b = 5; b <= 9; ++b) log.record(region(1), b, item(b));
    EXPECT_EQ(log.from(region(1), 7, kAll, 9, 1 << 20), (std::vector<Bytes>{item(7), item(8), item(9)}));
    // Nothing newer than the head; a block before the log; a region it never saw.
    EXPECT_EQ(log.from(region(1), 10, kAll, 9, 1 << 20), std::vector<Bytes>{});
    EXPECT_EQ(log.from(region(1), 4, kAll, 9, 1 << 20), std::nullopt);
    EXPECT_EQ(log.from(region(2), 7, kAll, 9, 1 << 20), std::nullopt);
    EXPECT_EQ(log.bytes(), 50U);
    // Up to the last block asked.
    EXPECT_EQ(log.from(region(1), 6, 7, 9, 1 << 20), (std::vector<Bytes>{item(6), item(7)}));
}

TEST(ItemLog, AnAnswerFitsItsSizeButHoldsAtLeastOneItem) {
    ItemLog log{8, 1 << 20};
    for (uint64_t b = 1; b <= 4; ++b) log.record(region(1), b, item(b, 100));
    EXPECT_EQ(log.from(region(1), 1, kAll, 4, 250)->size(), 2U);
    EXPECT_EQ(log.from(region(1), 1, kAll, 4, 10)->size(), 1U);
}

TEST(ItemLog, KeepsTheWindowAndTheByteCap) {
    ItemLog log{3, 1 << 20};
    for (uint64_t b = 1; b <= 6; ++b) log.record(region(1), b, item(b));
    EXPECT_EQ(log.from(region(1), 3, kAll, 6, 1 << 20), std::nullopt);
    EXPECT_EQ(log.from(region(1), 4, kAll, 6, 1 << 20)->size(), 3U);
    EXPECT_EQ(log.bytes(), 30U);
    ItemLog small{100, 25};
    for (uint64_t b = 1; b <= 6; ++b) small.record(region(1), b, item(b));
    EXPECT_EQ(small.from(region(1), 4, kAll, 6, 1 << 20), std::nullopt);
    EXPECT_EQ(small.from(region(1), 5, kAll, 6, 1 << 20)->size(), 2U);
    ItemLog none{0, 1 << 20};
    none.record(region(1), 1, item(1));
    EXPECT_EQ(none.from(region(1), 1, kAll, 1, 1 << 20), std::nullopt);
}

TEST(ItemLog, AGapStartsTheLogAgainAndNeverSkipsABlock) {
    ItemLog log{8, 1 << 20};
    for (uint64_t b = 1; b <= 3; ++b) log.record(region(1), b, item(b));
    // The store moved from 3 to 6 by a fill: blocks 4 and 5 were never applied as items.
    log.record(region(1), 7, item(7));
    EXPECT_EQ(log.from(region(1), 2, kAll, 7, 1 << 20), std::nullopt);
    EXPECT_EQ(log.from(region(1), 7, kAll, 7, 1 << 20), std::vector<Bytes>{item(7)});
    EXPECT_EQ(log.bytes(), 10U);
    // A store whose head is past the log (a later fill, no item since) has nothing to answer from it.
    EXPECT_EQ(log.from(region(1), 7, kAll, 9, 1 << 20), std::nullopt);
    log.forget(region(1));
    EXPECT_EQ(log.bytes(), 0U);
}

}  // namespace
}  // namespace carousel::mgr
