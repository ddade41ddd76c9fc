// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// A Merry-Go-Round network on LocalNet or SimGrid (`engine`, sim/scenario_net.hpp): a generated
// chain, a bridge that gossips every block, N storage nodes, and one client that syncs from them
// across epoch boundaries. Deterministic for a seed on LocalNet; used by the tests, `carousel demo`
// and the benchmarks. On SimGrid there are no joiners yet (the run fails at once with joiners > 0).
//
// The network (issue 20): every member (storage node, bridge, client, the prober) is a dht::Overlay
// node with a key drawn from the seed (keccak256(seed, index), valid as a secp256k1 secret) and a
// signed record naming its address on the net. No connection is made by hand: the nodes, the joiners
// and the client bootstrap through the bridge's record (the bootnode), find each other by Discovery
// and dial the nodes they need, at most `max_peers` connections each; the result reports every
// member's peak connection count.
//
// The run: the chain generator makes the genesis and every node is seeded with its regions of it
// (the network's genesis); blocks follow every `block_time` of simulated time, each gossiped by the
// bridge as region items (mgr/bridge.hpp) and code; the client starts after `client_start_block`
// blocks and syncs (mgr/mgr_sync.hpp). The run ends when the client is synced and verified at a
// `follow_blocks` more blocks, each of which it should reach (verified_number == that block) before
// the next one comes; or at `max_blocks`.
//
// Faults (shares of the storage nodes, chosen by the seed): `offline_share` go offline when the
// client has done a third of its work; `liar_share` alter every leaf or diff answer they send (a
// value changed, a change left out); `stale_share` stop receiving gossip, so they fall behind and
// answer for old roots.
//
// Checks the run makes as it goes (the result counts every failure): at every boundary, every
// honest node's stores hold exactly the true partial tries of their regions at that root: the
// account leaves of the region and every owner's storage root, compared with the generator's state,
// and the region's storage leaves of the first 64 owners plus an eighth of the rest (a different
// eighth at each boundary).
//
// Joining (issue 5): `joiners` more nodes, not seeded, are created after block `join_block` (0: one
// and a half epochs in, i.e. mid-epoch), bootstrap through the bridge, and join (MgrNode::join: they fill their stores
// from their neighbours, verifying everything). From the first boundary after the join their stores are checked like
// every node's (an unfilled store counts as a mismatch), and a prober asks them directly for their region's leaves at
// the boundary root (GetChunks, leaf mode) and for the diff from the previous boundary (GetDiff, once they keep it) and
// verifies the answers; it also asks once right after the join, when the answer must be a refusal (0x0). `join_liars`
// of the nodes covering each joiner's block alter every answer they send to the joiners (as the liars above) but the
// presence walk's BareStorage, which a fill cannot check (mgr/region_fill.hpp): the joiners must catch them.
// `joiner_gossip_cut` = [a, b): gossip to the joiners is dropped while the chain's head is in it (they fall behind and
// must refill). A joiner still filling at a boundary is not compared there (unfilled_checks counts it). With joiners
// the run goes on at least until two boundaries after the join.
//
// Radius change (issue 5). `growers` seeded honest nodes double their radius (one bit more:
// MgrNode::set_radius) after block `grow_block` (0: one and a half epochs in) and fill their new
// regions from their neighbours while the old ones keep serving. At that moment the prober asks each
// for a new region (the answer must be a refusal, 0x0) and for an old one at the head (the answer
// must verify). From then on, at every boundary, their stores (old and new regions; a new one still
// filling counts in unfilled_checks) are checked and probed like a joiner's. `shrinkers` other
// seeded honest nodes shrink to fit `shrink_share` of their stores' bytes (MgrNode::shrink_to_fit)
// after block `shrink_block` (0: one and a half epochs in); their remaining stores are checked at
// every boundary after. The run goes on at least until two boundaries after a growth and one after a
// shrink.

#include <chrono>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <carousel/core/bytes.hpp>
#include <carousel/mgr/mgr_node.hpp>
#include <carousel/mgr/mgr_sync.hpp>
#include <carousel/state/chain_generator.hpp>

#include "scenario_net.hpp"

namespace carousel::sim {

struct MgrScenarioConfig {
    state::GeneratorConfig chain;
    std::size_t nodes{64};
    unsigned radius_bits{253};  // each node covers 2^-(256-radius_bits) of the space: 64 nodes, 253 → ~8 copies
    unsigned region_bits{253};
    uint64_t epoch_length{16};
    std::chrono::microseconds block_time{std::chrono::seconds{12}};
    uint64_t client_start_block{3};
    uint64_t follow_blocks{16};  // blocks to follow after the sync before the run ends
    uint64_t max_blocks{400};
    // Network: bytes per second up and down (0: unlimited) and one-way latency.
    uint64_t node_bandwidth{12'500'000};    // 100 Mbit/s
    uint64_t client_bandwidth{12'500'000};  // 100 Mbit/s
    std::chrono::microseconds latency{std::chrono::milliseconds{50}};
    Engine engine{Engine::kLocalNet};  // LocalNet (deterministic) or SimGrid (issue 21)
    // Connections plus dials outstanding per member (storage nodes, the bridge, the client): the cap
    // of dht::Connections (--max-peers). A driver counts max_peers + 1 links for an instant at the cap.
    std::size_t max_peers{64};
    // Nodes send a storage trie's part in a region bare (no proof) up to this many leaves.
    std::size_t bare_leaves_max{mgr::NodeOptions{}.bare_leaves_max};
    double offline_share{0};
    double liar_share{0};
    double stale_share{0};
    // Which answers liars alter (message types; empty: every kind the client receives).
    std::set<proto::MessageType> lies_in;
    uint64_t seed{1};
    std::size_t joiners{0};
    uint64_t join_block{0};
    std::size_t join_liars{0};
    std::pair<uint64_t, uint64_t> joiner_gossip_cut{0, 0};
    uint64_t joiner_bandwidth{0};  // bytes/s of the joiners' links; 0: node_bandwidth
    std::size_t growers{0};
    uint64_t grow_block{0};
    std::size_t shrinkers{0};
    uint64_t shrink_block{0};
    double shrink_share{0.5};  // of a shrinker's store bytes at the shrink: its budget
    // Called after every block with the client's progress (0..1), the block and the simulated time.
    std::function<void(double progress, uint64_t block, std::chrono::microseconds now)> on_block;
};

// What the prober saw of one node's direct answers.
struct ProbeCounts {
    uint64_t probes_ok{0};  // its GetChunks/GetDiff answers that verified against the boundary root
    uint64_t probes_failed{0};
    uint64_t diff_probes_ok{0};
    uint64_t refused_while_filling{0};  // a GetChunks for a region it was filling answered 0x0, as it should
    uint64_t served_while_filling{0};   // ... or answered otherwise
};

// What filling its stores from its neighbours cost one node over one episode (a join, or a radius
// growth: mgr::FillRecord), and what the checks at the boundaries after it and the prober saw.
struct FillResult : ProbeCounts {
    bool filled{false};         // the episode's regions were adopted (and nothing fills now)
    uint64_t filled_number{0};  // the block its (last) fill was at
    double fill_seconds{0};     // simulated, join() or set_radius() to the first fill adopted
    uint64_t fill_bytes{0};     // answer frames received by its fills (ChunkData, CodeData)
    uint64_t fill_requests{0};
    uint64_t store_bytes{0};  // the episode's stores' byte_size right after the first fill
    uint64_t code_bytes{0};   // code blobs fetched
    uint64_t fills{0};
    uint64_t restarts{0};
    uint64_t refills{0};
    uint64_t rejected_answers{0};  // fill answers that failed verification
    uint64_t unfilled_checks{0};   // boundaries after the episode's start at which a store was filling
    uint64_t boundary_checks{0};   // its stores, at each boundary after the episode's start while filled
    uint64_t mismatches{0};        // ... that differed from the true partial tries
    uint64_t items_applied{0};     // gossip items applied
};

// One node that joined mid-run (its stores: all of them).
struct JoinedNodeResult : FillResult {
    uint64_t join_block{0};
    uint64_t owners{0};              // accounts with storage at the fill's root
    uint64_t offers_before_fill{0};  // gossip offers it sent before its first fill was adopted
    uint64_t chunk_requests_served{0};
};

// One seeded node that doubled its radius mid-run (the episode's stores: its new regions'; the
// boundary checks: old and new).
struct GrownNodeResult : FillResult {
    uint64_t grow_block{0};
    unsigned bits_before{0};
    unsigned bits_after{0};
    std::size_t new_regions{0};
    uint64_t old_served_while_filling{0};  // an old region's GetChunks, asked right after the growth, verified
    uint64_t new_region_checks{0};         // of the boundary checks, those of the new regions' stores
};

// One seeded node that shrank to a storage budget mid-run.
struct ShrunkNodeResult {
    uint64_t shrink_block{0};
    unsigned bits_before{0};
    unsigned bits_after{0};
    uint64_t bytes_before{0};  // its stores' byte_size at the shrink
    uint64_t budget{0};
    uint64_t bytes_after{0};      // right after the shrink
    uint64_t boundary_checks{0};  // its stores at each boundary after the shrink
    uint64_t mismatches{0};
};

struct MgrScenarioResult {
    bool synced{false};
    std::string failure;  // empty when the client's state equals the chain's
    uint64_t blocks{0};   // produced in all
    uint64_t sync_started_block{0};
    uint64_t sync_finished_block{0};  // first block at which the client was synced
    uint64_t boundaries_crossed{0};   // epoch boundaries passed while syncing
    uint64_t verified_block{0};       // the block the client's state last equalled
    uint64_t blocks_followed{0};      // blocks after the sync whose root the client reached before the next block
    uint64_t blocks_missed{0};        // blocks after the sync it had not reached by then
    uint64_t last_missed_block{0};    // the last of those (0: none)
    Hash verified_root{};
    Hash chain_root{};       // the chain's state root at verified_block
    double sync_seconds{0};  // simulated, start to synced
    uint64_t client_bytes_received{0};
    mgr::SyncStats client_at_sync;      // the client's counters when it first synced (bytes by kind)
    uint64_t raw_state_bytes{0};        // account + storage leaves (32-byte key + value) + code, at the end
    double bandwidth_floor_seconds{0};  // raw_state_bytes / client bandwidth
    uint64_t accounts{0};
    uint64_t slots{0};
    uint64_t codes{0};
    uint64_t gossip_bytes{0};  // Content frames received by storage nodes, in all
    double gossip_bytes_per_node_per_block{0};
    uint64_t node_bytes{0};        // bytes of trie nodes held by the storage nodes at the end (sum)
    uint64_t store_mismatches{0};  // boundary checks that failed (must be 0)
    uint64_t boundary_checks{0};
    uint64_t items_rejected{0};  // by honest nodes
    mgr::SyncStats client;
    // Connections: the cap, and the most links each storage node (seeded ones, then joiners), the
    // bridge and the client had at once (the net's peak connection count).
    std::size_t max_peers{0};
    std::vector<std::size_t> peak_connections;
    std::size_t bridge_peak_connections{0};
    std::size_t client_peak_connections{0};
    std::vector<JoinedNodeResult> joined;
    std::vector<GrownNodeResult> grown;
    std::vector<ShrunkNodeResult> shrunk;
};

MgrScenarioResult run_mgr_scenario(const MgrScenarioConfig& config);

}  // namespace carousel::sim
