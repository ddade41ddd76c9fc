// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "corrupt_answer.hpp"

#include <gtest/gtest.h>

#include "mgr_messages.hpp"
#include "prefix_messages.hpp"

namespace carousel::proto {
namespace {

TEST(CorruptAnswer, AltersTheLeavesAndProofOfAChunkAnswer) {
    ChunkEntry entry;
    entry.leaf_mode = true;
    entry.keys = {Hash{}, Hash{}};
    entry.keys[1][31] = 1;
    entry.values = {Bytes{0x01, 0x02}, Bytes{0x03, 0x04}};
    entry.nodes = {Bytes{0xc0, 0x80}};
    const ChunkData honest{7, {entry}};
    Bytes frame = encode(honest);
    corrupt_answer(frame);
    auto lied = decode_chunk_data(frame);
    ASSERT_TRUE(lied);
    EXPECT_EQ(lied->request_id, 7U);
    EXPECT_NE(*lied, honest);
    EXPECT_EQ(lied->entries[0].keys, honest.entries[0].keys);
    EXPECT_NE(lied->entries[0].values[1], honest.entries[0].values[1]);
}

TEST(CorruptAnswer, AltersEveryCodeBlob) {
    const CodeData honest{3, {Bytes{0x60, 0x00}, Bytes{0x60, 0x01}}};
    Bytes frame = encode(honest);
    corrupt_answer(frame);
    auto lied = decode_code_data(frame);
    ASSERT_TRUE(lied);
    ASSERT_EQ(lied->codes.size(), 2U);
    EXPECT_NE(lied->codes[0], honest.codes[0]);
    EXPECT_NE(lied->codes[1], honest.codes[1]);
}

TEST(CorruptAnswer, AltersEveryGossipItem) {
    const Items honest{3, std::nullopt, {Bytes{0xc2, 0x01, 0x02}, Bytes{0xc1, 0x05}}};
    Bytes frame = encode(honest);
    corrupt_answer(frame);
    auto lied = decode_items(frame);
    ASSERT_TRUE(lied);
    ASSERT_EQ(lied->items.size(), 2U);
    EXPECT_NE(lied->items[0], honest.items[0]);
    EXPECT_NE(lied->items[1], honest.items[1]);
}

TEST(CorruptAnswer, LeavesOtherFramesAndUndecodableOnesAlone) {
    const GetCode request{1, {Hash{}}, 1024};
    Bytes frame = encode(request);
    const Bytes before = frame;
    corrupt_answer(frame);
    EXPECT_EQ(frame, before);
    Bytes broken{static_cast<uint8_t>(MessageType::kChunkData), 0xff};
    const Bytes broken_before = broken;
    corrupt_answer(broken);
    EXPECT_EQ(broken, broken_before);
    Bytes empty;
    corrupt_answer(empty);
    EXPECT_TRUE(empty.empty());
}

}  // namespace
}  // namespace carousel::proto
