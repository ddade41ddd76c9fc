// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// RandomTrie: a trie of random leaves in a MemoryNodeStore, the source the trie-level sync tests
// (and prefix/'s) read from. Test-only and header only (the trie tests include it without linking
// the carousel_testing library); still in namespace carousel::trie::test, where the tests use it.

#include <map>
#include <random>

#include <gtest/gtest.h>

#include <carousel/core/bytes.hpp>
#include <carousel/trie/node_store.hpp>
#include <carousel/trie/trie.hpp>

namespace carousel::trie::test {

struct RandomTrie {
    MemoryNodeStore nodes;  // exactly the trie's nodes
    std::map<Bytes, Bytes> leaves;
    Hash root{};

    // `n` leaves drawn from `seed`: 32-byte keys, values of 1 to `max_value` non-zero bytes.
    RandomTrie(uint64_t seed, std::size_t n, std::size_t max_value = 60) {
        std::mt19937_64 rng{seed};
        Trie t{&nodes};
        for (std::size_t i = 0; i < n; ++i) {
            Bytes k(32, 0), v(1 + rng() % max_value, 0);
            for (auto& x : k) x = static_cast<uint8_t>(rng());
            for (auto& x : v) x = static_cast<uint8_t>(rng() | 1);
            EXPECT_TRUE(t.put(k, v));
            leaves[k] = v;
        }
        root = t.root();
    }
};

}  // namespace carousel::trie::test
