// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "bytes.hpp"

namespace carousel {

// Keccak-256 as Ethereum uses it: the original Keccak padding (0x01 ... 0x80), rate 136 bytes.
// Not SHA3-256 (which pads with 0x06).

inline constexpr std::size_t kKeccakRate = 136;

// Number of Keccak-f[1600] permutations hashing `len` bytes takes.
constexpr std::size_t keccak_blocks(std::size_t len) noexcept { return len / kKeccakRate + 1; }

// Digest of `data`.
Hash keccak256(ByteView data) noexcept;
// Writes the 32-byte digest of `data` to `out`.
void keccak256(ByteView data, uint8_t* out) noexcept;

// Hashes independent messages: for every i, writes keccak256(in[i]) to out[i] (32 bytes each).
// `in.size() == out.size()` is required. Uses the widest multi-buffer kernel of the backend in use
// (8 lanes with AVX-512, 4 with AVX2; see keccak_batch_width): messages are taken in order in
// groups of that width, and a group costs about as much as one or two single-message hashes
// (measured on AVX-512: 8 one-block messages in ~250 ns, against ~230 ns for one alone). A final
// group of one message is hashed alone. Lanes run in lock step: a group costs as many
// permutations as its longest message, so callers that care group messages by keccak_blocks(len).
// Each output is written once, after its own message's last block: it may overlap its own
// message but no other.
void keccak256_batch(std::span<const ByteView> in, std::span<uint8_t* const> out) noexcept;

// How many messages the batch kernel hashes at once on this machine (1, 4 or 8).
std::size_t keccak_batch_width() noexcept;

// Permutations run by the calling thread so far: keccak_blocks(len) for every message hashed,
// alone or in a batch (a lane idling in lock step behind a longer message is not counted). A
// benchmark counter; reading it is a thread-local load.
uint64_t keccak_permutations() noexcept;
// Adds `n` to the calling thread's count: permutations another thread ran on its behalf (ForkJoin).
void add_keccak_permutations(uint64_t n) noexcept;

// The kernels. kPortable runs everywhere: an unrolled scalar permutation for baseline x86-64,
// batches hashed one by one. kAvx2 needs x86-64-v3 (AVX2, BMI1/2): scalar single messages built
// for it, and 4-lane AVX2 batches. kAvx512 needs x86-64-v4 (AVX-512 F/BW/CD/DQ/VL): the same
// single-message kernel, and 8-lane AVX-512 batches.
enum class KeccakBackend { kPortable, kAvx2, kAvx512 };

// The backend in use: the widest the CPU supports, chosen when the program starts (kPortable
// until then, for hashing from static initializers), unless changed with set_keccak_backend.
KeccakBackend keccak_backend() noexcept;
// Whether this CPU can run `b`.
bool keccak_backend_supported(KeccakBackend b) noexcept;
// Selects `b` for the whole process (tests and benchmarks compare backends). Returns false,
// changing nothing, if the CPU cannot run it. Safe to call while other threads hash: each call
// in progress finishes with the backend it started with.
bool set_keccak_backend(KeccakBackend b) noexcept;
std::string_view to_string(KeccakBackend b) noexcept;

}  // namespace carousel
