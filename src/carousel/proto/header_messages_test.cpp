// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "header_messages.hpp"

#include <gtest/gtest.h>

#include <carousel/core/rlp.hpp>

namespace carousel::proto {
namespace {

TEST(HeaderMessages, RoundTrip) {
    for (const GetHeaders& m :
         {GetHeaders{1, 0, 0}, GetHeaders{2, 77, 16}, GetHeaders{~uint64_t{0}, ~uint64_t{0}, kMaxHeadersPerRequest}}) {
        EXPECT_EQ(decode_get_headers(encode(m)).value(), m);
    }
    for (const Headers& m : {Headers{1, {}, {}}, Headers{2, Bytes(110, 1), {}},
                             Headers{3, Bytes(110, 1), {Bytes(110, 2), Bytes(kMaxHeaderBytes, 3)}}}) {
        EXPECT_EQ(decode_headers(encode(m)).value(), m);
    }
}

TEST(HeaderMessages, MalformedFramesMapToErrors) {
    EXPECT_EQ(decode_get_headers(encode(GetHeaders{1, 0, kMaxHeadersPerRequest + 1})).error(), WireError::kTooLarge);
    EXPECT_EQ(decode_headers(encode(Headers{1, Bytes(kMaxHeaderBytes + 1, 1), {}})).error(), WireError::kTooLarge);
    EXPECT_EQ(decode_headers(encode(Headers{1, Bytes(10, 1), {Bytes(kMaxHeaderBytes + 1, 1)}})).error(),
              WireError::kTooLarge);
    EXPECT_EQ(
        decode_headers(encode(Headers{1, Bytes(10, 1), std::vector<Bytes>(kMaxHeadersPerRequest + 1, Bytes(10, 2))}))
            .error(),
        WireError::kTooLarge);
    // An empty header in the list; headers without a latest one (a server holding none has none).
    EXPECT_EQ(decode_headers(encode(Headers{1, Bytes(10, 1), {Bytes{}}})).error(), WireError::kMalformed);
    EXPECT_EQ(decode_headers(encode(Headers{1, {}, {Bytes(10, 2)}})).error(), WireError::kMalformed);
    // The other message's type byte; a trailing item; empty frames.
    EXPECT_EQ(decode_headers(encode(GetHeaders{1, 0, 0})).error(), WireError::kUnknownType);
    Bytes body;
    rlp::encode(body, uint64_t{1});
    rlp::encode(body, uint64_t{2});
    rlp::encode(body, uint64_t{3});
    rlp::encode(body, uint64_t{4});
    Bytes four{static_cast<uint8_t>(MessageType::kGetHeaders)};
    rlp::encode_header(four, {true, body.size()});
    four += body;
    EXPECT_EQ(decode_get_headers(four).error(), WireError::kMalformed);
    EXPECT_EQ(decode_get_headers({}).error(), WireError::kEmptyFrame);
    // Every strict truncation fails, never crashes.
    for (const Bytes& f : {encode(GetHeaders{9, 300, 16}), encode(Headers{9, Bytes(110, 1), {Bytes(110, 2)}})}) {
        for (std::size_t n = 0; n < f.size(); ++n) {
            const ByteView cut{f.data(), n};
            EXPECT_FALSE(decode_get_headers(cut) || decode_headers(cut)) << n;
        }
    }
}

}  // namespace
}  // namespace carousel::proto
