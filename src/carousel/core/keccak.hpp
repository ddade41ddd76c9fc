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
// `in.size() == out.size()` is required. Uses the widest multi-buffer kernel the CPU has (8 lanes
// with AVX-512, 4 with AVX2), so the call costs about one single-message hash per lane group.
// Lanes run in lock step: messages of different block counts cost as many permutations as the
// longest one in their group, so callers that care group messages by keccak_blocks(len).
// Output buffers may alias inputs of other lanes only if they do not overlap any input.
void keccak256_batch(std::span<const ByteView> in, std::span<uint8_t* const> out) noexcept;

// How many messages the batch kernel hashes at once on this machine (1, 4 or 8).
std::size_t keccak_batch_width() noexcept;

// Permutations run by the calling thread so far, counting every lane of a batch (a benchmark
// counter: lane permutations are what the work costs).
uint64_t keccak_permutations() noexcept;

// The kernels. kPortable runs everywhere; the others need the named instruction set.
enum class KeccakBackend { kPortable, kAvx2, kAvx512 };

// The backend in use (the best the CPU supports unless changed with set_keccak_backend).
KeccakBackend keccak_backend() noexcept;
// Whether this CPU can run `b`.
bool keccak_backend_supported(KeccakBackend b) noexcept;
// Selects `b` for the whole process (tests compare backends). Returns false, changing nothing,
// if the CPU cannot run it. Not thread-safe against concurrent hashing.
bool set_keccak_backend(KeccakBackend b) noexcept;
std::string_view to_string(KeccakBackend b) noexcept;

}  // namespace carousel
