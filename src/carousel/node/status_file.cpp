// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "status_file.hpp"

#include <fstream>
#include <sstream>
#include <system_error>

#include <unistd.h>

namespace carousel::node {

namespace fs = std::filesystem;

tl::expected<void, std::string> write_status(const fs::path& path, const nlohmann::json& status) {
    // The temporary name carries the pid: two writers (which should not exist) never share one.
    fs::path temporary = path;
    temporary += ".tmp." + std::to_string(::getpid());
    {
        std::ofstream out{temporary, std::ios::binary | std::ios::trunc};
        out << status.dump() << '\n';
        out.flush();
        if (!out) return tl::unexpected{temporary.string() + ": cannot write the status file"};
    }
    std::error_code ec;
    fs::rename(temporary, path, ec);
    if (ec) {
        fs::remove(temporary, ec);
        return tl::unexpected{path.string() + ": cannot replace the status file: " + ec.message()};
    }
    return {};
}

tl::expected<nlohmann::json, std::string> read_status(const fs::path& path) {
    std::error_code ec;
    const std::uintmax_t size = fs::file_size(path, ec);
    if (ec) return tl::unexpected{path.string() + ": " + ec.message()};
    if (size > kMaxStatusBytes) return tl::unexpected{path.string() + ": too large for a status file"};
    std::ifstream in{path, std::ios::binary};
    std::ostringstream text;
    text << in.rdbuf();
    nlohmann::json status = nlohmann::json::parse(text.str(), nullptr, false);
    if (status.is_discarded() || !status.is_object()) {
        return tl::unexpected{path.string() + ": not a status file (one JSON object)"};
    }
    return status;
}

}  // namespace carousel::node
