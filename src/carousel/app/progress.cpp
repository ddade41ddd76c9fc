// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "progress.hpp"

#include <cstdio>

#include <unistd.h>

namespace carousel::app {

using Clock = std::chrono::steady_clock;

Progress::Progress(std::string label, uint64_t total, bool enabled)
    : label_{std::move(label)},
      total_{total == 0 ? 1 : total},
      enabled_{enabled},
      tty_{isatty(STDERR_FILENO) != 0},
      start_{Clock::now()},
      last_draw_{start_} {}

void Progress::update(uint64_t done, const std::string& detail) {
    if (!enabled_) return;
    const auto now = Clock::now();
    const auto interval = tty_ ? std::chrono::milliseconds{100} : std::chrono::milliseconds{3000};
    if (now - last_draw_ < interval) return;
    last_draw_ = now;
    draw(done, false, detail);
}

void Progress::finish() {
    if (enabled_) draw(total_, true, {});
}

void Progress::draw(uint64_t done, bool final, const std::string& detail) {
    const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
    const double fraction = static_cast<double>(done) / static_cast<double>(total_);
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(fraction * kWidth);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(kWidth, '.');
    char tail[96];
    if (final) {
        std::snprintf(tail, sizeof tail, "done in %.2f s", elapsed);
    } else if (done == 0) {
        std::snprintf(tail, sizeof tail, "ETA --");
    } else {
        const double eta = elapsed / fraction - elapsed;
        std::snprintf(tail, sizeof tail, "ETA %.1f s", eta);
    }
    std::fprintf(stderr, "%s%-24s [%s] %5.1f%%  %s%s%s%s", tty_ ? "\r" : "", label_.c_str(), bar.c_str(),
                 100.0 * fraction, tail, detail.empty() ? "" : "  ", detail.c_str(), (tty_ && !final) ? "" : "\n");
    std::fflush(stderr);
}

}  // namespace carousel::app
