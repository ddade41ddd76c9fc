// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// What MemoryKV adds to the KV contract (kv_test.cpp runs that contract on MemoryKV and RocksKV
// alike): entry_count, and copy-on-write snapshots that leave each column's iterators alone.
#include "memory_kv.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace carousel::store {
namespace {

Bytes b(std::string_view s) { return Bytes{view(s)}; }

std::vector<std::string> keys_of(Iterator& it) {
    std::vector<std::string> out;
    for (it.seek_to_first(); it.valid(); it.next()) out.emplace_back(it.key().begin(), it.key().end());
    return out;
}

TEST(MemoryKV, EntryCountFollowsEveryKindOfWrite) {
    MemoryKV kv;
    for (Column c : kAllColumns) EXPECT_EQ(kv.entry_count(c), 0U);
    ASSERT_TRUE(kv.put(Column::kCode, view("a"), view("1")).ok());
    ASSERT_TRUE(kv.put(Column::kCode, view("b"), view("2")).ok());
    ASSERT_TRUE(kv.put(Column::kCode, view("a"), view("3")).ok());  // an overwrite adds nothing
    EXPECT_EQ(kv.entry_count(Column::kCode), 2U);
    EXPECT_EQ(kv.entry_count(Column::kMeta), 0U);
    ASSERT_TRUE(kv.del(Column::kCode, view("missing")).ok());
    EXPECT_EQ(kv.entry_count(Column::kCode), 2U);
    WriteBatch batch;
    for (char k = 'c'; k <= 'j'; ++k) batch.put(Column::kCode, b(std::string(1, k)), view("v"));
    batch.put(Column::kMeta, view("m"), view("v"));
    batch.del(Column::kCode, view("a"));
    ASSERT_TRUE(kv.write(batch).ok());
    EXPECT_EQ(kv.entry_count(Column::kCode), 9U);  // b..j
    EXPECT_EQ(kv.entry_count(Column::kMeta), 1U);
    WriteBatch range;
    range.del_range(Column::kCode, view("c"), view("f"));  // c, d, e
    ASSERT_TRUE(kv.write(range).ok());
    EXPECT_EQ(kv.entry_count(Column::kCode), 6U);
    std::vector<ByteView> sorted_keys{view("x1"), view("x2"), view("x3")};
    std::vector<ByteView> values(3, view("v"));
    ASSERT_TRUE(kv.put_sorted(Column::kBlocks, sorted_keys, values).ok());
    EXPECT_EQ(kv.entry_count(Column::kBlocks), 3U);
    EXPECT_EQ(kv.entry_count(Column::kCode), 6U);
}

// A write to a column copies it only for the iterators that share it: they keep their snapshot,
// while iterators over other columns, and new ones, see the writes.
TEST(MemoryKV, WritesUnderLiveIteratorsLeaveTheirSnapshots) {
    MemoryKV kv;
    ASSERT_TRUE(kv.put(Column::kCode, view("a"), view("1")).ok());
    ASSERT_TRUE(kv.put(Column::kMeta, view("m"), view("1")).ok());
    auto code = kv.new_iterator(Column::kCode);
    auto meta = kv.new_iterator(Column::kMeta);
    for (int round = 0; round < 3; ++round) {  // again and again while both iterators live
        const std::string k = "k" + std::to_string(round);
        ASSERT_TRUE(kv.put(Column::kCode, b(k), view("2")).ok());
        ASSERT_TRUE(kv.del(Column::kCode, view("a")).ok());
        ASSERT_TRUE(kv.put(Column::kMeta, b(k), view("2")).ok());
    }
    EXPECT_EQ(keys_of(*code), (std::vector<std::string>{"a"}));
    EXPECT_EQ(keys_of(*meta), (std::vector<std::string>{"m"}));
    code->seek_to_first();
    ASSERT_TRUE(code->valid());
    EXPECT_EQ(code->value(), view("1"));
    auto fresh = kv.new_iterator(Column::kCode);
    EXPECT_EQ(keys_of(*fresh), (std::vector<std::string>{"k0", "k1", "k2"}));
    EXPECT_EQ(kv.entry_count(Column::kCode), 3U);
    EXPECT_EQ(kv.entry_count(Column::kMeta), 4U);
    Bytes v;
    EXPECT_TRUE(kv.get(Column::kCode, view("a"), v).is_not_found());
}

}  // namespace
}  // namespace carousel::store
