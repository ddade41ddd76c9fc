// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// End to end over real processes: `carousel gen` writes a state, two `carousel serve` processes
// serve it on loopback, `carousel sync` syncs it over TCP — once straight through, once killed with
// SIGKILL halfway and run again, which resumes.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <carousel/core/hex.hpp>
#include <carousel/state/state_diff.hpp>
#include <carousel/store/temp_dir.hpp>

#include "child_process.hpp"
#include "cli_runner.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace carousel::test {
namespace {

namespace fs = std::filesystem;

struct Network {
    store::TempDir dir;
    std::vector<std::unique_ptr<Server>> servers;
    std::string root;

    Network() {
        const RunResult gen = run_carousel("gen --accounts 6000 --blocks 1 --seed 3 --out " +
                                           shell_quote((dir.path() / "chain").string()) + " --json");
        EXPECT_EQ(gen.exit_code, 0) << gen.err;
        for (int i = 0; i < 2; ++i) servers.push_back(std::make_unique<Server>(dir.path() / "chain"));
        root = servers[0]->root();
    }
    std::string peers() const {
        std::string p;
        for (const auto& s : servers) p += " --peer " + s->address();
        return p;
    }
};

TEST(Processes, SyncFromTwoServers) {
    Network net;
    ASSERT_FALSE(net.servers[0]->address().empty());
    ASSERT_EQ(net.servers[1]->root(), net.root);
    const fs::path db = net.dir.path() / "client";
    const RunResult r = run_carousel("sync" + net.peers() + " --root " + net.root + " --db " +
                                     shell_quote(db.string()) + " --json --timeout 120");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["complete"], true);
    EXPECT_EQ(j["root"], net.root);
    EXPECT_EQ(j["accounts"], 6000);
    EXPECT_GT(j["storage_tries"].get<uint64_t>(), 0U);
    // A fresh database holds few of the children the sync asks about: the node store's filter
    // answers most of those lookups without reading RocksDB.
    EXPECT_GT(j["node_lookups"]["filtered"].get<uint64_t>(), 10 * j["node_lookups"]["kv"].get<uint64_t>());
    // Both servers did work.
    for (const auto& [peer, st] : j["peers"].items()) EXPECT_GT(st["requests"].get<uint64_t>(), 0U) << peer;
    // Run again: everything is there; almost nothing is fetched.
    const RunResult again = run_carousel("sync" + net.peers() + " --root " + net.root + " --db " +
                                         shell_quote(db.string()) + " --json --timeout 60");
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_LT(nlohmann::json::parse(again.out)["bytes_received"].get<uint64_t>(), 1000U);
}

TEST(Processes, SyncKilledWithSigkillResumes) {
    Network net;
    ASSERT_FALSE(net.root.empty());
    const fs::path db = net.dir.path() / "client";
    // A sync from scratch first: how long a whole sync takes here, and what it fetches. Small
    // responses make it long enough to be killed in the middle.
    const auto t0 = std::chrono::steady_clock::now();
    const RunResult fresh =
        run_carousel("sync" + net.peers() + " --root " + net.root + " --db " +
                     shell_quote((net.dir.path() / "fresh").string()) + " --json --timeout 120 --max-response 2048");
    const auto whole = std::chrono::steady_clock::now() - t0;
    ASSERT_EQ(fresh.exit_code, 0) << fresh.err;

    const std::string args = "sync" + net.peers() + " --root " + net.root + " --db " + shell_quote(db.string()) +
                             " --json --timeout 120 --max-response 2048";
    const pid_t child = fork();
    if (child == 0) {
        const std::string cmd = shell_quote(CAROUSEL_BINARY) + " " + args + " >/dev/null 2>&1";
        execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    // Killed at about half of what a whole sync took (process start-up included in both).
    std::this_thread::sleep_for(whole / 2);
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the sync finished before it could be killed";

    const RunResult resumed = run_carousel(args);
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    const auto j = nlohmann::json::parse(resumed.out);
    EXPECT_EQ(j["complete"], true);
    EXPECT_EQ(j["root"], net.root);
    // The resumed sync fetched less than one from scratch.
    EXPECT_LT(j["bytes_received"].get<uint64_t>(), nlohmann::json::parse(fresh.out)["bytes_received"].get<uint64_t>());
}

// Partial serving over TCP: client A syncs from the server and serves what it verified on its own
// port (`--listen`); client B has only A as a peer. B completes with every node verified, and once
// A is done it goes on serving until SIGTERM.
TEST(Processes, ASyncingClientServesOverTcp) {
    Network net;
    ASSERT_FALSE(net.root.empty());
    const fs::path a_db = net.dir.path() / "a";
    Child a{{"sync", "--peer", net.servers[0]->address(), "--root", net.root, "--db", a_db.string(), "--json",
             "--timeout", "120", "--max-response", "4096", "--listen", "127.0.0.1:0"},
            STDERR_FILENO};
    char address[128] = {};
    ASSERT_EQ(std::sscanf(a.first_line().c_str(), "carousel sync: serving on %127s", address), 1) << a.first_line();
    const RunResult b = run_carousel("sync --peer " + std::string{address} + " --root " + net.root + " --db " +
                                     shell_quote((net.dir.path() / "b").string()) + " --json --timeout 120");
    ASSERT_EQ(b.exit_code, 0) << b.err;
    const auto j = nlohmann::json::parse(b.out);
    EXPECT_EQ(j["complete"], true);
    EXPECT_EQ(j["root"], net.root);
    EXPECT_EQ(j["accounts"], 6000);
    ASSERT_EQ(j["peers"].size(), 1U);
    for (const auto& [peer, st] : j["peers"].items()) {
        EXPECT_GT(st["bytes"].get<uint64_t>(), 0U);
        EXPECT_EQ(st["rejected"].get<uint64_t>(), 0U);
    }
    EXPECT_EQ(a.stop(), 0);
    const std::string a_err = a.rest();
    unsigned long long requests = 0;
    const auto at = a_err.find("stopped serving; ");
    ASSERT_NE(at, std::string::npos) << a_err;
    ASSERT_EQ(std::sscanf(a_err.c_str() + at, "stopped serving; %llu requests", &requests), 1);
    EXPECT_GT(requests, 0U);
    // Its stop line counts the answers by kind, as carousel serve's does.
    EXPECT_NE(a_err.find(" 0x2 back-off, "), std::string::npos) << a_err;
    EXPECT_NE(a_err.find(" 0x4 invalid; "), std::string::npos) << a_err;
}

// A root the servers no longer have: `carousel gen` wrote 130 blocks, so genesis has left the
// servers' 128-root window and they answer 0x0 naming the head. Without --trust-root the client
// cannot take that root and stops with one line saying so; with it, it moves there and syncs the
// head, in both modes.
TEST(Processes, ARootOutOfTheWindowMovesToATrustedNewerOne) {
    store::TempDir dir;
    const RunResult gen = run_carousel("gen --accounts 2000 --blocks 130 --seed 4 --out " +
                                       shell_quote((dir.path() / "chain").string()) + " --json");
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    const auto g = nlohmann::json::parse(gen.out);
    const std::string genesis = g["genesis_root"];
    const std::string head = g["head_root"];
    Server server{dir.path() / "chain"};
    ASSERT_EQ(server.root(), head);
    const RunResult stuck = run_carousel("sync --peer " + server.address() + " --root " + genesis + " --db " +
                                         shell_quote((dir.path() / "stuck").string()) + " --json --timeout 60");
    EXPECT_EQ(stuck.exit_code, 1);
    EXPECT_EQ(nlohmann::json::parse(stuck.out)["complete"], false);
    // It says why (after a 15 s grace, well before the timeout), and which root the servers have.
    EXPECT_NE(stuck.err.find("no peer has root " + genesis), std::string::npos) << stuck.err;
    EXPECT_NE(stuck.err.find("naming " + head + "; pass --trust-root"), std::string::npos) << stuck.err;
    for (const std::string mode : {"full", "leaf"}) {
        const RunResult r = run_carousel("sync --peer " + server.address() + " --root " + genesis + " --trust-root " +
                                         head + " --mode " + mode + " --db " +
                                         shell_quote((dir.path() / mode).string()) + " --json --timeout 60");
        ASSERT_EQ(r.exit_code, 0) << r.err;
        const auto j = nlohmann::json::parse(r.out);
        EXPECT_EQ(j["complete"], true) << mode;
        EXPECT_EQ(j["root"], head) << mode;
        EXPECT_EQ(j["root_moves"], 1) << mode;
        EXPECT_EQ(j["accounts"], g["accounts"]) << mode;
        EXPECT_EQ(j["slots"], g["slots"]) << mode;
    }
}

// Light mode through the CLI: one account of the state (by its 32-byte key, read from the genesis
// diff `carousel gen` wrote: its state is in hashed-key space) and one address that is not there.
TEST(Processes, LightSyncOfListedAccounts) {
    Network net;
    ASSERT_FALSE(net.root.empty());
    const fs::path genesis_path = net.dir.path() / "chain" / "blocks" / "00000000.rlp";
    std::string raw(static_cast<std::size_t>(fs::file_size(genesis_path)), '\0');
    std::ifstream genesis_file{genesis_path, std::ios::binary};
    genesis_file.read(raw.data(), static_cast<std::streamsize>(raw.size()));
    auto genesis = state::decode_state_diff(ByteView{reinterpret_cast<const uint8_t*>(raw.data()), raw.size()});
    ASSERT_TRUE(genesis);
    ASSERT_GT(genesis->accounts.size(), 100U);
    const Hash present = genesis->accounts[genesis->accounts.size() / 2].key;
    const fs::path list = net.dir.path() / "accounts.txt";
    {
        std::ofstream out{list};
        out << "# wanted\n" << to_hex_prefixed(view(present)) << "\n\n0x00000000000000000000000000000000000000aa\n";
    }
    const RunResult r = run_carousel("sync" + net.peers() + " --root " + net.root + " --db " +
                                     shell_quote((net.dir.path() / "light").string()) + " --accounts " +
                                     shell_quote(list.string()) + " --json --timeout 120");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["complete"], true);
    EXPECT_EQ(j["light"]["wanted"], 2);
    EXPECT_EQ(j["light"]["found"], 1);
    EXPECT_EQ(j["light"]["absent"], 1);
    EXPECT_EQ(j["light"]["accounts"][0]["key"], to_hex_prefixed(view(present)));
    EXPECT_EQ(j["light"]["accounts"][0]["found"], true);
    EXPECT_EQ(j["light"]["accounts"][1]["found"], false);
    EXPECT_LT(j["accounts"].get<uint64_t>(), 6000U / 2) << "only the chunks on the wanted paths";
    // The human summary says it is a light sync.
    const RunResult text = run_carousel("sync" + net.peers() + " --root " + net.root + " --db " +
                                        shell_quote((net.dir.path() / "light2").string()) + " --accounts " +
                                        shell_quote(list.string()) + " --timeout 120");
    ASSERT_EQ(text.exit_code, 0) << text.err;
    EXPECT_NE(text.out.find("1 found, 1 absent"), std::string::npos) << text.out;
    // A bad line: one error line naming it, non-zero exit.
    {
        std::ofstream out{list};
        out << to_hex_prefixed(view(present)) << "\n0x12zz\n";
    }
    const RunResult bad =
        run_carousel("sync" + net.peers() + " --root " + net.root + " --db " +
                     shell_quote((net.dir.path() / "light3").string()) + " --accounts " + shell_quote(list.string()));
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_NE(bad.err.find("line 2"), std::string::npos) << bad.err;
    EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
}

TEST(Processes, BadArgumentsGetOneLine) {
    RunResult r = run_carousel("sync --peer nowhere --root 0x12 --db /tmp/x");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("--root"), std::string::npos) << r.err;
    r = run_carousel("sync --peer 127.0.0.1:1 --root 0x" + std::string(64, '1') + " --db /tmp/x --listen nowhere");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("--listen nowhere: expected HOST:PORT"), std::string::npos) << r.err;
    r = run_carousel("serve --db /nonexistent/carousel/db");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("/nonexistent/carousel/db"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace carousel::test
