// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Runs the carousel binary (CAROUSEL_BINARY) from end-to-end tests and captures what it prints.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

namespace carousel::test {

struct RunResult {
    int exit_code{-1};
    std::string out;
    std::string err;
};

// `s` quoted for /bin/sh.
inline std::string shell_quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string{"'\\''"} : std::string(1, c);
    return q + "'";
}

inline std::string read_file(const std::filesystem::path& p) {
    std::ifstream in{p, std::ios::binary};
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Runs `carousel <args>` (args already quoted), capturing stdout and stderr and the exit code.
inline RunResult run_carousel(const std::string& args) {
    static int counter = 0;
    const std::filesystem::path err_file =
        std::filesystem::temp_directory_path() /
        ("carousel_cli_err_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
    const std::string cmd = shell_quote(CAROUSEL_BINARY) + " " + args + " 2>" + shell_quote(err_file.string());
    RunResult r;
    FILE* p = popen(cmd.c_str(), "r");
    if (p == nullptr) {
        ADD_FAILURE() << "popen failed: " << cmd;
        return r;
    }
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    const int status = pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.err = read_file(err_file);
    std::filesystem::remove(err_file);
    return r;
}

}  // namespace carousel::test
