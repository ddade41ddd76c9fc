// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Internal to Trie (trie_prefetch.cpp, trie_update.cpp): the walk behind Trie::prefetch and
// Trie::exchange_all's prefetch, one key path at a time, a step at a time. Not part of the library's
// API: include trie.hpp.
//
// A PrefetchCursor follows the path of one key down a trie. Each step makes the one memory access
// (or NodeStore lookup) that the step before prefetched and starts fetching what the next step
// reads, so run_prefetch(), which steps every cursor a round at a time, overlaps the cache misses of
// all its paths instead of waiting on them one after another. A hint only: a cursor changes no key,
// value or reference and writes nothing to a store; it loads the nodes on its path (counting them
// in the trie's loaded_nodes(), as a get would) and stops where the path ends or cannot be followed
// (a missing or undecodable node is left for the get or put that needs it to report).

#include <cstddef>
#include <cstdint>
#include <vector>

#include "trie_node.hpp"

namespace carousel::trie::trie_detail {

// One path of Trie::prefetch. Each step makes one access that the previous step prefetched and
// prefetches the next, so a round over all paths overlaps their cache misses.
struct PrefetchCursor {
    enum class Stage : uint8_t {
        kNode,       // visit the node in *slot (prefetched)
        kKid,        // read slot `kid` of `kids` (prefetched)
        kFetchNode,  // *slot is a reference whose store lookup was hinted: hint its RLP
        kFetchKid,   // slot `kid` of `kids` is known by hash only, its lookup hinted: hint its RLP
        kLoadNode,   // *slot is a reference whose RLP was hinted: load it
        kLoadKid,    // slot `kid` of `kids` is known by hash only, its RLP hinted: load it
    };
    NodeStore* store;
    std::size_t* loaded;
    NodePtr* slot;
    Children* kids;
    const uint8_t* rest;  // the key's nibbles below the node
    std::size_t rest_len;
    uint8_t kid;
    Stage stage;

    // One step; false when the path ends (or cannot be followed: the walk that needs it will tell).
    bool step();

  private:
    // Enters the node in *slot.
    bool visit();
};

// Steps every cursor, a round at a time, until all their paths end (and `active` is empty).
void run_prefetch(std::vector<PrefetchCursor>& active);

}  // namespace carousel::trie::trie_detail
