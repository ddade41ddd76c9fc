// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// ChainDir: a chain directory as `carousel gen` writes it, read back block by block and checked.
//
//   chain.json            {"format": "carousel-chain/1", "seed", "config", "summary",
//                          "blocks": [{"block", "parent_root", "root", ...}, ...]}
//   blocks/NNNNNNNN.rlp   block n's StateDiff (encode_state_diff); block 0 is the genesis, a diff
//                         from the empty state; names: block_file_name(n)
//
// open() checks the index: the format, blocks numbered 0, 1, ... in order, each parent root the
// previous block's root (block 0's: the empty trie's root), every root 32 bytes of hex. read_block(n)
// reads one file (at most kMaxBlockFileBytes; block 0 at most kMaxGenesisFileBytes), decodes it with
// the caps of its kind (kStateDiffLimits for the genesis, kBlockDiffLimits for a block) and checks
// its number and roots against the index; its changes are checked when they are applied
// (WorldState::apply checks every `before` value and the root).
//
// ChainReplay holds the chain's state in memory, every node of every block kept (a bridge cuts each
// block's change from both roots; chains for a testnet are small): start() applies the genesis,
// advance() the next block.
//
// Every failure is one line: "<path>: <what>". Not thread-safe.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include <carousel/core/bytes.hpp>
#include <carousel/trie/node_store.hpp>

#include "code_store.hpp"
#include "state_diff.hpp"
#include "world_state.hpp"

namespace carousel::state {

inline constexpr std::string_view kChainDirFormat = "carousel-chain/1";          // chain.json's "format"
inline constexpr std::uintmax_t kMaxBlockFileBytes = std::uintmax_t{1} << 30;    // 1 GiB
inline constexpr std::uintmax_t kMaxGenesisFileBytes = std::uintmax_t{1} << 36;  // 64 GiB
inline constexpr std::uintmax_t kMaxIndexBytes = std::uintmax_t{1} << 32;        // chain.json

// "00000042.rlp": the block number zero-padded to 8 digits (more digits past 99,999,999).
std::string block_file_name(uint64_t block);

class ChainDir {
  public:
    static tl::expected<ChainDir, std::string> open(const std::filesystem::path& dir);

    [[nodiscard]] const std::filesystem::path& path() const noexcept { return dir_; }
    // The last block's number (0: the genesis only).
    [[nodiscard]] uint64_t head() const noexcept { return roots_.size() - 1; }
    // The state root after block `number` (≤ head()).
    [[nodiscard]] const Hash& root(uint64_t number) const { return roots_.at(number); }
    [[nodiscard]] uint64_t seed() const noexcept { return seed_; }

    tl::expected<StateDiff, std::string> read_block(uint64_t number) const;

  private:
    ChainDir(std::filesystem::path dir, uint64_t seed, std::vector<Hash> roots)
        : dir_{std::move(dir)}, seed_{seed}, roots_{std::move(roots)} {}

    std::filesystem::path dir_;
    uint64_t seed_{0};
    std::vector<Hash> roots_;  // by block number
};

class ChainReplay {
  public:
    explicit ChainReplay(ChainDir chain);
    ChainReplay(const ChainReplay&) = delete;  // the WorldState points into the stores
    ChainReplay& operator=(const ChainReplay&) = delete;

    // Applies the genesis (block 0) and returns it (valid until the next call). Call once, first.
    tl::expected<const StateDiff*, std::string> start();
    // Applies block number()+1 and returns it (valid until the next call); an error past head() too.
    tl::expected<const StateDiff*, std::string> advance();

    [[nodiscard]] const ChainDir& chain() const noexcept { return chain_; }
    // The block applied last, and the state root after it.
    [[nodiscard]] uint64_t number() const noexcept { return number_; }
    [[nodiscard]] Hash root() const noexcept { return world_->root(); }
    // Every node of every block applied so far.
    [[nodiscard]] const trie::NodeStore& nodes() const noexcept { return nodes_; }
    [[nodiscard]] const CodeStore& code() const noexcept { return code_; }

  private:
    tl::expected<const StateDiff*, std::string> apply(uint64_t number);

    ChainDir chain_;
    trie::MemoryNodeStore nodes_;
    MemoryCodeStore code_;
    std::unique_ptr<WorldState> world_;
    StateDiff last_;
    uint64_t number_{0};
    bool started_{false};
};

}  // namespace carousel::state
