// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// A carousel child process for the process tests: started with its arguments, one of its output
// streams (stdout or stderr) on a pipe, the other optionally to a file.

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace carousel::test {

// first_line() is the first line the child wrote to `stream` (read before the constructor returns,
// unless `wait_for_first_line` is false), rest() reads what follows up to its exit. If `other_to` is
// given, the other stream goes to that file. stop() (or the destructor) sends SIGTERM and waits for it.
class Child {
  public:
    Child(const std::vector<std::string>& args, int stream, const std::filesystem::path& other_to = {},
          bool wait_for_first_line = true) {
        int out[2];
        if (pipe(out) != 0) return;
        pid_ = fork();
        if (pid_ == 0) {
            dup2(out[1], stream);
            close(out[0]);
            close(out[1]);
            if (!other_to.empty()) {
                const int fd = open(other_to.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
                if (fd >= 0) dup2(fd, stream == STDOUT_FILENO ? STDERR_FILENO : STDOUT_FILENO);
            }
            std::vector<char*> argv{const_cast<char*>(CAROUSEL_BINARY)};
            for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
            argv.push_back(nullptr);
            execv(CAROUSEL_BINARY, argv.data());
            _exit(127);
        }
        close(out[1]);
        pipe_ = fdopen(out[0], "r");
        // The whole line, however long (a --json line can hold many records).
        char chunk[512] = {};
        while (wait_for_first_line && pipe_ != nullptr && std::fgets(chunk, sizeof chunk, pipe_) != nullptr) {
            first_line_ += chunk;
            if (!first_line_.empty() && first_line_.back() == '\n') break;
        }
    }
    ~Child() {
        stop();
        if (pipe_ != nullptr) std::fclose(pipe_);
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    const std::string& first_line() const { return first_line_; }
    pid_t pid() const { return pid_; }
    // SIGTERM, then waits; returns the exit code (-1 if it did not exit normally).
    int stop() { return signal_and_wait(SIGTERM); }
    // Sends `sig` (0: none) and waits for the child; returns its exit code (-1 if it did not exit
    // normally).
    int signal_and_wait(int sig) {
        if (pid_ <= 0) return exit_code_;
        if (sig != 0) kill(pid_, sig);
        int status = 0;
        waitpid(pid_, &status, 0);
        pid_ = -1;
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        return exit_code_;
    }
    // The rest of the stream, to the child's exit (call after stop()).
    std::string rest() {
        std::string r;
        char buf[4096];
        std::size_t n = 0;
        while (pipe_ != nullptr && (n = std::fread(buf, 1, sizeof buf, pipe_)) > 0) r.append(buf, n);
        return r;
    }

  private:
    pid_t pid_{-1};
    int exit_code_{-1};
    FILE* pipe_{nullptr};
    std::string first_line_;
};

// A `carousel serve` child listening on `listen` (with `extra` arguments; its standard error to
// `err_to` if given); reads its "listening on HOST:PORT root 0x…" line; stopped at the end.
class Server {
  public:
    explicit Server(const std::filesystem::path& db, const std::vector<std::string>& extra = {},
                    const std::filesystem::path& err_to = {}, const std::string& listen = "127.0.0.1:0")
        : child_{args(db, extra, listen), STDOUT_FILENO, err_to} {
        char address[128] = {}, root[80] = {};
        if (std::sscanf(child_.first_line().c_str(), "listening on %127s root %79s", address, root) == 2) {
            address_ = address;
            root_ = root;
        }
    }
    const std::string& address() const { return address_; }
    const std::string& root() const { return root_; }
    Child& child() { return child_; }
    // kill -9.
    void kill9() { child_.signal_and_wait(SIGKILL); }

  private:
    static std::vector<std::string> args(const std::filesystem::path& db, const std::vector<std::string>& extra,
                                         const std::string& listen) {
        std::vector<std::string> a{"serve", "--db", db.string(), "--listen", listen};
        a.insert(a.end(), extra.begin(), extra.end());
        return a;
    }

    Child child_;
    std::string address_;
    std::string root_;
};

}  // namespace carousel::test
