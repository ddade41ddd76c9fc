// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// Keccak-256: the reference implementation and the run-time dispatch to the tuned kernels (keccak_*.cpp).
#include "keccak.hpp"

#include <atomic>
#include <cstring>

#include "assert.hpp"
#include "keccak_kernels.hpp"

namespace carousel {
namespace keccak_detail {
namespace {

constexpr uint64_t kReferenceRoundConstants[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL, 0x000000000000808bULL,
    0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL, 0x000000000000008aULL, 0x0000000000000088ULL,
    0x0000000080008009ULL, 0x000000008000000aULL, 0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL,
    0x8000000000008003ULL, 0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL};

constexpr int kRho[24] = {1, 3, 6, 10, 15, 21, 28, 36, 45, 55, 2, 14, 27, 41, 56, 8, 25, 43, 62, 18, 39, 61, 20, 44};
constexpr int kPi[24] = {10, 7, 11, 17, 18, 3, 5, 16, 8, 21, 24, 4, 15, 23, 19, 13, 12, 2, 20, 14, 22, 9, 6, 1};

uint64_t rotl(uint64_t x, int s) noexcept { return (x << s) | (x >> (64 - s)); }

void reference_keccakf(uint64_t st[25]) noexcept {
    for (uint64_t rc : kReferenceRoundConstants) {
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

uint64_t reference_load_le64(const uint8_t* p) noexcept {
    uint64_t v;
    std::memcpy(&v, p, 8);  // x86-64 and every target we build for are little-endian
    return v;
}

}  // namespace

void reference_keccak256(ByteView data, uint8_t* out) noexcept {
    uint64_t st[25] = {};
    const uint8_t* p = data.data();
    std::size_t len = data.size();
    while (len >= kKeccakRate) {
        for (std::size_t i = 0; i < kKeccakRate / 8; ++i) st[i] ^= reference_load_le64(p + 8 * i);
        reference_keccakf(st);
        p += kKeccakRate;
        len -= kKeccakRate;
    }
    uint8_t block[kKeccakRate] = {};
    if (len != 0) std::memcpy(block, p, len);
    block[len] ^= 0x01;
    block[kKeccakRate - 1] ^= 0x80;
    for (std::size_t i = 0; i < kKeccakRate / 8; ++i) st[i] ^= reference_load_le64(block + 8 * i);
    reference_keccakf(st);
    std::memcpy(out, st, 32);
}

#if defined(__x86_64__)
// The features the kernels' -march levels add that compiled code can use (x86-64-v3 also has LZCNT and MOVBE, which
// every CPU with BMI2 has and the kernels do not use). Feature by feature, because clang 14, which clang-tidy runs on,
// does not know the level names. __builtin_cpu_supports also checks that the OS saves the AVX / AVX-512 registers.
bool cpu_has_x86_64_v3() noexcept {
    __builtin_cpu_init();  // may run before libgcc's own constructor when called from another static initializer
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2") &&
           __builtin_cpu_supports("fma");
}
bool cpu_has_x86_64_v4() noexcept {
    return cpu_has_x86_64_v3() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl");
}
#endif

namespace {

// One backend: its single-message kernel and its batch loop, which handles any count and returns the permutations
// it ran, keccak_blocks(len) per message (counted where the lengths are read anyway).
struct Kernels {
    KeccakBackend backend;
    std::size_t width;
    void (*single)(const uint8_t* data, std::size_t len, uint8_t* out) noexcept;
    uint64_t (*batch)(const ByteView* in, uint8_t* const* out, std::size_t n) noexcept;
};

uint64_t portable_batch(const ByteView* in, uint8_t* const* out, std::size_t n) noexcept {
    uint64_t blocks = 0;
    for (std::size_t i = 0; i < n; ++i) {
        scalar_keccak256(in[i].data(), in[i].size(), out[i]);
        blocks += keccak_blocks(in[i].size());
    }
    return blocks;
}

constexpr Kernels kPortableKernels{KeccakBackend::kPortable, 1, scalar_keccak256, portable_batch};

#if defined(__x86_64__)
// Groups of kWidth messages for the multi-buffer kernel. A group costs about as much however many of its lanes are
// used (measured: 8 lanes of AVX-512 cost about 1.1 single hashes, 4 lanes of AVX2 about 2), so a remainder of two
// or more is one more group, and a lone message takes the single-message kernel.
template <std::size_t kWidth, auto kKernel, auto kSingle>
uint64_t grouped_batch(const ByteView* in, uint8_t* const* out, std::size_t n) noexcept {
    uint64_t blocks = 0;
    for (std::size_t i = 0; i < n; i += kWidth) {
        const std::size_t m = n - i < kWidth ? n - i : kWidth;
        if (m == 1) {
            kSingle(in[i].data(), in[i].size(), out[i]);
            blocks += keccak_blocks(in[i].size());
            continue;
        }
        const uint8_t* data[kWidth];
        std::size_t len[kWidth];
        for (std::size_t j = 0; j < m; ++j) {
            data[j] = in[i + j].data();
            len[j] = in[i + j].size();
            blocks += keccak_blocks(len[j]);
        }
        kKernel(data, len, out + i, m);
    }
    return blocks;
}

constexpr Kernels kAvx2Kernels{KeccakBackend::kAvx2, 4, scalar_v3_keccak256,
                               grouped_batch<4, avx2_keccak256_x4, scalar_v3_keccak256>};
constexpr Kernels kAvx512Kernels{KeccakBackend::kAvx512, 8, scalar_v3_keccak256,
                                 grouped_batch<8, avx512_keccak256_x8, scalar_v3_keccak256>};
#endif

const Kernels* kernels_for(KeccakBackend b) noexcept {
    switch (b) {
        case KeccakBackend::kPortable:
            return &kPortableKernels;
#if defined(__x86_64__)
        case KeccakBackend::kAvx2:
            return cpu_has_x86_64_v3() ? &kAvx2Kernels : nullptr;
        case KeccakBackend::kAvx512:
            return cpu_has_x86_64_v4() ? &kAvx512Kernels : nullptr;
#else
        case KeccakBackend::kAvx2:
        case KeccakBackend::kAvx512:
            return nullptr;
#endif
    }
    return nullptr;
}

const Kernels* best_kernels() noexcept {
    for (KeccakBackend b : {KeccakBackend::kAvx512, KeccakBackend::kAvx2}) {
        if (const Kernels* k = kernels_for(b)) return k;
    }
    return &kPortableKernels;
}

// The backend in use. Constant-initialized to the portable kernels, so hashing from other static initializers works
// before the dynamic initializer below picks the best backend. Relaxed loads cost a plain load on x86-64.
constinit std::atomic<const Kernels*> g_kernels{&kPortableKernels};
const bool kBestBackendChosen = []() noexcept {
    g_kernels.store(best_kernels(), std::memory_order_relaxed);
    return true;
}();

constinit thread_local uint64_t g_permutations = 0;

const Kernels& kernels() noexcept { return *g_kernels.load(std::memory_order_relaxed); }

}  // namespace
}  // namespace keccak_detail

void keccak256(ByteView data, uint8_t* out) noexcept {
    keccak_detail::kernels().single(data.data(), data.size(), out);
    keccak_detail::g_permutations += keccak_blocks(data.size());
}

Hash keccak256(ByteView data) noexcept {
    Hash h;
    keccak256(data, h.data());
    return h;
}

void keccak256_batch(std::span<const ByteView> in, std::span<uint8_t* const> out) noexcept {
    CAROUSEL_ASSERT(in.size() == out.size(), "one output per input");
    const std::size_t n = in.size() < out.size() ? in.size() : out.size();
    keccak_detail::g_permutations += keccak_detail::kernels().batch(in.data(), out.data(), n);
}

std::size_t keccak_batch_width() noexcept { return keccak_detail::kernels().width; }
uint64_t keccak_permutations() noexcept { return keccak_detail::g_permutations; }
void add_keccak_permutations(uint64_t n) noexcept { keccak_detail::g_permutations += n; }
KeccakBackend keccak_backend() noexcept { return keccak_detail::kernels().backend; }
bool keccak_backend_supported(KeccakBackend b) noexcept { return keccak_detail::kernels_for(b) != nullptr; }

bool set_keccak_backend(KeccakBackend b) noexcept {
    const keccak_detail::Kernels* k = keccak_detail::kernels_for(b);
    if (k == nullptr) return false;
    keccak_detail::g_kernels.store(k, std::memory_order_relaxed);
    return true;
}

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
