// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "status_file.hpp"

#include <fstream>

#include <gtest/gtest.h>

#include <carousel/testing/temp_dir.hpp>

namespace carousel::node {
namespace {

TEST(StatusFile, ReadsBackWhatWasLastWritten) {
    const store::TempDir dir{"carousel-status-"};
    const auto path = dir.path() / "status.json";
    EXPECT_FALSE(read_status(path));  // not there yet
    ASSERT_TRUE(write_status(path, {{"block", 1}, {"filled", false}}));
    ASSERT_TRUE(write_status(path, {{"block", 2}, {"filled", true}}));
    const auto status = read_status(path);
    ASSERT_TRUE(status) << status.error();
    EXPECT_EQ((*status)["block"], 2);
    EXPECT_EQ((*status)["filled"], true);
    // No temporary file is left behind.
    std::size_t files = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator{dir.path()}) ++files;
    EXPECT_EQ(files, 1u);
}

TEST(StatusFile, RefusesWhatIsNotOneObject) {
    const store::TempDir dir{"carousel-status-"};
    const auto path = dir.path() / "status.json";
    for (const char* text : {"", "[1, 2]", "{\"block\": ", "17"}) {
        std::ofstream{path, std::ios::trunc} << text;
        const auto status = read_status(path);
        ASSERT_FALSE(status) << text;
        EXPECT_NE(status.error().find("not a status file"), std::string::npos) << status.error();
    }
    std::ofstream{path, std::ios::trunc} << std::string(kMaxStatusBytes + 1, ' ');
    EXPECT_NE(read_status(path).error().find("too large"), std::string::npos);
    // A directory that does not exist cannot take one.
    EXPECT_FALSE(write_status(dir.path() / "missing" / "status.json", {{"block", 1}}));
}

}  // namespace
}  // namespace carousel::node
