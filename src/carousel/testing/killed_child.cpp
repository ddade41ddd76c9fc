// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "killed_child.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX names it only here

namespace carousel::testing {

std::unique_ptr<KilledChild> KilledChild::start(const std::string& test, const char* dir_env, const std::string& dir,
                                                const char* fd_env) {
    std::string self(4096, '\0');
    const ssize_t len = ::readlink("/proc/self/exe", self.data(), self.size() - 1);
    if (len <= 0) return nullptr;
    self.resize(static_cast<std::size_t>(len));
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return nullptr;
    // The write end must survive exec: clear its close-on-exec flag.
    ::fcntl(fds[1], F_SETFD, 0);
    const std::string filter = "--gtest_filter=" + test;
    const std::string dir_entry = std::string{dir_env} + "=" + dir;
    const std::string fd_entry = std::string{fd_env} + "=" + std::to_string(fds[1]);
    std::vector<char*> argv{self.data(), const_cast<char*>(filter.c_str()),
                            const_cast<char*>("--gtest_also_run_disabled_tests"), nullptr};
    std::vector<char*> envp;
    for (char** e = environ; *e != nullptr; ++e) envp.push_back(*e);
    envp.push_back(const_cast<char*>(dir_entry.c_str()));
    envp.push_back(const_cast<char*>(fd_entry.c_str()));
    envp.push_back(nullptr);
    const int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);  // the child's gtest chatter
    if (null_fd < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        return nullptr;
    }
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(null_fd, STDOUT_FILENO);
        ::execve(self.c_str(), argv.data(), envp.data());
        ::_exit(127);
    }
    ::close(fds[1]);
    ::close(null_fd);
    if (pid < 0) {
        ::close(fds[0]);
        return nullptr;
    }
    return std::unique_ptr<KilledChild>{new KilledChild{pid, fds[0]}};
}

KilledChild::~KilledChild() {
    if (pid_ > 0) kill_and_reap();
    if (read_fd_ >= 0) ::close(read_fd_);
}

std::optional<uint64_t> KilledChild::read_report(int timeout_ms) {
    pollfd p{read_fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return std::nullopt;
    uint64_t value = 0;
    if (::read(read_fd_, &value, sizeof(value)) != static_cast<ssize_t>(sizeof(value))) return std::nullopt;
    return value;
}

bool KilledChild::kill_and_reap() {
    if (pid_ <= 0) return false;
    ::kill(pid_, SIGKILL);
    int status = 0;
    pid_t r = 0;
    do {
        r = ::waitpid(pid_, &status, 0);
    } while (r < 0 && errno == EINTR);
    pid_ = -1;
    return r > 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

std::optional<ChildSetup> child_setup(const char* dir_env, const char* fd_env) {
    // The child has one thread until it opens its database: getenv is safe here.
    const char* dir = std::getenv(dir_env);     // NOLINT(concurrency-mt-unsafe)
    const char* fd_text = std::getenv(fd_env);  // NOLINT(concurrency-mt-unsafe)
    if (dir == nullptr || fd_text == nullptr) return std::nullopt;
    return ChildSetup{dir, static_cast<int>(std::strtol(fd_text, nullptr, 10))};
}

bool report(const ChildSetup& setup, uint64_t value) {
    return ::write(setup.report_fd, &value, sizeof(value)) == static_cast<ssize_t>(sizeof(value));
}

}  // namespace carousel::testing
