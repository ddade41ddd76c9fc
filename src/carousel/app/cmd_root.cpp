// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "commands.hpp"

namespace carousel::app {
void register_root(CLI::App& app) { app.add_subcommand("root", "not built yet"); }
}  // namespace carousel::app
