// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// MgrNodeProcess: one Merry-Go-Round node (mgr::MgrNode) as the node of an OS process: its key, its
// datadir, its book of signed headers and its transport around the sans-IO core. `carousel node`
// runs one; `carousel bridge` runs two (its origin and its archive node, below).
//
// What open() sets up:
//  - the key: loaded from `key_file` (default <datadir>/node.key), created there on the first start
//    (node/key_file.hpp), so a restarted node comes back at the same place in the key space;
//  - the transport (net::TcpTransport, one thread): TCP and UDP bound to host:port (port 0: a free
//    port, the same number for both), through an EndpointRelay so that the core, made next, signs a
//    record naming the bound ports;
//  - the book (mgr::HeaderBook) of headers signed by `trusted`, window header_window numbers; the
//    node checks everything against it and asks its contacts for the headers it lacks
//    (MgrNode::take_headers);
//  - the stores: with a datadir, durable (mgr/node_datadir.hpp). A new datadir gets the node record
//    (its block, region size and epoch length) and empty stores; a datadir written before is
//    reopened and must hold the same block (same key and radius) and parameters, else open() fails
//    naming what differs. Without a datadir (the bridge's archive), in memory.
//
// What start() does, on a ticker every `tick` (the core's calls on the transport thread):
//  1. meets the network: bootstrap() to each bootnode (again every 5 s while its table is empty: the
//     bootnode may start after it), then, a second later, look_up_self();
//  2. once the book holds a header (the latest block) and two seconds have passed since it met the
//     network: join() for stores that hold nothing (a new node, or one killed before its first fill
//     was adopted), resume() when the datadir held data (a store catches up by the gossip items it
//     missed, from a neighbour's log, or by a verified GetDiff; failing both it refills, verified as
//     a join is: MgrNode::resume);
//  3. then follows gossip and serves, until stop().
// A node given no bootnode (the archive, seeded) skips 1 and 2.
//
// status() is the node's state as one JSON object (record, block, heads, filling, counters), for a
// status file; it runs on the transport thread and may be called from any thread.
//
// Thread safety: open() and seed() before start(); everything else from any thread.

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include <carousel/dht/enr.hpp>
#include <carousel/dht/node_key.hpp>
#include <carousel/mgr/bridge.hpp>
#include <carousel/mgr/header_book.hpp>
#include <carousel/mgr/mgr_node.hpp>
#include <carousel/mgr/node_datadir.hpp>
#include <carousel/net/tcp_transport.hpp>

#include "endpoint_relay.hpp"

namespace carousel::node {

struct NodeProcessOptions {
    std::filesystem::path datadir;           // empty: stores in memory, and key_file is required
    std::filesystem::path key_file;          // empty: <datadir>/node.key
    std::string host{"127.0.0.1"};           // an IPv4 address: the record names it
    uint16_t port{0};                        // TCP and UDP; 0: a free port
    std::vector<dht::NodeRecord> bootnodes;  // none: the node only waits to be found
    dht::PublicKey trusted{};                // headers signed by this key are the chain
    unsigned radius_bits{0};                 // the block of 2^radius_bits keys around the id (raised to a region)
    mgr::NodeOptions node;                   // region_bits, epoch_length, overlay.connections.max_peers, ...
    std::size_t header_window{0};            // 0: two epochs and 16 blocks
    proto::Time tick{std::chrono::milliseconds{200}};
    bool corrupt_answers{false};  // test-only misbehaviour: every answer it sends is altered (proto::corrupt_answer)
    net::TcpOptions tcp;
};

class MgrNodeProcess {
  public:
    // Every failure is one line ("<what>: <why>").
    static tl::expected<std::unique_ptr<MgrNodeProcess>, std::string> open(NodeProcessOptions options);
    ~MgrNodeProcess();
    MgrNodeProcess(const MgrNodeProcess&) = delete;
    MgrNodeProcess& operator=(const MgrNodeProcess&) = delete;

    // Fills the stores from a store holding the whole state at `root` (block `number`) with `code`
    // (MgrNode::seed): the bridge's archive. Before start().
    tl::expected<void, std::string> seed(const trie::NodeStore& full, uint64_t number, const Hash& root,
                                         const std::vector<Bytes>& code);
    // Puts a header into the book before start() (the bridge's own headers). False if refused.
    bool accept_header(ByteView encoded);

    void start();
    // Stops the ticker and the transport (connections closed); idempotent.
    void stop();

    // Offers a block's gossip (MgrNode::publish, on the transport thread): the bridge's origin.
    void publish(mgr::BlockGossip block);
    // Hands a block's gossip to the node as if it had come from a peer (MgrNode::deliver): the bridge's
    // archive, which must miss no block.
    void deliver(mgr::BlockGossip block);

    // The record as announced at open() (the radius may grow later).
    [[nodiscard]] const dht::NodeRecord& record() const noexcept { return record_; }
    [[nodiscard]] const dht::KeyPair& key() const noexcept { return key_; }
    // Whether the datadir held stores with data at open().
    [[nodiscard]] bool reopened() const noexcept { return reopened_; }
    // The node's state (see above); {"stopped": true} once the transport has stopped.
    nlohmann::json status();

  private:
    MgrNodeProcess() = default;
    // MgrNode::publish or MgrNode::deliver of `block`, on the transport thread.
    using BlockCall = void (mgr::MgrNode::*)(const std::vector<mgr::RegionItem>&, const std::vector<Bytes>&,
                                             proto::Time, ByteView);
    void post_block(mgr::BlockGossip block, BlockCall call);
    // One tick on the transport thread: the steps of start().
    void step(proto::Time now);
    nlohmann::json status_now(proto::Time now) const;

    NodeProcessOptions options_;
    dht::KeyPair key_;
    dht::NodeRecord record_;
    std::unique_ptr<mgr::NodeDatadir> datadir_;  // before the node: its stores live in it
    std::unique_ptr<mgr::HeaderBook> book_;
    EndpointRelay relay_;
    std::unique_ptr<net::TcpTransport> transport_;
    std::unique_ptr<mgr::MgrNode> node_;
    bool reopened_{false};
    bool seeded_{false};

    // The steps (transport thread).
    enum class Phase { kMeet, kLookUp, kJoin, kRunning };
    Phase phase_{Phase::kMeet};
    proto::Time met_at_{0};
    proto::Time last_bootstrap_{0};

    std::thread io_;
    std::thread ticker_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_{false};
    std::atomic<bool> started_{false};
};

}  // namespace carousel::node
