// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// A progress line on stderr with rate and ETA. On a terminal it redraws one line; otherwise (logs,
// CI) it prints a line at most every few seconds. Silent when disabled (--json runs).

#include <chrono>
#include <cstdint>
#include <string>

namespace carousel::app {

class Progress {
  public:
    Progress(std::string label, uint64_t total, bool enabled = true);
    // Reports `done` units out of the total; `detail` follows the ETA (what the units stand for).
    void update(uint64_t done, const std::string& detail = {});
    // Prints the final line (100% and the elapsed time).
    void finish();

  private:
    void draw(uint64_t done, bool final, const std::string& detail);

    std::string label_;
    uint64_t total_;
    bool enabled_;
    bool tty_;
    std::chrono::steady_clock::time_point start_;
    std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace carousel::app
