// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "sync_record.hpp"

#include <gtest/gtest.h>

#include "memory_kv.hpp"

namespace carousel::store {
namespace {

TEST(SyncRecord, RoundTripsAndIsAbsentUntilWritten) {
    MemoryKV kv;
    auto none = read_sync_record(kv);
    ASSERT_TRUE(none);
    EXPECT_FALSE(*none);
    Hash root{};
    root[0] = 0xab;
    root[31] = 0x01;
    for (const bool complete : {false, true}) {
        ASSERT_TRUE(write_sync_record(kv, {.root = root, .complete = complete}).ok());
        auto r = read_sync_record(kv);
        ASSERT_TRUE(r && *r);
        EXPECT_EQ(**r, (SyncRecord{.root = root, .complete = complete}));
    }
}

TEST(SyncRecord, MalformedIsCorruption) {
    MemoryKV kv;
    for (const Bytes& bad : {Bytes{}, Bytes(33, 2), Bytes(32, 1), Bytes(34, 1)}) {
        ASSERT_TRUE(kv.put(Column::kMeta, view(std::string_view{"sync"}), bad).ok());
        auto r = read_sync_record(kv);
        ASSERT_FALSE(r) << bad.size();
        EXPECT_TRUE(r.error().is_corruption());
    }
}

}  // namespace
}  // namespace carousel::store
