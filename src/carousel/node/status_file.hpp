// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// A process's status file: one JSON object that a node or bridge process rewrites as it runs
// (`--status-file`), so that a supervisor (`carousel testnet`, a test, a user's script) can learn
// its record, progress and health without parsing log lines.
//
// write_status(path, status): writes `status` to a temporary file beside `path` and renames it over
// `path`, so a reader sees either the old whole object or the new whole one, never a torn write
// (rename(2) is atomic on one file system). Not fsynced: the file says how a running process is, and
// a crash makes it stale whatever was synced.
// read_status(path): the object, or why not ("<path>: <what>"); a file over kMaxStatusBytes or not
// holding one JSON object is refused, since another process wrote it.

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

namespace carousel::node {

inline constexpr std::uintmax_t kMaxStatusBytes = std::uintmax_t{1} << 20;

tl::expected<void, std::string> write_status(const std::filesystem::path& path, const nlohmann::json& status);
tl::expected<nlohmann::json, std::string> read_status(const std::filesystem::path& path);

}  // namespace carousel::node
