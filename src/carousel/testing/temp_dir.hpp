// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// TempDir: a fresh directory for a test or a benchmark database, removed with everything in it
// when the TempDir goes away. Test-only (tests, benchmarks and fuzzers) and header only; still in
// namespace carousel::store, where its users name it.

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace carousel::store {

class TempDir {
  public:
    // Creates a new directory <system temp dir>/<prefix>XXXXXX with mkdtemp (a unique name, mode
    // 0700). Aborts the process if it cannot: tests and benchmarks cannot go on without it.
    explicit TempDir(std::string_view prefix = "carousel-") {
        std::error_code ec;
        std::filesystem::path base = std::filesystem::temp_directory_path(ec);
        if (ec) base = "/tmp";
        std::string templ = (base / std::string{prefix}).string() + "XXXXXX";
        if (::mkdtemp(templ.data()) == nullptr) {
            std::perror("mkdtemp");
            std::abort();
        }
        path_ = templ;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

  private:
    std::filesystem::path path_;
};

}  // namespace carousel::store
