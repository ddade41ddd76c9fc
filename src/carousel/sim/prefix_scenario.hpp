// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Fast prefix sync on LocalNet: a generated state (with storage and code) served from memory by
// in-process ChunkServers, synced by one PrefixSync client over links with latency and bandwidth.
// Deterministic for a seed; `carousel demo` runs it, and the prefix-sync tests build on its parts
// (ServedChain, check_state).

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include <carousel/core/bytes.hpp>
#include <carousel/net/local_net.hpp>
#include <carousel/prefix/chunk_server.hpp>
#include <carousel/prefix/prefix_sync.hpp>
#include <carousel/state/chain_generator.hpp>
#include <carousel/trie/node_store.hpp>

namespace carousel::sim {

// A generated chain held in memory: its genesis and `blocks` blocks after it (roots[0] is the
// genesis root, roots.back() the head). `ok` is false when the generator failed.
struct ServedChain {
    trie::MemoryNodeStore nodes;
    state::MemoryCodeStore code;
    std::unique_ptr<state::ChainGenerator> generator;
    std::vector<Hash> roots;
    bool ok{false};

    // `progress(done)` as ChainGenerator::genesis reports it.
    ServedChain(const state::GeneratorConfig& config, int blocks, const std::function<void(uint64_t)>& progress = {});
};

// What a synced copy of the state at `root` holds.
struct StateCheck {
    bool complete{false};        // every account decodes, every storage trie and code blob is there
    uint64_t accounts{0};        // account leaves walked
    uint64_t raw_leaf_bytes{0};  // key + value of every account and storage leaf, plus each distinct code blob
};

// Walks the whole state at `root` in `nodes` and `code`.
StateCheck check_state(trie::NodeStore& nodes, const state::CodeStore& code, const Hash& root);

struct PrefixScenarioConfig {
    state::GeneratorConfig chain;  // the served state (its genesis)
    int servers{4};
    bool leaf_mode{false};
    uint64_t server_uplink{12'500'000};    // bytes/s each (100 Mbit/s)
    uint64_t client_downlink{50'000'000};  // bytes/s (400 Mbit/s)
    std::chrono::milliseconds latency{30};
    std::chrono::microseconds give_up_after{std::chrono::hours{1}};  // simulated: a stuck sync must not hang
};

struct PrefixScenarioResult {
    bool generated{false};
    bool done{false};      // the client finished
    StateCheck state;      // the client's copy, walked after the run
    bool verified{false};  // done, complete and every generated account there
    Hash root{};
    double simulated_seconds{0};
    double wall_seconds{0};
    prefix::SyncProgress progress;
    std::map<proto::PeerId, prefix::PeerStats> peers;  // the client's view of each server
};

// Runs one sync. `on_generate(done)` reports the genesis; `on_step(progress)` is called every 250 ms
// of simulated time while the client syncs.
PrefixScenarioResult run_prefix_scenario(const PrefixScenarioConfig& config,
                                         const std::function<void(uint64_t)>& on_generate = {},
                                         const std::function<void(const prefix::SyncProgress&)>& on_step = {});

}  // namespace carousel::sim
