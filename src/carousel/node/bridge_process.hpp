// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// BridgeProcess: `carousel bridge`, the process that brings a chain written by `carousel gen` into a
// Merry-Go-Round network. It stands in for a full node beside the network and for the consensus
// light client the nodes would follow: it signs each block's header with its key (mgr/signed_header.hpp),
// and the nodes trust headers signed by that key (`--trust-bridge`).
//
// It runs two nodes of the network (node/mgr_node_process.hpp), on two ports:
//  - the archive, at --listen: a storage node whose block is the whole key space, seeded with the
//    genesis state (block 0) and handed every block's gossip by the bridge itself (MgrNode::deliver:
//    checked and applied as gossip is, and offered on), so that it misses none. It is what
//    the network fills from: a joining node pulls its regions from the nodes covering them (prefix
//    sync's GetChunks, verified), and at first the archive is the only one. Its record is the
//    bootnode a node is given (`bootnode()`).
//  - the origin, at the next port: an origin-only node (radius 0, no stores: no node counts it as a
//    copy) that publishes one block per block_time: the block's signed header and its region items
//    (mgr::cut_block), offered to the nodes covering each region, and the code it created.
// The chain is replayed in memory (state::ChainReplay): chains for a testnet are small. When the last
// block of the chain is published the bridge goes on serving and stops publishing.
//
// A restarted bridge starts again at the genesis: the nodes keep what they hold, their books refuse
// nothing (the same key signs the same roots), and gossip for blocks they hold is ignored as old.
//
// Thread safety: publishing runs on the caller of run_publisher(); the nodes on their own threads.

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include <carousel/mgr/bridge.hpp>
#include <carousel/state/chain_dir.hpp>

#include "mgr_node_process.hpp"

namespace carousel::node {

struct BridgeProcessOptions {
    std::filesystem::path chain;    // a `carousel gen --out` directory
    std::filesystem::path datadir;  // its key files: bridge.key (unless key_file), archive.key
    std::filesystem::path key_file;
    std::string host{"127.0.0.1"};
    uint16_t port{0};  // the archive's; the origin takes port + 1 (0: both free ports)
    std::chrono::milliseconds block_time{std::chrono::seconds{12}};
    mgr::NodeOptions node;  // region_bits, epoch_length, max_peers: the network's
    net::TcpOptions tcp;
};

class BridgeProcess {
  public:
    // Reads the chain's genesis, seeds the archive and signs its header. One line on failure.
    static tl::expected<std::unique_ptr<BridgeProcess>, std::string> open(BridgeProcessOptions options);
    ~BridgeProcess();
    BridgeProcess(const BridgeProcess&) = delete;
    BridgeProcess& operator=(const BridgeProcess&) = delete;

    // Starts both nodes (the origin meets the archive).
    void start();
    // Publishes block 1, 2, ... one every block_time, until the chain ends or stop_publishing(); a
    // block that cannot be read or cut ends it with the error. `on_block` is told each block published.
    tl::expected<void, std::string> run_publisher(const std::function<void(uint64_t number)>& on_block);
    void stop_publishing();
    void stop();

    [[nodiscard]] const dht::NodeRecord& bootnode() const noexcept { return archive_->record(); }
    [[nodiscard]] const dht::PublicKey& public_key() const noexcept { return key_.public_key; }
    // The block published last (0: the genesis only).
    [[nodiscard]] uint64_t published() const noexcept { return published_.load(); }
    // {"bootnode", "public_key", "published", "chain_head", "archive": <its status>, "origin": ...}
    nlohmann::json status();

  private:
    BridgeProcess() = default;
    Bytes signed_header(uint64_t number, const Hash& root) const;

    BridgeProcessOptions options_;
    dht::KeyPair key_;
    std::unique_ptr<state::ChainReplay> replay_;
    std::unique_ptr<MgrNodeProcess> archive_;
    std::unique_ptr<MgrNodeProcess> origin_;
    std::vector<mgr::Region> regions_;  // every gossip region: a block is cut into one item each
    std::atomic<uint64_t> published_{0};
    std::atomic<bool> publishing_{true};
};

}  // namespace carousel::node
