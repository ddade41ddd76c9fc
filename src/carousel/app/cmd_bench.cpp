// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// `carousel bench trie`: the cost of computing a state root, against the Keccak floor measured in
// the same run.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <vector>

#include <nlohmann/json.hpp>

#include <carousel/core/hex.hpp>
#include <carousel/core/keccak.hpp>
#include <carousel/trie/hash_builder.hpp>
#include <carousel/trie/trie.hpp>

#include "commands.hpp"
#include "hash_cost.hpp"
#include "synthetic_accounts.hpp"

namespace carousel::app {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

using Leaf = SyntheticLeaf;

int run_bench_trie(uint64_t accounts, bool json) {
    const std::vector<Leaf> leaves = synthetic_accounts(accounts, Order::kGeneration);
    const std::vector<Leaf> sorted = synthetic_accounts(accounts, Order::kKey);

    // HashBuilder on sorted keys, alternating with the Keccak floor measurement so that both see the
    // same machine load (it is shared and noisy): five rounds, medians reported.
    constexpr int kRounds = 5;
    std::vector<double> hb_times, ratios, batch_ns, single_ns;
    Hash hb_root{};
    uint64_t permutations = 0;
    for (int rep = 0; rep < kRounds; ++rep) {
        trie::HashBuilder hb;
        const uint64_t p0 = keccak_permutations();
        const auto t0 = Clock::now();
        for (const Leaf& l : sorted) hb.add_leaf(view(l.key), l.value);
        hb_root = hb.root();
        hb_times.push_back(seconds_since(t0));
        permutations = keccak_permutations() - p0;
        const HashCost cost = measure_hash_cost(110);
        batch_ns.push_back(cost.batch_ns);
        single_ns.push_back(cost.single_ns);
        ratios.push_back(hb_times.back() / (static_cast<double>(permutations) * cost.batch_ns * 1e-9));
    }
    uint64_t nodes = 0;
    {
        trie::HashBuilder counter{[&](ByteView, const Hash&, ByteView) { ++nodes; }};
        for (const Leaf& l : sorted) counter.add_leaf(view(l.key), l.value);
        counter.root();
    }
    const double hb_s = median(hb_times);
    const HashCost cost{median(single_ns), median(batch_ns)};
    const double ratio = median(ratios);

    // Trie: inserts in generation order, then one root().
    double trie_s = 0;
    Hash trie_root{};
    {
        trie::Trie t;
        const auto t0 = Clock::now();
        for (const Leaf& l : leaves) {
            if (!t.put(view(l.key), l.value)) {
                std::cerr << "carousel bench trie: trie insert failed\n";
                return 1;
            }
        }
        trie_root = t.root();
        trie_s = seconds_since(t0);
    }
    if (trie_root != hb_root) {
        std::cerr << "carousel bench trie: Trie and HashBuilder disagree on the root\n";
        return 1;
    }

    // The floor: every permutation at the cost of one single-block hash.
    const double floor_batch_s = static_cast<double>(permutations) * cost.batch_ns * 1e-9;
    const double floor_single_s = static_cast<double>(permutations) * cost.single_ns * 1e-9;

    if (json) {
        nlohmann::json j;
        j["accounts"] = accounts;
        j["root"] = to_hex_prefixed(view(hb_root));
        j["hash_builder_s"] = hb_s;
        j["trie_s"] = trie_s;
        j["keccak_permutations"] = permutations;
        j["hashed_nodes"] = nodes;
        j["keccak_backend"] = std::string{to_string(keccak_backend())};
        j["hash_ns_single"] = cost.single_ns;
        j["hash_ns_batched"] = cost.batch_ns;
        j["floor_batched_s"] = floor_batch_s;
        j["floor_single_s"] = floor_single_s;
        j["hash_builder_over_batched_floor"] = ratio;
        std::cout << j.dump() << "\n";
    } else {
        std::cout << "accounts            " << accounts << "\n"
                  << "root                " << to_hex_prefixed(view(hb_root)) << "\n"
                  << "hash builder        " << hb_s << " s  (sorted keys, median of 5)\n"
                  << "trie                " << trie_s << " s  (inserts in generation order + root)\n"
                  << "keccak permutations " << permutations << " (" << nodes << " nodes hashed)\n"
                  << "keccak backend      " << to_string(keccak_backend()) << ": " << cost.single_ns << " ns single, "
                  << cost.batch_ns << " ns per hash 8-wide (110-byte messages)\n"
                  << "floor               " << floor_batch_s << " s batched, " << floor_single_s << " s single\n"
                  << "hash builder/floor  " << ratio << "x batched (median of per-round ratios), "
                  << hb_s / floor_single_s << "x single\n";
    }
    return 0;
}

}  // namespace

void register_bench(CLI::App& app) {
    auto* bench = app.add_subcommand("bench", "Measure carousel's hot paths");
    bench->require_subcommand(1);
    auto* trie_cmd =
        bench->add_subcommand("trie",
                              "Build the root of N synthetic accounts with HashBuilder (sorted) and Trie (inserts), "
                              "and compare with the Keccak floor measured in the same run");
    static uint64_t accounts = 1'000'000;
    static bool json = false;
    trie_cmd->add_option("--accounts", accounts, "number of accounts (key keccak(uint64_be(i)), nonce = balance = i)")
        ->check(CLI::Range(uint64_t{1}, uint64_t{100'000'000}));
    trie_cmd->add_flag("--json", json, "print one JSON object");
    trie_cmd->callback([] { set_exit_code(run_bench_trie(accounts, json)); });
}

}  // namespace carousel::app
