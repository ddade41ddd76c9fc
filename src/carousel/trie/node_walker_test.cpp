// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include <map>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include <carousel/core/keccak.hpp>
#include <carousel/testing/random_trie.hpp>
#include <carousel/trie/node_walker.hpp>
#include <carousel/trie/trie.hpp>

namespace carousel::trie {
namespace {

using Source = test::RandomTrie;

// Reads of a store, counted; one hash can be hidden (a node the store lacks).
class CountingStore final : public NodeStore {
  public:
    explicit CountingStore(const NodeStore& inner) : inner_{inner} {}
    std::optional<Bytes> get_node(const Hash& hash) const override {
        ++reads;
        if (hidden && hash == *hidden) return std::nullopt;
        return inner_.get_node(hash);
    }
    void put_node(const Hash&, ByteView) override {}
    mutable std::size_t reads{0};
    std::optional<Hash> hidden;

  private:
    const NodeStore& inner_;
};

// The leaves a walk yields: (packed key, value) of every leaf node.
std::map<Bytes, Bytes> leaves_of(NodeWalker& w) {
    std::map<Bytes, Bytes> out;
    while (w.next()) {
        const Node* n = w.node();
        if (n == nullptr || n->kind != NodeKind::kLeaf) continue;
        Nibbles key{w.path()};
        key += n->path;
        out.emplace(pack_nibbles(key), Bytes{n->value});
    }
    return out;
}

TEST(NodeWalker, WalksEveryNodeInPositionOrder) {
    const Source src{1, 3000};
    NodeWalker w{src.nodes, nullptr, view(src.root)};
    std::optional<Nibbles> last;
    std::size_t hashed = 0;
    std::map<Bytes, Bytes> leaves;
    while (w.next()) {
        const Nibbles pos{w.path()};
        if (last) {
            EXPECT_LT(*last, pos);  // pre-order is position order
        }
        last = pos;
        if (is_hash_reference(w.ref())) {
            ++hashed;
            EXPECT_EQ(keccak256(w.rlp()), to_hash(w.ref()));
        } else {
            EXPECT_EQ(w.ref(), w.rlp());  // an embedded node is its own reference
        }
        const Node* n = w.node();
        ASSERT_NE(n, nullptr);
        if (n->kind == NodeKind::kLeaf) leaves.emplace(pack_nibbles(pos + n->path), Bytes{n->value});
    }
    EXPECT_EQ(w.error(), NodeWalker::Error::kNone);
    EXPECT_EQ(hashed, src.nodes.size());  // the store holds exactly this trie
    EXPECT_EQ(leaves, src.leaves);
}

TEST(NodeWalker, ReadsOnlyTheStemAndTheRange) {
    const Source src{2, 3000};
    CountingStore store{src.nodes};
    const PathRange range{Nibbles{3, 7}, Nibbles{4, 1}};
    NodeWalker w{store, nullptr, view(src.root), range};
    std::size_t hashed = 0;
    std::map<Bytes, Bytes> leaves;
    while (w.next()) {
        EXPECT_TRUE(intersects(w.path(), range));
        if (is_hash_reference(w.ref())) ++hashed;
        const Node* n = w.node();
        if (n->kind == NodeKind::kLeaf) leaves.emplace(pack_nibbles(Nibbles{w.path()} + n->path), Bytes{n->value});
    }
    EXPECT_EQ(store.reads, hashed);  // nothing outside the range was read
    std::map<Bytes, Bytes> expected;
    for (const auto& [k, v] : src.leaves) {
        if (ByteView{k}.compare(range_min_key(range)) >= 0 && ByteView{k}.compare(range_max_key(range)) <= 0) {
            expected.emplace(k, v);
        }
    }
    EXPECT_EQ(leaves, expected);
}

TEST(NodeWalker, SkipsChildrenUnread) {
    const Source src{3, 500};
    CountingStore store{src.nodes};
    NodeWalker w{store, nullptr, view(src.root)};
    ASSERT_TRUE(w.next());
    EXPECT_TRUE(w.path().empty());
    EXPECT_FALSE(w.next(false));  // past the root's children: the end
    EXPECT_EQ(store.reads, 1U);
    EXPECT_EQ(w.error(), NodeWalker::Error::kNone);
    // Skipping every branch at depth 1 yields the root and its children only.
    NodeWalker top{src.nodes, nullptr, view(src.root)};
    std::size_t nodes = 0;
    bool more = top.next();
    while (more) {
        ++nodes;
        more = top.next(top.path().empty());
    }
    EXPECT_EQ(nodes, 17U);  // 500 random keys: the root branch is full
}

TEST(NodeWalker, MissingNodeStopsOrIsSkipped) {
    const Source src{4, 2000};
    // Hide one node at depth 1 (slot 5 of the root branch).
    Bytes root_rlp = *src.nodes.get_node(src.root);
    auto root = decode_node(root_rlp);
    ASSERT_TRUE(root && root->kind == NodeKind::kBranch && is_hash_reference(root->children[5]));
    CountingStore store{src.nodes};
    store.hidden = to_hash(root->children[5]);

    NodeWalker stop{store, nullptr, view(src.root)};
    while (stop.next()) {
    }
    EXPECT_EQ(stop.error(), NodeWalker::Error::kMissingNode);
    EXPECT_EQ(to_hash(stop.ref()), *store.hidden);
    EXPECT_EQ(stop.path(), ByteView{Nibbles{5}});

    NodeWalker skip{store, nullptr, view(src.root), {}, NodeWalker::OnError::kSkip};
    const auto leaves = leaves_of(skip);
    EXPECT_EQ(skip.error(), NodeWalker::Error::kMissingNode);
    std::size_t expected = 0;
    for (const auto& [k, v] : src.leaves) expected += (k[0] >> 4) != 5 ? 1U : 0U;
    EXPECT_EQ(leaves.size(), expected);

    // A missing root ends the walk at once.
    MemoryNodeStore empty;
    NodeWalker none{empty, nullptr, view(src.root)};
    EXPECT_FALSE(none.next());
    EXPECT_EQ(none.error(), NodeWalker::Error::kMissingNode);
}

}  // namespace
}  // namespace carousel::trie
