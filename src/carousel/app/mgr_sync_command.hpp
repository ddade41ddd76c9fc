// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// `carousel sync --mgr` (app/cmd_sync_mgr.cpp): its flags, added to `carousel sync`, and its run.

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "mgr_network_flags.hpp"

namespace carousel::app {

struct MgrSyncFlags {
    bool mgr{false};
    std::vector<std::string> bootnodes;
    std::string trust_bridge;
    uint64_t follow{0};
    std::string listen{"127.0.0.1:0"};
    MgrNetworkFlags network;
};

void add_mgr_sync_flags(CLI::App& cmd, MgrSyncFlags& flags);
// Syncs into `db` (created if missing); gives up after `timeout_s`; `json`: one JSON object on stdout.
// Returns the exit code.
int run_mgr_sync(const MgrSyncFlags& flags, const std::string& db, double timeout_s, bool json);

}  // namespace carousel::app
