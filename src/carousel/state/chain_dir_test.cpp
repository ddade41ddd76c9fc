// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "chain_dir.hpp"

#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <carousel/core/hex.hpp>
#include <carousel/testing/temp_dir.hpp>

#include "chain_generator.hpp"

namespace carousel::state {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& path, ByteView data) {
    std::ofstream out{path, std::ios::binary | std::ios::trunc};
    out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}
void write_text(const fs::path& path, const std::string& text) {
    write(path, ByteView{reinterpret_cast<const uint8_t*>(text.data()), text.size()});
}

// A chain directory as `carousel gen` writes it (its index only with what ChainDir reads), and the
// roots the generator reached.
struct WrittenChain {
    store::TempDir dir{"carousel-chain-"};
    nlohmann::json index;
    std::vector<Hash> roots;

    explicit WrittenChain(uint64_t blocks) {
        GeneratorConfig config;
        config.accounts = 300;
        config.seed = 5;
        ChainGenerator gen{config};
        fs::create_directories(dir.path() / "blocks");
        index = {{"format", kChainDirFormat}, {"seed", 5}, {"blocks", nlohmann::json::array()}};
        auto record = [&](const StateDiff& d) {
            write(dir.path() / "blocks" / block_file_name(d.block), encode_state_diff(d));
            index["blocks"].push_back({{"block", d.block},
                                       {"parent_root", to_hex_prefixed(view(d.parent_root))},
                                       {"root", to_hex_prefixed(view(d.root))}});
            roots.push_back(d.root);
        };
        record(gen.genesis().value());
        for (uint64_t b = 1; b <= blocks; ++b) record(gen.next_block().value());
        save_index();
    }
    void save_index() const { write_text(dir.path() / "chain.json", index.dump()); }
};

TEST(ChainDir, ReplaysEveryBlockToTheIndexedRoots) {
    const WrittenChain written{6};
    auto chain = ChainDir::open(written.dir.path());
    ASSERT_TRUE(chain) << chain.error();
    EXPECT_EQ(chain->head(), 6u);
    EXPECT_EQ(chain->seed(), 5u);
    ChainReplay replay{std::move(*chain)};
    EXPECT_FALSE(replay.advance());  // not started
    ASSERT_TRUE(replay.start());
    EXPECT_EQ(replay.root(), written.roots[0]);
    for (uint64_t b = 1; b <= 6; ++b) {
        auto diff = replay.advance();
        ASSERT_TRUE(diff) << diff.error();
        EXPECT_EQ((*diff)->block, b);
        EXPECT_EQ(replay.number(), b);
        EXPECT_EQ(replay.root(), written.roots[b]);
        // Both roots stay readable: the bridge cuts a block's change from them.
        EXPECT_TRUE(replay.nodes().get_node(written.roots[b - 1]).has_value());
    }
    auto past = replay.advance();
    ASSERT_FALSE(past);
    EXPECT_NE(past.error().find("no block after 6"), std::string::npos);
}

TEST(ChainDir, NamesWhatIsWrongWithADirectory) {
    const store::TempDir empty{"carousel-chain-"};
    EXPECT_NE(ChainDir::open(empty.path()).error().find("chain.json"), std::string::npos);

    WrittenChain written{3};
    auto error_of = [&](const std::function<void(nlohmann::json&)>& damage) {
        nlohmann::json saved = written.index;
        damage(written.index);
        written.save_index();
        auto r = ChainDir::open(written.dir.path());
        written.index = saved;
        written.save_index();
        return r ? std::string{} : r.error();
    };
    EXPECT_NE(error_of([](nlohmann::json& j) { j["format"] = "other/1"; }).find("format"), std::string::npos);
    EXPECT_NE(error_of([](nlohmann::json& j) { j.erase("blocks"); }).find("no seed or no blocks"), std::string::npos);
    EXPECT_NE(error_of([](nlohmann::json& j) { j["blocks"][2]["block"] = 7; }).find("numbered"), std::string::npos);
    EXPECT_NE(error_of([](nlohmann::json& j) { j["blocks"][1]["root"] = "0x12"; }).find("32 bytes"), std::string::npos);
    EXPECT_NE(error_of([](nlohmann::json& j) {
                  j["blocks"][2]["parent_root"] = j["blocks"][0]["root"];
              }).find("previous block's root"),
              std::string::npos);
    write_text(written.dir.path() / "chain.json", "{not json");
    EXPECT_NE(ChainDir::open(written.dir.path()).error().find("not JSON"), std::string::npos);
    written.save_index();

    // A block file: missing, damaged, or another block's.
    auto chain = ChainDir::open(written.dir.path());
    ASSERT_TRUE(chain) << chain.error();
    const fs::path two = written.dir.path() / "blocks" / block_file_name(2);
    const fs::path three = written.dir.path() / "blocks" / block_file_name(3);
    fs::copy_file(three, two, fs::copy_options::overwrite_existing);
    EXPECT_NE(chain->read_block(2).error().find("differ from chain.json"), std::string::npos);
    write_text(two, "\xc1");
    EXPECT_NE(chain->read_block(2).error().find(two.string()), std::string::npos);
    fs::remove(two);
    EXPECT_NE(chain->read_block(2).error().find(two.string()), std::string::npos);
    EXPECT_NE(chain->read_block(4).error().find("no block 4"), std::string::npos);
    EXPECT_TRUE(chain->read_block(3));
}

}  // namespace
}  // namespace carousel::state
