// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// StateDiff on small hand-built diffs: shape checks, the inverse, and the strict decoder fed every
// kind of bad input. (world_state_test.cpp checks random chains of diffs against a state.)
#include "state_diff.hpp"

#include <initializer_list>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include <carousel/testing/values.hpp>

namespace carousel::state {
namespace {

Hash key(uint8_t first, uint8_t last = 0) {
    Hash h{};
    h[0] = first;
    h[31] = last;
    return h;
}

using carousel::testing::rlp_list;
using carousel::testing::rlp_string;
using carousel::testing::rlp_uint;

// A storage leaf value: RLP of the minimal big-endian word.
Bytes word(uint64_t v) { return rlp_uint(v); }

Account account(uint64_t nonce) { return Account{nonce, U256{nonce * 1000}, kEmptyTrieRoot, kEmptyCodeHash}; }

// Account 1 created with two slots, account 2 updated, account 3 deleted with its slot cleared.
StateDiff sample() {
    StateDiff d;
    d.block = 42;
    d.parent_root = key(0xaa);
    d.root = key(0xbb);
    d.accounts.push_back({key(1), std::nullopt, account(1)});
    d.accounts.push_back({key(2), account(2), account(3)});
    d.accounts.push_back({key(3), account(4), std::nullopt});
    d.slots.push_back({key(1), key(5), {}, word(1)});
    d.slots.push_back({key(1), key(6), {}, word(0x1234)});
    d.slots.push_back({key(3), key(5), word(7), {}});
    d.code.push_back(Bytes{0x60, 0x00, 0x00});
    return d;
}

Bytes account_field(const std::optional<Account>& a) { return a ? rlp_string(encode_account(*a)) : rlp_string({}); }

// The encoding of a diff with one account change (`item`) and one slot change (`slot`), whose
// other fields are as `fields` says: the decoder's input with one part replaced at a time.
struct Parts {
    Bytes block = rlp_uint(9);
    Bytes parent = rlp_string(view(key(0xaa)));
    Bytes root = rlp_string(view(key(0xbb)));
    Bytes accounts = rlp_list({rlp_list({rlp_string(view(key(1))), rlp_string({}), account_field(account(1))})});
    Bytes slots =
        rlp_list({rlp_list({rlp_string(view(key(1))), rlp_string(view(key(5))), rlp_string({}), rlp_string(word(1))})});
    Bytes code = rlp_list({});
    Bytes encode() const { return rlp_list({block, parent, root, accounts, slots, code}); }
};

TEST(StateDiff, EveryErrorHasItsOwnName) {
    std::set<std::string_view> names;
    for (int e = 1; e <= static_cast<int>(DiffError::kBadEncoding); ++e) {
        const std::string_view name = to_string(static_cast<DiffError>(e));
        EXPECT_NE(name, "unknown diff error") << e;
        names.insert(name);
    }
    EXPECT_EQ(names.size(), static_cast<std::size_t>(DiffError::kBadEncoding));
    EXPECT_EQ(to_string(static_cast<DiffError>(0)), "unknown diff error");
}

TEST(StateDiff, InverseSwapsRootsAndValuesAndKeepsTheRest) {
    const StateDiff d = sample();
    ASSERT_TRUE(validate(d));
    const StateDiff inv = d.inverse();
    EXPECT_EQ(inv.block, d.block);
    EXPECT_EQ(inv.parent_root, d.root);
    EXPECT_EQ(inv.root, d.parent_root);
    ASSERT_EQ(inv.accounts.size(), d.accounts.size());
    for (std::size_t i = 0; i < d.accounts.size(); ++i) {
        EXPECT_EQ(inv.accounts[i].key, d.accounts[i].key);
        EXPECT_EQ(inv.accounts[i].before, d.accounts[i].after);
        EXPECT_EQ(inv.accounts[i].after, d.accounts[i].before);
    }
    ASSERT_EQ(inv.slots.size(), d.slots.size());
    for (std::size_t i = 0; i < d.slots.size(); ++i) {
        EXPECT_EQ(inv.slots[i].before, d.slots[i].after);
        EXPECT_EQ(inv.slots[i].after, d.slots[i].before);
    }
    EXPECT_EQ(inv.code, d.code);
    EXPECT_TRUE(validate(inv));  // the deleted account comes back with its slot, the created one goes
    EXPECT_EQ(inv.inverse(), d);
}

TEST(StateDiff, ValidateNamesEachBrokenRule) {
    const StateDiff good = sample();
    ASSERT_TRUE(validate(good));
    EXPECT_TRUE(validate(StateDiff{}));  // an empty block

    StateDiff bad = good;
    bad.accounts[1].key = bad.accounts[0].key;  // repeated
    EXPECT_EQ(validate(bad).error(), DiffError::kNotSorted);
    bad = good;
    std::swap(bad.slots[0], bad.slots[1]);
    EXPECT_EQ(validate(bad).error(), DiffError::kNotSorted);
    bad = good;
    bad.slots[1].slot_key = bad.slots[0].slot_key;  // repeated
    EXPECT_EQ(validate(bad).error(), DiffError::kNotSorted);

    bad = good;
    bad.accounts[1].after = bad.accounts[1].before;
    EXPECT_EQ(validate(bad).error(), DiffError::kNoOpChange);
    bad = good;
    bad.accounts[0].before = std::nullopt;
    bad.accounts[0].after = std::nullopt;
    bad.slots.erase(bad.slots.begin(), bad.slots.begin() + 2);
    EXPECT_EQ(validate(bad).error(), DiffError::kNoOpChange);
    bad = good;
    bad.slots[0].before = bad.slots[0].after;
    EXPECT_EQ(validate(bad).error(), DiffError::kNoOpChange);
    bad = good;
    bad.slots[2].before.clear();  // cleared -> cleared
    EXPECT_EQ(validate(bad).error(), DiffError::kNoOpChange);

    bad = good;
    bad.slots.insert(bad.slots.begin(), SlotChange{key(0), key(1), {}, word(1)});  // before every account
    EXPECT_EQ(validate(bad).error(), DiffError::kOrphanSlot);
    bad = good;
    bad.slots.insert(bad.slots.begin() + 2, SlotChange{key(2, 1), key(1), {}, word(1)});  // between accounts
    EXPECT_EQ(validate(bad).error(), DiffError::kOrphanSlot);
    bad = good;
    bad.slots.push_back({key(9), key(1), {}, word(1)});  // after every account
    EXPECT_EQ(validate(bad).error(), DiffError::kOrphanSlot);

    bad = good;
    bad.slots[2].after = word(8);  // written in the account the block deletes
    EXPECT_EQ(validate(bad).error(), DiffError::kSlotOfDeleted);
}

TEST(StateDiff, SlotValuesMustBeCanonicalNonZeroWords) {
    const StateDiff good = sample();
    const Bytes max_word = rlp_string(Bytes(32, 0xff));
    const Bytes too_long = rlp_string(Bytes(33, 0x01));
    const Bytes bad_values[] = {
        Bytes{0x80},              // the zero word
        Bytes{0x00},              // a zero byte
        Bytes{0x81, 0x05},        // a single small byte in long form
        Bytes{0x82, 0x00, 0x01},  // a leading zero
        too_long,                 // 33 bytes
        word(5) + Bytes{0x01},    // trailing bytes
        Bytes{0xc1, 0x01},        // a list
        Bytes{0x83, 0x01},        // truncated
    };
    for (const Bytes& v : bad_values) {
        StateDiff bad = good;
        bad.slots[0].after = v;
        EXPECT_EQ(validate(bad).error(), DiffError::kBadSlotValue) << v.size();
        bad = good;
        bad.slots[2].before = v;
        EXPECT_EQ(validate(bad).error(), DiffError::kBadSlotValue) << v.size();
    }
    StateDiff ok = good;
    ok.slots[0].after = max_word;
    EXPECT_TRUE(validate(ok));
    ok.slots[0].after = Bytes{0x7f};  // a byte below 0x80 is its own encoding
    EXPECT_TRUE(validate(ok));
}

// Sealing: an account whose before equals its after is a change only if the diff writes its slots.
TEST(StateDiff, SealingAcceptsAccountsWhoseOnlyChangeIsTheirStorage) {
    StateDiff d;
    d.accounts.push_back({key(1), account(1), account(1)});
    d.slots.push_back({key(1), key(2), {}, word(3)});
    EXPECT_EQ(validate(d).error(), DiffError::kNoOpChange);
    EXPECT_TRUE(validate(d, /*sealing=*/true));
    d.accounts.push_back({key(2), account(2), account(2)});  // no slots: a no-op all the same
    EXPECT_EQ(validate(d, true).error(), DiffError::kNoOpChange);
    d.accounts.back() = {key(2), std::nullopt, std::nullopt};  // absent before and after
    EXPECT_EQ(validate(d, true).error(), DiffError::kNoOpChange);
}

TEST(StateDiff, EncodingRoundTrips) {
    StateDiff empty;
    empty.block = 7;
    StateDiff genesis = sample();
    genesis.block = 0;
    genesis.accounts.erase(genesis.accounts.begin() + 1, genesis.accounts.end());  // creations only
    genesis.slots.pop_back();
    genesis.parent_root = Hash{};
    StateDiff many_code = sample();
    many_code.code.push_back(Bytes(1000, 0x5b));
    many_code.code.push_back(Bytes{});
    for (const StateDiff& d : {empty, sample(), genesis, many_code}) {
        ASSERT_TRUE(validate(d));
        const Bytes enc = encode_state_diff(d);
        auto dec = decode_state_diff(enc);
        ASSERT_TRUE(dec) << to_string(dec.error());
        EXPECT_EQ(*dec, d);
        EXPECT_EQ(encode_state_diff(*dec), enc);
    }
}

TEST(StateDiff, HandBuiltEncodingDecodes) {
    const Parts parts;
    auto d = decode_state_diff(parts.encode());
    ASSERT_TRUE(d) << to_string(d.error());
    EXPECT_EQ(d->block, 9U);
    ASSERT_EQ(d->accounts.size(), 1U);
    EXPECT_EQ(d->accounts[0].after, account(1));
    ASSERT_EQ(d->slots.size(), 1U);
    EXPECT_EQ(d->slots[0].after, word(1));
}

TEST(StateDiff, DecodeRefusesTruncatedAndOverlongInput) {
    const Bytes enc = encode_state_diff(sample());
    for (std::size_t len = 0; len < enc.size(); ++len) {
        auto r = decode_state_diff(ByteView{enc}.substr(0, len));
        ASSERT_FALSE(r) << len;
        EXPECT_EQ(r.error(), DiffError::kBadEncoding) << len;
    }
    EXPECT_EQ(decode_state_diff(enc + Bytes{0x80}).error(), DiffError::kBadEncoding);
    EXPECT_EQ(decode_state_diff(Bytes{}).error(), DiffError::kBadEncoding);
    EXPECT_EQ(decode_state_diff(rlp_string(enc)).error(), DiffError::kBadEncoding);  // a string, not a list
}

TEST(StateDiff, DecodeRefusesFieldsOfTheWrongTypeOrCount) {
    auto decode = [](const Parts& p) { return decode_state_diff(p.encode()); };
    auto bad = [&](auto change) {
        Parts p;
        change(p);
        return decode(p);
    };
    const Bytes acct = account_field(account(1));
    const Bytes k1 = rlp_string(view(key(1)));
    const Bytes k5 = rlp_string(view(key(5)));
    // The header fields.
    EXPECT_EQ(bad([](Parts& p) { p.block = rlp_list({}); }).error(), DiffError::kBadEncoding);
    EXPECT_EQ(bad([](Parts& p) { p.block = Bytes{0x82, 0x00, 0x09}; }).error(), DiffError::kBadEncoding);
    EXPECT_EQ(bad([](Parts& p) { p.block = rlp_string(Bytes(9, 0x01)); }).error(),
              DiffError::kBadEncoding);  // > 64 bits
    EXPECT_EQ(bad([](Parts& p) { p.parent = rlp_string(Bytes(31, 0xaa)); }).error(), DiffError::kBadEncoding);
    EXPECT_EQ(bad([](Parts& p) { p.root = rlp_string(Bytes(33, 0xbb)); }).error(), DiffError::kBadEncoding);
    EXPECT_EQ(bad([](Parts& p) { p.root = rlp_list({}); }).error(), DiffError::kBadEncoding);
    EXPECT_EQ(bad([](Parts& p) { p.accounts = rlp_string({}); }).error(), DiffError::kBadEncoding);
    EXPECT_EQ(bad([](Parts& p) { p.slots = rlp_string({}); }).error(), DiffError::kBadEncoding);
    EXPECT_EQ(bad([](Parts& p) { p.code = rlp_string({}); }).error(), DiffError::kBadEncoding);
    // Too few or too many fields.
    {
        const Parts p;
        EXPECT_EQ(decode_state_diff(rlp_list({p.block, p.parent, p.root, p.accounts, p.slots})).error(),
                  DiffError::kBadEncoding);
        EXPECT_EQ(
            decode_state_diff(rlp_list({p.block, p.parent, p.root, p.accounts, p.slots, p.code, rlp_uint(1)})).error(),
            DiffError::kBadEncoding);
    }
    // Account changes.
    EXPECT_EQ(bad([&](Parts& p) {
                  p.accounts = rlp_list({rlp_list({k1, rlp_string({})})});
              }).error(),
              DiffError::kBadEncoding);
    EXPECT_EQ(bad([&](Parts& p) {
                  p.accounts = rlp_list({rlp_list({k1, rlp_string({}), acct, rlp_string({})})});
              }).error(),
              DiffError::kBadEncoding);
    EXPECT_EQ(bad([&](Parts& p) { p.accounts = rlp_list({rlp_string({})}); }).error(), DiffError::kBadEncoding);
    EXPECT_EQ(bad([&](Parts& p) {
                  p.accounts = rlp_list({rlp_list({rlp_string(Bytes(33, 1)), rlp_string({}), acct})});
              }).error(),
              DiffError::kBadEncoding);
    EXPECT_EQ(bad([&](Parts& p) {
                  p.accounts = rlp_list({rlp_list({k1, rlp_string({}), rlp_string(Bytes{0x01, 0x02})})});
              }).error(),
              DiffError::kBadEncoding);  // not an account
    EXPECT_EQ(
        bad([&](Parts& p) {
            p.accounts = rlp_list({rlp_list({k1, rlp_string({}), rlp_string(encode_account(account(1)) + Bytes{0})})});
        }).error(),
        DiffError::kBadEncoding);  // an account and a byte more
    EXPECT_EQ(bad([&](Parts& p) {
                  p.accounts = rlp_list({rlp_list({k1, rlp_string({}), encode_account(account(1))})});
              }).error(),
              DiffError::kBadEncoding);  // the account's list itself, not the string holding it
    // Slot changes.
    EXPECT_EQ(bad([&](Parts& p) {
                  p.slots = rlp_list({rlp_list({k1, k5, rlp_string({})})});
              }).error(),
              DiffError::kBadEncoding);
    EXPECT_EQ(bad([&](Parts& p) {
                  p.slots = rlp_list({rlp_list({k1, k5, rlp_string({}), rlp_string(word(1)), rlp_string({})})});
              }).error(),
              DiffError::kBadEncoding);
    EXPECT_EQ(bad([&](Parts& p) {
                  p.slots = rlp_list({rlp_list({k1, rlp_string(Bytes(31, 5)), rlp_string({}), rlp_string(word(1))})});
              }).error(),
              DiffError::kBadEncoding);
    EXPECT_EQ(bad([&](Parts& p) {
                  p.slots = rlp_list({rlp_list({k1, k5, rlp_list({}), rlp_string(word(1))})});
              }).error(),
              DiffError::kBadEncoding);
    EXPECT_EQ(bad([&](Parts& p) { p.slots = rlp_list({rlp_string({})}); }).error(), DiffError::kBadEncoding);
    // A slot value longer than any word is refused as too large before its shape is looked at.
    EXPECT_EQ(bad([&](Parts& p) {
                  p.slots = rlp_list({rlp_list({k1, k5, rlp_string({}), rlp_string(Bytes(34, 1))})});
              }).error(),
              DiffError::kTooLarge);
    // Code.
    EXPECT_EQ(bad([](Parts& p) { p.code = rlp_list({rlp_list({})}); }).error(), DiffError::kBadEncoding);
    EXPECT_EQ(bad([](Parts& p) { p.code = rlp_list({rlp_string(Bytes(kMaxCodeSize + 1, 0x5b))}); }).error(),
              DiffError::kTooLarge);
}

// What decodes but breaks a rule of validate() is refused with that rule's error.
TEST(StateDiff, DecodeChecksTheShape) {
    const Bytes acct1 = account_field(account(1));
    Parts unsorted;
    unsorted.accounts = rlp_list({rlp_list({rlp_string(view(key(2))), rlp_string({}), acct1}),
                                  rlp_list({rlp_string(view(key(1))), rlp_string({}), acct1})});
    unsorted.slots = rlp_list({});
    EXPECT_EQ(decode_state_diff(unsorted.encode()).error(), DiffError::kNotSorted);
    Parts orphan;
    orphan.slots =
        rlp_list({rlp_list({rlp_string(view(key(7))), rlp_string(view(key(5))), rlp_string({}), rlp_string(word(1))})});
    EXPECT_EQ(decode_state_diff(orphan.encode()).error(), DiffError::kOrphanSlot);
    Parts bad_word;
    bad_word.slots = rlp_list({rlp_list(
        {rlp_string(view(key(1))), rlp_string(view(key(5))), rlp_string({}), rlp_string(Bytes{0x82, 0x00, 0x01})})});
    EXPECT_EQ(decode_state_diff(bad_word.encode()).error(), DiffError::kBadSlotValue);
    Parts no_op;
    no_op.accounts = rlp_list({rlp_list({rlp_string(view(key(1))), acct1, acct1})});
    no_op.slots = rlp_list({});
    EXPECT_EQ(decode_state_diff(no_op.encode()).error(), DiffError::kNoOpChange);
}

}  // namespace
}  // namespace carousel::state
