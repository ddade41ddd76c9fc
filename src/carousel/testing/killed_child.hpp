// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// KilledChild: how the crash tests kill a writer with SIGKILL at a random point. The test binary runs
// itself again as a child that executes one disabled test (the writer), which reports its progress
// (u64 values) over a pipe; the parent reads reports, kills it when it chooses, reaps it, and then
// checks what the writer left on disk.
//
// Parent: KilledChild::start(...), read_report(), kill_and_reap(). The destructor kills and reaps a
// child still running. Child: child_setup() reads where to write and what to report to from its
// environment (nullopt when the test runs on its own: it should then skip), report() writes a value.
// Everything the child needs is prepared before fork(); after it, the child only execs.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <sys/types.h>

namespace carousel::testing {

class KilledChild {
  public:
    // Runs this binary with `--gtest_filter=<test> --gtest_also_run_disabled_tests`, adding
    // `dir_env`=`dir` and `fd_env`=<the pipe's write end> to its environment; its standard output goes
    // to /dev/null. nullptr if the process could not be started.
    static std::unique_ptr<KilledChild> start(const std::string& test, const char* dir_env, const std::string& dir,
                                              const char* fd_env);
    ~KilledChild();
    KilledChild(const KilledChild&) = delete;
    KilledChild& operator=(const KilledChild&) = delete;

    // The next value the child reported, waiting at most timeout_ms; nullopt on a timeout or once the
    // child is gone.
    std::optional<uint64_t> read_report(int timeout_ms);
    // Kills the child with SIGKILL and reaps it; true if SIGKILL is what ended it.
    bool kill_and_reap();

  private:
    KilledChild(pid_t pid, int read_fd) : pid_{pid}, read_fd_{read_fd} {}
    pid_t pid_{-1};
    int read_fd_{-1};
};

struct ChildSetup {
    std::string dir;
    int report_fd{-1};
};
// In the child: the directory and report pipe the parent gave; nullopt when not started as a child.
std::optional<ChildSetup> child_setup(const char* dir_env, const char* fd_env);
// In the child: reports `value` to the parent; false if the pipe is gone.
bool report(const ChildSetup& setup, uint64_t value);

}  // namespace carousel::testing
