// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// ChainGenerator: a synthetic chain with mainnet-shaped state, deterministic for a seed.
//
// It produces a genesis StateDiff (block 0: parent_root is the empty trie's root and every account
// is created) and then one block StateDiff at a time, in hashed-key space. Every diff is sealed
// (storage roots and state root filled in) and applied to the generator's own WorldState, whose
// NodeStore and CodeStore are either owned (in memory) or passed in by the caller. Every diff passes
// validate() and applies with WorldState::apply() to a fresh state replaying the chain.
//
// Shape: every distribution is a field of GeneratorConfig, documented with the mainnet figure it is
// scaled from (namespace mainnet below; the README's "Chain generator" section has the same table).
// In short:
//  - accounts: N at genesis; contract_share of them are contracts with code and storage;
//  - storage sizes: Zipf's law over contract ranks, size(r) = round(s1 * r^-beta) (at least 1 slot),
//    where s1 = top_contract_share of all slots and beta is solved so that the sizes add up to
//    slots_per_account * N (beta comes out near 1: about 1.01 at N = 100k, 1.05 at N = 1M, 1.06 at
//    2.7M); this is a Pareto tail with alpha = 1/beta, truncated at 1 slot below and at the giant
//    above. The largest contracts are also the hottest (mainnet's most written contracts, such as
//    USDT and WETH, are among its largest);
//  - code: fewer distinct code blobs than contracts (code_blobs_per_contract); the largest contracts
//    have their own code, the others share blobs chosen Zipf-like; sizes lognormal, clamped to
//    [kMinCodeSize, max_code_size] (EIP-170's 24 KiB by default); bytes are pseudo-random;
//  - blocks: about accounts_per_block changed accounts and slots_per_block slot writes (mainnet's
//    766 and 986 scaled to N by default), drawn Zipf-like from hotness rankings; creations (EOAs and
//    contracts with code and storage), rare deletions (every slot cleared in the same diff),
//    storage clears and balance/nonce updates.
//
// Keys: account i's address is 20 bytes drawn from (seed, i); its key is keccak256(address). Slot
// number j (0, 1, ...) of an account is the 32-byte word j for j < 16 (plain variables) and a
// pseudo-random word from (seed, account, j) otherwise (mapping entries); its key is keccak256(word).
//
// Determinism: the same seed and config give identical diffs and roots on every platform. Random
// numbers come from xoshiro256** seeded with splitmix64 (both written here), never from <random>'s
// distributions, and the samplers use only IEEE-754 double additions, multiplications, divisions,
// std::sqrt and std::floor/frexp/ldexp (their own log and exp; no libm transcendental functions, whose
// last bits differ between C libraries). The build compiles this file with -ffp-contract=off so no
// compiler fuses a multiply and an add.
//
// Limits: at most 2^32 - 1 accounts over the whole chain (indices are 32-bit). Memory is about
// 200 bytes per account and 4 bytes per slot for the generator's model, plus the WorldState's trie.
// A genesis (block 0) decodes within kStateDiffLimits (about twice mainnet's size), so any N the
// generator can hold in memory.
//
// Not thread-safe.

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

#include <carousel/core/bytes.hpp>
#include <carousel/trie/node_store.hpp>

#include "account.hpp"
#include "code_store.hpp"
#include "state_diff.hpp"

namespace carousel::state {

// The mainnet figures the defaults are scaled from.
namespace mainnet {
inline constexpr double kAccounts = 270e6;                // go-ethereum #28892
inline constexpr double kSlots = 1.2e9;                   // go-ethereum #28892
inline constexpr double kStorageTries = 25e6;             // go-ethereum #33721: 24,908,373 storage tries
inline constexpr double kLargestContractSlots = 127.6e6;  // go-ethereum #33721: 127,623,837 slots in one contract
inline constexpr double kCodeBlobs = 1.94e6;              // go-ethereum #33254: 1,940,146 codes, 12.17 GB
inline constexpr double kCodeBytes = 12.17e9;             // (mean 6.27 KB per blob)
inline constexpr double kAccountsPerBlock = 766;          // EIP-7928 size analysis: changed accounts per block
inline constexpr double kSlotWritesPerBlock = 986;        // EIP-7928 size analysis: storage writes per block
// Growth between the two geth reports above: 270M accounts and 1.2B slots around block 19.1M
// (February 2024), 328M and 1.416B at block 23.87M (November 2025, go-ethereum #33254), about 4.8M
// blocks apart: about 12.2 new accounts and 45 new slots (net) per block.
inline constexpr double kNewAccountsPerBlock = 12.2;
inline constexpr double kNetNewSlotsPerBlock = 45;
}  // namespace mainnet

// Smallest code blob the generator makes (an ERC-1167 minimal proxy is 45 bytes).
inline constexpr uint32_t kMinCodeSize = 32;
// EIP-170's cap on deployed code.
inline constexpr uint32_t kEip170MaxCodeSize = 24576;

struct GeneratorConfig {
    uint64_t seed{1};
    // Accounts at genesis (N).
    uint64_t accounts{10'000};

    // ---- genesis state -------------------------------------------------------------------------
    // Share of accounts that are contracts (code and at least one storage slot): mainnet's 25M
    // storage tries among 270M accounts, 9.26%.
    double contract_share{mainnet::kStorageTries / mainnet::kAccounts};
    // Storage slots per account over the whole state: mainnet 1.2B / 270M = 4.44 (48 per contract).
    double slots_per_account{mainnet::kSlots / mainnet::kAccounts};
    // Share of all slots held by the largest contract: mainnet 127.6M / 1.2B = 10.6%.
    double top_contract_share{mainnet::kLargestContractSlots / mainnet::kSlots};
    // Cap on any contract's genesis slots (0: none). Tests use it to keep the giant small; the total
    // then falls short of slots_per_account * N when the cap binds.
    uint64_t max_contract_slots{0};
    // Distinct code blobs per contract: mainnet 1.94M codes for 24.9M storage tries, 7.8%.
    double code_blobs_per_contract{mainnet::kCodeBlobs / 24.9e6};
    // Code sizes: lognormal with this median (bytes) and sigma (of the natural log), clamped to
    // [kMinCodeSize, max_code_size]. Median 4 KiB and sigma 1 give a mean of about 6.4 KB after the
    // clamp, near mainnet's 6.27 KB per blob (12.17 GB / 1.94M).
    double code_size_median{4096};
    double code_size_sigma{1.0};
    uint32_t max_code_size{kEip170MaxCodeSize};
    // Zipf exponent of the blob a contract without its own code shares (clones of popular code:
    // minimal proxies, factory-made pairs and wallets).
    double code_share_exponent{1.0};

    // ---- blocks ----------------------------------------------------------------------------------
    // Changed accounts and slot writes per block. Unset: mainnet's 766 and 986 scaled by N / 270M
    // (with a floor of 1 each). Fractional values are met on average (probabilistic rounding).
    std::optional<double> accounts_per_block;
    std::optional<double> slots_per_block;
    // Zipf exponents of the hotness rankings: which accounts get balance/nonce updates, which
    // contracts get slot writes (ranked by size: rank 1 is the giant), which slots within a contract
    // (ranked by slot number: older slots are hotter).
    double account_hot_exponent{0.9};
    double contract_hot_exponent{1.0};
    double slot_hot_exponent{1.0};
    // Slot writes come in runs: a contract drawn by hotness gets a geometric number of writes with
    // this mean (an ERC-20 transfer writes 2 slots of its token, a swap several of its pool and 2 of
    // each token); an estimate. 986 writes then fall into about 400 runs over about 300 contracts.
    double writes_per_contract{2.5};
    // Share of changed accounts that are created: mainnet's 12.2 new accounts per block of 766, 1.6%.
    double create_share{mainnet::kNewAccountsPerBlock / mainnet::kAccountsPerBlock};
    // Share of created accounts that are contracts (the rest are EOAs); an estimate.
    double new_contract_share{0.1};
    // Share of new contracts that deploy a new code blob (the rest clone an existing one); an estimate
    // in line with 7.8% distinct code per contract.
    double new_code_share{0.1};
    // Mean slots a new contract writes when deployed (at least 1; geometric).
    double new_contract_slots{4};
    // Share of changed accounts that are deleted; rare on mainnet since EIP-6780 (an estimate).
    // Only accounts with at most max_deleted_slots slots are deleted (their slots are cleared in
    // the same diff, as mainnet's pre-Cancun self-destructs of small contracts did).
    double delete_share{0.001};
    uint32_t max_deleted_slots{16};
    // Slot writes: the share that creates a new slot, and the share of writes to a present slot that
    // zero it (a storage clear). 12% new and 7.5% clears give a net growth of about 4.6% of writes,
    // mainnet's 45 new slots per block of 986.
    double new_slot_share{0.12};
    double clear_share{0.075};
};

// Checks every field's range; the error names the field and the reason.
tl::expected<void, std::string> check_config(const GeneratorConfig& config);

// Counts over the generator's current state and the blocks produced so far.
struct GeneratorStats {
    uint64_t block{0};             // last block produced (0: genesis)
    uint64_t accounts{0};          // live accounts
    uint64_t contracts{0};         // live accounts with code
    uint64_t storage_accounts{0};  // live accounts with at least one slot
    uint64_t slots{0};             // live (non-zero) slots
    uint64_t largest_storage{0};   // slots of the account with the most
    uint64_t code_blobs{0};        // distinct code blobs ever deployed
    uint64_t code_bytes{0};        // their total size
    // Totals over blocks 1.. (genesis not included).
    uint64_t changed_accounts{0};
    uint64_t slot_changes{0};  // slot changes in diffs (writes, clears, deletion clears)
    uint64_t slot_clears{0};   // slot changes to zero
    uint64_t created_accounts{0};
    uint64_t created_contracts{0};
    uint64_t deleted_accounts{0};
};

class ChainGenerator {
  public:
    // Over in-memory stores it owns. `config` must pass check_config() (asserted).
    explicit ChainGenerator(const GeneratorConfig& config);
    // Over the caller's stores (both outlive the generator), e.g. RocksDB-backed ones. The stores
    // should be empty: the genesis writes every node and code blob to them.
    ChainGenerator(const GeneratorConfig& config, trie::NodeStore& nodes, CodeStore& code);
    ~ChainGenerator();
    ChainGenerator(const ChainGenerator&) = delete;
    ChainGenerator& operator=(const ChainGenerator&) = delete;

    // Block 0, sealed and applied. Call once, before next_block(). `progress(done)` is called now and
    // then with the accounts done out of config().accounts. Roots are computed with a HashBuilder
    // whose nodes go to the NodeStore; the WorldState then opens at the genesis root.
    tl::expected<StateDiff, DiffError> genesis(const std::function<void(uint64_t done)>& progress = {});
    // The next block (1, 2, ...), sealed and applied. An error means a bug (the generator only makes
    // diffs that apply); the generator is unusable afterwards.
    tl::expected<StateDiff, DiffError> next_block();

    const GeneratorConfig& config() const noexcept;
    // The per-block expectations in use (the configured ones or the scaled defaults).
    double accounts_per_block() const noexcept;
    double slots_per_block() const noexcept;
    // The storage-size exponent beta solved for the genesis (0 before genesis()).
    double storage_exponent() const noexcept;

    // The current state root (the empty trie's root before genesis()).
    Hash root() const noexcept;
    GeneratorStats stats() const noexcept;

    // The generator's model of the current state, independent of the tries: every live account in
    // increasing key order, with its storage (non-zero leaf values by slot key, increasing). The
    // account's storage_root is the one the last sealed diff gave it.
    using AccountVisitor =
        std::function<void(const Hash& key, const Account& account, std::span<const std::pair<Hash, Bytes>> storage)>;
    void for_each_account(const AccountVisitor& visit) const;

    // The node and code stores (the owned ones or the caller's).
    trie::NodeStore& node_store() noexcept;
    CodeStore& code_store() noexcept;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// ---- building blocks, exposed for tests ----------------------------------------------------------

// xoshiro256** (Blackman and Vigna), its state filled by splitmix64 from a seed and a stream number.
class Rng {
  public:
    explicit Rng(uint64_t seed, uint64_t stream = 0) noexcept;
    // The raw xoshiro256** state (not all zero), for checks against the reference implementation.
    explicit Rng(const std::array<uint64_t, 4>& state) noexcept : s_{state[0], state[1], state[2], state[3]} {}
    uint64_t next() noexcept;
    // Uniform in [0, 1) with 53 random bits.
    double uniform() noexcept;
    // Uniform in [0, n) without bias (Lemire's multiply-and-reject); 0 when n == 0.
    uint64_t below(uint64_t n) noexcept;
    // True with probability p.
    bool chance(double p) noexcept;

  private:
    uint64_t s_[4];
};

// splitmix64's output function: a bijective 64-bit mixer.
uint64_t mix64(uint64_t x) noexcept;

// log and exp from IEEE-754 basic operations only (bit-identical everywhere), relative error below
// 1e-15. det_log needs x > 0; det_exp returns 0 or +inf outside about [-708, 709].
double det_log(double x) noexcept;
double det_exp(double x) noexcept;
// The standard normal quantile (Acklam's rational approximation, relative error below 1.2e-9);
// p in (0, 1).
double normal_quantile(double p) noexcept;

// A rank in [0, n) drawn Zipf-like with exponent s >= 0: floor(x) - 1 where x has density
// proportional to x^-s on [1, n + 1) (a truncated continuous power law, discretised). s = 0 is
// uniform; s = 1 gives rank r a probability of about log((r + 2) / (r + 1)) / log(n + 1).
uint64_t zipf_rank(Rng& rng, uint64_t n, double s) noexcept;

// The genesis storage sizes of `contracts` contracts holding `slots` slots, largest first:
// size(r) = max(1, round(s1 * r^-beta)) for ranks r = 1.., s1 = min(round(top_share * slots), cap)
// (cap 0: none), beta in [0, 16] solved by bisection so the sizes add up to `slots` as nearly as
// possible. Returns the sizes and beta.
std::pair<std::vector<uint64_t>, double> storage_sizes(uint64_t contracts, uint64_t slots, double top_share,
                                                       uint64_t cap);

}  // namespace carousel::state
