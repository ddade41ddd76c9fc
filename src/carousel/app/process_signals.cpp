// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "process_signals.hpp"

#include <csignal>
#include <ctime>

namespace carousel::app {
namespace {

sigset_t stop_signals() {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    return signals;
}

}  // namespace

void block_stop_signals() {
    const sigset_t signals = stop_signals();
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

bool wait_stop_signal(std::chrono::milliseconds timeout) {
    const sigset_t signals = stop_signals();
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    ts.tv_nsec = static_cast<long>((timeout.count() % 1000) * 1'000'000);
    return sigtimedwait(&signals, nullptr, &ts) > 0;
}

}  // namespace carousel::app
