// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// LeafSync fed by a ChunkServer in leaf mode, without a network: ranges handed out and verified,
// cut answers continued after their last key, wrong answers refused, the trie built at the end.
#include <map>
#include <random>

#include <gtest/gtest.h>

#include <carousel/prefix/chunk_server.hpp>
#include <carousel/prefix/leaf_sync.hpp>
#include <carousel/store/memory_kv.hpp>
#include <carousel/testing/random_trie.hpp>

namespace carousel::prefix {
namespace {

using Served = trie::test::RandomTrie;

// The leaf-mode answer to `range` from `server`, at most `max_size` bytes.
proto::ChunkEntry answer(ChunkServer& server, const Hash& root, const trie::PathRange& range, std::size_t max_size) {
    proto::GetChunks r;
    r.request_id = 1;
    r.root = root;
    r.prefixes = {range.from, range.to};
    r.is_range = true;
    r.max_size = max_size;
    r.flags = proto::kFlagLeaves;
    return server.serve(r).entries.at(0);
}

// Takes ranges and accepts their answers until none is left; returns the answers accepted.
std::size_t run(ChunkServer& server, LeafSync& sync, std::size_t max_size) {
    std::size_t answers = 0;
    while (auto range = sync.take_range()) {
        auto got = sync.accept(*range, answer(server, sync.root(), *range, max_size));
        EXPECT_TRUE(got);
        ++answers;
    }
    return answers;
}

TEST(LeafSync, SyncsAndBuildsTheTrie) {
    const Served served{21, 3000, 50};
    ChunkServer server{served.nodes, nullptr, [&] { return served.root; }};
    trie::MemoryNodeStore client;
    std::map<Bytes, Bytes> seen;
    LeafSync sync{
        client, served.root, {}, [&](ByteView k, ByteView v, std::vector<Hash>&) { seen.emplace(Bytes{k}, Bytes{v}); }};
    EXPECT_FALSE(sync.complete());
    EXPECT_DOUBLE_EQ(sync.remaining_fraction(), 1.0);
    const std::size_t answers = run(server, sync, 4000);  // small answers: most are cut
    EXPECT_GT(answers, 16U);
    EXPECT_TRUE(sync.fetched());
    EXPECT_TRUE(sync.complete());
    EXPECT_EQ(sync.leaves(), served.leaves.size());
    EXPECT_EQ(seen, served.leaves);
    EXPECT_EQ(sync.remaining_fraction(), 0.0);
    // Built from the leaves: the client holds the trie, root last.
    EXPECT_EQ(client.size(), served.nodes.size());
    ASSERT_TRUE(client.get_node(served.root));
}

TEST(LeafSync, WrongAnswersAreRefusedAndTheRangeGivenBack) {
    const Served served{21, 2000, 50};
    ChunkServer server{served.nodes, nullptr, [&] { return served.root; }};
    trie::MemoryNodeStore client;
    LeafSync sync{client, served.root, {}, {}};
    auto range = sync.take_range();
    ASSERT_TRUE(range);
    const proto::ChunkEntry good = answer(server, served.root, *range, 1 << 20);
    ASSERT_FALSE(good.stop_path);
    // A leaf left out, a changed value, a cut answer with no leaf: each refused, nothing kept.
    auto dropped = good;
    dropped.keys.erase(dropped.keys.begin() + 3);
    dropped.values.erase(dropped.values.begin() + 3);
    auto changed = good;
    changed.values[1].back() ^= 1;
    auto empty_cut = good;
    empty_cut.keys.clear();
    empty_cut.values.clear();
    empty_cut.stop_path = range->from;
    for (const auto& bad : {dropped, changed, empty_cut}) {
        auto r = sync.accept(*range, bad);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error(), trie::ChunkRejection::kUnexpectedNode);
    }
    EXPECT_EQ(sync.leaves(), 0U);
    // A cut answer that runs past the range's end (an answer for a wider range) is refused too.
    const trie::PathRange wider{range->from, Nibbles{15}};
    const auto past = answer(server, served.root, wider, 12000);
    ASSERT_TRUE(past.stop_path);
    ASSERT_GT(ByteView{view(past.keys.back())}.compare(trie::range_max_key(*range)), 0);
    EXPECT_FALSE(sync.accept(*range, past));
    // A leaf the owner refuses.
    LeafSync picky{client, served.root, [](ByteView) { return false; }, {}};
    auto picky_range = picky.take_range();
    ASSERT_TRUE(picky_range);
    auto r = picky.accept(*picky_range, answer(server, served.root, *picky_range, 1 << 20));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), trie::ChunkRejection::kBadLeaf);
    // The right answer is still taken.
    sync.return_range(*range);
    range = sync.take_range();
    EXPECT_TRUE(sync.accept(*range, good));
    EXPECT_GT(sync.leaves(), 0U);
}

TEST(LeafSync, SpilledSyncResumesAfterAKill) {
    const Served served{21, 3000, 50};
    ChunkServer server{served.nodes, nullptr, [&] { return served.root; }};
    trie::MemoryNodeStore client;
    store::MemoryKV spill;
    {
        LeafSync first{client, served.root, {}, {}, 16, &spill, 1};  // spills at once
        for (int i = 0; i < 5; ++i) {
            auto range = first.take_range();
            ASSERT_TRUE(range);
            ASSERT_TRUE(first.accept(*range, answer(server, served.root, *range, 1 << 20)));
        }
        EXPECT_TRUE(first.spilled());
        EXPECT_FALSE(first.complete());
    }  // killed
    std::size_t taken_back = 0;
    LeafSync again{client, served.root, {}, [&](ByteView, ByteView, std::vector<Hash>&) { ++taken_back; },
                   16,     &spill,      1};
    EXPECT_GT(taken_back, 0U);  // the verified leaves of the first run, not fetched again
    EXPECT_LT(again.remaining_fraction(), 1.0);
    run(server, again, 1 << 20);
    EXPECT_TRUE(again.complete());
    EXPECT_EQ(again.leaves(), served.leaves.size());
    ASSERT_TRUE(client.get_node(served.root));
}

}  // namespace
}  // namespace carousel::prefix
