// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// HeaderPoll against a HeaderBook that plays the serving peer (its answer()).
#include "header_poll.hpp"

#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "overlay_testing.hpp"
#include "signed_header.hpp"

namespace carousel::mgr {
namespace {

using namespace std::chrono_literals;
using proto::Time;

Hash root_of(uint64_t n) {
    Hash h{};
    h[0] = static_cast<uint8_t>(n);
    h[1] = static_cast<uint8_t>(n >> 8);
    h[31] = 0x77;
    return h;
}

// A peer's book holding blocks 0..last, signed by the bridge key.
HeaderBook serving_book(uint64_t last, std::size_t capacity = 1024) {
    HeaderBook b{testing::test_key(99).public_key, capacity};
    for (uint64_t n = 0; n <= last; ++n) {
        EXPECT_TRUE(b.accept(encode(sign_header(testing::test_key(99), Header{n, root_of(n)}))));
    }
    return b;
}

TEST(HeaderPoll, AnEmptyBookAsksTheLatestThenTheWindowBelowIt) {
    const HeaderBook server = serving_book(300);
    HeaderBook book{testing::test_key(99).public_key, 32};
    HeaderPoll poll{book};
    auto r = poll.request(1, Time{0});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->count, 0u) << "the latest only";
    poll.sent_to(5);
    ASSERT_TRUE(poll.on_answer(5, server.answer(*r), Time{1}).value());
    EXPECT_EQ(book.latest()->number, 300u);
    EXPECT_FALSE(poll.request(2, Time{2})) << "waits its interval";

    r = poll.request(3, Time{0} + 6s);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->first, 300u + 1 - 32);  // the window's oldest missing number
    EXPECT_EQ(r->count, 32u);            // up to the latest, held already: the answer lists it too
    poll.sent_to(5);
    const auto taken = poll.on_answer(5, server.answer(*r), Time{0} + 7s);
    ASSERT_TRUE(taken && *taken);
    EXPECT_EQ(**taken, 31u);
    for (uint64_t n = 269; n <= 300; ++n) EXPECT_EQ(book.root(n), root_of(n)) << n;
    // The window complete: a full answer asks again at once, for what comes after the latest.
    r = poll.request(4, Time{0} + 7s);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->first, 301u);
    EXPECT_EQ(r->count, proto::kMaxHeadersPerRequest);
}

TEST(HeaderPoll, ALateOrForeignAnswerIsIgnoredAndAForgedOneIsRefused) {
    const HeaderBook server = serving_book(10);
    HeaderBook book{testing::test_key(99).public_key, 32};
    HeaderPoll poll{book};
    auto r = poll.request(7, Time{0});
    ASSERT_TRUE(r);
    poll.sent_to(5);
    EXPECT_FALSE(poll.on_answer(6, server.answer(*r), Time{1})) << "not the peer asked";
    auto wrong_id = server.answer(*r);
    wrong_id.request_id = 8;
    EXPECT_FALSE(poll.on_answer(5, wrong_id, Time{1}));
    // Signed by another key.
    HeaderBook forger{testing::test_key(98).public_key, 32};
    ASSERT_TRUE(forger.accept(encode(sign_header(testing::test_key(98), Header{10, root_of(10)}))));
    const auto refused = poll.on_answer(5, forger.answer(*r), Time{1});
    ASSERT_TRUE(refused);
    EXPECT_FALSE(*refused);
    EXPECT_EQ(refused->error(), HeaderRejection::kBadSignature);
    EXPECT_EQ(book.size(), 0u);
}

TEST(HeaderPoll, AnUnansweredRequestIsGivenUpAtItsTimeoutAndAGonePeerEndsIt) {
    HeaderBook book{testing::test_key(99).public_key, 32};
    HeaderPoll poll{book};
    ASSERT_TRUE(poll.request(1, Time{0}));
    poll.sent_to(5);
    EXPECT_FALSE(poll.request(2, Time{0} + 9s)) << "one outstanding";
    EXPECT_EQ(poll.next_deadline(), Time{0} + 10s);
    EXPECT_TRUE(poll.request(3, Time{0} + 10s)) << "timed out: asked again";
    poll.sent_to(6);
    poll.on_peer_gone(5, Time{0} + 11s);  // not the one asked now
    EXPECT_FALSE(poll.request(4, Time{0} + 11s));
    poll.on_peer_gone(6, Time{0} + 11s);
    EXPECT_TRUE(poll.request(5, Time{0} + 11s));
}

TEST(HeaderPoll, PumpNumbersItsRequestsAndAsksThePeersInTurn) {
    const HeaderBook server = serving_book(10);
    HeaderBook book{testing::test_key(99).public_key, 32};
    HeaderPoll poll{book};
    std::vector<std::pair<proto::PeerId, proto::GetHeaders>> sent;
    const auto send = [&sent](proto::PeerId to, Bytes frame) {
        auto request = proto::decode_get_headers(frame);
        EXPECT_TRUE(request);
        if (request) sent.emplace_back(to, *request);
        return true;
    };
    EXPECT_FALSE(poll.pump(Time{0}, {}, send)) << "nobody to ask";
    EXPECT_TRUE(sent.empty());
    const std::vector<proto::PeerId> peers{5, 6, 7};
    ASSERT_TRUE(poll.pump(Time{0}, peers, send));
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].first, 5u);
    EXPECT_EQ(sent[0].second.request_id, 1u);
    EXPECT_FALSE(poll.pump(Time{1}, peers, send)) << "one outstanding";
    // Recorded as sent to 5: only 5's answer is taken.
    EXPECT_FALSE(poll.on_answer(6, server.answer(sent[0].second), Time{1}));
    ASSERT_TRUE(poll.on_answer(5, server.answer(sent[0].second), Time{1}).value());
    EXPECT_EQ(book.latest()->number, 10u);
    // The next goes after the interval, to the next peer, with the next id; then round to the first.
    EXPECT_FALSE(poll.pump(Time{0} + 5s, peers, send));
    ASSERT_TRUE(poll.pump(Time{0} + 6s, peers, send));
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(sent[1].first, 6u);
    EXPECT_EQ(sent[1].second.request_id, 2u);
    poll.on_peer_gone(6, Time{0} + 7s);
    ASSERT_TRUE(poll.pump(Time{0} + 7s, peers, send));
    poll.on_peer_gone(7, Time{0} + 7s);
    ASSERT_TRUE(poll.pump(Time{0} + 7s, peers, send));
    ASSERT_EQ(sent.size(), 4u);
    EXPECT_EQ(sent[2].first, 7u);
    EXPECT_EQ(sent[3].first, 5u);
    EXPECT_EQ(sent[3].second.request_id, 4u);
}

}  // namespace
}  // namespace carousel::mgr
