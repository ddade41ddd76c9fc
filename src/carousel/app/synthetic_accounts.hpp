// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// The synthetic account set of `carousel bench trie` and the demo, simple enough that any other
// implementation can rebuild it and check the root: account i (0 <= i < n) has key
// keccak256(uint64_be(i)) and value RLP([i, i, EMPTY_TRIE_ROOT, EMPTY_CODE_HASH]).

#include <cstdint>
#include <functional>
#include <vector>

#include <carousel/core/bytes.hpp>

namespace carousel::app {

struct SyntheticLeaf {
    Hash key;
    Bytes value;
};

enum class Order { kGeneration, kKey };

// The n accounts in generation order (i = 0, 1, ...) or sorted by key. Sorted leaves are allocated
// in key order, as a caller streaming them from a sorted store would read them.
// `progress(done)` is called now and then.
std::vector<SyntheticLeaf> synthetic_accounts(uint64_t n, Order order,
                                              const std::function<void(uint64_t)>& progress = {});

}  // namespace carousel::app
