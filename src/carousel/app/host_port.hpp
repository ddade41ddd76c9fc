// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// HOST:PORT arguments of the network commands.

#include <cstdint>
#include <optional>
#include <string>

namespace carousel::app {

struct HostPort {
    std::string host;
    uint16_t port{0};
};

// Parses "HOST:PORT" (the last colon splits; "[::1]:30303" for IPv6). nullopt when malformed.
std::optional<HostPort> parse_host_port(const std::string& text);

}  // namespace carousel::app
