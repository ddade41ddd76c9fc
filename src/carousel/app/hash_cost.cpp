// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "hash_cost.hpp"

#include <algorithm>
#include <chrono>

#include <carousel/core/keccak.hpp>

namespace carousel::app {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

HashCost measure_hash_cost(std::size_t len) {
    using Clock = std::chrono::steady_clock;
    const auto since = [](Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); };
    constexpr std::size_t kMessages = 1 << 15;
    std::vector<Bytes> msgs(kMessages, Bytes(len, 0));
    for (std::size_t i = 0; i < kMessages; ++i) msgs[i][i % len] = static_cast<uint8_t>(i);
    std::vector<Hash> out(kMessages);
    std::vector<double> single, batch;
    for (int rep = 0; rep < 3; ++rep) {
        auto t0 = Clock::now();
        for (std::size_t i = 0; i < kMessages; ++i) keccak256(msgs[i], out[i].data());
        single.push_back(since(t0) * 1e9 / kMessages);
        t0 = Clock::now();
        for (std::size_t i = 0; i < kMessages; i += 8) {
            ByteView in[8];
            uint8_t* o[8];
            for (std::size_t k = 0; k < 8; ++k) {
                in[k] = msgs[i + k];
                o[k] = out[i + k].data();
            }
            keccak256_batch(in, o);
        }
        batch.push_back(since(t0) * 1e9 / kMessages);
    }
    return {median(single), median(batch)};
}

}  // namespace carousel::app
