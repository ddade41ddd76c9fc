// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <carousel/core/hex.hpp>
#include <carousel/core/rlp_item.hpp>
#include <carousel/proto/handshake_messages.hpp>
#include <carousel/proto/prefix_messages.hpp>

namespace carousel::proto {
namespace {

using rlp::Item;

Hello sample_hello(std::size_t record_bytes = 120) {
    Hello m;
    m.record = Bytes(record_bytes, 0xc5);
    for (std::size_t i = 0; i < m.nonce.size(); ++i) m.nonce[i] = static_cast<uint8_t>(i);
    return m;
}

Auth sample_auth() {
    Auth m;
    for (std::size_t i = 0; i < m.signature.size(); ++i) m.signature[i] = static_cast<uint8_t>(0x80 + i);
    return m;
}

Item num(uint64_t v) {
    Bytes b;
    rlp::encode(b, v);
    ByteView in{b};
    return Item::string(*rlp::decode_string(in));
}
Item str(ByteView s) { return Item::string(s); }
Item list(std::vector<Item> items) { return Item::make_list(std::move(items)); }

Bytes frame(HandshakeMessageType type, const Item& body) {
    Bytes f{static_cast<uint8_t>(type)};
    f += rlp::encode(body);
    return f;
}

TEST(HandshakeMessages, RoundTrip) {
    for (std::size_t n : {std::size_t{1}, std::size_t{55}, std::size_t{56}, kMaxHelloRecordBytes}) {
        const Hello hello = sample_hello(n);
        auto h = decode_hello(encode(hello));
        ASSERT_TRUE(h) << to_string(h.error());
        EXPECT_EQ(*h, hello);
    }
    const Auth auth = sample_auth();
    auto a = decode_auth(encode(auth));
    ASSERT_TRUE(a) << to_string(a.error());
    EXPECT_EQ(*a, auth);
}

TEST(HandshakeMessages, FrameLayout) {
    // [0x09][list of one 64-byte string]: 0xb840 || sig, the list payload 66 bytes (0xf842).
    const Bytes auth = encode(sample_auth());
    EXPECT_EQ(to_hex(auth.substr(0, 5)), "09f842b840");
    EXPECT_EQ(auth.size(), 1 + 2 + 2 + 64);
    // [0x08][list: 1, 3-byte record, 32-byte nonce]: payload 1 + 4 + 33 = 38 bytes (0xe6).
    const Bytes hello = encode(Hello{1, Bytes{0xc2, 0x01, 0x02}, sample_hello().nonce});
    EXPECT_EQ(to_hex(hello.substr(0, 8)), "08e60183c20102a0");
    // The range is free of every other family's types on connections (the prefix and Merry-Go-Round
    // messages; 0x01-0x04 were the connection-based DHT's, retired with it).
    EXPECT_TRUE(is_handshake_message(0x08));
    EXPECT_TRUE(is_handshake_message(0x09));
    for (unsigned t = 0; t < 256; ++t) {
        const auto type = static_cast<uint8_t>(t);
        if (type >= static_cast<uint8_t>(MessageType::kGetChunks)) {
            EXPECT_FALSE(is_handshake_message(type)) << t;
        }
    }
    EXPECT_FALSE(is_handshake_message(0x07));
    EXPECT_FALSE(is_handshake_message(0x0a));
}

struct BadFrame {
    std::string name;
    Bytes frame;
    HandshakeWireError error;
};

// Every decoding failure maps to its named error (as silkworm's rlp decode_test).
TEST(HandshakeMessages, MalformedFramesMapToErrors) {
    using T = HandshakeMessageType;
    using E = HandshakeWireError;
    const Hello good = sample_hello();
    const ByteView record{good.record};
    const ByteView nonce = view(good.nonce);
    const Auth auth = sample_auth();
    const ByteView sig = view(auth.signature);
    Bytes trailing = encode(good);
    trailing.push_back(0x00);
    Bytes truncated = encode(good);
    truncated.pop_back();
    Bytes auth_truncated = encode(sample_auth());
    auth_truncated.resize(40);
    const std::vector<BadFrame> hello_cases = {
        {"empty", {}, E::kEmptyFrame},
        {"type only", Bytes{0x08}, E::kMalformed},
        {"auth read as hello", encode(sample_auth()), E::kWrongType},
        {"truncated", truncated, E::kMalformed},
        {"trailing byte", trailing, E::kMalformed},
        {"garbage", "08ffffffff"_hex, E::kMalformed},
        {"body is a string", frame(T::kHello, str(nonce)), E::kMalformed},
        {"two items", frame(T::kHello, list({num(1), str(record)})), E::kMalformed},
        {"four items", frame(T::kHello, list({num(1), str(record), str(nonce), num(0)})), E::kMalformed},
        {"version 0", frame(T::kHello, list({num(0), str(record), str(nonce)})), E::kUnsupportedVersion},
        {"version 2", frame(T::kHello, list({num(2), str(record), str(nonce)})), E::kUnsupportedVersion},
        {"version leading zero", frame(T::kHello, list({str("0001"_hex), str(record), str(nonce)})), E::kMalformed},
        {"version over u64", frame(T::kHello, list({str(Bytes(9, 1)), str(record), str(nonce)})), E::kMalformed},
        {"version as list", frame(T::kHello, list({list({}), str(record), str(nonce)})), E::kMalformed},
        {"empty record", frame(T::kHello, list({num(1), str({}), str(nonce)})), E::kBadRecordLength},
        {"record 301 bytes", frame(T::kHello, list({num(1), str(Bytes(301, 1)), str(nonce)})), E::kBadRecordLength},
        {"record as list", frame(T::kHello, list({num(1), list({str(record)}), str(nonce)})), E::kMalformed},
        {"nonce 31 bytes", frame(T::kHello, list({num(1), str(record), str(nonce.substr(1))})), E::kBadNonceLength},
        {"nonce 33 bytes", frame(T::kHello, list({num(1), str(record), str(Bytes(33, 7))})), E::kBadNonceLength},
        {"nonce empty", frame(T::kHello, list({num(1), str(record), str({})})), E::kBadNonceLength},
        {"nonce as list", frame(T::kHello, list({num(1), str(record), list({})})), E::kMalformed},
    };
    for (const BadFrame& c : hello_cases) {
        auto r = decode_hello(c.frame);
        ASSERT_FALSE(r) << c.name;
        EXPECT_EQ(r.error(), c.error) << c.name << ": got " << to_string(r.error());
    }
    const std::vector<BadFrame> auth_cases = {
        {"empty", {}, E::kEmptyFrame},
        {"type only", Bytes{0x09}, E::kMalformed},
        {"hello read as auth", encode(good), E::kWrongType},
        {"truncated", auth_truncated, E::kMalformed},
        {"empty list", frame(T::kAuth, list({})), E::kMalformed},
        {"two signatures", frame(T::kAuth, list({str(sig), str(sig)})), E::kMalformed},
        {"signature 63 bytes", frame(T::kAuth, list({str(sig.substr(1))})), E::kBadSignatureLength},
        {"signature 65 bytes", frame(T::kAuth, list({str(Bytes(65, 1))})), E::kBadSignatureLength},
        {"signature as list", frame(T::kAuth, list({list({str(sig)})})), E::kMalformed},
        {"body is a string", frame(T::kAuth, str(sig)), E::kMalformed},
    };
    for (const BadFrame& c : auth_cases) {
        auto r = decode_auth(c.frame);
        ASSERT_FALSE(r) << c.name;
        EXPECT_EQ(r.error(), c.error) << c.name << ": got " << to_string(r.error());
    }
}

// Truncations and random byte flips of valid frames never crash or read out of bounds, and whatever
// decodes re-encodes to the same bytes (strictness).
TEST(HandshakeMessages, MangledFramesNeverCrash) {
    std::mt19937_64 rng{8};  // NOLINT(cert-msc32-c,cert-msc51-cpp): a fixed seed, for reproducible runs
    const std::vector<Bytes> frames = {encode(sample_hello()), encode(sample_hello(kMaxHelloRecordBytes)),
                                       encode(sample_auth())};
    std::size_t accepted = 0;
    auto check = [&](ByteView f) {
        if (auto h = decode_hello(f)) {
            EXPECT_EQ(encode(*h), f);
            ++accepted;
        } else if (auto a = decode_auth(f)) {
            EXPECT_EQ(encode(*a), f);
            ++accepted;
        }
    };
    for (const Bytes& f : frames) {
        for (std::size_t len = 0; len < f.size(); ++len) {
            const Bytes cut{ByteView{f}.substr(0, len)};  // own copy: a sanitizer sees reads past it
            check(cut);
        }
        for (int i = 0; i < 2000; ++i) {
            Bytes m = f;
            m[rng() % m.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
            check(m);
        }
    }
    EXPECT_GT(accepted, 0u);  // flips inside the record, nonce or signature still decode
}

}  // namespace
}  // namespace carousel::proto
