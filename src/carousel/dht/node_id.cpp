// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "node_id.hpp"

#include <bit>

namespace carousel::dht {

NodeId xor_distance(const NodeId& a, const NodeId& b) noexcept {
    NodeId d{};
    for (std::size_t i = 0; i < d.size(); ++i) d[i] = static_cast<uint8_t>(a[i] ^ b[i]);
    return d;
}

unsigned log_distance(const NodeId& a, const NodeId& b) noexcept {
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto x = static_cast<uint8_t>(a[i] ^ b[i]);
        if (x != 0) return static_cast<unsigned>(256 - i * 8 - static_cast<std::size_t>(std::countl_zero(x)));
    }
    return 0;
}

bool closer(const NodeId& target, const NodeId& a, const NodeId& b) noexcept {
    for (std::size_t i = 0; i < target.size(); ++i) {
        const auto da = static_cast<uint8_t>(a[i] ^ target[i]);
        const auto db = static_cast<uint8_t>(b[i] ^ target[i]);
        if (da != db) return da < db;
    }
    return false;
}

namespace {
// `id` with its low `bits` bits set to `fill` (0 or 1).
Hash with_low_bits(const Hash& id, unsigned bits, bool fill) noexcept {
    Hash out = id;
    for (unsigned bit = 0; bit < bits && bit < 256; ++bit) {
        const std::size_t byte = 31 - bit / 8;
        const auto mask = static_cast<uint8_t>(1u << (bit % 8));
        out[byte] = fill ? static_cast<uint8_t>(out[byte] | mask) : static_cast<uint8_t>(out[byte] & ~mask);
    }
    return out;
}
}  // namespace

bool covers(const NodeId& id, Radius radius, const Hash& key) noexcept {
    return radius.bits >= 256 || log_distance(id, key) <= radius.bits;
}

Hash region_first(const NodeId& id, Radius radius) noexcept { return with_low_bits(id, radius.bits, false); }
Hash last_key(const NodeId& id, Radius radius) noexcept { return with_low_bits(id, radius.bits, true); }

}  // namespace carousel::dht
