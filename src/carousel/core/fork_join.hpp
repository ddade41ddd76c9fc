// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// ForkJoin: one helper thread that runs one task beside the caller's, for work that splits in two
// independent halves (a block's storage tries, the two halves of the account trie). The thread is
// started by the first run() and waits between calls, so a call costs a wake-up (microseconds), not a
// thread start.
//
// A ForkJoin made with `helper == false`, or on a machine with a single hardware thread, has no
// thread: run() does both tasks on the caller, one after the other (the same results: the halves
// are independent by contract).
//
// The Keccak permutations the helper runs for a task are added to the caller's count
// (keccak_permutations()): the work was done on its behalf.
//
// Not thread-safe: one caller at a time.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

namespace carousel {

class ForkJoin {
  public:
    explicit ForkJoin(bool helper = true);
    ~ForkJoin();
    ForkJoin(const ForkJoin&) = delete;
    ForkJoin& operator=(const ForkJoin&) = delete;

    // Runs `mine` on the calling thread and `theirs` on the helper, and returns when both are done.
    // The tasks must not touch the same memory (other than reading what neither writes) and must not
    // throw.
    void run(const std::function<void()>& mine, const std::function<void()>& theirs);

    // Whether there is a helper thread (else run() is serial).
    bool parallel() const noexcept { return helper_; }

  private:
    void loop();

    const bool helper_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable done_;
    const std::function<void()>* task_{nullptr};  // set by run(), cleared by the helper when finished
    uint64_t task_permutations_{0};               // the Keccak permutations the last task ran
    bool stop_{false};
    std::thread thread_;
};

}  // namespace carousel
