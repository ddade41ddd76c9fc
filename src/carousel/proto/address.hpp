// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Address: where a driver reaches a node, an IPv4 address and a port, as a node record (EIP-778)
// names it with its "ip" and "tcp" / "udp" keys. LocalNet gives each node one; TCP and UDP drivers
// take them from records and bootnodes. IPv6 is not supported yet (a record's "ip6" is ignored).

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace carousel::proto {

struct Address {
    std::array<uint8_t, 4> ip{};
    uint16_t port{0};

    // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 takes the defaulted <=> for a 0 literal
    friend auto operator<=>(const Address&, const Address&) = default;
};

// "a.b.c.d:port".
std::string to_string(const Address& address);
// Parses "a.b.c.d:port" (dotted decimal, each part 0..255 without leading zeros, port 1..65535).
std::optional<Address> parse_address(std::string_view text);

}  // namespace carousel::proto
