// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "host_port.hpp"

#include <charconv>

namespace carousel::app {

std::optional<HostPort> parse_host_port(const std::string& text) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return std::nullopt;
    HostPort a;
    a.host = text.substr(0, colon);
    if (a.host.size() > 2 && a.host.front() == '[' && a.host.back() == ']')
        a.host = a.host.substr(1, a.host.size() - 2);
    const std::string port = text.substr(colon + 1);
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || end != port.data() + port.size() || value > 65535) return std::nullopt;
    a.port = static_cast<uint16_t>(value);
    return a;
}

}  // namespace carousel::app
