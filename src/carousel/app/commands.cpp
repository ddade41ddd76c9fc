// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "commands.hpp"

namespace carousel::app {
namespace {
int g_exit_code = 0;
}  // namespace

void set_exit_code(int code) noexcept { g_exit_code = code; }
int exit_code() noexcept { return g_exit_code; }

void register_commands(CLI::App& app) {
    register_demo(app);
    register_root(app);
    register_gen(app);
    register_bench(app);
    register_serve(app);
    register_sync(app);
    register_simulate(app);
    register_bridge(app);
    register_node(app);
    register_testnet(app);
}

}  // namespace carousel::app
