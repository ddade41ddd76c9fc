// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

#include <CLI/CLI.hpp>

namespace carousel::app {

// Adds every subcommand to `app`. Subcommands run from their CLI11 callbacks and record their exit
// code with set_exit_code().
void register_commands(CLI::App& app);

void set_exit_code(int code) noexcept;
int exit_code() noexcept;

// Per-command registration (one file each).
void register_root(CLI::App& app);
void register_bench(CLI::App& app);
void register_demo(CLI::App& app);
void register_serve(CLI::App& app);
void register_sync(CLI::App& app);
void register_gen(CLI::App& app);
void register_simulate(CLI::App& app);
void register_node(CLI::App& app);
void register_bridge(CLI::App& app);
void register_testnet(CLI::App& app);

}  // namespace carousel::app
