// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Genesis allocations: reading a genesis file (geth's or besu's genesis.json, or a bare
// {"alloc": {...}}) or an ethereum/tests account map ("pre", "postState") into accounts, code and
// storage, and computing its state root.
//
// Accepted account maps, as the clients and ethereum/tests write them:
//  - addresses with or without "0x", any case (EIP-55 checksums are not checked);
//  - "balance" (or the older "wei") and "nonce": a string, hex if it starts with "0x", decimal
//    otherwise, or a non-negative JSON integer; absent means zero. Balances are at most 2^256 - 1,
//    nonces at most 2^64 - 1;
//  - "code": hex with or without "0x" ("0x" is no code);
//  - "storage": {slot: value}, both hex with or without "0x", 1 to 64 digits. Slots are left-padded
//    to 32 bytes; zero values are absent from the storage trie;
//  - every listed account is kept, empty ones included; unknown fields ("privateKey", "comment",
//    "secretKey", ...) and everything outside "alloc" (config, header fields) are ignored.
//
// Errors are values. Their message names the place in the file and the problem, for example
// `alloc.0xabc….balance: not a number: "12x"`.

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>
#include <tl/expected.hpp>

#include <carousel/core/bytes.hpp>

#include "account.hpp"

namespace carousel::state {

struct GenesisState {
    // Every account, sorted by address, each once. storage_root and code_hash are computed from the
    // account's storage and code.
    std::vector<std::pair<Address, Account>> accounts;
    // Non-zero storage slots of each account that has any, sorted by slot key.
    std::map<Address, std::vector<StorageSlot>> storage;
    // Contract code by code hash (accounts with the same code share one entry; no empty code).
    std::map<Hash, Bytes> code;

    [[nodiscard]] std::size_t account_count() const noexcept { return accounts.size(); }
    // Accounts with non-empty code.
    [[nodiscard]] std::size_t contract_count() const noexcept;
    // Non-zero storage slots over all accounts.
    [[nodiscard]] std::size_t slot_count() const noexcept;
};

struct GenesisError {
    std::string message;
};
template <class T>
using GenesisResult = tl::expected<T, GenesisError>;

// Parses an account map (a genesis "alloc", or an ethereum/tests "pre" or "postState" object).
// `where` names the map in error messages ("alloc", "pre").
GenesisResult<GenesisState> parse_accounts(const nlohmann::json& accounts, std::string_view where);

// Parses the text of a genesis file: a JSON object with an "alloc" object.
GenesisResult<GenesisState> parse_genesis(std::string_view json_text);

// Reads and parses a genesis file. Error messages do not repeat the path (callers name the file).
GenesisResult<GenesisState> load_genesis(const std::filesystem::path& file);

// The state root of `state`: the account trie over keccak256(address).
Hash state_root(const GenesisState& state);

}  // namespace carousel::state
