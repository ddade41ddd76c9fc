// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <carousel/core/hex.hpp>
#include <carousel/core/rlp_item.hpp>
#include <carousel/proto/dht_messages.hpp>

namespace carousel::proto {
namespace {

using rlp::Item;

Hash h(uint8_t b) {
    Hash x{};
    x.fill(b);
    return x;
}

Nodes sample_nodes(std::size_t n) {
    Nodes m{9, {}};
    for (std::size_t i = 0; i < n; ++i) {
        m.nodes.push_back({h(static_cast<uint8_t>(i + 1)), 1000 + i, static_cast<unsigned>(i * 16)});
    }
    return m;
}

// An RLP integer item (minimal big-endian bytes).
Item num(uint64_t v) {
    Bytes b;
    rlp::encode(b, v);
    ByteView in{b};
    return Item::string(*rlp::decode_string(in));
}
Item str(ByteView s) { return Item::string(s); }
Item list(std::vector<Item> items) { return Item::make_list(std::move(items)); }

Bytes frame(DhtMessageType type, const Item& body) {
    Bytes f{static_cast<uint8_t>(type)};
    f += rlp::encode(body);
    return f;
}

Item record(const Hash& id, uint64_t address, uint64_t radius) {
    return list({str(view(id)), num(address), num(radius)});
}

TEST(DhtMessages, RoundTrip) {
    const Ping ping{1, h(0xaa), 0};
    const Pong pong{0xffffffffffffffff, h(0xbb), 256};
    const FindNodes find{7, h(0xcc), 16};
    auto p = decode_ping(encode(ping));
    ASSERT_TRUE(p) << to_string(p.error());
    EXPECT_EQ(*p, ping);
    auto q = decode_pong(encode(pong));
    ASSERT_TRUE(q) << to_string(q.error());
    EXPECT_EQ(*q, pong);
    auto f = decode_find_nodes(encode(find));
    ASSERT_TRUE(f) << to_string(f.error());
    EXPECT_EQ(*f, find);
    for (std::size_t n : {0u, 1u, 16u}) {
        const Nodes nodes = sample_nodes(n);
        auto r = decode_nodes(encode(nodes));
        ASSERT_TRUE(r) << to_string(r.error());
        EXPECT_EQ(*r, nodes);
    }
}

TEST(DhtMessages, FrameLayout) {
    // [0x01][list: reqId 5, 32-byte id, radius 8]; the list payload is 1 + 33 + 1 = 35 bytes (0xe3).
    const Bytes f = encode(Ping{5, h(0x11), 8});
    EXPECT_EQ(to_hex(f), "01e305a0" + std::string(64, '1') + "08");
    EXPECT_TRUE(is_dht_message(f[0]));
    EXPECT_FALSE(is_dht_message(0x00));
    EXPECT_FALSE(is_dht_message(0x05));
    EXPECT_FALSE(is_dht_message(0x10));  // GetChunks
}

struct BadFrame {
    std::string name;
    Bytes frame;
    DhtWireError error;
};

// Every decoding failure maps to its named error (as silkworm's rlp decode_test).
TEST(DhtMessages, MalformedFramesMapToErrors) {
    using T = DhtMessageType;
    const Hash id = h(0x42);
    Bytes trailing = encode(Ping{1, id, 1});
    trailing.push_back(0x00);
    Bytes truncated = encode(Ping{1, id, 1});
    truncated.pop_back();
    // Non-canonical: reqId 5 wrapped as a one-byte string (0x81 0x05); reqId with a leading zero.
    Bytes wrapped_single = "01e48105a0"_hex;
    wrapped_single += view(id);
    wrapped_single.push_back(0x01);
    const std::vector<BadFrame> cases = {
        {"empty", {}, DhtWireError::kEmptyFrame},
        {"type only", Bytes{0x01}, DhtWireError::kMalformed},
        {"wrong type", encode(Pong{1, id, 1}), DhtWireError::kWrongType},
        {"truncated", truncated, DhtWireError::kMalformed},
        {"trailing byte", trailing, DhtWireError::kMalformed},
        {"body is a string", frame(T::kPing, str(view(id))), DhtWireError::kMalformed},
        {"two items", frame(T::kPing, list({num(1), str(view(id))})), DhtWireError::kMalformed},
        {"four items", frame(T::kPing, list({num(1), str(view(id)), num(1), num(1)})), DhtWireError::kMalformed},
        {"short id", frame(T::kPing, list({num(1), str(view(id).substr(0, 31)), num(1)})), DhtWireError::kBadIdLength},
        {"long id", frame(T::kPing, list({num(1), str(Bytes(33, 1)), num(1)})), DhtWireError::kBadIdLength},
        {"empty id", frame(T::kPong, list({num(1), str({}), num(1)})), DhtWireError::kBadIdLength},
        {"id as list", frame(T::kPong, list({num(1), list({}), num(1)})), DhtWireError::kMalformed},
        {"radius 257", frame(T::kPing, list({num(1), str(view(id)), num(257)})), DhtWireError::kBadRadius},
        {"radius 2^64-1", frame(T::kPong, list({num(1), str(view(id)), num(~uint64_t{0})})), DhtWireError::kBadRadius},
        {"radius 2^64", frame(T::kPong, list({num(1), str(view(id)), str("010000000000000000"_hex)})),
         DhtWireError::kMalformed},
        {"reqId leading zero", frame(T::kPing, list({str("0005"_hex), str(view(id)), num(1)})),
         DhtWireError::kMalformed},
        {"reqId wrapped single byte", wrapped_single, DhtWireError::kMalformed},
        {"count 0", frame(T::kFindNodes, list({num(1), str(view(id)), num(0)})), DhtWireError::kBadCount},
        {"count 17", frame(T::kFindNodes, list({num(1), str(view(id)), num(17)})), DhtWireError::kBadCount},
        {"short target", frame(T::kFindNodes, list({num(1), str(Bytes(20, 1)), num(3)})), DhtWireError::kBadIdLength},
        {"17 records", encode(sample_nodes(17)), DhtWireError::kTooManyNodes},
        {"records not a list", frame(T::kNodes, list({num(1), str(view(id))})), DhtWireError::kMalformed},
        {"record not a list", frame(T::kNodes, list({num(1), list({str(view(id))})})), DhtWireError::kMalformed},
        {"record short id",
         frame(T::kNodes, list({num(1), list({record(id, 1, 1), list({str(Bytes(31, 1)), num(1), num(1)})})})),
         DhtWireError::kBadIdLength},
        {"record radius 300", frame(T::kNodes, list({num(1), list({record(id, 1, 300)})})), DhtWireError::kBadRadius},
        {"record extra item", frame(T::kNodes, list({num(1), list({list({str(view(id)), num(1), num(1), num(1)})})})),
         DhtWireError::kMalformed},
        {"record address over u64",
         frame(T::kNodes, list({num(1), list({list({str(view(id)), str(Bytes(9, 1)), num(1)})})})),
         DhtWireError::kMalformed},
    };
    for (const BadFrame& c : cases) {
        DhtWireError got{};
        switch (c.frame.empty() ? DhtMessageType::kPing : static_cast<DhtMessageType>(c.frame[0])) {
            case DhtMessageType::kPing:
                got = decode_ping(c.frame).error();
                break;
            case DhtMessageType::kPong:
                // "wrong type" is a PONG read as a PING.
                got = c.name == "wrong type" ? decode_ping(c.frame).error() : decode_pong(c.frame).error();
                break;
            case DhtMessageType::kFindNodes:
                got = decode_find_nodes(c.frame).error();
                break;
            case DhtMessageType::kNodes:
                got = decode_nodes(c.frame).error();
                break;
        }
        EXPECT_EQ(got, c.error) << c.name << ": got " << to_string(got);
    }
}

// The largest valid NODES reply decodes; the cap is at the record count, not the byte size.
TEST(DhtMessages, CapsAreInclusive) {
    Nodes full = sample_nodes(kMaxNodesPerReply);
    full.nodes.back().radius_bits = kMaxRadiusBits;
    full.nodes.back().address = ~uint64_t{0};
    auto r = decode_nodes(encode(full));
    ASSERT_TRUE(r) << to_string(r.error());
    EXPECT_EQ(*r, full);
    EXPECT_TRUE(decode_find_nodes(encode(FindNodes{0, h(0), kMaxNodesPerReply})));
    EXPECT_TRUE(decode_ping(encode(Ping{0, h(0), kMaxRadiusBits})));
}

// Truncations and random byte flips of valid frames never crash or read out of bounds (the sanitizer
// build runs this too), and whatever decodes re-encodes to the same bytes (strictness).
TEST(DhtMessages, MangledFramesNeverCrash) {
    std::mt19937_64 rng{42};
    const std::vector<Bytes> frames = {encode(Ping{3, h(1), 17}), encode(Pong{3, h(2), 255}),
                                       encode(FindNodes{1 << 20, h(3), 16}), encode(sample_nodes(16))};
    std::size_t rejected = 0;
    std::size_t accepted = 0;
    auto check = [&](ByteView f) {
        if (auto m = decode_ping(f)) {
            EXPECT_EQ(encode(*m), f);
            ++accepted;
        } else if (auto n = decode_pong(f)) {
            EXPECT_EQ(encode(*n), f);
            ++accepted;
        } else if (auto o = decode_find_nodes(f)) {
            EXPECT_EQ(encode(*o), f);
            ++accepted;
        } else if (auto p = decode_nodes(f)) {
            EXPECT_EQ(encode(*p), f);
            ++accepted;
        } else {
            ++rejected;
        }
    };
    for (const Bytes& f : frames) {
        for (std::size_t len = 0; len < f.size(); ++len) {
            const Bytes cut{ByteView{f}.substr(0, len)};  // own copy: a sanitizer sees reads past it
            check(cut);
        }
        for (int i = 0; i < 3000; ++i) {
            Bytes g = f;
            g[rng() % g.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
            check(g);
        }
    }
    EXPECT_GT(rejected, 0u);
    EXPECT_GT(accepted, 0u);
}

}  // namespace
}  // namespace carousel::proto
