// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// `carousel root --genesis FILE [--json]`: the state root of a genesis allocation.
#include <chrono>
#include <cmath>
#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include <carousel/core/hex.hpp>
#include <carousel/state/genesis.hpp>

#include "commands.hpp"

namespace carousel::app {
namespace {

struct RootOptions {
    std::string genesis;
    bool json{false};
};

constexpr const char* kRootFooter = R"(
Reads a geth or besu genesis.json (or a bare {"alloc": {...}}) and prints its state root: the root
of the account trie keccak256(address) -> RLP([nonce, balance, storageRoot, codeHash]), with each
account's storage trie and code hash computed from its "storage" and "code".

Addresses may be written with or without 0x, in any case. Balances ("balance" or "wei") and nonces
are hex ("0x..") or decimal strings, or JSON integers. Storage slots and values are hex; zero values
are left out of the storage trie. Empty accounts are kept. Other fields are ignored.

Output: 0x<root> on stdout, or with --json one object
  {"root": "0x...", "accounts": N, "contracts": N, "slots": N, "seconds": S}
where contracts counts accounts with code, slots the non-zero storage slots, and seconds the time
taken to read the file and compute the root.

On error: one line on stderr naming the file and the problem, and exit code 1.

Example:
  carousel root --genesis tests/data/genesis/mainnet.json
  0xd7f8974fb5ac78d9ac099b9ad5018bedc2ce0a72dad1827a1709da30580f0544)";

int run_root(const RootOptions& opt) {
    const auto t0 = std::chrono::steady_clock::now();
    auto state = state::load_genesis(opt.genesis);
    if (!state) {
        std::cerr << "carousel root: " << opt.genesis << ": " << state.error().message << '\n';
        return 1;
    }
    const Hash root = state::state_root(*state);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    if (opt.json) {
        nlohmann::ordered_json out;
        out["root"] = to_hex_prefixed(view(root));
        out["accounts"] = state->account_count();
        out["contracts"] = state->contract_count();
        out["slots"] = state->slot_count();
        out["seconds"] = std::round(seconds * 1e6) / 1e6;
        std::cout << out.dump() << '\n';
    } else {
        std::cout << to_hex_prefixed(view(root)) << '\n';
    }
    return 0;
}

}  // namespace

void register_root(CLI::App& app) {
    auto* cmd = app.add_subcommand("root", "Print the state root of a genesis file (geth or besu genesis.json)");
    auto opt = std::make_shared<RootOptions>();
    cmd->add_option("--genesis", opt->genesis, "Genesis file: geth or besu genesis.json, or {\"alloc\": {...}}")
        ->required()
        ->option_text("FILE");
    cmd->add_flag("--json", opt->json, "Print one JSON object: root, accounts, contracts, slots, seconds");
    cmd->footer(kRootFooter);
    cmd->callback([opt] { set_exit_code(run_root(*opt)); });
}

}  // namespace carousel::app
