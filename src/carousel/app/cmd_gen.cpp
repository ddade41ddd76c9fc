// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// `carousel gen`: a synthetic chain with mainnet-shaped state (state::ChainGenerator), written as
// one RLP StateDiff per block plus a JSON index, and applied block by block to a RocksDB
// store::StateStore in DIR/db (so its head is the final state and its window the last blocks).
//
// Options are read as strings and checked here, so that every bad input gets one clear line and
// exit code 1 (CLI11's own validators print usage and exit with their own codes).
#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include <carousel/core/hex.hpp>
#include <carousel/state/chain_dir.hpp>
#include <carousel/state/chain_generator.hpp>
#include <carousel/store/rocks_kv.hpp>
#include <carousel/store/state_store.hpp>

#include "commands.hpp"
#include "progress.hpp"

namespace carousel::app {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

constexpr uint64_t kMaxAccounts = uint64_t{1} << 31;
constexpr uint64_t kMaxBlocks = 100'000'000;

struct GenOptions {
    std::string accounts{"100000"};
    std::string blocks{"100"};
    std::string seed{"1"};
    std::string out;
    std::string accounts_per_block;
    std::string slots_per_block;
    bool json{false};
    bool no_db{false};
};

constexpr const char* kGenFooter = R"(
Generates a genesis state of N accounts and B blocks, deterministic for the seed, with mainnet-shaped
distributions scaled to N (the README's "Chain generator" section lists each one and the mainnet
figure behind it). Every block is a StateDiff in hashed-key space, sealed and applied to an
in-memory world state.

Writes, into DIR (created; it must not exist or be empty):
  blocks/00000000.rlp ...   one RLP StateDiff per block (state::encode_state_diff), genesis as block 0
  chain.json                seed, config, and per block: parent root, root, changed accounts, slot
                            changes, new code blobs, bytes
  db/                       a RocksDB StateStore with every block applied: its head is the final
                            state (flat leaf index, trie nodes, code), its window the last 128 roots
                            (skipped with --no-db)

Per-block changes default to mainnet's 766 changed accounts and 986 slot writes per block scaled by
N / 270M (at least 1 each); --accounts-per-block and --slots-per-block set them directly (the mean
per block; fractions are met on average).

Output: a short summary (accounts, contracts, slots, code, bytes, roots, speed), or with --json one
object with the same fields. On bad input (or a failed write): one line on stderr and exit code 1.

Example:
  carousel gen --accounts 100000 --blocks 100 --seed 7 --out /tmp/chain)";

tl::expected<uint64_t, std::string> parse_count(const std::string& name, const std::string& s, uint64_t lo,
                                                uint64_t hi) {
    uint64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) {
        return tl::unexpected{"--" + name + " must be a whole number, got '" + s + "'"};
    }
    if (v < lo || v > hi) {
        return tl::unexpected{"--" + name + " must be between " + std::to_string(lo) + " and " + std::to_string(hi) +
                              ", got " + s};
    }
    return v;
}

tl::expected<std::optional<double>, std::string> parse_rate(const std::string& name, const std::string& s) {
    if (s.empty()) return std::optional<double>{};
    double v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(v)) {
        return tl::unexpected{"--" + name + " must be a number, got '" + s + "'"};
    }
    if (v < 0 || v > 1e6) return tl::unexpected{"--" + name + " must be between 0 and 1000000, got " + s};
    return std::optional<double>{v};
}

// Creates DIR and DIR/blocks; DIR must not exist or be an empty directory.
tl::expected<void, std::string> prepare_out_dir(const fs::path& dir) {
    std::error_code ec;
    const auto st = fs::status(dir, ec);
    if (fs::exists(st)) {
        if (!fs::is_directory(st)) return tl::unexpected{std::string{"exists and is not a directory"}};
        if (!fs::is_empty(dir, ec) || ec) return tl::unexpected{std::string{"exists and is not empty"}};
    }
    fs::create_directories(dir / "blocks", ec);
    if (ec) return tl::unexpected{"cannot create directory: " + ec.message()};
    // A directory can exist and still refuse files (permissions, read-only mounts): try one.
    const fs::path probe = dir / ".carousel-write-test";
    {
        std::ofstream f{probe, std::ios::binary};
        if (!f || !(f << 'x') || !f.flush()) return tl::unexpected{std::string{"is not writable"}};
    }
    fs::remove(probe, ec);
    return {};
}

// Bytes of the regular files under `dir`.
uint64_t directory_bytes(const fs::path& dir) {
    uint64_t total = 0;
    std::error_code ec;
    for (fs::recursive_directory_iterator it{dir, ec}, end; !ec && it != end; it.increment(ec)) {
        if (it->is_regular_file(ec)) total += it->file_size(ec);
    }
    return total;
}

bool write_file(const fs::path& path, ByteView data) {
    std::ofstream f{path, std::ios::binary};
    f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
    f.close();
    return !f.fail();
}

// `v` with `decimals` digits after the point.
std::string fixed(double v, int decimals) {
    std::ostringstream out;
    out << std::fixed << std::setprecision(decimals) << v;
    return out.str();
}

nlohmann::ordered_json config_json(const state::ChainGenerator& gen) {
    const state::GeneratorConfig& c = gen.config();
    nlohmann::ordered_json j;
    j["seed"] = c.seed;
    j["accounts"] = c.accounts;
    j["contract_share"] = c.contract_share;
    j["slots_per_account"] = c.slots_per_account;
    j["top_contract_share"] = c.top_contract_share;
    j["max_contract_slots"] = c.max_contract_slots;
    j["code_blobs_per_contract"] = c.code_blobs_per_contract;
    j["code_size_median"] = c.code_size_median;
    j["code_size_sigma"] = c.code_size_sigma;
    j["max_code_size"] = c.max_code_size;
    j["code_share_exponent"] = c.code_share_exponent;
    j["accounts_per_block"] = gen.accounts_per_block();
    j["slots_per_block"] = gen.slots_per_block();
    j["per_block_scaled"] = !c.accounts_per_block.has_value() || !c.slots_per_block.has_value();
    j["account_hot_exponent"] = c.account_hot_exponent;
    j["contract_hot_exponent"] = c.contract_hot_exponent;
    j["slot_hot_exponent"] = c.slot_hot_exponent;
    j["writes_per_contract"] = c.writes_per_contract;
    j["create_share"] = c.create_share;
    j["new_contract_share"] = c.new_contract_share;
    j["new_code_share"] = c.new_code_share;
    j["new_contract_slots"] = c.new_contract_slots;
    j["delete_share"] = c.delete_share;
    j["max_deleted_slots"] = c.max_deleted_slots;
    j["new_slot_share"] = c.new_slot_share;
    j["clear_share"] = c.clear_share;
    j["storage_exponent"] = gen.storage_exponent();
    return j;
}

std::string hex_root(const Hash& h) { return to_hex_prefixed(view(h)); }

std::string human_bytes(uint64_t b) {
    const auto d = static_cast<double>(b);
    if (b >= 1'000'000'000) return fixed(d / 1e9, 2) + " GB";
    if (b >= 1'000'000) return fixed(d / 1e6, 1) + " MB";
    if (b >= 1'000) return fixed(d / 1e3, 1) + " kB";
    return std::to_string(b) + " B";
}

int fail(const std::string& message) {
    std::cerr << "carousel gen: " << message << '\n';
    return 1;
}

int run_gen(const GenOptions& opt) {
    // ---- input ----
    auto accounts = parse_count("accounts", opt.accounts, 1, kMaxAccounts);
    if (!accounts) return fail(accounts.error());
    auto blocks = parse_count("blocks", opt.blocks, 0, kMaxBlocks);
    if (!blocks) return fail(blocks.error());
    auto seed = parse_count("seed", opt.seed, 0, UINT64_MAX);
    if (!seed) return fail(seed.error());
    auto k = parse_rate("accounts-per-block", opt.accounts_per_block);
    if (!k) return fail(k.error());
    auto m = parse_rate("slots-per-block", opt.slots_per_block);
    if (!m) return fail(m.error());
    if (opt.out.empty()) return fail("--out DIR is required");

    state::GeneratorConfig config;
    config.seed = *seed;
    config.accounts = *accounts;
    config.accounts_per_block = *k;
    config.slots_per_block = *m;
    if (auto ok = state::check_config(config); !ok) return fail(ok.error());

    const fs::path dir{opt.out};
    if (auto ok = prepare_out_dir(dir); !ok) return fail(opt.out + ": " + ok.error());

    // The store (declared before the generator's use of it, destroyed after: the KV outlives it).
    std::unique_ptr<store::RocksKV> kv;
    std::unique_ptr<store::StateStore> db;
    if (!opt.no_db) {
        if (auto s = store::RocksKV::open(dir / "db", kv); !s.ok()) return fail("db: " + s.to_string());
        auto opened = store::StateStore::open(*kv);
        if (!opened) return fail("db: " + opened.error().to_string());
        db = std::move(*opened);
    }
    double db_s = 0;
    auto store_block = [&](const state::StateDiff& d) -> store::Status {
        if (!db) return store::Status{};
        const auto t = Clock::now();
        store::Status s = db->apply_block(d);
        db_s += seconds_since(t);
        return s;
    };

    // ---- genesis ----
    state::ChainGenerator gen{config};
    nlohmann::ordered_json block_index = nlohmann::ordered_json::array();
    uint64_t diff_bytes = 0;
    auto record = [&](const state::StateDiff& d) -> bool {
        const Bytes rlp = state::encode_state_diff(d);
        if (!write_file(dir / "blocks" / state::block_file_name(d.block), rlp)) return false;
        diff_bytes += rlp.size();
        nlohmann::ordered_json b;
        b["block"] = d.block;
        b["parent_root"] = hex_root(d.parent_root);
        b["root"] = hex_root(d.root);
        b["accounts"] = d.accounts.size();
        b["slots"] = d.slots.size();
        b["code"] = d.code.size();
        b["bytes"] = rlp.size();
        block_index.push_back(std::move(b));
        return true;
    };

    Progress genesis_progress{"genesis", *accounts, !opt.json};
    const auto t0 = Clock::now();
    auto genesis = gen.genesis([&](uint64_t done) { genesis_progress.update(done); });
    if (!genesis) return fail("genesis did not apply: " + std::string{to_string(genesis.error())});
    const double genesis_s = seconds_since(t0);
    genesis_progress.finish();
    const state::GeneratorStats genesis_stats = gen.stats();
    const Hash genesis_root = genesis->root;
    if (!record(*genesis)) return fail(opt.out + ": cannot write " + state::block_file_name(0));
    {
        // StateStore imports a genesis in one call, without progress reports: say what is going on.
        Progress db_progress{"db: genesis import", 1, !opt.json && db != nullptr};
        if (auto s = store_block(*genesis); !s.ok()) return fail("db: genesis: " + s.to_string());
        if (db) db_progress.finish();
    }
    genesis = state::StateDiff{};  // free it: a large genesis is most of the memory

    // ---- blocks ----
    Progress block_progress{"blocks", *blocks, !opt.json && *blocks > 0};
    const auto t1 = Clock::now();
    const double db_genesis_s = db_s;
    for (uint64_t b = 1; b <= *blocks; ++b) {
        auto d = gen.next_block();
        if (!d) return fail("block " + std::to_string(b) + " did not apply: " + std::string{to_string(d.error())});
        if (!record(*d)) return fail(opt.out + ": cannot write " + state::block_file_name(b));
        if (auto s = store_block(*d); !s.ok()) return fail("db: block " + std::to_string(b) + ": " + s.to_string());
        block_progress.update(b);
    }
    const double blocks_s = seconds_since(t1) - (db_s - db_genesis_s);  // the generator's time
    if (*blocks > 0) block_progress.finish();
    const double total_s = seconds_since(t0);

    // ---- index and summary ----
    uint64_t db_bytes = 0;
    if (db) {
        if (db->head().root != gen.root()) return fail("db: head root differs from the generator's");
        // Memtables into table files: otherwise every read-only open (each `carousel serve`)
        // replays the write-ahead log into memory first.
        const auto t = Clock::now();
        if (auto st = kv->flush(); !st.ok()) return fail("db: flush: " + st.to_string());
        db_s += seconds_since(t);
        db.reset();
        kv.reset();  // closes the database, so its size on disk is final
        db_bytes = directory_bytes(dir / "db");
    }
    const state::GeneratorStats s = gen.stats();
    nlohmann::ordered_json summary;
    summary["out"] = opt.out;
    summary["seed"] = *seed;
    summary["blocks"] = *blocks;
    summary["genesis_root"] = hex_root(genesis_root);
    summary["head_root"] = hex_root(gen.root());
    summary["genesis_accounts"] = genesis_stats.accounts;
    summary["genesis_slots"] = genesis_stats.slots;
    summary["accounts"] = s.accounts;
    summary["contracts"] = s.contracts;
    summary["storage_accounts"] = s.storage_accounts;
    summary["slots"] = s.slots;
    summary["largest_storage"] = s.largest_storage;
    summary["code_blobs"] = s.code_blobs;
    summary["code_bytes"] = s.code_bytes;
    summary["diff_bytes"] = diff_bytes;
    summary["db"] = !opt.no_db;
    summary["db_bytes"] = db_bytes;
    summary["changed_accounts"] = s.changed_accounts;
    summary["slot_changes"] = s.slot_changes;
    summary["created_accounts"] = s.created_accounts;
    summary["deleted_accounts"] = s.deleted_accounts;
    summary["genesis_s"] = std::round(genesis_s * 1e3) / 1e3;
    summary["blocks_s"] = std::round(blocks_s * 1e3) / 1e3;
    summary["db_s"] = std::round(db_s * 1e3) / 1e3;
    summary["accounts_per_s"] = std::round(static_cast<double>(*accounts) / std::max(genesis_s, 1e-9));
    summary["blocks_per_s"] = *blocks == 0 ? 0.0 : std::round(static_cast<double>(*blocks) / std::max(blocks_s, 1e-9));

    nlohmann::ordered_json index;
    index["format"] = state::kChainDirFormat;
    index["seed"] = *seed;
    index["config"] = config_json(gen);
    index["summary"] = summary;
    index["blocks"] = std::move(block_index);
    const std::string text = index.dump(1) + "\n";
    if (!write_file(dir / "chain.json", ByteView{reinterpret_cast<const uint8_t*>(text.data()), text.size()})) {
        return fail(opt.out + ": cannot write chain.json");
    }

    if (opt.json) {
        std::cout << summary.dump() << '\n';
        return 0;
    }
    const double accounts_per_s = static_cast<double>(*accounts) / std::max(genesis_s, 1e-9);
    const double blocks_per_s = *blocks == 0 ? 0.0 : static_cast<double>(*blocks) / std::max(blocks_s, 1e-9);
    std::cout << "carousel gen: " << *accounts << " accounts, " << *blocks << " blocks, seed " << *seed << " -> "
              << opt.out << "\n"
              << "  genesis   " << hex_root(genesis_root) << "  (" << genesis_stats.accounts << " accounts, "
              << genesis_stats.contracts << " contracts, " << genesis_stats.slots << " slots; largest storage "
              << genesis_stats.largest_storage << ", exponent " << fixed(gen.storage_exponent(), 3) << ")\n"
              << "  head      " << hex_root(gen.root()) << "  (block " << *blocks << ")\n"
              << "  state     " << s.accounts << " accounts, " << s.contracts << " contracts, " << s.slots << " slots, "
              << s.code_blobs << " code blobs (" << human_bytes(s.code_bytes) << ")\n"
              << "  changes   " << s.changed_accounts << " accounts changed, " << s.slot_changes << " slot changes, "
              << s.created_accounts << " created, " << s.deleted_accounts << " deleted\n"
              << "  diffs     " << *blocks + 1 << " files, " << human_bytes(diff_bytes) << "\n"
              << "  db        "
              << (opt.no_db ? std::string{"not written (--no-db)"}
                            : (dir / "db").string() + ", " + human_bytes(db_bytes))
              << "\n"
              << "  time      " << fixed(total_s, 2) << " s: genesis " << fixed(genesis_s, 2) << " s ("
              << fixed(accounts_per_s, 0) << " accounts/s), blocks " << fixed(blocks_s, 2) << " s ("
              << fixed(blocks_per_s, 0) << " blocks/s), db " << fixed(db_s, 2) << " s\n";
    return 0;
}

}  // namespace

void register_gen(CLI::App& app) {
    auto* cmd = app.add_subcommand("gen", "Generate a synthetic chain with mainnet-shaped state: genesis and B blocks");
    auto opt = std::make_shared<GenOptions>();
    cmd->add_option("--accounts", opt->accounts, "Accounts at genesis (default 100000)")->option_text("N");
    cmd->add_option("--blocks", opt->blocks, "Blocks after genesis (default 100)")->option_text("B");
    cmd->add_option("--seed", opt->seed, "Seed: the same seed gives the same chain (default 1)")->option_text("S");
    cmd->add_option("--out", opt->out, "Output directory; must not exist or be empty")->option_text("DIR");
    cmd->add_option("--accounts-per-block", opt->accounts_per_block,
                    "Changed accounts per block (default: mainnet's 766 scaled by N / 270M)")
        ->option_text("K");
    cmd->add_option("--slots-per-block", opt->slots_per_block,
                    "Slot writes per block (default: mainnet's 986 scaled by N / 270M)")
        ->option_text("M");
    cmd->add_flag("--json", opt->json, "Print one JSON object instead of the summary; no progress");
    cmd->add_flag("--no-db", opt->no_db, "Do not write the RocksDB state store DIR/db");
    cmd->footer(kGenFooter);
    cmd->callback([opt] { set_exit_code(run_gen(*opt)); });
}

}  // namespace carousel::app
