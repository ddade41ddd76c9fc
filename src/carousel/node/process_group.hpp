// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// ProcessGroup: the processes a supervisor starts and must stop (`carousel testnet` starts a bridge
// and N nodes; the process tests kill and restart some of them).
//
// Contract:
//  - start(spec) runs `executable` with spec.args, standard input from /dev/null, standard output and
//    error appended to spec.log (created if missing). The child gets its own process group (a ^C in
//    the supervisor's terminal reaches the supervisor, which stops the children in order) and
//    SIGTERM if the supervisor dies (Linux's PR_SET_PDEATHSIG), so no node outlives a killed
//    testnet. It starts with no signal blocked, whatever the supervisor blocks. Everything the child
//    needs is prepared before fork(); after it the child only sets those up and execs (exit code
//    127 if exec fails).
//  - poll(i) reaps the process if it exited and says whether it runs; exit_code(i) is its status
//    once reaped (the exit code, or 128 + the signal that ended it).
//  - signal(i, sig) sends a signal to a running process (kill -9 in tests); restart(i) starts a
//    process that has ended again with the same spec.
//  - stop_all(grace): SIGTERM to every running process's group, up to `grace` for them to exit,
//    SIGKILL to the groups of the rest (what they started goes too); every process is reaped when it
//    returns. The destructor does the same with 5 s.
//  - Not thread-safe. The supervisor must not reap children itself (no SIGCHLD handler with wait()).

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include <sys/types.h>

namespace carousel::node {

struct ProcessSpec {
    std::string name;  // for messages
    std::vector<std::string> args;
    std::filesystem::path log;
};

class ProcessGroup {
  public:
    explicit ProcessGroup(std::filesystem::path executable);
    ~ProcessGroup();
    ProcessGroup(const ProcessGroup&) = delete;
    ProcessGroup& operator=(const ProcessGroup&) = delete;

    // The index of the new process, or why it could not start ("<name>: <what>").
    tl::expected<std::size_t, std::string> start(ProcessSpec spec);
    bool poll(std::size_t i);
    [[nodiscard]] std::optional<int> exit_code(std::size_t i) const { return processes_.at(i).exit_code; }
    [[nodiscard]] pid_t pid(std::size_t i) const { return processes_.at(i).pid; }
    [[nodiscard]] const ProcessSpec& spec(std::size_t i) const { return processes_.at(i).spec; }
    [[nodiscard]] std::size_t size() const noexcept { return processes_.size(); }
    bool signal(std::size_t i, int sig);
    tl::expected<void, std::string> restart(std::size_t i);
    void stop_all(std::chrono::milliseconds grace);

  private:
    struct Process {
        ProcessSpec spec;
        pid_t pid{-1};
        std::optional<int> exit_code;
    };
    tl::expected<pid_t, std::string> spawn(const ProcessSpec& spec) const;
    // Reaps process i if it exited (blocking when `wait`); true if it is still running.
    bool reap(Process& p, bool wait);

    std::filesystem::path executable_;
    std::vector<Process> processes_;
};

}  // namespace carousel::node
