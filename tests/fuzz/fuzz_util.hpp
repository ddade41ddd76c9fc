// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// What the libFuzzer harnesses share.

#include <cstdio>
#include <cstdlib>

#include <carousel/state/chain_generator.hpp>

// A property every input must keep; a failure aborts, which libFuzzer reports as a finding.
#define CHECK(c)                                                              \
    do {                                                                      \
        if (!(c)) {                                                           \
            std::fprintf(stderr, "CHECK failed: %s line %d\n", #c, __LINE__); \
            std::abort();                                                     \
        }                                                                     \
    } while (0)

namespace carousel::fuzz {

// The state sync_fuzz syncs and make_seeds seeds it from: small, so that the real answers every
// input gets around its fuzzed ones cost little (a state of 300 accounts held sync_fuzz to about
// 130 inputs a second), yet with a few levels of account trie, storage tries and code.
inline state::GeneratorConfig sync_world_config() {
    state::GeneratorConfig cfg;
    cfg.seed = 1;
    cfg.accounts = 48;
    cfg.max_contract_slots = 12;
    cfg.accounts_per_block = 3;
    cfg.slots_per_block = 4;
    return cfg;
}

}  // namespace carousel::fuzz
