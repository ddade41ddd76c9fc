// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include <gtest/gtest.h>

#include <carousel/core/hex.hpp>
#include <carousel/core/keccak.hpp>

namespace carousel {
namespace {

// Known digests: keccak256("") is Ethereum's empty code hash; the others from go-ethereum's crypto tests.
TEST(Keccak, KnownDigests) {
    EXPECT_EQ(to_hex(keccak256(ByteView{})), "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    EXPECT_EQ(to_hex(keccak256(view("abc"))), "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
    // The RLP of the empty string (0x80) hashes to the empty trie root.
    EXPECT_EQ(to_hex(keccak256("80"_hex)), "56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421");
}

}  // namespace
}  // namespace carousel
