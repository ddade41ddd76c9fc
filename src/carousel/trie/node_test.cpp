// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include <gtest/gtest.h>

#include <carousel/core/hex.hpp>
#include <carousel/core/keccak.hpp>
#include <carousel/core/rlp.hpp>
#include <carousel/testing/values.hpp>
#include <carousel/trie/node.hpp>

namespace carousel::trie {
namespace {

using carousel::testing::rlp_list;
using carousel::testing::rlp_string;

const Bytes kHash(32, 0xab);

TEST(NodeCodec, RoundTrips) {
    Bytes leaf;
    const Nibbles path = {1, 2, 3};
    encode_leaf(leaf, path, view("value"));
    auto n = decode_node(leaf);
    ASSERT_TRUE(n);
    EXPECT_EQ(n->kind, NodeKind::kLeaf);
    EXPECT_EQ(n->path, path);
    EXPECT_EQ(n->value, view("value"));

    Bytes ext;
    encode_extension(ext, Nibbles{4, 5}, kHash);
    n = decode_node(ext);
    ASSERT_TRUE(n);
    EXPECT_EQ(n->kind, NodeKind::kExtension);
    EXPECT_EQ(n->children[0], ByteView{kHash});

    std::array<ByteView, 16> children{};
    children[3] = kHash;
    Bytes small_leaf;
    encode_leaf(small_leaf, Nibbles{7}, view("x"));  // 4 bytes: embedded
    children[9] = small_leaf;
    Bytes branch;
    encode_branch(branch, children, {});
    n = decode_node(branch);
    ASSERT_TRUE(n) << to_string(n.error());
    EXPECT_EQ(n->kind, NodeKind::kBranch);
    EXPECT_EQ(n->children[3], ByteView{kHash});
    EXPECT_EQ(n->children[9], ByteView{small_leaf});
    EXPECT_TRUE(n->children[0].empty());
}

TEST(NodeCodec, ReferencesEmbedShortNodes) {
    Bytes small = rlp_list({rlp_string("20"_hex), rlp_string(view("v"))});
    EXPECT_EQ(make_reference(small), small);
    Bytes big = rlp_list({rlp_string("20"_hex), rlp_string(Bytes(40, 1))});
    EXPECT_EQ(make_reference(big), Bytes{view(keccak256(big))});
}

// Every malformed shape maps to its named error (silkworm decode_test.cpp style).
TEST(NodeCodec, RejectsMalformedNodes) {
    std::array<Bytes, 17> empty_branch;
    for (auto& e : empty_branch) e = Bytes{0x80};
    auto branch_with = [&](std::initializer_list<std::pair<std::size_t, Bytes>> slots) {
        auto items = empty_branch;
        for (const auto& [i, b] : slots) items[i] = b;
        Bytes payload;
        for (const auto& i : items) payload += i;
        Bytes out;
        rlp::encode_header(out, {true, payload.size()});
        return out + payload;
    };
    const Bytes hash_item = rlp_string(kHash);
    const Bytes long_embedded = rlp_list({rlp_string("20"_hex), rlp_string(Bytes(40, 1))});

    const std::vector<std::pair<Bytes, NodeError>> cases = {
        {"c0"_hex, NodeError::kBadItemCount},
        {rlp_list({rlp_string("20"_hex)}), NodeError::kBadItemCount},
        {rlp_list({rlp_string("20"_hex), rlp_string("01"_hex), rlp_string("02"_hex)}), NodeError::kBadItemCount},
        {"c3"_hex, NodeError::kBadRlp},                                                               // truncated
        {rlp_list({rlp_string("20"_hex), rlp_string(view("v"))}) + Bytes{0x00}, NodeError::kBadRlp},  // trailing byte
        {rlp_string(view("not a list")), NodeError::kBadRlp},
        {rlp_list({rlp_string("40"_hex), rlp_string(view("v"))}), NodeError::kBadPath},  // flag 4
        {rlp_list({rlp_string("21"_hex), rlp_string(view("v"))}),
         NodeError::kBadPath},                                                     // even path with padding nibble
        {rlp_list({rlp_string({}), rlp_string(view("v"))}), NodeError::kBadPath},  // no flag byte
        {rlp_list({rlp_string("20"_hex), rlp_string({})}), NodeError::kEmptyLeafValue},
        {rlp_list({rlp_string("00"_hex), hash_item}), NodeError::kEmptyExtensionPath},
        {rlp_list({rlp_string("11"_hex), rlp_string({})}), NodeError::kEmptyExtensionChild},
        {rlp_list({rlp_string("11"_hex), rlp_string("0102"_hex)}), NodeError::kBadChildReference},
        {rlp_list({rlp_string("11"_hex), long_embedded}), NodeError::kEmbeddedTooLong},
        {branch_with({{0, rlp_string(Bytes(31, 7))}, {1, hash_item}}), NodeError::kBadChildReference},
        {branch_with({{0, rlp_string(Bytes(33, 7))}, {1, hash_item}}), NodeError::kBadChildReference},
        {branch_with({{0, hash_item}}), NodeError::kSparseBranch},
        {branch_with({}), NodeError::kSparseBranch},
        {branch_with({{2, long_embedded}, {1, hash_item}}), NodeError::kEmbeddedTooLong},
        {branch_with({{2, rlp_list({rlp_string("40"_hex), rlp_string(view("v"))})}, {1, hash_item}}),
         NodeError::kBadPath},
    };
    for (const auto& [bytes, want] : cases) {
        auto n = decode_node(bytes);
        ASSERT_FALSE(n) << to_hex(bytes);
        EXPECT_EQ(n.error(), want) << to_hex(bytes) << ": got " << to_string(n.error());
    }
}

TEST(NodeCodec, TruncationNeverCrashes) {
    std::array<ByteView, 16> children{};
    for (std::size_t i = 0; i < 16; ++i) children[i] = kHash;
    Bytes branch;
    encode_branch(branch, children, {});
    for (std::size_t len = 0; len < branch.size(); ++len) {
        EXPECT_FALSE(decode_node(ByteView{branch}.substr(0, len)));
    }
    EXPECT_TRUE(decode_node(branch));
}

}  // namespace
}  // namespace carousel::trie
