// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "process_group.hpp"

#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include <carousel/testing/temp_dir.hpp>

#include <unistd.h>

namespace carousel::node {
namespace {

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in{path};
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// Polls until process i has ended (at most 10 s).
bool ended(ProcessGroup& group, std::size_t i) {
    for (int k = 0; k < 500; ++k) {
        if (!group.poll(i)) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
    return false;
}

TEST(ProcessGroup, RunsLogsAndReportsExitCodes) {
    const store::TempDir dir{"carousel-group-"};
    ProcessGroup group{"/bin/sh"};
    const auto log = dir.path() / "a.log";
    auto a = group.start({"a", {"-c", "echo out; echo err >&2; exit 3"}, log});
    ASSERT_TRUE(a) << a.error();
    ASSERT_TRUE(ended(group, *a));
    EXPECT_EQ(group.exit_code(*a), 3);
    EXPECT_EQ(read_file(log), "out\nerr\n");
    // A restart appends to the same log.
    ASSERT_TRUE(group.restart(*a));
    ASSERT_TRUE(ended(group, *a));
    EXPECT_EQ(read_file(log), "out\nerr\nout\nerr\n");
    // A log that cannot be opened is named.
    auto bad = group.start({"bad", {"-c", "true"}, dir.path() / "missing" / "x.log"});
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().find("bad: "), std::string::npos);
    EXPECT_EQ(group.size(), 1u);
}

TEST(ProcessGroup, KillsRestartsAndStopsWhatIgnoresSigterm) {
    const store::TempDir dir{"carousel-group-"};
    ProcessGroup group{"/bin/sh"};
    auto sleeper = group.start({"sleeper", {"-c", "exec sleep 30"}, dir.path() / "s.log"});
    const auto stubborn_log = dir.path() / "t.log";
    auto stubborn =
        group.start({"stubborn", {"-c", "trap '' TERM; echo ready; sleep 30 & wait; sleep 30"}, stubborn_log});
    ASSERT_TRUE(sleeper && stubborn);
    EXPECT_TRUE(group.poll(*sleeper));
    EXPECT_EQ(::getpgid(group.pid(*sleeper)), group.pid(*sleeper));  // its own process group
    EXPECT_FALSE(group.restart(*sleeper));                           // still running
    ASSERT_TRUE(group.signal(*sleeper, SIGKILL));
    ASSERT_TRUE(ended(group, *sleeper));
    EXPECT_EQ(group.exit_code(*sleeper), 128 + SIGKILL);
    EXPECT_FALSE(group.signal(*sleeper, SIGKILL));  // gone
    ASSERT_TRUE(group.restart(*sleeper));
    EXPECT_TRUE(group.poll(*sleeper));
    // SIGTERM before the trap is set would end it: wait until it says it ignores it.
    for (int k = 0; k < 500 && read_file(stubborn_log).empty(); ++k)
        std::this_thread::sleep_for(std::chrono::milliseconds{10});
    ASSERT_EQ(read_file(stubborn_log), "ready\n");
    const auto t0 = std::chrono::steady_clock::now();
    group.stop_all(std::chrono::milliseconds{300});
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds{5});
    EXPECT_EQ(group.exit_code(*sleeper), 128 + SIGTERM);
    EXPECT_EQ(group.exit_code(*stubborn), 128 + SIGKILL);  // ignored SIGTERM: killed after the grace
}

}  // namespace
}  // namespace carousel::node
