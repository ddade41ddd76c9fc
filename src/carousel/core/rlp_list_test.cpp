// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// rlp::decode_list<Ts...> and rlp::decode_fields<Ts...>: every field type, and a table mapping bad
// lists to the error each must give (as rlp_test.cpp does for the single-item decoders).
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <carousel/core/hex.hpp>
#include <carousel/core/rlp_list.hpp>

namespace carousel::rlp {
namespace {

using Account = std::tuple<uint64_t, Uint256Bytes, Hash, Hash>;

Bytes account_rlp(ByteView nonce_item, ByteView balance_item) {
    Bytes payload;
    payload += nonce_item;
    payload += balance_item;
    Hash h{};
    h.fill(0xab);
    encode(payload, view(h));
    encode(payload, view(h));
    Bytes out;
    encode_header(out, {true, payload.size()});
    return out + payload;
}

TEST(RlpList, DecodesEveryFieldTypeAndConsumesTheList) {
    Bytes payload;
    encode(payload, uint64_t{1024});
    Hash h{};
    h.fill(0x11);
    encode(payload, view(h));
    encode(payload, "cafe"_hex);
    encode(payload, "beef"_hex);
    encode(payload, "0100"_hex);        // a 256-bit integer: 256
    encode_header(payload, {true, 2});  // a list of two single bytes
    payload += "0102"_hex;
    Bytes item;
    encode_header(item, {true, payload.size()});
    item += payload;
    item += "ff"_hex;  // what follows the list stays

    ByteView in = item;
    auto f = decode_list<uint64_t, Hash, ByteView, Bytes, Uint256Bytes, List>(in);
    ASSERT_TRUE(f) << to_string(f.error());
    const auto& [n, hash, view_field, bytes_field, big, list] = *f;
    EXPECT_EQ(n, 1024U);
    EXPECT_EQ(hash, h);
    EXPECT_EQ(Bytes{view_field}, "cafe"_hex);
    EXPECT_EQ(bytes_field, "beef"_hex);
    EXPECT_EQ(Bytes{big.bytes}, "0100"_hex);
    EXPECT_EQ(Bytes{list.payload}, "0102"_hex);
    EXPECT_EQ(Bytes{in}, "ff"_hex);
}

TEST(RlpList, FieldsLeaveTheRestOfThePayload) {
    Bytes payload;
    encode(payload, uint64_t{7});
    encode(payload, "aa"_hex);
    ByteView in = payload;
    auto f = decode_fields<uint64_t>(in);
    ASSERT_TRUE(f);
    EXPECT_EQ(std::get<0>(*f), 7U);
    EXPECT_EQ(Bytes{in}, "81aa"_hex);
}

// Each bad list and the error it must give.
TEST(RlpList, ErrorTable) {
    struct Case {
        std::string name;
        Bytes input;
        DecodingError error;
    };
    Bytes too_many = account_rlp("01"_hex, "02"_hex);
    too_many[1] = static_cast<uint8_t>(too_many[1] + 1);  // the list grows by one byte: an extra element
    too_many.push_back(0x05);
    Bytes over_256_bits{0xa1};  // a 33-byte integer
    over_256_bits.append(33, 0x11);
    Bytes missing;  // [nonce, balance, hash]
    {
        Bytes payload = "0102"_hex;
        encode(payload, view(Hash{}));
        encode_header(missing, {true, payload.size()});
        missing += payload;
    }
    const std::vector<Case> cases{
        {"not a list", "820102"_hex, DecodingError::kUnexpectedString},
        {"list runs past the input", "c5010203"_hex, DecodingError::kInputTooShort},
        {"nonce with a leading zero", account_rlp("820001"_hex, "02"_hex), DecodingError::kLeadingZero},
        {"nonce over 64 bits", account_rlp("89010000000000000000"_hex, "02"_hex), DecodingError::kOverflow},
        {"nonce is a list", account_rlp("c0"_hex, "02"_hex), DecodingError::kUnexpectedList},
        {"balance over 256 bits", account_rlp("01"_hex, over_256_bits), DecodingError::kOverflow},
        {"field missing", missing, DecodingError::kUnexpectedListElements},
        {"extra field", too_many, DecodingError::kUnexpectedListElements},
    };
    for (const Case& c : cases) {
        ByteView in = c.input;
        auto f = decode_list<uint64_t, Uint256Bytes, Hash, Hash>(in);
        ASSERT_FALSE(f) << c.name;
        EXPECT_EQ(f.error(), c.error) << c.name << ": " << to_string(f.error());
    }
}

TEST(RlpList, FixedSizeFieldOfAnotherLength) {
    Bytes payload;
    encode(payload, "0102"_hex);
    Bytes item;
    encode_header(item, {true, payload.size()});
    item += payload;
    ByteView in = item;
    auto f = decode_list<Hash>(in);
    ASSERT_FALSE(f);
    EXPECT_EQ(f.error(), DecodingError::kUnexpectedLength);
}

}  // namespace
}  // namespace carousel::rlp
