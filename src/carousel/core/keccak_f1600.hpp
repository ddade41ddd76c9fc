// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// Internal to the Keccak kernels (keccak_*.cpp); not part of the public API.
//
// The Keccak-f[1600] permutation, unrolled two rounds per loop iteration with the lanes in named locals (the
// structure of the Keccak team's "opt64" code and of go-ethereum's keccakf.go), and the single-message sponge.
//
// This header is included by files compiled with different -march flags and selected at run time. Everything in it
// therefore has internal linkage (static): with plain `inline`, the linker keeps one copy of a function for the whole
// program and may pick the AVX-512 build of it for the baseline caller (DESIGN.md, "Facts measured on this
// machine"). For the same reason the including files define their lane-operation structs in an anonymous namespace
// and avoid calling out-of-line inline functions of the standard library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace carousel::keccak_detail {

static constexpr std::size_t kRate = 136;             // Keccak-256 rate in bytes
static constexpr std::size_t kRateLanes = kRate / 8;  // 17 lanes absorbed per block

static constexpr uint64_t kRoundConstants[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL, 0x000000000000808bULL,
    0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL, 0x000000000000008aULL, 0x0000000000000088ULL,
    0x0000000080008009ULL, 0x000000008000000aULL, 0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL,
    0x8000000000008003ULL, 0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL};

// Left rotation by a constant; compiles to rol (or rorx with BMI2).
template <int N>
static inline uint64_t rotl64(uint64_t x) noexcept {
    if constexpr (N == 0) {
        return x;
    } else {
        return (x << N) | (x >> (64 - N));
    }
}

// Little-endian 64-bit load from unaligned memory (every target carousel builds for is little-endian).
static inline uint64_t load_le64(const uint8_t* p) noexcept {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}

// Keccak-f[1600] on the 25 lanes `s` (lane x + 5y), in place, for any lane type. `Ops` supplies:
//   Lane                       the lane type (uint64_t, or one 64-bit lane per message in a SIMD register);
//   xor5(a, b, c, d, e)        a ^ b ^ c ^ d ^ e (theta's column parity);
//   theta_d(c_prev, c_next)    c_prev ^ rotl(c_next, 1);
//   xor2(a, b)                 a ^ b;
//   rotl<N>(a)                 rotation left by N in [1, 63];
//   chi(a, b, c)               a ^ (~b & c);
//   iota(a, rc)                a ^ rc, with rc in every lane.
template <class Ops>
static inline void keccak_f1600(typename Ops::Lane* s) noexcept {
    using Lane = typename Ops::Lane;
    Lane a00 = s[0], a01 = s[1], a02 = s[2], a03 = s[3], a04 = s[4], a05 = s[5], a06 = s[6], a07 = s[7], a08 = s[8],
         a09 = s[9], a10 = s[10], a11 = s[11], a12 = s[12], a13 = s[13], a14 = s[14], a15 = s[15], a16 = s[16],
         a17 = s[17], a18 = s[18], a19 = s[19], a20 = s[20], a21 = s[21], a22 = s[22], a23 = s[23], a24 = s[24];
    Lane e00, e01, e02, e03, e04, e05, e06, e07, e08, e09, e10, e11, e12, e13, e14, e15, e16, e17, e18, e19, e20, e21,
        e22, e23, e24;
    Lane b0, b1, b2, b3, b4, c0, c1, c2, c3, c4, d0, d1, d2, d3, d4;
    const uint64_t* rc = kRoundConstants;
    for (int i = 0; i < 24; i += 2) {
        // Round i: a -> e.
        c0 = Ops::xor5(a00, a05, a10, a15, a20);
        c1 = Ops::xor5(a01, a06, a11, a16, a21);
        c2 = Ops::xor5(a02, a07, a12, a17, a22);
        c3 = Ops::xor5(a03, a08, a13, a18, a23);
        c4 = Ops::xor5(a04, a09, a14, a19, a24);
        d0 = Ops::theta_d(c4, c1);
        d1 = Ops::theta_d(c0, c2);
        d2 = Ops::theta_d(c1, c3);
        d3 = Ops::theta_d(c2, c4);
        d4 = Ops::theta_d(c3, c0);
        b0 = Ops::xor2(a00, d0);
        b1 = Ops::template rotl<44>(Ops::xor2(a06, d1));
        b2 = Ops::template rotl<43>(Ops::xor2(a12, d2));
        b3 = Ops::template rotl<21>(Ops::xor2(a18, d3));
        b4 = Ops::template rotl<14>(Ops::xor2(a24, d4));
        e00 = Ops::iota(Ops::chi(b0, b1, b2), rc[i]);
        e01 = Ops::chi(b1, b2, b3);
        e02 = Ops::chi(b2, b3, b4);
        e03 = Ops::chi(b3, b4, b0);
        e04 = Ops::chi(b4, b0, b1);
        b0 = Ops::template rotl<28>(Ops::xor2(a03, d3));
        b1 = Ops::template rotl<20>(Ops::xor2(a09, d4));
        b2 = Ops::template rotl<3>(Ops::xor2(a10, d0));
        b3 = Ops::template rotl<45>(Ops::xor2(a16, d1));
        b4 = Ops::template rotl<61>(Ops::xor2(a22, d2));
        e05 = Ops::chi(b0, b1, b2);
        e06 = Ops::chi(b1, b2, b3);
        e07 = Ops::chi(b2, b3, b4);
        e08 = Ops::chi(b3, b4, b0);
        e09 = Ops::chi(b4, b0, b1);
        b0 = Ops::template rotl<1>(Ops::xor2(a01, d1));
        b1 = Ops::template rotl<6>(Ops::xor2(a07, d2));
        b2 = Ops::template rotl<25>(Ops::xor2(a13, d3));
        b3 = Ops::template rotl<8>(Ops::xor2(a19, d4));
        b4 = Ops::template rotl<18>(Ops::xor2(a20, d0));
        e10 = Ops::chi(b0, b1, b2);
        e11 = Ops::chi(b1, b2, b3);
        e12 = Ops::chi(b2, b3, b4);
        e13 = Ops::chi(b3, b4, b0);
        e14 = Ops::chi(b4, b0, b1);
        b0 = Ops::template rotl<27>(Ops::xor2(a04, d4));
        b1 = Ops::template rotl<36>(Ops::xor2(a05, d0));
        b2 = Ops::template rotl<10>(Ops::xor2(a11, d1));
        b3 = Ops::template rotl<15>(Ops::xor2(a17, d2));
        b4 = Ops::template rotl<56>(Ops::xor2(a23, d3));
        e15 = Ops::chi(b0, b1, b2);
        e16 = Ops::chi(b1, b2, b3);
        e17 = Ops::chi(b2, b3, b4);
        e18 = Ops::chi(b3, b4, b0);
        e19 = Ops::chi(b4, b0, b1);
        b0 = Ops::template rotl<62>(Ops::xor2(a02, d2));
        b1 = Ops::template rotl<55>(Ops::xor2(a08, d3));
        b2 = Ops::template rotl<39>(Ops::xor2(a14, d4));
        b3 = Ops::template rotl<41>(Ops::xor2(a15, d0));
        b4 = Ops::template rotl<2>(Ops::xor2(a21, d1));
        e20 = Ops::chi(b0, b1, b2);
        e21 = Ops::chi(b1, b2, b3);
        e22 = Ops::chi(b2, b3, b4);
        e23 = Ops::chi(b3, b4, b0);
        e24 = Ops::chi(b4, b0, b1);
        // Round i + 1: e -> a.
        c0 = Ops::xor5(e00, e05, e10, e15, e20);
        c1 = Ops::xor5(e01, e06, e11, e16, e21);
        c2 = Ops::xor5(e02, e07, e12, e17, e22);
        c3 = Ops::xor5(e03, e08, e13, e18, e23);
        c4 = Ops::xor5(e04, e09, e14, e19, e24);
        d0 = Ops::theta_d(c4, c1);
        d1 = Ops::theta_d(c0, c2);
        d2 = Ops::theta_d(c1, c3);
        d3 = Ops::theta_d(c2, c4);
        d4 = Ops::theta_d(c3, c0);
        b0 = Ops::xor2(e00, d0);
        b1 = Ops::template rotl<44>(Ops::xor2(e06, d1));
        b2 = Ops::template rotl<43>(Ops::xor2(e12, d2));
        b3 = Ops::template rotl<21>(Ops::xor2(e18, d3));
        b4 = Ops::template rotl<14>(Ops::xor2(e24, d4));
        a00 = Ops::iota(Ops::chi(b0, b1, b2), rc[i + 1]);
        a01 = Ops::chi(b1, b2, b3);
        a02 = Ops::chi(b2, b3, b4);
        a03 = Ops::chi(b3, b4, b0);
        a04 = Ops::chi(b4, b0, b1);
        b0 = Ops::template rotl<28>(Ops::xor2(e03, d3));
        b1 = Ops::template rotl<20>(Ops::xor2(e09, d4));
        b2 = Ops::template rotl<3>(Ops::xor2(e10, d0));
        b3 = Ops::template rotl<45>(Ops::xor2(e16, d1));
        b4 = Ops::template rotl<61>(Ops::xor2(e22, d2));
        a05 = Ops::chi(b0, b1, b2);
        a06 = Ops::chi(b1, b2, b3);
        a07 = Ops::chi(b2, b3, b4);
        a08 = Ops::chi(b3, b4, b0);
        a09 = Ops::chi(b4, b0, b1);
        b0 = Ops::template rotl<1>(Ops::xor2(e01, d1));
        b1 = Ops::template rotl<6>(Ops::xor2(e07, d2));
        b2 = Ops::template rotl<25>(Ops::xor2(e13, d3));
        b3 = Ops::template rotl<8>(Ops::xor2(e19, d4));
        b4 = Ops::template rotl<18>(Ops::xor2(e20, d0));
        a10 = Ops::chi(b0, b1, b2);
        a11 = Ops::chi(b1, b2, b3);
        a12 = Ops::chi(b2, b3, b4);
        a13 = Ops::chi(b3, b4, b0);
        a14 = Ops::chi(b4, b0, b1);
        b0 = Ops::template rotl<27>(Ops::xor2(e04, d4));
        b1 = Ops::template rotl<36>(Ops::xor2(e05, d0));
        b2 = Ops::template rotl<10>(Ops::xor2(e11, d1));
        b3 = Ops::template rotl<15>(Ops::xor2(e17, d2));
        b4 = Ops::template rotl<56>(Ops::xor2(e23, d3));
        a15 = Ops::chi(b0, b1, b2);
        a16 = Ops::chi(b1, b2, b3);
        a17 = Ops::chi(b2, b3, b4);
        a18 = Ops::chi(b3, b4, b0);
        a19 = Ops::chi(b4, b0, b1);
        b0 = Ops::template rotl<62>(Ops::xor2(e02, d2));
        b1 = Ops::template rotl<55>(Ops::xor2(e08, d3));
        b2 = Ops::template rotl<39>(Ops::xor2(e14, d4));
        b3 = Ops::template rotl<41>(Ops::xor2(e15, d0));
        b4 = Ops::template rotl<2>(Ops::xor2(e21, d1));
        a20 = Ops::chi(b0, b1, b2);
        a21 = Ops::chi(b1, b2, b3);
        a22 = Ops::chi(b2, b3, b4);
        a23 = Ops::chi(b3, b4, b0);
        a24 = Ops::chi(b4, b0, b1);
    }
    s[0] = a00;
    s[1] = a01;
    s[2] = a02;
    s[3] = a03;
    s[4] = a04;
    s[5] = a05;
    s[6] = a06;
    s[7] = a07;
    s[8] = a08;
    s[9] = a09;
    s[10] = a10;
    s[11] = a11;
    s[12] = a12;
    s[13] = a13;
    s[14] = a14;
    s[15] = a15;
    s[16] = a16;
    s[17] = a17;
    s[18] = a18;
    s[19] = a19;
    s[20] = a20;
    s[21] = a21;
    s[22] = a22;
    s[23] = a23;
    s[24] = a24;
}

// Lanes kept complemented by keccak_f1600_complemented: Abe, Abi, Ago, Aki, Ami, Asa in the Keccak team's names.
static constexpr uint32_t kComplementedLanes = (1U << 1) | (1U << 2) | (1U << 8) | (1U << 12) | (1U << 17) | (1U << 20);

// Scalar Keccak-f[1600] with lane complementing (the Keccak team's "bebigokimisa" transform): with the lanes of
// kComplementedLanes stored complemented before and after, chi needs 5 NOTs a round instead of 25, which matters
// without BMI1's andn. The result equals keccak_f1600's on the uncomplemented state, complemented the same way.
static inline void keccak_f1600_complemented(uint64_t* s) noexcept {
    uint64_t a00 = s[0], a01 = s[1], a02 = s[2], a03 = s[3], a04 = s[4], a05 = s[5], a06 = s[6], a07 = s[7], a08 = s[8],
             a09 = s[9], a10 = s[10], a11 = s[11], a12 = s[12], a13 = s[13], a14 = s[14], a15 = s[15], a16 = s[16],
             a17 = s[17], a18 = s[18], a19 = s[19], a20 = s[20], a21 = s[21], a22 = s[22], a23 = s[23], a24 = s[24];
    uint64_t e00, e01, e02, e03, e04, e05, e06, e07, e08, e09, e10, e11, e12, e13, e14, e15, e16, e17, e18, e19, e20,
        e21, e22, e23, e24;
    uint64_t b0, b1, b2, b3, b4, c0, c1, c2, c3, c4, d0, d1, d2, d3, d4;
    const uint64_t* rc = kRoundConstants;
    for (int i = 0; i < 24; i += 2) {
        // Round i: a -> e.
        c0 = a00 ^ a05 ^ a10 ^ a15 ^ a20;
        c1 = a01 ^ a06 ^ a11 ^ a16 ^ a21;
        c2 = a02 ^ a07 ^ a12 ^ a17 ^ a22;
        c3 = a03 ^ a08 ^ a13 ^ a18 ^ a23;
        c4 = a04 ^ a09 ^ a14 ^ a19 ^ a24;
        d0 = c4 ^ rotl64<1>(c1);
        d1 = c0 ^ rotl64<1>(c2);
        d2 = c1 ^ rotl64<1>(c3);
        d3 = c2 ^ rotl64<1>(c4);
        d4 = c3 ^ rotl64<1>(c0);
        b0 = a00 ^ d0;
        b1 = rotl64<44>(a06 ^ d1);
        b2 = rotl64<43>(a12 ^ d2);
        b3 = rotl64<21>(a18 ^ d3);
        b4 = rotl64<14>(a24 ^ d4);
        e00 = b0 ^ (b1 | b2) ^ rc[i];
        e01 = b1 ^ (~b2 | b3);
        e02 = b2 ^ (b3 & b4);
        e03 = b3 ^ (b4 | b0);
        e04 = b4 ^ (b0 & b1);
        b0 = rotl64<28>(a03 ^ d3);
        b1 = rotl64<20>(a09 ^ d4);
        b2 = rotl64<3>(a10 ^ d0);
        b3 = rotl64<45>(a16 ^ d1);
        b4 = rotl64<61>(a22 ^ d2);
        e05 = b0 ^ (b1 | b2);
        e06 = b1 ^ (b2 & b3);
        e07 = b2 ^ (b3 | ~b4);
        e08 = b3 ^ (b4 | b0);
        e09 = b4 ^ (b0 & b1);
        b0 = rotl64<1>(a01 ^ d1);
        b1 = rotl64<6>(a07 ^ d2);
        b2 = rotl64<25>(a13 ^ d3);
        b3 = rotl64<8>(a19 ^ d4);
        b4 = rotl64<18>(a20 ^ d0);
        e10 = b0 ^ (b1 | b2);
        e11 = b1 ^ (b2 & b3);
        e12 = b2 ^ (~b3 & b4);
        e13 = ~b3 ^ (b4 | b0);
        e14 = b4 ^ (b0 & b1);
        b0 = rotl64<27>(a04 ^ d4);
        b1 = rotl64<36>(a05 ^ d0);
        b2 = rotl64<10>(a11 ^ d1);
        b3 = rotl64<15>(a17 ^ d2);
        b4 = rotl64<56>(a23 ^ d3);
        e15 = b0 ^ (b1 & b2);
        e16 = b1 ^ (b2 | b3);
        e17 = b2 ^ (~b3 | b4);
        e18 = ~b3 ^ (b4 & b0);
        e19 = b4 ^ (b0 | b1);
        b0 = rotl64<62>(a02 ^ d2);
        b1 = rotl64<55>(a08 ^ d3);
        b2 = rotl64<39>(a14 ^ d4);
        b3 = rotl64<41>(a15 ^ d0);
        b4 = rotl64<2>(a21 ^ d1);
        e20 = b0 ^ (~b1 & b2);
        e21 = ~b1 ^ (b2 | b3);
        e22 = b2 ^ (b3 & b4);
        e23 = b3 ^ (b4 | b0);
        e24 = b4 ^ (b0 & b1);
        // Round i + 1: e -> a.
        c0 = e00 ^ e05 ^ e10 ^ e15 ^ e20;
        c1 = e01 ^ e06 ^ e11 ^ e16 ^ e21;
        c2 = e02 ^ e07 ^ e12 ^ e17 ^ e22;
        c3 = e03 ^ e08 ^ e13 ^ e18 ^ e23;
        c4 = e04 ^ e09 ^ e14 ^ e19 ^ e24;
        d0 = c4 ^ rotl64<1>(c1);
        d1 = c0 ^ rotl64<1>(c2);
        d2 = c1 ^ rotl64<1>(c3);
        d3 = c2 ^ rotl64<1>(c4);
        d4 = c3 ^ rotl64<1>(c0);
        b0 = e00 ^ d0;
        b1 = rotl64<44>(e06 ^ d1);
        b2 = rotl64<43>(e12 ^ d2);
        b3 = rotl64<21>(e18 ^ d3);
        b4 = rotl64<14>(e24 ^ d4);
        a00 = b0 ^ (b1 | b2) ^ rc[i + 1];
        a01 = b1 ^ (~b2 | b3);
        a02 = b2 ^ (b3 & b4);
        a03 = b3 ^ (b4 | b0);
        a04 = b4 ^ (b0 & b1);
        b0 = rotl64<28>(e03 ^ d3);
        b1 = rotl64<20>(e09 ^ d4);
        b2 = rotl64<3>(e10 ^ d0);
        b3 = rotl64<45>(e16 ^ d1);
        b4 = rotl64<61>(e22 ^ d2);
        a05 = b0 ^ (b1 | b2);
        a06 = b1 ^ (b2 & b3);
        a07 = b2 ^ (b3 | ~b4);
        a08 = b3 ^ (b4 | b0);
        a09 = b4 ^ (b0 & b1);
        b0 = rotl64<1>(e01 ^ d1);
        b1 = rotl64<6>(e07 ^ d2);
        b2 = rotl64<25>(e13 ^ d3);
        b3 = rotl64<8>(e19 ^ d4);
        b4 = rotl64<18>(e20 ^ d0);
        a10 = b0 ^ (b1 | b2);
        a11 = b1 ^ (b2 & b3);
        a12 = b2 ^ (~b3 & b4);
        a13 = ~b3 ^ (b4 | b0);
        a14 = b4 ^ (b0 & b1);
        b0 = rotl64<27>(e04 ^ d4);
        b1 = rotl64<36>(e05 ^ d0);
        b2 = rotl64<10>(e11 ^ d1);
        b3 = rotl64<15>(e17 ^ d2);
        b4 = rotl64<56>(e23 ^ d3);
        a15 = b0 ^ (b1 & b2);
        a16 = b1 ^ (b2 | b3);
        a17 = b2 ^ (~b3 | b4);
        a18 = ~b3 ^ (b4 & b0);
        a19 = b4 ^ (b0 | b1);
        b0 = rotl64<62>(e02 ^ d2);
        b1 = rotl64<55>(e08 ^ d3);
        b2 = rotl64<39>(e14 ^ d4);
        b3 = rotl64<41>(e15 ^ d0);
        b4 = rotl64<2>(e21 ^ d1);
        a20 = b0 ^ (~b1 & b2);
        a21 = ~b1 ^ (b2 | b3);
        a22 = b2 ^ (b3 & b4);
        a23 = b3 ^ (b4 | b0);
        a24 = b4 ^ (b0 & b1);
    }
    s[0] = a00;
    s[1] = a01;
    s[2] = a02;
    s[3] = a03;
    s[4] = a04;
    s[5] = a05;
    s[6] = a06;
    s[7] = a07;
    s[8] = a08;
    s[9] = a09;
    s[10] = a10;
    s[11] = a11;
    s[12] = a12;
    s[13] = a13;
    s[14] = a14;
    s[15] = a15;
    s[16] = a16;
    s[17] = a17;
    s[18] = a18;
    s[19] = a19;
    s[20] = a20;
    s[21] = a21;
    s[22] = a22;
    s[23] = a23;
    s[24] = a24;
}

// Keccak-256 of one message with a scalar permutation. `Permutation` supplies permute(uint64_t*) and
// kComplemented, true if permute expects the lanes of kComplementedLanes complemented.
template <class Permutation>
static inline void keccak256_single(const uint8_t* p, std::size_t len, uint8_t* out) noexcept {
    uint64_t st[25];
    for (std::size_t i = 0; i < 25; ++i) {
        st[i] = (Permutation::kComplemented && ((kComplementedLanes >> i) & 1) != 0) ? ~uint64_t{0} : 0;
    }
    for (; len >= kRate; len -= kRate, p += kRate) {
        for (std::size_t i = 0; i < kRateLanes; ++i) st[i] ^= load_le64(p + 8 * i);
        Permutation::permute(st);
    }
    // Last block: whole lanes straight from the message, then the partial lane with the 0x01 pad byte, and the
    // 0x80 pad bit at the end of the rate. No copy into a padded buffer.
    const std::size_t whole = len / 8;
    for (std::size_t i = 0; i < whole; ++i) st[i] ^= load_le64(p + 8 * i);
    const std::size_t tail = len % 8;
    uint64_t last = uint64_t{1} << (8 * tail);
    for (std::size_t j = 0; j < tail; ++j) last |= uint64_t{p[8 * whole + j]} << (8 * j);
    st[whole] ^= last;
    st[kRateLanes - 1] ^= uint64_t{0x80} << 56;
    Permutation::permute(st);
    if constexpr (Permutation::kComplemented) {
        st[1] = ~st[1];
        st[2] = ~st[2];
    }
    std::memcpy(out, st, 32);
}

}  // namespace carousel::keccak_detail
