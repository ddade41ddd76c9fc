// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// Portable Keccak-256. A plain reference version; tuned and multi-buffer kernels replace it.
#include "keccak.hpp"

#include <cstring>

namespace carousel {
namespace {

thread_local uint64_t g_permutations = 0;

constexpr uint64_t kRoundConstants[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL, 0x000000000000808bULL,
    0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL, 0x000000000000008aULL, 0x0000000000000088ULL,
    0x0000000080008009ULL, 0x000000008000000aULL, 0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL,
    0x8000000000008003ULL, 0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL};

constexpr int kRho[24] = {1, 3, 6, 10, 15, 21, 28, 36, 45, 55, 2, 14, 27, 41, 56, 8, 25, 43, 62, 18, 39, 61, 20, 44};
constexpr int kPi[24] = {10, 7, 11, 17, 18, 3, 5, 16, 8, 21, 24, 4, 15, 23, 19, 13, 12, 2, 20, 14, 22, 9, 6, 1};

inline uint64_t rotl(uint64_t x, int s) noexcept { return (x << s) | (x >> (64 - s)); }

void keccakf(uint64_t st[25]) noexcept {
    for (uint64_t rc : kRoundConstants) {
        uint64_t bc[5];
        for (int i = 0; i < 5; ++i) bc[i] = st[i] ^ st[i + 5] ^ st[i + 10] ^ st[i + 15] ^ st[i + 20];
        for (int i = 0; i < 5; ++i) {
            const uint64_t t = bc[(i + 4) % 5] ^ rotl(bc[(i + 1) % 5], 1);
            for (int j = 0; j < 25; j += 5) st[j + i] ^= t;
        }
        uint64_t t = st[1];
        for (int i = 0; i < 24; ++i) {
            const int j = kPi[i];
            const uint64_t tmp = st[j];
            st[j] = rotl(t, kRho[i]);
            t = tmp;
        }
        for (int j = 0; j < 25; j += 5) {
            for (int i = 0; i < 5; ++i) bc[i] = st[j + i];
            for (int i = 0; i < 5; ++i) st[j + i] ^= (~bc[(i + 1) % 5]) & bc[(i + 2) % 5];
        }
        st[0] ^= rc;
    }
}

inline uint64_t load_le64(const uint8_t* p) noexcept {
    uint64_t v;
    std::memcpy(&v, p, 8);  // x86-64 and every target we build for are little-endian
    return v;
}

void keccak256_portable(ByteView data, uint8_t* out) noexcept {
    uint64_t st[25] = {};
    const uint8_t* p = data.data();
    std::size_t len = data.size();
    while (len >= kKeccakRate) {
        for (std::size_t i = 0; i < kKeccakRate / 8; ++i) st[i] ^= load_le64(p + 8 * i);
        keccakf(st);
        p += kKeccakRate;
        len -= kKeccakRate;
    }
    uint8_t block[kKeccakRate] = {};
    if (len != 0) std::memcpy(block, p, len);
    block[len] ^= 0x01;
    block[kKeccakRate - 1] ^= 0x80;
    for (std::size_t i = 0; i < kKeccakRate / 8; ++i) st[i] ^= load_le64(block + 8 * i);
    keccakf(st);
    std::memcpy(out, st, 32);
    g_permutations += keccak_blocks(data.size());
}

}  // namespace

void keccak256(ByteView data, uint8_t* out) noexcept { keccak256_portable(data, out); }

Hash keccak256(ByteView data) noexcept {
    Hash h;
    keccak256(data, h.data());
    return h;
}

void keccak256_batch(std::span<const ByteView> in, std::span<uint8_t* const> out) noexcept {
    for (std::size_t i = 0; i < in.size(); ++i) keccak256_portable(in[i], out[i]);
}

std::size_t keccak_batch_width() noexcept { return 1; }
uint64_t keccak_permutations() noexcept { return g_permutations; }
KeccakBackend keccak_backend() noexcept { return KeccakBackend::kPortable; }
bool keccak_backend_supported(KeccakBackend b) noexcept { return b == KeccakBackend::kPortable; }
bool set_keccak_backend(KeccakBackend b) noexcept { return b == KeccakBackend::kPortable; }
std::string_view to_string(KeccakBackend b) noexcept {
    switch (b) {
        case KeccakBackend::kPortable:
            return "portable";
        case KeccakBackend::kAvx2:
            return "avx2x4";
        case KeccakBackend::kAvx512:
            return "avx512x8";
    }
    return "unknown";
}

}  // namespace carousel
