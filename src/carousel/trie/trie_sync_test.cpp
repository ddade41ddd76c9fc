// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// TrieSync fed by hand from a source trie: one chunk per round of the frontier's nodes, no server.
#include <map>

#include <gtest/gtest.h>

#include <carousel/testing/random_trie.hpp>
#include <carousel/trie/trie.hpp>
#include <carousel/trie/trie_sync.hpp>

namespace carousel::trie {
namespace {

using Source = test::RandomTrie;

// The RLPs of the first `max` frontier nodes of `sync`, in position order.
std::vector<Bytes> frontier_nodes(const Source& src, const TrieSync& sync, std::size_t max = SIZE_MAX) {
    std::vector<Bytes> out;
    for (const auto& [pos, hash] : sync.frontier()) {
        if (out.size() == max) break;
        out.push_back(*src.nodes.get_node(hash));
    }
    return out;
}

// Feeds `sync` the frontier, `per_chunk` nodes a chunk, until nothing is left; returns the chunks.
std::size_t run(const Source& src, TrieSync& sync, std::size_t per_chunk = SIZE_MAX) {
    std::size_t chunks = 0;
    while (!sync.fetched() && chunks < 100000) {
        const auto chunk = frontier_nodes(src, sync, per_chunk);
        EXPECT_TRUE(sync.accept(chunk));
        ++chunks;
    }
    return chunks;
}

TEST(TrieSync, AcceptsVerifiedNodes) {
    const Source src{1, 2000};
    MemoryNodeStore client;
    std::map<Bytes, Bytes> seen;
    TrieSync sync{client, src.root, {}, [&](ByteView key, ByteView value, std::vector<Hash>&) {
                      seen.emplace(Bytes{key}, Bytes{value});
                  }};
    EXPECT_FALSE(sync.complete());
    EXPECT_EQ(sync.frontier().size(), 1U);
    EXPECT_DOUBLE_EQ(sync.remaining_fraction(), 1.0);
    run(src, sync, 7);
    EXPECT_TRUE(sync.complete());
    EXPECT_EQ(seen, src.leaves);
    EXPECT_DOUBLE_EQ(sync.remaining_fraction(), 0.0);
    // The client holds the trie: every leaf reads back from it.
    Trie t{&client, src.root};
    for (const auto& [k, v] : src.leaves) {
        auto got = t.get(k);
        ASSERT_TRUE(got && *got);
        EXPECT_EQ(**got, v);
    }
}

TEST(TrieSync, RejectsANodeNoReferenceNames) {
    const Source src{2, 300};
    const Source other{3, 300};
    MemoryNodeStore client;
    TrieSync sync{client, src.root};
    // A node of another trie, and the right root node with one byte changed: neither hashes to a
    // requested reference.
    Bytes tampered = *src.nodes.get_node(src.root);
    tampered.back() ^= 1;
    for (const Bytes& bad : {*other.nodes.get_node(other.root), tampered}) {
        const std::vector<Bytes> chunk{bad};
        auto r = sync.accept(chunk);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error(), ChunkRejection::kUnexpectedNode);
        EXPECT_EQ(to_string(r.error()), "node not referenced by any accepted node");
    }
    // A chunk is taken whole or not at all: a good root followed by a stranger keeps nothing.
    const std::vector<Bytes> mixed{*src.nodes.get_node(src.root), *other.nodes.get_node(other.root)};
    EXPECT_FALSE(sync.accept(mixed));
    EXPECT_EQ(sync.frontier().size(), 1U);
    EXPECT_EQ(sync.accepted_nodes(), 0U);
    EXPECT_FALSE(client.get_node(src.root));
    run(src, sync);  // the right nodes are still taken afterwards
    EXPECT_TRUE(sync.complete());
}

TEST(TrieSync, RefusedLeafRejectsTheChunk) {
    const Source src{4, 50};
    MemoryNodeStore client;
    TrieSync sync{client, src.root, [](ByteView) { return false; }};
    bool refused = false;
    for (int round = 0; round < 100 && !refused; ++round) {
        const auto chunk = frontier_nodes(src, sync);
        auto r = sync.accept(chunk);
        if (!r) {
            EXPECT_EQ(r.error(), ChunkRejection::kBadLeaf);
            refused = true;
        }
    }
    EXPECT_TRUE(refused);
    EXPECT_FALSE(sync.complete());
}

TEST(TrieSync, ResumesFromWhatTheStoreHolds) {
    const Source src{5, 3000};
    MemoryNodeStore client;
    {
        TrieSync first{client, src.root};
        // One node a chunk, the first of the frontier: depth first, so subtrees complete as it goes.
        for (int i = 0; i < 1000; ++i) ASSERT_TRUE(first.accept(frontier_nodes(src, first, 1)));
        EXPECT_FALSE(first.complete());
        EXPECT_GT(client.size(), 100U);
        // Cut off here: only complete subtrees reached the store.
    }
    std::size_t held = 0;
    TrieSync again{client, src.root, {}, {}, [&](const Hash& subtree) {
                       EXPECT_TRUE(client.get_node(subtree));
                       ++held;
                   }};
    run(src, again);
    EXPECT_TRUE(again.complete());
    EXPECT_GT(held, 0U);  // subtrees stored by the first sync were not fetched again
    TrieSync fresh{client, src.root};
    EXPECT_TRUE(fresh.complete());  // the root is in the store: nothing to fetch

    // A sync that moves to another root hands over what it verified but could not store yet.
    MemoryNodeStore moved;
    TrieSync old_root{moved, src.root};
    ASSERT_TRUE(old_root.accept(frontier_nodes(src, old_root)));
    ASSERT_TRUE(old_root.accept(frontier_nodes(src, old_root)));
    auto waiting = old_root.take_waiting();
    EXPECT_FALSE(waiting.empty());
    TrieSync new_root{moved, src.root};
    new_root.adopt(std::move(waiting));
    run(src, new_root);
    EXPECT_TRUE(new_root.complete());
    EXPECT_GT(new_root.adopted_nodes(), 0U);
}

TEST(TrieSync, CompletesWhenEveryReferenceResolves) {
    const Source src{6, 500};
    MemoryNodeStore client;
    const Hash dep = src.root;  // any hash: a dependency the sink names for the first leaf
    bool named = false;
    TrieSync sync{client, src.root, {}, [&](ByteView, ByteView, std::vector<Hash>& deps) {
                      if (!named) deps.push_back(dep);
                      named = true;
                  }};
    run(src, sync);
    EXPECT_TRUE(sync.fetched());
    EXPECT_FALSE(sync.complete());  // a node waits for the dependency, and so do its ancestors
    EXPECT_FALSE(client.get_node(src.root));
    sync.dependency_complete(dep);
    EXPECT_TRUE(sync.complete());
    EXPECT_TRUE(client.get_node(src.root));

    // The empty trie is complete from the start.
    TrieSync empty{client, kEmptyRoot};
    EXPECT_TRUE(empty.complete());
}

// Restricted to a range, the sync fetches the partial trie: every node whose position meets the
// range and no other; complete() then means the partial trie is held (as Merry-Go-Round's fill uses
// it), and a node outside the range is not taken even when a fetched node references it.
TEST(TrieSync, RestrictedToARangeFetchesThePartialTrie) {
    const Source src{4, 3000};
    const PathRange range{Nibbles{0x3, 0x1}, Nibbles{0x5}};
    MemoryNodeStore client;
    TrieSync sync{client, src.root};
    sync.restrict_to(range);
    std::size_t fetched = 0;
    while (!sync.fetched() && fetched < 100000) {
        for (const auto& [pos, hash] : sync.frontier()) EXPECT_TRUE(intersects(pos, range)) << "wanted outside";
        const auto chunk = frontier_nodes(src, sync);
        fetched += chunk.size();
        ASSERT_TRUE(sync.accept(chunk));
    }
    EXPECT_TRUE(sync.complete());
    ASSERT_TRUE(client.get_node(src.root));
    // The client's nodes are exactly the source's nodes at positions meeting the range: every leaf in
    // the range reads back, a leaf outside it does not.
    Trie t{&client, src.root};
    std::size_t in = 0;
    std::size_t out = 0;
    for (const auto& [k, v] : src.leaves) {
        const Nibbles path = unpack_nibbles(k);
        const bool inside = pad(path, 0) >= pad(range.from, 0) && pad(path, 0) <= pad(range.to, 0xf);
        auto got = t.get(k);
        if (inside) {
            ++in;
            ASSERT_TRUE(got && *got);
            EXPECT_EQ(**got, v);
        } else if (!got) {
            ++out;  // a missing node on the way: not fetched
        }
    }
    EXPECT_GT(in, 0U);
    EXPECT_GT(out, src.leaves.size() / 2) << "most leaves outside the range must not be held";
    EXPECT_LT(fetched, src.nodes.size() / 2);
    // A second sync of the same range over that store finds it complete at once.
    TrieSync again{client, src.root};
    again.restrict_to(range);
    EXPECT_TRUE(again.complete()) << "the stored root is a complete partial trie for this range";
}

// A store that cannot read a node is not taken to lack it silently: the node is fetched again and
// store_status() names the failure, for the caller to stop on.
TEST(TrieSync, AFailedStoreReadIsReportedAndTheNodeFetchedAgain) {
    const Source src{5, 500};
    struct Failing final : NodeStore {
        MemoryNodeStore inner;
        bool fail{false};
        NodeRead find_node(const Hash& hash) const override {
            if (fail) return tl::unexpected{Status::io_error("disk gone")};
            return inner.find_node(hash);
        }
        void put_node(const Hash& hash, ByteView rlp) override { inner.put_node(hash, rlp); }
    };
    Failing store;
    {
        TrieSync first{store, src.root};
        run(src, first);
        ASSERT_TRUE(first.complete());
        EXPECT_TRUE(first.store_status().ok());
    }
    store.fail = true;
    TrieSync again{store, src.root};
    EXPECT_FALSE(again.store_status().ok());
    EXPECT_EQ(again.store_status().message(), "disk gone");
    EXPECT_EQ(again.frontier().size(), 1U) << "the root is fetched again, not taken as held";
}

}  // namespace
}  // namespace carousel::trie
