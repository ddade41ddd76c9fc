// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// End to end: `carousel bench trie` and `carousel demo` give the right roots.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_runner.hpp"

namespace carousel::test {
namespace {

// The synthetic account set's root (account i: key keccak256(uint64_be(i)), value
// RLP([i, i, EMPTY_TRIE_ROOT, EMPTY_CODE_HASH])). Expected value computed with @ethereumjs/mpt 10
// (npm), inserting the same 20,000 accounts one by one.
constexpr const char* kSynthetic20kRoot = "0xde6395925ecae4ba0c9b3ce7746a5f4b282f0f3d36fc091bf49c6631eb414413";

TEST(CliBenchTrie, RootMatchesAnIndependentImplementation) {
    const RunResult r = run_carousel("bench trie --accounts 20000 --json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["root"], kSynthetic20kRoot);
    EXPECT_EQ(j["accounts"], 20000);
    EXPECT_GT(j["keccak_permutations"].get<uint64_t>(), 20000U);
    EXPECT_GT(j["hash_builder_s"].get<double>(), 0.0);
    EXPECT_GT(j["trie_s"].get<double>(), 0.0);
}

TEST(CliBenchTrie, RejectsBadCounts) {
    EXPECT_NE(run_carousel("bench trie --accounts 0").exit_code, 0);
    EXPECT_NE(run_carousel("bench trie --accounts lots").exit_code, 0);
}

TEST(CliDemo, ShowsRootsAndAVerifiedPrefixSync) {
    const RunResult r = run_carousel("demo --accounts 20000 --sync-accounts 2000 --json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["prefix_sync"]["verified"], true);
    EXPECT_EQ(j["prefix_sync"]["accounts"], 2000);
    EXPECT_EQ(j["mainnet_genesis"]["root"], "0xd7f8974fb5ac78d9ac099b9ad5018bedc2ce0a72dad1827a1709da30580f0544");
    EXPECT_EQ(j["mainnet_genesis"]["matches"], true);
    EXPECT_EQ(j["synthetic"]["root"], kSynthetic20kRoot);
}

TEST(CliDemo, MissingGenesisIsOneClearLine) {
    const RunResult r = run_carousel("demo --genesis /nonexistent/genesis.json");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("/nonexistent/genesis.json"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace carousel::test
