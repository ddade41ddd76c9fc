// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include <gtest/gtest.h>

#include <carousel/core/assert.hpp>

namespace carousel {
namespace {

TEST(Assert, HoldsQuietly) {
    int evaluated = 0;
    CAROUSEL_ASSERT(++evaluated == 1, "the condition is evaluated once");
    EXPECT_EQ(evaluated, 1);
}

// The death test runs in Release too: the check is not compiled out by -DNDEBUG.
TEST(AssertDeathTest, FailingPrintsFileLineAndMessageThenAborts) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    const int keys = 2;
    EXPECT_DEATH(CAROUSEL_ASSERT(keys < 1, "keys must be strictly increasing"),
                 "assert_test\\.cpp:[0-9]+: assertion `keys < 1` failed: keys must be strictly increasing");
}

}  // namespace
}  // namespace carousel
