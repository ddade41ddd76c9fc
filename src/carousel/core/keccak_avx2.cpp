// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// Kernels for x86-64-v3 (AVX2, BMI1/2), compiled with -march=x86-64-v3 (src/CMakeLists.txt) and called only when
// the CPU has it: the scalar permutation without lane complementing (andn makes it unnecessary) and the 4-lane AVX2
// multi-buffer kernel. Internal linkage for everything but the entry points: see keccak_f1600.hpp.
#include "keccak_f1600.hpp"
#include "keccak_kernels.hpp"

#if defined(__x86_64__)
#if !defined(__AVX2__) || !defined(__BMI2__)
#error "keccak_avx2.cpp must be compiled with -march=x86-64-v3 (see src/CMakeLists.txt)"
#endif

#include <immintrin.h>

namespace carousel::keccak_detail {
namespace {

struct ScalarOps {
    using Lane = uint64_t;
    static Lane xor5(Lane a, Lane b, Lane c, Lane d, Lane e) noexcept { return a ^ b ^ c ^ d ^ e; }
    static Lane theta_d(Lane c_prev, Lane c_next) noexcept { return c_prev ^ rotl64<1>(c_next); }
    static Lane xor2(Lane a, Lane b) noexcept { return a ^ b; }
    template <int N>
    static Lane rotl(Lane a) noexcept {
        return rotl64<N>(a);
    }
    static Lane chi(Lane a, Lane b, Lane c) noexcept { return a ^ (~b & c); }
    static Lane iota(Lane a, uint64_t rc) noexcept { return a ^ rc; }
};

struct PlainPermutation {
    static constexpr bool kComplemented = false;
    static void permute(uint64_t* s) noexcept { keccak_f1600<ScalarOps>(s); }
};

// One message per 64-bit lane of a ymm register. AVX2 has no 64-bit rotate: shifts and an OR, or one byte shuffle
// for the two rotations by a whole byte.
struct Avx2Ops {
    using Lane = __m256i;
    static Lane xor5(Lane a, Lane b, Lane c, Lane d, Lane e) noexcept {
        return _mm256_xor_si256(_mm256_xor_si256(_mm256_xor_si256(a, b), _mm256_xor_si256(c, d)), e);
    }
    static Lane theta_d(Lane c_prev, Lane c_next) noexcept { return _mm256_xor_si256(c_prev, rotl<1>(c_next)); }
    static Lane xor2(Lane a, Lane b) noexcept { return _mm256_xor_si256(a, b); }
    template <int N>
    static Lane rotl(Lane a) noexcept {
        if constexpr (N == 8) {
            return _mm256_shuffle_epi8(a, _mm256_setr_epi8(7, 0, 1, 2, 3, 4, 5, 6, 15, 8, 9, 10, 11, 12, 13, 14, 7, 0,
                                                           1, 2, 3, 4, 5, 6, 15, 8, 9, 10, 11, 12, 13, 14));
        } else if constexpr (N == 56) {
            return _mm256_shuffle_epi8(a, _mm256_setr_epi8(1, 2, 3, 4, 5, 6, 7, 0, 9, 10, 11, 12, 13, 14, 15, 8, 1, 2,
                                                           3, 4, 5, 6, 7, 0, 9, 10, 11, 12, 13, 14, 15, 8));
        } else {
            return _mm256_or_si256(_mm256_slli_epi64(a, N), _mm256_srli_epi64(a, 64 - N));
        }
    }
    static Lane chi(Lane a, Lane b, Lane c) noexcept { return _mm256_xor_si256(a, _mm256_andnot_si256(b, c)); }
    static Lane iota(Lane a, uint64_t rc) noexcept {
        return _mm256_xor_si256(a, _mm256_set1_epi64x(static_cast<long long>(rc)));
    }
};

// What finished lanes absorb after their last block (their digest is already out).
alignas(32) constexpr uint8_t kZeroBlock[kRate] = {};

inline __m256i load256(const uint8_t* p) noexcept { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }

// s[0..16] ^= block i of lane i, for the four 136-byte blocks p[0..3]: 4x4 transposes of 64-bit words.
inline void absorb_x4(__m256i* s, const uint8_t* const* p) noexcept {
    for (std::size_t k = 0; k < 16; k += 4) {
        const __m256i v0 = load256(p[0] + 8 * k);
        const __m256i v1 = load256(p[1] + 8 * k);
        const __m256i v2 = load256(p[2] + 8 * k);
        const __m256i v3 = load256(p[3] + 8 * k);
        const __m256i t0 = _mm256_unpacklo_epi64(v0, v1);  // v0[0] v1[0] | v0[2] v1[2]
        const __m256i t1 = _mm256_unpackhi_epi64(v0, v1);  // v0[1] v1[1] | v0[3] v1[3]
        const __m256i t2 = _mm256_unpacklo_epi64(v2, v3);
        const __m256i t3 = _mm256_unpackhi_epi64(v2, v3);
        s[k] = _mm256_xor_si256(s[k], _mm256_permute2x128_si256(t0, t2, 0x20));
        s[k + 1] = _mm256_xor_si256(s[k + 1], _mm256_permute2x128_si256(t1, t3, 0x20));
        s[k + 2] = _mm256_xor_si256(s[k + 2], _mm256_permute2x128_si256(t0, t2, 0x31));
        s[k + 3] = _mm256_xor_si256(s[k + 3], _mm256_permute2x128_si256(t1, t3, 0x31));
    }
    s[16] = _mm256_xor_si256(s[16], _mm256_setr_epi64x(static_cast<long long>(load_le64(p[0] + 128)),
                                                       static_cast<long long>(load_le64(p[1] + 128)),
                                                       static_cast<long long>(load_le64(p[2] + 128)),
                                                       static_cast<long long>(load_le64(p[3] + 128))));
}

// Writes the digest of lane i (lanes 0..3 of the state, transposed) to out[i] for every bit i of `lanes`.
inline void squeeze_x4(const __m256i* s, unsigned lanes, uint8_t* const* out) noexcept {
    const __m256i t0 = _mm256_unpacklo_epi64(s[0], s[1]);
    const __m256i t1 = _mm256_unpackhi_epi64(s[0], s[1]);
    const __m256i t2 = _mm256_unpacklo_epi64(s[2], s[3]);
    const __m256i t3 = _mm256_unpackhi_epi64(s[2], s[3]);
    const __m256i d[4] = {_mm256_permute2x128_si256(t0, t2, 0x20), _mm256_permute2x128_si256(t1, t3, 0x20),
                          _mm256_permute2x128_si256(t0, t2, 0x31), _mm256_permute2x128_si256(t1, t3, 0x31)};
    for (unsigned i = 0; i < 4; ++i) {
        if ((lanes >> i) & 1U) _mm256_storeu_si256(reinterpret_cast<__m256i*>(out[i]), d[i]);
    }
}

}  // namespace

void scalar_v3_keccak256(const uint8_t* data, std::size_t len, uint8_t* out) noexcept {
    keccak256_single<PlainPermutation>(data, len, out);
}

void avx2_keccak256_x4(const uint8_t* const* data, const std::size_t* len, uint8_t* const* out,
                       std::size_t n) noexcept {
    const uint8_t* base[4];
    std::size_t blocks[4];  // 0 for idle lanes
    std::size_t max_blocks = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        base[i] = i < n ? data[i] : kZeroBlock;
        blocks[i] = i < n ? len[i] / kRate + 1 : 0;  // len[i] read only for i < n
        if (blocks[i] > max_blocks) max_blocks = blocks[i];
    }
    __m256i s[25];
    for (__m256i& lane : s) lane = _mm256_setzero_si256();
    alignas(32) uint8_t last[4][kRate];  // padded last blocks
    for (std::size_t b = 0; b < max_blocks; ++b) {
        const uint8_t* p[4];
        unsigned finishing = 0;
        for (std::size_t i = 0; i < 4; ++i) {
            if (b + 1 < blocks[i]) {
                p[i] = base[i] + b * kRate;
            } else if (b + 1 == blocks[i]) {
                const std::size_t rem = len[i] - b * kRate;
                std::memset(last[i], 0, kRate);
                if (rem != 0) std::memcpy(last[i], base[i] + b * kRate, rem);
                last[i][rem] ^= 0x01;
                last[i][kRate - 1] ^= 0x80;
                p[i] = last[i];
                finishing |= 1U << i;
            } else {
                p[i] = kZeroBlock;
            }
        }
        absorb_x4(s, p);
        keccak_f1600<Avx2Ops>(s);
        if (finishing != 0) squeeze_x4(s, finishing, out);
    }
}

}  // namespace carousel::keccak_detail

#endif  // __x86_64__
