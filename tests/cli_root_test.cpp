// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// End to end: runs the `carousel root` binary on real and broken genesis files and checks its
// stdout, stderr and exit code.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_runner.hpp"

#include <sys/wait.h>
#include <unistd.h>

namespace carousel::test {
namespace {

namespace fs = std::filesystem;

const fs::path kData{CAROUSEL_TEST_DATA};
constexpr const char* kMainnetRoot = "0xd7f8974fb5ac78d9ac099b9ad5018bedc2ce0a72dad1827a1709da30580f0544";

// A temporary file with `content`, removed when the test ends.
class TempFile {
  public:
    explicit TempFile(const std::string& name, const std::string& content)
        : path_{fs::temp_directory_path() / ("carousel_cli_root_" + std::to_string(getpid()) + "_" + name)} {
        std::ofstream{path_, std::ios::binary} << content;
    }
    ~TempFile() { fs::remove(path_); }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    const fs::path& path() const { return path_; }
    std::string arg() const { return shell_quote(path_.string()); }

  private:
    fs::path path_;
};

// One line on stderr that names the file, nothing on stdout, exit code 1.
void expect_error(const RunResult& r, const std::string& file, const std::string& what) {
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.out, "");
    ASSERT_FALSE(r.err.empty());
    EXPECT_EQ(r.err.back(), '\n');
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "more than one line: " << r.err;
    EXPECT_NE(r.err.find(file), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(what), std::string::npos) << r.err;
}

TEST(CliRoot, MainnetRoot) {
    const RunResult r = run_carousel("root --genesis " + shell_quote((kData / "genesis" / "mainnet.json").string()));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, std::string{kMainnetRoot} + "\n");
    EXPECT_EQ(r.err, "");
}

TEST(CliRoot, MainnetJson) {
    const RunResult r =
        run_carousel("root --json --genesis " + shell_quote((kData / "genesis" / "mainnet.json").string()));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
    const auto j = nlohmann::json::parse(r.out);
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(j.size(), 5u);
    EXPECT_EQ(j.at("root"), kMainnetRoot);
    EXPECT_EQ(j.at("accounts"), 8893);
    EXPECT_EQ(j.at("contracts"), 0);
    EXPECT_EQ(j.at("slots"), 0);
    EXPECT_TRUE(j.at("seconds").is_number());
    EXPECT_GE(j.at("seconds").get<double>(), 0.0);
}

TEST(CliRoot, CountsCodeAndStorage) {
    // ethereum/tests GenesisTests basic_genesis_tests.json test1, as a bare alloc file.
    const TempFile f{"test1.json", R"({"alloc": {
        "9ca0e998df92c5351cecbbb6dba82ac2266f7e0c": {"code": "0x606060606060606060", "storage": {"0x03": "0x07"}},
        "cd2a3d9f938e13cd947ec05abc7fe734df8dd826": {"balance": "1234567000000000000000"}}})"};
    const RunResult r = run_carousel("root --json --genesis " + f.arg());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j.at("root"), "0xdd406a973a0a5a9826d00da276e996d28426d24f12b8fa683723e9db532b8c59");
    EXPECT_EQ(j.at("accounts"), 2);
    EXPECT_EQ(j.at("contracts"), 1);
    EXPECT_EQ(j.at("slots"), 1);
}

TEST(CliRoot, MissingFile) {
    const std::string missing = (fs::temp_directory_path() / "carousel-no-such-genesis.json").string();
    expect_error(run_carousel("root --genesis " + shell_quote(missing)), missing, "no such file");
    // --json does not change how errors are reported.
    expect_error(run_carousel("root --json --genesis " + shell_quote(missing)), missing, "no such file");
}

TEST(CliRoot, Directory) {
    expect_error(run_carousel("root --genesis " + shell_quote(kData.string())), kData.string(), "is a directory");
}

TEST(CliRoot, BadFiles) {
    const std::string a = "0x00000000000000000000000000000000000000aa";
    struct Case {
        const char* name;
        std::string content;
        std::string what;
    };
    const Case cases[] = {
        {"empty.json", "", "invalid JSON"},
        {"truncated.json", R"({"alloc": {")" + a + R"(": {"balance": "0x1")", "invalid JSON: parse error at line 1"},
        {"no_alloc.json", R"({"config": {}})", R"(no "alloc")"},
        {"bad_hex.json", R"({"alloc": {")" + a + R"(": {"code": "0xzz"}}})", "alloc." + a + ".code: not hex"},
        {"odd_hex.json", R"({"alloc": {")" + a + R"(": {"code": "0x600"}}})", "odd number of hex digits"},
        {"bad_balance.json", R"({"alloc": {")" + a + R"(": {"balance": "12x"}}})",
         "alloc." + a + R"(.balance: not a number: "12x")"},
        {"big_balance.json", R"({"alloc": {")" + a + R"(": {"balance": "0x1)" + std::string(64, '0') + R"("}}})",
         "alloc." + a + ".balance: exceeds 2^256-1"},
        {"big_slot.json", R"({"alloc": {")" + a + R"(": {"storage": {"0x01": "0x1)" + std::string(64, '0') + R"("}}}})",
         "alloc." + a + ".storage.0x01: longer than 32 bytes"},
        {"bad_address.json", R"({"alloc": {"0x1234": {}}})", R"(bad address "0x1234")"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        const TempFile f{c.name, c.content};
        expect_error(run_carousel("root --genesis " + f.arg()), f.path().string(), c.what);
    }
}

TEST(CliRoot, Usage) {
    const RunResult help = run_carousel("root --help");
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_NE(help.out.find("--genesis"), std::string::npos) << help.out;
    EXPECT_NE(help.out.find("--json"), std::string::npos) << help.out;
    EXPECT_NE(help.out.find("state root"), std::string::npos) << help.out;

    // No --genesis: a usage error (CLI11's exit code), not a crash and not success.
    const RunResult none = run_carousel("root");
    EXPECT_NE(none.exit_code, 0);
    EXPECT_NE(none.exit_code, -1);
    EXPECT_EQ(none.out, "");
    EXPECT_NE(none.err.find("--genesis"), std::string::npos) << none.err;
}

}  // namespace
}  // namespace carousel::test
