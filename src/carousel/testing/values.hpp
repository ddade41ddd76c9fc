// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Values the tests of several layers build by hand: random hashes, and RLP items put together
// piece by piece (so that a test can hand a decoder exactly the malformed input it means to).
// Test-only and header only (tests of any layer include it without linking carousel_testing).

#include <cstdint>
#include <initializer_list>
#include <random>

#include <carousel/core/bytes.hpp>
#include <carousel/core/rlp.hpp>

namespace carousel::testing {

// A hash with every byte drawn from `rng`.
inline Hash random_hash(std::mt19937_64& rng) {
    Hash h{};
    for (auto& b : h) b = static_cast<uint8_t>(rng());
    return h;
}

// The RLP of the unsigned integer `v` (minimal big-endian): a block number, or a storage slot's leaf
// value (the RLP of a non-zero word).
inline Bytes rlp_uint(uint64_t v) {
    Bytes out;
    rlp::encode(out, v);
    return out;
}

// The RLP string holding `s`.
inline Bytes rlp_string(ByteView s) {
    Bytes out;
    rlp::encode(out, s);
    return out;
}

// The RLP list of `items`, each already encoded.
inline Bytes rlp_list(std::initializer_list<Bytes> items) {
    Bytes payload;
    for (const Bytes& i : items) payload += i;
    Bytes out;
    rlp::encode_header(out, {true, payload.size()});
    return out + payload;
}

}  // namespace carousel::testing
