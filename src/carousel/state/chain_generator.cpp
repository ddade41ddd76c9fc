// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// The generator keeps its own model of the state (accounts by index, each contract's slots as
// small integers from which keys and values are derived again when needed), builds each block's
// diff from the model, lets WorldState seal and apply it, and copies the sealed storage roots back.
// Every random choice comes from an Rng whose stream is the block number, so a block depends only
// on the seed, the config and the state before it.
#include "chain_generator.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include <carousel/core/assert.hpp>
#include <carousel/core/keccak.hpp>
#include <carousel/core/rlp.hpp>
#include <carousel/trie/hash_builder.hpp>
#include <carousel/trie/trie.hpp>

#include "world_state.hpp"

namespace carousel::state {

// ---- random numbers and samplers ------------------------------------------------------------------

namespace {

constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ULL;

uint64_t rotl(uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }

uint64_t splitmix_next(uint64_t& state) noexcept {
    state += kGolden;
    return mix64(state);
}

}  // namespace

uint64_t mix64(uint64_t z) noexcept {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

Rng::Rng(uint64_t seed, uint64_t stream) noexcept {
    uint64_t sm = seed ^ mix64(stream + 0x5851f42d4c957f2dULL);
    for (auto& s : s_) s = splitmix_next(sm);
}

uint64_t Rng::next() noexcept {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
}

double Rng::uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

uint64_t Rng::below(uint64_t n) noexcept {
    if (n <= 1) return 0;
    // Mask-and-reject: draws from the smallest power of two >= n; fewer than two draws on average.
    uint64_t mask = n - 1;
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    mask |= mask >> 32;
    for (;;) {
        const uint64_t x = next() & mask;
        if (x < n) return x;
    }
}

bool Rng::chance(double p) noexcept { return uniform() < p; }

namespace {
// ln 2 split so that k * kLn2Hi is exact for |k| < 2^20 (fdlibm's constants).
constexpr double kLn2Hi = 6.93147180369123816490e-01;
constexpr double kLn2Lo = 1.90821492927058770002e-10;
constexpr double kInvLn2 = 1.44269504088896338700e+00;
constexpr double kSqrtHalf = 0.70710678118654752440;
}  // namespace

double det_exp(double x) noexcept {
    if (std::isnan(x)) return x;
    if (x > 709.78) return std::numeric_limits<double>::infinity();
    if (x < -745.2) return 0.0;
    // x = k ln2 + r with |r| <= ln2 / 2; exp(r) by its Taylor series (15 terms reach 1e-19).
    const double k = std::floor(x * kInvLn2 + 0.5);
    const double r = (x - k * kLn2Hi) - k * kLn2Lo;
    double term = 1.0;
    double sum = 1.0;
    for (int i = 1; i <= 15; ++i) {
        term = term * r / i;
        sum += term;
    }
    return std::ldexp(sum, static_cast<int>(k));
}

double det_log(double x) noexcept {
    if (std::isnan(x) || x < 0) return std::numeric_limits<double>::quiet_NaN();
    if (x == 0) return -std::numeric_limits<double>::infinity();
    if (std::isinf(x)) return x;
    // x = m 2^e with m in [sqrt(1/2), sqrt(2)); log m = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.172.
    int e = 0;
    double m = std::frexp(x, &e);
    if (m < kSqrtHalf) {
        m *= 2;
        --e;
    }
    const double s = (m - 1) / (m + 1);
    const double s2 = s * s;
    double term = s;
    double sum = s;
    for (int k = 3; k <= 31; k += 2) {
        term *= s2;
        sum += term / k;
    }
    const double de = e;
    return de * kLn2Hi + (2 * sum + de * kLn2Lo);
}

double normal_quantile(double p) noexcept {
    // Peter J. Acklam's algorithm: rational approximations in the centre and the two tails.
    static constexpr double kA[] = {-3.969683028665376e+01, 2.209460984245205e+02,  -2.759285104469687e+02,
                                    1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
    static constexpr double kB[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                                    6.680131188771972e+01, -1.328068155288572e+01};
    static constexpr double kC[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                                    -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
    static constexpr double kD[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                    3.754408661907416e+00};
    constexpr double kLow = 0.02425;
    auto tail = [&](double q) {
        return (((((kC[0] * q + kC[1]) * q + kC[2]) * q + kC[3]) * q + kC[4]) * q + kC[5]) /
               ((((kD[0] * q + kD[1]) * q + kD[2]) * q + kD[3]) * q + 1);
    };
    if (p < kLow) return tail(std::sqrt(-2 * det_log(p)));
    if (p > 1 - kLow) return -tail(std::sqrt(-2 * det_log(1 - p)));
    const double q = p - 0.5;
    const double r = q * q;
    return (((((kA[0] * r + kA[1]) * r + kA[2]) * r + kA[3]) * r + kA[4]) * r + kA[5]) * q /
           (((((kB[0] * r + kB[1]) * r + kB[2]) * r + kB[3]) * r + kB[4]) * r + 1);
}

uint64_t zipf_rank(Rng& rng, uint64_t n, double s) noexcept {
    if (n <= 1) return 0;
    const double u = rng.uniform();
    const double top = static_cast<double>(n) + 1;
    double x = 0;
    if (std::fabs(s - 1) < 1e-12) {
        x = det_exp(u * det_log(top));  // the inverse CDF of 1/x on [1, n + 1)
    } else {
        const double a = 1 - s;  // inverse CDF of x^-s on [1, n + 1)
        x = det_exp(det_log(1 + u * (det_exp(a * det_log(top)) - 1)) / a);
    }
    if (!(x >= 1)) return 0;
    const double r = std::floor(x) - 1;
    if (r >= static_cast<double>(n - 1)) return n - 1;
    return static_cast<uint64_t>(r);
}

std::pair<std::vector<uint64_t>, double> storage_sizes(uint64_t contracts, uint64_t slots, double top_share,
                                                       uint64_t cap) {
    if (contracts == 0) return {{}, 0.0};
    auto s1 = static_cast<uint64_t>(std::floor(top_share * static_cast<double>(slots) + 0.5));
    if (cap != 0 && s1 > cap) s1 = cap;
    s1 = std::max<uint64_t>(s1, 1);
    std::vector<double> log_rank(contracts);
    for (uint64_t r = 0; r < contracts; ++r) log_rank[r] = det_log(static_cast<double>(r + 1));
    const auto top = static_cast<double>(s1);
    // size(r) is non-increasing in r, and once it rounds to 1 it stays 1.
    auto total = [&](double beta, std::vector<uint64_t>* out) {
        uint64_t sum = 0;
        for (uint64_t r = 0; r < contracts; ++r) {
            const double v = top * det_exp(-beta * log_rank[r]);
            if (v < 1.5 && out == nullptr) return sum + (contracts - r);
            const uint64_t size = std::max<uint64_t>(1, static_cast<uint64_t>(std::floor(v + 0.5)));
            sum += size;
            if (out != nullptr) (*out)[r] = size;
        }
        return sum;
    };
    double lo = 0;   // total(lo) >= slots
    double hi = 16;  // total(hi) < slots
    double beta = 0;
    if (total(lo, nullptr) <= slots) {
        beta = lo;
    } else if (total(hi, nullptr) >= slots) {
        beta = hi;
    } else {
        for (int i = 0; i < 60; ++i) {
            const double mid = (lo + hi) / 2;
            if (total(mid, nullptr) >= slots) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        const uint64_t t_lo = total(lo, nullptr);
        const uint64_t t_hi = total(hi, nullptr);
        beta = (t_lo - slots <= slots - t_hi) ? lo : hi;
    }
    std::vector<uint64_t> sizes(contracts);
    total(beta, &sizes);
    return {std::move(sizes), beta};
}

tl::expected<void, std::string> check_config(const GeneratorConfig& c) {
    auto share = [](double v) { return v >= 0 && v <= 1; };
    auto exponent = [](double v) { return v >= 0 && v <= 10; };
    if (c.accounts == 0) return tl::unexpected{std::string{"accounts must be at least 1"}};
    if (c.accounts > (uint64_t{1} << 31)) return tl::unexpected{std::string{"accounts must be at most 2^31"}};
    if (!share(c.contract_share)) return tl::unexpected{std::string{"contract_share must be in [0, 1]"}};
    if (!(c.slots_per_account >= 0 && c.slots_per_account <= 1e4)) {
        return tl::unexpected{std::string{"slots_per_account must be in [0, 10000]"}};
    }
    if (!(c.top_contract_share > 0 && c.top_contract_share <= 1)) {
        return tl::unexpected{std::string{"top_contract_share must be in (0, 1]"}};
    }
    if (!(c.code_blobs_per_contract > 0 && c.code_blobs_per_contract <= 1)) {
        return tl::unexpected{std::string{"code_blobs_per_contract must be in (0, 1]"}};
    }
    if (c.max_code_size < kMinCodeSize || c.max_code_size > kMaxCodeSize) {
        return tl::unexpected{"max_code_size must be in [" + std::to_string(kMinCodeSize) + ", " +
                              std::to_string(kMaxCodeSize) + "]"};
    }
    if (!(c.code_size_median >= 1 && c.code_size_median <= 1e6)) {
        return tl::unexpected{std::string{"code_size_median must be in [1, 1e6]"}};
    }
    if (!(c.code_size_sigma >= 0 && c.code_size_sigma <= 5)) {
        return tl::unexpected{std::string{"code_size_sigma must be in [0, 5]"}};
    }
    if (!exponent(c.code_share_exponent) || !exponent(c.account_hot_exponent) || !exponent(c.contract_hot_exponent) ||
        !exponent(c.slot_hot_exponent)) {
        return tl::unexpected{std::string{"Zipf exponents must be in [0, 10]"}};
    }
    constexpr double kMaxPerBlock = 1e6;
    if (c.accounts_per_block && !(*c.accounts_per_block >= 0 && *c.accounts_per_block <= kMaxPerBlock)) {
        return tl::unexpected{std::string{"accounts_per_block must be in [0, 1e6]"}};
    }
    if (c.slots_per_block && !(*c.slots_per_block >= 0 && *c.slots_per_block <= kMaxPerBlock)) {
        return tl::unexpected{std::string{"slots_per_block must be in [0, 1e6]"}};
    }
    if (!share(c.create_share) || !share(c.new_contract_share) || !share(c.new_code_share) || !share(c.delete_share) ||
        !share(c.new_slot_share) || !share(c.clear_share)) {
        return tl::unexpected{std::string{"shares must be in [0, 1]"}};
    }
    if (!(c.writes_per_contract >= 1 && c.writes_per_contract <= 1000)) {
        return tl::unexpected{std::string{"writes_per_contract must be in [1, 1000]"}};
    }
    if (!(c.new_contract_slots >= 1 && c.new_contract_slots <= 1000)) {
        return tl::unexpected{std::string{"new_contract_slots must be in [1, 1000]"}};
    }
    return {};
}

// ---- the generator ------------------------------------------------------------------------------

namespace {

constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
// Streams and derivation tags: each random quantity has its own, so adding a draw in one place
// does not shift the others.
constexpr uint64_t kStreamGenesis = 1ULL << 62;
constexpr uint64_t kTagAddress = 1;
constexpr uint64_t kTagSlotWord = 2;
constexpr uint64_t kTagSlotValue = 3;
constexpr uint64_t kTagCode = 4;
// Slots below this number are plain variables: their word is the number itself.
constexpr uint32_t kPlainSlots = 16;
// At most this many slots for a new contract's first writes.
constexpr uint32_t kMaxNewContractSlots = 1024;
// Solidity's free-memory-pointer preamble: PUSH1 0x80 PUSH1 0x40 MSTORE.
constexpr uint8_t kCodePreamble[] = {0x60, 0x80, 0x60, 0x40, 0x52};

uint64_t derive(uint64_t seed, uint64_t tag, uint64_t a, uint64_t b = 0, uint64_t c = 0) noexcept {
    uint64_t h = mix64(seed + tag * kGolden);
    h = mix64(h ^ (a + 0x632be59bd9b4e019ULL));
    h = mix64(h ^ (b + 0x8cb92ba72f3d8dd7ULL));
    return mix64(h ^ (c + 0xd6e8feb86659fd93ULL));
}

// Fills `out` with bytes of the stream `h`.
void fill_bytes(uint64_t h, uint8_t* out, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; i += 8) {
        const uint64_t w = mix64(h + (i / 8 + 1) * kGolden);
        for (std::size_t k = 0; k < 8 && i + k < n; ++k) out[i + k] = static_cast<uint8_t>(w >> (56 - 8 * k));
    }
}

uint64_t round_count(double x) { return static_cast<uint64_t>(std::floor(x + 0.5)); }

// floor(x), plus one with probability frac(x): x on average.
uint64_t probabilistic_round(Rng& rng, double x) {
    const double f = std::floor(x);
    return static_cast<uint64_t>(f) + (rng.chance(x - f) ? 1 : 0);
}

// A random non-zero amount of 1 to 12 bytes (up to about 7.9e28 wei).
U256 random_balance(Rng& rng) {
    uint8_t be[12];
    const std::size_t len = 1 + rng.below(12);
    const uint64_t hi = rng.next();
    const uint64_t lo = rng.next();
    for (std::size_t i = 0; i < len; ++i) be[i] = static_cast<uint8_t>((i < 8 ? hi >> (8 * i) : lo >> (8 * i - 64)));
    if (be[0] == 0) be[0] = 1;
    return *U256::from_big_endian(ByteView{be, len});
}

struct AccountRec {
    Hash key{};
    Account account;
    uint32_t storage{kNone};       // index into Impl::storages; contracts only
    uint32_t code{kNone};          // code blob; contracts only
    uint32_t hot_pos{kNone};       // position in account_hot
    uint32_t contract_pos{kNone};  // position in contract_hot
    bool alive{true};
};

// One contract's slots by number: state = writes << 1 | present. The value of a slot after its w-th
// write is derived from (seed, account, slot, w), so the model needs no value bytes.
struct StorageRec {
    std::vector<uint32_t> slots;
    uint64_t live{0};
};

struct Blob {
    Hash hash{};
    uint32_t size{0};
};

}  // namespace

struct ChainGenerator::Impl {
    GeneratorConfig config;
    std::unique_ptr<trie::MemoryNodeStore> own_nodes;
    std::unique_ptr<MemoryCodeStore> own_code;
    trie::NodeStore* nodes{nullptr};
    CodeStore* code{nullptr};
    std::unique_ptr<WorldState> world;

    std::vector<AccountRec> accounts;
    std::vector<StorageRec> storages;
    std::vector<Blob> blobs;
    std::vector<uint32_t> account_hot;   // every live account
    std::vector<uint32_t> contract_hot;  // every live contract, largest (genesis) first
    uint64_t block{0};
    bool genesis_done{false};
    bool failed{false};
    double beta{0};
    double k_per_block{0};
    double m_per_block{0};
    uint64_t code_bytes{0};
    GeneratorStats totals;

    Impl(const GeneratorConfig& c, trie::NodeStore* n, CodeStore* cs) : config{c}, nodes{n}, code{cs} {
        CAROUSEL_ASSERT(check_config(c).has_value(), "the caller checked the configuration");
        if (nodes == nullptr) {
            own_nodes = std::make_unique<trie::MemoryNodeStore>();
            own_code = std::make_unique<MemoryCodeStore>();
            nodes = own_nodes.get();
            code = own_code.get();
        }
        const double scale = static_cast<double>(c.accounts) / mainnet::kAccounts;
        k_per_block = c.accounts_per_block.value_or(std::max(1.0, mainnet::kAccountsPerBlock * scale));
        m_per_block = c.slots_per_block.value_or(std::max(1.0, mainnet::kSlotWritesPerBlock * scale));
        world = std::make_unique<WorldState>(*nodes, *code);
    }

    // ---- derived keys and values ----

    Hash account_key(uint32_t index) const {
        uint8_t address[20];
        fill_bytes(derive(config.seed, kTagAddress, index), address, sizeof address);
        return keccak256(ByteView{address, sizeof address});
    }

    Hash slot_key(uint32_t account, uint32_t slot) const {
        uint8_t word[32] = {};
        if (slot < kPlainSlots) {
            word[31] = static_cast<uint8_t>(slot);
        } else {
            fill_bytes(derive(config.seed, kTagSlotWord, account, slot), word, sizeof word);
        }
        return keccak256(ByteView{word, sizeof word});
    }

    // The storage leaf value (RLP of a minimal non-zero word) after write `w` of a slot. Lengths:
    // 50% 1-8 bytes (counters, flags, small amounts), 30% 9-16 (token amounts), 12% 20 (addresses),
    // 8% 32 (hashes, packed words): a mean RLP value of about 12 bytes, as geth's storage snapshot
    // entries of 77.4 bytes (65 of key) on mainnet imply (go-ethereum #33254).
    Bytes slot_value(uint32_t account, uint32_t slot, uint32_t w) const {
        const uint64_t h = derive(config.seed, kTagSlotValue, account, slot, w);
        const uint64_t cls = h % 100;
        const std::size_t sub = (h >> 8) % 8;
        std::size_t len = 32;
        if (cls < 50) {
            len = 1 + sub;
        } else if (cls < 80) {
            len = 9 + sub;
        } else if (cls < 92) {
            len = 20;
        }
        uint8_t word[32];
        fill_bytes(h, word, len);
        if (word[0] == 0) word[0] = 1;
        Bytes out;
        rlp::encode(out, ByteView{word, len});
        return out;
    }

    Bytes code_bytes_of(uint32_t blob, uint32_t size) const {
        Bytes out(size, 0);
        fill_bytes(derive(config.seed, kTagCode, blob), out.data(), size);
        for (std::size_t i = 0; i < sizeof kCodePreamble && i < size; ++i) out[i] = kCodePreamble[i];
        return out;
    }

    uint32_t sample_code_size(Rng& rng) const {
        const double u = (static_cast<double>(rng.next() >> 11) + 0.5) * 0x1.0p-53;  // in (0, 1)
        const double v = std::floor(config.code_size_median * det_exp(config.code_size_sigma * normal_quantile(u)));
        const double hi = config.max_code_size;
        return static_cast<uint32_t>(std::clamp(v, double{kMinCodeSize}, hi));
    }

    uint32_t add_blob(Rng& rng) {
        const auto index = static_cast<uint32_t>(blobs.size());
        const uint32_t size = sample_code_size(rng);
        blobs.push_back({keccak256(code_bytes_of(index, size)), size});
        code_bytes += size;
        return index;
    }

    // A clone's blob: Zipf rank 0 is the most recently added blob (factories deploy copies of
    // recent templates; at genesis, the blobs of the smallest contracts with their own code).
    uint32_t shared_blob(Rng& rng) const {
        const uint64_t r = zipf_rank(rng, blobs.size(), config.code_share_exponent);
        return static_cast<uint32_t>(blobs.size() - 1 - r);
    }

    // ---- hotness rankings ----

    static void hot_insert(std::vector<uint32_t>& order, std::vector<AccountRec>& accs, uint32_t AccountRec::*pos,
                           uint32_t index, uint64_t at) {
        const auto size = static_cast<uint32_t>(order.size());
        if (at >= size) {
            order.push_back(index);
            accs[index].*pos = size;
            return;
        }
        const uint32_t moved = order[at];  // goes to the coldest rank
        order.push_back(moved);
        accs[moved].*pos = size;
        order[at] = index;
        accs[index].*pos = static_cast<uint32_t>(at);
    }

    static void hot_remove(std::vector<uint32_t>& order, std::vector<AccountRec>& accs, uint32_t AccountRec::*pos,
                           uint32_t index) {
        const uint32_t at = accs[index].*pos;
        const uint32_t last = order.back();  // the coldest takes the rank
        order[at] = last;
        accs[last].*pos = at;
        order.pop_back();
        accs[index].*pos = kNone;
    }

    // ---- genesis ----

    tl::expected<StateDiff, DiffError> genesis(const std::function<void(uint64_t)>& progress) {
        CAROUSEL_ASSERT(!genesis_done, "genesis() is called once");
        const uint64_t n = config.accounts;
        const uint64_t contracts = std::min(n, round_count(static_cast<double>(n) * config.contract_share));
        const uint64_t slots = contracts == 0 ? 0 : round_count(static_cast<double>(n) * config.slots_per_account);
        auto [sizes, exponent] = storage_sizes(contracts, slots, config.top_contract_share, config.max_contract_slots);
        beta = exponent;

        Rng rng{config.seed, kStreamGenesis};
        uint64_t unique_code = 0;
        if (contracts > 0) {
            unique_code = std::clamp<uint64_t>(
                round_count(static_cast<double>(contracts) * config.code_blobs_per_contract), 1, contracts);
        }
        for (uint64_t b = 0; b < unique_code; ++b) add_blob(rng);

        accounts.resize(n);
        storages.resize(contracts);
        for (uint64_t i = 0; i < n; ++i) {
            AccountRec& a = accounts[i];
            const auto index = static_cast<uint32_t>(i);
            a.key = account_key(index);
            if (i < contracts) {
                a.account.nonce = 1;
                if (rng.chance(0.5)) a.account.balance = random_balance(rng);
                // The largest contracts have their own code; the others clone.
                a.code = i < unique_code ? index : shared_blob(rng);
                a.account.code_hash = blobs[a.code].hash;
                a.storage = index;
                storages[i].slots.assign(sizes[i], (1U << 1) | 1U);  // written once, present
                storages[i].live = sizes[i];
            } else {
                // Nonces log-uniform in [0, 1000): most EOAs have sent few transactions.
                a.account.nonce = static_cast<uint64_t>(std::max(1.0, det_exp(rng.uniform() * det_log(1001.0)))) - 1;
                a.account.balance = random_balance(rng);
            }
        }
        // Hotness: accounts in a random order (Fisher-Yates), contracts by size.
        account_hot.resize(n);
        for (uint64_t i = 0; i < n; ++i) account_hot[i] = static_cast<uint32_t>(i);
        for (uint64_t i = n; i > 1; --i) std::swap(account_hot[i - 1], account_hot[rng.below(i)]);
        for (uint64_t i = 0; i < n; ++i) accounts[account_hot[i]].hot_pos = static_cast<uint32_t>(i);
        contract_hot.resize(contracts);
        for (uint64_t i = 0; i < contracts; ++i) {
            contract_hot[i] = static_cast<uint32_t>(i);
            accounts[i].contract_pos = static_cast<uint32_t>(i);
        }

        // The diff and its roots, in key order, with HashBuilders whose nodes go to the store.
        std::vector<uint32_t> order(n);
        for (uint64_t i = 0; i < n; ++i) order[i] = static_cast<uint32_t>(i);
        std::sort(order.begin(), order.end(),
                  [&](uint32_t x, uint32_t y) { return accounts[x].key < accounts[y].key; });

        StateDiff diff;
        diff.block = 0;
        diff.parent_root = trie::kEmptyRoot;
        diff.accounts.reserve(n);
        diff.slots.reserve(slots);
        diff.code.reserve(blobs.size());
        for (uint32_t b = 0; b < blobs.size(); ++b) {
            diff.code.push_back(code_bytes_of(b, blobs[b].size));
            code->put_code(blobs[b].hash, diff.code.back());
        }
        trie::NodeStore& store = *nodes;
        trie::HashBuilder account_hb{[&store](ByteView, const Hash& h, ByteView rlp) { store.put_node(h, rlp); }};
        trie::HashBuilder storage_hb{[&store](ByteView, const Hash& h, ByteView rlp) { store.put_node(h, rlp); }};
        std::vector<std::pair<Hash, uint32_t>> slot_keys;
        uint64_t done = 0;
        for (uint32_t index : order) {
            AccountRec& a = accounts[index];
            if (a.storage != kNone) {
                const StorageRec& st = storages[a.storage];
                slot_keys.clear();
                for (uint32_t j = 0; j < st.slots.size(); ++j) slot_keys.emplace_back(slot_key(index, j), j);
                std::sort(slot_keys.begin(), slot_keys.end());
                for (const auto& [k, j] : slot_keys) {
                    Bytes value = slot_value(index, j, 1);
                    storage_hb.add_leaf(view(k), value);
                    diff.slots.push_back({a.key, k, Bytes{}, std::move(value)});
                }
                a.account.storage_root = storage_hb.root();
            }
            account_hb.add_leaf(view(a.key), encode_account(a.account));
            diff.accounts.push_back({a.key, std::nullopt, a.account});
            if (progress && (++done & 0xfff) == 0) progress(done);
        }
        diff.root = account_hb.root();
        world = std::make_unique<WorldState>(*nodes, *code, diff.root);
        genesis_done = true;
        if (progress) progress(n);
        return diff;
    }

    // ---- blocks ----

    struct Touch {
        std::optional<Account> before;
        std::optional<Account> after;
    };
    struct Write {
        uint32_t account;
        uint32_t slot;
        Bytes before;
        Bytes after;
    };

    tl::expected<StateDiff, DiffError> next_block() {
        CAROUSEL_ASSERT(genesis_done && !failed, "next_block() follows a successful genesis()");
        ++block;
        Rng rng{config.seed, block};
        const uint64_t k = probabilistic_round(rng, k_per_block);
        const uint64_t m = probabilistic_round(rng, m_per_block);
        const auto kd = static_cast<double>(k);

        std::unordered_map<uint32_t, Touch> touched;
        std::vector<Write> writes;
        std::unordered_set<uint64_t> written;  // account << 32 | slot
        std::vector<uint32_t> new_blobs;
        uint64_t clears = 0;

        auto touch = [&](uint32_t index) -> Touch& {
            auto it = touched.find(index);
            if (it != touched.end()) return it->second;
            const Account& a = accounts[index].account;
            return touched.emplace(index, Touch{a, a}).first->second;
        };
        auto write_slot = [&](uint32_t index, uint32_t j, Bytes before, Bytes after) {
            written.insert(uint64_t{index} << 32 | j);
            if (after.empty()) ++clears;
            writes.push_back({index, j, std::move(before), std::move(after)});
            touch(index);  // the account changes with its storage root
        };

        // 1. Deletions: a random live account (not a hot one) with few slots, every slot cleared.
        const uint64_t deletions = probabilistic_round(rng, kd * config.delete_share);
        for (uint64_t d = 0; d < deletions; ++d) {
            for (int attempt = 0; attempt < 64; ++attempt) {
                const auto index = static_cast<uint32_t>(rng.below(accounts.size()));
                AccountRec& a = accounts[index];
                if (!a.alive || touched.count(index) != 0) continue;
                if (a.storage != kNone && storages[a.storage].live > config.max_deleted_slots) continue;
                touched.emplace(index, Touch{a.account, std::nullopt});
                if (a.storage != kNone) {
                    StorageRec& st = storages[a.storage];
                    for (uint32_t j = 0; j < st.slots.size(); ++j) {
                        if ((st.slots[j] & 1U) == 0) continue;
                        write_slot(index, j, slot_value(index, j, st.slots[j] >> 1), Bytes{});
                    }
                    st = StorageRec{};
                    hot_remove(contract_hot, accounts, &AccountRec::contract_pos, index);
                }
                hot_remove(account_hot, accounts, &AccountRec::hot_pos, index);
                a.alive = false;
                ++totals.deleted_accounts;
                break;
            }
        }

        // 2. Creations: EOAs, and contracts with code (new or cloned) and a few slots.
        const uint64_t creations = probabilistic_round(rng, kd * config.create_share);
        for (uint64_t c = 0; c < creations && accounts.size() < kNone; ++c) {
            const auto index = static_cast<uint32_t>(accounts.size());
            accounts.emplace_back();
            AccountRec& a = accounts.back();
            a.key = account_key(index);
            const bool contract = rng.chance(config.new_contract_share);
            if (contract) {
                a.account.nonce = 1;  // EIP-161
                if (rng.chance(0.1)) a.account.balance = random_balance(rng);
                if (blobs.empty() || rng.chance(config.new_code_share)) {
                    a.code = add_blob(rng);
                    new_blobs.push_back(a.code);
                } else {
                    a.code = shared_blob(rng);
                }
                a.account.code_hash = blobs[a.code].hash;
                a.storage = static_cast<uint32_t>(storages.size());
                storages.emplace_back();
                uint32_t count = 1;
                while (count < kMaxNewContractSlots && !rng.chance(1.0 / config.new_contract_slots)) ++count;
                storages.back().slots.assign(count, (1U << 1) | 1U);
                storages.back().live = count;
                const uint64_t half = contract_hot.size() / 2;  // a new contract is small: the colder half
                hot_insert(contract_hot, accounts, &AccountRec::contract_pos, index,
                           half + rng.below(contract_hot.size() - half + 1));
                ++totals.created_contracts;
            } else {
                a.account.balance = random_balance(rng);
            }
            hot_insert(account_hot, accounts, &AccountRec::hot_pos, index, rng.below(account_hot.size() + 1));
            touched.emplace(index, Touch{std::nullopt, a.account});
            if (contract) {
                for (uint32_t j = 0; j < storages[a.storage].slots.size(); ++j) {
                    write_slot(index, j, Bytes{}, slot_value(index, j, 1));
                }
            }
            ++totals.created_accounts;
        }

        // 3. Slot writes in runs: a contract drawn by hotness gets a geometric number of writes (new
        // slots, updates and clears), each slot drawn by hotness within the contract.
        const uint64_t creation_writes = writes.size() - clears;  // deletion clears do not count
        uint64_t budget = m > creation_writes ? m - creation_writes : 0;
        for (uint64_t visit = 0; budget > 0 && visit < 4 * m + 64 && !contract_hot.empty(); ++visit) {
            const uint32_t index = contract_hot[zipf_rank(rng, contract_hot.size(), config.contract_hot_exponent)];
            StorageRec& st = storages[accounts[index].storage];
            uint64_t run = 1;
            while (run < budget && !rng.chance(1.0 / config.writes_per_contract)) ++run;
            for (int attempt = 0; run > 0 && attempt < 16; ++attempt) {
                const auto size = static_cast<uint32_t>(st.slots.size());
                uint32_t j = size;
                if (size > 0 && !rng.chance(config.new_slot_share)) {
                    j = static_cast<uint32_t>(zipf_rank(rng, size, config.slot_hot_exponent));
                }
                if (written.count(uint64_t{index} << 32 | j) != 0) continue;
                const uint32_t state = j < size ? st.slots[j] : 0;
                const bool present = (state & 1U) != 0;
                const uint32_t w = state >> 1;
                Bytes before = present ? slot_value(index, j, w) : Bytes{};
                Bytes after;
                uint32_t next_state = (w + 1) << 1;
                if (present && rng.chance(config.clear_share)) {
                    --st.live;
                } else {
                    uint32_t w2 = w + 1;
                    after = slot_value(index, j, w2);
                    while (after == before) after = slot_value(index, j, ++w2);
                    next_state = w2 << 1 | 1U;
                    if (!present) ++st.live;
                }
                if (j == size) st.slots.push_back(0);
                st.slots[j] = next_state;
                write_slot(index, j, std::move(before), std::move(after));
                --budget;
                --run;
            }
        }

        // 4. Balance and nonce updates of accounts drawn by hotness, up to k changed accounts.
        for (uint64_t attempt = 0; touched.size() < k && attempt < 8 * k + 64 && !account_hot.empty(); ++attempt) {
            const uint32_t index = account_hot[zipf_rank(rng, account_hot.size(), config.account_hot_exponent)];
            if (touched.count(index) != 0) continue;
            const AccountRec& a = accounts[index];
            Account after = a.account;
            if (a.code == kNone) {
                if (rng.chance(0.5)) ++after.nonce;  // a sender; otherwise a recipient
                after.balance = random_balance(rng);
            } else {
                after.balance = rng.chance(0.5) ? U256{} : random_balance(rng);
            }
            if (after == a.account) after.balance = after.balance.checked_add(U256{1}).value_or(U256{1});
            touched.emplace(index, Touch{a.account, after});
        }

        // 5. The diff, in key order; sealing fills in the storage roots.
        std::vector<uint32_t> order;
        order.reserve(touched.size());
        for (const auto& [index, t] : touched) order.push_back(index);
        std::sort(order.begin(), order.end(),
                  [&](uint32_t x, uint32_t y) { return accounts[x].key < accounts[y].key; });
        StateDiff diff;
        diff.block = block;
        diff.accounts.reserve(order.size());
        for (uint32_t index : order) {
            const Touch& t = touched[index];
            diff.accounts.push_back({accounts[index].key, t.before, t.after});
        }
        diff.slots.reserve(writes.size());
        for (Write& w : writes) {
            diff.slots.push_back(
                {accounts[w.account].key, slot_key(w.account, w.slot), std::move(w.before), std::move(w.after)});
        }
        std::sort(diff.slots.begin(), diff.slots.end(), [](const SlotChange& x, const SlotChange& y) {
            return std::tie(x.account_key, x.slot_key) < std::tie(y.account_key, y.slot_key);
        });
        for (uint32_t b : new_blobs) diff.code.push_back(code_bytes_of(b, blobs[b].size));

        auto sealed = world->seal_and_apply(diff);
        if (!sealed) {
            failed = true;
            return tl::unexpected{sealed.error()};
        }
        for (std::size_t i = 0; i < order.size(); ++i) {
            if (diff.accounts[i].after) accounts[order[i]].account = *diff.accounts[i].after;
        }
        totals.changed_accounts += diff.accounts.size();
        totals.slot_changes += diff.slots.size();
        totals.slot_clears += clears;
        return diff;
    }

    GeneratorStats stats() const {
        GeneratorStats s = totals;
        s.block = block;
        for (const AccountRec& a : accounts) {
            if (!a.alive) continue;
            ++s.accounts;
            if (a.code != kNone) ++s.contracts;
            if (a.storage == kNone) continue;
            const uint64_t live = storages[a.storage].live;
            if (live > 0) ++s.storage_accounts;
            s.slots += live;
            s.largest_storage = std::max(s.largest_storage, live);
        }
        s.code_blobs = blobs.size();
        s.code_bytes = code_bytes;
        return s;
    }

    void for_each_account(const AccountVisitor& visit) const {
        std::vector<uint32_t> order;
        for (uint32_t i = 0; i < accounts.size(); ++i) {
            if (accounts[i].alive) order.push_back(i);
        }
        std::sort(order.begin(), order.end(),
                  [&](uint32_t x, uint32_t y) { return accounts[x].key < accounts[y].key; });
        std::vector<std::pair<Hash, Bytes>> storage;
        for (uint32_t index : order) {
            const AccountRec& a = accounts[index];
            storage.clear();
            if (a.storage != kNone) {
                const StorageRec& st = storages[a.storage];
                for (uint32_t j = 0; j < st.slots.size(); ++j) {
                    if ((st.slots[j] & 1U) != 0)
                        storage.emplace_back(slot_key(index, j), slot_value(index, j, st.slots[j] >> 1));
                }
                std::sort(storage.begin(), storage.end());
            }
            visit(a.key, a.account, storage);
        }
    }
};

ChainGenerator::ChainGenerator(const GeneratorConfig& config)
    : impl_{std::make_unique<Impl>(config, nullptr, nullptr)} {}

ChainGenerator::ChainGenerator(const GeneratorConfig& config, trie::NodeStore& nodes, CodeStore& code)
    : impl_{std::make_unique<Impl>(config, &nodes, &code)} {}

ChainGenerator::~ChainGenerator() = default;

tl::expected<StateDiff, DiffError> ChainGenerator::genesis(const std::function<void(uint64_t)>& progress) {
    return impl_->genesis(progress);
}

tl::expected<StateDiff, DiffError> ChainGenerator::next_block() { return impl_->next_block(); }

const GeneratorConfig& ChainGenerator::config() const noexcept { return impl_->config; }
double ChainGenerator::accounts_per_block() const noexcept { return impl_->k_per_block; }
double ChainGenerator::slots_per_block() const noexcept { return impl_->m_per_block; }
double ChainGenerator::storage_exponent() const noexcept { return impl_->beta; }
Hash ChainGenerator::root() const noexcept { return impl_->world->root(); }
GeneratorStats ChainGenerator::stats() const noexcept { return impl_->stats(); }
void ChainGenerator::for_each_account(const AccountVisitor& visit) const { impl_->for_each_account(visit); }
trie::NodeStore& ChainGenerator::node_store() noexcept { return *impl_->nodes; }
CodeStore& ChainGenerator::code_store() noexcept { return *impl_->code; }

}  // namespace carousel::state
