// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// The 8-lane AVX-512 multi-buffer kernel, compiled with -march=x86-64-v4 (src/CMakeLists.txt) and called only when
// the CPU has it. One message per 64-bit lane of a zmm register, 25 registers of state: vprolq rotates, vpternlogq
// computes theta's parities and chi in one instruction each. Internal linkage for everything but the entry point:
// see keccak_f1600.hpp.
//
// Messages are read in place with byte-masked loads (never past their end: masked-off bytes are not accessed) and
// transposed into lanes eight 64-bit words at a time; the padding is written into the loaded registers. So no
// message is copied, and a lane whose message has ended absorbs zeros.
#include "keccak_f1600.hpp"
#include "keccak_kernels.hpp"

#if defined(__x86_64__)
#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512VL__) || !defined(__BMI2__)
#error "keccak_avx512.cpp must be compiled with -march=x86-64-v4 (see src/CMakeLists.txt)"
#endif

#include <immintrin.h>

namespace carousel::keccak_detail {
namespace {

struct Avx512Ops {
    using Lane = __m512i;
    static Lane xor5(Lane a, Lane b, Lane c, Lane d, Lane e) noexcept {
        return _mm512_ternarylogic_epi64(_mm512_ternarylogic_epi64(a, b, c, 0x96), d, e, 0x96);
    }
    static Lane theta_d(Lane c_prev, Lane c_next) noexcept {
        return _mm512_xor_si512(c_prev, _mm512_rol_epi64(c_next, 1));
    }
    static Lane xor2(Lane a, Lane b) noexcept { return _mm512_xor_si512(a, b); }
    template <int N>
    static Lane rotl(Lane a) noexcept {
        return _mm512_rol_epi64(a, N);
    }
    // 0xD2 is a ^ (~b & c) as a truth table over (a, b, c) = (0xF0, 0xCC, 0xAA).
    static Lane chi(Lane a, Lane b, Lane c) noexcept { return _mm512_ternarylogic_epi64(a, b, c, 0xD2); }
    static Lane iota(Lane a, uint64_t rc) noexcept {
        return _mm512_xor_si512(a, _mm512_set1_epi64(static_cast<long long>(rc)));
    }
};

// Mask of the first `n` bytes of a 64-byte chunk, for n in [0, 64] (bzhi saturates at 64).
inline __mmask64 first_bytes(std::size_t n) noexcept { return _bzhi_u64(~uint64_t{0}, static_cast<unsigned>(n)); }

// The mask selecting byte `pos` of a chunk if pos < 64, else none.
inline __mmask64 byte_at(std::size_t pos) noexcept { return pos < 64 ? uint64_t{1} << pos : 0; }

// s[k] ^= word k of v[0..7] in lane i = 0..7, for k in [0, 8): an 8x8 transpose of 64-bit words.
inline void absorb_8x8(__m512i* s, const __m512i* v) noexcept {
    const __m512i t0 = _mm512_unpacklo_epi64(v[0], v[1]);  // v0[0] v1[0] | v0[2] v1[2] | v0[4] v1[4] | v0[6] v1[6]
    const __m512i t1 = _mm512_unpackhi_epi64(v[0], v[1]);  // v0[1] v1[1] | v0[3] v1[3] | ...
    const __m512i t2 = _mm512_unpacklo_epi64(v[2], v[3]);
    const __m512i t3 = _mm512_unpackhi_epi64(v[2], v[3]);
    const __m512i t4 = _mm512_unpacklo_epi64(v[4], v[5]);
    const __m512i t5 = _mm512_unpackhi_epi64(v[4], v[5]);
    const __m512i t6 = _mm512_unpacklo_epi64(v[6], v[7]);
    const __m512i t7 = _mm512_unpackhi_epi64(v[6], v[7]);
    // 128-bit blocks 0 and 2 (0x88) or 1 and 3 (0xDD) of each source.
    const __m512i u0 = _mm512_shuffle_i64x2(t0, t2, 0x88);  // v0..3 words 0 | 4 (by pairs)
    const __m512i u1 = _mm512_shuffle_i64x2(t0, t2, 0xDD);  // v0..3 words 2 | 6
    const __m512i u2 = _mm512_shuffle_i64x2(t1, t3, 0x88);  // v0..3 words 1 | 5
    const __m512i u3 = _mm512_shuffle_i64x2(t1, t3, 0xDD);  // v0..3 words 3 | 7
    const __m512i u4 = _mm512_shuffle_i64x2(t4, t6, 0x88);  // v4..7 ...
    const __m512i u5 = _mm512_shuffle_i64x2(t4, t6, 0xDD);
    const __m512i u6 = _mm512_shuffle_i64x2(t5, t7, 0x88);
    const __m512i u7 = _mm512_shuffle_i64x2(t5, t7, 0xDD);
    s[0] = _mm512_xor_si512(s[0], _mm512_shuffle_i64x2(u0, u4, 0x88));
    s[4] = _mm512_xor_si512(s[4], _mm512_shuffle_i64x2(u0, u4, 0xDD));
    s[2] = _mm512_xor_si512(s[2], _mm512_shuffle_i64x2(u1, u5, 0x88));
    s[6] = _mm512_xor_si512(s[6], _mm512_shuffle_i64x2(u1, u5, 0xDD));
    s[1] = _mm512_xor_si512(s[1], _mm512_shuffle_i64x2(u2, u6, 0x88));
    s[5] = _mm512_xor_si512(s[5], _mm512_shuffle_i64x2(u2, u6, 0xDD));
    s[3] = _mm512_xor_si512(s[3], _mm512_shuffle_i64x2(u3, u7, 0x88));
    s[7] = _mm512_xor_si512(s[7], _mm512_shuffle_i64x2(u3, u7, 0xDD));
}

// Writes the digest of lane i (words 0..3 of lane i of the state) to out[i] for every bit i of `lanes`.
inline void squeeze_x8(const __m512i* s, unsigned lanes, uint8_t* const* out) noexcept {
    const __m512i a = _mm512_unpacklo_epi64(s[0], s[1]);  // s0[0] s1[0] | s0[2] s1[2] | s0[4] s1[4] | s0[6] s1[6]
    const __m512i b = _mm512_unpackhi_epi64(s[0], s[1]);  // s0[1] s1[1] | ...
    const __m512i c = _mm512_unpacklo_epi64(s[2], s[3]);
    const __m512i d = _mm512_unpackhi_epi64(s[2], s[3]);
    const __m512i lo = _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11);
    const __m512i hi = _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15);
    // Two digests per register: lanes (0, 2), (4, 6), (1, 3), (5, 7).
    const __m512i d02 = _mm512_permutex2var_epi64(a, lo, c);
    const __m512i d46 = _mm512_permutex2var_epi64(a, hi, c);
    const __m512i d13 = _mm512_permutex2var_epi64(b, lo, d);
    const __m512i d57 = _mm512_permutex2var_epi64(b, hi, d);
    const __m256i digest[8] = {_mm512_castsi512_si256(d02),       _mm512_castsi512_si256(d13),
                               _mm512_extracti64x4_epi64(d02, 1), _mm512_extracti64x4_epi64(d13, 1),
                               _mm512_castsi512_si256(d46),       _mm512_castsi512_si256(d57),
                               _mm512_extracti64x4_epi64(d46, 1), _mm512_extracti64x4_epi64(d57, 1)};
    for (unsigned i = 0; i < 8; ++i) {
        if ((lanes >> i) & 1U) _mm256_storeu_epi64(out[i], digest[i]);
    }
}

}  // namespace

void avx512_keccak256_x8(const uint8_t* const* data, const std::size_t* len, uint8_t* const* out,
                         std::size_t n) noexcept {
    const uint8_t* base[8];
    std::size_t blocks[8];  // 0 for idle lanes
    std::size_t max_blocks = 0;
    for (std::size_t i = 0; i < 8; ++i) {
        base[i] = i < n ? data[i] : nullptr;
        blocks[i] = i < n ? len[i] / kRate + 1 : 0;  // len[i] read only for i < n
        if (blocks[i] > max_blocks) max_blocks = blocks[i];
    }
    __m512i s[25];
    for (__m512i& lane : s) lane = _mm512_setzero_si512();
    for (std::size_t b = 0; b < max_blocks; ++b) {
        __m512i lo[8];  // words 0..7 of each lane's block
        __m512i hi[8];  // words 8..15
        alignas(64) uint64_t w16[8];
        unsigned finishing = 0;
        for (std::size_t i = 0; i < 8; ++i) {
            if (b + 1 < blocks[i]) {
                const uint8_t* p = base[i] + b * kRate;
                lo[i] = _mm512_loadu_si512(p);
                hi[i] = _mm512_loadu_si512(p + 64);
                w16[i] = load_le64(p + 128);
            } else if (b + 1 == blocks[i]) {
                // Last block: `rem` < 136 message bytes, then 0x01, zeros, and 0x80 in byte 135.
                const std::size_t rem = len[i] - b * kRate;
                finishing |= 1U << i;
                if (rem == 0) {  // nothing to read (and data() may be null)
                    lo[i] = _mm512_maskz_set1_epi8(1, 0x01);
                    hi[i] = _mm512_setzero_si512();
                    w16[i] = uint64_t{0x80} << 56;
                    continue;
                }
                const uint8_t* p = base[i] + b * kRate;
                lo[i] = _mm512_mask_set1_epi8(_mm512_maskz_loadu_epi8(first_bytes(rem), p), byte_at(rem), 0x01);
                hi[i] = rem > 64 ? _mm512_maskz_loadu_epi8(first_bytes(rem - 64), p + 64) : _mm512_setzero_si512();
                hi[i] = _mm512_mask_set1_epi8(hi[i], rem >= 64 ? byte_at(rem - 64) : 0, 0x01);
                uint64_t w = uint64_t{0x80} << 56;
                if (rem >= 128) {
                    const std::size_t tail = rem - 128;  // 0..7 bytes of word 16, then the 0x01
                    w ^= static_cast<uint64_t>(
                        _mm_cvtsi128_si64(_mm_maskz_loadu_epi8(static_cast<__mmask16>((1U << tail) - 1), p + 128)));
                    w ^= uint64_t{1} << (8 * tail);
                }
                w16[i] = w;
            } else {
                lo[i] = _mm512_setzero_si512();
                hi[i] = _mm512_setzero_si512();
                w16[i] = 0;
            }
        }
        absorb_8x8(s, lo);
        absorb_8x8(s + 8, hi);
        s[16] = _mm512_xor_si512(s[16], _mm512_load_si512(w16));
        keccak_f1600<Avx512Ops>(s);
        if (finishing != 0) squeeze_x8(s, finishing, out);
    }
}

}  // namespace carousel::keccak_detail

#endif  // __x86_64__
