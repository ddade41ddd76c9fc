// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "epoch_records.hpp"

#include <gtest/gtest.h>

#include <carousel/trie/trie.hpp>

#include "epoch_nodes.hpp"

namespace carousel::mgr {
namespace {

Hash h(uint8_t b) {
    Hash out{};
    out[0] = b;
    return out;
}

TEST(EpochRecords, HeadRecordsRoundTrip) {
    const std::vector<HeadRecord> records = {
        {.epoch_length = 256, .head = 0, .latest = 0, .previous = std::nullopt, .before_boundary = false},
        {.epoch_length = 8, .head = 17, .latest = 16, .previous = 8, .before_boundary = false},
        {.epoch_length = 8, .head = 16, .latest = 16, .previous = 8, .before_boundary = true},
        {.epoch_length = UINT64_MAX, .head = UINT64_MAX, .latest = 1, .previous = 0, .before_boundary = true},
    };
    for (const HeadRecord& r : records) {
        const Bytes encoded = encode_head_record(r);
        EXPECT_EQ(encoded.size(), 34U);
        const auto decoded = decode_head_record(encoded);
        ASSERT_TRUE(decoded);
        EXPECT_EQ(*decoded, r);
    }
}

TEST(EpochRecords, VersionRecordsRoundTrip) {
    const std::vector<VersionRecord> records = {
        {trie::kEmptyRoot, {}},
        {h(1), {{h(2), h(3)}}},
        {h(9), {{h(2), h(3)}, {h(4), trie::kEmptyRoot}, {h(5), h(6)}}},
    };
    for (const VersionRecord& r : records) {
        const auto decoded = decode_version_record(encode_version_record(r));
        ASSERT_TRUE(decoded);
        EXPECT_EQ(*decoded, r);
    }
}

// Every malformed record maps to its error.
TEST(EpochRecords, MalformedRecordsAreRefused) {
    const Bytes head = encode_head_record({.epoch_length = 8, .head = 9, .latest = 8, .previous = 0});
    Bytes bad_format = head;
    bad_format[0] = 2;
    Bytes bad_flags = head;
    bad_flags[25] |= 4;
    const Bytes version = encode_version_record({h(1), {{h(2), h(3)}, {h(4), h(5)}}});
    Bytes swapped = encode_version_record({h(1), {{h(4), h(5)}, {h(2), h(3)}}});
    Bytes repeated = encode_version_record({h(1), {{h(2), h(3)}, {h(2), h(5)}}});
    Bytes count_too_large = version;
    count_too_large[36] = 3;
    struct Case {
        std::string what;
        Bytes in;
        bool head;
        RecordError error;
    };
    const std::vector<Case> cases = {
        {"head: empty", {}, true, RecordError::kBadFormat},
        {"head: truncated", head.substr(0, head.size() - 1), true, RecordError::kBadFormat},
        {"head: longer", head + Bytes{0}, true, RecordError::kBadFormat},
        {"head: other format", bad_format, true, RecordError::kBadFormat},
        {"head: unknown flag", bad_flags, true, RecordError::kBadFormat},
        {"version: empty", {}, false, RecordError::kBadFormat},
        {"version: truncated header", version.substr(0, 36), false, RecordError::kBadFormat},
        {"version: truncated owners", version.substr(0, version.size() - 1), false, RecordError::kBadFormat},
        {"version: longer", version + Bytes{0}, false, RecordError::kBadFormat},
        {"version: count past the end", count_too_large, false, RecordError::kBadFormat},
        {"version: owners swapped", swapped, false, RecordError::kNotIncreasing},
        {"version: owner repeated", repeated, false, RecordError::kNotIncreasing},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.what);
        if (c.head) {
            const auto r = decode_head_record(c.in);
            ASSERT_FALSE(r);
            EXPECT_EQ(r.error(), c.error);
        } else {
            const auto r = decode_version_record(c.in);
            ASSERT_FALSE(r);
            EXPECT_EQ(r.error(), c.error);
        }
    }
}

// Keys: every record of a region under its prefix, block records in block order, regions apart.
TEST(EpochRecords, KeysStayUnderTheRegionAndSortByBlock) {
    const Region a = all_regions(253)[0];
    const Region b = all_regions(253)[1];
    const Bytes prefix = region_records_prefix(a);
    for (const Bytes& k : {head_record_key(a), epoch_record_key(a, 7), block_record_key(a, 7)}) {
        EXPECT_EQ(k.substr(0, prefix.size()), prefix);
        EXPECT_NE(k.substr(0, prefix.size()), region_records_prefix(b));
    }
    EXPECT_LT(block_record_key(a, 255), block_record_key(a, 256));
    EXPECT_LT(block_record_key(a, 0), block_record_key(a, UINT64_MAX));
    EXPECT_NE(region_records_prefix(Region{a.first, 254}), prefix);  // same first key, other size
}

}  // namespace
}  // namespace carousel::mgr
