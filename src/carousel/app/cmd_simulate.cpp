// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// `carousel simulate mgr`: a Merry-Go-Round network on the deterministic LocalNet, or on SimGrid.
#include <iostream>
#include <memory>
#include <string>

#include "commands.hpp"
#include "mgr_simulation.hpp"

namespace carousel::app {
namespace {

struct SimulateOptions {
    sim::MgrScenarioConfig config;
    double block_seconds{12};
    double latency_ms{50};
    std::string engine{"localnet"};
    bool json{false};
};

constexpr const char* kSimulateFooter = R"(
Builds a generated chain (as `carousel gen`), N storage nodes each covering an aligned block of the
key space (radius 2^bits - 1), a bridge that gossips every block's region items, and one client that
joins after a few blocks and syncs with the Merry-Go-Round walk: leaves of each region at the latest
epoch boundary, rolled forward with GetDiff at every boundary, storage and code, then per-block
diffs to follow the head. Everything runs on LocalNet's simulated clock and links (deterministic for
a seed), or with --engine simgrid on SimGrid's (a star of per-node up and down links; no --join);
times are simulated seconds, `wall time` is what the run took here.

With --join N, N more nodes join mid-run without being seeded and fill their stores from their
neighbours (verified against the trusted roots); the summary reports per joined node the bytes its
fill fetched against its stores' size, the time to fill, and the checks of its stores and answers.

With --grow N, N seeded nodes double their radius (one bit more) mid-run and fill their new regions
from their neighbours while their old regions keep serving; the summary reports per grown node what
its fill fetched against the new stores' size and the checks of all its stores and answers after.
The run goes on until two boundaries after a join or a growth.

Output: a summary, or with --json one object with every figure. Exit code 0 when the client synced,
its state root equals the chain's, the nodes' stores matched the chain at every boundary and every
joined or grown node filled and answered verifiably; 1 otherwise (or on bad options, with one line
on stderr).
)";

int run_simulate(SimulateOptions opt) {
    opt.config.block_time = std::chrono::microseconds{static_cast<int64_t>(opt.block_seconds * 1e6)};
    opt.config.latency = std::chrono::microseconds{static_cast<int64_t>(opt.latency_ms * 1e3)};
    const auto engine = sim::engine_named(opt.engine);
    if (!engine) {
        std::cerr << "carousel simulate mgr: --engine must be localnet or simgrid, not '" << opt.engine << "'\n";
        return 1;
    }
    opt.config.engine = *engine;
    if (auto ok = state::check_config(opt.config.chain); !ok) {
        std::cerr << "carousel simulate mgr: " << ok.error() << "\n";
        return 1;
    }
    const MgrSimulation run = run_mgr_simulation(opt.config, opt.json);
    if (opt.json) {
        std::cout << mgr_json(opt.config, run).dump(2) << "\n";
    } else {
        std::cout << mgr_summary(opt.config, run);
    }
    return mgr_ok(run) ? 0 : 1;
}

}  // namespace

void register_simulate(CLI::App& app) {
    auto* simulate = app.add_subcommand("simulate", "Simulate a network on LocalNet or SimGrid (scenarios: mgr)");
    simulate->require_subcommand(1);
    auto* cmd =
        simulate->add_subcommand("mgr", "Merry-Go-Round: N DHT nodes, a bridge gossiping blocks, a client syncing");
    auto opt = std::make_shared<SimulateOptions>();
    auto& c = opt->config;
    c.chain.accounts = 20'000;
    c.client_bandwidth = 625'000;
    c.node_bandwidth = 625'000;
    cmd->add_option("--accounts", c.chain.accounts, "Accounts at genesis (default 20000)")
        ->check(CLI::Range(1, 100'000'000));
    cmd->add_option("--seed", c.chain.seed, "Seed of the chain and the network (default 1)");
    cmd->add_option("--accounts-per-block", c.chain.accounts_per_block, "Changed accounts per block (default 8)")
        ->check(CLI::Range(0.0, 1e6));
    cmd->add_option("--slots-per-block", c.chain.slots_per_block, "Slot writes per block (default 12)")
        ->check(CLI::Range(0.0, 1e6));
    cmd->add_option("--nodes", c.nodes, "Storage nodes (default 64)")->check(CLI::Range(1, 4096));
    cmd->add_option("--radius-bits", c.radius_bits, "Each node covers 2^bits keys (default 253: 1/8 of the space)")
        ->check(CLI::Range(240, 256));
    cmd->add_option("--region-bits", c.region_bits, "Gossip regions of 2^bits keys (default 253)")
        ->check(CLI::Range(240, 256));
    cmd->add_option("--epoch", c.epoch_length, "E: blocks per epoch (default 16)")->check(CLI::Range(1, 1'000'000));
    cmd->add_option("--block-seconds", opt->block_seconds, "Seconds per block (default 12)")
        ->check(CLI::Range(0.1, 3600.0));
    cmd->add_option("--client-bandwidth", c.client_bandwidth,
                    "Client link, bytes/s up and down (default 625000: 5 Mbit/s)");
    cmd->add_option("--node-bandwidth", c.node_bandwidth, "Node links, bytes/s up and down (default 625000)");
    cmd->add_option("--latency-ms", opt->latency_ms, "One-way latency of every link (default 50)")
        ->check(CLI::Range(0.0, 10'000.0));
    cmd->add_option("--offline", c.offline_share, "Share of nodes that leave mid-sync (default 0)")
        ->check(CLI::Range(0.0, 0.5));
    cmd->add_option("--liars", c.liar_share, "Share of nodes that alter their answers (default 0)")
        ->check(CLI::Range(0.0, 0.5));
    cmd->add_option("--stale", c.stale_share, "Share of nodes cut off from gossip (default 0)")
        ->check(CLI::Range(0.0, 0.5));
    cmd->add_option("--bare-max", c.bare_leaves_max,
                    "A storage trie's part in a region travels bare (no proof) up to this many leaves; 0: always "
                    "with proofs (default 64)")
        ->check(CLI::Range(std::size_t{0}, proto::kMaxBareLeaves));
    cmd->add_option("--join", c.joiners,
                    "Nodes that join mid-epoch (after 1.5 epochs, or --join-block) and fill their range from "
                    "their neighbours (default 0)")
        ->check(CLI::Range(0, 64));
    cmd->add_option("--join-block", c.join_block, "Block after which the --join nodes join (default 1.5 E)");
    cmd->add_option("--grow", c.growers,
                    "Seeded nodes that double their radius (after 1.5 epochs, or --grow-block) and fill their new "
                    "regions from their neighbours (default 0)")
        ->check(CLI::Range(0, 64));
    cmd->add_option("--grow-block", c.grow_block, "Block after which the --grow nodes grow (default 1.5 E)");
    cmd->add_option("--max-peers", c.max_peers,
                    "Connections (plus dials under way) per node, bridge and client; nodes dial what they need "
                    "and close idle ones (default 64)")
        ->check(CLI::Range(std::size_t{2}, std::size_t{4096}));
    cmd->add_option("--follow", c.follow_blocks, "Blocks to follow after the sync (default 16)");
    cmd->add_option("--max-blocks", c.max_blocks, "Give up after this many blocks (default 400)");
    cmd->add_option("--engine", opt->engine,
                    "localnet (deterministic discrete events) or simgrid (SimGrid's flow model; no --join) "
                    "(default localnet)");
    cmd->add_flag("--json", opt->json, "Print one JSON object instead of the summary; no progress");
    cmd->footer(kSimulateFooter);
    c.chain.accounts_per_block = 8;
    c.chain.slots_per_block = 12;
    cmd->callback([opt] { set_exit_code(run_simulate(*opt)); });
}

}  // namespace carousel::app
