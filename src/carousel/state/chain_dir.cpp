// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "chain_dir.hpp"

#include <fstream>
#include <system_error>

#include <nlohmann/json.hpp>

#include <carousel/core/hex.hpp>
#include <carousel/trie/trie.hpp>

namespace carousel::state {
namespace {

namespace fs = std::filesystem;

// The whole file, if it is a regular file of at most `max` bytes.
tl::expected<Bytes, std::string> read_file(const fs::path& path, std::uintmax_t max) {
    std::error_code ec;
    const std::uintmax_t size = fs::file_size(path, ec);
    if (ec) return tl::unexpected{path.string() + ": " + ec.message()};
    if (size > max)
        return tl::unexpected{path.string() + ": " + std::to_string(size) + " bytes, over the cap of " +
                              std::to_string(max)};
    std::ifstream in{path, std::ios::binary};
    Bytes out(static_cast<std::size_t>(size), 0);
    if (!in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(size))) {
        return tl::unexpected{path.string() + ": cannot read"};
    }
    return out;
}

std::optional<Hash> root_of(const nlohmann::json& block, const char* key) {
    const auto it = block.find(key);
    if (it == block.end() || !it->is_string()) return std::nullopt;
    return hash_from_hex(it->get<std::string>());
}

}  // namespace

std::string block_file_name(uint64_t block) {
    std::string digits = std::to_string(block);
    if (digits.size() < 8) digits.insert(0, 8 - digits.size(), '0');
    return digits + ".rlp";
}

tl::expected<ChainDir, std::string> ChainDir::open(const fs::path& dir) {
    const fs::path index_path = dir / "chain.json";
    auto text = read_file(index_path, kMaxIndexBytes);
    if (!text) return tl::unexpected{text.error() + " (is it a directory written by `carousel gen`?)"};
    const std::string where = index_path.string() + ": ";
    const nlohmann::json index = nlohmann::json::parse(text->begin(), text->end(), nullptr, false);
    if (index.is_discarded() || !index.is_object()) return tl::unexpected{where + "not JSON"};
    if (index.value("format", std::string{}) != kChainDirFormat) {
        return tl::unexpected{where + "not a chain index of format " + std::string{kChainDirFormat}};
    }
    const auto seed = index.find("seed");
    const auto blocks = index.find("blocks");
    if (seed == index.end() || !seed->is_number_unsigned() || blocks == index.end() || !blocks->is_array() ||
        blocks->empty()) {
        return tl::unexpected{where + "no seed or no blocks"};
    }
    std::vector<Hash> roots;
    roots.reserve(blocks->size());
    for (const nlohmann::json& b : *blocks) {
        const std::string at = where + "block " + std::to_string(roots.size()) + ": ";
        if (!b.is_object()) return tl::unexpected{at + "not an object"};
        const auto number = b.find("block");
        if (number == b.end() || !number->is_number_unsigned() || number->get<uint64_t>() != roots.size()) {
            return tl::unexpected{at + "blocks are not numbered 0, 1, ... in order"};
        }
        const auto parent = root_of(b, "parent_root");
        const auto root = root_of(b, "root");
        if (!parent || !root) return tl::unexpected{at + "parent_root or root is not 32 bytes of hex"};
        const Hash& expected_parent = roots.empty() ? trie::kEmptyRoot : roots.back();
        if (*parent != expected_parent) return tl::unexpected{at + "parent_root is not the previous block's root"};
        roots.push_back(*root);
    }
    return ChainDir{dir, seed->get<uint64_t>(), std::move(roots)};
}

tl::expected<StateDiff, std::string> ChainDir::read_block(uint64_t number) const {
    if (number > head()) return tl::unexpected{dir_.string() + ": no block " + std::to_string(number)};
    const fs::path path = dir_ / "blocks" / block_file_name(number);
    auto bytes = read_file(path, number == 0 ? kMaxGenesisFileBytes : kMaxBlockFileBytes);
    if (!bytes) return tl::unexpected{bytes.error()};
    auto diff = decode_state_diff(*bytes, number == 0 ? kStateDiffLimits : kBlockDiffLimits);
    if (!diff) return tl::unexpected{path.string() + ": " + std::string{to_string(diff.error())}};
    const Hash& parent = number == 0 ? trie::kEmptyRoot : roots_[number - 1];
    if (diff->block != number || diff->parent_root != parent || diff->root != roots_[number]) {
        return tl::unexpected{path.string() + ": its block number or roots differ from chain.json's"};
    }
    return std::move(*diff);
}

ChainReplay::ChainReplay(ChainDir chain)
    : chain_{std::move(chain)}, world_{std::make_unique<WorldState>(nodes_, code_)} {}

tl::expected<const StateDiff*, std::string> ChainReplay::apply(uint64_t number) {
    auto diff = chain_.read_block(number);
    if (!diff) return tl::unexpected{diff.error()};
    if (auto root = world_->apply(*diff); !root) {
        return tl::unexpected{(chain_.path() / "blocks" / block_file_name(number)).string() +
                              ": does not apply: " + std::string{to_string(root.error())}};
    }
    last_ = std::move(*diff);
    number_ = number;
    return &last_;
}

tl::expected<const StateDiff*, std::string> ChainReplay::start() {
    if (started_) return tl::unexpected{chain_.path().string() + ": the replay has started already"};
    started_ = true;
    return apply(0);
}

tl::expected<const StateDiff*, std::string> ChainReplay::advance() {
    if (!started_) return tl::unexpected{chain_.path().string() + ": the replay has not started"};
    if (number_ >= chain_.head()) {
        return tl::unexpected{chain_.path().string() + ": no block after " + std::to_string(number_)};
    }
    return apply(number_ + 1);
}

}  // namespace carousel::state
