// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <carousel/core/hex.hpp>
#include <carousel/core/keccak.hpp>
#include <carousel/state/account.hpp>
#include <carousel/state/roots.hpp>

namespace carousel::state {
namespace {

TEST(Account, Constants) {
    EXPECT_EQ(kEmptyCodeHash, keccak256(ByteView{}));
    EXPECT_EQ(kEmptyTrieRoot, keccak256("80"_hex));
    const Account a;
    EXPECT_TRUE(a.is_empty());
    EXPECT_EQ(a.storage_root, kEmptyTrieRoot);
    EXPECT_EQ(a.code_hash, kEmptyCodeHash);
}

TEST(Account, EncodeDecode) {
    // From ethereum/tests TrieTests/hex_encoded_securetrie_test.json, test1.
    const Bytes enc =
        "f848018405f446a7a056e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421a0c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"_hex;
    ByteView from = enc;
    auto a = decode_account(from);
    ASSERT_TRUE(a) << rlp::to_string(a.error());
    EXPECT_TRUE(from.empty());
    EXPECT_EQ(a->nonce, 1u);
    EXPECT_EQ(a->balance, U256{0x05f446a7});
    EXPECT_EQ(a->storage_root, kEmptyTrieRoot);
    EXPECT_EQ(a->code_hash, kEmptyCodeHash);
    EXPECT_EQ(encode_account(*a), enc);

    Account big;
    big.nonce = UINT64_MAX;
    big.balance = U256::max();
    big.storage_root = keccak256(view("s"));
    big.code_hash = keccak256(view("c"));
    const Bytes big_enc = encode_account(big);
    ByteView big_from = big_enc;
    EXPECT_EQ(decode_account(big_from).value(), big);
    EXPECT_EQ(big_enc.size(), 2 + 9 + 33 + 33 + 33u);

    // The empty account: nonce and balance are empty strings.
    EXPECT_EQ(to_hex(encode_account(Account{})).substr(0, 8), "f8448080");
}

TEST(Account, DecodeErrors) {
    const std::string root = "a056e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421";
    const std::string code = "a0c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470";
    struct Case {
        std::string hex;
        rlp::DecodingError expected;
    };
    const std::vector<Case> cases = {
        {"", rlp::DecodingError::kInputTooShort},
        {"80", rlp::DecodingError::kUnexpectedString},
        {"c0", rlp::DecodingError::kUnexpectedListElements},
        {"c180", rlp::DecodingError::kUnexpectedListElements},
        {"c28080", rlp::DecodingError::kUnexpectedListElements},
        {"e38080" + root, rlp::DecodingError::kUnexpectedListElements},
        {"f8458080" + root + code + "80", rlp::DecodingError::kUnexpectedListElements},  // five items
        {"f84400" + std::string{"80"} + root + code, rlp::DecodingError::kLeadingZero},  // nonce 0 as 0x00
        {"f846820001" + std::string{"80"} + root + code, rlp::DecodingError::kLeadingZero},
        {"f84d89010000000000000000" + std::string{"80"} + root + code, rlp::DecodingError::kOverflow},
        {"f86580a1" + std::string(66, '1') + root + code, rlp::DecodingError::kOverflow},  // 33-byte balance
        {"f844c08080" + root + code.substr(2), rlp::DecodingError::kUnexpectedList},
        {"f84380809f" + std::string(62, '0') + code, rlp::DecodingError::kUnexpectedLength},
        {"c480808100", rlp::DecodingError::kNonCanonicalSingleByte},
        {"f84480" + std::string{"80"} + root, rlp::DecodingError::kInputTooShort},  // declared longer than input
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.hex);
        const Bytes in = from_hex(c.hex).value();
        ByteView from = in;
        auto a = decode_account(from);
        ASSERT_FALSE(a);
        EXPECT_EQ(a.error(), c.expected) << rlp::to_string(a.error());
    }
}

// ethereum/tests TrieTests/hex_encoded_securetrie_test.json: 20-byte addresses -> account RLP, so
// decoding every value and rebuilding the account trie must give the file's root.
TEST(Account, HexEncodedSecureTrieVectors) {
    std::ifstream in{std::string{CAROUSEL_TEST_DATA} + "/ethereum-tests/TrieTests/hex_encoded_securetrie_test.json"};
    ASSERT_TRUE(in);
    const auto tests = nlohmann::json::parse(in);
    ASSERT_EQ(tests.size(), 3u);
    for (const auto& [name, test] : tests.items()) {
        SCOPED_TRACE(name);
        std::vector<std::pair<Address, Account>> accounts;
        for (const auto& [key, value] : test.at("in").items()) {
            const Bytes addr = from_hex(key).value();
            ASSERT_EQ(addr.size(), 20u);
            Address a{};
            std::copy(addr.begin(), addr.end(), a.begin());
            const Bytes rlp = from_hex(value.get<std::string>()).value();
            ByteView from = rlp;
            auto account = decode_account(from);
            ASSERT_TRUE(account) << rlp::to_string(account.error());
            EXPECT_TRUE(from.empty());
            EXPECT_EQ(encode_account(*account), rlp);
            accounts.emplace_back(a, *account);
        }
        EXPECT_EQ(to_hex_prefixed(view(account_trie_root(accounts))), test.at("root").get<std::string>());
    }
}

TEST(Roots, EmptyAndZeroSlots) {
    EXPECT_EQ(storage_root({}), kEmptyTrieRoot);
    EXPECT_EQ(account_trie_root({}), kEmptyTrieRoot);
    // A zero value is an absent slot.
    const std::vector<StorageSlot> zero = {{U256{1}.to_word(), U256{}}};
    EXPECT_EQ(storage_root(zero), kEmptyTrieRoot);
    const std::vector<StorageSlot> one = {{U256{3}.to_word(), U256{7}}};
    const std::vector<StorageSlot> one_and_zero = {{U256{5}.to_word(), U256{}}, {U256{3}.to_word(), U256{7}}};
    EXPECT_EQ(storage_root(one), storage_root(one_and_zero));
    EXPECT_NE(storage_root(one), kEmptyTrieRoot);
    // Order does not matter.
    const std::vector<StorageSlot> ab = {{U256{1}.to_word(), U256{1}}, {U256{2}.to_word(), U256{2}}};
    const std::vector<StorageSlot> ba = {ab[1], ab[0]};
    EXPECT_EQ(storage_root(ab), storage_root(ba));
}

}  // namespace
}  // namespace carousel::state
