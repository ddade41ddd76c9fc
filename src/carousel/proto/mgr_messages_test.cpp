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
        for (const auto& [from, to] : std::vector<std::pair<Nibbles, Nibbles>>{{{}, {}}, {{0xa}, {0xb}}, {{1, 2}, {1, 2}}}) {
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

}  // namespace
}  // namespace carousel::proto
