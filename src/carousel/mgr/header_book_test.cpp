// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "header_book.hpp"

#include <gtest/gtest.h>

#include <carousel/core/keccak.hpp>

namespace carousel::mgr {
namespace {

const dht::KeyPair& bridge() {
    static const dht::KeyPair kKey = dht::KeyPair::from_secret(Bytes(32, 0x07)).value();
    return kKey;
}
const dht::KeyPair& impostor() {
    static const dht::KeyPair kKey = dht::KeyPair::from_secret(Bytes(32, 0x08)).value();
    return kKey;
}

Hash root_of(uint64_t number) { return keccak256(Bytes(8, static_cast<uint8_t>(number))); }
Bytes header(uint64_t number, const dht::KeyPair& key = bridge()) {
    return encode(sign_header(key, {number, root_of(number)}));
}

TEST(HeaderBook, KeepsOnlyHeadersTheTrustedKeySigned) {
    HeaderBook book{bridge().public_key, 16};
    EXPECT_EQ(book.accept(header(5)).value(), HeaderVerdict::kNew);
    EXPECT_EQ(book.accept(header(5)).value(), HeaderVerdict::kKnown);
    EXPECT_EQ(book.root(5), root_of(5));
    EXPECT_EQ(book.accept(header(6, impostor())).error(), HeaderRejection::kBadSignature);
    EXPECT_EQ(book.root(6), std::nullopt);
    EXPECT_EQ(book.accept(Bytes{0xc0}).error(), HeaderRejection::kUndecodable);
    // Every byte flip of a good header is refused or decodes to something the key did not sign.
    const Bytes good = header(7);
    for (std::size_t i = 0; i < good.size(); ++i) {
        Bytes bad = good;
        bad[i] ^= 0x01;
        EXPECT_FALSE(book.accept(bad)) << "byte " << i;
    }
    EXPECT_EQ(book.root(7), std::nullopt);
    EXPECT_EQ(book.stats().accepted, 1u);
    EXPECT_EQ(book.stats().known, 1u);
    EXPECT_EQ(book.source()(5), root_of(5));
    EXPECT_EQ(book.source()(4), std::nullopt);
}

TEST(HeaderBook, TheFirstRootSignedForANumberStays) {
    HeaderBook book{bridge().public_key, 16};
    ASSERT_TRUE(book.accept(header(5)));
    const Bytes other = encode(sign_header(bridge(), {5, root_of(99)}));
    EXPECT_EQ(book.accept(other).error(), HeaderRejection::kConflict);
    EXPECT_EQ(book.root(5), root_of(5));
    EXPECT_EQ(book.stats().conflicts, 1u);
    // An impostor's header for a held number is a bad signature, not a conflict.
    EXPECT_EQ(book.accept(encode(sign_header(impostor(), {5, root_of(99)}))).error(), HeaderRejection::kBadSignature);
}

TEST(HeaderBook, HoldsTheNewestCapacityNumbers) {
    HeaderBook book{bridge().public_key, 4};
    for (uint64_t n : {uint64_t{10}, uint64_t{3}, uint64_t{11}, uint64_t{12}, uint64_t{13}})
        ASSERT_TRUE(book.accept(header(n))) << n;
    EXPECT_EQ(book.size(), 4u);
    EXPECT_EQ(book.root(3), std::nullopt);  // the oldest went first
    EXPECT_EQ(book.accept(header(2)).value(), HeaderVerdict::kTooOld);
    EXPECT_EQ(book.root(2), std::nullopt);
    EXPECT_EQ(book.latest()->number, 13u);
    EXPECT_EQ(book.latest()->state_root, root_of(13));
    ASSERT_TRUE(book.accept(header(20)));
    EXPECT_EQ(book.root(10), std::nullopt);
    EXPECT_EQ(book.root(11), root_of(11));
}

TEST(HeaderBook, AnswersAndAcceptsAnswers) {
    HeaderBook server{bridge().public_key, 64};
    for (uint64_t n = 1; n <= 40; ++n) ASSERT_TRUE(server.accept(header(n)));
    const proto::GetHeaders asked{7, 30, 16};
    const proto::Headers answer = server.answer(asked);
    EXPECT_EQ(answer.request_id, 7u);
    EXPECT_EQ(answer.latest, header(40));
    ASSERT_EQ(answer.headers.size(), 11u);  // 30..40
    EXPECT_EQ(answer.headers.front(), header(30));

    HeaderBook client{bridge().public_key, 64};
    EXPECT_EQ(client.accept_answer(asked, answer).value(), 11u);  // 40 counted once
    EXPECT_EQ(client.latest()->number, 40u);
    EXPECT_EQ(client.root(30), root_of(30));
    // Only the latest, for a client starting.
    HeaderBook fresh{bridge().public_key, 64};
    const proto::Headers latest_only = server.answer({8, 0, 0});
    EXPECT_TRUE(latest_only.headers.empty());
    EXPECT_EQ(fresh.accept_answer({8, 0, 0}, latest_only).value(), 1u);
    // An empty book answers nothing.
    EXPECT_TRUE(HeaderBook(bridge().public_key, 4).answer(asked).latest.empty());
}

TEST(HeaderBook, RefusesAnswersOutsideWhatWasAsked) {
    HeaderBook client{bridge().public_key, 64};
    const proto::GetHeaders asked{1, 30, 4};
    EXPECT_EQ(client.accept_answer(asked, {1, header(40), {header(29)}}).error(), HeaderRejection::kOutOfRange);
    EXPECT_EQ(client.accept_answer(asked, {1, header(40), {header(34)}}).error(), HeaderRejection::kOutOfRange);
    EXPECT_EQ(client.accept_answer(asked, {1, header(40), {header(31), header(30)}}).error(),
              HeaderRejection::kOutOfRange);
    EXPECT_EQ(client.accept_answer(asked, {1, header(40), {header(31, impostor())}}).error(),
              HeaderRejection::kBadSignature);
    EXPECT_EQ(client.accept_answer(asked, {1, header(40, impostor()), {}}).error(), HeaderRejection::kBadSignature);
    // What came before the bad header stays (31, of the out-of-order answer); nothing else entered.
    EXPECT_EQ(client.root(31), root_of(31));
    EXPECT_EQ(client.root(30), std::nullopt);
    EXPECT_EQ(client.root(29), std::nullopt);
    EXPECT_EQ(client.root(34), std::nullopt);
    // A count near 2^64 cannot wrap the range check.
    const proto::GetHeaders wide{2, ~uint64_t{0} - 1, proto::kMaxHeadersPerRequest};
    EXPECT_EQ(client.accept_answer(wide, {2, header(40), {header(3)}}).error(), HeaderRejection::kOutOfRange);
}

}  // namespace
}  // namespace carousel::mgr
