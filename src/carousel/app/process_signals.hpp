// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// The long-running commands (`serve`, `node`, `bridge`, `testnet`) end on SIGINT or SIGTERM. They
// block both before any thread starts, so that only the command's own wait sees them.

#include <chrono>

namespace carousel::app {

// Blocks SIGINT and SIGTERM in the calling thread (and the threads it starts afterwards).
void block_stop_signals();
// Waits up to `timeout` for SIGINT or SIGTERM; true if one came.
bool wait_stop_signal(std::chrono::milliseconds timeout);

}  // namespace carousel::app
