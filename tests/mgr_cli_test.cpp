// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// The Merry-Go-Round process commands on bad input: one line naming the problem, exit code 1,
// nothing on stdout (`carousel node`, `bridge`, `testnet`, `sync --mgr`).
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include <carousel/testing/temp_dir.hpp>

#include "child_process.hpp"
#include "cli_runner.hpp"

namespace carousel::test {
namespace {

// EIP-778's example record (127.0.0.1, UDP 30303): a well-formed bootnode nobody answers for.
constexpr const char* kExampleEnr =
    "enr:-"
    "IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4MHcBFZntXNFrdvJjX04jRzjzCBOonrkTfj499SZuOh8R33Ls8RRcy5wBgmlkgnY0gmlwhH8AAAG"
    "Jc2VjcDI1NmsxoQPKY0yuDUmstAHYpMa2_oxVtw0RW_QAdpzBQA8yWM0xOIN1ZHCCdl8";
// A valid compressed public key (the example record's).
constexpr const char* kKey = "0x03ca634cae0d49acb401d8a4c6b6fe8c55b70d115bf400769cc1400f3258cd3138";

void expect_one_line_error(const RunResult& r, const std::string& who, const std::string& what) {
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.out, "");
    ASSERT_FALSE(r.err.empty());
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "more than one line: " << r.err;
    EXPECT_EQ(r.err.rfind(who + ": ", 0), 0U) << r.err;
    EXPECT_NE(r.err.find(what), std::string::npos) << r.err;
}

TEST(CliMgr, NodeNamesEachBadArgument) {
    const store::TempDir dir;
    const std::string datadir = shell_quote((dir.path() / "node").string());
    const std::string base = "node --datadir " + datadir + " ";
    expect_one_line_error(run_carousel(base + "--bootnode " + kExampleEnr + " --trust-bridge 0x1234"), "carousel node",
                          "--trust-bridge 0x1234: expected 0x and 66 hex digits");
    expect_one_line_error(run_carousel(base + "--bootnode enr:-IS4QHCY --trust-bridge " + kKey), "carousel node",
                          "--bootnode enr:-IS4QHCY");
    expect_one_line_error(
        run_carousel(base + "--bootnode " + kExampleEnr + " --trust-bridge " + kKey + " --listen localhost:1"),
        "carousel node", "--listen localhost:1");
}

TEST(CliMgr, NodeRefusesADatadirOfAnotherBlock) {
    const store::TempDir dir;
    const std::string datadir = (dir.path() / "node").string();
    {
        // A first start writes the node record (its block: one region of 2^252 keys), then stops.
        Child node({"node", "--datadir", datadir, "--bootnode", kExampleEnr, "--trust-bridge", kKey}, STDOUT_FILENO,
                   dir.path() / "node.err");
        ASSERT_NE(node.first_line().find("listening on"), std::string::npos) << node.first_line();
        EXPECT_EQ(node.stop(), 0);
    }
    expect_one_line_error(run_carousel("node --datadir " + shell_quote(datadir) + " --bootnode " + kExampleEnr +
                                       " --trust-bridge " + kKey + " --radius-bits 254"),
                          "carousel node", "holds a node of block");
}

TEST(CliMgr, BridgeAndTestnetNameAMissingChain) {
    const store::TempDir dir;
    const std::string missing = shell_quote((dir.path() / "no-chain").string());
    expect_one_line_error(
        run_carousel("bridge --chain " + missing + " --datadir " + shell_quote((dir.path() / "b").string())),
        "carousel bridge", "no-chain");
    expect_one_line_error(
        run_carousel("testnet --chain " + missing + " --dir " + shell_quote((dir.path() / "t").string())),
        "carousel testnet", "no chain.json");
}

TEST(CliMgr, SyncTellsPrefixAndMgrFlagsApart) {
    const store::TempDir dir;
    const std::string db = " --db " + shell_quote((dir.path() / "db").string());
    expect_one_line_error(run_carousel("sync" + db), "carousel sync", "--peer and --root are required");
    expect_one_line_error(run_carousel("sync --mgr --peer 127.0.0.1:1" + db), "carousel sync",
                          "--peer and --root are for prefix sync");
    expect_one_line_error(run_carousel("sync --mgr --trust-bridge " + std::string{kKey} + db), "carousel sync --mgr",
                          "give at least one --bootnode");
    expect_one_line_error(
        run_carousel("sync --mgr --bootnode " + std::string{kExampleEnr} + " --trust-bridge 0x00" + db),
        "carousel sync --mgr", "--trust-bridge 0x00");
}

TEST(CliMgr, SimulateNamesAnUnknownEngine) {
    expect_one_line_error(run_carousel("simulate mgr --engine foo"), "carousel simulate mgr",
                          "--engine must be localnet or simgrid, not 'foo'");
}

}  // namespace
}  // namespace carousel::test
