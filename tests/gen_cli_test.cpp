// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// End to end: runs `carousel gen`, then reads what it wrote back with the library: every block file
// decodes and replays on a fresh WorldState to the roots chain.json lists; the RocksDB StateStore in
// DIR/db opens at the head with the last blocks' roots servable and passes verify(); the same seed
// writes the same bytes; bad input gets one line and exit code 1.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <carousel/core/hex.hpp>
#include <carousel/state/world_state.hpp>
#include <carousel/store/rocks_kv.hpp>
#include <carousel/store/state_store.hpp>

#include "cli_runner.hpp"

namespace carousel::test {
namespace {

namespace fs = std::filesystem;

// A fresh directory path under the temp dir (not created), removed with everything in it at the end.
class TempDir {
  public:
    explicit TempDir(const std::string& name)
        : path_{fs::temp_directory_path() / ("carousel_gen_cli_" + std::to_string(getpid()) + "_" + name)} {
        fs::remove_all(path_);
    }
    ~TempDir() { fs::remove_all(path_); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const fs::path& path() const { return path_; }
    std::string arg() const { return shell_quote(path_.string()); }

  private:
    fs::path path_;
};

std::string block_name(int b) {
    std::string digits = std::to_string(b);
    return std::string(8 - digits.size(), '0') + digits + ".rlp";
}

void expect_one_line_error(const RunResult& r, const std::string& what) {
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.out, "");
    ASSERT_FALSE(r.err.empty());
    EXPECT_EQ(r.err.back(), '\n');
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "more than one line: " << r.err;
    EXPECT_EQ(r.err.rfind("carousel gen: ", 0), 0U) << r.err;
    EXPECT_NE(r.err.find(what), std::string::npos) << r.err;
}

constexpr const char* kSmallChain = "--accounts 3000 --blocks 6 --accounts-per-block 60 --slots-per-block 90";

TEST(CliGen, WritesBlocksThatReplayToTheListedRoots) {
    const TempDir dir{"replay"};
    const RunResult r = run_carousel(std::string{"gen "} + kSmallChain + " --seed 5 --out " + dir.arg());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto index = nlohmann::json::parse(read_file(dir.path() / "chain.json"));
    EXPECT_EQ(index.at("seed"), 5);
    EXPECT_EQ(index.at("config").at("accounts"), 3000);
    EXPECT_EQ(index.at("config").at("accounts_per_block"), 60.0);
    const auto& blocks = index.at("blocks");
    ASSERT_EQ(blocks.size(), 7U);

    trie::MemoryNodeStore nodes;
    state::MemoryCodeStore code;
    state::WorldState ws{nodes, code};
    uint64_t bytes = 0;
    for (int b = 0; b <= 6; ++b) {
        SCOPED_TRACE(b);
        const std::string rlp = read_file(dir.path() / "blocks" / block_name(b));
        bytes += rlp.size();
        EXPECT_EQ(blocks[static_cast<std::size_t>(b)].at("bytes"), rlp.size());
        auto diff = state::decode_state_diff(ByteView{reinterpret_cast<const uint8_t*>(rlp.data()), rlp.size()});
        ASSERT_TRUE(diff) << to_string(diff.error());
        EXPECT_EQ(diff->block, static_cast<uint64_t>(b));
        EXPECT_EQ(to_hex_prefixed(view(diff->parent_root)), blocks[static_cast<std::size_t>(b)].at("parent_root"));
        EXPECT_EQ(to_hex_prefixed(view(diff->root)), blocks[static_cast<std::size_t>(b)].at("root"));
        EXPECT_EQ(diff->accounts.size(), blocks[static_cast<std::size_t>(b)].at("accounts"));
        auto root = ws.apply(*diff);
        ASSERT_TRUE(root) << to_string(root.error());
    }
    EXPECT_FALSE(fs::exists(dir.path() / "blocks" / block_name(7)));
    const auto& summary = index.at("summary");
    EXPECT_EQ(summary.at("head_root"), to_hex_prefixed(view(ws.root())));
    EXPECT_EQ(summary.at("genesis_root"), blocks[0].at("root"));
    EXPECT_EQ(summary.at("diff_bytes"), bytes);
    EXPECT_EQ(summary.at("genesis_accounts"), 3000);
    // The human summary names the roots and the counts.
    EXPECT_NE(r.out.find(summary.at("head_root").get<std::string>()), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(summary.at("genesis_root").get<std::string>()), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("contracts"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("accounts/s"), std::string::npos) << r.out;

    // The store: head = the final state, every block's root in the window, the full check passes.
    std::unique_ptr<store::RocksKV> kv;
    ASSERT_TRUE(store::RocksKV::open(dir.path() / "db", kv).ok());
    auto db = store::StateStore::open(*kv);
    ASSERT_TRUE(db) << db.error().to_string();
    const store::StateStore::Head head = (*db)->head();
    EXPECT_EQ(head.block, 6U);
    EXPECT_EQ(head.root, ws.root());
    EXPECT_EQ(head.accounts, summary.at("accounts"));
    EXPECT_EQ(head.slots, summary.at("slots"));
    for (int b = 0; b <= 6; ++b) {
        EXPECT_EQ(to_hex_prefixed(view((*db)->root_at(static_cast<uint64_t>(b)).value_or(Hash{}))),
                  blocks[static_cast<std::size_t>(b)].at("root"));
    }
    EXPECT_TRUE((*db)->verify().ok()) << (*db)->verify().to_string();
    EXPECT_GT(summary.at("db_bytes").get<uint64_t>(), 0U);
}

TEST(CliGen, JsonSummary) {
    const TempDir dir{"json"};
    const RunResult r = run_carousel(std::string{"gen "} + kSmallChain + " --json --out " + dir.arg());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");  // no progress with --json
    ASSERT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
    const auto j = nlohmann::json::parse(r.out);
    for (const char* key : {"genesis_root", "head_root", "accounts", "contracts", "slots", "code_blobs", "code_bytes",
                            "diff_bytes", "accounts_per_s", "blocks"}) {
        EXPECT_TRUE(j.contains(key)) << key;
    }
    EXPECT_EQ(j.at("blocks"), 6);
    EXPECT_LE(j.at("storage_accounts").get<int>(), j.at("contracts").get<int>());
    EXPECT_GT(j.at("contracts").get<int>(), 200);
    EXPECT_LT(j.at("code_blobs").get<int>(), j.at("contracts").get<int>());
    EXPECT_EQ(nlohmann::json::parse(read_file(dir.path() / "chain.json")).at("summary").at("head_root"),
              j.at("head_root"));
}

TEST(CliGen, SameSeedSameBytesOtherSeedOtherChain) {
    const TempDir a{"seed_a"};
    const TempDir b{"seed_b"};
    const TempDir c{"seed_c"};
    ASSERT_EQ(run_carousel(std::string{"gen "} + kSmallChain + " --seed 9 --json --out " + a.arg()).exit_code, 0);
    ASSERT_EQ(run_carousel(std::string{"gen "} + kSmallChain + " --seed 9 --json --out " + b.arg()).exit_code, 0);
    ASSERT_EQ(run_carousel(std::string{"gen "} + kSmallChain + " --seed 10 --json --out " + c.arg()).exit_code, 0);
    for (int blk = 0; blk <= 6; ++blk) {
        const std::string x = read_file(a.path() / "blocks" / block_name(blk));
        EXPECT_FALSE(x.empty());
        EXPECT_EQ(x, read_file(b.path() / "blocks" / block_name(blk))) << blk;
        EXPECT_NE(x, read_file(c.path() / "blocks" / block_name(blk))) << blk;
    }
    const auto ja = nlohmann::json::parse(read_file(a.path() / "chain.json"));
    const auto jb = nlohmann::json::parse(read_file(b.path() / "chain.json"));
    EXPECT_EQ(ja.at("blocks"), jb.at("blocks"));
    EXPECT_EQ(ja.at("config"), jb.at("config"));
}

TEST(CliGen, BadInput) {
    const TempDir dir{"bad"};
    expect_one_line_error(run_carousel("gen --accounts 0 --out " + dir.arg()), "--accounts must be between 1");
    expect_one_line_error(run_carousel("gen --accounts 12x --out " + dir.arg()), "--accounts must be a whole number");
    expect_one_line_error(run_carousel("gen --blocks many --out " + dir.arg()), "--blocks");
    expect_one_line_error(run_carousel("gen --slots-per-block x --out " + dir.arg()), "--slots-per-block");
    expect_one_line_error(run_carousel("gen --accounts 10"), "--out DIR is required");
    EXPECT_FALSE(fs::exists(dir.path()));  // nothing written on bad input

    // An existing, non-empty directory.
    fs::create_directories(dir.path());
    std::ofstream{dir.path() / "precious.txt"} << "keep me";
    expect_one_line_error(run_carousel("gen --accounts 10 --out " + dir.arg()), "exists and is not empty");
    EXPECT_EQ(read_file(dir.path() / "precious.txt"), "keep me");
    // A file where the directory should be, and a directory that cannot be created under a file.
    const fs::path file = dir.path() / "precious.txt";
    expect_one_line_error(run_carousel("gen --accounts 10 --out " + shell_quote(file.string())),
                          "exists and is not a directory");
    expect_one_line_error(run_carousel("gen --accounts 10 --out " + shell_quote((file / "sub").string())),
                          "cannot create directory");

    // An existing empty directory is fine.
    const TempDir empty{"empty"};
    fs::create_directories(empty.path());
    const RunResult ok = run_carousel("gen --accounts 50 --blocks 2 --json --no-db --out " + empty.arg());
    EXPECT_EQ(ok.exit_code, 0) << ok.err;
    EXPECT_TRUE(fs::exists(empty.path() / "blocks" / block_name(2)));
    EXPECT_FALSE(fs::exists(empty.path() / "db"));  // --no-db
    EXPECT_EQ(nlohmann::json::parse(ok.out).at("db"), false);
}

TEST(CliGen, Usage) {
    const RunResult help = run_carousel("gen --help");
    EXPECT_EQ(help.exit_code, 0);
    for (const char* opt : {"--accounts", "--blocks", "--seed", "--out", "--accounts-per-block", "--slots-per-block",
                            "--json", "--no-db", "chain.json", "db/"}) {
        EXPECT_NE(help.out.find(opt), std::string::npos) << opt;
    }
}

}  // namespace
}  // namespace carousel::test
