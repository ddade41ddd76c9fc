// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors

// StateStore on a mainnet-shaped state: the cost of committing a block and the bytes on disk.
//
//   carousel_bench --benchmark_filter=state_store_
//
// The state: the chain generator's genesis for N accounts (CAROUSEL_BENCH_STATE_ACCOUNTS, default
// 1M) at mainnet's shape (9.26% contracts, 4.44 slots per account, the largest contract 10.6% of the
// slots), then 3 x B blocks (CAROUSEL_BENCH_STATE_BLOCKS, default 30) of mainnet's absolute size:
// 766 changed accounts and 986 slot writes. Generated once, before the first benchmark.
//
// state_store_import/KV: the genesis into an empty StateStore (HashBuilder, chunked batches). RocksKV
//   is then flushed and compacted (compact_s), as a node that has been running a while would be.
// state_store_apply_block/KV: B blocks through StateStore::apply_block, one block per iteration:
//   WorldState checks, trie node reference counts, flat index, diff, journal, meta, one batch.
//   MemoryKV; RocksKV without sync; RocksKV with a synced batch per block (the same database, the
//   store reopened with Options::sync; open_ms is that reopen with its checks). Counters are medians
//   over the blocks: ms per block and us per changed key (accounts + slots).
// state_store_stream_accounts/RocksKV: every account leaf of the head in key order from the flat
//   index (what a prefix-sync server reads); items are leaves.
// state_store_disk/RocksKV: after a full compaction, the bytes of each column's table files per
//   account and per slot, against the raw leaf bytes (key + value).
// Default root window (128): pruning starts only after 128 blocks, so these runs do not include it.
// state_store_apply_block_pruning/MemoryKV applies the blocks with a window of 8, so most blocks also
// apply an older block's journal.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <rocksdb/db.h>

#include <carousel/state/chain_generator.hpp>
#include <carousel/store/memory_kv.hpp>
#include <carousel/store/rocks_kv.hpp>
#include <carousel/store/state_store.hpp>
#include <carousel/testing/temp_dir.hpp>

namespace carousel::store {
namespace {

using Clock = std::chrono::steady_clock;

uint64_t env_or(const char* name, uint64_t fallback) {
    const char* v = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read before any thread starts
    if (v == nullptr || *v == '\0') return fallback;
    return std::strtoull(v, nullptr, 10);
}

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v.size() % 2 == 1 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// The chain, generated once: genesis and 3 x B blocks (one run of B per variant).
struct Chain {
    uint64_t accounts{0};
    uint64_t blocks_per_run{0};
    state::StateDiff genesis;
    std::vector<state::StateDiff> blocks;  // blocks 1, 2, ...
    state::GeneratorStats stats;

    static Chain& get() {
        static Chain chain = make();
        return chain;
    }

  private:
    static Chain make() {
        Chain c;
        c.accounts = env_or("CAROUSEL_BENCH_STATE_ACCOUNTS", 1'000'000);
        c.blocks_per_run = env_or("CAROUSEL_BENCH_STATE_BLOCKS", 30);
        state::GeneratorConfig config;
        config.seed = 1;
        config.accounts = c.accounts;
        config.accounts_per_block = state::mainnet::kAccountsPerBlock;
        config.slots_per_block = state::mainnet::kSlotWritesPerBlock;
        state::ChainGenerator gen{config};
        auto g = gen.genesis();
        if (!g) std::abort();
        c.genesis = std::move(*g);
        for (uint64_t b = 0; b < 3 * c.blocks_per_run; ++b) {
            auto d = gen.next_block();
            if (!d) std::abort();
            c.blocks.push_back(std::move(*d));
        }
        c.stats = gen.stats();
        return c;
    }
};

// Forwards to a KV and counts point reads and written operations.
class CountingKV final : public KV {
  public:
    explicit CountingKV(std::unique_ptr<KV> kv) : kv_{std::move(kv)} {}
    Status get(Column column, ByteView key, Bytes& value) const noexcept override {
        ++gets;
        return kv_->get(column, key, value);
    }
    Status write(const WriteBatch& batch, WriteOptions options) noexcept override {
        ops += batch.count();
        bytes += batch.byte_size();
        return kv_->write(batch, options);
    }
    [[nodiscard]] std::unique_ptr<Iterator> new_iterator(Column column, KeyRange range) const noexcept override {
        return kv_->new_iterator(column, std::move(range));
    }
    KV& inner() noexcept { return *kv_; }

    mutable uint64_t gets{0};
    uint64_t ops{0};
    uint64_t bytes{0};

  private:
    std::unique_ptr<KV> kv_;
};

// A StateStore holding the genesis, and the next block it applies.
struct World {
    std::unique_ptr<TempDir> dir;
    std::unique_ptr<CountingKV> kv;
    std::unique_ptr<StateStore> store;
    std::size_t next{0};  // index into Chain::blocks
    double import_ms{0};
    double compact_ms{0};

    RocksKV& rocks() { return static_cast<RocksKV&>(kv->inner()); }

    static World make(bool rocks, uint32_t window) {
        World w;
        if (rocks) {
            w.dir = std::make_unique<TempDir>("carousel-state-bench-");
            std::unique_ptr<RocksKV> r;
            if (!RocksKV::open(w.dir->path() / "db", r).ok()) std::abort();
            w.kv = std::make_unique<CountingKV>(std::move(r));
        } else {
            w.kv = std::make_unique<CountingKV>(std::make_unique<MemoryKV>());
        }
        StateStore::Options options;
        options.root_window = window;
        auto s = StateStore::open(*w.kv, options);
        if (!s) std::abort();
        w.store = std::move(*s);
        const auto t0 = Clock::now();
        if (!w.store->apply_block(Chain::get().genesis).ok()) std::abort();
        w.import_ms = ms_since(t0);
        // Settle: a node that has run for a while has no compaction debt from the import.
        if (rocks) {
            const auto t1 = Clock::now();
            if (!w.rocks().flush().ok() || !w.rocks().compact().ok()) std::abort();
            w.compact_ms = ms_since(t1);
        }
        return w;
    }
};

World& memory_world() {
    static World w = World::make(false, 128);
    return w;
}
World& rocks_world() {
    static World w = World::make(true, 128);
    return w;
}

void state_store_import(benchmark::State& state, World& (*world)()) {
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the loop variable is unused by design
        World& w = world();
        state.SetIterationTime(w.import_ms / 1e3);
    }
    const Chain& c = Chain::get();
    state.counters["accounts"] = static_cast<double>(c.genesis.accounts.size());
    state.counters["slots"] = static_cast<double>(c.genesis.slots.size());
    state.counters["accounts_per_s"] = static_cast<double>(c.genesis.accounts.size()) / (world().import_ms / 1e3);
    state.counters["compact_s"] = world().compact_ms / 1e3;
}
BENCHMARK_CAPTURE(state_store_import, MemoryKV, memory_world)->Iterations(1)->UseManualTime()->Unit(benchmark::kSecond);
BENCHMARK_CAPTURE(state_store_import, RocksKV, rocks_world)->Iterations(1)->UseManualTime()->Unit(benchmark::kSecond);

// Applies the world's next B blocks, one per iteration.
void apply_blocks(benchmark::State& state, World& w) {
    const Chain& c = Chain::get();
    std::vector<double> ms, us_per_key;
    const uint64_t gets0 = w.kv->gets, ops0 = w.kv->ops, bytes0 = w.kv->bytes;
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the loop variable is unused by design
        if (w.next >= c.blocks.size()) {
            state.SkipWithError("out of blocks");
            return;
        }
        const state::StateDiff& d = c.blocks[w.next++];
        const auto t0 = Clock::now();
        const Status s = w.store->apply_block(d);
        const double t = ms_since(t0);
        if (!s.ok()) {
            state.SkipWithError(s.to_string().c_str());
            return;
        }
        ms.push_back(t);
        us_per_key.push_back(t * 1e3 / static_cast<double>(d.accounts.size() + d.slots.size()));
    }
    state.counters["median_ms"] = median(ms);
    state.counters["median_us_per_key"] = median(us_per_key);
    state.counters["max_ms"] = ms.empty() ? 0 : *std::max_element(ms.begin(), ms.end());
    const auto n = static_cast<double>(std::max<std::size_t>(ms.size(), 1));
    state.counters["gets_per_block"] = static_cast<double>(w.kv->gets - gets0) / n;
    state.counters["writes_per_block"] = static_cast<double>(w.kv->ops - ops0) / n;
    state.counters["batch_kB"] = static_cast<double>(w.kv->bytes - bytes0) / n / 1e3;
}

void state_store_apply_block_memory(benchmark::State& state) { apply_blocks(state, memory_world()); }
void state_store_apply_block_rocks(benchmark::State& state) { apply_blocks(state, rocks_world()); }
void state_store_apply_block_rocks_sync(benchmark::State& state) {
    World& w = rocks_world();
    // The same database, the store reopened with synced batches.
    w.store.reset();
    StateStore::Options options;
    options.sync = true;
    const auto t0 = Clock::now();
    auto s = StateStore::open(*w.kv, options);
    const double open_ms = ms_since(t0);
    if (!s) {
        state.SkipWithError(s.error().to_string().c_str());
        return;
    }
    w.store = std::move(*s);
    apply_blocks(state, w);
    state.counters["open_ms"] = open_ms;
}
void state_store_apply_block_pruning(benchmark::State& state) {
    static World w = World::make(false, 8);
    apply_blocks(state, w);
}

const auto kBlocks = static_cast<int64_t>(env_or("CAROUSEL_BENCH_STATE_BLOCKS", 30));  // NOLINT(cert-err58-cpp)
BENCHMARK(state_store_apply_block_memory)
    ->Name("state_store_apply_block/MemoryKV")
    ->Iterations(kBlocks)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(state_store_apply_block_rocks)
    ->Name("state_store_apply_block/RocksKV")
    ->Iterations(kBlocks)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(state_store_apply_block_rocks_sync)
    ->Name("state_store_apply_block/RocksKV_sync")
    ->Iterations(kBlocks)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(state_store_apply_block_pruning)
    ->Name("state_store_apply_block_pruning/MemoryKV")
    ->Iterations(kBlocks)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void state_store_stream_accounts(benchmark::State& state) {
    World& w = rocks_world();
    uint64_t n = 0;
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the loop variable is unused by design
        n = 0;
        for (LeafIterator it = w.store->account_leaves(Hash{}); it.valid(); it.next()) {
            benchmark::DoNotOptimize(it.value().data());
            ++n;
        }
    }
    state.SetItemsProcessed(static_cast<int64_t>(n) * static_cast<int64_t>(state.iterations()));
    state.counters["leaves"] = static_cast<double>(n);
}
BENCHMARK(state_store_stream_accounts)
    ->Name("state_store_stream_accounts/RocksKV")
    ->Iterations(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Bytes of each column's table files, read with RocksDB's own properties (RocksKV reports only the
// total): the database is closed and reopened read-only.
std::vector<std::pair<std::string, uint64_t>> column_bytes(const std::filesystem::path& dir) {
    std::vector<std::string> names;
    if (!rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions{}, dir.string(), &names).ok()) return {};
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    descriptors.reserve(names.size());
    for (const auto& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions{});
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    if (!rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions{}, dir.string(), descriptors, &handles, &db).ok()) return {};
    std::vector<std::pair<std::string, uint64_t>> out;
    for (std::size_t i = 0; i < handles.size(); ++i) {
        uint64_t v = 0;
        (void)db->GetIntProperty(handles[i], "rocksdb.total-sst-files-size", &v);
        out.emplace_back(names[i], v);
    }
    for (auto* h : handles) (void)db->DestroyColumnFamilyHandle(h);
    delete db;  // NOLINT(cppcoreguidelines-owning-memory): RocksDB's API hands out a raw owning pointer
    return out;
}

void state_store_disk(benchmark::State& state) {
    World& w = rocks_world();
    const StateStore::Head head = w.store->head();
    uint64_t raw_accounts = 0, raw_slots = 0;
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the loop variable is unused by design
        raw_accounts = raw_slots = 0;
        for (LeafIterator it = w.store->account_leaves(Hash{}); it.valid(); it.next()) {
            raw_accounts += 32 + it.value().size();
            for (LeafIterator s = w.store->storage_leaves(to_hash(it.key())); s.valid(); s.next()) {
                raw_slots += 64 + s.value().size();
            }
        }
        if (!w.rocks().flush().ok() || !w.rocks().compact().ok()) {
            state.SkipWithError("compaction failed");
            return;
        }
    }
    const auto accounts = static_cast<double>(head.accounts);
    const auto slots = static_cast<double>(head.slots);
    state.counters["accounts"] = accounts;
    state.counters["slots"] = slots;
    state.counters["raw_B_per_account"] = static_cast<double>(raw_accounts) / accounts;
    state.counters["raw_B_per_slot"] = static_cast<double>(raw_slots) / slots;
    state.counters["total_B_per_account"] = static_cast<double>(w.rocks().sst_bytes()) / accounts;

    // Close the database to read per-column sizes, then reopen it for whatever runs next.
    const std::filesystem::path dir = w.rocks().path();
    w.store.reset();
    w.kv.reset();
    for (const auto& [name, bytes] : column_bytes(dir)) {
        const auto b = static_cast<double>(bytes);
        if (name == "account_leaves") state.counters["disk_B_per_account"] = b / accounts;
        if (name == "storage_leaves") state.counters["disk_B_per_slot"] = b / slots;
        if (name == "trie_nodes") state.counters["nodes_B_per_leaf"] = b / (accounts + slots);
        if (name == "code") state.counters["code_MB"] = b / 1e6;
        if (name == "blocks") state.counters["blocks_MB"] = b / 1e6;
    }
    std::unique_ptr<RocksKV> r;
    if (!RocksKV::open(dir, r).ok()) std::abort();
    w.kv = std::make_unique<CountingKV>(std::move(r));
    auto s = StateStore::open(*w.kv);
    if (!s) std::abort();
    w.store = std::move(*s);
}
BENCHMARK(state_store_disk)->Name("state_store_disk/RocksKV")->Iterations(1)->UseRealTime()->Unit(benchmark::kSecond);

}  // namespace
}  // namespace carousel::store
