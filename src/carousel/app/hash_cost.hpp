// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// The Keccak floor of a benchmark, measured in the same run: what one hash of a one-block message
// costs on this machine now, alone and in 8-wide batches.

#include <cstddef>
#include <vector>

namespace carousel::app {

struct HashCost {
    double single_ns;  // median ns per hash, one message at a time
    double batch_ns;   // median ns per hash, eight at a time (keccak256_batch)
};

// Hashes 32Ki messages of `len` bytes three times each way; medians.
HashCost measure_hash_cost(std::size_t len);

double median(std::vector<double> v);

}  // namespace carousel::app
