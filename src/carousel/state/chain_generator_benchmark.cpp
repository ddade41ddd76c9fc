// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors

// The chain generator and the cost of applying mainnet-shaped blocks.
//
//   carousel_bench --benchmark_filter=chain_
//
// chain_genesis/N: ChainGenerator::genesis() for N accounts at mainnet's shape (9.26% contracts,
// 4.44 slots per account, the largest contract 10.6% of them), in memory; items are accounts, so
// items_per_second is the generator's accounts per second.
//
// chain_apply_block: 100 blocks of mainnet's absolute size (766 changed accounts, 986 slot writes)
// generated on a 1M-account state, then applied with WorldState::apply to a WorldState opened at the
// genesis root over the generator's in-memory NodeStore (so nodes are decoded from the store on
// first touch, as a store-backed node does). `start:0` (cold) times blocks 1-50 on the fresh
// WorldState; `start:1` (steady) applies blocks 1-50 untimed and times 51-100, the state of a node
// that has been applying blocks for a while; `start:2` (warm) times blocks 1-50 after applying and
// undoing them once (every path decoded: a lower bound). Each iteration is one block; the counters are the
// median over the blocks (mean_ms_per_block is the mean, which counts the blocks that close storage
// tries past WorldState's bounds, every dozen blocks or so): ms per block (wall clock, and the process's CPU time, less
// noisy on a shared machine: with the helper thread it is the work of both threads) and us per changed key (accounts +
// slots, wall clock). `parallel:1` lets WorldState split a block over the caller and one helper thread, `parallel:0`
// applies it on the caller alone. page_faults_per_block is the median of the minor page faults a block takes (first
// touches of memory the allocator got from the kernel: the decoded tries grow). keccak_perms_per_block is the median
// number of Keccak-f permutations one block runs, and keccak_floor_ms what they cost at the batch kernel's speed on one
// thread (one-block messages, keccak256_batch), measured right after each block: the machine is shared and its speed
// drifts from one second to the next. floor_ratio is the median over the blocks of the block's CPU time over its floor
// (all work against the hashing alone), wall_floor_ratio of its wall time over it.

#include <algorithm>
#include <chrono>
#include <ctime>
#include <memory>
#include <span>
#include <vector>

#include <benchmark/benchmark.h>

#include <carousel/core/keccak.hpp>
#include <carousel/state/chain_generator.hpp>
#include <carousel/state/world_state.hpp>

#include <sys/resource.h>

namespace carousel::state {
namespace {

using Clock = std::chrono::steady_clock;

// CPU time in seconds of `clock`: CLOCK_THREAD_CPUTIME_ID (this thread: on a shared machine, less
// noisy than the wall clock) or CLOCK_PROCESS_CPUTIME_ID (all the process's threads).
double cpu_seconds(clockid_t clock) {
    std::timespec ts{};
    clock_gettime(clock, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
double thread_cpu_seconds() { return cpu_seconds(CLOCK_THREAD_CPUTIME_ID); }
// Page faults the process has taken so far that needed no disk read (first touches of fresh memory).
double minor_faults() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_minflt);
}
double process_cpu_seconds() { return cpu_seconds(CLOCK_PROCESS_CPUTIME_ID); }

GeneratorConfig mainnet_shape(uint64_t accounts) {
    GeneratorConfig c;
    c.seed = 1;
    c.accounts = accounts;
    c.accounts_per_block = mainnet::kAccountsPerBlock;
    c.slots_per_block = mainnet::kSlotWritesPerBlock;
    return c;
}

void chain_genesis(benchmark::State& state) {
    const auto n = static_cast<uint64_t>(state.range(0));
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
        auto gen = std::make_unique<ChainGenerator>(mainnet_shape(n));
        auto g = gen->genesis();
        if (!g) {
            state.SkipWithError("genesis failed");
            return;
        }
        benchmark::DoNotOptimize(g->root);
        state.PauseTiming();  // freeing the state is not the generator's work
        g = StateDiff{};
        gen.reset();
        state.ResumeTiming();
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(chain_genesis)->Arg(100'000)->Arg(1'000'000)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

constexpr uint64_t kStateAccounts = 1'000'000;
constexpr int kTimedBlocks = 50;
constexpr int kBlocks = 2 * kTimedBlocks;  // the first half lead up to the second (`steady`)

struct Fixture {
    std::unique_ptr<ChainGenerator> gen;
    Hash genesis_root{};
    std::vector<StateDiff> blocks;
};

const Fixture& fixture() {
    static const Fixture kFixture = [] {
        Fixture x;
        x.gen = std::make_unique<ChainGenerator>(mainnet_shape(kStateAccounts));
        auto g = x.gen->genesis();
        if (!g) return x;
        x.genesis_root = g->root;
        for (int b = 0; b < kBlocks; ++b) {
            auto d = x.gen->next_block();
            if (!d) return Fixture{};
            x.blocks.push_back(std::move(*d));
        }
        return x;
    }();
    return kFixture;
}

double mean(const std::vector<double>& v) {
    double sum = 0;
    for (double x : v) sum += x;
    return v.empty() ? 0 : sum / static_cast<double>(v.size());
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

// ns per Keccak-f permutation with the batch kernel, on this thread: 4096 one-block messages.
class KeccakFloorProbe {
  public:
    KeccakFloorProbe() : data_(kMessages * 100, 0x5a), out_(kMessages) {
        for (std::size_t i = 0; i < kMessages; ++i) {
            data_[i * 100] = static_cast<uint8_t>(i);
            in_.emplace_back(data_.data() + i * 100, 100);
            out_ptr_.push_back(out_[i].data());
        }
    }
    // The median of `runs` runs.
    double ns_per_permutation(int runs) {
        std::vector<double> ns;
        for (int run = 0; run < runs; ++run) {
            const double c0 = thread_cpu_seconds();
            keccak256_batch(in_, out_ptr_);
            benchmark::DoNotOptimize(out_.data());
            ns.push_back((thread_cpu_seconds() - c0) * 1e9 / static_cast<double>(kMessages));
        }
        std::sort(ns.begin(), ns.end());
        return ns[ns.size() / 2];
    }

  private:
    static constexpr std::size_t kMessages = 4096;
    Bytes data_;
    std::vector<Hash> out_;
    std::vector<ByteView> in_;
    std::vector<uint8_t*> out_ptr_;
};

// What the WorldState has decoded when the timed blocks start.
enum class Start : int64_t {
    kCold = 0,    // nothing: opened at the genesis root; times the first 50 blocks
    kSteady = 1,  // what the first 50 blocks loaded; times the next 50 (each applied for the first time)
    kWarm = 2,    // every path of the timed blocks (the first 50, applied and undone once before)
};

void chain_apply_block(benchmark::State& state) {
    const Fixture& f = fixture();
    if (f.blocks.size() != kBlocks) {
        state.SkipWithError("chain generation failed");
        return;
    }
    const auto start = static_cast<Start>(state.range(0));
    const bool parallel = state.range(1) != 0;
    WorldState ws{f.gen->node_store(), f.gen->code_store(), f.genesis_root, StorageCacheLimits{}, parallel};
    const std::span<const StateDiff> lead_up = std::span{f.blocks}.first(kTimedBlocks);
    std::span<const StateDiff> timed = lead_up;
    if (start == Start::kSteady) {
        // Apply the lead-up blocks, untimed: the timed ones then find what a node that has been
        // applying blocks for a while has decoded (the top of the tries, hot contracts).
        for (const StateDiff& d : lead_up) {
            if (!ws.apply(d)) state.SkipWithError("lead-up apply failed");
        }
        timed = std::span{f.blocks}.subspan(kTimedBlocks);
    } else if (start == Start::kWarm) {
        // Apply and undo every timed block once, untimed, so their paths are decoded.
        for (const StateDiff& d : timed) {
            if (!ws.apply(d)) state.SkipWithError("warm-up apply failed");
        }
        for (auto it = timed.rbegin(); it != timed.rend(); ++it) {  // NOLINT(modernize-loop-convert)
            if (!ws.apply(it->inverse())) state.SkipWithError("warm-up undo failed");
        }
    }
    std::vector<double> ms;
    std::vector<double> cpu_ms;
    std::vector<double> us_per_key;
    std::vector<double> perms;
    std::vector<double> faults;    // minor page faults per block
    std::vector<double> floor_ms;  // per block: its permutations at the kernel's speed measured right after it
    std::vector<double> floor_ratio;
    std::vector<double> wall_floor_ratio;
    KeccakFloorProbe probe;
    std::size_t next = 0;
    double keys = 0;
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
        const StateDiff& d = timed[next++];
        const auto t0 = Clock::now();
        const double c0 = process_cpu_seconds();
        const uint64_t p0 = keccak_permutations();
        const double f0 = minor_faults();
        auto r = ws.apply(d);
        perms.push_back(static_cast<double>(keccak_permutations() - p0));
        faults.push_back(minor_faults() - f0);
        const double s = std::chrono::duration<double>(Clock::now() - t0).count();
        cpu_ms.push_back((process_cpu_seconds() - c0) * 1e3);
        if (!r) {
            state.SkipWithError("apply failed");
            break;
        }
        state.SetIterationTime(s);
        const auto changed = static_cast<double>(d.accounts.size() + d.slots.size());
        keys += changed;
        ms.push_back(s * 1e3);
        us_per_key.push_back(s * 1e6 / changed);
        // The machine's speed drifts (it is shared): each block is set against the floor measured next to it.
        floor_ms.push_back(perms.back() * probe.ns_per_permutation(3) * 1e-6);
        floor_ratio.push_back(cpu_ms.back() / floor_ms.back());
        wall_floor_ratio.push_back(ms.back() / floor_ms.back());
    }
    state.counters["median_ms_per_block"] = median(ms);
    state.counters["mean_ms_per_block"] = mean(ms);
    state.counters["median_cpu_ms_per_block"] = median(cpu_ms);
    state.counters["median_us_per_key"] = median(us_per_key);
    state.counters["keccak_perms_per_block"] = median(perms);
    state.counters["page_faults_per_block"] = median(faults);
    state.counters["keccak_floor_ms"] = median(floor_ms);
    state.counters["floor_ratio"] = median(floor_ratio);
    state.counters["wall_floor_ratio"] = median(wall_floor_ratio);
    state.counters["keys_per_block"] = keys / static_cast<double>(std::max<std::size_t>(ms.size(), 1));
}
BENCHMARK(chain_apply_block)
    ->ArgNames({"start", "parallel"})
    ->ArgsProduct({{static_cast<int64_t>(Start::kCold), static_cast<int64_t>(Start::kSteady),
                    static_cast<int64_t>(Start::kWarm)},
                   {0, 1}})
    ->Iterations(kTimedBlocks)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace carousel::state
