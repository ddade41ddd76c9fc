// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// PathLayout against a hash walk of the same state written here (decode_node, child by child): the
// layout must hold exactly the hashed nodes of every trie, at their positions, in position order.
#include "path_layout.hpp"

#include <map>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include <carousel/core/keccak.hpp>
#include <carousel/state/code_store.hpp>
#include <carousel/state/world_state.hpp>
#include <carousel/testing/fault_kv.hpp>
#include <carousel/testing/values.hpp>
#include <carousel/trie/node.hpp>
#include <carousel/trie/trie.hpp>

#include "memory_kv.hpp"

namespace carousel::store {
namespace {

using Positions = std::map<Bytes, Bytes>;  // position (a nibble a byte) -> RLP; in position order

using carousel::testing::random_hash;
using carousel::testing::rlp_uint;

// Adds the hashed nodes below the node `ref` at `pos` (an embedded one is walked, not added).
void walk(const trie::NodeStore& nodes, ByteView ref, Bytes pos, Positions& out) {
    Bytes rlp;
    if (trie::is_hash_reference(ref)) {
        auto got = nodes.get_node(to_hash(ref));
        ASSERT_TRUE(got) << "the state lacks a node";
        rlp = *got;
        out[pos] = rlp;
    } else {
        rlp = Bytes{ref};
    }
    auto node = trie::decode_node(rlp);
    ASSERT_TRUE(node);
    if (node->kind == trie::NodeKind::kExtension) {
        walk(nodes, node->children[0], pos + Bytes{ByteView{node->path}}, out);
    } else if (node->kind == trie::NodeKind::kBranch) {
        for (uint8_t i = 0; i < 16; ++i) {
            if (!node->children[i].empty()) walk(nodes, node->children[i], pos + Bytes{i}, out);
        }
    }
}

Positions positions_of(const trie::NodeStore& nodes, const Hash& root) {
    Positions out;
    walk(nodes, view(root), {}, out);
    return out;
}

// Everything a cursor over `root` (up to `upper`) yields, in its order.
std::vector<std::pair<Bytes, Bytes>> scan(const PathLayout& layout, const Hash& root, ByteView upper = {}) {
    std::vector<std::pair<Bytes, Bytes>> out;
    auto cursor = layout.open(root, upper);
    if (!cursor) return out;
    ByteView pos, rlp;
    while (cursor->next(pos, rlp)) out.emplace_back(Bytes{pos}, Bytes{rlp});
    EXPECT_TRUE(cursor->ok());
    return out;
}

// A NodeStore that lacks one node of another.
class HidingNodeStore final : public trie::NodeStore {
  public:
    HidingNodeStore(const trie::NodeStore& inner, const Hash& hidden) : inner_{inner}, hidden_{hidden} {}
    std::optional<Bytes> get_node(const Hash& hash) const override {
        if (hash == hidden_) return std::nullopt;
        return inner_.get_node(hash);
    }
    void put_node(const Hash&, ByteView) override {}

  private:
    const trie::NodeStore& inner_;
    Hash hidden_;
};

// A state of `accounts` accounts, a third of them with storage; accounts 0 and 1 hold the same
// storage (one storage trie for both).
class PathLayoutTest : public ::testing::Test {
  protected:
    void SetUp() override { root_ = grow(1, 60); }

    // Applies a block creating `accounts` accounts; returns the new state root.
    Hash grow(uint64_t block, std::size_t accounts) {
        state::StateDiff d;
        d.block = block;
        std::map<Hash, std::map<Hash, Bytes>> storage;
        std::vector<Hash> keys;
        for (std::size_t i = 0; i < accounts; ++i) keys.push_back(random_hash(rng_));
        for (std::size_t i = 0; i < accounts; ++i) {
            if (i % 3 != 0 && i != 1) continue;
            const std::size_t slots = i <= 1 ? 5 : 1 + rng_() % 20;
            std::mt19937_64 slot_rng{i <= 1 ? 77 : rng_()};
            for (std::size_t s = 0; s < slots; ++s)
                storage[keys[i]][random_hash(slot_rng)] = rlp_uint(1 + slot_rng() % 1000);
        }
        std::sort(keys.begin(), keys.end());
        for (const Hash& k : keys) {
            state::Account a;
            a.nonce = 1;
            d.accounts.push_back({k, std::nullopt, a});
            for (const auto& [slot, value] : storage[k]) d.slots.push_back({k, slot, {}, value});
        }
        auto r = world_.seal_and_apply(d);
        EXPECT_TRUE(r) << to_string(r.error());
        for (const auto& a : d.accounts) {
            if (a.after->storage_root != trie::kEmptyRoot) storage_roots_.insert(a.after->storage_root);
        }
        return d.root;
    }

    std::mt19937_64 rng_{3};
    trie::MemoryNodeStore nodes_;
    state::MemoryCodeStore code_;
    state::WorldState world_{nodes_, code_};
    Hash root_{};
    std::set<Hash> storage_roots_;  // of every account ever created
    MemoryKV kv_;
};

TEST_F(PathLayoutTest, NoLayoutUntilOneIsBuilt) {
    const PathLayout layout{kv_};
    EXPECT_FALSE(layout.root());
    EXPECT_TRUE(layout.open(root_, {}) == nullptr);
}

TEST_F(PathLayoutTest, HoldsExactlyTheHashedNodesOfEveryTrieInPositionOrder) {
    ASSERT_TRUE(PathLayout::build(kv_, nodes_, root_).ok());
    const PathLayout layout{kv_};
    ASSERT_EQ(layout.root(), root_);
    std::size_t stored = 0;
    std::set<Hash> tries{root_};
    tries.insert(storage_roots_.begin(), storage_roots_.end());
    EXPECT_GE(tries.size(), 15U);
    for (const Hash& root : tries) {
        const Positions want = positions_of(nodes_, root);
        const auto got = scan(layout, root);
        const std::vector<std::pair<Bytes, Bytes>> in_order(want.begin(), want.end());
        EXPECT_EQ(got, in_order);
        stored += want.size();
    }
    // Nothing else: each distinct storage trie once (accounts 0 and 1 share theirs).
    EXPECT_EQ(kv_.entry_count(Column::kPathNodes), stored);
}

TEST_F(PathLayoutTest, NodeAtFindsEachNodeAndOnlyThose) {
    ASSERT_TRUE(PathLayout::build(kv_, nodes_, root_).ok());
    const PathLayout layout{kv_};
    const Positions want = positions_of(nodes_, root_);
    ASSERT_GE(want.size(), 10U);
    // In position order, as a pre-order walk asks.
    auto cursor = layout.open(root_, {});
    ASSERT_TRUE(cursor != nullptr);
    ByteView rlp;
    for (const auto& [pos, node] : want) {
        ASSERT_TRUE(cursor->node_at(pos, rlp));
        EXPECT_EQ(Bytes{rlp}, node);
    }
    // Backwards (a seek each time), and positions that hold no hashed node.
    cursor = layout.open(root_, {});
    for (auto it = want.rbegin(); it != want.rend(); ++it) {
        ASSERT_TRUE(cursor->node_at(it->first, rlp));
        EXPECT_EQ(Bytes{rlp}, it->second);
    }
    Bytes deep(64, 0x0f);
    EXPECT_FALSE(cursor->node_at(deep, rlp));
    for (const auto& [pos, node] : want) {
        Bytes below = pos;
        below.push_back(0x10);  // not a nibble: no node is there
        EXPECT_FALSE(cursor->node_at(below, rlp));
    }
    EXPECT_TRUE(cursor->ok());
}

TEST_F(PathLayoutTest, ACursorStopsAtItsUpperBound) {
    ASSERT_TRUE(PathLayout::build(kv_, nodes_, root_).ok());
    const PathLayout layout{kv_};
    const Positions all = positions_of(nodes_, root_);
    for (const Bytes& upper : {Bytes{}, Bytes{0}, Bytes{3}, Bytes{7, 2}, Bytes{15}}) {
        std::vector<std::pair<Bytes, Bytes>> want;
        for (const auto& [pos, node] : all) {
            // Every position p with p <= upper, or with upper a prefix of p.
            if (pos <= upper || pos.starts_with(upper)) want.emplace_back(pos, node);
        }
        EXPECT_EQ(scan(layout, root_, upper), want) << upper.size();
    }
}

TEST_F(PathLayoutTest, SmallBatchesWriteTheSameLayout) {
    ASSERT_TRUE(PathLayout::build(kv_, nodes_, root_).ok());
    MemoryKV small;
    ASSERT_TRUE(PathLayout::build(small, nodes_, root_, /*batch_bytes=*/1).ok());
    const PathLayout a{kv_};
    const PathLayout b{small};
    EXPECT_EQ(b.root(), root_);
    EXPECT_EQ(scan(a, root_), scan(b, root_));
    EXPECT_EQ(small.entry_count(Column::kPathNodes), kv_.entry_count(Column::kPathNodes));
}

TEST_F(PathLayoutTest, ARebuildReplacesTheLayout) {
    ASSERT_TRUE(PathLayout::build(kv_, nodes_, root_).ok());
    const Hash next = grow(2, 20);
    ASSERT_NE(next, root_);
    ASSERT_TRUE(PathLayout::build(kv_, nodes_, next).ok());
    const PathLayout layout{kv_};
    EXPECT_EQ(layout.root(), next);
    EXPECT_TRUE(layout.open(root_, {}) == nullptr);  // the old state's root node is gone
    const Positions want = positions_of(nodes_, next);
    const std::vector<std::pair<Bytes, Bytes>> in_order(want.begin(), want.end());
    EXPECT_EQ(scan(layout, next), in_order);
}

TEST_F(PathLayoutTest, TheEmptyStateHasALayoutWithoutNodes) {
    ASSERT_TRUE(PathLayout::build(kv_, nodes_, root_).ok());
    ASSERT_TRUE(PathLayout::build(kv_, nodes_, trie::kEmptyRoot).ok());
    const PathLayout layout{kv_};
    EXPECT_EQ(layout.root(), trie::kEmptyRoot);
    EXPECT_EQ(kv_.entry_count(Column::kPathNodes), 0U);
    EXPECT_TRUE(layout.open(trie::kEmptyRoot, {}) == nullptr);
    EXPECT_TRUE(layout.open(root_, {}) == nullptr);
}

// A node missing from the store (in the account trie, or in a storage trie) fails the build with
// corruption, and leaves no layout: not even the one built before.
TEST_F(PathLayoutTest, AMissingNodeLeavesNoLayout) {
    const Positions accounts = positions_of(nodes_, root_);
    const Positions storage = positions_of(nodes_, *storage_roots_.begin());
    for (const Bytes& hidden : {std::next(accounts.begin(), 3)->second, storage.begin()->second}) {
        ASSERT_TRUE(PathLayout::build(kv_, nodes_, root_).ok());
        const HidingNodeStore lacking{nodes_, keccak256(hidden)};
        const Status s = PathLayout::build(kv_, lacking, root_);
        EXPECT_TRUE(s.is_corruption()) << s.to_string();
        const PathLayout layout{kv_};
        EXPECT_FALSE(layout.root());
        EXPECT_TRUE(layout.open(root_, {}) == nullptr);
    }
}

// A failed write is the build's error, and no layout is recorded.
TEST_F(PathLayoutTest, AFailedWriteLeavesNoLayout) {
    for (uint64_t nth : {1U, 2U, 3U}) {
        MemoryKV inner;
        testing::FaultKV kv{inner};
        kv.fail_nth(testing::FaultKV::Op::kWrite, nth);
        const Status s = PathLayout::build(kv, nodes_, root_, /*batch_bytes=*/4096);
        EXPECT_TRUE(s.is_io_error()) << nth << ": " << s.to_string();
        EXPECT_FALSE(PathLayout{inner}.root()) << nth;
    }
}

}  // namespace
}  // namespace carousel::store
