// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors

#include "address.hpp"

#include <charconv>

namespace carousel::proto {

std::string to_string(const Address& address) {
    std::string out;
    for (std::size_t i = 0; i < address.ip.size(); ++i) {
        if (i != 0) out += '.';
        out += std::to_string(address.ip[i]);
    }
    out += ':';
    out += std::to_string(address.port);
    return out;
}

namespace {

// A decimal number in [min, max] without sign or leading zeros, the whole of `text`.
std::optional<unsigned> parse_decimal(std::string_view text, unsigned min, unsigned max) {
    if (text.empty() || text.size() > 5 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
    unsigned value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
        return std::nullopt;
    }
    return value;
}

}  // namespace

std::optional<Address> parse_address(std::string_view text) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    const auto port = parse_decimal(text.substr(colon + 1), 1, 65535);
    if (!port) return std::nullopt;
    Address address;
    address.port = static_cast<uint16_t>(*port);
    std::string_view rest = text.substr(0, colon);
    for (std::size_t i = 0; i < address.ip.size(); ++i) {
        const bool last = i + 1 == address.ip.size();
        const auto dot = last ? rest.size() : rest.find('.');
        if (dot == std::string_view::npos) return std::nullopt;
        const auto part = parse_decimal(rest.substr(0, dot), 0, 255);
        if (!part) return std::nullopt;
        address.ip[i] = static_cast<uint8_t>(*part);
        if (!last) rest.remove_prefix(dot + 1);
    }
    return address;
}

}  // namespace carousel::proto
