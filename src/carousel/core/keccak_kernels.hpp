// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// Internal: the Keccak-256 kernels behind keccak.hpp's dispatcher, exposed for its tests and benchmarks. Use the
// public API (keccak256, keccak256_batch, set_keccak_backend) everywhere else.
//
// Each kernel lives in its own file, compiled for the instruction set in its name (see src/CMakeLists.txt); calling
// one on a CPU without that instruction set is undefined (SIGILL). None of them counts permutations: keccak.cpp does.
// The kernels take raw pointers and lengths, not ByteView: a file built with -march=x86-64-v4 must not instantiate
// inline functions of other types (like basic_string_view::size), whose out-of-line copies in unoptimized builds the
// linker could pick for baseline callers.
#pragma once

#include <cstddef>
#include <cstdint>

#include "bytes.hpp"

namespace carousel::keccak_detail {

// The plain reference implementation (keccak.cpp): loops as in the specification, no unrolling. The tests' oracle.
void reference_keccak256(ByteView data, uint8_t* out) noexcept;

// Unrolled scalar permutation with lane complementing, baseline x86-64 (keccak_scalar.cpp). Runs everywhere.
void scalar_keccak256(const uint8_t* data, std::size_t len, uint8_t* out) noexcept;

#if defined(__x86_64__)
// Whether the CPU (and OS) can run the x86-64-v3 (AVX2, BMI1/2) and x86-64-v4 (AVX-512 F/BW/CD/DQ/VL) kernels.
bool cpu_has_x86_64_v3() noexcept;
bool cpu_has_x86_64_v4() noexcept;

// Unrolled scalar permutation built with -march=x86-64-v3: andn and rorx, no lane complementing
// (keccak_avx2.cpp). Needs x86-64-v3.
void scalar_v3_keccak256(const uint8_t* data, std::size_t len, uint8_t* out) noexcept;

// Multi-buffer kernels: out[i] = keccak256 of the len[i] bytes at data[i], for i < n, one message per 64-bit lane of a
// SIMD register, lanes in lock step (a group costs the permutations of its longest message). Each digest is written
// once, right after its message's last block; an output may overlap its own message but no other.
//   avx2_keccak256_x4:   1 <= n <= 4, keccak_avx2.cpp, needs x86-64-v3;
//   avx512_keccak256_x8: 1 <= n <= 8, keccak_avx512.cpp, needs x86-64-v4.
void avx2_keccak256_x4(const uint8_t* const* data, const std::size_t* len, uint8_t* const* out, std::size_t n) noexcept;
void avx512_keccak256_x8(const uint8_t* const* data, const std::size_t* len, uint8_t* const* out,
                         std::size_t n) noexcept;
#endif

}  // namespace carousel::keccak_detail
