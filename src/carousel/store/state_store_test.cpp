// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors

// StateStore: roots against the state built from scratch (MemoryKV and RocksKV), the flat index and
// its streams, the window of servable roots and exact pruning by reference counts, atomic blocks,
// reopening, kill -9 of a real writer process, and damaged or foreign databases.

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <carousel/core/hex.hpp>
#include <carousel/core/keccak.hpp>
#include <carousel/core/rlp.hpp>
#include <carousel/state/chain_generator.hpp>
#include <carousel/state/world_state.hpp>
#include <carousel/store/memory_kv.hpp>
#include <carousel/store/rocks_kv.hpp>
#include <carousel/store/state_store.hpp>
#include <carousel/testing/fault_kv.hpp>
#include <carousel/testing/killed_child.hpp>
#include <carousel/testing/temp_dir.hpp>
#include <carousel/testing/values.hpp>
#include <carousel/trie/hash_builder.hpp>
#include <carousel/trie/node.hpp>
#include <carousel/trie/trie.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace carousel::store {
namespace {

namespace fs = std::filesystem;
using state::Account;
using state::StateDiff;
using ::testing::HasSubstr;

// ---- a model of the state, rebuilt from the diffs ------------------------------------------------

struct Model {
    std::map<Hash, Account> accounts;
    std::map<Hash, std::map<Hash, Bytes>> storage;

    void apply(const StateDiff& diff) {
        for (const auto& s : diff.slots) {
            if (s.after.empty()) {
                storage[s.account_key].erase(s.slot_key);
            } else {
                storage[s.account_key][s.slot_key] = s.after;
            }
        }
        for (const auto& a : diff.accounts) {
            if (a.after) {
                accounts[a.key] = *a.after;
            } else {
                accounts.erase(a.key);
                storage.erase(a.key);
            }
        }
    }

    [[nodiscard]] uint64_t slot_count() const {
        uint64_t n = 0;
        for (const auto& [k, st] : storage) n += st.size();
        return n;
    }

    // The state root from scratch, with HashBuilder (storage roots recomputed too).
    [[nodiscard]] Hash root() const {
        trie::HashBuilder hb;
        for (auto [key, account] : accounts) {
            account.storage_root = trie::kEmptyRoot;
            auto st = storage.find(key);
            if (st != storage.end() && !st->second.empty()) {
                trie::HashBuilder shb;
                for (const auto& [slot, value] : st->second) shb.add_leaf(view(slot), value);
                account.storage_root = shb.root();
            }
            hb.add_leaf(view(key), state::encode_account(account));
        }
        return hb.root();
    }
};

// ---- chains --------------------------------------------------------------------------------------

state::GeneratorConfig small_config(uint64_t seed, uint64_t accounts = 1'500) {
    state::GeneratorConfig c;
    c.seed = seed;
    c.accounts = accounts;
    c.accounts_per_block = 40;
    c.slots_per_block = 60;
    c.max_contract_slots = 400;
    // More creations and deletions than mainnet, so that a short chain has plenty of both.
    c.create_share = 0.1;
    c.new_contract_share = 0.4;
    c.delete_share = 0.05;
    return c;
}

// Genesis and `blocks` blocks of the chain generator.
struct GenChain {
    std::vector<StateDiff> blocks;  // genesis first
    Hash head{};
};

GenChain generate(const state::GeneratorConfig& config, int blocks) {
    state::ChainGenerator gen{config};
    GenChain chain;
    auto g = gen.genesis();
    EXPECT_TRUE(g);
    if (!g) return chain;
    chain.blocks.push_back(std::move(*g));
    for (int b = 0; b < blocks; ++b) {
        auto d = gen.next_block();
        EXPECT_TRUE(d);
        if (!d) return chain;
        chain.blocks.push_back(std::move(*d));
    }
    chain.head = gen.root();
    return chain;
}

// Tests want reproducible sequences: a fixed seed is the point.
std::mt19937_64 seeded_rng(uint64_t seed) { return std::mt19937_64(seed); }

using carousel::testing::random_hash;
// A slot's leaf value: the RLP of a non-zero word.
Bytes word(uint64_t v) { return carousel::testing::rlp_uint(v); }

// A random unsealed block whose storage draws keys and values from tiny pools, so that many
// accounts hold identical storage tries (shared nodes), with creations, deletions and clears.
StateDiff pooled_block(std::mt19937_64& rng, const Model& model, uint64_t block) {
    StateDiff diff;
    diff.block = block;
    std::map<Hash, state::AccountChange> changes;
    std::map<std::pair<Hash, Hash>, state::SlotChange> slots;
    auto touch = [&](const Hash& key) -> state::AccountChange& {
        auto it = changes.find(key);
        if (it != changes.end()) return it->second;
        state::AccountChange c{key, std::nullopt, std::nullopt};
        if (auto m = model.accounts.find(key); m != model.accounts.end()) c.before = c.after = m->second;
        return changes.emplace(key, c).first->second;
    };
    auto slot_before = [&](const Hash& account, const Hash& slot) {
        auto st = model.storage.find(account);
        if (st == model.storage.end()) return Bytes{};
        auto it = st->second.find(slot);
        return it == st->second.end() ? Bytes{} : it->second;
    };
    const int n = 1 + static_cast<int>(rng() % 12);
    for (int i = 0; i < n; ++i) {
        const uint64_t kind = rng() % 10;
        Hash key{};
        if (kind < 3 || model.accounts.empty()) {
            key = random_hash(rng);
            state::AccountChange& c = touch(key);
            if (c.before) continue;
            c.after = Account{};
            c.after->nonce = 1;
        } else {
            auto it = model.accounts.begin();
            std::advance(it, static_cast<std::ptrdiff_t>(rng() % model.accounts.size()));
            key = it->first;
            state::AccountChange& c = touch(key);
            if (!c.after) continue;
            if (kind == 3 && model.accounts.size() > 4) {  // delete, clearing every slot
                c.after.reset();
                for (auto s = slots.lower_bound({key, Hash{}}); s != slots.end() && s->first.first == key;) {
                    s = slots.erase(s);
                }
                if (auto st = model.storage.find(key); st != model.storage.end()) {
                    for (const auto& [slot, value] : st->second) slots[{key, slot}] = {key, slot, value, {}};
                }
                continue;
            }
            if (kind < 6) {
                c.after->nonce += 1;
                continue;
            }
        }
        // Storage writes from the pools: slot keys keccak(0..3), values 1..3 or a clear.
        for (int k = 0; k < 1 + static_cast<int>(rng() % 3); ++k) {
            const Hash slot = keccak256(word(rng() % 4));
            const uint64_t v = rng() % 4;
            const Bytes before = slot_before(key, slot);
            const Bytes after = v == 0 ? Bytes{} : word(v);
            if (before != after) {
                slots[{key, slot}] = {key, slot, before, after};
            } else {
                slots.erase({key, slot});
            }
        }
    }
    for (auto& [key, c] : changes) {
        bool has_slots = false;
        for (auto s = slots.lower_bound({key, Hash{}}); s != slots.end() && s->first.first == key; ++s)
            has_slots = true;
        if (c.before == c.after && !has_slots) continue;
        if (!c.before && !c.after) continue;
        if (c.before == c.after) c.after->nonce += 1;
        diff.accounts.push_back(c);
    }
    for (auto& [k, s] : slots) {
        for (const auto& a : diff.accounts) {
            if (a.key == s.account_key && (a.after || s.after.empty())) {
                diff.slots.push_back(s);
                break;
            }
        }
    }
    return diff;
}

// ---- KVs -----------------------------------------------------------------------------------------

RocksKV::Options small_rocks_options() {
    RocksKV::Options options;
    options.block_cache_bytes = 8 << 20;
    options.write_buffer_bytes = 1 << 20;
    return options;
}

std::unique_ptr<RocksKV> open_rocks(const fs::path& dir) {
    std::unique_ptr<RocksKV> kv;
    const Status s = RocksKV::open(dir, small_rocks_options(), kv);
    EXPECT_TRUE(s.ok()) << s.to_string();
    return kv;
}

std::unique_ptr<StateStore> open_store(KV& kv, const StateStore::Options& options = {}) {
    auto s = StateStore::open(kv, options);
    EXPECT_TRUE(s) << s.error().to_string();
    return s ? std::move(*s) : nullptr;
}

// Every entry of every column, for comparing whole databases.
using Dump = std::vector<std::tuple<Column, Bytes, Bytes>>;
Dump dump(const KV& kv) {
    Dump out;
    for (Column c : kAllColumns) {
        auto it = kv.new_iterator(c);
        for (it->seek_to_first(); it->valid(); it->next()) out.emplace_back(c, Bytes{it->key()}, Bytes{it->value()});
        EXPECT_TRUE(it->status().ok());
    }
    return out;
}

std::size_t entries(const KV& kv, Column column) {
    std::size_t n = 0;
    auto it = kv.new_iterator(column);
    for (it->seek_to_first(); it->valid(); it->next()) ++n;
    return n;
}

// ---- walking the stored tries ------------------------------------------------------------------------

// Counts the hash references to every node reachable from the account trie root `root` (storage tries
// included, through the accounts' storage roots), once per reference: a storage trie shared by two
// accounts counts twice. Fails the test on a node that is missing or does not match its hash.
void count_references(const trie::NodeStore& nodes, ByteView ref, bool account_trie, std::map<Hash, uint64_t>& refs) {
    Bytes rlp;
    if (trie::is_hash_reference(ref)) {
        const Hash h = to_hash(ref);
        ++refs[h];
        auto n = nodes.get_node(h);
        ASSERT_TRUE(n) << "node " << to_hex(h) << " is missing";
        ASSERT_EQ(keccak256(*n), h);
        rlp = std::move(*n);
    } else {
        rlp = Bytes{ref};
    }
    auto node = trie::decode_node(rlp);
    ASSERT_TRUE(node);
    switch (node->kind) {
        case trie::NodeKind::kLeaf:
            if (account_trie) {
                ByteView in = node->value;
                auto a = state::decode_account(in);
                ASSERT_TRUE(a);
                if (a->storage_root != trie::kEmptyRoot) count_references(nodes, view(a->storage_root), false, refs);
            }
            break;
        case trie::NodeKind::kExtension:
            count_references(nodes, node->children[0], account_trie, refs);
            break;
        case trie::NodeKind::kBranch:
            for (const ByteView c : node->children) {
                if (!c.empty()) count_references(nodes, c, account_trie, refs);
            }
            break;
    }
}

std::map<Hash, uint64_t> references(const trie::NodeStore& nodes, const Hash& root) {
    std::map<Hash, uint64_t> refs;
    if (root != trie::kEmptyRoot) count_references(nodes, view(root), true, refs);
    return refs;
}

// The stored nodes with their counts, straight from the KV.
std::map<Hash, uint64_t> stored_nodes(const KV& kv, const StateStore& store) {
    std::map<Hash, uint64_t> out;
    auto it = kv.new_iterator(Column::kTrieNodes);
    for (it->seek_to_first(); it->valid(); it->next()) {
        const Hash h = to_hash(it->key());
        auto c = store.node_references(h);
        EXPECT_TRUE(c);
        out[h] = c ? *c : 0;
    }
    return out;
}

// The root rebuilt from the flat index alone, with HashBuilder (independently of verify()).
Hash root_from_flat_index(const StateStore& store) {
    trie::HashBuilder hb;
    for (LeafIterator a = store.account_leaves(Hash{}); a.valid(); a.next()) {
        ByteView in = a.value();
        auto account = state::decode_account(in);
        EXPECT_TRUE(account);
        if (!account) return {};
        trie::HashBuilder shb;
        const Hash key = to_hash(a.key());
        for (LeafIterator s = store.storage_leaves(key); s.valid(); s.next()) shb.add_leaf(s.key(), s.value());
        EXPECT_EQ(shb.root(), account->storage_root) << "account " << to_hex(key);
        hb.add_leaf(a.key(), a.value());
    }
    return hb.root();
}

// ---- basics, on both KVs -------------------------------------------------------------------------------

class StateStoreKV : public ::testing::TestWithParam<bool> {
  protected:
    void SetUp() override {
        if (GetParam()) {
            kv_ = open_rocks(dir_.path() / "db");
        } else {
            kv_ = std::make_unique<MemoryKV>();
        }
        ASSERT_NE(kv_, nullptr);
    }
    TempDir dir_{"carousel-state-store-test-"};
    std::unique_ptr<KV> kv_;
};

INSTANTIATE_TEST_SUITE_P(Backends, StateStoreKV, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) { return p.param ? "RocksKV" : "MemoryKV"; });

TEST_P(StateStoreKV, EmptyStoreStartsAtTheEmptyRoot) {
    auto store = open_store(*kv_);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->head(), (StateStore::Head{std::nullopt, trie::kEmptyRoot, 0, 0}));
    EXPECT_TRUE(store->roots().empty());
    EXPECT_EQ(*store->account(Hash{}), std::nullopt);
    EXPECT_EQ(*store->storage(Hash{}, Hash{}), Bytes{});
    EXPECT_FALSE(store->account_leaves(Hash{}).valid());
    EXPECT_TRUE(store->verify().ok());
    // Reopening an empty store is fine too.
    store.reset();
    EXPECT_NE(open_store(*kv_), nullptr);
}

TEST_P(StateStoreKV, BlocksReachTheRootOfTheFinalStateFromScratch) {
    const GenChain chain = generate(small_config(21), 40);
    ASSERT_EQ(chain.blocks.size(), 41U);
    auto store = open_store(*kv_);
    ASSERT_NE(store, nullptr);
    Model model;
    for (const StateDiff& d : chain.blocks) {
        const Status s = store->apply_block(d);
        ASSERT_TRUE(s.ok()) << "block " << d.block << ": " << s.to_string();
        EXPECT_EQ(store->head().root, d.root);
        EXPECT_EQ(store->head().block, d.block);
        model.apply(d);
    }
    EXPECT_EQ(store->head().root, chain.head);
    EXPECT_EQ(store->head().root, model.root());
    EXPECT_EQ(store->head().accounts, model.accounts.size());
    EXPECT_EQ(store->head().slots, model.slot_count());
    EXPECT_EQ(root_from_flat_index(*store), chain.head);
    const Status v = store->verify();
    EXPECT_TRUE(v.ok()) << v.to_string();

    // Point reads at the head from the flat index.
    for (const auto& [key, account] : model.accounts) {
        auto a = store->account(key);
        ASSERT_TRUE(a);
        EXPECT_EQ(*a, account);
        if (account.code_hash != state::kEmptyCodeHash) {
            auto c = store->code(account.code_hash);
            ASSERT_TRUE(c && *c);
            EXPECT_EQ(keccak256(**c), account.code_hash);
        }
    }
    for (const auto& [key, st] : model.storage) {
        for (const auto& [slot, value] : st) EXPECT_EQ(*store->storage(key, slot), value);
    }
    // Diffs by block (the genesis's is the state itself and is not kept).
    EXPECT_EQ(*store->diff(0), std::nullopt);
    for (std::size_t b = 1; b < chain.blocks.size(); ++b) {
        auto d = store->diff(b);
        ASSERT_TRUE(d && *d);
        EXPECT_EQ(**d, chain.blocks[b]);
    }
    // Window roots (all 41 blocks fit in the default 128).
    const auto roots = store->roots();
    ASSERT_EQ(roots.size(), chain.blocks.size());
    for (std::size_t b = 0; b < roots.size(); ++b) {
        EXPECT_EQ(roots[b], (StateStore::BlockRoot{b, chain.blocks[b].root}));
        EXPECT_EQ(store->root_at(b), chain.blocks[b].root);
    }
    EXPECT_EQ(store->root_at(41), std::nullopt);
}

TEST_P(StateStoreKV, SealingFillsInTheRootsTheGeneratorFound) {
    const GenChain chain = generate(small_config(22), 15);
    auto store = open_store(*kv_);
    ASSERT_NE(store, nullptr);
    for (const StateDiff& sealed : chain.blocks) {
        StateDiff d = sealed;
        d.parent_root = d.root = Hash{};
        for (auto& a : d.accounts) {
            if (a.after) a.after->storage_root = Hash{};
        }
        const Status s = store->seal_and_apply_block(d);
        ASSERT_TRUE(s.ok()) << s.to_string();
        EXPECT_EQ(d, sealed);
    }
    EXPECT_EQ(store->head().root, chain.head);
}

TEST_P(StateStoreKV, LeafStreamsFollowTheKeyOrderOfTheState) {
    const GenChain chain = generate(small_config(23), 20);
    auto store = open_store(*kv_);
    ASSERT_NE(store, nullptr);
    Model model;
    for (const StateDiff& d : chain.blocks) {
        ASSERT_TRUE(store->apply_block(d).ok());
        model.apply(d);
    }
    // Account ranges [from, to) at random cut points.
    std::mt19937_64 rng = seeded_rng(23);
    for (int round = 0; round < 20; ++round) {
        Hash from = random_hash(rng), to = random_hash(rng);
        if (to < from) std::swap(from, to);
        std::vector<Hash> want;
        for (auto it = model.accounts.lower_bound(from); it != model.accounts.end() && it->first < to; ++it) {
            want.push_back(it->first);
        }
        std::vector<Hash> got;
        LeafIterator it = store->account_leaves(from, to);
        for (; it.valid(); it.next()) {
            got.push_back(to_hash(it.key()));
            EXPECT_EQ(Bytes{it.value()}, state::encode_account(model.accounts.at(got.back())));
        }
        EXPECT_TRUE(it.status().ok());
        EXPECT_EQ(got, want);
    }
    // The whole state, and seek.
    std::size_t n = 0;
    for (LeafIterator it = store->account_leaves(Hash{}); it.valid(); it.next()) ++n;
    EXPECT_EQ(n, model.accounts.size());
    LeafIterator seeker = store->account_leaves(Hash{});
    const Hash middle = std::next(model.accounts.begin(), static_cast<std::ptrdiff_t>(n / 2))->first;
    seeker.seek(middle);
    ASSERT_TRUE(seeker.valid());
    EXPECT_EQ(to_hash(seeker.key()), middle);

    // The storage of the largest contract, whole and in a sub-range.
    auto largest = std::max_element(model.storage.begin(), model.storage.end(),
                                    [](const auto& x, const auto& y) { return x.second.size() < y.second.size(); });
    ASSERT_GT(largest->second.size(), 10U);
    std::vector<std::pair<Hash, Bytes>> all;
    for (LeafIterator it = store->storage_leaves(largest->first); it.valid(); it.next()) {
        all.emplace_back(to_hash(it.key()), Bytes{it.value()});
    }
    EXPECT_EQ(all, (std::vector<std::pair<Hash, Bytes>>{largest->second.begin(), largest->second.end()}));
    const Hash lo = all[all.size() / 4].first, hi = all[all.size() / 2].first;
    std::size_t in_range = 0;
    for (LeafIterator it = store->storage_leaves(largest->first, lo, hi); it.valid(); it.next()) {
        EXPECT_EQ(to_hash(it.key()), all[all.size() / 4 + in_range].first);
        ++in_range;
    }
    EXPECT_EQ(in_range, all.size() / 2 - all.size() / 4);
}

TEST_P(StateStoreKV, ADiffThatDoesNotApplyCommitsNothing) {
    const GenChain chain = generate(small_config(24), 12);
    auto store = open_store(*kv_);
    ASSERT_NE(store, nullptr);
    for (std::size_t b = 0; b < 8; ++b) ASSERT_TRUE(store->apply_block(chain.blocks[b]).ok());
    const Dump before = dump(*kv_);
    const StateStore::Head head = store->head();

    auto rejected = [&](const StateDiff& d, const std::string& why) {
        Status s = store->apply_block(d);
        EXPECT_TRUE(s.is_invalid_argument()) << why << ": " << s.to_string();
        EXPECT_EQ(store->head(), head) << why;
        EXPECT_TRUE(dump(*kv_) == before) << why << ": the database changed";
        return s;
    };
    StateDiff wrong_root = chain.blocks[8];
    wrong_root.root[5] ^= 1;
    EXPECT_THAT(rejected(wrong_root, "root").message(), HasSubstr("root"));
    StateDiff wrong_before = chain.blocks[8];
    ASSERT_TRUE(wrong_before.accounts[0].before);
    wrong_before.accounts[0].before->nonce += 7;
    EXPECT_THAT(rejected(wrong_before, "before").message(), HasSubstr("before"));
    StateDiff wrong_storage = chain.blocks[8];
    for (auto& a : wrong_storage.accounts) {
        if (a.after) {
            a.after->storage_root[0] ^= 1;
            break;
        }
    }
    EXPECT_THAT(rejected(wrong_storage, "storage root").message(), HasSubstr("storage root"));
    EXPECT_THAT(rejected(chain.blocks[9], "block number").message(), HasSubstr("does not follow"));
    StateDiff wrong_parent = chain.blocks[8];
    wrong_parent.parent_root[0] ^= 1;
    EXPECT_THAT(rejected(wrong_parent, "parent").message(), HasSubstr("parent root"));
    StateDiff unsorted = chain.blocks[8];
    std::swap(unsorted.accounts[0], unsorted.accounts[1]);
    EXPECT_THAT(rejected(unsorted, "order").message(), HasSubstr("not strictly sorted"));
    // Wrong genesis on another, empty store: nothing is written either.
    MemoryKV other;
    auto fresh = open_store(other);
    StateDiff bad_genesis = chain.blocks[0];
    bad_genesis.root[0] ^= 1;
    EXPECT_TRUE(fresh->apply_block(bad_genesis).is_invalid_argument());
    EXPECT_TRUE(dump(other).empty());

    // The store goes on with the right blocks.
    for (std::size_t b = 8; b < chain.blocks.size(); ++b) {
        const Status s = store->apply_block(chain.blocks[b]);
        ASSERT_TRUE(s.ok()) << s.to_string();
    }
    EXPECT_EQ(store->head().root, chain.head);
    EXPECT_TRUE(store->verify().ok());
}

// ---- the window and pruning ------------------------------------------------------------------------------

// After every block: every node reachable from every root of the window is stored and nothing else
// is; each count is at least the references at the head (exactly those with a window of one); the
// nodes that only roots older than the window referenced are gone. Storage draws on tiny pools, so
// many tries are equal and share nodes. A WorldState over a MemoryNodeStore that keeps everything
// mirrors the chain, to walk roots after they left the store.
void check_window(uint32_t window, int blocks, uint64_t seed, std::size_t node_cache_bytes = std::size_t{128} << 20) {
    MemoryKV kv;
    StateStore::Options options;
    options.root_window = window;
    options.node_cache_bytes = node_cache_bytes;
    auto store = open_store(kv, options);
    ASSERT_NE(store, nullptr);
    trie::MemoryNodeStore all_nodes;
    state::MemoryCodeStore all_code;
    state::WorldState mirror{all_nodes, all_code};

    std::mt19937_64 rng = seeded_rng(seed);
    Model model;
    std::vector<Hash> roots;
    std::size_t max_stored = 0, shared = 0, gone = 0;
    for (int b = 0; b < blocks; ++b) {
        StateDiff d = pooled_block(rng, model, static_cast<uint64_t>(b));
        const Status s = store->seal_and_apply_block(d);
        ASSERT_TRUE(s.ok()) << "block " << b << ": " << s.to_string();
        ASSERT_TRUE(mirror.apply(d)) << "block " << b;
        model.apply(d);
        ASSERT_EQ(store->head().root, model.root()) << "block " << b;
        roots.push_back(d.root);

        const auto win = store->roots();
        ASSERT_EQ(win.size(), std::min<std::size_t>(window, roots.size()));
        std::set<Hash> reachable;
        for (const auto& br : win) {
            EXPECT_EQ(br.root, roots[br.block]);
            for (const auto& [h, n] : references(store->node_store(), br.root)) reachable.insert(h);
            ASSERT_FALSE(::testing::Test::HasFatalFailure()) << "block " << b << ", window root of block " << br.block;
        }
        const auto stored = stored_nodes(kv, *store);
        std::set<Hash> stored_set;
        for (const auto& [h, n] : stored) stored_set.insert(h);
        ASSERT_EQ(stored_set, reachable) << "block " << b << ": the stored nodes are not exactly those of the window";
        const auto head_refs = references(store->node_store(), store->head().root);
        for (const auto& [h, n] : head_refs) {
            ASSERT_GE(stored.at(h), n) << "block " << b;
            if (n > 1) ++shared;
        }
        if (window == 1) {
            ASSERT_EQ(stored, head_refs) << "block " << b << ": counts differ from the head's references";
        }
        max_stored = std::max(max_stored, stored.size());

        // The root that just left the window: the nodes only it referenced are gone.
        if (roots.size() > window) {
            for (const auto& [h, n] : references(all_nodes, roots[roots.size() - 1 - window])) {
                if (reachable.count(h) != 0) continue;
                ++gone;
                ASSERT_EQ(*store->node(h), std::nullopt)
                    << "block " << b << ": node " << to_hex(h) << " outlived its roots";
            }
        }
    }
    EXPECT_GT(shared, 0U) << "the pools should make tries share nodes";
    if (static_cast<std::size_t>(blocks) > window) {
        EXPECT_GT(gone, 0U) << "no node left with its root";
        // Bounded: never more than the window's nodes (checked exactly above), well below all nodes ever made.
        EXPECT_LT(max_stored, all_nodes.size());
    }
    ::testing::Test::RecordProperty("max_stored_nodes", std::to_string(max_stored));
    ::testing::Test::RecordProperty("all_nodes", std::to_string(all_nodes.size()));
}

TEST(StateStoreWindow, KeepsExactlyTheNodesOfAWindowOfOne) { check_window(1, 120, 31); }
TEST(StateStoreWindow, KeepsExactlyTheNodesOfAWindowOfEight) { check_window(8, 120, 32); }
TEST(StateStoreWindow, KeepsEveryNodeWhileEveryRootFits) { check_window(200, 60, 33); }
// The node cache only saves reads: none, or one so small that it keeps evicting, changes nothing.
TEST(StateStoreWindow, KeepsExactlyTheNodesOfTheWindowWithoutACache) { check_window(4, 80, 34, 0); }
TEST(StateStoreWindow, KeepsExactlyTheNodesOfTheWindowWithATinyCache) { check_window(4, 80, 35, 4096); }

// Two accounts with equal one-slot storage share its trie's single node: the node has two
// references, survives the first account's change (and the window), and goes with the second's.
TEST(StateStoreWindow, SharedNodesLiveWhileAnyReferenceDoes) {
    MemoryKV kv;
    StateStore::Options options;
    options.root_window = 2;
    auto store = open_store(kv, options);
    ASSERT_NE(store, nullptr);
    const Hash a = keccak256(view("a")), b = keccak256(view("b")), c = keccak256(view("c"));
    const Hash slot = keccak256(word(1));
    const Bytes one = word(1);
    auto block = [&](uint64_t n, std::vector<state::AccountChange> accounts, std::vector<state::SlotChange> slots) {
        StateDiff d;
        d.block = n;
        std::sort(accounts.begin(), accounts.end(), [](const auto& x, const auto& y) { return x.key < y.key; });
        std::sort(slots.begin(), slots.end(), [](const auto& x, const auto& y) {
            return std::tie(x.account_key, x.slot_key) < std::tie(y.account_key, y.slot_key);
        });
        d.accounts = std::move(accounts);
        d.slots = std::move(slots);
        const Status s = store->seal_and_apply_block(d);
        EXPECT_TRUE(s.ok()) << s.to_string();
        return d;
    };
    Account plain;
    plain.nonce = 1;
    const StateDiff g = block(0, {{a, std::nullopt, plain}, {b, std::nullopt, plain}, {c, std::nullopt, plain}},
                              {{a, slot, {}, one}, {b, slot, {}, one}});
    Account with_slot = plain;
    with_slot.storage_root = store->head().root;  // replaced below
    Hash shared{};
    for (const auto& ch : g.accounts) {
        if (ch.key == a) shared = ch.after->storage_root;
    }
    ASSERT_NE(shared, trie::kEmptyRoot);
    with_slot.storage_root = shared;
    EXPECT_EQ(*store->node_references(shared), 2U);

    // Block 1: a's slot changes. The shared node loses a reference, but only once block 0 leaves the
    // window (block 2).
    Account a1 = with_slot;
    a1.nonce = 2;
    block(1, {{a, with_slot, a1}}, {{a, slot, one, word(2)}});
    EXPECT_EQ(*store->node_references(shared), 2U);
    Account c1 = plain;
    c1.nonce = 2;
    block(2, {{c, plain, c1}}, {});
    EXPECT_EQ(*store->node_references(shared), 1U);
    // Block 3: b is deleted with its slot; block 4 pushes block 2's root out: the node is gone.
    block(3, {{b, with_slot, std::nullopt}}, {{b, slot, one, {}}});
    EXPECT_EQ(*store->node_references(shared), 1U);
    Account c2 = c1;
    c2.nonce = 3;
    block(4, {{c, c1, c2}}, {});
    EXPECT_EQ(*store->node_references(shared), 0U);
    EXPECT_EQ(*store->node(shared), std::nullopt);
    EXPECT_TRUE(store->verify().ok());
}

// A WorldState or a Trie opened on node_store() reads any root of the window: the state at block
// k - 1 holds the `before` values of block k's diff.
TEST(StateStoreWindow, ReadOnlyViewsOpenEveryRootOfTheWindow) {
    const GenChain chain = generate(small_config(34), 30);
    MemoryKV kv;
    StateStore::Options options;
    options.root_window = 10;
    auto store = open_store(kv, options);
    ASSERT_NE(store, nullptr);
    for (const StateDiff& d : chain.blocks) ASSERT_TRUE(store->apply_block(d).ok());
    const auto roots = store->roots();
    ASSERT_EQ(roots.size(), 10U);
    EXPECT_EQ(roots.front().block, 21U);
    for (std::size_t i = 0; i + 1 < roots.size(); ++i) {
        const StateDiff& next = chain.blocks[roots[i].block + 1];
        state::WorldState ws{store->node_store(), store->code_store(), roots[i].root};
        for (const auto& a : next.accounts) {
            auto got = ws.account(a.key);
            ASSERT_TRUE(got) << "block " << roots[i].block;
            EXPECT_EQ(*got, a.before);
        }
        for (const auto& sc : next.slots) {
            auto got = ws.storage(sc.account_key, sc.slot_key);
            ASSERT_TRUE(got);
            EXPECT_EQ(*got, sc.before);
        }
        trie::Trie t{&store->node_store(), roots[i].root};
        auto proof = t.prove(view(next.accounts[0].key));
        ASSERT_TRUE(proof);
        EXPECT_FALSE(proof->empty());
    }
    // The root just before the window is pruned.
    EXPECT_EQ(*store->node(chain.blocks[20].root), std::nullopt);
}

TEST(StateStoreWindow, DiffRetentionKeepsTheLastDiffs) {
    const GenChain chain = generate(small_config(35), 20);
    MemoryKV kv;
    StateStore::Options options;
    options.diff_retention = 5;
    auto store = open_store(kv, options);
    ASSERT_NE(store, nullptr);
    for (const StateDiff& d : chain.blocks) ASSERT_TRUE(store->apply_block(d).ok());
    for (uint64_t b = 0; b <= 20; ++b) EXPECT_EQ(store->diff(b)->has_value(), b > 15) << b;
}

// ---- genesis import ----------------------------------------------------------------------------------------

// A genesis written in many small batches gives the same database as one batch.
TEST(StateStoreGenesis, ChunkedImportEqualsOneBatch) {
    const GenChain chain = generate(small_config(36), 3);
    MemoryKV one, many;
    StateStore::Options small;
    small.import_batch_bytes = 16 << 10;
    auto a = open_store(one);
    auto b = open_store(many, small);
    for (const StateDiff& d : chain.blocks) {
        ASSERT_TRUE(a->apply_block(d).ok());
        ASSERT_TRUE(b->apply_block(d).ok());
    }
    EXPECT_TRUE(dump(one) == dump(many));
    EXPECT_TRUE(b->verify().ok());

    // A genesis where many accounts hold equal storage tries: their shared nodes are counted across
    // chunks (each chunk of 2 KiB holds a few accounts), to the references of the state exactly.
    StateDiff shared;
    shared.block = 7;
    for (uint64_t i = 0; i < 300; ++i) {
        const Hash key = keccak256(word(i));
        Account account;
        account.nonce = i;
        shared.accounts.push_back({key, std::nullopt, account});
        for (uint64_t k = 0; k < 1 + i % 3; ++k) {
            shared.slots.push_back({key, keccak256(word(1000 + k)), {}, word(1 + (i / 3) % 2)});
        }
    }
    std::sort(shared.accounts.begin(), shared.accounts.end(),
              [](const auto& x, const auto& y) { return x.key < y.key; });
    std::sort(shared.slots.begin(), shared.slots.end(), [](const auto& x, const auto& y) {
        return std::tie(x.account_key, x.slot_key) < std::tie(y.account_key, y.slot_key);
    });
    MemoryKV whole, pieces;
    StateStore::Options tiny;
    tiny.import_batch_bytes = 2 << 10;
    auto w = open_store(whole);
    auto p = open_store(pieces, tiny);
    ASSERT_TRUE(w->seal_and_apply_block(shared).ok());
    ASSERT_TRUE(p->apply_block(shared).ok());
    EXPECT_TRUE(dump(whole) == dump(pieces));
    EXPECT_EQ(stored_nodes(pieces, *p), references(p->node_store(), shared.root));

    // A chunked genesis that fails its root check leaves nothing behind.
    MemoryKV failed;
    auto c = open_store(failed, small);
    StateDiff bad = chain.blocks[0];
    bad.root[0] ^= 1;
    EXPECT_TRUE(c->apply_block(bad).is_invalid_argument());
    EXPECT_TRUE(dump(failed).empty());
    EXPECT_TRUE(c->apply_block(chain.blocks[0]).ok());
}

// A store reopened with the import marker still set (the writer died between two chunks) discards
// the partial import and opens empty.
TEST(StateStoreGenesis, AnInterruptedImportIsDiscarded) {
    const GenChain chain = generate(small_config(37), 0);
    MemoryKV kv;
    {
        auto store = open_store(kv);
        ASSERT_TRUE(store->apply_block(chain.blocks[0]).ok());
    }
    // What a death after the first chunks looks like: data, the marker, no state record.
    ASSERT_TRUE(kv.del(Column::kMeta, view("state")).ok());
    ASSERT_TRUE(kv.put(Column::kMeta, view("import"), Bytes(8, 0)).ok());
    ASSERT_TRUE(kv.put(Column::kMeta, view("someone-else"), view("kept")).ok());
    auto store = open_store(kv);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->head().block, std::nullopt);
    EXPECT_EQ(entries(kv, Column::kTrieNodes), 0U);
    EXPECT_EQ(entries(kv, Column::kAccountLeaves), 0U);
    EXPECT_EQ(entries(kv, Column::kMeta), 1U);  // others' meta records stay
    ASSERT_TRUE(store->apply_block(chain.blocks[0]).ok());
    EXPECT_EQ(store->head().root, chain.blocks[0].root);
}

// ---- reopening -------------------------------------------------------------------------------------------

TEST(StateStoreReopen, ReopensWithTheSameHeadAndGoesOn) {
    const GenChain chain = generate(small_config(41), 30);
    TempDir dir{"carousel-state-store-test-"};
    StateStore::Options options;
    options.root_window = 6;
    std::vector<StateStore::BlockRoot> roots;
    {
        auto kv = open_rocks(dir.path() / "db");
        auto store = open_store(*kv, options);
        for (std::size_t b = 0; b <= 20; ++b) ASSERT_TRUE(store->apply_block(chain.blocks[b]).ok());
        roots = store->roots();
    }
    auto kv = open_rocks(dir.path() / "db");
    auto store = open_store(*kv, options);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->head().block, 20U);
    EXPECT_EQ(store->head().root, chain.blocks[20].root);
    EXPECT_EQ(store->roots(), roots);
    EXPECT_TRUE(store->verify().ok());
    for (std::size_t b = 21; b < chain.blocks.size(); ++b) {
        const Status s = store->apply_block(chain.blocks[b]);
        ASSERT_TRUE(s.ok()) << s.to_string();
    }
    EXPECT_EQ(store->head().root, chain.head);

    // Reopened with a narrower window, the next block prunes down to it.
    store.reset();
    options.root_window = 2;
    store = open_store(*kv, options);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->roots().size(), 6U);
    StateDiff next;
    next.block = 31;
    Account x;
    x.nonce = 9;
    next.accounts.push_back({keccak256(view("x")), std::nullopt, x});
    ASSERT_TRUE(store->seal_and_apply_block(next).ok());
    EXPECT_EQ(store->roots().size(), 2U);
    std::set<Hash> reachable;
    for (const auto& br : store->roots()) {
        for (const auto& [h, n] : references(store->node_store(), br.root)) reachable.insert(h);
    }
    EXPECT_EQ(entries(*kv, Column::kTrieNodes), reachable.size());
}

// ---- damaged and foreign databases -------------------------------------------------------------------------

class StateStoreDamage : public ::testing::Test {
  protected:
    void SetUp() override {
        chain_ = generate(small_config(51), 10);
        kv_ = open_rocks(dir_.path() / "db");
        ASSERT_NE(kv_, nullptr);
        auto store = open_store(*kv_);
        ASSERT_NE(store, nullptr);
        for (const StateDiff& d : chain_.blocks) ASSERT_TRUE(store->apply_block(d).ok());
    }
    void reopen_kv() {
        kv_.reset();
        kv_ = open_rocks(dir_.path() / "db");
    }
    Status open_status(const StateStore::Options& options = {}) {
        auto s = StateStore::open(*kv_, options);
        return s ? Status{} : s.error();
    }
    TempDir dir_{"carousel-state-store-test-"};
    GenChain chain_;
    std::unique_ptr<RocksKV> kv_;
};

TEST_F(StateStoreDamage, IntactDatabaseReopens) {
    reopen_kv();
    EXPECT_TRUE(open_status().ok());
}

TEST_F(StateStoreDamage, MissingMetaRecordWithDataIsNamed) {
    ASSERT_TRUE(kv_->del(Column::kMeta, view("state")).ok());
    reopen_kv();
    const Status s = open_status();
    EXPECT_TRUE(s.is_corruption()) << s.to_string();
    EXPECT_THAT(s.message(), HasSubstr("no \"state\" record"));
    EXPECT_THAT(s.message(), HasSubstr("trie_nodes"));
}

TEST_F(StateStoreDamage, ForeignDataIsNamed) {
    // A carousel KV someone else filled: code-like keys and no state record.
    MemoryKV kv;
    ASSERT_TRUE(kv.put(Column::kCode, view("foreign"), view("data")).ok());
    auto s = StateStore::open(kv);
    ASSERT_FALSE(s);
    EXPECT_TRUE(s.error().is_corruption());
    EXPECT_THAT(s.error().message(), HasSubstr("column code holds data"));
}

TEST_F(StateStoreDamage, MalformedMetaRecordsAreNamed) {
    Bytes record;
    ASSERT_TRUE(kv_->get(Column::kMeta, view("state"), record).ok());
    auto try_record = [&](const Bytes& r) {
        EXPECT_TRUE(kv_->put(Column::kMeta, view("state"), r).ok());
        return open_status();
    };
    Status s = try_record(record.substr(0, record.size() - 1));
    EXPECT_TRUE(s.is_corruption()) << s.to_string();
    EXPECT_THAT(s.message(), HasSubstr("\"state\" is malformed"));
    s = try_record(Bytes{});
    EXPECT_TRUE(s.is_corruption()) << s.to_string();
    s = try_record(record.substr(0, 20));
    EXPECT_TRUE(s.is_corruption()) << s.to_string();
    Bytes flag = record;
    flag[1] = 7;
    EXPECT_THAT(try_record(flag).message(), HasSubstr("head flag"));
    Bytes root = record;
    root[10] ^= 1;  // the head root no longer ends the window
    EXPECT_THAT(try_record(root).message(), HasSubstr("does not end at the head"));
    Bytes version = record;
    version[0] = 9;
    s = try_record(version);
    EXPECT_TRUE(s.is_not_supported()) << s.to_string();
    EXPECT_THAT(s.message(), HasSubstr("format version 9"));
    EXPECT_TRUE(try_record(record).ok());
}

TEST_F(StateStoreDamage, ImportMarkerNextToAStateIsNotWiped) {
    ASSERT_TRUE(kv_->put(Column::kMeta, view("import"), Bytes(8, 0)).ok());
    const Status s = open_status();
    EXPECT_TRUE(s.is_corruption()) << s.to_string();
    EXPECT_THAT(s.message(), HasSubstr("\"import\" marker"));
    EXPECT_GT(entries(*kv_, Column::kTrieNodes), 0U);
}

TEST_F(StateStoreDamage, MissingHeadRootNodeIsNamed) {
    ASSERT_TRUE(kv_->del(Column::kTrieNodes, view(chain_.head)).ok());
    reopen_kv();
    const Status s = open_status();
    EXPECT_TRUE(s.is_corruption()) << s.to_string();
    EXPECT_THAT(s.message(), HasSubstr("head root " + to_hex_prefixed(view(chain_.head))));
    EXPECT_THAT(s.message(), HasSubstr("missing"));
}

TEST_F(StateStoreDamage, MissingWindowRootNodeIsNamed) {
    ASSERT_TRUE(kv_->del(Column::kTrieNodes, view(chain_.blocks[3].root)).ok());
    const Status s = open_status();
    EXPECT_TRUE(s.is_corruption()) << s.to_string();
    EXPECT_THAT(s.message(), HasSubstr("window root"));
    EXPECT_THAT(s.message(), HasSubstr("block 3"));
}

TEST_F(StateStoreDamage, NodeWithoutCountIsMalformed) {
    Bytes v;
    ASSERT_TRUE(kv_->get(Column::kTrieNodes, view(chain_.head), v).ok());
    ASSERT_TRUE(kv_->put(Column::kTrieNodes, view(chain_.head), v.substr(1)).ok());  // the raw RLP
    const Status s = open_status();
    EXPECT_TRUE(s.is_corruption()) << s.to_string();
    EXPECT_THAT(s.message(), HasSubstr("malformed"));
}

TEST_F(StateStoreDamage, FlatIndexOutOfStepWithTheHeadBlockIsNamed) {
    // An account the head block changed, rolled back in the flat index.
    const StateDiff& head = chain_.blocks.back();
    const state::AccountChange* changed = nullptr;
    for (const auto& a : head.accounts) {
        if (a.before && a.after) changed = &a;
    }
    ASSERT_NE(changed, nullptr);
    ASSERT_TRUE(kv_->put(Column::kAccountLeaves, view(changed->key), state::encode_account(*changed->before)).ok());
    const Status s = open_status();
    EXPECT_TRUE(s.is_corruption()) << s.to_string();
    EXPECT_THAT(s.message(), HasSubstr("flat index disagrees"));
    EXPECT_THAT(s.message(), HasSubstr(to_hex_prefixed(view(changed->key))));
}

TEST_F(StateStoreDamage, LostFlatIndexIsFoundByTheProbes) {
    WriteBatch batch;
    batch.del_range(Column::kAccountLeaves, Bytes{}, Bytes(40, 0xff));
    ASSERT_TRUE(kv_->write(batch).ok());
    const Status s = open_status();
    EXPECT_TRUE(s.is_corruption()) << s.to_string();
    EXPECT_THAT(s.message(), HasSubstr("flat index disagrees"));
}

TEST_F(StateStoreDamage, VerifyFindsAnyWrongLeaf) {
    // A slot the head block did not touch: the cheap check at open may miss it, verify() does not.
    Model model;
    for (const auto& d : chain_.blocks) model.apply(d);
    std::set<std::pair<Hash, Hash>> touched;
    for (const auto& sc : chain_.blocks.back().slots) touched.insert({sc.account_key, sc.slot_key});
    Hash account{}, slot{};
    for (const auto& [a, st] : model.storage) {
        for (const auto& [k, v] : st) {
            if (touched.count({a, k}) == 0) std::tie(account, slot) = std::make_pair(a, k);
        }
    }
    Bytes key{view(account)};
    key.append(view(slot));
    ASSERT_TRUE(kv_->put(Column::kStorageLeaves, key, word(424242)).ok());
    StateStore::Options no_probes;
    no_probes.open_probes = 0;
    auto store = StateStore::open(*kv_, no_probes);
    ASSERT_TRUE(store) << store.error().to_string();
    Status s = (*store)->verify();
    EXPECT_TRUE(s.is_corruption()) << s.to_string();
    EXPECT_THAT(s.message(), HasSubstr("account " + to_hex_prefixed(view(account))));
    EXPECT_THAT(s.message(), HasSubstr("storage root"));

    // A storage leaf without its account.
    ASSERT_TRUE(kv_->put(Column::kStorageLeaves, key, model.storage[account][slot]).ok());
    s = (*store)->verify();
    ASSERT_TRUE(s.ok()) << s.to_string();
    const Bytes orphan(64, 0xff);
    ASSERT_TRUE(kv_->put(Column::kStorageLeaves, orphan, word(1)).ok());
    EXPECT_THAT((*store)->verify().message(), HasSubstr("belongs to no account"));
}

TEST_F(StateStoreDamage, MissingInteriorNodeFailsTheBlockNotTheProcess) {
    // Every node but the roots of the window goes: applying the next block needs some of them.
    auto store = StateStore::open(*kv_);
    ASSERT_TRUE(store);
    std::set<Hash> keep;
    for (const auto& br : (*store)->roots()) keep.insert(br.root);
    std::vector<Bytes> doomed;
    auto it = kv_->new_iterator(Column::kTrieNodes);
    for (it->seek_to_first(); it->valid(); it->next()) {
        if (keep.count(to_hash(it->key())) == 0) doomed.emplace_back(it->key());
    }
    it.reset();
    for (const Bytes& k : doomed) ASSERT_TRUE(kv_->del(Column::kTrieNodes, k).ok());
    const GenChain longer = generate(small_config(51), 11);
    const Status s = (*store)->apply_block(longer.blocks.back());
    EXPECT_TRUE(s.is_corruption()) << s.to_string();
    EXPECT_THAT(s.message(), HasSubstr("missing"));
    EXPECT_EQ((*store)->head().block, 10U);
}

TEST_F(StateStoreDamage, MalformedJournalFailsPruningWithAStatus) {
    // With a window of 3, block 11 prunes with block 9's journal.
    Bytes key(8, 0);
    key[7] = 9;
    key.push_back('j');
    ASSERT_TRUE(kv_->put(Column::kBlocks, key, Bytes(33, 1)).ok());
    StateStore::Options options;
    options.root_window = 3;
    auto store = StateStore::open(*kv_, options);
    ASSERT_TRUE(store) << store.error().to_string();
    const GenChain longer = generate(small_config(51), 11);
    const Status s = (*store)->apply_block(longer.blocks.back());
    EXPECT_TRUE(s.is_corruption()) << s.to_string();
    EXPECT_THAT(s.message(), HasSubstr("journal of block"));
    EXPECT_EQ((*store)->head().block, 10U);
}

TEST(StateStoreOptions, ZeroWindowIsRejected) {
    MemoryKV kv;
    StateStore::Options options;
    options.root_window = 0;
    auto s = StateStore::open(kv, options);
    ASSERT_FALSE(s);
    EXPECT_TRUE(s.error().is_invalid_argument());
}

// ---- killed while writing ---------------------------------------------------------------------------------
//
// A child process (this test binary again, with only the DISABLED_ child test) opens the store in a
// RocksDB directory, regenerates the chain deterministically, applies the blocks after the stored
// head and reports each committed block over a pipe; the parent kills it with SIGKILL at a random
// moment and reopens the store: it must be at a block at or after the last one reported, with that
// block's root and a flat index that rebuilds to it, and able to go on. The genesis is written in
// small chunks, so the first kill may land inside the import.

constexpr const char* kChildDirEnv = "CAROUSEL_STATE_STORE_CRASH_DIR";
constexpr const char* kChildFdEnv = "CAROUSEL_STATE_STORE_CRASH_FD";
constexpr uint64_t kCrashSeed = 61;
constexpr uint64_t kCrashBlocks = 300;

StateStore::Options crash_options() {
    StateStore::Options options;
    options.root_window = 16;
    options.import_batch_bytes = 32 << 10;
    options.open_probes = 8;
    return options;
}

RocksKV::Options crash_rocks_options() {
    RocksKV::Options options = small_rocks_options();
    options.write_buffer_bytes = 256 << 10;  // frequent flushes and compactions while being killed
    return options;
}

// The child: runs only when started by KilledWriterReopensAtACommittedBlock.
TEST(StateStoreCrash, DISABLED_ChildAppliesBlocksUntilKilled) {
    const auto setup = testing::child_setup(kChildDirEnv, kChildFdEnv);
    if (!setup) GTEST_SKIP() << "only run as the child of KilledWriterReopensAtACommittedBlock";

    std::unique_ptr<RocksKV> kv;
    const Status s = RocksKV::open(setup->dir, crash_rocks_options(), kv);
    ASSERT_TRUE(s.ok()) << s.to_string();
    auto store = StateStore::open(*kv, crash_options());
    ASSERT_TRUE(store) << store.error().to_string();
    state::ChainGenerator gen{small_config(kCrashSeed)};
    auto g = gen.genesis();
    ASSERT_TRUE(g);
    const std::optional<uint64_t> head = (*store)->head().block;
    auto report = [&setup](uint64_t block) { return testing::report(*setup, block); };
    if (!head) {
        ASSERT_TRUE((*store)->apply_block(*g).ok());
        ASSERT_TRUE(report(0));
    }
    for (uint64_t b = 1; b <= kCrashBlocks; ++b) {
        auto d = gen.next_block();
        ASSERT_TRUE(d);
        if (head && b <= *head) continue;
        const Status a = (*store)->apply_block(*d);
        ASSERT_TRUE(a.ok()) << a.to_string();
        ASSERT_TRUE(report(b));
    }
    std::this_thread::sleep_for(std::chrono::hours(1));  // the parent kills it
}

TEST(StateStoreCrash, KilledWriterReopensAtACommittedBlock) {
    TempDir tmp{"carousel-state-store-crash-"};
    const fs::path db = tmp.path() / "db";

    // The expected roots, from the same generator.
    std::vector<Hash> roots;
    {
        state::ChainGenerator gen{small_config(kCrashSeed)};
        auto g = gen.genesis();
        ASSERT_TRUE(g);
        roots.push_back(g->root);
        for (uint64_t b = 1; b <= kCrashBlocks; ++b) {
            auto d = gen.next_block();
            ASSERT_TRUE(d);
            roots.push_back(d->root);
        }
    }

    // The database exists before the first child: a kill inside RocksDB's own creation of a database
    // is RocksKV's matter (it refuses the half-made directory), not the state store's.
    ASSERT_NE(open_rocks(db), nullptr);

    // Random kill points; the seed is in the failure message.
    const uint32_t seed = std::random_device{}();
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng{seed};
    std::optional<uint64_t> committed;
    for (int round = 0; round < 5; ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        auto child = testing::KilledChild::start("StateStoreCrash.DISABLED_ChildAppliesBlocksUntilKilled", kChildDirEnv,
                                                 db.string(), kChildFdEnv);
        ASSERT_NE(child, nullptr);

        // Round 0 kills early (often inside the chunked genesis); later rounds after some blocks.
        const uint64_t wanted = round == 0 ? rng() % 2 : 3 + rng() % 40;
        uint64_t reports = 0, last = 0;
        bool any = false;
        auto read_report = [&](int timeout_ms) {
            const auto report = child->read_report(timeout_ms);
            if (!report) return false;
            last = *report;
            any = true;
            ++reports;
            return true;
        };
        while (reports < wanted && read_report(60000)) {
        }
        EXPECT_EQ(reports, wanted) << "the child stopped reporting";
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % (round == 0 ? 150000 : 20000)));
        EXPECT_TRUE(child->kill_and_reap()) << "the child did not die of SIGKILL";
        while (read_report(0)) {  // reports written before it died
        }

        std::unique_ptr<RocksKV> kv;
        const Status s = RocksKV::open(db, crash_rocks_options(), kv);
        ASSERT_TRUE(s.ok()) << s.to_string();
        Bytes marker;
        if (kv->get(Column::kMeta, view("import"), marker).ok()) {
            RecordProperty("round_" + std::to_string(round) + "_interrupted_import", "yes");
        }
        auto store = StateStore::open(*kv, crash_options());
        ASSERT_TRUE(store) << store.error().to_string();
        const StateStore::Head head = (*store)->head();
        if (any) {
            ASSERT_TRUE(head.block) << "block " << last << " was reported committed";
            EXPECT_GE(*head.block, last);
        }
        if (committed) {
            ASSERT_TRUE(head.block);
            EXPECT_GE(*head.block, *committed);
        }
        if (head.block) {
            ASSERT_LE(*head.block, kCrashBlocks);
            EXPECT_EQ(head.root, roots[*head.block]) << "block " << *head.block;
            EXPECT_EQ(root_from_flat_index(**store), head.root);
            const Status v = (*store)->verify();
            EXPECT_TRUE(v.ok()) << v.to_string();
        } else {
            EXPECT_TRUE(dump(*kv).empty()) << "an empty store after an interrupted import holds data";
        }
        RecordProperty("round_" + std::to_string(round) + "_head",
                       head.block ? std::to_string(*head.block) : std::string{"none"});
        committed = head.block;
        if (::testing::Test::HasFailure()) break;
    }
    ASSERT_TRUE(committed);
    EXPECT_GT(*committed, 20U);

    // The store goes on from where the last child stopped.
    std::unique_ptr<RocksKV> kv;
    ASSERT_TRUE(RocksKV::open(db, crash_rocks_options(), kv).ok());
    auto store = StateStore::open(*kv, crash_options());
    ASSERT_TRUE(store);
    state::ChainGenerator gen{small_config(kCrashSeed)};
    ASSERT_TRUE(gen.genesis());
    for (uint64_t b = 1; b <= std::min(*committed + 5, kCrashBlocks); ++b) {
        auto d = gen.next_block();
        ASSERT_TRUE(d);
        if (b <= *committed) continue;
        const Status s = (*store)->apply_block(*d);
        ASSERT_TRUE(s.ok()) << s.to_string();
        EXPECT_EQ((*store)->head().root, roots[b]);
    }
}

// ---- I/O errors, injected (testing::FaultKV) --------------------------------------------------------

// Fails the n-th KV operation of kind `op` while the blocks after the first four are applied: every
// n for writes (one a block), a spread of a dozen for reads (hundreds). The failing block returns the
// injected IO error, the store stays at the block before, the database holds nothing of the failed
// block (a reopened store is at that block and verifies), and once the fault is gone the same store
// applies the rest of the chain.
void check_faults(testing::FaultKV::Op op) {
    const GenChain chain = generate(small_config(61), 8);
    constexpr std::size_t kBefore = 4;
    uint64_t total = 0;  // operations of the kind while the later blocks are applied
    {
        MemoryKV memory;
        testing::FaultKV kv{memory};
        auto store = open_store(kv);
        ASSERT_NE(store, nullptr);
        for (std::size_t b = 0; b < kBefore; ++b) ASSERT_TRUE(store->apply_block(chain.blocks[b]).ok());
        const uint64_t first = kv.count(op);
        for (std::size_t b = kBefore; b < chain.blocks.size(); ++b)
            ASSERT_TRUE(store->apply_block(chain.blocks[b]).ok());
        total = kv.count(op) - first;
    }
    ASSERT_GT(total, 0U);
    std::set<uint64_t> faults;
    for (uint64_t i = 0; i < 12; ++i) faults.insert(1 + i * (total - 1) / 11);
    for (const uint64_t n : faults) {
        SCOPED_TRACE("fault at operation " + std::to_string(n) + " of " + std::to_string(total));
        MemoryKV memory;
        testing::FaultKV kv{memory};
        auto store = open_store(kv);
        ASSERT_NE(store, nullptr);
        for (std::size_t b = 0; b < kBefore; ++b) ASSERT_TRUE(store->apply_block(chain.blocks[b]).ok());
        kv.fail_nth(op, n);
        std::size_t b = kBefore;
        for (; b < chain.blocks.size(); ++b) {
            const StateStore::Head head = store->head();
            const Dump before = dump(memory);
            const Status s = store->apply_block(chain.blocks[b]);
            if (s.ok()) continue;
            EXPECT_TRUE(s.is_io_error()) << s.to_string();
            EXPECT_THAT(s.message(), HasSubstr("injected fault"));
            EXPECT_EQ(store->head(), head);
            EXPECT_TRUE(dump(memory) == before) << "block " << b << " is half written";
            auto reopened = open_store(memory);
            ASSERT_NE(reopened, nullptr);
            EXPECT_EQ(reopened->head(), head);
            const Status v = reopened->verify();
            EXPECT_TRUE(v.ok()) << v.to_string();
            break;
        }
        ASSERT_EQ(kv.injected(), 1U);
        ASSERT_LT(b, chain.blocks.size()) << "the fault did not fail a block";
        for (; b < chain.blocks.size(); ++b) {
            const Status s = store->apply_block(chain.blocks[b]);
            ASSERT_TRUE(s.ok()) << "block " << b << " after the fault: " << s.to_string();
        }
        EXPECT_EQ(store->head().root, chain.head);
    }
}

TEST(StateStoreFaults, AFailedWriteCommitsNothingAndTheStoreGoesOn) { check_faults(testing::FaultKV::Op::kWrite); }
TEST(StateStoreFaults, AFailedReadCommitsNothingAndTheStoreGoesOn) { check_faults(testing::FaultKV::Op::kRead); }

TEST(StateStoreFaults, ReadOnlyNodeStoreTellsAnErrorFromAnAbsentNode) {
    const GenChain chain = generate(small_config(62), 2);
    MemoryKV memory;
    testing::FaultKV kv{memory};
    auto store = open_store(kv);
    ASSERT_NE(store, nullptr);
    for (const StateDiff& d : chain.blocks) ASSERT_TRUE(store->apply_block(d).ok());
    const trie::NodeStore& nodes = store->node_store();
    auto present = nodes.find_node(chain.head);
    ASSERT_TRUE(present);
    EXPECT_TRUE(present->has_value());
    auto absent = nodes.find_node(Hash{});
    ASSERT_TRUE(absent);
    EXPECT_FALSE(absent->has_value());
    kv.fail_all(true);
    auto failed = nodes.find_node(chain.head);
    ASSERT_FALSE(failed);
    EXPECT_TRUE(failed.error().is_io_error()) << failed.error().to_string();
    Bytes out;
    auto read = nodes.read_node(chain.head, out);
    ASSERT_FALSE(read);
    EXPECT_TRUE(read.error().is_io_error());
    trie::Trie t{&store->node_store(), chain.head};
    auto got = t.get(view(Hash{}));
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error(), trie::TrieError::kStoreError);
}

}  // namespace
}  // namespace carousel::store
