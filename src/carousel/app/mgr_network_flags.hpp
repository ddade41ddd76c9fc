// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// The flags every process of one Merry-Go-Round network shares (`carousel bridge`, `node`, `sync
// --mgr`, `testnet`): they must agree on the gossip region size and the epoch length, and each has
// a connection cap. Also the parsing of what names other processes: ENR bootnodes and the bridge's
// public key.

#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <tl/expected.hpp>

#include <carousel/dht/enr.hpp>
#include <carousel/dht/node_key.hpp>
#include <carousel/mgr/mgr_node.hpp>

namespace carousel::app {

struct MgrNetworkFlags {
    unsigned region_bits{252};  // 16 gossip regions: a testnet's chain is small
    uint64_t epoch{64};
    std::size_t max_peers{64};

    // The node options these flags give (the rest MgrNode's defaults).
    [[nodiscard]] mgr::NodeOptions node_options() const;
};

void add_network_flags(CLI::App& cmd, MgrNetworkFlags& flags);

// "enr:..." records, each one's signature checked; the error names the bad one.
tl::expected<std::vector<dht::NodeRecord>, std::string> parse_bootnodes(const std::vector<std::string>& texts);
// `--trust-bridge`: "0x" and 66 hex digits of a compressed secp256k1 public key.
tl::expected<dht::PublicKey, std::string> parse_trusted_key(const std::string& text);

}  // namespace carousel::app
