// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "bridge_process.hpp"

#include <thread>

#include <carousel/core/hex.hpp>
#include <carousel/mgr/signed_header.hpp>

#include "key_file.hpp"

namespace carousel::node {

tl::expected<std::unique_ptr<BridgeProcess>, std::string> BridgeProcess::open(BridgeProcessOptions options) {
    std::unique_ptr<BridgeProcess> b{new BridgeProcess()};
    b->options_ = std::move(options);
    const BridgeProcessOptions& o = b->options_;
    // The chain first: nothing is written for a bridge that cannot run.
    auto chain = state::ChainDir::open(o.chain);
    if (!chain) return tl::make_unexpected(chain.error());
    std::error_code ec;
    std::filesystem::create_directories(o.datadir, ec);
    if (ec) return tl::make_unexpected(o.datadir.string() + ": " + ec.message());
    auto key = load_or_create_key(o.key_file.empty() ? o.datadir / "bridge.key" : o.key_file);
    if (!key) return tl::make_unexpected(key.error());
    b->key_ = *key;

    b->replay_ = std::make_unique<state::ChainReplay>(std::move(*chain));
    auto genesis = b->replay_->start();
    if (!genesis) return tl::make_unexpected(genesis.error());
    b->regions_ = mgr::all_regions(o.node.region_bits);

    NodeProcessOptions archive;
    archive.key_file = o.datadir / "archive.key";
    archive.host = o.host;
    archive.port = o.port;
    archive.trusted = b->key_.public_key;
    archive.radius_bits = 256;
    archive.node = o.node;
    archive.tcp = o.tcp;
    auto archive_process = MgrNodeProcess::open(archive);
    if (!archive_process) return tl::make_unexpected("archive node: " + archive_process.error());
    b->archive_ = std::move(*archive_process);
    const Hash genesis_root = b->replay_->root();
    if (auto seeded = b->archive_->seed(b->replay_->nodes(), 0, genesis_root, (*genesis)->code); !seeded) {
        return tl::make_unexpected("archive node: seeding the genesis: " + seeded.error());
    }

    NodeProcessOptions origin;
    origin.key_file = o.key_file.empty() ? o.datadir / "bridge.key" : o.key_file;
    origin.host = o.host;
    origin.port = o.port == 0 ? 0 : static_cast<uint16_t>(o.port + 1);
    origin.bootnodes = {b->archive_->record()};
    origin.trusted = b->key_.public_key;
    origin.node = o.node;
    origin.node.origin_only = true;
    origin.tcp = o.tcp;
    auto origin_process = MgrNodeProcess::open(origin);
    if (!origin_process) return tl::make_unexpected("origin node: " + origin_process.error());
    b->origin_ = std::move(*origin_process);

    const Bytes header = b->signed_header(0, genesis_root);
    (void)b->archive_->accept_header(header);
    (void)b->origin_->accept_header(header);
    return b;
}

BridgeProcess::~BridgeProcess() { stop(); }

Bytes BridgeProcess::signed_header(uint64_t number, const Hash& root) const {
    return mgr::encode(mgr::sign_header(key_, mgr::Header{number, root}));
}

void BridgeProcess::start() {
    archive_->start();
    origin_->start();
}

tl::expected<void, std::string> BridgeProcess::run_publisher(const std::function<void(uint64_t number)>& on_block) {
    auto next = std::chrono::steady_clock::now() + options_.block_time;
    while (publishing_.load() && replay_->number() < replay_->chain().head()) {
        // Sleep in short steps so that stop_publishing() is heard at once.
        while (publishing_.load() && std::chrono::steady_clock::now() < next) {
            std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
                next - std::chrono::steady_clock::now(), std::chrono::milliseconds{50}));
        }
        if (!publishing_.load()) break;
        next += options_.block_time;
        const Hash old_root = replay_->root();
        auto diff = replay_->advance();
        if (!diff) return tl::make_unexpected(diff.error());
        const uint64_t number = replay_->number();
        auto block = mgr::cut_block(replay_->nodes(), number, old_root, replay_->root(), **diff, regions_);
        if (!block) {
            return tl::make_unexpected("block " + std::to_string(number) +
                                       ": cutting region items: " + std::string{mgr::to_string(block.error())});
        }
        block->header = signed_header(number, replay_->root());
        archive_->deliver(*block);  // the archive misses no block: the network fills from it
        origin_->publish(std::move(*block));
        published_.store(number);
        if (on_block) on_block(number);
    }
    return {};
}

void BridgeProcess::stop_publishing() { publishing_.store(false); }

void BridgeProcess::stop() {
    stop_publishing();
    if (origin_) origin_->stop();
    if (archive_) archive_->stop();
}

nlohmann::json BridgeProcess::status() {
    return nlohmann::json{{"bootnode", archive_->record().to_text()},
                          {"public_key", to_hex_prefixed(ByteView{key_.public_key.data(), key_.public_key.size()})},
                          {"published", published_.load()},
                          {"chain_head", replay_->chain().head()},
                          {"region_bits", options_.node.region_bits},
                          {"epoch", options_.node.epoch_length},
                          {"archive", archive_->status()},
                          {"origin", origin_->status()}};
}

}  // namespace carousel::node
