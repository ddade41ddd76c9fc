// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "fork_join.hpp"

#include <thread>

#include <gtest/gtest.h>

#include "keccak.hpp"

namespace carousel {
namespace {

// Both tasks run, the caller's on the caller, the other on the helper (or the caller, without one),
// and the helper's Keccak permutations count as the caller's.
TEST(ForkJoin, RunsBothTasksAndCountsTheHelpersHashing) {
    const Bytes one_block(100, 0x11);
    const Bytes two_blocks(200, 0x22);
    for (const bool helper : {false, true}) {
        ForkJoin fork{helper};
        if (!helper) {
            EXPECT_FALSE(fork.parallel());
        }
        for (int i = 0; i < 200; ++i) {
            std::thread::id mine;
            std::thread::id theirs;
            Hash a{};
            Hash b{};
            const uint64_t p0 = keccak_permutations();
            fork.run(
                [&] {
                    mine = std::this_thread::get_id();
                    a = keccak256(one_block);
                },
                [&] {
                    theirs = std::this_thread::get_id();
                    b = keccak256(two_blocks);
                });
            ASSERT_EQ(a, keccak256(one_block));
            ASSERT_EQ(b, keccak256(two_blocks));
            ASSERT_EQ(keccak_permutations() - p0, 1U + 2U + 1U + 2U);  // the tasks' 3, then the checks' 3
            ASSERT_EQ(mine, std::this_thread::get_id());
            if (fork.parallel()) {
                ASSERT_NE(theirs, mine);
            } else {
                ASSERT_EQ(theirs, mine);
            }
        }
    }
}

}  // namespace
}  // namespace carousel
