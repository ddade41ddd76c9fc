// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include <map>
#include <random>

#include <gtest/gtest.h>

#include <carousel/trie/leaf_range.hpp>
#include <carousel/trie/trie.hpp>

namespace carousel::trie {
namespace {

// A trie of random 32-byte keys and a leaf-mode answer over it, built as ChunkServer builds one.
struct Served {
    MemoryNodeStore nodes;
    std::map<Hash, Bytes> leaves;
    Hash root{};

    explicit Served(std::size_t n) {
        std::mt19937_64 rng{11};
        Trie t{&nodes};
        for (std::size_t i = 0; i < n; ++i) {
            Hash k{};
            for (auto& x : k) x = static_cast<uint8_t>(rng());
            Bytes v(1 + rng() % 40, 0);
            for (auto& x : v) x = static_cast<uint8_t>(rng() | 1);
            EXPECT_TRUE(t.put(view(k), v));
            leaves[k] = v;
        }
        root = t.root();
    }

    struct Answer {
        std::vector<Hash> keys;
        std::vector<Bytes> values;
        std::vector<Bytes> proof;
    };
    // The leaves from `origin` on: up to `limit` (whole), or the first `count` (cut; may pass limit).
    Answer answer(const Hash& origin, const Hash& limit, std::optional<std::size_t> count) {
        Answer a;
        for (auto it = leaves.lower_bound(origin); it != leaves.end(); ++it) {
            if (count ? a.keys.size() == *count : it->first > limit) break;
            a.keys.push_back(it->first);
            a.values.push_back(it->second);
        }
        const std::vector<Bytes> edges{Bytes{view(origin)}, Bytes{view(count ? a.keys.back() : limit)}};
        ReadOnlyNodeStore ro{nodes};
        Trie t{&ro, root};
        a.proof = t.prove(edges).value();
        return a;
    }
};

Hash key_of(uint8_t first) {
    Hash h{};
    h[0] = first;
    return h;
}

Hash last_key_of(uint8_t first) {
    Hash h{};
    h.fill(0xff);
    h[0] = first;
    return h;
}

TEST(LeafRange, WholeAnswerIsExactlyTheRange) {
    Served s{3000};
    const Hash origin = key_of(0x40), limit = last_key_of(0x4f);
    auto a = s.answer(origin, limit, std::nullopt);
    ASSERT_GT(a.keys.size(), 100U);
    auto n = verify_leaf_range(s.root, view(origin), view(limit), a.keys, a.values, a.proof, false);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, a.keys.size());
    // Mutations fail: a leaf left out of the middle, a changed value, a leaf added.
    auto dropped = a;
    dropped.keys.erase(dropped.keys.begin() + 50);
    dropped.values.erase(dropped.values.begin() + 50);
    auto changed = a;
    changed.values[7].back() ^= 1;
    auto wrong_root = s.root;
    wrong_root[0] ^= 1;
    for (const auto& bad : {dropped, changed}) {
        auto r = verify_leaf_range(s.root, view(origin), view(limit), bad.keys, bad.values, bad.proof, false);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error(), LeafRangeError::kBadProof);
    }
    EXPECT_FALSE(verify_leaf_range(wrong_root, view(origin), view(limit), a.keys, a.values, a.proof, false));
    // A whole answer stopped short is not whole: read as whole it fails.
    auto part = s.answer(origin, limit, 20);
    EXPECT_FALSE(verify_leaf_range(s.root, view(origin), view(limit), part.keys, part.values, part.proof, false));
}

TEST(LeafRange, CutAnswerProvesUpToItsLastKey) {
    Served s{3000};
    const Hash origin = key_of(0x40), limit = last_key_of(0x4f);
    auto a = s.answer(origin, limit, 20);
    auto n = verify_leaf_range(s.root, view(origin), view(limit), a.keys, a.values, a.proof, true);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 20U);
    // A cut answer past the limit: its leaves are proven, only those up to the limit are the range's.
    const std::size_t in_range = a.keys.size();
    const Hash low_limit = a.keys[9];
    n = verify_leaf_range(s.root, view(origin), view(low_limit), a.keys, a.values, a.proof, true);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 10U);
    EXPECT_EQ(in_range, 20U);
    // A cut answer with no leaf proves nothing.
    auto r = verify_leaf_range(s.root, view(origin), view(limit), {}, {}, a.proof, true);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), LeafRangeError::kCutBeforeFirstLeaf);
    EXPECT_EQ(to_string(r.error()), "a cut leaf range with no leaf");
    // A leaf dropped from the middle of a cut answer fails.
    a.keys.erase(a.keys.begin() + 5);
    a.values.erase(a.values.begin() + 5);
    EXPECT_FALSE(verify_leaf_range(s.root, view(origin), view(limit), a.keys, a.values, a.proof, true));
}

}  // namespace
}  // namespace carousel::trie
