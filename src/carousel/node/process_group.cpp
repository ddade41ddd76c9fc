// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "process_group.hpp"

#include <cerrno>
#include <csignal>
#include <system_error>
#include <thread>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace carousel::node {

ProcessGroup::ProcessGroup(std::filesystem::path executable) : executable_{std::move(executable)} {}

ProcessGroup::~ProcessGroup() { stop_all(std::chrono::seconds{5}); }

tl::expected<pid_t, std::string> ProcessGroup::spawn(const ProcessSpec& spec) const {
    // Everything the child uses is made here, before fork().
    const int log = ::open(spec.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log < 0)
        return tl::unexpected{spec.name + ": " + spec.log.string() + ": " + std::generic_category().message(errno)};
    const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null < 0) {
        ::close(log);
        return tl::unexpected{spec.name + ": /dev/null: " + std::generic_category().message(errno)};
    }
    const std::string program = executable_.string();
    std::vector<char*> argv{const_cast<char*>(program.c_str())};
    for (const std::string& a : spec.args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid == 0) {
        // A supervisor that waits for SIGINT/SIGTERM with them blocked must not hand that mask on:
        // the child starts with every signal unblocked, as from a shell.
        sigset_t none;
        ::sigemptyset(&none);
        ::pthread_sigmask(SIG_SETMASK, &none, nullptr);
        ::setpgid(0, 0);
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (::getppid() != parent) ::_exit(127);  // the supervisor died before prctl took effect
        ::dup2(null, STDIN_FILENO);
        ::dup2(log, STDOUT_FILENO);
        ::dup2(log, STDERR_FILENO);
        ::execv(program.c_str(), argv.data());
        ::_exit(127);
    }
    const int fork_errno = errno;
    if (pid > 0) ::setpgid(pid, pid);  // as the child does: whichever runs first, the group exists on return
    ::close(log);
    ::close(null);
    if (pid < 0) return tl::unexpected{spec.name + ": fork: " + std::generic_category().message(fork_errno)};
    return pid;
}

tl::expected<std::size_t, std::string> ProcessGroup::start(ProcessSpec spec) {
    auto pid = spawn(spec);
    if (!pid) return tl::unexpected{pid.error()};
    processes_.push_back({std::move(spec), *pid, std::nullopt});
    return processes_.size() - 1;
}

bool ProcessGroup::reap(Process& p, bool wait) {
    if (p.exit_code) return false;
    int status = 0;
    pid_t r = 0;
    do {
        r = ::waitpid(p.pid, &status, wait ? 0 : WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == 0) return true;
    if (r < 0) {
        p.exit_code = -1;  // not our child any more (reaped elsewhere): treat as gone
        return false;
    }
    p.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
}

bool ProcessGroup::poll(std::size_t i) { return reap(processes_.at(i), false); }

bool ProcessGroup::signal(std::size_t i, int sig) {
    Process& p = processes_.at(i);
    if (!reap(p, false)) return false;
    return ::kill(p.pid, sig) == 0;
}

tl::expected<void, std::string> ProcessGroup::restart(std::size_t i) {
    Process& p = processes_.at(i);
    if (reap(p, false)) return tl::unexpected{p.spec.name + ": still running"};
    auto pid = spawn(p.spec);
    if (!pid) return tl::unexpected{pid.error()};
    p.pid = *pid;
    p.exit_code.reset();
    return {};
}

void ProcessGroup::stop_all(std::chrono::milliseconds grace) {
    for (Process& p : processes_) {
        if (reap(p, false)) ::kill(-p.pid, SIGTERM);  // the child leads its own group
    }
    const auto deadline = std::chrono::steady_clock::now() + grace;
    for (;;) {
        bool any = false;
        for (Process& p : processes_) any = reap(p, false) || any;
        if (!any) return;
        if (std::chrono::steady_clock::now() >= deadline) break;
        std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
    for (Process& p : processes_) {
        if (reap(p, false)) {
            ::kill(-p.pid, SIGKILL);
            reap(p, true);
        }
    }
}

}  // namespace carousel::node
