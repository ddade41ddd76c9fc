// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "partial_trie.hpp"

#include <map>
#include <set>

#include <gtest/gtest.h>

#include <carousel/core/keccak.hpp>
#include <carousel/state/chain_generator.hpp>
#include <carousel/trie/node.hpp>
#include <carousel/trie/proof.hpp>
#include <carousel/trie/trie.hpp>

#include "placement.hpp"

namespace carousel::mgr {
namespace {

using trie::PathRange;

// Every stored node of a whole trie with its position, by a plain recursion written for the test
// (the oracle the walks are compared with).
void all_nodes(const trie::NodeStore& store, ByteView ref, Nibbles& pos, std::map<Nibbles, Hash>& out) {
    Bytes rlp{ref};
    if (ref.size() == 32) {
        out[pos] = to_hash(ref);
        rlp = *store.get_node(to_hash(ref));
    }
    auto n = trie::decode_node(rlp);
    ASSERT_TRUE(n.has_value());
    const std::size_t base = pos.size();
    if (n->kind == trie::NodeKind::kExtension) {
        pos += n->path;
        all_nodes(store, n->children[0], pos, out);
    } else if (n->kind == trie::NodeKind::kBranch) {
        for (uint8_t i = 0; i < 16; ++i) {
            if (n->children[i].empty()) continue;
            pos.push_back(i);
            all_nodes(store, n->children[i], pos, out);
            pos.pop_back();
        }
    }
    pos.resize(base);
}

std::map<Nibbles, Hash> brute_partial(const trie::NodeStore& store, const Hash& root, const PathRange& range) {
    std::map<Nibbles, Hash> all;
    if (root == trie::kEmptyRoot) return all;
    Nibbles pos;
    all_nodes(store, view(root), pos, all);
    std::map<Nibbles, Hash> out;
    for (const auto& [p, h] : all) {
        if (trie::intersects(p, range)) out.emplace(p, h);
    }
    return out;
}

std::map<Nibbles, Hash> walk_partial(const trie::NodeStore& store, const Hash& root, const PathRange& range) {
    std::map<Nibbles, Hash> out;
    std::vector<Nibbles> order;
    auto r = for_each_partial_node(store, root, range, [&](ByteView pos, const Hash& h, ByteView rlp) {
        EXPECT_EQ(keccak256(rlp), h);
        EXPECT_TRUE(out.emplace(Nibbles{pos}, h).second);
        order.emplace_back(pos);
    });
    EXPECT_TRUE(r.has_value());
    EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));  // pre-order is lexicographic order
    return out;
}

bool in_range(const Hash& key, const PathRange& range) {
    const Nibbles k = unpack_nibbles(view(key));
    return k >= trie::pad(range.from, 0) && k <= trie::pad(range.to, 0xf);
}

// A trie of 32-byte keys held as a map too (the oracle for leaves).
struct TestTrie {
    trie::MemoryNodeStore store;
    trie::Trie t{&store};
    std::map<Hash, Bytes> leaves;

    void put(const Hash& k, const Bytes& v) {
        ASSERT_TRUE(t.put(view(k), v).has_value());
        if (v.empty()) {
            leaves.erase(k);
        } else {
            leaves[k] = v;
        }
    }
    Hash root() { return t.root(); }
};

Hash random_key(state::Rng& rng) {
    Hash k;
    for (auto& b : k) b = static_cast<uint8_t>(rng.below(256));
    return k;
}

// Keys in clusters that share all but their last nibbles, with short values: leaves deep in the trie
// whose RLP is under 32 bytes, embedded in their parent branch.
Hash clustered_key(state::Rng& rng, const std::vector<Hash>& bases) {
    Hash k = bases[rng.below(bases.size())];
    k[31] = static_cast<uint8_t>(rng.below(256));
    if (rng.chance(0.3)) k[30] = static_cast<uint8_t>(rng.below(256));
    return k;
}

Bytes random_value(state::Rng& rng, bool tiny) {
    const std::size_t len = tiny ? 1 + rng.below(3) : 1 + rng.below(60);
    Bytes v(len, 0);
    for (auto& b : v) b = static_cast<uint8_t>(1 + rng.below(255));
    return v;
}

// Ranges of every alignment: aligned blocks of 0..24 bits' prefix and arbitrary [from, to] pairs.
std::vector<PathRange> ranges_for(state::Rng& rng, const std::vector<Hash>& near) {
    std::vector<PathRange> out;
    out.push_back({{}, {}});
    for (unsigned bits = 256; bits >= 232; --bits) {
        const Hash at = rng.chance(0.5) && !near.empty() ? near[rng.below(near.size())] : random_key(rng);
        out.push_back(path_range(Region{dht::region_first(at, dht::Radius{bits}), bits}));
    }
    for (int i = 0; i < 12; ++i) {
        Nibbles a = unpack_nibbles(view(random_key(rng)));
        Nibbles b = unpack_nibbles(view(random_key(rng)));
        a.resize(1 + rng.below(5));
        b.resize(1 + rng.below(5));
        if (trie::pad(a, 0) > trie::pad(b, 0xf)) std::swap(a, b);
        if (trie::pad(a, 0) > trie::pad(b, 0xf)) continue;
        out.push_back({a, b});
    }
    // Deep ranges that cut through clusters of embedded leaves.
    for (const Hash& k : near) {
        Nibbles p = unpack_nibbles(view(k));
        p.resize(62 + rng.below(3));
        out.push_back({p, p});
        if (out.size() > 60) break;
    }
    return out;
}

void expect_walks_match(TestTrie& tt, const std::vector<PathRange>& ranges) {
    const Hash root = tt.root();
    for (const PathRange& range : ranges) {
        EXPECT_EQ(walk_partial(tt.store, root, range), brute_partial(tt.store, root, range));
        auto leaves = leaves_in(tt.store, root, range);
        ASSERT_TRUE(leaves.has_value());
        Leaves expected;
        for (const auto& [k, v] : tt.leaves) {
            if (in_range(k, range)) expected.emplace_back(k, v);
        }
        EXPECT_EQ(*leaves, expected);
        // With a cap: the first max + 1 leaves (or all when there are no more than that).
        for (const std::size_t max : {std::size_t{0}, std::size_t{3}}) {
            auto capped = leaves_in(tt.store, root, range, max);
            ASSERT_TRUE(capped.has_value());
            const Leaves first(expected.begin(),
                               expected.begin() + static_cast<std::ptrdiff_t>(std::min(expected.size(), max + 1)));
            EXPECT_EQ(*capped, first);
        }
        // The range proof verifies the leaves.
        auto proof = range_proof(tt.store, root, range);
        ASSERT_TRUE(proof.has_value());
        std::vector<Bytes> keys;
        std::vector<Bytes> values;
        for (const auto& [k, v] : *leaves) {
            keys.emplace_back(view(k));
            values.push_back(v);
        }
        if (root == trie::kEmptyRoot) continue;
        auto ok = trie::verify_bounded_range_proof(root, trie::range_min_key(range), trie::range_max_key(range), keys,
                                                   values, *proof);
        EXPECT_TRUE(ok.has_value()) << (ok ? "" : trie::to_string(ok.error()));
        // The proof is cut from the partial trie: a holder of only the partial trie can serve it.
        std::set<Hash> partial;
        for (const auto& [p, h] : walk_partial(tt.store, root, range)) partial.insert(h);
        for (const Bytes& n : *proof) EXPECT_TRUE(partial.count(keccak256(n)));
    }
}

TEST(PartialTrie, WalksMatchBruteForceOnRandomTries) {
    for (uint64_t seed = 1; seed <= 6; ++seed) {
        state::Rng rng{seed};
        TestTrie tt;
        std::vector<Hash> bases;
        for (int i = 0; i < 20; ++i) bases.push_back(random_key(rng));
        const bool clustered = seed % 2 == 0;
        const std::size_t n = seed <= 2 ? 40 : 700;
        std::vector<Hash> keys;
        for (std::size_t i = 0; i < n; ++i) {
            const Hash k = clustered ? clustered_key(rng, bases) : random_key(rng);
            keys.push_back(k);
            tt.put(k, random_value(rng, clustered));
        }
        expect_walks_match(tt, ranges_for(rng, keys));
    }
}

TEST(PartialTrie, EmbeddedNodesAreWalkedThroughNotVisited) {
    TestTrie tt;
    Hash a{};
    a[0] = 0x12;
    Hash b = a;
    b[31] = 0x01;  // a and b differ only in the last nibble: both leaves are embedded in a branch
    Hash c{};
    c[0] = 0x80;
    tt.put(a, Bytes{1, 2});
    tt.put(b, Bytes{3});
    tt.put(c, Bytes(40, 7));
    const Hash root = tt.root();
    const auto full = walk_partial(tt.store, root, {{}, {}});
    for (const auto& [pos, h] : full) EXPECT_LT(pos.size(), 64u);  // no position is a leaf's full key
    auto leaves = leaves_in(tt.store, root, {{1, 2}, {1, 2}});
    ASSERT_TRUE(leaves.has_value());
    ASSERT_EQ(leaves->size(), 2u);
    EXPECT_EQ((*leaves)[0].first, a);
    EXPECT_EQ((*leaves)[1].first, b);
    expect_walks_match(tt, {{{}, {}}, {{1}, {1}}, {{1, 2}, {1, 2}}, {{8}, {8}}, {{0}, {7}}, {{9}, {0xf}}});
}

TEST(PartialTrie, EmptyRootHasNothing) {
    trie::MemoryNodeStore store;
    int visits = 0;
    EXPECT_TRUE(for_each_partial_node(store, trie::kEmptyRoot, {{}, {}}, [&](auto, auto&, auto) { ++visits; }));
    EXPECT_EQ(visits, 0);
    EXPECT_TRUE(leaves_in(store, trie::kEmptyRoot, {{}, {}})->empty());
    EXPECT_TRUE(range_proof(store, trie::kEmptyRoot, {{}, {}})->empty());
    EXPECT_TRUE(changed_leaves(store, trie::kEmptyRoot, trie::kEmptyRoot, {{}, {}})->empty());
}

TEST(PartialTrie, MissingNodeIsAnError) {
    TestTrie tt;
    state::Rng rng{9};
    for (int i = 0; i < 200; ++i) tt.put(random_key(rng), random_value(rng, false));
    const Hash root = tt.root();
    trie::MemoryNodeStore partial;  // only the stem and the sub-trie of prefix 3
    ASSERT_TRUE(for_each_partial_node(tt.store, root, {{3}, {3}},
                                      [&](ByteView, const Hash& h, ByteView rlp) { partial.put_node(h, rlp); }));
    EXPECT_TRUE(for_each_partial_node(partial, root, {{3}, {3}}, [](auto, auto&, auto) {}).has_value());
    EXPECT_TRUE(leaves_in(partial, root, {{3}, {3}}).has_value());
    EXPECT_TRUE(range_proof(partial, root, {{3}, {3}}).has_value());
    EXPECT_EQ(leaves_in(partial, root, {{3}, {4}}).error(), PartialError::kMissingNode);
    EXPECT_EQ(for_each_partial_node(partial, root, {{2}, {2}}, [](auto, auto&, auto) {}).error(),
              PartialError::kMissingNode);
    Hash unknown{};
    unknown[0] = 1;
    EXPECT_EQ(leaves_in(partial, unknown, {{3}, {3}}).error(), PartialError::kMissingNode);
}

// Checks changed_partial_nodes and changed_leaves between two versions in one store against the
// brute-force definitions, and that old's partial trie plus the changed nodes hold new's.
void expect_changes_match(const trie::NodeStore& store, const Hash& old_root, const Hash& new_root,
                          const std::map<Hash, Bytes>& old_leaves, const std::map<Hash, Bytes>& new_leaves,
                          const std::vector<PathRange>& ranges) {
    for (const PathRange& range : ranges) {
        const auto olds = brute_partial(store, old_root, range);
        const auto news = brute_partial(store, new_root, range);
        std::set<Hash> expected;
        for (const auto& [pos, h] : news) {
            auto it = olds.find(pos);
            if (it == olds.end() || it->second != h) expected.insert(h);
        }
        std::set<Hash> got;
        auto r = for_each_changed_partial_node(store, old_root, new_root, range,
                                               [&](ByteView pos, const Hash& h, ByteView rlp) {
                                                   EXPECT_EQ(keccak256(rlp), h);
                                                   auto it = news.find(Nibbles{pos});
                                                   ASSERT_NE(it, news.end());
                                                   EXPECT_EQ(it->second, h);
                                                   got.insert(h);
                                               });
        ASSERT_TRUE(r.has_value());
        EXPECT_EQ(got, expected);
        // A holder of old's partial trie that receives the changed nodes holds new's.
        std::set<Hash> held = got;
        for (const auto& [pos, h] : olds) held.insert(h);
        for (const auto& [pos, h] : news) EXPECT_TRUE(held.count(h));

        auto changes = changed_leaves(store, old_root, new_root, range);
        ASSERT_TRUE(changes.has_value());
        Leaves want;
        std::set<Hash> keys;
        for (const auto& [k, v] : old_leaves) keys.insert(k);
        for (const auto& [k, v] : new_leaves) keys.insert(k);
        for (const Hash& k : keys) {
            if (!in_range(k, range)) continue;
            auto o = old_leaves.find(k);
            auto n = new_leaves.find(k);
            const Bytes ov = o == old_leaves.end() ? Bytes{} : o->second;
            const Bytes nv = n == new_leaves.end() ? Bytes{} : n->second;
            if (ov != nv) want.emplace_back(k, nv);
        }
        EXPECT_EQ(*changes, want);
    }
}

TEST(PartialTrie, ChangedNodesAndLeavesMatchBruteForce) {
    for (uint64_t seed = 11; seed <= 14; ++seed) {
        state::Rng rng{seed};
        TestTrie tt;
        std::vector<Hash> bases;
        for (int i = 0; i < 10; ++i) bases.push_back(random_key(rng));
        const bool clustered = seed % 2 == 0;
        std::vector<Hash> keys;
        for (int i = 0; i < 300; ++i) {
            const Hash k = clustered ? clustered_key(rng, bases) : random_key(rng);
            keys.push_back(k);
            tt.put(k, random_value(rng, clustered));
        }
        const Hash r0 = tt.root();
        const auto l0 = tt.leaves;
        // Empty old root: every node of the partial trie is changed.
        expect_changes_match(tt.store, trie::kEmptyRoot, r0, {}, l0, ranges_for(rng, keys));
        for (int round = 0; round < 2; ++round) {
            const Hash before = tt.root();
            const auto lb = tt.leaves;
            for (int i = 0; i < 40; ++i) {
                const double u = rng.uniform();
                if (u < 0.3) {  // update
                    tt.put(keys[rng.below(keys.size())], random_value(rng, clustered));
                } else if (u < 0.6) {  // delete
                    tt.put(keys[rng.below(keys.size())], Bytes{});
                } else {  // insert
                    const Hash k = clustered ? clustered_key(rng, bases) : random_key(rng);
                    keys.push_back(k);
                    tt.put(k, random_value(rng, clustered));
                }
            }
            const Hash after = tt.root();
            const auto ranges = ranges_for(rng, keys);
            expect_changes_match(tt.store, before, after, lb, tt.leaves, ranges);
            expect_changes_match(tt.store, after, before, tt.leaves, lb, ranges);  // and backwards
        }
        // Everything deleted.
        const Hash before = tt.root();
        const auto lb = tt.leaves;
        expect_changes_match(tt.store, before, trie::kEmptyRoot, lb, {}, {{{}, {}}, {{5}, {5}}});
    }
}

TEST(PartialTrie, ShortenedSiblingIsAChangedNode) {
    // Old: one leaf under slot 4 of the root branch. New: a second key under slot 4 turns the slot
    // into a branch and the old leaf into a shorter leaf one level down, with the same key and
    // value: a minimal multiproof of the new key would not carry it.
    TestTrie tt;
    Hash a{};
    a[0] = 0x41;
    Hash b{};
    b[0] = 0x42;
    Hash other{};
    other[0] = 0x90;
    tt.put(a, Bytes(40, 1));
    tt.put(other, Bytes(40, 2));
    const Hash r0 = tt.root();
    const auto l0 = tt.leaves;
    tt.put(b, Bytes(40, 3));
    const Hash r1 = tt.root();
    const PathRange range{{4}, {4}};
    auto changed = changed_partial_nodes(tt.store, r0, r1, range);
    ASSERT_TRUE(changed.has_value());
    // The root, the new branch at 4, leaf a shortened, leaf b.
    EXPECT_EQ(changed->size(), 4u);
    std::vector<Bytes> proof_keys{Bytes{view(b)}};
    auto minimal = tt.t.prove(proof_keys);
    ASSERT_TRUE(minimal.has_value());
    std::set<Hash> minimal_set;
    for (const Bytes& n : *minimal) minimal_set.insert(keccak256(n));
    bool missed = false;
    for (const Bytes& n : *changed) missed |= minimal_set.count(keccak256(n)) == 0;
    EXPECT_TRUE(missed);  // the shortened leaf
    expect_changes_match(tt.store, r0, r1, l0, tt.leaves, {range, {{}, {}}, {{9}, {9}}});
    // And back: b deleted, a lengthened again.
    expect_changes_match(tt.store, r1, r0, tt.leaves, l0, {range, {{}, {}}, {{9}, {9}}});
}

}  // namespace
}  // namespace carousel::mgr
