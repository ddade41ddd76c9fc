// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "epoch_store.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include <carousel/core/hex.hpp>
#include <carousel/core/keccak.hpp>
#include <carousel/prefix/chunk_server.hpp>
#include <carousel/state/chain_generator.hpp>
#include <carousel/store/memory_kv.hpp>
#include <carousel/store/rocks_kv.hpp>
#include <carousel/testing/fault_kv.hpp>
#include <carousel/testing/killed_child.hpp>
#include <carousel/testing/temp_dir.hpp>
#include <carousel/trie/node.hpp>
#include <carousel/trie/proof.hpp>
#include <carousel/trie/trie.hpp>

#include "bridge.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace carousel::mgr {
namespace {

constexpr uint64_t kEpoch = 8;
constexpr uint64_t kBlocks = 44;  // five boundaries (8 .. 40) and a head past the last

// A generated chain, built once for the suite: every block's diff and root, and a store holding
// the nodes of every state along it (the generator's MemoryNodeStore keeps all of them).
struct Chain {
    std::unique_ptr<state::ChainGenerator> gen;
    std::vector<Hash> roots;  // roots[b]: state root after block b (0: genesis)
    std::vector<state::StateDiff> diffs;
    // storage[b]: accounts with a non-empty storage root at roots[b].
    std::vector<std::map<Hash, Hash>> storage;

    const trie::NodeStore& full() const { return gen->node_store(); }
};

// Reads a store through a Trie without letting the Trie write to it.
class ReadOnlyNodes final : public trie::NodeStore {
  public:
    explicit ReadOnlyNodes(const trie::NodeStore& inner) : inner_{inner} {}
    std::optional<Bytes> get_node(const Hash& hash) const override { return inner_.get_node(hash); }
    void put_node(const Hash&, ByteView) override {}

  private:
    const trie::NodeStore& inner_;
};

std::map<Hash, Hash> storage_roots_at(const trie::NodeStore& store, const Hash& root) {
    std::map<Hash, Hash> out;
    ReadOnlyNodes ro{store};
    trie::Trie t{&ro, root};
    EXPECT_TRUE(t.for_each([&](ByteView key, ByteView value) {
        ByteView v = value;
        auto a = state::decode_account(v);
        EXPECT_TRUE(a.has_value());
        if (a && a->storage_root != trie::kEmptyRoot) out.emplace(to_hash(key), a->storage_root);
    }));
    return out;
}

// A chain of `blocks` blocks generated with `cfg`.
Chain generate(const state::GeneratorConfig& cfg, uint64_t blocks) {
    Chain ch;
    ch.gen = std::make_unique<state::ChainGenerator>(cfg);
    auto g = ch.gen->genesis();
    EXPECT_TRUE(g.has_value());
    ch.roots.push_back(ch.gen->root());
    ch.diffs.push_back(g.value_or(state::StateDiff{}));
    ch.storage.push_back(storage_roots_at(ch.gen->node_store(), ch.roots.back()));
    for (uint64_t b = 1; b <= blocks; ++b) {
        auto d = ch.gen->next_block();
        EXPECT_TRUE(d.has_value());
        ch.roots.push_back(ch.gen->root());
        ch.diffs.push_back(d.value_or(state::StateDiff{}));
        ch.storage.push_back(storage_roots_at(ch.gen->node_store(), ch.roots.back()));
    }
    return ch;
}

const Chain& chain() {
    static const Chain c = [] {
        state::GeneratorConfig cfg;
        cfg.seed = 58801;
        cfg.accounts = 3000;
        cfg.max_contract_slots = 1500;
        cfg.accounts_per_block = 40;
        cfg.slots_per_block = 80;
        cfg.create_share = 0.05;
        cfg.delete_share = 0.01;
        return generate(cfg, kBlocks);
    }();
    return c;
}

// The owners whose storage trie at version b has a leaf in its block of `region` (the only ones a
// store keeps), from the full state, by reading their leaves there.
std::vector<std::pair<Hash, Hash>> present_owners(const Chain& ch, uint64_t b, const Region& region) {
    std::vector<std::pair<Hash, Hash>> out;
    for (const auto& [account, storage] : ch.storage[b]) {
        auto leaves = leaves_in(ch.full(), storage, path_range(storage_region(region, account)));
        EXPECT_TRUE(leaves.has_value());
        if (leaves && !leaves->empty()) out.emplace_back(account, storage);
    }
    return out;
}

// The nodes of the partial tries of `region` at version b of the chain, from the full state.
std::set<Hash> truth(const Chain& ch, uint64_t b, const Region& region) {
    std::set<Hash> out;
    auto add = [&](ByteView, const Hash& h, ByteView) { out.insert(h); };
    EXPECT_TRUE(for_each_partial_node(ch.full(), ch.roots[b], path_range(region), add));
    for (const auto& [account, storage] : present_owners(ch, b, region)) {
        EXPECT_TRUE(for_each_partial_node(ch.full(), storage, path_range(storage_region(region, account)), add));
    }
    return out;
}

// The nodes of a store's partial tries at one of its kept roots, read from the store itself.
std::set<Hash> held(const EpochStore& store, const Hash& root) {
    std::set<Hash> out;
    auto add = [&](ByteView, const Hash& h, ByteView) { out.insert(h); };
    EXPECT_TRUE(for_each_partial_node(store, root, path_range(store.region()), add));
    for (const auto& [account, storage] : store.owners(root)) {
        EXPECT_TRUE(for_each_partial_node(store, storage, path_range(storage_region(store.region(), account)), add));
    }
    return out;
}

// The eight regions of all_regions(253), then the 64 of all_regions(250): under the sanitizers (CAROUSEL_SANITIZED,
// about 10x slower) every eighth of the latter, which keeps both sizes and every code path.
#ifdef CAROUSEL_SANITIZED
constexpr std::size_t kSmallRegionStride = 8;
#else
constexpr std::size_t kSmallRegionStride = 1;
#endif
std::vector<Region> test_regions() {
    std::vector<Region> regions = all_regions(253);
    const std::vector<Region> small = all_regions(250);
    for (std::size_t i = 0; i < small.size(); i += kSmallRegionStride) regions.push_back(small[i]);
    return regions;
}

std::vector<EpochStore> seeded_stores(const std::vector<Region>& regions) {
    std::vector<EpochStore> stores;
    for (const Region& r : regions) {
        stores.emplace_back(r, kEpoch);
        EXPECT_TRUE(stores.back().seed(chain().full(), 0, chain().roots[0]));
    }
    return stores;
}

std::vector<RegionItem> items_for(uint64_t b, std::span<const Region> regions) {
    const Chain& ch = chain();
    auto items = build_region_items(ch.full(), b, ch.roots[b - 1], ch.roots[b], ch.diffs[b], regions);
    EXPECT_TRUE(items.has_value());
    return *items;
}

TEST(EpochStoreChain, FollowsTheChainThroughBoundaries) {
    const Chain& ch = chain();
    const auto regions = test_regions();
    auto stores = seeded_stores(regions);
    for (std::size_t i = 0; i < regions.size(); ++i) {
        EXPECT_EQ(held(stores[i], ch.roots[0]), truth(ch, 0, regions[i]));
        EXPECT_EQ(stores[i].owners(ch.roots[0]), present_owners(ch, 0, regions[i]));
    }
    std::size_t item_bytes[2] = {0, 0};
    std::size_t item_node_bytes[2] = {0, 0};
    std::size_t item_account_bytes[2] = {0, 0};
    std::size_t owner_proof_bytes = 0;
    std::size_t owners = 0;
    double bridge_seconds = 0;
    double apply_seconds = 0;
    double boundary_seconds = 0;
    double oracle_seconds = 0;
    using Clock = std::chrono::steady_clock;
    auto since = [](Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); };
    for (uint64_t b = 1; b <= kBlocks; ++b) {
        const auto t_bridge = Clock::now();
        const auto items = items_for(b, regions);
        bridge_seconds += since(t_bridge);
        ASSERT_EQ(items.size(), regions.size());
        owners += items[0].owners.size();
        for (const Bytes& n : items[0].owner_proof) owner_proof_bytes += n.size();
        for (std::size_t i = 0; i < regions.size(); ++i) {
            // The item survives the wire.
            const Bytes enc = encode_region_item(items[i]);
            auto dec = decode_region_item(enc);
            ASSERT_TRUE(dec.has_value()) << to_string(dec.error());
            item_bytes[i < 8 ? 0 : 1] += enc.size();
            item_node_bytes[i < 8 ? 0 : 1] += node_bytes(items[i]);
            for (const Bytes& n : items[i].account_nodes) item_account_bytes[i < 8 ? 0 : 1] += n.size();
            const auto t_apply = Clock::now();
            auto applied = stores[i].apply(*dec, ch.roots[b]);
            (b % kEpoch == 0 ? boundary_seconds : apply_seconds) += since(t_apply);
            const auto t_oracle = Clock::now();
            ASSERT_TRUE(applied.has_value()) << "block " << b << " region " << i << ": " << to_string(applied.error());
            EXPECT_EQ(stores[i].head_number(), b);
            EXPECT_EQ(stores[i].head_root(), ch.roots[b]);
            // Every region at every boundary; between boundaries all of all_regions(253) and a rotating eighth of
            // all_regions(250) (the walks of the oracle dominate the test's time).
            if (i < 8 || b % kEpoch == 0 || i % 8 == b % 8) {
                EXPECT_EQ(held(stores[i], ch.roots[b]), truth(ch, b, regions[i])) << "block " << b << " region " << i;
            }
            if (i < 8 || b % kEpoch == 0 || i % 8 == b % 8) {
                EXPECT_EQ(stores[i].owners(ch.roots[b]), present_owners(ch, b, regions[i]));
            }
            if (b % kEpoch == 0) {
                EXPECT_EQ(stores[i].epoch_number(), b);
                EXPECT_EQ(stores[i].epoch_root(), ch.roots[b]);
                EXPECT_EQ(stores[i].previous_epoch_number(), b - kEpoch);
                EXPECT_EQ(stores[i].previous_epoch_root(), ch.roots[b - kEpoch]);
                // GC left exactly the nodes of the three kept versions (head == epoch here) and of the
                // head just before the boundary (a follower's diff to the boundary starts there).
                std::set<Hash> live = truth(ch, b, regions[i]);
                for (const Hash& h : truth(ch, b - kEpoch, regions[i])) live.insert(h);
                for (const Hash& h : truth(ch, b - 1, regions[i])) live.insert(h);
                EXPECT_EQ(stores[i].node_count(), live.size());
                std::size_t bytes = 0;
                for (const Hash& h : live) {
                    auto n = stores[i].get_node(h);
                    ASSERT_TRUE(n.has_value());
                    bytes += n->size();
                }
                EXPECT_EQ(stores[i].byte_size(), bytes);
            } else {
                EXPECT_EQ(stores[i].epoch_number(), b - b % kEpoch);
                EXPECT_EQ(stores[i].epoch_root(), ch.roots[b - b % kEpoch]);
            }
            oracle_seconds += since(t_oracle);
        }
    }
    const std::size_t boundaries = kBlocks / kEpoch;
    std::cout << "time: bridge " << 1e3 * bridge_seconds / kBlocks << " ms per block (" << regions.size()
              << " items); apply " << 1e6 * apply_seconds / ((kBlocks - boundaries) * regions.size())
              << " us per item, " << 1e6 * boundary_seconds / (boundaries * regions.size())
              << " us per item at a boundary (with mark and sweep); oracle " << oracle_seconds << " s\n";
    // Figures for the report.
    std::size_t nodes[2] = {0, 0};
    std::size_t bytes[2] = {0, 0};
    for (std::size_t i = 0; i < stores.size(); ++i) {
        nodes[i < 8 ? 0 : 1] += stores[i].node_count();
        bytes[i < 8 ? 0 : 1] += stores[i].byte_size();
    }
    std::size_t storage_tries = ch.storage[kBlocks].size();
    std::cout << "chain: 3000 accounts, " << storage_tries << " storage tries, " << kBlocks << " blocks, "
              << owners / kBlocks << " owners per block, owner proof " << owner_proof_bytes / kBlocks
              << " B per block (in every item)\n";
    for (int t = 0; t < 2; ++t) {
        const std::size_t n_regions = t == 0 ? 8 : regions.size() - 8;
        std::cout << (t == 0 ? "all_regions(253), " : "all_regions(250), ") << n_regions << " regions: item "
                  << item_bytes[t] / (kBlocks * n_regions) << " B per region per block (nodes "
                  << item_node_bytes[t] / (kBlocks * n_regions) << " B, of which account nodes "
                  << item_account_bytes[t] / (kBlocks * n_regions) << " B); store at head " << kBlocks << ": "
                  << nodes[t] / n_regions << " nodes, " << bytes[t] / n_regions << " B per store\n";
    }
}

// A store at head `head` for regions()[index] and the item for the next block.
struct StoreAndItem {
    EpochStore store;
    RegionItem next;
};

StoreAndItem setup_at(uint64_t head, std::size_t index) {
    const Chain& ch = chain();
    const auto regions = test_regions();
    EpochStore store{regions[index], kEpoch};
    EXPECT_TRUE(store.seed(ch.full(), head, ch.roots[head]));
    const Region one[] = {regions[index]};
    return {std::move(store), items_for(head + 1, one)[0]};
}

struct Snapshot {
    uint64_t number;
    Hash root;
    std::size_t nodes;
    std::size_t bytes;
    std::vector<std::pair<Hash, Hash>> owners;
    friend bool operator==(const Snapshot&, const Snapshot&) = default;
};
Snapshot snapshot(const EpochStore& s) {
    return {s.head_number(), s.head_root(), s.node_count(), s.byte_size(), s.owners(s.head_root())};
}

// Issue 17, cause 2: a store keeps only the storage tries with a leaf in its region. One with none
// costs it nothing — not its root, not an owner entry — and a trie moves in and out of a store as
// slots land in its block or leave it, with the store exact at every block.
TEST(EpochStoreChain, StoresKeepOnlyTheStorageTriesPresentInTheirRegion) {
    const Chain& ch = chain();
    std::vector<Region> regions;
    for (std::size_t i = 0; i < 64; i += 8) regions.push_back(all_regions(250)[i]);
    auto stores = seeded_stores(regions);
    std::size_t absent = 0;
    for (std::size_t i = 0; i < regions.size(); ++i) {
        const auto present = present_owners(ch, 0, regions[i]);
        for (const auto& [account, storage] : ch.storage[0]) {
            if (std::find(present.begin(), present.end(), std::make_pair(account, storage)) != present.end()) continue;
            ++absent;
            EXPECT_EQ(stores[i].storage_root(account, ch.roots[0]), trie::kEmptyRoot);
            EXPECT_FALSE(stores[i].get_node(storage).has_value());
        }
    }
    // Most of the 287 storage tries have no slot in a 1/64 region.
    EXPECT_GT(absent, regions.size() * ch.storage[0].size() / 2);
    std::size_t arrived = 0;
    std::size_t left = 0;
    for (uint64_t b = 1; b <= 2 * kEpoch; ++b) {
        const auto items = items_for(b, regions);
        for (std::size_t i = 0; i < regions.size(); ++i) {
            const auto before = present_owners(ch, b - 1, regions[i]);
            ASSERT_TRUE(stores[i].apply(items[i], ch.roots[b])) << "block " << b << " region " << i;
            const auto after = present_owners(ch, b, regions[i]);
            EXPECT_EQ(stores[i].owners(ch.roots[b]), after);
            EXPECT_EQ(held(stores[i], ch.roots[b]), truth(ch, b, regions[i]));
            const auto has = [](const auto& list, const Hash& account) {
                return std::any_of(list.begin(), list.end(), [&](const auto& o) { return o.first == account; });
            };
            for (const auto& o : after) arrived += has(before, o.first) ? 0u : 1u;
            for (const auto& o : before) left += has(after, o.first) ? 0u : 1u;
        }
    }
    // The chain moves tries in and out of these regions (new contracts, first slots in a block,
    // last slots cleared): both directions happen.
    EXPECT_GT(arrived, 0u);
    EXPECT_GT(left, 0u);
    std::cout << "2 epochs over 8 regions of 1/64: " << arrived << " storage tries arrived in a region, " << left
              << " left one; " << absent << " (region, trie) pairs absent at genesis of "
              << regions.size() * ch.storage[0].size() << "\n";
}

// Issue 17 at its smallest: 40 accounts over the 64 regions of all_regions(250), so most regions hold no
// account at all, some hold one, and accounts are created and deleted (a region's only account
// deleted empties it). Every store follows 3 epochs of items and holds exactly its partial tries.
TEST(EpochStoreChain, EmptyAndSingleAccountRegionsStayExact) {
    state::GeneratorConfig cfg;
    cfg.seed = 1717;
    cfg.accounts = 40;
    cfg.contract_share = 0.3;
    cfg.max_contract_slots = 40;
    cfg.accounts_per_block = 6;
    cfg.slots_per_block = 8;
    cfg.create_share = 0.3;
    cfg.delete_share = 0.3;
    constexpr uint64_t kSmallBlocks = 3 * kEpoch;
    const Chain ch = generate(cfg, kSmallBlocks);
    const std::vector<Region> regions = all_regions(250);
    const auto accounts_in = [&](uint64_t b, const Region& r) {
        auto leaves = leaves_in(ch.full(), ch.roots[b], path_range(r));
        EXPECT_TRUE(leaves.has_value());
        return leaves ? leaves->size() : 0;
    };
    std::vector<EpochStore> stores;
    for (const Region& r : regions) {
        stores.emplace_back(r, kEpoch);
        ASSERT_TRUE(stores.back().seed(ch.full(), 0, ch.roots[0]));
    }
    std::size_t empty = 0;
    std::size_t emptied = 0;  // a region whose accounts all went in one block
    for (uint64_t b = 1; b <= kSmallBlocks; ++b) {
        auto items = build_region_items(ch.full(), b, ch.roots[b - 1], ch.roots[b], ch.diffs[b], regions);
        ASSERT_TRUE(items.has_value());
        for (std::size_t i = 0; i < regions.size(); ++i) {
            ASSERT_TRUE(stores[i].apply((*items)[i], ch.roots[b])) << "block " << b << " region " << i;
            EXPECT_EQ(held(stores[i], ch.roots[b]), truth(ch, b, regions[i])) << "block " << b << " region " << i;
            EXPECT_EQ(stores[i].owners(ch.roots[b]), present_owners(ch, b, regions[i]));
            const std::size_t now = accounts_in(b, regions[i]);
            empty += now == 0 ? 1u : 0u;
            emptied += now == 0 && accounts_in(b - 1, regions[i]) > 0 ? 1u : 0u;
        }
    }
    EXPECT_GT(empty, 0u);
    EXPECT_GT(emptied, 0u);
    std::cout << "40 accounts over 64 regions, " << kSmallBlocks << " blocks: " << empty
              << " (region, block) pairs with no account, " << emptied << " regions emptied by a block\n";
}

TEST(EpochStoreChain, MutatedItemsAreRejectedAndChangeNothing) {
    const Chain& ch = chain();
    std::size_t checked = 0;
    for (uint64_t head : {3u, 7u, 20u}) {
        // Two regions of all_regions(253), all_regions(250)'s first and its 33rd (index 40 without the sanitizers).
        for (std::size_t index : {std::size_t{0}, std::size_t{5}, std::size_t{8}, 8 + 32 / kSmallRegionStride}) {
            StoreAndItem s = setup_at(head, index);
            const Hash trusted = ch.roots[head + 1];
            const Snapshot before = snapshot(s.store);
            auto rejected = [&](const RegionItem& bad, const Hash& root, const char* what) {
                auto r = s.store.apply(bad, root);
                EXPECT_FALSE(r.has_value()) << what;
                EXPECT_EQ(snapshot(s.store), before) << what;
                ++checked;
                return r ? GossipError{} : r.error();
            };
            // Every node of every list: a flipped byte, and the node dropped.
            auto each_list =
                [&](const std::function<void(std::vector<Bytes> & (*)(RegionItem&, std::size_t), std::size_t)>& f) {
                    f([](RegionItem& it, std::size_t) -> std::vector<Bytes>& { return it.account_nodes; }, 0);
                    f([](RegionItem& it, std::size_t) -> std::vector<Bytes>& { return it.owner_proof; }, 0);
                    for (std::size_t o = 0; o < s.next.owners.size(); ++o) {
                        f([](RegionItem& it, std::size_t k) -> std::vector<Bytes>& { return it.storage_nodes[k]; }, o);
                    }
                };
            each_list([&](std::vector<Bytes>& (*list)(RegionItem&, std::size_t), std::size_t k) {
                RegionItem probe = s.next;
                for (std::size_t n = 0; n < list(probe, k).size(); ++n) {
                    RegionItem flipped = s.next;
                    Bytes& node = list(flipped, k)[n];
                    node[node.size() / 2] ^= 0x01;
                    (void)rejected(flipped, trusted, "flipped byte");
                    RegionItem dropped = s.next;
                    list(dropped, k).erase(list(dropped, k).begin() + static_cast<std::ptrdiff_t>(n));
                    (void)rejected(dropped, trusted, "dropped node");
                }
            });
            // A node sent twice; a node nobody needs.
            if (!s.next.account_nodes.empty()) {
                RegionItem twice = s.next;
                twice.account_nodes.push_back(twice.account_nodes[0]);
                EXPECT_EQ(rejected(twice, trusted, "duplicate"), GossipError::kDuplicateNode);
            }
            {
                RegionItem padded = s.next;
                auto other = items_for(head + 2, std::vector<Region>{s.store.region()})[0];
                bool added = false;
                for (const Bytes& n : other.account_nodes) {
                    if (std::find(padded.account_nodes.begin(), padded.account_nodes.end(), n) ==
                        padded.account_nodes.end()) {
                        padded.account_nodes.push_back(n);
                        added = true;
                        break;
                    }
                }
                if (added) {
                    EXPECT_EQ(rejected(padded, trusted, "padding"), GossipError::kUnusedNode);
                }
                // Another block's owner proof.
                if (other.owner_proof != s.next.owner_proof) {
                    RegionItem wrong_proof = s.next;
                    wrong_proof.owner_proof = other.owner_proof;
                    EXPECT_EQ(rejected(wrong_proof, trusted, "owner proof"), GossipError::kBadOwnerProof);
                }
            }
            // Roots, block, region.
            EXPECT_EQ(rejected(s.next, ch.roots[head], "untrusted root"), GossipError::kRootMismatch);
            {
                RegionItem lying = s.next;
                lying.state_root = ch.roots[head + 2];
                EXPECT_FALSE(s.store.apply(lying, ch.roots[head + 2]).has_value());
                EXPECT_EQ(snapshot(s.store), before);
            }
            {
                RegionItem late = s.next;
                late.block_number += 1;
                EXPECT_EQ(rejected(late, trusted, "block"), GossipError::kWrongBlock);
                RegionItem elsewhere = s.next;
                elsewhere.region = test_regions()[index + 1];
                EXPECT_EQ(rejected(elsewhere, trusted, "region"), GossipError::kWrongRegion);
            }
            // An owner left out (with its node list): the proof no longer matches the keys.
            if (!s.next.owners.empty()) {
                RegionItem fewer = s.next;
                fewer.owners.erase(fewer.owners.begin());
                fewer.storage_nodes.erase(fewer.storage_nodes.begin());
                (void)rejected(fewer, trusted, "owner left out");
                RegionItem unsorted = s.next;
                if (unsorted.owners.size() >= 2) {
                    std::swap(unsorted.owners[0], unsorted.owners[1]);
                    EXPECT_EQ(rejected(unsorted, trusted, "owners order"), GossipError::kOwnersNotIncreasing);
                }
            }
            // And the honest item still applies.
            auto ok = s.store.apply(s.next, trusted);
            EXPECT_TRUE(ok.has_value()) << to_string(ok.error());
            EXPECT_EQ(s.store.head_root(), trusted);
        }
    }
    EXPECT_GT(checked, 100u);
}

TEST(EpochStoreChain, MissingOwnerInsideTheRegionIsCaught) {
    // The bridge re-proves a smaller owner set: consistent proof, but an account inside the region
    // whose storage root changed is not listed.
    const Chain& ch = chain();
    const auto regions = test_regions();
    std::size_t caught = 0;
    for (uint64_t b = 1; b <= kBlocks && caught < 3; ++b) {
        for (std::size_t index = 0; index < 8; ++index) {
            const Region one[] = {regions[index]};
            RegionItem item = items_for(b, one)[0];
            for (std::size_t o = 0; o < item.owners.size(); ++o) {
                if (!contains(regions[index], item.owners[o])) continue;
                EpochStore store{regions[index], kEpoch};
                ASSERT_TRUE(store.seed(ch.full(), b - 1, ch.roots[b - 1]));
                RegionItem bad = item;
                bad.owners.erase(bad.owners.begin() + static_cast<std::ptrdiff_t>(o));
                bad.storage_nodes.erase(bad.storage_nodes.begin() + static_cast<std::ptrdiff_t>(o));
                std::vector<Bytes> keys;
                for (const Hash& h : bad.owners) keys.emplace_back(view(h));
                ReadOnlyNodes ro{ch.full()};
                trie::Trie t{&ro, ch.roots[b]};
                bad.owner_proof = *t.prove(keys);
                auto r = store.apply(bad, ch.roots[b]);
                ASSERT_FALSE(r.has_value());
                EXPECT_EQ(r.error(), GossipError::kMissingOwner);
                ++caught;
                break;
            }
        }
    }
    EXPECT_GT(caught, 0u);
}

std::size_t mutations_checked = 0;
std::size_t mutations_skipped = 0;

// Applies a diff answer to the leaves at `from`.
Leaves apply_answer(const Leaves& from, const DiffAnswer& a) {
    std::map<Hash, Bytes> m{from.begin(), from.end()};
    for (std::size_t i = 0; i < a.keys.size(); ++i) {
        if (a.values[i].empty()) {
            m.erase(a.keys[i]);
        } else {
            m[a.keys[i]] = a.values[i];
        }
    }
    return {m.begin(), m.end()};
}

bool verifies(const Hash& root, const trie::PathRange& range, const Leaves& leaves, const DiffAnswer& a) {
    std::vector<Bytes> keys;
    std::vector<Bytes> values;
    for (const auto& [k, v] : leaves) {
        keys.emplace_back(view(k));
        values.push_back(v);
    }
    return trie::verify_bounded_range_proof(root, trie::range_min_key(range), trie::range_max_key(range), keys, values,
                                            a.proof)
        .has_value();
}

void check_diff(const EpochStore& store, const trie::NodeStore& full, const Hash& from, const Hash& to,
                const trie::PathRange& range, std::size_t& with_changes) {
    auto a = store.diff(from, to, range);
    ASSERT_TRUE(a.has_value()) << to_string(a.error());
    ASSERT_EQ(a->keys.size(), a->values.size());
    auto from_leaves = leaves_in(store, from, range);  // what the client holds, verified before
    ASSERT_TRUE(from_leaves.has_value());
    const Leaves got = apply_answer(*from_leaves, *a);
    EXPECT_EQ(got, *leaves_in(full, to, range));
    if (to == trie::kEmptyRoot) return;
    EXPECT_TRUE(verifies(to, range, got, *a));
    // trie::verify_bounded_range_proof crashes (instead of failing) when a claimed key lies below a
    // leaf on an edge path whose own key is outside the range (see
    // DISABLED_RangeVerifierSurvivesAFakeKeyInAnEmptyRange): mutate only answers whose edge paths
    // end in branches, until trie/ rejects that case.
    for (const Bytes& n : a->proof) {
        if (trie::decode_node(n)->kind == trie::NodeKind::kLeaf) {
            ++mutations_skipped;
            return;
        }
    }
    ++mutations_checked;
    if (!a->keys.empty()) {
        ++with_changes;
        for (std::size_t drop = 0; drop < a->keys.size(); ++drop) {  // a change left out
            DiffAnswer fewer = *a;
            fewer.keys.erase(fewer.keys.begin() + static_cast<std::ptrdiff_t>(drop));
            fewer.values.erase(fewer.values.begin() + static_cast<std::ptrdiff_t>(drop));
            EXPECT_FALSE(verifies(to, range, apply_answer(*from_leaves, fewer), fewer));
        }
    }
    // A change added: a key of the range given a value it does not have. (A key that is not in the
    // trie at all is the case trie::verify_bounded_range_proof crashes on today; see
    // DISABLED_RangeVerifierSurvivesAFakeKeyInAnEmptyRange.)
    if (!got.empty()) {
        DiffAnswer more = *a;
        more.keys.push_back(got.front().first);
        more.values.push_back(Bytes{0x2a});
        EXPECT_FALSE(verifies(to, range, apply_answer(*from_leaves, more), more));
    }
}

TEST(EpochStoreChain, DiffAnswersVerifyAndMutationsFail) {
    const Chain& ch = chain();
    const auto regions = test_regions();
    auto stores = seeded_stores(regions);
    for (uint64_t b = 1; b <= kBlocks; ++b) {
        const auto items = items_for(b, regions);
        for (std::size_t i = 0; i < regions.size(); ++i) ASSERT_TRUE(stores[i].apply(items[i], ch.roots[b]));
    }
    std::size_t with_changes = 0;
    std::size_t storage_checked = 0;
    for (std::size_t i = 0; i < stores.size(); i += 5) {
        const EpochStore& s = stores[i];
        const trie::PathRange whole = path_range(s.region());
        // The account trie: previous -> epoch, epoch -> head, previous -> head, and sub-ranges.
        const Hash prev = *s.previous_epoch_root();
        for (const auto& [from, to] : {std::pair{prev, s.epoch_root()}, std::pair{s.epoch_root(), s.head_root()},
                                       std::pair{prev, s.head_root()}}) {
            check_diff(s, ch.full(), from, to, whole, with_changes);
            Nibbles sub = whole.from;
            sub.push_back(3);
            check_diff(s, ch.full(), from, to, {sub, sub}, with_changes);
        }
        // A follower's one-block diffs: from every head since the epoch to the next one.
        for (uint64_t b = s.epoch_number(); b < kBlocks; ++b) {
            check_diff(s, ch.full(), ch.roots[b], ch.roots[b + 1], whole, with_changes);
            // Storage tries present in the region at both blocks (a store keeps no other).
            for (const auto& [account, storage] : ch.storage[b + 1]) {
                const auto before = ch.storage[b].find(account);
                if (before == ch.storage[b].end() || before->second == storage) continue;
                const trie::PathRange range = path_range(storage_region(s.region(), account));
                if (!*has_leaf_in(ch.full(), before->second, range) || !*has_leaf_in(ch.full(), storage, range))
                    continue;
                check_diff(s, ch.full(), before->second, storage, range, with_changes);
                ++storage_checked;
            }
        }
        // Storage tries of accounts whose storage changed between the epoch and the head.
        // (Those present at the head: from the empty root when absent at the epoch.)
        for (const auto& [account, head_storage] : ch.storage[kBlocks]) {
            const Hash from = *s.storage_root(account, s.epoch_root());
            if (from == head_storage || *s.storage_root(account, s.head_root()) != head_storage) continue;
            check_diff(s, ch.full(), from, head_storage, path_range(storage_region(s.region(), account)), with_changes);
            ++storage_checked;
        }
    }
    EXPECT_GT(with_changes, 10u);
    EXPECT_GT(storage_checked, 0u);
    EXPECT_GT(mutations_checked, 20u);
    std::cout << "diff answers mutated: " << mutations_checked << ", skipped (edge leaf): " << mutations_skipped
              << "\n";
    // Unknown roots and ranges not held.
    Hash unknown{};
    unknown[0] = 7;
    EXPECT_EQ(stores[0].diff(unknown, stores[0].head_root(), path_range(stores[0].region())).error(),
              DiffServeError::kUnknownRoot);
    EXPECT_EQ(stores[0].diff(stores[0].epoch_root(), stores[0].head_root(), path_range(stores[1].region())).error(),
              DiffServeError::kNotHeld);
    // A head before the latest boundary but the one just before it is swept: not servable.
    const uint64_t epoch = stores[0].epoch_number();
    EXPECT_EQ(stores[0].diff(ch.roots[epoch - 2], stores[0].head_root(), path_range(stores[0].region())).error(),
              DiffServeError::kUnknownRoot);
}

TEST(EpochStoreChain, TheHeadBeforeABoundaryIsServableUntilTheNextBlock) {
    const Chain& ch = chain();
    const auto regions = test_regions();
    auto stores = seeded_stores(regions);
    EpochStore& s = stores[0];
    std::size_t with_changes = 0;
    for (uint64_t b = 1; b <= 2 * kEpoch + 1; ++b) {
        ASSERT_TRUE(s.apply(items_for(b, regions)[0], ch.roots[b]));
        if (b == 2 * kEpoch)
            check_diff(s, ch.full(), ch.roots[b - 1], ch.roots[b], path_range(s.region()), with_changes);
    }
    // One block later it is gone (its nodes go at the next sweep; the root is no longer offered).
    EXPECT_EQ(s.diff(ch.roots[2 * kEpoch - 1], ch.roots[2 * kEpoch + 1], path_range(s.region())).error(),
              DiffServeError::kUnknownRoot);
}

// A node joining fills at the head it saw; its neighbours move on, and the root must stay servable
// until the next boundary (with 4 kept heads a fill longer than 4 blocks started again and again).
TEST(EpochStoreChain, EveryHeadSinceTheBoundaryIsKeptUntilTheNextBoundary) {
    const Chain& ch = chain();
    const auto regions = test_regions();
    auto stores = seeded_stores(regions);
    EpochStore& s = stores[0];
    for (uint64_t b = 1; b < kEpoch; ++b) ASSERT_TRUE(s.apply(items_for(b, regions)[0], ch.roots[b]));
    for (uint64_t b = 0; b < kEpoch; ++b) EXPECT_TRUE(s.keeps(ch.roots[b])) << "root of block " << b;
    ASSERT_TRUE(s.apply(items_for(kEpoch, regions)[0], ch.roots[kEpoch]));
    EXPECT_TRUE(s.keeps(ch.roots[kEpoch]));
    EXPECT_TRUE(s.keeps(ch.roots[0]));  // the previous boundary
    for (uint64_t b = 1; b + 1 < kEpoch; ++b) EXPECT_FALSE(s.keeps(ch.roots[b])) << "root of block " << b;
}

TEST(EpochStoreChain, ChunkServerServesTheRegionFromTheStore) {
    const Chain& ch = chain();
    const auto regions = test_regions();
    auto stores = seeded_stores(regions);
    for (uint64_t b = 1; b <= 10; ++b) {
        const auto items = items_for(b, regions);
        for (std::size_t i = 0; i < regions.size(); ++i) ASSERT_TRUE(stores[i].apply(items[i], ch.roots[b]));
    }
    std::size_t leaf_mode_gaps = 0;
    for (std::size_t i = 0; i < stores.size(); ++i) {
        const EpochStore& s = stores[i];
        prefix::ChunkServer server{s, nullptr, [&] { return s.head_root(); }};
        const trie::PathRange range = path_range(s.region());
        for (const Hash& root : {s.epoch_root(), s.head_root(), *s.previous_epoch_root()}) {
            // Full mode: the stem and the whole sub-trie of the region, exactly the partial trie.
            proto::GetChunks full;
            full.root = root;
            full.prefixes = {range.from, range.to};
            full.is_range = true;
            full.max_size = 64 << 20;
            auto answer = server.serve(full);
            ASSERT_EQ(answer.entries.size(), 1u);
            ASSERT_FALSE(answer.entries[0].error.has_value());
            std::set<Hash> sent;
            for (const Bytes& n : answer.entries[0].nodes) sent.insert(keccak256(n));
            std::set<Hash> partial;
            ASSERT_TRUE(
                for_each_partial_node(s, root, range, [&](ByteView, const Hash& h, ByteView) { partial.insert(h); }));
            EXPECT_EQ(sent, partial);

            // Leaf mode.
            proto::GetChunks leaves = full;
            leaves.flags = proto::kFlagLeaves;
            auto la = server.serve(leaves);
            ASSERT_EQ(la.entries.size(), 1u);
            const proto::ChunkEntry& e = la.entries[0];
            // Known gap in prefix::ChunkServer's leaf mode: it walks with trie::Trie::for_each_from,
            // which reads the sibling subtrees on both sides of the range before deciding to skip them
            // (Walk::run resolves a node before its skip test, and stops only at the first leaf past
            // the range), so a store holding only its region answers 0x1. Until prefix/ walks leaves by
            // position, check here that what leaf mode should send — leaves_in() and range_proof()
            // from this very store — verifies.
            {
                auto own = leaves_in(s, root, range);
                auto proof = range_proof(s, root, range);
                ASSERT_TRUE(own.has_value());
                ASSERT_TRUE(proof.has_value());
                std::vector<Bytes> keys;
                std::vector<Bytes> values;
                for (const auto& [k, v] : *own) {
                    keys.emplace_back(view(k));
                    values.push_back(v);
                }
                EXPECT_TRUE(trie::verify_bounded_range_proof(root, trie::range_min_key(range),
                                                             trie::range_max_key(range), keys, values, *proof)
                                .has_value());
                EXPECT_EQ(*own, *leaves_in(ch.full(), root, range));
            }
            if (e.error) {
                EXPECT_EQ(*e.error, proto::ChunkError::kNoChunk);
                ++leaf_mode_gaps;
                continue;
            }
            ASSERT_FALSE(e.stop_path.has_value());
            std::vector<Bytes> keys;
            for (const Hash& k : e.keys) keys.emplace_back(view(k));
            EXPECT_TRUE(trie::verify_bounded_range_proof(root, trie::range_min_key(range), trie::range_max_key(range),
                                                         keys, e.values, e.proof)
                            .has_value());
            EXPECT_EQ(e.keys.size(), leaves_in(s, root, range)->size());
        }
        // Outside the region: no chunk (0x1).
        const Region other = regions[i < 8 ? (i + 1) % 8 : 8 + (i - 7) % (regions.size() - 8)];
        if (contains(s.region(), other) || contains(other, s.region())) continue;
        proto::GetChunks outside;
        outside.root = s.head_root();
        outside.prefixes = {path_range(other).from, path_range(other).to};
        outside.is_range = true;
        outside.max_size = 1 << 20;
        for (uint64_t flags : {uint64_t{0}, proto::kFlagLeaves}) {
            outside.flags = flags;
            auto a = server.serve(outside);
            ASSERT_EQ(a.entries.size(), 1u);
            ASSERT_TRUE(a.entries[0].error.has_value());
            EXPECT_EQ(*a.entries[0].error, proto::ChunkError::kNoChunk);
        }
    }
    std::cout << "ChunkServer leaf mode answered 0x1 inside the region for " << leaf_mode_gaps << " of "
              << 3 * stores.size() << " (store, root) pairs\n";
}

// Regions followed on stores whose nodes are in a KV (KvEpochNodes, several regions sharing one
// MemoryKV as a node's regions share its database) hold exactly what in-memory stores hold, at
// every block; a new holder over the KV finds a region's nodes again (what a restarted node reopens).
TEST(EpochStoreChain, StoresOnAKvHoldWhatStoresInMemoryHold) {
    const Chain& ch = chain();
    const std::vector<Region> regions = {all_regions(253)[0], all_regions(253)[5], all_regions(250)[9]};
    store::MemoryKV kv;
    std::vector<EpochStore> memory;
    std::vector<EpochStore> on_kv;
    for (const Region& r : regions) {
        memory.emplace_back(r, kEpoch);
        on_kv.emplace_back(r, kEpoch, std::make_unique<KvEpochNodes>(kv, r));
        ASSERT_TRUE(memory.back().seed(ch.full(), 0, ch.roots[0]));
        ASSERT_TRUE(on_kv.back().seed(ch.full(), 0, ch.roots[0]));
    }
    for (uint64_t b = 1; b < ch.roots.size(); ++b) {
        const auto items = items_for(b, regions);
        for (std::size_t i = 0; i < regions.size(); ++i) {
            ASSERT_TRUE(memory[i].apply(items[i], ch.roots[b]));
            ASSERT_TRUE(on_kv[i].apply(items[i], ch.roots[b]));
            ASSERT_TRUE(on_kv[i].store_status().ok());
            EXPECT_EQ(on_kv[i].node_count(), memory[i].node_count()) << "block " << b;
            EXPECT_EQ(on_kv[i].byte_size(), memory[i].byte_size()) << "block " << b;
            if (b % kEpoch == 0 || b + 1 == ch.roots.size()) {
                EXPECT_EQ(held(on_kv[i], ch.roots[b]), held(memory[i], ch.roots[b])) << "block " << b;
            }
        }
    }
    const KvEpochNodes reopened{kv, regions[0]};
    EXPECT_EQ(reopened.size(), memory[0].node_count());
}

// A KV that fails: a failed read is an error, not an absent node; a failed write is kept in
// store_status() and the node is not counted.
TEST(EpochStore, NodesOnAFailingKvReportTheFailure) {
    const Chain& ch = chain();
    const Region region = all_regions(253)[2];
    store::MemoryKV inner;
    carousel::testing::FaultKV kv{inner};
    EpochStore store{region, kEpoch, std::make_unique<KvEpochNodes>(kv, region)};
    ASSERT_TRUE(store.seed(ch.full(), 0, ch.roots[0]));
    ASSERT_TRUE(store.store_status().ok());
    ASSERT_TRUE(store.find_node(ch.roots[0]).has_value());
    kv.fail_all(true);
    const auto read = store.find_node(ch.roots[0]);
    ASSERT_FALSE(read.has_value());
    EXPECT_NE(read.error().to_string().find("injected fault"), std::string::npos);
    kv.fail_all(false);
    const uint64_t faults = kv.injected();
    kv.fail_nth(carousel::testing::FaultKV::Op::kWrite, 1);
    const auto items = items_for(1, std::span<const Region>{&region, 1});
    (void)store.apply(items[0], ch.roots[1]);
    EXPECT_EQ(kv.injected(), faults + 1);
    EXPECT_FALSE(store.store_status().ok());
}

TEST(EpochStore, AdoptInstallsOnlyCompletePartialTries) {
    const Chain& ch = chain();
    const Region region = all_regions(250)[9];
    // What a joining node fetched from its peers: the partial tries at block 12.
    std::vector<Bytes> account_nodes;
    ASSERT_TRUE(for_each_partial_node(ch.full(), ch.roots[12], path_range(region),
                                      [&](ByteView, const Hash&, ByteView rlp) { account_nodes.emplace_back(rlp); }));
    // The owners present in the region: a store keeps no other storage trie.
    const std::vector<std::pair<Hash, Hash>> owners = present_owners(ch, 12, region);
    ASSERT_LT(owners.size(), ch.storage[12].size());  // some storage tries have no slot in a 1/64 region
    std::vector<Bytes> storage_nodes;
    std::set<Hash> seen;
    for (const auto& [account, storage] : owners) {
        ASSERT_TRUE(for_each_partial_node(ch.full(), storage, path_range(storage_region(region, account)),
                                          [&](ByteView, const Hash& h, ByteView rlp) {
                                              if (seen.insert(h).second) storage_nodes.emplace_back(rlp);
                                          }));
    }
    EpochStore reference{region, kEpoch};
    ASSERT_TRUE(reference.seed(ch.full(), 12, ch.roots[12]));

    EpochStore store{region, kEpoch};
    // Incomplete: a storage node missing, an account node missing.
    auto fewer_storage = storage_nodes;
    fewer_storage.pop_back();
    EXPECT_EQ(store.adopt(12, ch.roots[12], account_nodes, owners, fewer_storage).error(), GossipError::kIncomplete);
    auto fewer_accounts = account_nodes;
    fewer_accounts.erase(fewer_accounts.begin() + 1);
    EXPECT_EQ(store.adopt(12, ch.roots[12], fewer_accounts, owners, storage_nodes).error(), GossipError::kIncomplete);
    EXPECT_FALSE(store.seeded());
    EXPECT_EQ(store.node_count(), 0u);
    // An owner inside the region with the wrong storage root.
    for (std::size_t o = 0; o < owners.size(); ++o) {
        if (!contains(region, owners[o].first)) continue;
        auto wrong = owners;
        wrong[o].second = owners[o == 0 ? 1 : 0].second;
        if (wrong == owners) continue;
        EXPECT_FALSE(store.adopt(12, ch.roots[12], account_nodes, wrong, storage_nodes).has_value());
        break;
    }
    // An owner listed as present that has no leaf in the region (its stem given, so it resolves).
    for (const auto& [account, storage] : ch.storage[12]) {
        if (std::find(owners.begin(), owners.end(), std::make_pair(account, storage)) != owners.end()) continue;
        auto listed = owners;
        listed.emplace(std::lower_bound(listed.begin(), listed.end(), std::make_pair(account, storage)), account,
                       storage);
        auto with_stem = storage_nodes;
        ASSERT_TRUE(for_each_partial_node(ch.full(), storage, path_range(storage_region(region, account)),
                                          [&](ByteView, const Hash& h, ByteView rlp) {
                                              if (!seen.contains(h)) with_stem.emplace_back(rlp);
                                          }));
        EXPECT_EQ(store.adopt(12, ch.roots[12], account_nodes, listed, with_stem).error(), GossipError::kNotPresent);
        break;
    }
    // Complete, with an unneeded node: adopted, the extra node dropped; then it follows the chain.
    auto padded = storage_nodes;
    padded.push_back(account_nodes.front());  // needed elsewhere, harmless
    Bytes extra = *ch.full().get_node(ch.roots[30]);
    padded.push_back(extra);
    ASSERT_TRUE(store.adopt(12, ch.roots[12], account_nodes, owners, padded));
    EXPECT_EQ(store.node_count(), reference.node_count());
    EXPECT_FALSE(store.get_node(keccak256(extra)).has_value());
    EXPECT_EQ(held(store, ch.roots[12]), truth(ch, 12, region));
    for (uint64_t b = 13; b <= 17; ++b) {
        const Region one[] = {region};
        ASSERT_TRUE(store.apply(items_for(b, one)[0], ch.roots[b]));
    }
    EXPECT_EQ(held(store, ch.roots[17]), truth(ch, 17, region));
    EXPECT_EQ(store.epoch_number(), 16u);
    EXPECT_EQ(store.previous_epoch_number(), 12u);  // the adopted version served until the next boundary
}

constexpr std::string_view kCrashProofNode0 =
    "f90211a08799833982668ac9797f76550aa09579c9dbe5403b7e30b5f2fb92fb04cd0348a0e3d4e5a6d5030f1b0365af3c22"
    "5df7207e67015334ca0365ae809f05a7a7d012a005c5802a2a32e44a15c3fce97bf5fbdd02c2d22e4b59b7be171f3f9730ad"
    "d1e1a061fc283a4f15daab6cc20630a2c2bdf08e731eed1b1887e011b3d08329e58b08a0a73630374ef7a75af5859cb866f9"
    "663e6a817e2cfe19553c70aa82a541a21745a0478b665a71ea41571d1663624da0c0e899d05e59df6714473909d65b0b09c9"
    "98a0b25fa0b829192165702546b24c641a9b6247b1a0723dea8795a7d009d332fdcba011529d6a6884d5eb10d33ce5857342"
    "090524332c9295933f7ed1fa89d9516a57a033130e9986658b60698267b8a579f6fbf6a28f84887d5476edbaa51ea48c50cf"
    "a0e3206564ae453a6264c3b8a97669587b033054c6ab4c2b5d0d5b07f6b9155f7aa0f465b590428eaa33b2d228daa6dd0cd1"
    "b04beba490c13e61697fff87d49383fca0a588bfdfabbb081e0b472b4dc8d9bef2513c416a838739fc25b232af98d0a2e1a0"
    "6b68091ebfb3325cc76e58f25816f080a9bcb782492b3bb1578248c1c5577f50a00040a29b246abb146d538e680bbfd4b1d5"
    "c3d90c2431c4228e2ab249b65770a6a05e2442e5eddceeb6bd090740dec3f2ee5db7a37b92077a20daecee46699b54a8a0f9"
    "bd211ad670b504b32d5a24f2765dfbf018c75bebf745b245156d8bc452fd3780";
constexpr std::string_view kCrashProofNode1 =
    "eda0390decd9548b62a8d60345a988386fc84ba6bc95484008f6362f93160ef3e5638b8a8511529dde076cb4543a";

// Found by DiffAnswersVerifyAndMutationsFail: a range with no leaves (an exclusion proof of two nodes)
// plus one made-up key crashes trie::verify_bounded_range_proof (a segfault in HashBuilder in a
// Release build) instead of failing. Peer input must never crash a verifier: trie/ now rejects it
// (kRootMismatch; trie/proof_test.cpp, RangeProof.RejectsKeysUnderAnEdgeLeafOrExtension).
TEST(EpochStore, RangeVerifierSurvivesAFakeKeyInAnEmptyRange) {
    auto h = [](std::string_view s) { return *from_hex(s); };
    const Hash root = to_hash(h("7abad1a271797be9272e67e51c61815b8fae3768223bacc9cda16c48f93f6815"));
    const Bytes origin = h("2000000000000000000000000000000000000000000000000000000000000000");
    const Bytes limit = h("23ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
    const std::vector<Bytes> keys{h("200000000000000000000000000000000000000000000000000000000000005a")};
    const std::vector<Bytes> values{Bytes{0x2a}};
    const std::vector<Bytes> proof{h(kCrashProofNode0), h(kCrashProofNode1)};
    EXPECT_FALSE(trie::verify_bounded_range_proof(root, origin, limit, keys, values, proof).has_value());
}

TEST(EpochStore, UnseededStoreRefusesItems) {
    EpochStore store{all_regions(253)[0], kEpoch};
    EXPECT_FALSE(store.seeded());
    EXPECT_EQ(store.head_root(), trie::kEmptyRoot);
    const Region one[] = {all_regions(253)[0]};
    EXPECT_EQ(store.apply(items_for(1, one)[0], chain().roots[1]).error(), GossipError::kNotSeeded);
    EXPECT_FALSE(store.storage_root(Hash{}, chain().roots[0]).has_value());
    EXPECT_TRUE(store.owners(chain().roots[0]).empty());
}

// ---- durable stores: reopened after a close, a damage, a kill -9 ----------------------------------------

store::RocksKV::Options small_rocks_options() {
    store::RocksKV::Options options;
    options.block_cache_bytes = 8 << 20;
    options.write_buffer_bytes = 256 << 10;  // frequent flushes and compactions
    return options;
}

std::unique_ptr<store::RocksKV> open_rocks(const std::filesystem::path& dir) {
    std::unique_ptr<store::RocksKV> kv;
    const Status s = store::RocksKV::open(dir, small_rocks_options(), kv);
    EXPECT_TRUE(s.ok()) << s.to_string();
    return kv;
}

// A memory store of `region` seeded at genesis and applied up to block `head`.
std::unique_ptr<EpochStore> memory_store_at(const Region& region, uint64_t head) {
    auto store = std::make_unique<EpochStore>(region, kEpoch);
    EXPECT_TRUE(store->seed(chain().full(), 0, chain().roots[0]));
    for (uint64_t b = 1; b <= head; ++b) {
        const Region one[] = {region};
        EXPECT_TRUE(store->apply(items_for(b, one)[0], chain().roots[b]));
    }
    return store;
}

// What a client sees of a store: the kept versions, their owners, the nodes, and the GetDiff answers
// between every root of the chain up to the head (known or not) and the head, epoch and previous epoch.
void expect_same_store(const EpochStore& got, const EpochStore& want) {
    const Chain& ch = chain();
    ASSERT_EQ(got.seeded(), want.seeded());
    EXPECT_EQ(got.head_number(), want.head_number());
    EXPECT_EQ(got.head_root(), want.head_root());
    EXPECT_EQ(got.epoch_number(), want.epoch_number());
    EXPECT_EQ(got.epoch_root(), want.epoch_root());
    EXPECT_EQ(got.previous_epoch_number(), want.previous_epoch_number());
    EXPECT_EQ(got.previous_epoch_root(), want.previous_epoch_root());
    EXPECT_EQ(got.node_count(), want.node_count());
    EXPECT_EQ(got.byte_size(), want.byte_size());
    const uint64_t head = want.head_number();
    std::vector<Hash> targets{want.head_root(), want.epoch_root()};
    if (want.previous_epoch_root()) targets.push_back(*want.previous_epoch_root());
    for (uint64_t b = 0; b <= head; ++b) {
        const Hash& root = ch.roots[b];
        ASSERT_EQ(got.keeps(root), want.keeps(root)) << "root of block " << b;
        if (want.keeps(root)) {
            EXPECT_EQ(got.owners(root), want.owners(root)) << "block " << b;
        }
        for (const Hash& to : targets) {
            const auto g = got.diff(root, to, path_range(want.region()));
            const auto w = want.diff(root, to, path_range(want.region()));
            ASSERT_EQ(g.has_value(), w.has_value()) << "diff from block " << b;
            if (!w) {
                EXPECT_EQ(g.error(), w.error());
                continue;
            }
            EXPECT_EQ(g->keys, w->keys);
            EXPECT_EQ(g->values, w->values);
            EXPECT_EQ(g->proof, w->proof);
        }
    }
    EXPECT_EQ(held(got, want.head_root()), held(want, want.head_root()));
}

// Stores on RocksDB closed and reopened after every block (a seed, blocks between boundaries, each
// boundary and the block after it) answer as their in-memory twins, and go on applying from there.
TEST(EpochStoreDurable, ReopenedStoresAnswerAsTheyDidAndGoOn) {
    const Chain& ch = chain();
    const std::vector<Region> regions = {all_regions(253)[3], all_regions(250)[17]};
    store::TempDir tmp{"carousel-epoch-store-"};
    std::vector<std::unique_ptr<EpochStore>> memory;
    {
        auto kv = open_rocks(tmp.path());
        ASSERT_NE(kv, nullptr);
        for (const Region& r : regions) {
            EpochStore durable{r, kEpoch, std::make_unique<KvEpochNodes>(*kv, r)};
            ASSERT_TRUE(durable.seed(ch.full(), 0, ch.roots[0]));
            ASSERT_TRUE(durable.store_status().ok());
            memory.push_back(std::make_unique<EpochStore>(r, kEpoch));
            ASSERT_TRUE(memory.back()->seed(ch.full(), 0, ch.roots[0]));
        }
    }
    for (uint64_t b = 1; b < ch.roots.size(); ++b) {
        SCOPED_TRACE("block " + std::to_string(b));
        auto kv = open_rocks(tmp.path());
        ASSERT_NE(kv, nullptr);
        const auto items = items_for(b, regions);
        for (std::size_t i = 0; i < regions.size(); ++i) {
            auto durable = EpochStore::reopen(*kv, regions[i], kEpoch);
            ASSERT_TRUE(durable) << to_string(durable.error());
            expect_same_store(**durable, *memory[i]);
            ASSERT_TRUE((*durable)->apply(items[i], ch.roots[b]));
            ASSERT_TRUE((*durable)->store_status().ok());
            ASSERT_TRUE(memory[i]->apply(items[i], ch.roots[b]));
            EXPECT_EQ((*durable)->head_root(), ch.roots[b]);
        }
    }
    auto kv = open_rocks(tmp.path());
    ASSERT_NE(kv, nullptr);
    for (std::size_t i = 0; i < regions.size(); ++i) {
        auto durable = EpochStore::reopen(*kv, regions[i], kEpoch);
        ASSERT_TRUE(durable) << to_string(durable.error());
        expect_same_store(**durable, *memory[i]);
    }
    // A region this KV never held reopens empty; another epoch length is refused.
    auto empty = EpochStore::reopen(*kv, all_regions(253)[6], kEpoch);
    ASSERT_TRUE(empty);
    EXPECT_FALSE((*empty)->seeded());
    EXPECT_EQ(EpochStore::reopen(*kv, regions[0], kEpoch * 2).error(), ReopenError::kOtherEpochLength);
}

// A store adopted from peers, then followed, reopens too.
TEST(EpochStoreDurable, AnAdoptedStoreReopens) {
    const Chain& ch = chain();
    const Region region = all_regions(253)[1];
    const auto donor = memory_store_at(region, 0);
    std::vector<Bytes> account_nodes;
    std::vector<Bytes> storage_nodes;
    ASSERT_TRUE(for_each_partial_node(*donor, ch.roots[0], path_range(region),
                                      [&](ByteView, const Hash&, ByteView rlp) { account_nodes.emplace_back(rlp); }));
    const auto owners = donor->owners(ch.roots[0]);
    for (const auto& [account, storage] : owners) {
        ASSERT_TRUE(
            for_each_partial_node(*donor, storage, path_range(storage_region(region, account)),
                                  [&](ByteView, const Hash&, ByteView rlp) { storage_nodes.emplace_back(rlp); }));
    }
    store::MemoryKV kv;
    {
        EpochStore joined{region, kEpoch, std::make_unique<KvEpochNodes>(kv, region)};
        ASSERT_TRUE(joined.adopt(0, ch.roots[0], account_nodes, owners, storage_nodes));
        const Region one[] = {region};
        ASSERT_TRUE(joined.apply(items_for(1, one)[0], ch.roots[1]));
    }
    auto reopened = EpochStore::reopen(kv, region, kEpoch);
    ASSERT_TRUE(reopened) << to_string(reopened.error());
    expect_same_store(**reopened, *memory_store_at(region, 1));
}

// Damage the database in one place at a time: each reopen is refused with the error naming it, and
// the store is whole again once the damage is undone.
TEST(EpochStoreDurable, ADamagedDatabaseIsRefused) {
    const Chain& ch = chain();
    const Region region = all_regions(253)[4];
    store::MemoryKV kv;
    {
        EpochStore durable{region, kEpoch, std::make_unique<KvEpochNodes>(kv, region)};
        ASSERT_TRUE(durable.seed(ch.full(), 0, ch.roots[0]));
        const Region one[] = {region};
        for (uint64_t b = 1; b <= 11; ++b) ASSERT_TRUE(durable.apply(items_for(b, one)[0], ch.roots[b]));
    }
    // Heads 9 .. 11 since the epoch at 8, the previous epoch at 0.
    auto node_key = [&](const Hash& h) {
        Bytes k = region_key_prefix(region);
        k += view(h);
        return k;
    };
    struct Damage {
        std::string what;
        store::Column column;
        Bytes key;
        std::optional<Bytes> value;  // nullopt: deleted
        ReopenError error;
    };
    Bytes head_value;
    ASSERT_TRUE(kv.get(store::Column::kMeta, head_record_key(region), head_value).ok());
    Bytes epoch_value;
    ASSERT_TRUE(kv.get(store::Column::kMeta, epoch_record_key(region, 8), epoch_value).ok());
    Bytes block_value;
    ASSERT_TRUE(kv.get(store::Column::kMeta, block_record_key(region, 10), block_value).ok());
    HeadRecord past_boundary = *decode_head_record(head_value);
    past_boundary.head = 17;  // past the next boundary
    VersionRecord wrong_root = *decode_version_record(block_value);
    wrong_root.root = ch.roots[12];
    VersionRecord wrong_owner = *decode_version_record(epoch_value);
    ASSERT_FALSE(wrong_owner.owners.empty());
    wrong_owner.owners[0].second = ch.roots[12];  // a root the store does not hold
    // An owner inside the region listed at epoch 8 with its storage root of epoch 0 (held: the
    // previous epoch), which its account leaf at epoch 8 contradicts.
    std::optional<VersionRecord> disagreeing;
    {
        Bytes previous_value;
        ASSERT_TRUE(kv.get(store::Column::kMeta, epoch_record_key(region, 0), previous_value).ok());
        const VersionRecord at_0 = *decode_version_record(previous_value);
        VersionRecord at_8 = *decode_version_record(epoch_value);
        for (auto& [account, root] : at_8.owners) {
            const auto old =
                std::find_if(at_0.owners.begin(), at_0.owners.end(), [&](const auto& o) { return o.first == account; });
            if (contains(region, account) && old != at_0.owners.end() && old->second != root) {
                root = old->second;
                disagreeing = at_8;
                break;
            }
        }
    }
    Bytes not_its_rlp;
    ASSERT_TRUE(kv.get(store::Column::kTrieNodes, node_key(ch.roots[8]), not_its_rlp).ok());
    not_its_rlp.back() ^= 1;
    const std::vector<Damage> damages = {
        {"the head's root node deleted", store::Column::kTrieNodes, node_key(ch.roots[11]), std::nullopt,
         ReopenError::kIncomplete},
        {"an intermediate head's root node deleted", store::Column::kTrieNodes, node_key(ch.roots[9]), std::nullopt,
         ReopenError::kIncomplete},
        {"the previous epoch's root node deleted", store::Column::kTrieNodes, node_key(ch.roots[0]), std::nullopt,
         ReopenError::kIncomplete},
        {"a node changed", store::Column::kTrieNodes, node_key(ch.roots[8]), not_its_rlp, ReopenError::kBadNode},
        {"head record truncated", store::Column::kMeta, head_record_key(region),
         head_value.substr(0, head_value.size() - 1), ReopenError::kBadRecord},
        {"head record past a boundary", store::Column::kMeta, head_record_key(region),
         encode_head_record(past_boundary), ReopenError::kBadRecord},
        {"head record deleted", store::Column::kMeta, head_record_key(region), std::nullopt,
         ReopenError::kNoHeadRecord},
        {"epoch record truncated", store::Column::kMeta, epoch_record_key(region, 8),
         epoch_value.substr(0, epoch_value.size() - 1), ReopenError::kBadRecord},
        {"epoch record deleted", store::Column::kMeta, epoch_record_key(region, 8), std::nullopt,
         ReopenError::kMissingRecord},
        {"block record truncated", store::Column::kMeta, block_record_key(region, 10),
         block_value.substr(0, block_value.size() - 1), ReopenError::kBadRecord},
        {"block record deleted", store::Column::kMeta, block_record_key(region, 10), std::nullopt,
         ReopenError::kMissingRecord},
        {"block record names a root not held", store::Column::kMeta, block_record_key(region, 10),
         encode_version_record(wrong_root), ReopenError::kIncomplete},
        {"epoch record names an owner's root not held", store::Column::kMeta, epoch_record_key(region, 8),
         encode_version_record(wrong_owner), ReopenError::kIncomplete},
    };
    std::vector<Damage> all = damages;
    if (disagreeing) {
        all.push_back({"epoch record gives an inside owner an old root", store::Column::kMeta,
                       epoch_record_key(region, 8), encode_version_record(*disagreeing), ReopenError::kInconsistent});
    }
    RecordProperty("inside_owner_case", disagreeing ? "yes" : "no");
    for (const Damage& d : all) {
        SCOPED_TRACE(d.what);
        Bytes original;
        ASSERT_TRUE(kv.get(d.column, d.key, original).ok());
        ASSERT_TRUE((d.value ? kv.put(d.column, d.key, *d.value) : kv.del(d.column, d.key)).ok());
        const auto reopened = EpochStore::reopen(kv, region, kEpoch);
        ASSERT_FALSE(reopened);
        EXPECT_EQ(reopened.error(), d.error) << to_string(reopened.error());
        ASSERT_TRUE(kv.put(d.column, d.key, original).ok());
    }
    auto whole = EpochStore::reopen(kv, region, kEpoch);
    ASSERT_TRUE(whole) << to_string(whole.error());
    expect_same_store(**whole, *memory_store_at(region, 11));
}

// ---- killed while applying ------------------------------------------------------------------------
//
// A child process (this test binary again, with only the DISABLED_ child test) reopens the store in
// a RocksDB directory (seeding it at genesis the first time), applies the chain's blocks after its
// head and reports each applied block over a pipe; the parent kills it with SIGKILL at a random
// moment and reopens: the store must be whole at a block at or after the last one reported, answer
// as an in-memory store at that block, and go on to the chain's roots. As StateStoreCrash does.

constexpr const char* kChildDirEnv = "CAROUSEL_EPOCH_STORE_CRASH_DIR";
constexpr const char* kChildFdEnv = "CAROUSEL_EPOCH_STORE_CRASH_FD";

Region crash_region() { return all_regions(250)[21]; }

// The child: runs only when started by KilledWriterReopensAtAnAppliedBlock.
TEST(EpochStoreCrash, DISABLED_ChildAppliesBlocksUntilKilled) {
    const auto setup = testing::child_setup(kChildDirEnv, kChildFdEnv);
    if (!setup) GTEST_SKIP() << "only run as the child of KilledWriterReopens...";
    const Chain& ch = chain();
    const Region region = crash_region();
    const Region one[] = {region};
    std::vector<RegionItem> items{RegionItem{}};  // built before the database opens: kills land in applies
    for (uint64_t b = 1; b < ch.roots.size(); ++b) items.push_back(items_for(b, one)[0]);
    auto kv = open_rocks(setup->dir);
    ASSERT_NE(kv, nullptr);
    auto store = EpochStore::reopen(*kv, region, kEpoch);
    ASSERT_TRUE(store) << to_string(store.error());
    auto report = [&setup](uint64_t block) { return testing::report(*setup, block); };
    if (!(*store)->seeded()) {
        ASSERT_TRUE((*store)->seed(ch.full(), 0, ch.roots[0]));
        ASSERT_TRUE((*store)->store_status().ok());
        ASSERT_TRUE(report(0));
    }
    for (uint64_t b = (*store)->head_number() + 1; b < ch.roots.size(); ++b) {
        ASSERT_TRUE((*store)->apply(items[b], ch.roots[b]));
        ASSERT_TRUE((*store)->store_status().ok());
        ASSERT_TRUE(report(b));
    }
    std::this_thread::sleep_for(std::chrono::hours(1));  // the parent kills it
}

TEST(EpochStoreCrash, KilledWriterReopensAtAnAppliedBlock) {
    const Chain& ch = chain();
    const Region region = crash_region();
    store::TempDir tmp{"carousel-epoch-store-crash-"};
    const std::filesystem::path db = tmp.path() / "db";
    // The database exists before the first child (a kill inside RocksDB's creation of a database is
    // RocksKV's matter).
    ASSERT_NE(open_rocks(db), nullptr);

    const uint32_t seed = std::random_device{}();
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng{seed};
    std::optional<uint64_t> committed;
    for (int round = 0; round < 6 && (!committed || *committed + 1 < ch.roots.size()); ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        auto child = testing::KilledChild::start("EpochStoreCrash.DISABLED_ChildAppliesBlocksUntilKilled", kChildDirEnv,
                                                 db.string(), kChildFdEnv);
        ASSERT_NE(child, nullptr);

        const uint64_t wanted = 1 + rng() % 10;
        uint64_t reports = 0;
        std::optional<uint64_t> last;
        auto read_report = [&](int timeout_ms) {
            const auto report = child->read_report(timeout_ms);
            if (!report) return false;
            last = *report;
            ++reports;
            return true;
        };
        while (reports < wanted && read_report(120000) && *last + 1 < ch.roots.size()) {
        }
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % 5000));
        EXPECT_TRUE(child->kill_and_reap()) << "the child did not die of SIGKILL";
        while (read_report(0)) {  // reports written before it died
        }

        auto kv = open_rocks(db);
        ASSERT_NE(kv, nullptr);
        auto store = EpochStore::reopen(*kv, region, kEpoch);
        ASSERT_TRUE(store) << to_string(store.error());
        if (last) {
            ASSERT_TRUE((*store)->seeded()) << "block " << *last << " was reported applied";
            EXPECT_GE((*store)->head_number(), *last);
        }
        if (committed) {
            EXPECT_GE((*store)->head_number(), *committed);
        }
        if ((*store)->seeded()) {
            const uint64_t head = (*store)->head_number();
            ASSERT_LT(head, ch.roots.size());
            EXPECT_EQ((*store)->head_root(), ch.roots[head]);
            expect_same_store(**store, *memory_store_at(region, head));
            committed = head;
        }
        RecordProperty("round_" + std::to_string(round) + "_head", committed ? std::to_string(*committed) : "none");
        if (::testing::Test::HasFailure()) break;
    }
    ASSERT_TRUE(committed);

    // The store goes on from where the last child stopped, to the chain's roots.
    auto kv = open_rocks(db);
    ASSERT_NE(kv, nullptr);
    auto store = EpochStore::reopen(*kv, region, kEpoch);
    ASSERT_TRUE(store) << to_string(store.error());
    const Region one[] = {region};
    for (uint64_t b = *committed + 1; b < ch.roots.size(); ++b) {
        ASSERT_TRUE((*store)->apply(items_for(b, one)[0], ch.roots[b]));
        EXPECT_EQ((*store)->head_root(), ch.roots[b]);
    }
    expect_same_store(**store, *memory_store_at(region, ch.roots.size() - 1));
}

}  // namespace
}  // namespace carousel::mgr
