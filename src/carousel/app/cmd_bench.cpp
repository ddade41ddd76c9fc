// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "commands.hpp"

namespace carousel::app {
void register_bench(CLI::App& app) { app.add_subcommand("bench", "not built yet"); }
}  // namespace carousel::app
