// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "fork_join.hpp"

#include "keccak.hpp"

namespace carousel {

ForkJoin::ForkJoin(bool helper) : helper_{helper && std::thread::hardware_concurrency() > 1} {}

ForkJoin::~ForkJoin() {
    if (!thread_.joinable()) return;
    {
        const std::lock_guard lock{mutex_};
        stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

void ForkJoin::run(const std::function<void()>& mine, const std::function<void()>& theirs) {
    if (!parallel()) {
        mine();
        theirs();
        return;
    }
    if (!thread_.joinable()) thread_ = std::thread{[this] { loop(); }};
    {
        const std::lock_guard lock{mutex_};
        task_ = &theirs;
    }
    wake_.notify_one();
    mine();
    std::unique_lock lock{mutex_};
    done_.wait(lock, [this] { return task_ == nullptr; });
    add_keccak_permutations(task_permutations_);
}

void ForkJoin::loop() {
    std::unique_lock lock{mutex_};
    for (;;) {
        wake_.wait(lock, [this] { return stop_ || task_ != nullptr; });
        if (stop_) return;
        const std::function<void()>* task = task_;
        lock.unlock();
        const uint64_t p0 = keccak_permutations();
        (*task)();
        const uint64_t ran = keccak_permutations() - p0;
        lock.lock();
        task_permutations_ = ran;
        task_ = nullptr;
        done_.notify_one();
    }
}

}  // namespace carousel
