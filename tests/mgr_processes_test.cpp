// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// Merry-Go-Round as processes (issue 20): `carousel testnet` starts a bridge and eight `carousel node`
// processes on loopback, one of them dishonest (--test-corrupt-nodes); a `carousel sync --mgr` client
// syncs from them and follows the head while two nodes are killed with SIGKILL and started again by
// the testnet on their datadirs 7 s (3 to 4 blocks) later, catching up by the items they missed. The
// client's final (block, root) must be the chain's.
#include <chrono>
#include <csignal>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <carousel/testing/temp_dir.hpp>

#include "child_process.hpp"
#include "cli_runner.hpp"

namespace carousel::test {
namespace {

std::optional<nlohmann::json> read_json(const std::filesystem::path& p) {
    try {
        return nlohmann::json::parse(read_file(p));
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

// Waits up to `seconds` for `done` to hold, checking every 200 ms.
template <typename Pred>
bool wait_until(double seconds, Pred done) {
    const auto give_up =
        std::chrono::steady_clock::now() + std::chrono::milliseconds{static_cast<int64_t>(seconds * 1000)};
    while (std::chrono::steady_clock::now() < give_up) {
        if (done()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds{200});
    }
    return done();
}

TEST(MgrProcesses, AClientSyncsFromATestnetThroughKilledNodesAndALiar) {
    const store::TempDir dir{"carousel-mgr-processes-"};
    const std::filesystem::path chain = dir.path() / "chain";
    const RunResult gen = run_carousel(
        "gen --accounts 2000 --blocks 400 --accounts-per-block 20 --slots-per-block 20 "
        "--seed 20 --no-db --json --out " +
        shell_quote(chain.string()));
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    const auto chain_index = read_json(chain / "chain.json");
    ASSERT_TRUE(chain_index.has_value());

    const std::filesystem::path work = dir.path() / "testnet";
    Child testnet(
        {"testnet", "--chain", chain.string(), "--nodes", "8", "--dir", work.string(), "--block-time", "2", "--epoch",
         "16", "--fill-timeout", "300", "--restart-after", "7", "--test-corrupt-nodes", "1", "--json"},
        STDOUT_FILENO, dir.path() / "testnet.err");
    nlohmann::json ready;
    try {
        ready = nlohmann::json::parse(testnet.first_line());
    } catch (const std::exception&) {
        FAIL() << "testnet did not start: " << read_file(dir.path() / "testnet.err");
    }
    ASSERT_TRUE(ready.contains("bootnodes") && ready.contains("bridge")) << ready.dump();
    const std::string bootnode = ready["bootnodes"][0].get<std::string>();
    const std::string bridge = ready["bridge"].get<std::string>();

    // The client, in the background.
    Child client({"sync", "--mgr", "--bootnode", bootnode, "--trust-bridge", bridge, "--epoch", "16", "--db",
                  (dir.path() / "client").string(), "--follow", "8", "--timeout", "400", "--json"},
                 STDOUT_FILENO, dir.path() / "client.err", /*wait_for_first_line=*/false);

    // Two honest nodes are killed mid-run; the testnet starts them again on their datadirs.
    std::this_thread::sleep_for(std::chrono::seconds{3});
    std::vector<int> killed_pids;
    for (const int i : {1, 2}) {
        const auto status = read_json(work / ("node-" + std::to_string(i)) / "status.json");
        ASSERT_TRUE(status.has_value());
        const int pid = (*status)["pid"].get<int>();
        ASSERT_EQ(::kill(pid, SIGKILL), 0);
        killed_pids.push_back(pid);
    }

    const int client_code = client.signal_and_wait(0);
    const std::string out = client.rest();
    ASSERT_EQ(client_code, 0) << out << read_file(dir.path() / "client.err");
    const auto result = nlohmann::json::parse(out);
    const uint64_t block = result["block"].get<uint64_t>();
    ASSERT_LT(block, (*chain_index)["blocks"].size());
    EXPECT_EQ(result["root"].get<std::string>(), (*chain_index)["blocks"][block]["root"].get<std::string>());
    EXPECT_GE(result["followed"].get<uint64_t>(), 8U);
    // The state is spread over the nodes: the walk took answers from several of them.
    EXPECT_GE(result["stats"]["peers_used"].get<uint64_t>(), 2U);

    // The killed nodes came back on their datadirs and are current again, having caught up (storage
    // included) from the items their neighbours keep rather than refilling every store.
    uint64_t items_applied = 0;
    std::string resumes;
    for (std::size_t k = 0; k < killed_pids.size(); ++k) {
        const auto path = work / ("node-" + std::to_string(k + 1)) / "status.json";
        EXPECT_TRUE(wait_until(120, [&] {
            const auto s = read_json(path);
            return s && (*s)["pid"].get<int>() != killed_pids[k] && s->value("reopened", false) &&
                   s->value("filled", false);
        })) << read_file(path);
        if (const auto s = read_json(path); s && s->contains("resume")) {
            items_applied += (*s)["resume"]["catch_up"]["items_applied"].get<uint64_t>();
            resumes += (*s)["resume"].dump() + "\n";
        }
    }
    EXPECT_GT(items_applied, 0U) << resumes;
    // The liar (the last node) was caught by someone who checked its answers: the client, a filling
    // node or a resuming one.
    uint64_t rejected = result["stats"]["rejected_answers"].get<uint64_t>();
    for (int i = 0; i < 8; ++i) {
        const auto s = read_json(work / ("node-" + std::to_string(i)) / "status.json");
        if (s && s->contains("join")) rejected += (*s)["join"]["rejected_answers"].get<uint64_t>();
        if (s && s->contains("resume")) {
            rejected += (*s)["resume"]["rejected_answers"].get<uint64_t>() +
                        (*s)["resume"]["catch_up"]["rejected_answers"].get<uint64_t>();
        }
    }
    EXPECT_GT(rejected, 0U);
    EXPECT_EQ(testnet.stop(), 0) << read_file(dir.path() / "testnet.err");
}

}  // namespace
}  // namespace carousel::test
