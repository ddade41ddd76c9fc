// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// `carousel demo`: what carousel can do today, with nothing but the build: the state root of mainnet's
// genesis (bundled) and of a generated 1M-account state, a fast prefix sync of a generated state with
// storage and code between in-process servers and a client, and a Merry-Go-Round network of 64 DHT
// nodes with a client syncing across epoch boundaries, both on a simulated network.
#include <algorithm>
#include <chrono>
#include <iostream>

#include <nlohmann/json.hpp>

#include <carousel/core/hex.hpp>
#include <carousel/core/keccak.hpp>
#include <carousel/state/genesis.hpp>
#include <carousel/trie/hash_builder.hpp>

#include "commands.hpp"
#include "demo_prefix_sync.hpp"
#include "mgr_simulation.hpp"
#include "progress.hpp"
#include "synthetic_accounts.hpp"

#ifndef CAROUSEL_DATA_DIR
#define CAROUSEL_DATA_DIR "tests/data"
#endif

namespace carousel::app {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Mainnet's genesis state root, as in its genesis block (ethereum/tests BasicTests).
constexpr const char* kMainnetGenesisRoot = "0xd7f8974fb5ac78d9ac099b9ad5018bedc2ce0a72dad1827a1709da30580f0544";

struct DemoOptions {
    std::string genesis = CAROUSEL_DATA_DIR "/genesis/mainnet.json";
    uint64_t accounts = 1'000'000;
    bool json = false;
    PrefixSyncDemoOptions sync;
    sim::MgrScenarioConfig mgr = [] {
        // A client on a slow link (12 KB/s) and short epochs (8 blocks), so that its walk crosses
        // several boundaries and rolls its data forward, as on mainnet with E = 256 and a big state.
        sim::MgrScenarioConfig c;
        c.chain.accounts = 5'000;
        c.chain.accounts_per_block = 8;
        c.chain.slots_per_block = 12;
        c.nodes = 64;
        c.epoch_length = 8;
        c.client_bandwidth = 12'000;
        c.follow_blocks = 8;
        return c;
    }();
};

int run_demo(const DemoOptions& opt) {
    nlohmann::json out;
    // 1. Mainnet genesis.
    auto t0 = Clock::now();
    auto genesis = state::load_genesis(opt.genesis);
    if (!genesis) {
        std::cerr << "carousel demo: " << opt.genesis << ": " << genesis.error().message << "\n";
        return 1;
    }
    const Hash genesis_root = state::state_root(*genesis);
    const double genesis_s = seconds_since(t0);
    const bool genesis_ok = to_hex_prefixed(view(genesis_root)) == kMainnetGenesisRoot;

    // 2. A generated state.
    Progress gen_progress{"generating accounts", opt.accounts, !opt.json};
    t0 = Clock::now();
    const auto leaves =
        synthetic_accounts(opt.accounts, Order::kKey, [&](uint64_t done) { gen_progress.update(done); });
    gen_progress.finish();
    const double gen_s = seconds_since(t0);

    Progress root_progress{"hashing the trie", opt.accounts, !opt.json};
    const uint64_t p0 = keccak_permutations();
    t0 = Clock::now();
    trie::HashBuilder hb;
    uint64_t i = 0;
    for (const auto& l : leaves) {
        hb.add_leaf(view(l.key), l.value);
        if ((++i & 0xffff) == 0) root_progress.update(i);
    }
    const Hash root = hb.root();
    const double root_s = seconds_since(t0);
    const uint64_t permutations = keccak_permutations() - p0;
    root_progress.finish();

    // 3. Fast prefix sync of a generated state with storage and code, on a simulated network.
    nlohmann::json sync;
    PrefixSyncDemoOptions sync_options = opt.sync;
    sync_options.show_progress = !opt.json;
    const bool synced = run_prefix_sync_demo(sync_options, sync);

    // 4. Merry-Go-Round: 64 DHT nodes, a bridge gossiping blocks, a client walking the network.
    const MgrSimulation mgr = run_mgr_simulation(opt.mgr, opt.json);
    const bool mgr_synced = mgr_ok(mgr);

    if (opt.json) {
        out["prefix_sync"] = sync;
        out["merry_go_round"] = mgr_json(opt.mgr, mgr);
        out["mainnet_genesis"] = {{"root", to_hex_prefixed(view(genesis_root))},
                                  {"expected", kMainnetGenesisRoot},
                                  {"matches", genesis_ok},
                                  {"accounts", genesis->account_count()},
                                  {"seconds", genesis_s}};
        out["synthetic"] = {{"accounts", opt.accounts},
                            {"root", to_hex_prefixed(view(root))},
                            {"generate_s", gen_s},
                            {"hash_builder_s", root_s},
                            {"keccak_permutations", permutations},
                            {"keccak_backend", std::string{to_string(keccak_backend())}}};
        std::cout << out.dump(2) << "\n";
    } else {
        std::cout << "\ncarousel demo\n"
                  << "  mainnet genesis   " << genesis->account_count() << " accounts, root "
                  << to_hex_prefixed(view(genesis_root)) << (genesis_ok ? "  (matches block 0)" : "  (MISMATCH)")
                  << ", " << genesis_s << " s\n"
                  << "  synthetic state   " << opt.accounts << " accounts, root " << to_hex_prefixed(view(root)) << "\n"
                  << "                    generated and sorted in " << gen_s << " s, root in " << root_s << " s ("
                  << permutations << " Keccak permutations, " << to_string(keccak_backend()) << ")\n"
                  << "  prefix sync       " << sync["accounts"].get<uint64_t>() << " accounts, "
                  << sync["slots"].get<uint64_t>() << " slots in " << sync["storage_tries"].get<uint64_t>()
                  << " storage tries, " << sync["code"].get<uint64_t>() << " code blobs from "
                  << sync["servers"].get<int>() << " servers (" << sync["mode"].get<std::string>() << " mode)\n"
                  << "                    " << sync["bytes_received"].get<uint64_t>() << " bytes received for "
                  << sync["raw_leaf_bytes"].get<uint64_t>() << " raw leaf bytes, " << sync["requests"].get<uint64_t>()
                  << " requests, " << sync["simulated_seconds"].get<double>() << " s simulated, "
                  << sync["wall_seconds"].get<double>() << " s wall\n"
                  << "                    root " << sync["root"].get<std::string>()
                  << (synced ? "  (complete and verified)" : "  (INCOMPLETE)") << "\n"
                  << "  merry-go-round\n";
        std::string summary = mgr_summary(opt.mgr, mgr);
        for (std::size_t at = 0; at < summary.size();) {
            const std::size_t end = summary.find('\n', at);
            std::cout << "                    " << summary.substr(at, end - at) << "\n";
            at = end == std::string::npos ? summary.size() : end + 1;
        }
    }
    return genesis_ok && synced && mgr_synced ? 0 : 1;
}

}  // namespace

void register_demo(CLI::App& app) {
    static DemoOptions opt;
    auto* demo =
        app.add_subcommand("demo",
                           "Show what carousel does today: state roots with timings, a fast prefix sync of a "
                           "generated state, and a Merry-Go-Round sync over 64 DHT nodes, on a simulated network");
    demo->add_option("--genesis", opt.genesis, "genesis file (default: the bundled mainnet genesis)");
    demo->add_option("--accounts", opt.accounts, "accounts in the generated state")
        ->check(CLI::Range(uint64_t{1}, uint64_t{50'000'000}));
    demo->add_flag("--json", opt.json, "print one JSON object instead of the summary");
    demo->add_option("--sync-accounts", opt.sync.accounts, "accounts in the state the prefix-sync demo syncs")
        ->check(CLI::Range(uint64_t{1}, uint64_t{5'000'000}));
    demo->add_option("--servers", opt.sync.servers, "servers in the prefix-sync demo")->check(CLI::Range(1, 64));
    demo->add_flag("--leaf-mode", opt.sync.leaf_mode, "sync leaves with edge proofs instead of whole sub-tries");
    demo->add_option("--mgr-accounts", opt.mgr.chain.accounts, "accounts at genesis in the Merry-Go-Round demo")
        ->check(CLI::Range(uint64_t{1}, uint64_t{1'000'000}));
    demo->callback([] { set_exit_code(run_demo(opt)); });
}

}  // namespace carousel::app
