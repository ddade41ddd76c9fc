// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "peer_pool.hpp"

#include <set>
#include <vector>

#include <gtest/gtest.h>

namespace carousel::dht {
namespace {

using namespace std::chrono_literals;
using proto::Time;

std::vector<Contact> contacts(std::initializer_list<proto::PeerId> peers) {
    std::vector<Contact> out;
    for (proto::PeerId p : peers) out.push_back(Contact{NodeId{}, p, Radius{}});
    return out;
}

PeerPoolOptions window_options() {
    PeerPoolOptions o;
    o.initial_window = 4;
    o.min_window = 1;
    o.max_window = 6;
    o.quick_answer = 100ms;
    o.request_timeout = 1s;
    return o;
}

// Standing options: banned at `ban_standing`, for `ban_time` (0: for good), standing up to 8.
PeerPoolOptions standing_options(int ban_standing, Time ban_time = Time{0}) {
    PeerPoolOptions o;
    o.ban_standing = ban_standing;
    o.max_standing = 8;
    o.ban_time = ban_time;
    return o;
}

TEST(PeerPool, IdsAreUniqueFromTheFirst) {
    PeerPoolOptions o;
    o.first_request_id = 1000;
    PeerPool pool{o};
    std::set<uint64_t> ids;
    for (int i = 0; i < 100; ++i) ids.insert(pool.next_id());
    EXPECT_EQ(ids.size(), 100u);
    EXPECT_EQ(*ids.begin(), 1000u);
}

TEST(PeerPool, WindowGrowsWithQuickAnswersUpToItsCap) {
    PeerPool pool{window_options()};
    pool.add(1);
    EXPECT_EQ(pool.peers().at(1).window, 4u);
    for (int i = 0; i < 5; ++i) {
        const auto t = pool.issue(pool.next_id(), 1, Time{0});
        pool.answered(t, 50ms, 100);
    }
    EXPECT_EQ(pool.peers().at(1).window, 6u);  // 4 + 5, capped at max_window
    // A slow answer does not grow it.
    PeerPoolOptions o = window_options();
    o.max_window = 100;
    PeerPool slow{o};
    slow.add(1);
    const auto t = slow.issue(slow.next_id(), 1, Time{0});
    slow.answered(t, 200ms, 100);
    EXPECT_EQ(slow.peers().at(1).window, 4u);
}

TEST(PeerPool, WindowHalvesAtTimeoutsAndFallsAtAHedge) {
    PeerPool pool{window_options()};
    pool.add(1);
    auto t = pool.issue(pool.next_id(), 1, Time{0});
    pool.timed_out(t);
    EXPECT_EQ(pool.peers().at(1).window, 2u);
    t = pool.issue(pool.next_id(), 1, Time{0});
    pool.timed_out(t);
    t = pool.issue(pool.next_id(), 1, Time{0});
    pool.timed_out(t);
    EXPECT_EQ(pool.peers().at(1).window, 1u);  // never below min_window
    pool.add(2);
    pool.hedge(2);
    EXPECT_EQ(pool.peers().at(2).window, 1u);
}

TEST(PeerPool, RoomFollowsTheWindow) {
    PeerPool pool{window_options()};
    pool.add(1);
    std::vector<PeerPool::Ticket> tickets;
    while (pool.has_room(1, Time{0})) tickets.push_back(pool.issue(pool.next_id(), 1, Time{0}));
    EXPECT_EQ(tickets.size(), 4u);
    EXPECT_EQ(pool.peers().at(1).in_flight, 4u);
    EXPECT_EQ(pool.in_flight(), 4u);
    pool.failed(tickets.back());
    EXPECT_TRUE(pool.has_room(1, Time{0}));
    EXPECT_FALSE(pool.has_room(2, Time{0}));  // not connected
}

TEST(PeerPool, RttTimeoutFollowsTheMeasuredRoundTrip) {
    PeerPoolOptions o = window_options();
    o.request_timeout = 10s;
    o.rtt_scaling = 3;
    o.min_rtt_timeout = 100ms;
    o.initial_rtt = 250ms;
    PeerPool pool{o};
    pool.add(1);
    pool.add(2);
    EXPECT_EQ(pool.rtt_timeout(1), 750ms);  // nothing measured: initial_rtt
    EXPECT_FALSE(pool.best_rtt_timeout());
    pool.measure(1, 1s);
    EXPECT_EQ(pool.rtt_timeout(1), 3s);
    EXPECT_EQ(pool.rtt_timeout(2), 3s);  // not measured: the median of the others
    pool.measure(1, 2s);                 // a quarter of the new sample
    EXPECT_EQ(pool.rtt_timeout(1), 3750ms);
    pool.measure(2, 10ms);
    EXPECT_EQ(pool.rtt_timeout(2), 100ms);  // at least min_rtt_timeout
    EXPECT_EQ(pool.best_rtt_timeout(), 100ms);
    pool.measure(1, 60s);
    EXPECT_EQ(pool.rtt_timeout(1), 10s);  // at most request_timeout
}

TEST(PeerPool, QueueDeadlinesFollowTheReceiveRate) {
    PeerPoolOptions o;
    o.request_timeout = 5s;
    o.queue_deadlines = true;
    o.min_rate = 1000;
    PeerPool pool{o};
    pool.add(1);
    // The first request: nothing measured, min_rate; its own budget counts.
    const auto a = pool.issue(pool.next_id(), 1, Time{0}, 2000);
    EXPECT_EQ(a.deadline, 7s);
    // The budgets in flight come first.
    const auto b = pool.issue(pool.next_id(), 1, Time{0}, 3000);
    EXPECT_EQ(b.deadline, 10s);
    // 100 KB in 10 s: 10 KB/s.
    pool.received(100'000);
    pool.answered(a, 10s, 2000);
    const auto c = pool.issue(pool.next_id(), 1, 10s, 17'000);
    EXPECT_EQ(c.deadline, 10s + 5s + 2s);  // (3000 + 17000) / 10000 per second
}

TEST(PeerPool, LinkWindowSlowStartsAndHalvesAtTimeouts) {
    PeerPoolOptions o;
    o.link_window = 64 * 1024;
    o.max_link_window = 1024 * 1024;
    o.queue_target = 10s;
    o.min_budget = 1024;
    o.max_budget = 1024 * 1024;
    PeerPool pool{o};
    pool.add(1);
    EXPECT_EQ(pool.next_budget(), 16u * 1024);
    const auto a = pool.issue(pool.next_id(), 1, Time{0}, pool.next_budget());
    EXPECT_TRUE(pool.link_open(48 * 1024));
    EXPECT_FALSE(pool.link_open(48 * 1024 + 1));
    // 64 KB arrived in 1 s: the cap is 640 KB, and the window grows by the answer.
    pool.received(64 * 1024);
    pool.answered(a, 1s, 32 * 1024);
    EXPECT_EQ(pool.next_budget(), 24u * 1024);
    const auto b = pool.issue(pool.next_id(), 1, 1s, 1024);
    pool.timed_out(b);
    EXPECT_EQ(pool.next_budget(), 12u * 1024);
    // Nothing in flight: any request fits.
    EXPECT_TRUE(pool.link_open(10 * 1024 * 1024));
}

TEST(PeerPool, SmallReservationsFollowTheirAnswers) {
    PeerPoolOptions o;
    o.link_window = 1024 * 1024;
    o.min_budget = 1024;
    o.max_budget = 256 * 1024;
    PeerPool pool{o};
    pool.add(1);
    EXPECT_EQ(pool.small_reserve(), 64u * 1024);  // a quarter of a budget at least
    const auto t = pool.issue(pool.next_id(), 1, Time{0}, pool.next_budget(), /*small=*/true);
    EXPECT_EQ(t.reserved, 64u * 1024);
    EXPECT_EQ(t.budget, 256u * 1024);
    pool.answered(t, 1ms, 1'000'000);  // (7 * 4096 + 1e6) / 8
    EXPECT_EQ(pool.small_reserve(), 2u * ((7 * 4096 + 1'000'000) / 8));
}

TEST(PeerPool, StrikesLeadToABanForGoodByDefault) {
    PeerPool pool{standing_options(-2)};
    pool.add(1);
    EXPECT_FALSE(pool.strike(1));
    EXPECT_FALSE(pool.banned(1));
    EXPECT_TRUE(pool.strike(1));
    EXPECT_TRUE(pool.banned(1));
    EXPECT_FALSE(pool.strike(1));  // banned once
    EXPECT_FALSE(pool.has_room(1, Time{0}));
    EXPECT_FALSE(pool.usable(1, 1000h));
    EXPECT_EQ(pool.bans(1), 1u);
}

TEST(PeerPool, RewardsOffsetStrikesUpToACap) {
    PeerPool pool{standing_options(-8)};
    for (int i = 0; i < 20; ++i) pool.reward(1);
    EXPECT_EQ(pool.standing(1), 8);
    EXPECT_FALSE(pool.strike(1, 15));
    EXPECT_TRUE(pool.strike(1, 1));
}

TEST(PeerPool, BansExpireAndBackOff) {
    PeerPool pool{standing_options(-1, 10s)};
    pool.add(1);
    (void)pool.issue(pool.next_id(), 1, Time{0});  // the pool's clock: 0
    EXPECT_TRUE(pool.strike(1));
    EXPECT_FALSE(pool.usable(1, 9s));
    EXPECT_TRUE(pool.usable(1, 10s));  // the first ban: 10 s
    pool.clear_pauses(10s);            // the clock moves on
    EXPECT_FALSE(pool.banned(1));
    EXPECT_EQ(pool.standing(1), 0);  // back with standing zero
    EXPECT_TRUE(pool.strike(1));
    EXPECT_FALSE(pool.usable(1, 29s));
    EXPECT_TRUE(pool.usable(1, 30s));  // the second: 20 s
    pool.clear_pauses(30s);
    EXPECT_TRUE(pool.strike(1));
    EXPECT_FALSE(pool.usable(1, 69s));
    EXPECT_TRUE(pool.usable(1, 70s));  // the third: 40 s
    EXPECT_EQ(pool.bans(1), 3u);
}

TEST(PeerPool, StandingOutlivesConnectionsAndCarriesOver) {
    PeerPool pool{standing_options(-4)};
    pool.add(1);
    pool.strike(1, 3);
    pool.remove(1);
    EXPECT_EQ(pool.standing(1), -3);
    pool.add(2);
    pool.reward(2);
    EXPECT_FALSE(pool.carry_standing(1, 2));  // -3 + 1
    EXPECT_EQ(pool.standing(2), -2);
    EXPECT_EQ(pool.standing(1), 0);  // forgotten
    pool.strike(2, 1);
    pool.add(3);
    pool.strike(3, 1);
    EXPECT_TRUE(pool.carry_standing(2, 3));  // -3 + -1: banned
    EXPECT_TRUE(pool.banned(3));
}

TEST(PeerPool, PausedPeersWaitAndTheirResumeIsADeadline) {
    PeerPool pool{window_options()};
    pool.add(1);
    pool.add(2);
    pool.pause(1, 5s);
    pool.pause(2, 3s);
    pool.pause(3, 1s);  // not connected: no deadline
    EXPECT_FALSE(pool.has_room(1, 4s));
    EXPECT_TRUE(pool.has_room(1, 5s));
    EXPECT_EQ(pool.next_resume(), 3s);
    pool.clear_pauses(3s);
    EXPECT_EQ(pool.next_resume(), 5s);
    pool.clear_pauses(5s);
    EXPECT_FALSE(pool.next_resume());
}

TEST(PeerPool, ChoosesTheLeastLoadedUsableCoveringPeer) {
    PeerPoolOptions o = window_options();
    o.ban_standing = -1;
    PeerPool pool{o};
    for (proto::PeerId p = 1; p <= 4; ++p) pool.add(p);
    (void)pool.issue(pool.next_id(), 1, Time{0});
    (void)pool.issue(pool.next_id(), 1, Time{0});
    (void)pool.issue(pool.next_id(), 2, Time{0});
    pool.strike(3);      // banned
    pool.pause(4, 10s);  // behind
    auto c = pool.choose(contacts({1, 2, 3, 4, 5}), Time{0});
    EXPECT_EQ(c.peer, 2u);  // 5 is not connected
    EXPECT_TRUE(c.usable);
    // An avoided peer only when no other will do, however loaded the others are.
    c = pool.choose(contacts({1, 2}), Time{0}, {2});
    EXPECT_EQ(c.peer, 1u);
    c = pool.choose(contacts({2}), Time{0}, {2});
    EXPECT_EQ(c.peer, 2u);
    // The first of equals.
    (void)pool.issue(pool.next_id(), 2, Time{0});
    c = pool.choose(contacts({2, 1}), Time{0});
    EXPECT_EQ(c.peer, 2u);
    // None usable: banned, paused, not connected.
    c = pool.choose(contacts({3, 4, 5}), Time{0});
    EXPECT_FALSE(c.peer);
    EXPECT_FALSE(c.usable);
    // Usable but every window full: none chosen, yet the candidates are usable.
    while (pool.has_room(1, Time{0})) (void)pool.issue(pool.next_id(), 1, Time{0});
    c = pool.choose(contacts({1}), Time{0});
    EXPECT_FALSE(c.peer);
    EXPECT_TRUE(c.usable);
    // Once the pause ends, 4 is chosen.
    EXPECT_EQ(pool.choose(contacts({1, 4}), 10s).peer, 4u);
}

TEST(PeerPool, WithoutConnectionsAnyNamedPeerIsUsable) {
    PeerPoolOptions o = window_options();
    o.require_connection = false;
    o.initial_window = 2;
    PeerPool pool{o};
    EXPECT_EQ(pool.choose(contacts({7}), Time{0}).peer, 7u);
    (void)pool.issue(pool.next_id(), 7, Time{0});
    (void)pool.issue(pool.next_id(), 7, Time{0});
    // Known once asked: its window counts.
    const auto c = pool.choose(contacts({7}), Time{0});
    EXPECT_FALSE(c.peer);
    EXPECT_TRUE(c.usable);
    EXPECT_EQ(pool.in_flight(), 2u);
}

}  // namespace
}  // namespace carousel::dht
