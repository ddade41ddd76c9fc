// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// Keccak-256 cost per hash at the sizes the trie hashes most: 32 bytes (keys), 110 bytes (a typical account leaf)
// and 532 bytes (a full branch node, 4 blocks). The `ns_per_hash` counter is the thread's CPU time divided by the
// messages hashed, so single-message and multi-buffer variants compare directly. Run with --benchmark_repetitions=5 on
// this noisy, shared machine and read the medians.
#include <ctime>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <cryptopp/keccak.h>
#if defined(CAROUSEL_BENCH_OPENSSL)
#include <openssl/evp.h>
#endif

#include <carousel/core/keccak.hpp>

#include "keccak_kernels.hpp"

namespace carousel {
namespace {

// A variant hashes kLanes messages per call; kOtherHash variants compute another function of the same cost.
struct Reference {
    static constexpr std::size_t kLanes = 1;
    static constexpr bool kOtherHash = false;
    static bool supported() { return true; }
    static void run(const ByteView* in, uint8_t* const* out) { keccak_detail::reference_keccak256(in[0], out[0]); }
};

// The tuned scalar kernel, baseline x86-64 (the portable backend's kernel).
struct Scalar {
    static constexpr std::size_t kLanes = 1;
    static constexpr bool kOtherHash = false;
    static bool supported() { return true; }
    static void run(const ByteView* in, uint8_t* const* out) {
        keccak_detail::scalar_keccak256(in[0].data(), in[0].size(), out[0]);
    }
};

// The public entry point: dispatch, permutation counter and the default backend's single-message kernel.
struct Dispatched {
    static constexpr std::size_t kLanes = 1;
    static constexpr bool kOtherHash = false;
    static bool supported() { return true; }
    static void run(const ByteView* in, uint8_t* const* out) { keccak256(in[0], out[0]); }
};

// keccak256_batch on 64 messages with the default backend.
struct Batch64 {
    static constexpr std::size_t kLanes = 64;
    static constexpr bool kOtherHash = false;
    static bool supported() { return true; }
    static void run(const ByteView* in, uint8_t* const* out) {
        keccak256_batch(std::span<const ByteView>(in, kLanes), std::span<uint8_t* const>(out, kLanes));
    }
};

#if defined(__x86_64__)
struct ScalarV3 {
    static constexpr std::size_t kLanes = 1;
    static constexpr bool kOtherHash = false;
    static bool supported() { return keccak_detail::cpu_has_x86_64_v3(); }
    static void run(const ByteView* in, uint8_t* const* out) {
        keccak_detail::scalar_v3_keccak256(in[0].data(), in[0].size(), out[0]);
    }
};

struct Avx2x4 {
    static constexpr std::size_t kLanes = 4;
    static constexpr bool kOtherHash = false;
    static bool supported() { return keccak_detail::cpu_has_x86_64_v3(); }
    static void run(const ByteView* in, uint8_t* const* out) {
        const uint8_t* data[kLanes];
        std::size_t len[kLanes];
        for (std::size_t i = 0; i < kLanes; ++i) {
            data[i] = in[i].data();
            len[i] = in[i].size();
        }
        keccak_detail::avx2_keccak256_x4(data, len, out, kLanes);
    }
};

struct Avx512x8 {
    static constexpr std::size_t kLanes = 8;
    static constexpr bool kOtherHash = false;
    static bool supported() { return keccak_detail::cpu_has_x86_64_v4(); }
    static void run(const ByteView* in, uint8_t* const* out) {
        const uint8_t* data[kLanes];
        std::size_t len[kLanes];
        for (std::size_t i = 0; i < kLanes; ++i) {
            data[i] = in[i].data();
            len[i] = in[i].size();
        }
        keccak_detail::avx512_keccak256_x8(data, len, out, kLanes);
    }
};
#endif

struct Cryptopp {
    static constexpr std::size_t kLanes = 1;
    static constexpr bool kOtherHash = false;
    static bool supported() { return true; }
    static void run(const ByteView* in, uint8_t* const* out) {
        CryptoPP::Keccak_256 h;
        h.CalculateDigest(out[0], in[0].data(), in[0].size());
    }
};

#if defined(CAROUSEL_BENCH_OPENSSL)
// OpenSSL 3.0 has no public Keccak-256 (3.2 adds KECCAK-256), so this is SHA3-256: the same permutation, rate and
// block count, a different pad byte. A cost comparison only; its digests are not checked. The algorithm is fetched
// once and the context reused, as a hashing loop in an OpenSSL client would.
struct OpensslSha3 {
    static constexpr std::size_t kLanes = 1;
    static constexpr bool kOtherHash = true;
    static bool supported() { return true; }
    static void run(const ByteView* in, uint8_t* const* out) {
        static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA3-256", nullptr);
        thread_local EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        unsigned int len = 0;
        EVP_DigestInit_ex2(ctx, md, nullptr);
        EVP_DigestUpdate(ctx, in[0].data(), in[0].size());
        EVP_DigestFinal_ex(ctx, out[0], &len);
    }
};
#endif

// CPU time of the calling thread: on a shared machine, time spent descheduled does not count.
double thread_cpu_ns() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

template <class Variant>
void keccak256_bench(benchmark::State& state) {
    if (!Variant::supported()) {
        state.SkipWithError("the CPU lacks this kernel's instruction set");
        return;
    }
    const auto len = static_cast<std::size_t>(state.range(0));
    std::vector<Bytes> msgs;
    std::vector<ByteView> in;
    std::vector<Hash> digests(Variant::kLanes);
    std::vector<uint8_t*> out;
    for (std::size_t i = 0; i < Variant::kLanes; ++i) msgs.emplace_back(len, static_cast<uint8_t>(i + 1));
    for (std::size_t i = 0; i < Variant::kLanes; ++i) {
        in.emplace_back(msgs[i]);
        out.push_back(digests[i].data());
    }
    Variant::run(in.data(), out.data());
    for (std::size_t i = 0; i < Variant::kLanes; ++i) {
        Hash expected;
        keccak_detail::reference_keccak256(in[i], expected.data());
        if (digests[i] != expected && !Variant::kOtherHash) {
            state.SkipWithError("wrong digest");
            return;
        }
    }
    const double start = thread_cpu_ns();
    for (auto _ : state) {
        Variant::run(in.data(), out.data());
        benchmark::DoNotOptimize(digests.data());
        benchmark::ClobberMemory();
    }
    state.counters["ns_per_hash"] =
        (thread_cpu_ns() - start) / (static_cast<double>(state.iterations()) * static_cast<double>(Variant::kLanes));
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(Variant::kLanes * len));
}

// keccak256_batch with the default backend on `n` 32-byte messages: how the cost per hash falls with the batch size
// (a lone message goes to the single-message kernel, a partial group costs a whole one).
void keccak256_batch_bench(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    std::vector<Bytes> msgs;
    std::vector<ByteView> in;
    std::vector<Hash> digests(n);
    std::vector<uint8_t*> out;
    for (std::size_t i = 0; i < n; ++i) msgs.emplace_back(32, static_cast<uint8_t>(i + 1));
    for (std::size_t i = 0; i < n; ++i) {
        in.emplace_back(msgs[i]);
        out.push_back(digests[i].data());
    }
    const double start = thread_cpu_ns();
    for (auto _ : state) {
        keccak256_batch(in, out);
        benchmark::DoNotOptimize(digests.data());
        benchmark::ClobberMemory();
    }
    state.counters["ns_per_hash"] =
        (thread_cpu_ns() - start) / (static_cast<double>(state.iterations()) * static_cast<double>(n));
    state.SetLabel(std::string(to_string(keccak_backend())));
}
BENCHMARK(keccak256_batch_bench)->DenseRange(1, 9)->Arg(16)->Arg(17);

#define CAROUSEL_KECCAK_BENCH(Variant) BENCHMARK_TEMPLATE(keccak256_bench, Variant)->Arg(32)->Arg(110)->Arg(532)

CAROUSEL_KECCAK_BENCH(Reference);
CAROUSEL_KECCAK_BENCH(Scalar);
CAROUSEL_KECCAK_BENCH(Dispatched);
CAROUSEL_KECCAK_BENCH(Batch64);
#if defined(__x86_64__)
CAROUSEL_KECCAK_BENCH(ScalarV3);
CAROUSEL_KECCAK_BENCH(Avx2x4);
CAROUSEL_KECCAK_BENCH(Avx512x8);
#endif
CAROUSEL_KECCAK_BENCH(Cryptopp);
#if defined(CAROUSEL_BENCH_OPENSSL)
CAROUSEL_KECCAK_BENCH(OpensslSha3);
#endif

}  // namespace
}  // namespace carousel
