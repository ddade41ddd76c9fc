// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "mgr_messages.hpp"

#include <gtest/gtest.h>

#include <carousel/core/rlp.hpp>

namespace carousel::proto {
namespace {

Hash hash_of_byte(uint8_t b) {
    Hash h{};
    h.fill(b);
    return h;
}

TEST(MgrMessages, RoundTrip) {
    const Offer offer{7, {hash_of_byte(1), hash_of_byte(2)}};
    EXPECT_EQ(decode_offer(encode(offer)).value(), offer);
    const Accept accept{7, {0, 1, 5}};
    EXPECT_EQ(decode_accept(encode(accept)).value(), accept);
    const Content content{ContentKind::kCode, Bytes(300, 0xaa)};
    EXPECT_EQ(decode_content(encode(content)).value(), content);
    for (const auto& [from, to] :
         std::vector<std::pair<Nibbles, Nibbles>>{{{}, {}}, {{0xa}, {0xb}}, {{1, 2}, {1, 2}}}) {
        const GetDiff get{9, hash_of_byte(3), hash_of_byte(4), from, to};
        EXPECT_EQ(decode_get_diff(encode(get)).value(), get);
    }
    const DiffData data{9, std::nullopt, {hash_of_byte(5), hash_of_byte(6)}, {Bytes{1, 2}, Bytes{}}, {Bytes(40, 7)}};
    EXPECT_EQ(decode_diff_data(encode(data)).value(), data);
    const DiffData error{9, ChunkError::kUnknownRoot, {}, {}, {}};
    EXPECT_EQ(decode_diff_data(encode(error)).value(), error);
}

TEST(MgrMessages, RejectsMalformed) {
    // Every strict truncation fails, never crashes.
    const Bytes frames[] = {encode(Offer{7, {hash_of_byte(1)}}), encode(Accept{7, {0, 1}}),
                            encode(Content{ContentKind::kRegionItem, Bytes(10, 1)}),
                            encode(GetDiff{1, hash_of_byte(3), hash_of_byte(4), {1}, {2}}),
                            encode(DiffData{1, std::nullopt, {hash_of_byte(5)}, {Bytes{1}}, {Bytes(40, 7)}})};
    for (const Bytes& f : frames) {
        for (std::size_t n = 0; n < f.size(); ++n) {
            const ByteView cut{f.data(), n};
            EXPECT_FALSE(decode_offer(cut) || decode_accept(cut) || decode_content(cut) || decode_get_diff(cut) ||
                         decode_diff_data(cut));
        }
    }
    // Accept indexes must increase and stay under the offer cap.
    EXPECT_EQ(decode_accept(encode(Accept{1, {2, 1}})).error(), WireError::kMalformed);
    EXPECT_EQ(decode_accept(encode(Accept{1, {kMaxOfferItems}})).error(), WireError::kTooLarge);
    // Too many offered ids.
    EXPECT_EQ(decode_offer(encode(Offer{1, std::vector<Hash>(kMaxOfferItems + 1)})).error(), WireError::kTooLarge);
    // Keys and values of different counts; an error with data.
    EXPECT_EQ(decode_diff_data(encode(DiffData{1, std::nullopt, {hash_of_byte(1)}, {}, {}})).error(),
              WireError::kMalformed);
    EXPECT_EQ(decode_diff_data(encode(DiffData{1, ChunkError::kNoChunk, {hash_of_byte(1)}, {Bytes{1}}, {}})).error(),
              WireError::kMalformed);
    // An unknown content kind; a prefix longer than a key.
    Bytes bad_kind = encode(Content{ContentKind::kCode, Bytes{1}});
    bad_kind[2] = 0x05;  // [type][list header][kind]
    EXPECT_EQ(decode_content(bad_kind).error(), WireError::kUnknownType);
    EXPECT_EQ(decode_get_diff(encode(GetDiff{1, {}, {}, Nibbles(65, 1), {}})).error(), WireError::kBadPrefix);
}

TEST(MgrMessages, BareStorageRoundTrip) {
    const GetBareStorage walk{3, hash_of_byte(1), hash_of_byte(0xe0), 253, hash_of_byte(2), {}, 65536};
    EXPECT_EQ(decode_get_bare_storage(encode(walk)).value(), walk);
    const GetBareStorage listed{4, hash_of_byte(1), {}, 256, {}, {hash_of_byte(2), hash_of_byte(3)}, 1};
    EXPECT_EQ(decode_get_bare_storage(encode(listed)).value(), listed);
    const BareStorage data{
        3,
        std::nullopt,
        hash_of_byte(9),
        {BareEntry{hash_of_byte(1), false, {hash_of_byte(4), hash_of_byte(5)}, {Bytes{1}, Bytes{2, 3}}},
         BareEntry{hash_of_byte(4), true, {}, {}}, BareEntry{hash_of_byte(9), false, {hash_of_byte(6)}, {Bytes{7}}}}};
    EXPECT_EQ(decode_bare_storage(encode(data)).value(), data);
    const BareStorage none{3, std::nullopt, hash_of_byte(2), {}};
    EXPECT_EQ(decode_bare_storage(encode(none)).value(), none);
    const BareStorage error{3, ChunkError::kUnknownRoot, {}, {}};
    EXPECT_EQ(decode_bare_storage(encode(error)).value(), error);
}

TEST(MgrMessages, BareStorageRejectsMalformed) {
    const BareEntry leaf{hash_of_byte(2), false, {hash_of_byte(4)}, {Bytes{1}}};
    const Bytes frames[] = {encode(GetBareStorage{1, hash_of_byte(1), {}, 253, {}, {hash_of_byte(2)}, 100}),
                            encode(BareStorage{1, std::nullopt, hash_of_byte(2), {leaf}})};
    for (const Bytes& f : frames) {
        for (std::size_t n = 0; n < f.size(); ++n) {
            const ByteView cut{f.data(), n};
            EXPECT_FALSE(decode_get_bare_storage(cut) || decode_bare_storage(cut));
        }
    }
    const auto bad = [](const BareStorage& m) { return decode_bare_storage(encode(m)).error(); };
    // An account above `covered_to`; accounts not increasing.
    EXPECT_EQ(bad(BareStorage{1, std::nullopt, hash_of_byte(1), {leaf}}), WireError::kMalformed);
    EXPECT_EQ(bad(BareStorage{1, std::nullopt, hash_of_byte(5), {leaf, leaf}}), WireError::kMalformed);
    // Keys not increasing; an empty value; counts that differ; a large entry with leaves.
    const Hash k4 = hash_of_byte(4);
    const Hash k5 = hash_of_byte(5);
    const Hash a = hash_of_byte(2);
    EXPECT_EQ(bad(BareStorage{1, std::nullopt, a, {BareEntry{a, false, {k5, k4}, {Bytes{1}, Bytes{1}}}}}),
              WireError::kMalformed);
    EXPECT_EQ(bad(BareStorage{1, std::nullopt, a, {BareEntry{a, false, {k5}, {Bytes{}}}}}), WireError::kMalformed);
    EXPECT_EQ(bad(BareStorage{1, std::nullopt, a, {BareEntry{a, false, {k5}, {}}}}), WireError::kMalformed);
    EXPECT_EQ(bad(BareStorage{1, std::nullopt, a, {BareEntry{a, true, {k5}, {Bytes{1}}}}}), WireError::kMalformed);
    // An error with data; too many leaves in one entry.
    EXPECT_EQ(bad(BareStorage{1, ChunkError::kNoChunk, a, {}}), WireError::kMalformed);
    EXPECT_EQ(bad(BareStorage{1,
                              std::nullopt,
                              a,
                              {BareEntry{a, false, std::vector<Hash>(kMaxBareLeaves + 1),
                                         std::vector<Bytes>(kMaxBareLeaves + 1, Bytes{1})}}}),
              WireError::kTooLarge);
    // Too many accounts asked; accounts not increasing; a region wider than the key space.
    const auto bad_get = [](const GetBareStorage& m) { return decode_get_bare_storage(encode(m)).error(); };
    EXPECT_EQ(bad_get(GetBareStorage{1, {}, {}, 253, {}, std::vector<Hash>(kMaxBareAccounts + 1), 1}),
              WireError::kTooLarge);
    EXPECT_EQ(bad_get(GetBareStorage{1, {}, {}, 253, {}, {k5, k4}, 1}), WireError::kMalformed);
    EXPECT_EQ(bad_get(GetBareStorage{1, {}, {}, 257, {}, {}, 1}), WireError::kMalformed);
}

TEST(MgrMessages, ItemsRoundTrip) {
    const GetItems get{5, hash_of_byte(0x40), 254, 17, 30, 1 << 20};
    EXPECT_EQ(decode_get_items(encode(get)).value(), get);
    const Items data{5, std::nullopt, {Bytes{0xc1, 0x01}, Bytes(300, 0x07)}};
    EXPECT_EQ(decode_items(encode(data)).value(), data);
    const Items none{5, std::nullopt, {}};
    EXPECT_EQ(decode_items(encode(none)).value(), none);
    const Items error{5, ChunkError::kNoChunk, {}};
    EXPECT_EQ(decode_items(encode(error)).value(), error);
}

TEST(MgrMessages, ItemsRejectsMalformed) {
    const Bytes frames[] = {encode(GetItems{1, hash_of_byte(1), 253, 9, 9, 100}),
                            encode(Items{1, std::nullopt, {Bytes{1, 2}}})};
    for (const Bytes& f : frames) {
        for (std::size_t n = 0; n < f.size(); ++n) {
            const ByteView cut{f.data(), n};
            EXPECT_FALSE(decode_get_items(cut) || decode_items(cut));
        }
    }
    const auto bad = [](const Items& m) { return decode_items(encode(m)).error(); };
    // An empty item; an error with items; more items than one answer may hold.
    EXPECT_EQ(bad(Items{1, std::nullopt, {Bytes{}}}), WireError::kMalformed);
    EXPECT_EQ(bad(Items{1, ChunkError::kNoChunk, {Bytes{1}}}), WireError::kMalformed);
    EXPECT_EQ(bad(Items{1, std::nullopt, std::vector<Bytes>(kMaxItemsPerAnswer + 1, Bytes{1})}), WireError::kTooLarge);
    // A region wider than the key space; blocks backwards.
    EXPECT_EQ(decode_get_items(encode(GetItems{1, {}, 257, 1, 1, 1})).error(), WireError::kMalformed);
    EXPECT_EQ(decode_get_items(encode(GetItems{1, {}, 254, 5, 4, 1})).error(), WireError::kMalformed);
}

}  // namespace
}  // namespace carousel::proto
