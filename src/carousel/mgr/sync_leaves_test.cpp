// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// SyncLeaves, one typed suite run against each holder: in memory, and KvSyncLeaves over MemoryKV and
// over RocksKV in a temporary directory. Every holder must give what a plain ordered map per key
// space gives (the model), for the same operations: single leaves, inclusive range erase and
// replace, ordered visits and counts, owners across key spaces, and the key space's edges.

#include "sync_leaves.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <carousel/store/memory_kv.hpp>
#include <carousel/store/rocks_kv.hpp>
#include <carousel/testing/fault_kv.hpp>
#include <carousel/testing/temp_dir.hpp>

namespace carousel::mgr {
namespace {

using Leaves = std::map<Hash, Bytes>;

Hash key_of(uint8_t first, uint8_t last = 0) {
    Hash h{};
    h[0] = first;
    h[31] = last;
    return h;
}

Hash all_ff() {
    Hash h{};
    h.fill(0xff);
    return h;
}

Bytes value_of(std::string_view s) { return to_bytes(s); }

Leaves visited(const SyncLeaves& leaves, const LeafOwner& owner, const Hash& first, const Hash& last) {
    Leaves out;
    std::vector<Hash> order;
    leaves.visit(owner, first, last, [&](const Hash& k, ByteView v) {
        order.push_back(k);
        out.emplace(k, Bytes{v});
    });
    EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));
    EXPECT_EQ(order.size(), out.size());  // each once
    return out;
}

Leaves all_of(const SyncLeaves& leaves, const LeafOwner& owner) { return visited(leaves, owner, Hash{}, all_ff()); }

struct InMemory {
    std::unique_ptr<SyncLeaves> make() { return std::make_unique<MemorySyncLeaves>(); }
};

struct OnMemoryKv {
    store::MemoryKV kv;
    std::unique_ptr<SyncLeaves> make() { return std::make_unique<KvSyncLeaves>(kv); }
};

struct OnRocksKv {
    store::TempDir dir{"carousel-sync-leaves-"};
    std::unique_ptr<store::RocksKV> kv;
    std::unique_ptr<SyncLeaves> make() {
        const Status s = store::RocksKV::open(dir.path(), kv);
        EXPECT_TRUE(s.ok()) << s.to_string();
        return std::make_unique<KvSyncLeaves>(*kv);
    }
};

template <class Holder>
class SyncLeavesTest : public ::testing::Test {
  protected:
    SyncLeavesTest() : leaves_{holder_.make()} {}
    void TearDown() override { EXPECT_TRUE(leaves_->status().ok()) << leaves_->status().to_string(); }

    Holder holder_;
    std::unique_ptr<SyncLeaves> leaves_;
};

using Holders = ::testing::Types<InMemory, OnMemoryKv, OnRocksKv>;
TYPED_TEST_SUITE(SyncLeavesTest, Holders);

TYPED_TEST(SyncLeavesTest, StartsEmpty) {
    SyncLeaves& l = *this->leaves_;
    EXPECT_FALSE(l.find(std::nullopt, key_of(1)));
    EXPECT_FALSE(l.find(key_of(9), key_of(1)));
    EXPECT_EQ(l.count_all(std::nullopt), 0u);
    EXPECT_TRUE(l.owners().empty());
    EXPECT_TRUE(all_of(l, std::nullopt).empty());
}

TYPED_TEST(SyncLeavesTest, PutReplacesAndEraseDropsOneLeaf) {
    SyncLeaves& l = *this->leaves_;
    l.put(std::nullopt, key_of(1), value_of("one"));
    l.put(std::nullopt, key_of(2), value_of("two"));
    l.put(std::nullopt, key_of(1), value_of("uno"));
    EXPECT_EQ(l.find(std::nullopt, key_of(1)), value_of("uno"));
    EXPECT_EQ(l.count_all(std::nullopt), 2u);
    l.erase(std::nullopt, key_of(1));
    l.erase(std::nullopt, key_of(3));  // not held: nothing
    EXPECT_FALSE(l.find(std::nullopt, key_of(1)));
    EXPECT_EQ(all_of(l, std::nullopt), (Leaves{{key_of(2), value_of("two")}}));
}

// The same key in the account trie and in two owners' storage is three leaves; each key space
// iterates alone and in key order, and the owners come in key order.
TYPED_TEST(SyncLeavesTest, AccountsAndEachOwnersStorageAreSeparateKeySpaces) {
    SyncLeaves& l = *this->leaves_;
    const Hash a = key_of(0x80);
    const Hash b = key_of(0x10);
    for (uint8_t i = 5; i > 0; --i) {
        l.put(std::nullopt, key_of(i), value_of("account"));
        l.put(a, key_of(i), value_of("a"));
        if (i % 2 == 1) l.put(b, key_of(i), value_of("b"));
    }
    EXPECT_EQ(l.owners(), (std::vector<Hash>{b, a}));
    EXPECT_EQ(l.count_all(std::nullopt), 5u);
    EXPECT_EQ(l.count_all(a), 5u);
    EXPECT_EQ(l.count_all(b), 3u);
    EXPECT_EQ(l.find(b, key_of(3)), value_of("b"));
    EXPECT_FALSE(l.find(b, key_of(2)));
    EXPECT_FALSE(l.find(key_of(0x11), key_of(3)));  // an owner between two held ones
    // Ranges of one space do not reach into the next owner's keys.
    EXPECT_EQ(visited(l, b, key_of(2), key_of(4)), (Leaves{{key_of(3), value_of("b")}}));
    l.erase_all(b);
    EXPECT_EQ(l.owners(), (std::vector<Hash>{a}));
    EXPECT_EQ(l.count_all(a), 5u);
    EXPECT_EQ(l.count_all(std::nullopt), 5u);
    // An owner whose last leaf goes is forgotten.
    for (uint8_t i = 1; i <= 5; ++i) l.erase(a, key_of(i));
    EXPECT_TRUE(l.owners().empty());
    EXPECT_EQ(l.count_all(std::nullopt), 5u);
}

TYPED_TEST(SyncLeavesTest, RangesHoldBothEnds) {
    SyncLeaves& l = *this->leaves_;
    const Hash owner = key_of(7);
    for (uint8_t i = 1; i <= 9; ++i) l.put(owner, key_of(i, i), value_of("v"));
    EXPECT_EQ(l.count(owner, key_of(3, 3), key_of(6, 6)), 4u);
    EXPECT_EQ(l.count(owner, key_of(3, 4), key_of(6, 5)), 2u);  // between keys: the inner two
    EXPECT_EQ(l.count(owner, key_of(6, 6), key_of(3, 3)), 0u);  // first > last: empty
    l.erase_range(owner, key_of(6, 6), key_of(3, 3));           // nothing
    EXPECT_EQ(l.count_all(owner), 9u);
    l.erase_range(owner, key_of(3, 3), key_of(6, 6));
    EXPECT_EQ(l.count_all(owner), 5u);
    EXPECT_FALSE(l.find(owner, key_of(3, 3)));
    EXPECT_FALSE(l.find(owner, key_of(6, 6)));
    EXPECT_TRUE(l.find(owner, key_of(2, 2)));
    EXPECT_TRUE(l.find(owner, key_of(7, 7)));
}

TYPED_TEST(SyncLeavesTest, ReplaceRangeMakesTheRangeExactlyTheLeavesGiven) {
    SyncLeaves& l = *this->leaves_;
    for (uint8_t i = 1; i <= 6; ++i) l.put(std::nullopt, key_of(i), value_of("old"));
    l.replace_range(std::nullopt, key_of(2), key_of(4),
                    Leaves{{key_of(3), value_of("new")}, {key_of(4, 1), value_of("added")}});
    EXPECT_EQ(all_of(l, std::nullopt), (Leaves{{key_of(1), value_of("old")},
                                               {key_of(3), value_of("new")},
                                               {key_of(4, 1), value_of("added")},
                                               {key_of(5), value_of("old")},
                                               {key_of(6), value_of("old")}}));
    // Replaced by nothing: an owner whose leaves all go is forgotten.
    const Hash owner = key_of(9);
    l.put(owner, key_of(2), value_of("x"));
    l.replace_range(owner, key_of(1), key_of(3), {});
    EXPECT_TRUE(l.owners().empty());
}

// The key space's edges: the zero key, ff…ff (no KV key follows it) and the owner ff…ff.
TYPED_TEST(SyncLeavesTest, TheFirstAndLastKeysAndOwnersAreHeldLikeAnyOther) {
    SyncLeaves& l = *this->leaves_;
    const Hash last = all_ff();
    for (const LeafOwner& owner : {LeafOwner{}, LeafOwner{Hash{}}, LeafOwner{last}}) {
        l.put(owner, Hash{}, value_of("first"));
        l.put(owner, key_of(0x42), value_of("middle"));
        l.put(owner, last, value_of("last"));
    }
    EXPECT_EQ(l.owners(), (std::vector<Hash>{Hash{}, last}));
    for (const LeafOwner& owner : {LeafOwner{}, LeafOwner{Hash{}}, LeafOwner{last}}) {
        EXPECT_EQ(l.count_all(owner), 3u);
        EXPECT_EQ(visited(l, owner, key_of(0x42), last).size(), 2u);
        EXPECT_EQ(l.find(owner, last), value_of("last"));
    }
    l.erase_range(last, key_of(0x42), last);
    EXPECT_EQ(all_of(l, last), (Leaves{{Hash{}, value_of("first")}}));
    l.erase_all(std::nullopt);
    EXPECT_EQ(l.count_all(std::nullopt), 0u);
    EXPECT_EQ(l.count_all(Hash{}), 3u);
    l.erase_all(last);
    l.erase_all(Hash{});
    EXPECT_TRUE(l.owners().empty());
}

// Random operations on a few keys and owners, checked after each against a map per key space.
TYPED_TEST(SyncLeavesTest, RandomOperationsGiveWhatOrderedMapsGive) {
    SyncLeaves& l = *this->leaves_;
    std::map<LeafOwner, Leaves> model;
    const std::vector<LeafOwner> spaces = {std::nullopt, key_of(0x30), key_of(0x31), all_ff()};
    std::vector<Hash> keys = {Hash{}, all_ff()};
    for (uint8_t i = 1; i < 14; ++i) keys.push_back(key_of(static_cast<uint8_t>(i * 17), i));
    std::mt19937 rng{19};  // NOLINT(cert-msc32-c,cert-msc51-cpp): the same operations on every run
    const auto pick_key = [&] { return keys[rng() % keys.size()]; };
    for (int step = 0; step < 400; ++step) {
        const LeafOwner owner = spaces[rng() % spaces.size()];
        Leaves& m = model[owner];
        Hash first = pick_key();
        Hash last = pick_key();
        const auto in = [&](const Hash& k) { return first <= k && k <= last; };
        switch (rng() % 5) {
            case 0:
            case 1: {
                const Bytes v = value_of(std::to_string(step));
                l.put(owner, first, v);
                m[first] = v;
                break;
            }
            case 2:
                l.erase(owner, first);
                m.erase(first);
                break;
            case 3:
                l.erase_range(owner, first, last);
                std::erase_if(m, [&](const auto& kv) { return in(kv.first); });
                break;
            default: {
                if (last < first) std::swap(first, last);
                Leaves with;
                for (const Hash& k : keys) {
                    if (in(k) && rng() % 3 == 0) with[k] = value_of("r" + std::to_string(step));
                }
                l.replace_range(owner, first, last, with);
                std::erase_if(m, [&](const auto& kv) { return in(kv.first); });
                m.insert(with.begin(), with.end());
            }
        }
        std::vector<Hash> owners;
        for (const auto& [o, leaves] : model) {
            EXPECT_EQ(all_of(l, o), leaves) << "step " << step;
            const Hash a = pick_key();
            const Hash b = pick_key();
            const auto n = static_cast<std::size_t>(std::count_if(
                leaves.begin(), leaves.end(), [&](const auto& kv) { return a <= kv.first && kv.first <= b; }));
            EXPECT_EQ(l.count(o, a, b), n) << "step " << step;
            if (o && !leaves.empty()) owners.push_back(*o);
        }
        ASSERT_EQ(l.owners(), owners) << "step " << step;
        const Hash k = pick_key();
        const auto held = model[owner].find(k);
        EXPECT_EQ(l.find(owner, k), held == model[owner].end() ? std::nullopt : std::optional<Bytes>{held->second});
    }
}

// What an earlier run left in the KV's leaf columns is not this run's: a new holder starts empty.
TEST(KvSyncLeaves, StartsEmptyOverAKvThatHoldsLeaves) {
    store::MemoryKV kv;
    {
        KvSyncLeaves earlier{kv};
        earlier.put(std::nullopt, all_ff(), value_of("a"));
        earlier.put(key_of(3), key_of(4), value_of("s"));
        earlier.put(all_ff(), all_ff(), value_of("s"));
    }
    const KvSyncLeaves later{kv};
    EXPECT_TRUE(later.status().ok());
    EXPECT_EQ(kv.entry_count(store::Column::kAccountLeaves), 0u);
    EXPECT_EQ(kv.entry_count(store::Column::kStorageLeaves), 0u);
    EXPECT_TRUE(later.owners().empty());
}

// A KV that fails: the failed write changes nothing, a failed read finds nothing, and the first
// failure stays in status().
TEST(KvSyncLeaves, AFailingKvIsReportedInStatus) {
    store::MemoryKV inner;
    carousel::testing::FaultKV kv{inner};
    KvSyncLeaves leaves{kv};
    leaves.put(std::nullopt, key_of(1), value_of("kept"));
    ASSERT_TRUE(leaves.status().ok());
    kv.fail_nth(carousel::testing::FaultKV::Op::kWrite, 1);
    leaves.replace_range(std::nullopt, Hash{}, all_ff(), Leaves{{key_of(2), value_of("lost")}});
    EXPECT_FALSE(leaves.status().ok());
    EXPECT_NE(leaves.status().to_string().find("injected fault"), std::string::npos);
    EXPECT_EQ(leaves.count_all(std::nullopt), 1u);  // all or nothing
    kv.fail_all(true);
    EXPECT_FALSE(leaves.find(std::nullopt, key_of(1)));
    kv.fail_all(false);
    EXPECT_EQ(leaves.find(std::nullopt, key_of(1)), value_of("kept"));
}

}  // namespace
}  // namespace carousel::mgr
