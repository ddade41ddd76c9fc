// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include <random>

#include <gtest/gtest.h>

#include <carousel/core/hex.hpp>
#include <carousel/core/rlp.hpp>
#include <carousel/proto/prefix_messages.hpp>

namespace carousel::proto {
namespace {

Hash h(uint8_t b) {
    Hash x{};
    x.fill(b);
    return x;
}

GetChunks sample_request() {
    GetChunks m;
    m.request_id = 77;
    m.root = h(0xaa);
    m.account = h(0xbb);
    m.prefixes = {Nibbles{}, Nibbles{1}, Nibbles{1, 2}, Nibbles{0xf, 0, 0xa}, Nibbles(64, 0xf)};
    m.max_size = 512 * 1024;
    m.flags = kFlagLeaves | kFlagStream;
    return m;
}

ChunkData sample_data() {
    ChunkData m;
    m.request_id = 77;
    ChunkEntry full;
    full.prefix = {1, 2, 3};
    full.nodes = {Bytes(40, 1), Bytes(532, 2)};
    full.stop_path = Nibbles{1, 2, 3, 4, 5};
    ChunkEntry leaves;
    leaves.prefix = {4};
    leaves.leaf_mode = true;
    leaves.keys = {h(1), h(2)};
    leaves.values = {Bytes(70, 3), Bytes{0x05}};
    leaves.proof = {Bytes(100, 4)};
    ChunkEntry error;
    error.prefix = {};
    error.error = ChunkError::kUnknownRoot;
    error.error_data = Bytes{view(h(0xcc))};
    m.entries = {full, leaves, error};
    return m;
}

TEST(Messages, RoundTrip) {
    const GetChunks req = sample_request();
    auto r = decode_get_chunks(encode(req));
    ASSERT_TRUE(r) << to_string(r.error());
    EXPECT_EQ(*r, req);

    GetChunks account_trie = req;
    account_trie.account.reset();
    account_trie.is_range = true;
    account_trie.prefixes = {Nibbles{0}, Nibbles{7, 7}};
    EXPECT_EQ(*decode_get_chunks(encode(account_trie)), account_trie);

    const ChunkData data = sample_data();
    auto d = decode_chunk_data(encode(data));
    ASSERT_TRUE(d) << to_string(d.error());
    EXPECT_EQ(*d, data);

    GetCode gc{5, {h(1), h(2)}, 1 << 20};
    EXPECT_EQ(*decode_get_code(encode(gc)), gc);
    CodeData cd{5, {Bytes(24576, 0x60), Bytes{}}};
    EXPECT_EQ(*decode_code_data(encode(cd)), cd);
}

// encoded_size (which a server uses to cut a response at maxSize) is what an entry takes in the
// frame, for every kind of entry and for lists past every header size, and big entries round-trip.
TEST(Messages, EncodedSizeIsWhatTheEntryTakesInTheFrame) {
    ChunkData data = sample_data();
    ChunkEntry big;
    big.prefix = {0xa};
    for (int i = 0; i < 1200; ++i) big.nodes.push_back(Bytes(532, static_cast<uint8_t>(i)));  // a 640 KB chunk
    ChunkEntry empty_leaves;
    empty_leaves.prefix = {0xb, 0xc};
    empty_leaves.leaf_mode = true;
    data.entries.push_back(big);
    data.entries.push_back(empty_leaves);
    const auto frame_size = [](uint64_t id, std::size_t entries) {
        const std::size_t body = rlp::length(id) + rlp::header_length(entries) + entries;
        return 1 + rlp::header_length(body) + body;
    };
    std::size_t all = 0;
    for (const ChunkEntry& e : data.entries) {
        const ChunkData one{data.request_id, {e}};
        EXPECT_EQ(encode(one).size(), frame_size(data.request_id, encoded_size(e)));
        all += encoded_size(e);
    }
    const Bytes frame = encode(data);
    EXPECT_EQ(frame.size(), frame_size(data.request_id, all));
    auto d = decode_chunk_data(frame);
    ASSERT_TRUE(d) << to_string(d.error());
    EXPECT_EQ(*d, data);
}

TEST(Messages, PrefixParityRoundTrips) {
    for (std::size_t len = 0; len <= 64; ++len) {
        GetChunks m;
        m.prefixes = {Nibbles(len, 0xa)};
        for (std::size_t i = 0; i < len; ++i) m.prefixes[0][i] = static_cast<uint8_t>(i % 16);
        auto r = decode_get_chunks(encode(m));
        ASSERT_TRUE(r) << len;
        EXPECT_EQ(r->prefixes[0], m.prefixes[0]) << len;
    }
}

TEST(Messages, RejectsBadRequests) {
    GetChunks m = sample_request();
    m.is_range = true;  // five prefixes: odd
    EXPECT_EQ(decode_get_chunks(encode(m)).error(), WireError::kOddRange);

    m = sample_request();
    m.flags = 1 << 7;
    EXPECT_EQ(decode_get_chunks(encode(m)).error(), WireError::kUnknownFlag);

    m = sample_request();
    m.prefixes.assign(kMaxPrefixesPerRequest + 1, Nibbles{1});
    EXPECT_EQ(decode_get_chunks(encode(m)).error(), WireError::kTooLarge);

    m = sample_request();
    m.prefixes = {Nibbles(65, 1)};  // longer than a key
    EXPECT_EQ(decode_get_chunks(encode(m)).error(), WireError::kBadPrefix);

    EXPECT_EQ(decode_get_chunks({}).error(), WireError::kEmptyFrame);
    EXPECT_EQ(frame_type("ff"_hex).error(), WireError::kUnknownType);
    EXPECT_EQ(decode_get_chunks(encode(sample_data())).error(), WireError::kUnknownType);
    Bytes trailing = encode(sample_request());
    trailing.push_back(0x00);
    EXPECT_EQ(decode_get_chunks(trailing).error(), WireError::kMalformed);
}

TEST(Messages, RejectsBadEntries) {
    ChunkData m = sample_data();
    m.entries[2].error = static_cast<ChunkError>(3);
    EXPECT_EQ(decode_chunk_data(encode(m)).error(), WireError::kBadErrorCode);
    // Keys not a multiple of 32 bytes: rebuild by hand.
    Bytes entry;
    {
        Bytes payload;
        rlp::encode(payload, encode_hex_prefix(Nibbles{1}, false));
        rlp::encode(payload, Bytes(33, 1));
        payload += "c0"_hex;
        payload += "c0"_hex;
        payload += "80"_hex;
        rlp::encode_header(entry, {true, payload.size()});
        entry += payload;
    }
    Bytes body;
    rlp::encode(body, uint64_t{1});
    Bytes entries;
    rlp::encode_header(entries, {true, entry.size()});
    entries += entry;
    body += entries;
    Bytes frame{static_cast<uint8_t>(MessageType::kChunkData)};
    rlp::encode_header(frame, {true, body.size()});
    frame += body;
    EXPECT_EQ(decode_chunk_data(frame).error(), WireError::kMalformed);
}

// Truncations and random byte flips of valid frames never crash and never read out of bounds
// (the sanitizer build runs this too).
TEST(Messages, MangledFramesNeverCrash) {
    std::mt19937_64 rng{42};
    const std::vector<Bytes> frames = {encode(sample_request()), encode(sample_data()), encode(GetCode{1, {h(1)}, 10}),
                                       encode(CodeData{1, {Bytes(10, 1)}})};
    int rejected = 0;
    for (const Bytes& f : frames) {
        for (std::size_t len = 0; len < f.size(); len += 1 + f.size() / 200) {
            const ByteView cut = ByteView{f}.substr(0, len);
            rejected += decode_get_chunks(cut) ? 0 : 1;
            rejected += decode_chunk_data(cut) ? 0 : 1;
        }
        for (int i = 0; i < 2000; ++i) {
            Bytes g = f;
            g[rng() % g.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
            (void)decode_get_chunks(g);
            (void)decode_chunk_data(g);
            (void)decode_get_code(g);
            (void)decode_code_data(g);
        }
    }
    EXPECT_GT(rejected, 0);
}

}  // namespace
}  // namespace carousel::proto
