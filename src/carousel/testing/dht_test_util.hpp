// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Helpers shared by the dht tests: random hashes, ids at a given log distance, brute-force
// closest sets. Test-only and header only (the dht tests include it without linking the
// carousel_testing library); still in namespace carousel::dht::test, where the tests use it.

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include <carousel/core/hex.hpp>
#include <carousel/dht/contact.hpp>
#include <carousel/dht/node_id.hpp>
#include <carousel/testing/values.hpp>

namespace carousel::dht::test {

using carousel::testing::random_hash;

// An id at log distance `d` (1..256) from `self`: self with bit d - 1 flipped and, below it, the
// bits of `low`.
inline NodeId at_distance(const NodeId& self, unsigned d, uint8_t low = 0) {
    NodeId id = self;
    const unsigned bit = d - 1;
    id[31 - bit / 8] = static_cast<uint8_t>(id[31 - bit / 8] ^ (1u << (bit % 8)));
    // Vary the bits below the flipped one (only inside the lowest byte, enough for distinct ids).
    if (bit >= 8) id[31] = static_cast<uint8_t>(id[31] ^ low);
    return id;
}

// The `n` ids of `all` closest to `target`, closest first (brute force).
inline std::vector<NodeId> brute_force_closest(std::vector<NodeId> all, const Hash& target, std::size_t n) {
    std::sort(all.begin(), all.end(), [&](const NodeId& a, const NodeId& b) { return closer(target, a, b); });
    if (all.size() > n) all.resize(n);
    return all;
}

// Short hex names of ids, for readable test failures.
inline std::vector<std::string> names(const std::vector<NodeId>& ids) {
    std::vector<std::string> out;
    for (const NodeId& id : ids) out.push_back(to_hex(view(id)).substr(0, 12));
    return out;
}

inline std::vector<NodeId> ids_of(const std::vector<Contact>& contacts) {
    std::vector<NodeId> out;
    out.reserve(contacts.size());
    for (const Contact& c : contacts) out.push_back(c.id);
    return out;
}

}  // namespace carousel::dht::test
