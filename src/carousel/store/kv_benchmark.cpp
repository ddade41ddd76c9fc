// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors

// KV throughput on the shapes carousel stores: 32-byte hash keys, ~100-byte values (an account leaf
// is 70-110 bytes of RLP, a trie node 70-532). Items per second are key-value pairs.
//
//   carousel_bench --benchmark_filter=kv_
//
// Write: batches of N random keys into a growing column (as committing blocks does), optionally
// synced. PointRead: random keys of a prefilled, flushed and compacted column, present or absent.
// RangeScan: a seek to a random key, then the next N entries in order (the flat leaf index serving a
// range). RocksKV runs with its default options (256 MiB block cache), so a prefilled column of
// 256Ki entries (about 35 MB) is read from the cache, not the disk. Rates are over real time.

#include <array>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>

#include <benchmark/benchmark.h>

#include <carousel/store/memory_kv.hpp>
#include <carousel/store/rocks_kv.hpp>
#include <carousel/testing/temp_dir.hpp>

namespace carousel::store {
namespace {

constexpr std::size_t kValueSize = 100;

uint64_t splitmix64(uint64_t& s) noexcept {
    uint64_t z = (s += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
}

// The i-th key of a keyspace: 32 uniform bytes, like a Keccak-256 hash.
std::array<uint8_t, 32> key_of(uint64_t i) noexcept {
    std::array<uint8_t, 32> key{};
    uint64_t s = i;
    for (std::size_t w = 0; w < 4; ++w) {
        const uint64_t v = splitmix64(s);
        for (std::size_t b = 0; b < 8; ++b) key[w * 8 + b] = static_cast<uint8_t>(v >> (8 * b));
    }
    return key;
}

ByteView view_of(const std::array<uint8_t, 32>& key) noexcept { return {key.data(), key.size()}; }

Bytes value_of(uint64_t i) {
    Bytes v(kValueSize, 0);
    uint64_t s = ~i;
    for (std::size_t b = 0; b < kValueSize; b += 8) {
        const uint64_t r = splitmix64(s);
        for (std::size_t k = 0; k < 8 && b + k < kValueSize; ++k) v[b + k] = static_cast<uint8_t>(r >> (8 * k));
    }
    return v;
}

struct Memory {
    std::unique_ptr<KV> kv = std::make_unique<MemoryKV>();
    void settle() {}
};

struct Rocks {
    TempDir dir{"carousel-kv-bench-"};
    std::unique_ptr<KV> kv;
    Rocks() {
        std::unique_ptr<RocksKV> rocks;
        if (!RocksKV::open(dir.path() / "db", rocks).ok()) std::abort();
        kv = std::move(rocks);
    }
    // Flush and compact, so reads go through table files as in a long-running node.
    void settle() {
        auto& r = static_cast<RocksKV&>(*kv);
        if (!r.flush().ok() || !r.compact().ok()) std::abort();
    }
};

// A column prefilled with keys 0..n-1, shared by all runs of the read benchmarks.
template <class Backend>
KV& prefilled(uint64_t n) {
    static std::map<uint64_t, std::unique_ptr<Backend>> cache;
    auto& slot = cache[n];
    if (!slot) {
        slot = std::make_unique<Backend>();
        WriteBatch batch;
        for (uint64_t i = 0; i < n; ++i) {
            batch.put(Column::kAccountLeaves, view_of(key_of(i)), value_of(i));
            if (batch.count() == 10000 || i + 1 == n) {
                if (!slot->kv->write(batch).ok()) std::abort();
                batch.clear();
            }
        }
        slot->settle();
    }
    return *slot->kv;
}

// Arguments: batch size, sync (0/1).
template <class Backend>
void kv_write_bench(benchmark::State& state) {
    const auto batch_size = static_cast<uint64_t>(state.range(0));
    const WriteOptions options{.sync = state.range(1) != 0};
    Backend backend;
    const Bytes value = value_of(0);
    uint64_t next = 0;
    for (auto _ : state) {
        WriteBatch batch;
        for (uint64_t i = 0; i < batch_size; ++i) batch.put(Column::kTrieNodes, view_of(key_of(next++)), value);
        if (!backend.kv->write(batch, options).ok()) state.SkipWithError("write failed");
    }
    state.SetItemsProcessed(static_cast<int64_t>(next));
    state.SetBytesProcessed(static_cast<int64_t>(next * (32 + kValueSize)));
}

// Arguments: keys in the column, present (1) or absent (0).
template <class Backend>
void kv_point_read_bench(benchmark::State& state) {
    const auto n = static_cast<uint64_t>(state.range(0));
    const bool present = state.range(1) != 0;
    KV& kv = prefilled<Backend>(n);
    uint64_t rng = 12345;
    Bytes value;
    for (auto _ : state) {
        const uint64_t i = present ? splitmix64(rng) % n : n + splitmix64(rng) % n;
        const Status s = kv.get(Column::kAccountLeaves, view_of(key_of(i)), value);
        if (s.ok() != present) state.SkipWithError("wrong answer");
        benchmark::DoNotOptimize(value.data());
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// Arguments: keys in the column, entries per scan.
template <class Backend>
void kv_range_scan_bench(benchmark::State& state) {
    const auto n = static_cast<uint64_t>(state.range(0));
    const auto length = static_cast<uint64_t>(state.range(1));
    KV& kv = prefilled<Backend>(n);
    uint64_t rng = 6789;
    uint64_t entries = 0;
    for (auto _ : state) {
        auto it = kv.new_iterator(Column::kAccountLeaves);
        uint64_t got = 0;
        for (it->seek(view_of(key_of(splitmix64(rng) % n))); it->valid() && got < length; it->next()) {
            benchmark::DoNotOptimize(it->value().data());
            ++got;
        }
        if (!it->status().ok()) state.SkipWithError("scan failed");
        entries += got;
    }
    state.SetItemsProcessed(static_cast<int64_t>(entries));
}

// Real time, not CPU time: RocksDB flushes and compacts on background threads.
BENCHMARK_TEMPLATE(kv_write_bench, Memory)->Args({1000, 0})->UseRealTime()->Unit(benchmark::kMicrosecond);
// Two seconds at least, so that flushes and compactions of the growing column are part of it.
BENCHMARK_TEMPLATE(kv_write_bench, Rocks)
    ->Args({1000, 0})
    ->Args({1000, 1})
    ->Args({10000, 0})
    ->MinTime(2.0)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_TEMPLATE(kv_point_read_bench, Memory)->Args({1 << 18, 1})->Args({1 << 18, 0})->UseRealTime();
BENCHMARK_TEMPLATE(kv_point_read_bench, Rocks)->Args({1 << 18, 1})->Args({1 << 18, 0})->UseRealTime();
BENCHMARK_TEMPLATE(kv_range_scan_bench, Memory)->Args({1 << 18, 1000})->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_TEMPLATE(kv_range_scan_bench, Rocks)
    ->Args({1 << 18, 1000})
    ->Args({1 << 18, 10})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace carousel::store
